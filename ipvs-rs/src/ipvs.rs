//! The operations every IPVS implementation offers, as a trait.

use crate::{
    Batch, Daemon, DaemonState, Destination, Handle, Info, Request, Result, Service, ServiceKey,
    Timeouts, WithDestinations,
};

/// What can be done with an IPVS table: implemented by [`Handle`] (the kernel) and by
/// [`FakeIpvs`](crate::fake::FakeIpvs) (an in-memory table for tests without root).
///
/// Code written against `&impl Ipvs` or `&dyn Ipvs` (an agent, a controller, the
/// [`reconcile`](crate::reconcile) module) runs against either. Each method means what the
/// [`Handle`] method of the same name means, with the same [`Error`](crate::Error) variants.
///
/// Only [`execute`](Ipvs::execute) and the reads are required: every write method sends its
/// [`Request`] through `execute`, and [`apply`](Ipvs::apply) executes a batch's requests in
/// order by default (not atomically, as the kernel does).
///
/// ```
/// use ipvs_rs::{Ipvs, Result, ServiceKey};
///
/// /// Quiesces a backend in every service that has it: the same code for the kernel and the fake.
/// fn quiesce(ipvs: &dyn Ipvs, backend: std::net::IpAddr) -> Result<usize> {
///     let mut quiesced = 0;
///     for svc in ipvs.services()? {
///         for dest in ipvs.destinations(&svc.key)? {
///             if dest.addr == backend && dest.weight != 0 {
///                 ipvs.update_destination(&svc.key, &dest.with_weight(0))?;
///                 quiesced += 1;
///             }
///         }
///     }
///     Ok(quiesced)
/// }
/// ```
pub trait Ipvs {
    /// Sends one write request (see [`Handle::execute`]).
    fn execute(&self, request: &Request) -> Result<()>;

    /// Every service (see [`Handle::services`]).
    fn services(&self) -> Result<Vec<Service>>;

    /// One service, or [`Error::NoSuchService`](crate::Error::NoSuchService).
    fn service(&self, key: &ServiceKey) -> Result<Service>;

    /// The destinations of a service; an unknown service has none.
    fn destinations(&self, key: &ServiceKey) -> Result<Vec<Destination>>;

    /// The IPVS version and connection table size.
    fn info(&self) -> Result<Info>;

    /// The TCP, TCP FIN and UDP timeouts.
    fn timeouts(&self) -> Result<Timeouts>;

    /// The running sync daemons.
    fn daemons(&self) -> Result<Vec<Daemon>>;

    /// Every service with its destinations, streamed (see [`Handle::table`]).
    fn table(&self) -> Result<WithDestinations<'_, Self>>
    where
        Self: Sized,
    {
        Ok(WithDestinations::new(self, self.services()?))
    }

    /// These services, each with its destinations as the iterator reaches it (see
    /// [`Handle::with_destinations`]).
    fn with_destinations(&self, services: Vec<Service>) -> WithDestinations<'_, Self>
    where
        Self: Sized,
    {
        WithDestinations::new(self, services)
    }

    /// The number of services.
    fn service_count(&self) -> Result<u32> {
        Ok(self.services()?.len().try_into().unwrap_or(u32::MAX))
    }

    /// Runs every request of `batch` in order and returns one result per request; **not
    /// atomic** (see [`Handle::apply`]).
    fn apply(&self, batch: &Batch) -> Vec<Result<()>> {
        batch.requests().iter().map(|r| self.execute(r)).collect()
    }

    /// Adds a service ([`Error::ServiceExists`](crate::Error::ServiceExists) if it exists).
    fn add_service(&self, svc: &Service) -> Result<()> {
        self.execute(&Request::AddService(svc.clone()))
    }

    /// Replaces a service's scheduler, flags, timeout, netmask and engine.
    fn update_service(&self, svc: &Service) -> Result<()> {
        self.execute(&Request::UpdateService(svc.clone()))
    }

    /// Deletes a service and its destinations.
    fn delete_service(&self, key: &ServiceKey) -> Result<()> {
        self.execute(&Request::DeleteService(*key))
    }

    /// Deletes every service.
    fn flush(&self) -> Result<()> {
        self.execute(&Request::Flush)
    }

    /// Adds a destination to a service.
    fn add_destination(&self, key: &ServiceKey, dest: &Destination) -> Result<()> {
        self.execute(&Request::AddDestination(*key, dest.clone()))
    }

    /// Replaces a destination's forwarding method, weight and thresholds.
    fn update_destination(&self, key: &ServiceKey, dest: &Destination) -> Result<()> {
        self.execute(&Request::UpdateDestination(*key, dest.clone()))
    }

    /// Deletes a destination (identified by its address, port and family).
    fn delete_destination(&self, key: &ServiceKey, dest: &Destination) -> Result<()> {
        self.execute(&Request::DeleteDestination(*key, dest.clone()))
    }

    /// Sets timeouts; a 0 leaves that timeout unchanged.
    fn set_timeouts(&self, timeouts: &Timeouts) -> Result<()> {
        self.execute(&Request::SetTimeouts(*timeouts))
    }

    /// Zeroes the counters of one service, or of every service with `None`.
    fn zero(&self, key: Option<&ServiceKey>) -> Result<()> {
        self.execute(&Request::Zero(key.copied()))
    }

    /// Starts a sync daemon ([`Error::DaemonRunning`](crate::Error::DaemonRunning) if one of
    /// that state runs).
    fn start_daemon(&self, daemon: &Daemon) -> Result<()> {
        self.execute(&Request::StartDaemon(daemon.clone()))
    }

    /// Stops the sync daemon of `state` ([`Error::NoSuchDaemon`](crate::Error::NoSuchDaemon)
    /// if none runs).
    fn stop_daemon(&self, state: DaemonState) -> Result<()> {
        self.execute(&Request::StopDaemon(Daemon::new(state, "")))
    }
}

/// The kernel: every method is the inherent [`Handle`] method of the same name.
impl Ipvs for Handle {
    fn execute(&self, request: &Request) -> Result<()> {
        Handle::execute(self, request)
    }

    fn services(&self) -> Result<Vec<Service>> {
        Handle::services(self)
    }

    fn service(&self, key: &ServiceKey) -> Result<Service> {
        Handle::service(self, key)
    }

    fn destinations(&self, key: &ServiceKey) -> Result<Vec<Destination>> {
        Handle::destinations(self, key)
    }

    fn info(&self) -> Result<Info> {
        Handle::info(self)
    }

    fn timeouts(&self) -> Result<Timeouts> {
        Handle::timeouts(self)
    }

    fn daemons(&self) -> Result<Vec<Daemon>> {
        Handle::daemons(self)
    }

    fn service_count(&self) -> Result<u32> {
        Handle::service_count(self)
    }

    fn apply(&self, batch: &Batch) -> Vec<Result<()>> {
        Handle::apply(self, batch)
    }
}
