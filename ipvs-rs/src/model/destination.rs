//! Real servers (destinations) of a virtual service.

use std::net::{IpAddr, SocketAddr};

use crate::{AddressFamily, Forwarding, Stats};

/// A real server behind a virtual service.
///
/// [`Destination::new`] gives ipvsadm's defaults: direct routing, weight 1, no thresholds.
/// A write sends every configurable field, so an update is a full replacement, as with
/// `ipvsadm -e`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Destination {
    /// The real server's address.
    pub addr: IpAddr,
    /// The real server's port (for direct routing and tunnels, ipvsadm uses the service's).
    pub port: u16,
    /// The destination's own address family: it differs from the service's only for
    /// mixed-family tunnel destinations (Linux 3.18 and later).
    pub family: AddressFamily,
    /// How packets reach the real server.
    pub forwarding: Forwarding,
    /// Scheduling weight; 0 quiesces the server. The kernel rejects negative weights.
    pub weight: i32,
    /// Upper connection threshold (0: none). Linux 6.1 rejects values above `i32::MAX` with
    /// `EINVAL`.
    pub upper_threshold: u32,
    /// Lower connection threshold (0: none); the kernel refuses one above the upper threshold
    /// (`ERANGE`).
    pub lower_threshold: u32,
    /// Active connections (read only).
    pub active_conns: u32,
    /// Inactive connections (read only).
    pub inactive_conns: u32,
    /// Persistent connection templates (read only).
    pub persist_conns: u32,
    /// Counters and rates (read only).
    pub stats: Stats,
}

impl Destination {
    /// A real server with ipvsadm's defaults: direct routing, weight 1, no thresholds.
    pub fn new(addr: impl Into<IpAddr>, port: u16) -> Self {
        let addr = addr.into();
        Destination {
            family: AddressFamily::of(&addr),
            addr,
            port,
            forwarding: Forwarding::Route,
            weight: 1,
            upper_threshold: 0,
            lower_threshold: 0,
            active_conns: 0,
            inactive_conns: 0,
            persist_conns: 0,
            stats: Stats::default(),
        }
    }

    /// The real server's address.
    pub fn address(&self) -> IpAddr {
        self.addr
    }

    /// The real server's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The real server's address and port.
    pub fn socket_addr(&self) -> SocketAddr {
        SocketAddr::new(self.addr, self.port)
    }

    /// Sets the forwarding method.
    #[must_use = "a builder method returns the changed value"]
    pub fn with_forwarding(mut self, forwarding: Forwarding) -> Self {
        self.forwarding = forwarding;
        self
    }

    /// Sets the weight.
    #[must_use = "a builder method returns the changed value"]
    pub fn with_weight(mut self, weight: i32) -> Self {
        self.weight = weight;
        self
    }

    /// Sets the upper and lower connection thresholds (0: none).
    #[must_use = "a builder method returns the changed value"]
    pub fn with_thresholds(mut self, upper: u32, lower: u32) -> Self {
        self.upper_threshold = upper;
        self.lower_threshold = lower;
        self
    }
}

impl From<SocketAddr> for Destination {
    /// [`Destination::new`] on the address and port.
    fn from(addr: SocketAddr) -> Self {
        Destination::new(addr.ip(), addr.port())
    }
}
