//! Checks made before a request is sent: ipvsadm 1.31's rules and the kernel's, so a mistake
//! is a typed error naming the field instead of a bare errno, or a value stored wrongly.

mod switch;
mod violation;

use std::fmt;
use std::net::SocketAddr;

pub(crate) use switch::Validation;
pub use violation::{Violation, PE_NAME_MAX, SCHEDULER_NAME_MAX};

use crate::reconcile::Change;
use crate::{
    AddressFamily, Destination, Forwarding, Netmask, Protocol, Request, Service, ServiceFlags,
    ServiceKey,
};

/// A request refused before it was sent: the service (and real server) it was for, and the
/// first rule it broke.
///
/// ```
/// use ipvs_rs::{Destination, Forwarding, ServiceKey, Violation};
/// use std::net::Ipv4Addr;
///
/// let key = ServiceKey::tcp(Ipv4Addr::new(192, 168, 0, 10), 80);
/// let real = Destination::new(Ipv4Addr::new(192, 168, 0, 3), 9999);
/// let err = real.validate(&key).unwrap_err();
/// assert!(matches!(err.violation, Violation::ForwardedPort { service_port: 80, .. }));
/// assert_eq!(err.violation.field(), "port");
/// assert_eq!(
///     err.to_string(),
///     "service tcp:192.168.0.10:80, real server 192.168.0.3:9999: port 9999: a direct-routing \
///      real server keeps the service's port 80 (packets are not rewritten); use 80 or masquerading"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InvalidRequest {
    /// The service the request was for.
    pub service: ServiceKey,
    /// The real server, for destination requests.
    pub destination: Option<SocketAddr>,
    /// What is wrong.
    pub violation: Violation,
}

impl fmt::Display for InvalidRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "service {}", self.service)?;
        if let Some(dest) = self.destination {
            write!(f, ", real server {dest}")?;
        }
        write!(f, ": {}", self.violation)
    }
}

impl std::error::Error for InvalidRequest {}

fn name_ok(name: &str, max: usize) -> bool {
    !name.is_empty() && name.len() <= max && !name.contains('\0')
}

impl Service {
    /// Every rule this service breaks, in the order ipvsadm and the kernel check them; empty
    /// when it can be sent. See docs/library.md, "Validation".
    pub fn violations(&self) -> Vec<Violation> {
        let mut found = Vec::new();
        let family = self.key.family();
        match self.key {
            ServiceKey::Fwmark { family, .. }
                if !matches!(family, AddressFamily::Inet | AddressFamily::Inet6) =>
            {
                found.push(Violation::ServiceFamily { family });
            }
            ServiceKey::Inet { port: 0, .. } if !self.flags.contains(ServiceFlags::PERSISTENT) => {
                found.push(Violation::ZeroPort);
            }
            _ => {}
        }
        if let ServiceKey::Inet { protocol, .. } = self.key {
            if self.flags.contains(ServiceFlags::ONE_PACKET) && protocol != Protocol::Udp {
                found.push(Violation::OnePacketNotUdp { protocol });
            }
        }
        if !name_ok(self.scheduler.name(), SCHEDULER_NAME_MAX) {
            found.push(Violation::SchedulerName {
                name: self.scheduler.name().to_owned(),
            });
        }
        if let Some(pe) = &self.pe_name {
            if !name_ok(pe, PE_NAME_MAX) {
                found.push(Violation::PeName { name: pe.clone() });
            }
        }
        let persistent = self.flags.contains(ServiceFlags::PERSISTENT);
        if !persistent && self.timeout != 0 {
            found.push(Violation::TimeoutWithoutPersistence {
                timeout: self.timeout,
            });
        }
        if persistent && self.timeout == 0 {
            found.push(Violation::PersistenceWithoutTimeout);
        }
        match (self.netmask, family) {
            (Netmask::V6(prefix), AddressFamily::Inet6) if !(1..=128).contains(&prefix) => {
                found.push(Violation::NetmaskPrefix { prefix });
            }
            (Netmask::V4(_), AddressFamily::Inet6) | (Netmask::V6(_), AddressFamily::Inet) => {
                found.push(Violation::NetmaskFamily {
                    netmask: self.netmask,
                    family,
                });
            }
            _ => {}
        }
        found
    }

