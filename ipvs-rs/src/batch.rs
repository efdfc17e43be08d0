//! Many requests in few `sendmsg` calls.

use netlink_packet_core::NLM_F_REQUEST;

use crate::socket::Conn;
use crate::{
    Daemon, DaemonState, Destination, Error, Request, Result, Service, ServiceKey, Timeouts,
};

/// A list of requests for [`Handle::apply`](crate::Handle::apply), sent many per `sendmsg`.
///
/// **A batch is not atomic.** The kernel applies every message of a batch in order, even after
/// one fails; there is no rollback. [`Handle::apply`](crate::Handle::apply) returns one result
/// per request, each attributed to its request by sequence number.
///
/// ```
/// use ipvs_rs::{Batch, Destination, Service, ServiceKey};
/// use std::net::Ipv4Addr;
///
/// let key = ServiceKey::tcp(Ipv4Addr::new(192, 168, 0, 10), 80);
/// let mut batch = Batch::new();
/// batch.add_service(Service::new(key));
/// for host in 3..=5 {
///     batch.add_destination(key, Destination::new(Ipv4Addr::new(192, 168, 0, host), 80));
/// }
/// assert_eq!(batch.len(), 4);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    requests: Vec<Request>,
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Self {
        Batch::default()
    }

    /// Appends a request.
    pub fn push(&mut self, request: Request) -> &mut Self {
        self.requests.push(request);
        self
    }

    /// Appends an add service.
    pub fn add_service(&mut self, svc: Service) -> &mut Self {
        self.push(Request::AddService(svc))
    }

    /// Appends an edit service.
    pub fn update_service(&mut self, svc: Service) -> &mut Self {
        self.push(Request::UpdateService(svc))
    }

    /// Appends a delete service.
    pub fn delete_service(&mut self, key: ServiceKey) -> &mut Self {
        self.push(Request::DeleteService(key))
    }

    /// Appends an add destination.
    pub fn add_destination(&mut self, key: ServiceKey, dest: Destination) -> &mut Self {
        self.push(Request::AddDestination(key, dest))
    }

    /// Appends an edit destination.
    pub fn update_destination(&mut self, key: ServiceKey, dest: Destination) -> &mut Self {
        self.push(Request::UpdateDestination(key, dest))
    }

    /// Appends a delete destination.
    pub fn delete_destination(&mut self, key: ServiceKey, dest: Destination) -> &mut Self {
        self.push(Request::DeleteDestination(key, dest))
    }

    /// Appends a flush.
    pub fn flush(&mut self) -> &mut Self {
        self.push(Request::Flush)
    }

    /// Appends a set timeouts.
    pub fn set_timeouts(&mut self, timeouts: Timeouts) -> &mut Self {
        self.push(Request::SetTimeouts(timeouts))
    }

    /// Appends a start daemon.
    pub fn start_daemon(&mut self, daemon: Daemon) -> &mut Self {
        self.push(Request::StartDaemon(daemon))
    }

    /// Appends a stop of the sync daemon of `state`.
    pub fn stop_daemon(&mut self, state: DaemonState) -> &mut Self {
        self.push(Request::StopDaemon(Daemon::new(state, "")))
    }

    /// The number of requests.
    pub fn len(&self) -> usize {
        self.requests.len()
    }

    /// Whether the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.requests.is_empty()
    }

    /// The requests, in order.
    pub fn requests(&self) -> &[Request] {
        &self.requests
    }
}

impl FromIterator<Request> for Batch {
    fn from_iter<I: IntoIterator<Item = Request>>(iter: I) -> Self {
        Batch {
            requests: iter.into_iter().collect(),
        }
    }
}

impl Extend<Request> for Batch {
    fn extend<I: IntoIterator<Item = Request>>(&mut self, iter: I) {
        self.requests.extend(iter)
    }
}

/// Requests per `sendmsg` when a batch is applied; their acks must fit the receive buffer.
const CHUNK: usize = 256;

