//! Virtual services.

use crate::{Netmask, Scheduler, ServiceFlags, ServiceKey, Stats};

/// A virtual service: what clients connect to, and how IPVS picks a real server.
///
/// [`Service::new`] gives ipvsadm's defaults: scheduler `wlc`, no persistence, a host netmask.
/// A write sends every field, so an update is a full replacement, as with `ipvsadm -E`.
///
/// ```
/// use ipvs_rs::{Scheduler, Service, ServiceKey};
/// use std::net::Ipv4Addr;
///
/// let svc = Service::new(ServiceKey::tcp(Ipv4Addr::new(192, 168, 0, 10), 80))
///     .with_scheduler(Scheduler::RoundRobin)
///     .with_persistence(360);
/// assert_eq!(svc.scheduler.name(), "rr");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Service {
    /// What identifies the service.
    pub key: ServiceKey,
    /// The scheduling algorithm.
    pub scheduler: Scheduler,
    /// Service flags; see [`ServiceFlags`].
    pub flags: ServiceFlags,
    /// Persistence timeout in seconds (meaningful with [`ServiceFlags::PERSISTENT`]).
    pub timeout: u32,
    /// The netmask persistence groups clients by.
    pub netmask: Netmask,
    /// The persistence engine (only `"sip"` in mainline kernels), if any.
    pub pe_name: Option<String>,
    /// Counters and rates (read only: ignored on writes).
    pub stats: Stats,
}

impl Service {
    /// A service with ipvsadm's defaults: `wlc`, not persistent, host netmask, no engine.
    pub fn new(key: ServiceKey) -> Self {
        Service {
            netmask: Netmask::host(key.family()),
            key,
            scheduler: Scheduler::default(),
            flags: ServiceFlags::empty(),
            timeout: 0,
            pe_name: None,
            stats: Stats::default(),
        }
    }

    /// Sets the scheduler.
    #[must_use = "a builder method returns the changed value"]
    pub fn with_scheduler(mut self, scheduler: Scheduler) -> Self {
        self.scheduler = scheduler;
        self
    }

    /// Makes the service persistent for `timeout` seconds (ipvsadm's default is 360).
    #[must_use = "a builder method returns the changed value"]
    pub fn with_persistence(mut self, timeout: u32) -> Self {
        self.flags |= ServiceFlags::PERSISTENT;
        self.timeout = timeout;
        self
    }

    /// Adds service flags.
    #[must_use = "a builder method returns the changed value"]
    pub fn with_flags(mut self, flags: ServiceFlags) -> Self {
        self.flags |= flags;
        self
    }

    /// Sets the persistence netmask.
    #[must_use = "a builder method returns the changed value"]
    pub fn with_netmask(mut self, netmask: Netmask) -> Self {
        self.netmask = netmask;
        self
    }

    /// Sets the persistence engine (such as `"sip"`).
    #[must_use = "a builder method returns the changed value"]
    pub fn with_pe(mut self, pe_name: impl Into<String>) -> Self {
        self.pe_name = Some(pe_name.into());
        self
    }
}
