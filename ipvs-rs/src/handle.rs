//! The handle: its netlink sockets in one network namespace.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use crate::batch::Outcomes;
use crate::dump::Dump;
use crate::merge::{self, ServiceMerge};
use crate::socket::{open_sockets, Channel, Conn, Reply, Sockets, DEFAULT_TIMEOUT};
use crate::validation::Validation;
use crate::wire::{
    daemon_entry, destination_entry, service_entry, CmdAttr, InfoAttr, IpvsAttrs, IpvsCmd,
    IpvsMessage, ServiceAttr,
};
use crate::{
    AddressFamily, Batch, Daemon, DaemonState, Destination, Error, Info, Netns, Request, Result,
    Service, ServiceKey, Timeouts,
};

/// A connection to IPVS: generic-netlink sockets opened once and reused for every request
/// (one for requests and destination dumps, one for service dumps, which want the kernel's
/// largest datagrams), with the IPVS family id resolved once when it is opened.
///
/// A process short of file descriptors (say `ulimit -n 4`, where only one is free) still gets
/// a handle: only the request socket is required. Service dumps then share it, and
/// [`Handle::services`] returns one dump without its completeness check when it cannot open
/// the socket that reads the kernel's service count.
///
/// A handle is `Send` and `Sync`. Requests are serialized on an internal lock, so threads
/// sharing a handle never see each other's replies; a thread that calls the handle while it
/// is itself iterating a [`Dump`] gets [`Error::Busy`] instead of a deadlock.
///
/// Every receive is bounded by a timeout (30 s unless [`Handle::set_timeout`] says otherwise);
/// when it expires the call returns [`Error::Timeout`] and the outcome is unknown.
///
/// Adds and edits are checked before they are sent ([`Request::validate`]): a request that
/// breaks one of ipvsadm's or the kernel's rules is [`Error::Invalid`] and nothing is sent
/// ([`Handle::set_validation`] turns this off).
pub struct Handle {
    conn: Mutex<Conn>,
    owner: AtomicUsize,
    validation: Validation,
}

thread_local! {
    static THREAD_TOKEN: u8 = const { 0 };
}

fn thread_token() -> usize {
    THREAD_TOKEN.with(|t| t as *const u8 as usize)
}

/// The locked socket, remembering which thread holds it.
pub(crate) struct ConnGuard<'h> {
    conn: MutexGuard<'h, Conn>,
    owner: &'h AtomicUsize,
}

impl Drop for ConnGuard<'_> {
    fn drop(&mut self) {
        self.owner.store(0, Ordering::Release);
    }
}

impl Deref for ConnGuard<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.conn
    }
}

impl DerefMut for ConnGuard<'_> {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.conn
    }
}

impl Handle {
    /// Opens a handle in the calling thread's network namespace.
    ///
    /// Fails with [`Error::NotAvailable`] when the kernel has no IPVS (see
    /// [`load_module`](crate::load_module)).
    pub fn new() -> Result<Self> {
        Handle::from_sockets(open_sockets()?)
    }

    /// Opens a handle in another network namespace, without moving the calling thread.
    ///
    /// ```no_run
    /// use ipvs_rs::{Handle, Netns};
    /// let lb = Handle::open_in_netns(&Netns::Named("lb".into()))?;
    /// println!("{} services in lb", lb.services()?.len());
    /// # Ok::<(), ipvs_rs::Error>(())
    /// ```
    pub fn open_in_netns(netns: &Netns) -> Result<Self> {
        Handle::from_sockets(netns.open_sockets()?)
    }

    /// Opens a handle in `netns`, loading the `ip_vs` module first when the kernel has no IPVS
    /// (as ipvsadm does), then opening again: the "not available, load, reopen" dance in one
    /// call. Loading needs root; its failure is [`Error::ModuleLoad`].
    ///
    /// ```no_run
    /// use ipvs_rs::{Handle, Netns};
    /// let ipvs = Handle::open_or_load(&Netns::Current)?;
    /// println!("IPVS {}", ipvs.info()?.version);
    /// # Ok::<(), ipvs_rs::Error>(())
    /// ```
    pub fn open_or_load(netns: &Netns) -> Result<Self> {
        match Handle::open_in_netns(netns) {
            Err(Error::NotAvailable) => {
                crate::load_module()?;
                Handle::open_in_netns(netns)
            }
            other => other,
        }
    }