/// One `sendmsg` of a batch: requests `base..base + len` with sequence numbers from `first`,
/// then the probe `last` that closes it.
pub(crate) struct Chunk {
    base: usize,
    len: usize,
    first: u32,
    last: u32,
}

impl Chunk {
    /// The sequence number whose ack ends the chunk's exchange.
    #[cfg(feature = "tokio")]
    pub(crate) fn last_seq(&self) -> u32 {
        self.last
    }

    /// The index of the first request after the chunk.
    pub(crate) fn end(&self) -> usize {
        self.base + self.len
    }
}

/// The outcome of each request of a batch as the acks arrive: the part of applying a batch
/// that does not depend on how the socket is read (blocking or from a reactor).
pub(crate) struct Outcomes<'b> {
    requests: &'b [Request],
    results: Vec<Option<Result<()>>>,
}

impl<'b> Outcomes<'b> {
    pub(crate) fn new(batch: &'b Batch) -> Self {
        Outcomes {
            requests: batch.requests(),
            results: batch.requests().iter().map(|_| None).collect(),
        }
    }

    /// Frames the chunk of requests starting at `base` into `out` (cleared first), `None`
    /// when none is left.
    ///
    /// No request asks for an ack: the kernel reports a failure whether asked or not, and
    /// handles one socket's messages in order, so the ack of the probe that closes the chunk
    /// (see `Conn::encode_probe`) says that every request without an error succeeded. That
    /// saves the kernel an ack and the reader a receive per request, and no request can leave
    /// the reader waiting for an ack the kernel never sends.
    pub(crate) fn encode_chunk(
        &self,
        base: usize,
        conn: &mut Conn,
        out: &mut Vec<u8>,
    ) -> Option<Chunk> {
        let chunk = self.requests.get(base..)?.chunks(CHUNK).next()?;
        out.clear();
        let mut first = None;
        for request in chunk {
            let seq = conn.encode_request(request, NLM_F_REQUEST, out);
            first.get_or_insert(seq);
        }
        let last = conn.encode_probe(out);
        Some(Chunk {
            base,
            len: chunk.len(),
            first: first.unwrap_or(last),
            last,
        })
    }

    /// Records the ack or error `seq` carries; true when it ends the chunk, whose requests
    /// without an error then succeeded.
    pub(crate) fn ack(
        &mut self,
        chunk: &Chunk,
        seq: u32,
        errno: i32,
        message: Option<String>,
    ) -> bool {
        let i = seq.wrapping_sub(chunk.first) as usize;
        if i < chunk.len && self.results[chunk.base + i].is_none() {
            let request = &self.requests[chunk.base + i];
            self.results[chunk.base + i] = Some(match errno {
                0 => Ok(()),
                errno => Err(Error::from_kernel(
                    request.command(),
                    errno,
                    message,
                    request.names(),
                )),
            });
        }
        if seq != chunk.last {
            return false;
        }
        for result in &mut self.results[chunk.base..chunk.base + chunk.len] {
            result.get_or_insert(Ok(()));
        }
        true
    }

    /// Gives every request without an outcome a copy of a socket-level error: whether the
    /// kernel applied it is unknown.
    pub(crate) fn fail_rest(&mut self, e: &Error) {
        for r in self.results.iter_mut().filter(|r| r.is_none()) {
            *r = Some(Err(copy_error(e)));
        }
    }

    pub(crate) fn finish(self) -> Vec<Result<()>> {
        self.results
            .into_iter()
            .map(|r| r.unwrap_or(Err(Error::Timeout)))
            .collect()
    }
}

/// A copy of a socket-level error for each request it leaves unresolved.
pub(crate) fn copy_error(e: &Error) -> Error {
    match e {
        Error::Timeout => Error::Timeout,
        Error::Busy => Error::Busy,
        Error::Io(io) => Error::Io(std::io::Error::new(io.kind(), io.to_string())),
        other => Error::Decode(other.to_string()),
    }
}
