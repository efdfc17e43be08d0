//! Many requests in few `sendmsg` calls.

use crate::{Daemon, Destination, Request, Service, ServiceKey, Timeouts};

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