    fn from_sockets(sockets: Sockets) -> Result<Self> {
        Ok(Handle {
            conn: Mutex::new(Conn::new(sockets, Some(DEFAULT_TIMEOUT))?),
            owner: AtomicUsize::new(0),
            validation: Validation::default(),
        })
    }

    /// Whether adds and edits are checked before they are sent (the default). With `false`
    /// every request goes to the kernel as it is and only the kernel refuses, as with ipvsadm
    /// (ipvsadm-rs does this to answer exactly as ipvsadm does); values the kernel accepts but
    /// ipvsadm never sends, such as a direct-routing real server on another port than its
    /// service's, are then stored as given.
    pub fn set_validation(&self, enabled: bool) {
        self.validation.set(enabled);
    }

    /// Sets how long to wait for each reply from the kernel; `None` waits forever.
    pub fn set_timeout(&self, timeout: Option<Duration>) -> Result<()> {
        self.lock()?.set_timeout(timeout)
    }

    pub(crate) fn lock(&self) -> Result<ConnGuard<'_>> {
        let me = thread_token();
        if self.owner.load(Ordering::Acquire) == me {
            return Err(Error::Busy);
        }
        let conn = self
            .conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.owner.store(me, Ordering::Release);
        Ok(ConnGuard {
            conn,
            owner: &self.owner,
        })
    }

    /// Sends one request and waits for its ack, returning the replies that came before it.
    fn transact(
        &self,
        msg: IpvsMessage,
        names: Option<(&str, Option<&str>)>,
    ) -> Result<Vec<IpvsMessage>> {
        let cmd = msg.cmd;
        let mut conn = self.lock()?;
        let mut exchange = conn.send_request(&msg)?;
        loop {
            if let Some(outcome) = exchange.take(conn.next_reply()?) {
                return outcome
                    .map_err(|(errno, message)| Error::from_kernel(cmd, errno, message, names));
            }
        }
    }

    fn dump<T>(
        &self,
        msg: IpvsMessage,
        family: AddressFamily,
        decode: crate::dump::Decoder<T>,
        channel: Channel,
    ) -> Result<Dump<'_, T>> {
        let cmd = msg.cmd;
        let mut conn = self.lock()?;
        let seq = conn.send_dump(msg, channel)?;
        Ok(Dump::new(conn, seq, cmd, family, decode))
    }

    /// Checks one write request ([`Error::Invalid`]), sends it and waits for the kernel's
    /// answer.
    pub fn execute(&self, request: &Request) -> Result<()> {
        self.validation.check(request)?;
        self.transact(request.message(), request.names()).map(drop)
    }

    /// Sends every request of `batch`, many per `sendmsg`, and returns one result per request,
    /// in order.
    ///
    /// The whole batch is checked first: if any request is invalid, nothing is sent, that
    /// request's result is [`Error::Invalid`] and every other one [`Error::NotSent`].
    ///
    /// **Not atomic**: the kernel applies each request even after an earlier one failed.
    /// Each error is attributed to its request by sequence number; each `sendmsg` ends with a
    /// no-op message that asks for an ack, which the kernel sends after handling every earlier
    /// one, so a request without an error before that ack succeeded. If the socket fails or times
    /// out, the requests whose outcome is unknown get that error.
    pub fn apply(&self, batch: &Batch) -> Vec<Result<()>> {
        if let Some(refused) = self.validation.refuse(batch) {
            return refused;
        }
        let mut outcomes = Outcomes::new(batch);
        let mut conn = match self.lock() {
            Ok(conn) => conn,
            Err(e) => {
                outcomes.fail_rest(&e);
                return outcomes.finish();
            }
        };
        let mut out = Vec::new();
        let mut base = 0;
        while let Some(chunk) = outcomes.encode_chunk(base, &mut conn, &mut out) {
            let sent = conn.send(&out).and_then(|()| loop {
                if let Reply::Ack {
                    seq,
                    errno,
                    message,
                } = conn.next_reply()?
                {
                    if outcomes.ack(&chunk, seq, errno, message) {
                        break Ok(());
                    }
                }
            });
            if let Err(e) = sent {
                outcomes.fail_rest(&e);
                break;
            }
            base = chunk.end();
        }
        outcomes.finish()
    }

    /// Every service, collected and checked complete.
    ///
    /// A dump can skip services when another namespace writes meanwhile (see [`Dump`]). This
    /// merges repeated dumps (by key, the newest copy winning) until the merge holds exactly as
    /// many services as the kernel counts in this namespace, the count unchanged throughout (up to
    /// twenty dumps, waiting 1, 2, 3... ms between them; a count change starts the merge
    /// over). If this namespace's own table keeps changing, the last dump is returned as it
    /// came. Against another namespace that writes
    /// without pause the merge can still, rarely, miss a stretch of the table: it is best
    /// effort, where a single dump is not. [`Handle::services_iter`] streams one unchecked dump.
    pub fn services(&self) -> Result<Vec<Service>> {
        let mut merge = ServiceMerge::default();
        let mut last = Vec::new();
        for attempt in 0..merge::ATTEMPTS {
            if attempt > 0 {
                std::thread::sleep(merge::pause(attempt));
            }
            let Some(before) = self.count_if_descriptors_allow()? else {
                return self.services_iter()?.collect();
            };
            last = self.services_iter()?.collect::<Result<Vec<_>>>()?;
            let Some(after) = self.count_if_descriptors_allow()? else {
                return Ok(last);
            };
            if let Some(complete) = merge.add(before, &last, after) {
                return Ok(complete);
            }
        }
        Ok(last)
    }

    /// The service count, or `None` when a handle opened short of file descriptors cannot
    /// open the socket it needs to read it.
    fn count_if_descriptors_allow(&self) -> Result<Option<u32>> {
        match self.lock()?.num_services() {
            Ok(n) => Ok(Some(n)),
            Err(Error::Io(e)) if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// The number of services in the handle's namespace (the kernel's own counter).
    pub fn service_count(&self) -> Result<u32> {
        self.lock()?.num_services()
    }

    /// Streams every service as the kernel's dump arrives.
    pub fn services_iter(&self) -> Result<Dump<'_, Service>> {
        self.dump(
            IpvsMessage::new(IpvsCmd::GetService, vec![]),
            AddressFamily::Inet,
            |genl, _| service_entry(genl),
            Channel::Bulk,
        )
    }

    /// Calls `f` on every service as the dump arrives, without collecting them.
    pub fn for_each_service(&self, mut f: impl FnMut(Service)) -> Result<()> {
        for svc in self.services_iter()? {
            f(svc?);
        }
        Ok(())
    }

    /// One service, or [`Error::NoSuchService`].
    pub fn service(&self, key: &ServiceKey) -> Result<Service> {
        service_from(&self.transact(get_service(key), None)?)
    }

    /// Adds a service ([`Error::ServiceExists`] if it exists).
    pub fn add_service(&self, svc: &Service) -> Result<()> {
        self.execute(&Request::AddService(svc.clone()))
    }

    /// Replaces a service's scheduler, flags, timeout, netmask and engine.
    pub fn update_service(&self, svc: &Service) -> Result<()> {
        self.execute(&Request::UpdateService(svc.clone()))
    }

    /// Deletes a service and its destinations.
    pub fn delete_service(&self, key: &ServiceKey) -> Result<()> {
        self.execute(&Request::DeleteService(*key))
    }

    /// Deletes every service.
    pub fn flush(&self) -> Result<()> {
        self.execute(&Request::Flush)
    }

    /// The destinations of a service, collected. An unknown service has none (the kernel's
    /// dump does not report it).
    pub fn destinations(&self, key: &ServiceKey) -> Result<Vec<Destination>> {
        self.destinations_iter(key)?.collect()
    }

    /// Streams the destinations of a service.
    pub fn destinations_iter(&self, key: &ServiceKey) -> Result<Dump<'_, Destination>> {
        self.dump(
            get_destinations(key),
            key.family(),
            destination_entry,
            Channel::Requests,
        )
    }

    /// Adds a destination to a service.
    pub fn add_destination(&self, key: &ServiceKey, dest: &Destination) -> Result<()> {
        self.execute(&Request::AddDestination(*key, dest.clone()))
    }

    /// Replaces a destination's forwarding method, weight and thresholds.
    pub fn update_destination(&self, key: &ServiceKey, dest: &Destination) -> Result<()> {
        self.execute(&Request::UpdateDestination(*key, dest.clone()))
    }

    /// Deletes a destination (identified by its address, port and family).
    pub fn delete_destination(&self, key: &ServiceKey, dest: &Destination) -> Result<()> {
        self.execute(&Request::DeleteDestination(*key, dest.clone()))
    }

    /// The IPVS version and connection table size.
    pub fn info(&self) -> Result<Info> {
        info_from(&self.transact(IpvsMessage::new(IpvsCmd::GetInfo, vec![]), None)?)
    }

    /// The TCP, TCP FIN and UDP timeouts.
    pub fn timeouts(&self) -> Result<Timeouts> {
        Ok(timeouts_from(&self.transact(
            IpvsMessage::new(IpvsCmd::GetConfig, vec![]),
            None,
        )?))
    }

    /// Sets timeouts; a 0 leaves that timeout unchanged.
    pub fn set_timeouts(&self, timeouts: &Timeouts) -> Result<()> {
        self.execute(&Request::SetTimeouts(*timeouts))
    }

    /// Zeroes the counters of one service, or of every service with `None`.
    pub fn zero(&self, key: Option<&ServiceKey>) -> Result<()> {
        self.execute(&Request::Zero(key.copied()))
    }

    /// The running sync daemons.
    pub fn daemons(&self) -> Result<Vec<Daemon>> {
        self.dump(
            IpvsMessage::new(IpvsCmd::GetDaemon, vec![]),
            AddressFamily::Inet,
            |genl, _| daemon_entry(genl),
            Channel::Requests,
        )?
        .collect()
    }

    /// Starts a sync daemon ([`Error::DaemonRunning`] if one of that state runs).
    pub fn start_daemon(&self, daemon: &Daemon) -> Result<()> {
        self.execute(&Request::StartDaemon(daemon.clone()))
    }

    /// Stops the sync daemon of `state` ([`Error::NoSuchDaemon`] if none runs).
    pub fn stop_daemon(&self, state: DaemonState) -> Result<()> {
        self.execute(&Request::StopDaemon(Daemon::new(state, "")))
    }
}

