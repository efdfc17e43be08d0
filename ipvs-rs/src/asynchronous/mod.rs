//! [`AsyncHandle`]: the handle's operations as async methods, for tokio.

mod conn;
mod stream;

use std::time::Duration;

use tokio::sync::{Mutex, MutexGuard};

pub use stream::DumpStream;

use crate::batch::Outcomes;
use crate::dump::Decoder;
use crate::handle::{get_destinations, get_service, info_from, service_from, timeouts_from};
use crate::merge::{self, ServiceMerge};
use crate::socket::{open_sockets, Channel, Conn, Reply, Sockets, DEFAULT_TIMEOUT};
use crate::validation::Validation;
use crate::wire::{daemon_entry, destination_entry, service_entry, IpvsCmd, IpvsMessage};
use crate::{
    AddressFamily, Batch, Daemon, DaemonState, Destination, Info, Netns, Request, Result, Service,
    ServiceKey, Timeouts,
};
use conn::AsyncConn;

/// A connection to IPVS for tokio: the operations of [`Handle`](crate::Handle), with the same
/// names, types and errors, as async methods that never block the runtime.
///
/// The netlink sockets are non-blocking and registered with tokio's reactor (`AsyncFd`): a
/// task waiting for the kernel yields its thread, so even a runtime with one thread keeps
/// running other tasks meanwhile. Dumps are [`Stream`](futures_core::Stream)s
/// ([`DumpStream`]). It needs the `tokio` feature and must be used inside a tokio runtime
/// with IO and time enabled.
///
/// A handle is `Send` and `Sync`; share it between tasks by reference or in an `Arc`.
/// Requests are serialized on an async lock, so tasks never see each other's replies.
///
/// # Cancel safety
/// Every method may be dropped at any await point (by `tokio::select!`, a timeout, an aborted
/// task). A request already sent is then applied or not, as the kernel decides, and its
/// outcome is lost; nothing else is. The handle remembers the unfinished exchange (its
/// socket and the sequence number ending it), and the next call first reads up to that
/// reply, including the rest of an abandoned dump, so no stale reply, and no dump still
/// running in the kernel, reaches it. A dropped [`AsyncHandle::apply`] leaves the requests of
/// its current chunk applied or not, unreported, and sends no further chunk.
///
/// Every wait for the kernel is bounded by a timeout (30 s unless [`AsyncHandle::set_timeout`]
/// says otherwise); when it expires the call returns [`Error::Timeout`](crate::Error::Timeout)
/// and the outcome is unknown.
///
/// ```no_run
/// # async fn demo() -> ipvs_rs::Result<()> {
/// use futures_util::TryStreamExt;
/// use ipvs_rs::{AsyncHandle, Service, ServiceKey};
///
/// let ipvs = AsyncHandle::new().await?;
/// ipvs.add_service(&Service::new(ServiceKey::tcp([10, 0, 0, 1], 80))).await?;
/// let mut services = ipvs.services_iter().await?;
/// while let Some(svc) = services.try_next().await? {
///     println!("{}", svc.key);
/// }
/// # Ok(())
/// # }
/// ```
pub struct AsyncHandle {
    conn: Mutex<AsyncConn>,
    validation: Validation,
}

impl AsyncHandle {
    /// Opens a handle in the calling thread's network namespace (see
    /// [`Handle::new`](crate::Handle::new)).
    ///
    /// The family lookup is answered by the kernel while the request is sent, so opening
    /// does not wait on the reactor.
    pub async fn new() -> Result<Self> {
        AsyncHandle::from_sockets(open_sockets()?)
    }

    /// Opens a handle in another network namespace, without moving any runtime thread: the
    /// sockets are made by a short-lived thread of their own, as
    /// [`Handle::open_in_netns`](crate::Handle::open_in_netns) does.
    pub async fn open_in_netns(netns: &Netns) -> Result<Self> {
        AsyncHandle::from_sockets(netns.open_sockets()?)
    }

