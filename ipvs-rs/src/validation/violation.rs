//! The rules a request must follow, each a variant with what broke it.

use std::fmt;
use std::net::IpAddr;

use crate::{AddressFamily, Forwarding, Netmask, Protocol};

/// Longest scheduler name the kernel's attribute policy takes (`IP_VS_SCHEDNAME_MAXLEN` - 1).
pub const SCHEDULER_NAME_MAX: usize = 15;
/// Longest persistence engine name the kernel's attribute policy takes
/// (`IP_VS_PENAME_MAXLEN`; ipvsadm sends up to 16 bytes).
pub const PE_NAME_MAX: usize = 16;

/// One broken rule of [`Service::violations`](crate::Service::violations) or
/// [`Destination::violations`](crate::Destination::violations): ipvsadm 1.31's checks and the
/// kernel's, made before anything is sent.
///
/// [`Violation::field`] names the field, `Display` says what is wrong, and
/// [`Violation::errno`] tells whether the kernel would have refused the request itself (and
/// with which errno) or stored it as given.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Violation {
    /// A firewall-mark service of a family other than inet or inet6.
    ServiceFamily {
        /// The family given.
        family: AddressFamily,
    },
    /// An address service on port 0 that is not persistent (ipvsadm: "Zero port specified
    /// for non-persistent service").
    ZeroPort,
    /// One-packet scheduling on an address service that is not UDP.
    OnePacketNotUdp {
        /// The service's protocol.
        protocol: Protocol,
    },
    /// A scheduler name that is empty, has a NUL byte, or is longer than the kernel holds.
    SchedulerName {
        /// The name given.
        name: String,
    },
    /// A persistence engine name that is empty (the kernel would store no engine), has a NUL
    /// byte, or is longer than the kernel holds.
    PeName {
        /// The name given.
        name: String,
    },
    /// A persistence timeout on a service without the persistent flag.
    TimeoutWithoutPersistence {
        /// The timeout given, in seconds.
        timeout: u32,
    },
    /// A persistent service with a timeout of 0.
    PersistenceWithoutTimeout,
    /// A netmask of the other family than the service's.
    NetmaskFamily {
        /// The netmask given.
        netmask: Netmask,
        /// The service's family.
        family: AddressFamily,
    },
    /// An IPv6 prefix length outside 1 to 128.
    NetmaskPrefix {
        /// The prefix length given.
        prefix: u32,
    },
    /// A destination whose `family` is not its address's.
    DestinationFamily {
        /// The family given.
        family: AddressFamily,
        /// The address.
        addr: IpAddr,
    },
    /// A destination of another family than its service's that is not a tunnel.
    MixedFamily {
        /// The destination's family.
        family: AddressFamily,
        /// The service's family.
        service_family: AddressFamily,
    },
    /// A direct-routing or tunnel destination of an address service on another port than the
    /// service's: packets keep their destination port, so the port would only be a wrong
    /// label (ipvsadm replaces it with the service's).
    ForwardedPort {
        /// The forwarding method.
        forwarding: Forwarding,
        /// The port given.
        port: u16,
        /// The service's port, the only one allowed.
        service_port: u16,
    },
    /// A negative weight.
    NegativeWeight {
        /// The weight given.
        weight: i32,
    },
    /// An upper threshold above `i32::MAX`.
    UpperThreshold {
        /// The threshold given.
        upper: u32,
    },
    /// A lower threshold above the upper one.
    LowerThreshold {
        /// The lower threshold given.
        lower: u32,
        /// The upper threshold given.
        upper: u32,
    },
}