fn decode_err(e: netlink_packet_core::DecodeError) -> Error {
    Error::Decode(e.to_string())
}

/// The service of a GET_SERVICE reply.
pub(crate) fn service_from(replies: &[IpvsMessage]) -> Result<Service> {
    replies
        .first()
        .and_then(|msg| {
            msg.cmd_attrs().iter().find_map(|a| match a {
                CmdAttr::Service(attrs) => Some(ServiceAttr::to_service(attrs).map_err(decode_err)),
                _ => None,
            })
        })
        .unwrap_or_else(|| Err(Error::Decode("no service in the reply".into())))
}

/// The version and table size of a GET_INFO reply.
pub(crate) fn info_from(replies: &[IpvsMessage]) -> Result<Info> {
    match replies.first().map(|m| &m.attrs) {
        Some(IpvsAttrs::Info(attrs)) => InfoAttr::to_info(attrs).map_err(decode_err),
        _ => Err(Error::Decode("no info in the reply".into())),
    }
}

/// The timeouts of a GET_CONFIG reply.
pub(crate) fn timeouts_from(replies: &[IpvsMessage]) -> Timeouts {
    let mut t = Timeouts::default();
    for attr in replies.iter().flat_map(|m| m.cmd_attrs()) {
        match attr {
            CmdAttr::TimeoutTcp(v) => t.tcp = *v,
            CmdAttr::TimeoutTcpFin(v) => t.tcp_fin = *v,
            CmdAttr::TimeoutUdp(v) => t.udp = *v,
            _ => {}
        }
    }
    t
}

/// The request reading one service.
pub(crate) fn get_service(key: &ServiceKey) -> IpvsMessage {
    IpvsMessage::new(
        IpvsCmd::GetService,
        vec![CmdAttr::Service(ServiceAttr::from_key(key))],
    )
}

/// The dump request for the destinations of a service.
pub(crate) fn get_destinations(key: &ServiceKey) -> IpvsMessage {
    IpvsMessage::new(
        IpvsCmd::GetDest,
        vec![CmdAttr::Service(ServiceAttr::from_key(key))],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handle_is_send_and_sync() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Handle>();
        shareable::<Batch>();
        shareable::<Error>();
    }
}