    fn from_sockets(sockets: Sockets) -> Result<Self> {
        let conn = Conn::new(sockets, Some(DEFAULT_TIMEOUT))?;
        Ok(AsyncHandle {
            conn: Mutex::new(AsyncConn::new(conn, Some(DEFAULT_TIMEOUT))?),
            validation: Validation::default(),
        })
    }

    /// Turns the checks made before sending on or off (on by default), as
    /// [`Handle::set_validation`](crate::Handle::set_validation) does.
    pub fn set_validation(&self, enabled: bool) {
        self.validation.set(enabled);
    }

    /// Sets how long to wait for each reply from the kernel; `None` waits forever.
    pub async fn set_timeout(&self, timeout: Option<Duration>) -> Result<()> {
        self.conn.lock().await.timeout = timeout;
        Ok(())
    }

    /// The lock, after reading what an abandoned exchange left.
    async fn lock(&self) -> Result<MutexGuard<'_, AsyncConn>> {
        let mut conn = self.conn.lock().await;
        conn.settle().await?;
        Ok(conn)
    }

    async fn transact(
        &self,
        msg: &IpvsMessage,
        names: Option<(&str, Option<&str>)>,
    ) -> Result<Vec<IpvsMessage>> {
        self.lock().await?.transact(msg, names).await
    }

    async fn dump<T>(
        &self,
        msg: IpvsMessage,
        family: AddressFamily,
        decode: Decoder<T>,
        channel: Channel,
    ) -> Result<DumpStream<'_, T>> {
        let mut conn = self.lock().await?;
        let mut out = Vec::new();
        let seq = conn.conn.encode(
            &msg,
            netlink_packet_core::NLM_F_REQUEST | netlink_packet_core::NLM_F_DUMP,
            &mut out,
        );
        conn.send(channel, &out, seq).await?;
        Ok(DumpStream::new(conn, seq, msg.cmd, family, decode))
    }

    /// Sends one write request and waits for the kernel's answer.
    pub async fn execute(&self, request: &Request) -> Result<()> {
        self.validation.check(request)?;
        self.transact(&request.message(), request.names())
            .await
            .map(drop)
    }

    /// Sends every request of `batch`, many per `sendmsg`, and returns one result per
    /// request, in order; **not atomic** (see [`Handle::apply`](crate::Handle::apply)).
    pub async fn apply(&self, batch: &Batch) -> Vec<Result<()>> {
        if let Some(refused) = self.validation.refuse(batch) {
            return refused;
        }
        let mut outcomes = Outcomes::new(batch);
        let mut conn = match self.lock().await {
            Ok(conn) => conn,
            Err(e) => {
                outcomes.fail_rest(&e);
                return outcomes.finish();
            }
        };
        let mut out = Vec::new();
        let mut base = 0;
        while let Some(chunk) = outcomes.encode_chunk(base, &mut conn.conn, &mut out) {
            let sent = async {
                conn.send(Channel::Requests, &out, chunk.last_seq()).await?;
                loop {
                    if let Reply::Ack {
                        seq,
                        errno,
                        message,
                    } = conn.next_reply().await?
                    {
                        if outcomes.ack(&chunk, seq, errno, message) {
                            conn.finished();
                            return Ok(());
                        }
                    }
                }
            }
            .await;
            if let Err(e) = sent {
                outcomes.fail_rest(&e);
                break;
            }
            base = chunk.end();
        }
        outcomes.finish()
    }

    /// Every service, collected and checked complete against the kernel's count (see
    /// [`Handle::services`](crate::Handle::services)); the pauses between dumps are
    /// `tokio::time::sleep`s.
    pub async fn services(&self) -> Result<Vec<Service>> {
        let mut merge = ServiceMerge::default();
        let mut last = Vec::new();
        for attempt in 0..merge::ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(merge::pause(attempt)).await;
            }
            let before = self.service_count().await?;
            last = collect(self.services_iter().await?).await?;
            let after = self.service_count().await?;
            if let Some(complete) = merge.add(before, &last, after) {
                return Ok(complete);
            }
        }
        Ok(last)
    }

    /// The number of services in the handle's namespace (the kernel's own counter, read with
    /// a socket option that does not wait).
    pub async fn service_count(&self) -> Result<u32> {
        self.lock().await?.conn.num_services()
    }

    /// Streams every service as the kernel's dump arrives.
    pub async fn services_iter(&self) -> Result<DumpStream<'_, Service>> {
        self.dump(
            IpvsMessage::new(IpvsCmd::GetService, vec![]),
            AddressFamily::Inet,
            |genl, _| service_entry(genl),
            Channel::Bulk,
        )
        .await
    }

    /// Calls `f` on every service as the dump arrives, without collecting them.
    pub async fn for_each_service(&self, mut f: impl FnMut(Service)) -> Result<()> {
        let mut stream = self.services_iter().await?;
        while let Some(svc) = next(&mut stream).await {
            f(svc?);
        }
        Ok(())
    }

    /// One service, or [`Error::NoSuchService`](crate::Error::NoSuchService).
    pub async fn service(&self, key: &ServiceKey) -> Result<Service> {
        service_from(&self.transact(&get_service(key), None).await?)
    }

    /// Adds a service ([`Error::ServiceExists`](crate::Error::ServiceExists) if it exists).
    pub async fn add_service(&self, svc: &Service) -> Result<()> {
        self.execute(&Request::AddService(svc.clone())).await
    }

    /// Replaces a service's scheduler, flags, timeout, netmask and engine.
    pub async fn update_service(&self, svc: &Service) -> Result<()> {
        self.execute(&Request::UpdateService(svc.clone())).await
    }

    /// Deletes a service and its destinations.
    pub async fn delete_service(&self, key: &ServiceKey) -> Result<()> {
        self.execute(&Request::DeleteService(*key)).await
    }

    /// Deletes every service.
    pub async fn flush(&self) -> Result<()> {
        self.execute(&Request::Flush).await
    }

    /// The destinations of a service, collected; an unknown service has none.
    pub async fn destinations(&self, key: &ServiceKey) -> Result<Vec<Destination>> {
        collect(self.destinations_iter(key).await?).await
    }

    /// Streams the destinations of a service.
    pub async fn destinations_iter(&self, key: &ServiceKey) -> Result<DumpStream<'_, Destination>> {
        self.dump(
            get_destinations(key),
            key.family(),
            destination_entry,
            Channel::Requests,
        )
        .await
    }

    /// Adds a destination to a service.
    pub async fn add_destination(&self, key: &ServiceKey, dest: &Destination) -> Result<()> {
        self.execute(&Request::AddDestination(*key, dest.clone()))
            .await
    }

    /// Replaces a destination's forwarding method, weight and thresholds.
    pub async fn update_destination(&self, key: &ServiceKey, dest: &Destination) -> Result<()> {
        self.execute(&Request::UpdateDestination(*key, dest.clone()))
            .await
    }

    /// Deletes a destination (identified by its address, port and family).
    pub async fn delete_destination(&self, key: &ServiceKey, dest: &Destination) -> Result<()> {
        self.execute(&Request::DeleteDestination(*key, dest.clone()))
            .await
    }

    /// The IPVS version and connection table size.
    pub async fn info(&self) -> Result<Info> {
        info_from(
            &self
                .transact(&IpvsMessage::new(IpvsCmd::GetInfo, vec![]), None)
                .await?,
        )
    }

    /// The TCP, TCP FIN and UDP timeouts.
    pub async fn timeouts(&self) -> Result<Timeouts> {
        Ok(timeouts_from(
            &self
                .transact(&IpvsMessage::new(IpvsCmd::GetConfig, vec![]), None)
                .await?,
        ))
    }

    /// Sets timeouts; a 0 leaves that timeout unchanged.
    pub async fn set_timeouts(&self, timeouts: &Timeouts) -> Result<()> {
        self.execute(&Request::SetTimeouts(*timeouts)).await
    }

    /// Zeroes the counters of one service, or of every service with `None`.
    pub async fn zero(&self, key: Option<&ServiceKey>) -> Result<()> {
        self.execute(&Request::Zero(key.copied())).await
    }

    /// The running sync daemons.
    pub async fn daemons(&self) -> Result<Vec<Daemon>> {
        let stream = self
            .dump(
                IpvsMessage::new(IpvsCmd::GetDaemon, vec![]),
                AddressFamily::Inet,
                |genl, _| daemon_entry(genl),
                Channel::Requests,
            )
            .await?;
        collect(stream).await
    }

    /// Starts a sync daemon ([`Error::DaemonRunning`](crate::Error::DaemonRunning) if one of
    /// that state runs).
    pub async fn start_daemon(&self, daemon: &Daemon) -> Result<()> {
        self.execute(&Request::StartDaemon(daemon.clone())).await
    }

    /// Stops the sync daemon of `state` ([`Error::NoSuchDaemon`](crate::Error::NoSuchDaemon)
    /// if none runs).
    pub async fn stop_daemon(&self, state: DaemonState) -> Result<()> {
        self.execute(&Request::StopDaemon(Daemon::new(state, "")))
            .await
    }
}