impl Violation {
    /// The field at fault, as named in the model (`"port"`, `"weight"`, `"netmask"`, ...).
    pub fn field(&self) -> &'static str {
        match self {
            Violation::ServiceFamily { .. } => "key",
            Violation::ZeroPort => "key",
            Violation::OnePacketNotUdp { .. } => "flags",
            Violation::SchedulerName { .. } => "scheduler",
            Violation::PeName { .. } => "pe_name",
            Violation::TimeoutWithoutPersistence { .. } => "timeout",
            Violation::PersistenceWithoutTimeout => "timeout",
            Violation::NetmaskFamily { .. } | Violation::NetmaskPrefix { .. } => "netmask",
            Violation::DestinationFamily { .. } | Violation::MixedFamily { .. } => "family",
            Violation::ForwardedPort { .. } => "port",
            Violation::NegativeWeight { .. } => "weight",
            Violation::UpperThreshold { .. } => "upper_threshold",
            Violation::LowerThreshold { .. } => "lower_threshold",
        }
    }

    /// The errno the kernel (Debian's 6.1, measured in the VM lane) answers when sent the
    /// request anyway; `None` when it accepts it and stores what it was given.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Violation::ServiceFamily { .. } => Some(libc::EAFNOSUPPORT),
            Violation::SchedulerName { name } if name.is_empty() => Some(libc::ENOENT),
            Violation::PeName { name } if name.is_empty() => None,
            Violation::SchedulerName { .. } | Violation::PeName { .. } => Some(libc::EINVAL),
            // The kernel reads an IPv4 mask sent for an IPv6 service as a prefix length.
            Violation::NetmaskFamily {
                netmask,
                family: AddressFamily::Inet6,
            } => (!(1..=128).contains(&netmask.to_raw())).then_some(libc::EINVAL),
            Violation::NetmaskPrefix { .. }
            | Violation::MixedFamily { .. }
            | Violation::UpperThreshold { .. } => Some(libc::EINVAL),
            Violation::NegativeWeight { .. } | Violation::LowerThreshold { .. } => {
                Some(libc::ERANGE)
            }
            _ => None,
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::ServiceFamily { family } => write!(
                f,
                "a firewall-mark service is inet or inet6, not family {family}"
            ),
            Violation::ZeroPort => f.write_str(
                "port 0 (every port) needs a persistent service, as ipvsadm requires",
            ),
            Violation::OnePacketNotUdp { protocol } => write!(
                f,
                "one-packet scheduling is only for UDP services, not {protocol}"
            ),
            Violation::SchedulerName { name } if name.is_empty() => {
                f.write_str("no scheduler name")
            }
            Violation::SchedulerName { name } => write!(
                f,
                "`{}` is not a scheduler name the kernel can hold (1 to {SCHEDULER_NAME_MAX} bytes, no NUL)",
                name.escape_debug()
            ),
            Violation::PeName { name } => write!(
                f,
                "`{}` is not a persistence engine name the kernel can hold (1 to {PE_NAME_MAX} bytes, no NUL)",
                name.escape_debug()
            ),
            Violation::TimeoutWithoutPersistence { timeout } => write!(
                f,
                "a persistence timeout ({timeout} s) needs the persistent flag (Service::with_persistence)"
            ),
            Violation::PersistenceWithoutTimeout => {
                f.write_str("a persistent service needs a timeout of at least 1 s")
            }
            Violation::NetmaskFamily { netmask, family } => write!(
                f,
                "netmask {netmask} is not for an {family} service ({})",
                match family {
                    AddressFamily::Inet6 => "IPv6 takes a prefix length, Netmask::V6",
                    _ => "IPv4 takes a mask, Netmask::V4",
                }
            ),
            Violation::NetmaskPrefix { prefix } => {
                write!(f, "IPv6 prefix length {prefix} is not within 1 to 128")
            }
            Violation::DestinationFamily { family, addr } => {
                write!(f, "family {family} is not the family of address {addr}")
            }
            Violation::MixedFamily {
                family,
                service_family,
            } => write!(
                f,
                "an {family} real server of an {service_family} service must be a tunnel"
            ),
            Violation::ForwardedPort {
                forwarding,
                port,
                service_port,
            } => write!(
                f,
                "port {port}: a {} real server keeps the service's port {service_port} \
                 (packets are not rewritten); use {service_port} or masquerading",
                match forwarding {
                    Forwarding::Tunnel(_) => "tunnel",
                    _ => "direct-routing",
                }
            ),
            Violation::NegativeWeight { weight } => {
                write!(f, "weight {weight} is negative (0 quiesces a real server)")
            }
            Violation::UpperThreshold { upper } => write!(
                f,
                "upper threshold {upper} is above {} (the kernel's limit)",
                i32::MAX
            ),
            Violation::LowerThreshold { lower, upper } => write!(
                f,
                "lower threshold {lower} is above the upper threshold {upper}"
            ),
        }
    }
}