    /// The first rule this service breaks, as the error [`Handle`](crate::Handle) returns
    /// instead of sending it.
    pub fn validate(&self) -> Result<(), InvalidRequest> {
        match self.violations().into_iter().next() {
            None => Ok(()),
            Some(violation) => Err(InvalidRequest {
                service: self.key,
                destination: None,
                violation,
            }),
        }
    }
}

impl ServiceKey {
    /// The port a real server of this service must use with `forwarding`: direct routing and
    /// tunnels do not rewrite packets, so on an address service their port is the service's
    /// (ipvsadm silently replaces it). `None` when any port goes: masquerading, and every
    /// method on a firewall-mark service.
    ///
    /// ```
    /// use ipvs_rs::{Forwarding, ServiceKey};
    /// let key: ServiceKey = "tcp:10.0.0.1:80".parse()?;
    /// assert_eq!(key.forced_port(&Forwarding::Route), Some(80));
    /// assert_eq!(key.forced_port(&Forwarding::Masq), None);
    /// # Ok::<(), ipvs_rs::ParseError>(())
    /// ```
    pub fn forced_port(&self, forwarding: &Forwarding) -> Option<u16> {
        match (self, forwarding) {
            (ServiceKey::Inet { port, .. }, Forwarding::Route | Forwarding::Tunnel(_)) => {
                Some(*port)
            }
            _ => None,
        }
    }
}

impl Destination {
    /// Every rule this real server breaks as a destination of the service `key`, in the order
    /// ipvsadm and the kernel check them; empty when it can be sent.
    pub fn violations(&self, key: &ServiceKey) -> Vec<Violation> {
        let mut found = Vec::new();
        if self.family != AddressFamily::of(&self.addr) {
            found.push(Violation::DestinationFamily {
                family: self.family,
                addr: self.addr,
            });
        }
        let service_family = key.family();
        if self.family != service_family && !matches!(self.forwarding, Forwarding::Tunnel(_)) {
            found.push(Violation::MixedFamily {
                family: self.family,
                service_family,
            });
        }
        if let Some(service_port) = key.forced_port(&self.forwarding) {
            if self.port != service_port {
                found.push(Violation::ForwardedPort {
                    forwarding: self.forwarding,
                    port: self.port,
                    service_port,
                });
            }
        }
        if self.weight < 0 {
            found.push(Violation::NegativeWeight {
                weight: self.weight,
            });
        }
        if self.upper_threshold > i32::MAX as u32 {
            found.push(Violation::UpperThreshold {
                upper: self.upper_threshold,
            });
        }
        if self.lower_threshold > self.upper_threshold {
            found.push(Violation::LowerThreshold {
                lower: self.lower_threshold,
                upper: self.upper_threshold,
            });
        }
        found
    }

    /// The first rule this real server breaks as a destination of `key`, as the error
    /// [`Handle`](crate::Handle) returns instead of sending it.
    pub fn validate(&self, key: &ServiceKey) -> Result<(), InvalidRequest> {
        match self.violations(key).into_iter().next() {
            None => Ok(()),
            Some(violation) => Err(InvalidRequest {
                service: *key,
                destination: Some(self.socket_addr()),
                violation,
            }),
        }
    }
}

impl Request {
    /// Checks an add or edit of a service or destination; other requests name what exists
    /// (or carry raw bytes) and pass as they are.
    pub fn validate(&self) -> Result<(), InvalidRequest> {
        match self {
            Request::AddService(s) | Request::UpdateService(s) => s.validate(),
            Request::AddDestination(k, d) | Request::UpdateDestination(k, d) => d.validate(k),
            _ => Ok(()),
        }
    }
}

impl Change {
    /// Checks the request this change sends, as [`Request::validate`] does.
    pub(crate) fn validate(&self) -> Result<(), InvalidRequest> {
        match self {
            Change::AddService(s) | Change::UpdateService { new: s, .. } => s.validate(),
            Change::AddDestination(k, d)
            | Change::UpdateDestination {
                service: k, new: d, ..
            } => d.validate(k),
            Change::DrainDestination { service, old } => {
                old.clone().with_weight(0).validate(service)
            }
            Change::DeleteService(_) | Change::DeleteDestination(..) => Ok(()),
        }
    }
}