impl crate::AsyncIpvs for AsyncHandle {
    fn execute(&self, request: &Request) -> impl std::future::Future<Output = Result<()>> + Send {
        AsyncHandle::execute(self, request)
    }
    fn services(&self) -> impl std::future::Future<Output = Result<Vec<Service>>> + Send {
        AsyncHandle::services(self)
    }
    fn service(
        &self,
        key: &ServiceKey,
    ) -> impl std::future::Future<Output = Result<Service>> + Send {
        AsyncHandle::service(self, key)
    }
    fn destinations(
        &self,
        key: &ServiceKey,
    ) -> impl std::future::Future<Output = Result<Vec<Destination>>> + Send {
        AsyncHandle::destinations(self, key)
    }
    fn service_count(&self) -> impl std::future::Future<Output = Result<u32>> + Send {
        AsyncHandle::service_count(self)
    }
    fn info(&self) -> impl std::future::Future<Output = Result<Info>> + Send {
        AsyncHandle::info(self)
    }
    fn timeouts(&self) -> impl std::future::Future<Output = Result<Timeouts>> + Send {
        AsyncHandle::timeouts(self)
    }
    fn daemons(&self) -> impl std::future::Future<Output = Result<Vec<Daemon>>> + Send {
        AsyncHandle::daemons(self)
    }
    fn apply(&self, batch: &Batch) -> impl std::future::Future<Output = Vec<Result<()>>> + Send {
        AsyncHandle::apply(self, batch)
    }
}

/// The next item of a stream.
async fn next<S: futures_core::Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    std::future::poll_fn(|cx| std::pin::Pin::new(&mut *stream).poll_next(cx)).await
}

async fn collect<T: crate::dump::Dumped>(mut stream: DumpStream<'_, T>) -> Result<Vec<T>> {
    let mut items = Vec::new();
    while let Some(item) = next(&mut stream).await {
        items.push(item?);
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handle_and_its_futures_are_send() {
        fn shareable<T: Send + Sync>() {}
        fn sendable<T: Send>(_: &T) {}
        shareable::<AsyncHandle>();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            // Built but never polled: only their types matter (no IPVS on the host).
            let key = ServiceKey::tcp([10, 0, 0, 1], 80);
            let batch = Batch::new();
            let handle: Option<AsyncHandle> = None;
            if let Some(h) = handle.as_ref() {
                sendable(&h.services());
                sendable(&h.apply(&batch));
                sendable(&h.destinations(&key));
                sendable(&h.services_iter());
            }
        });
    }
}
