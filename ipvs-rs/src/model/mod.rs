//! The typed model of IPVS objects; everything here is re-exported at the crate root.

mod connection;
mod daemon;
mod destination;
mod family;
mod forwarding;
mod info;
mod netmask;
mod parse_error;
mod protocol;
mod scheduler;
mod service;
mod service_flags;
mod service_key;
mod stats;
mod timeouts;

pub use connection::Connection;
pub use daemon::{Daemon, DaemonState};
pub use destination::Destination;
pub use family::AddressFamily;
pub use forwarding::{Forwarding, Tunnel, TunnelFlags, TunnelType};
pub use info::{Info, Version};
pub use netmask::Netmask;
pub use parse_error::ParseError;
pub use protocol::Protocol;
pub use scheduler::Scheduler;
pub use service::Service;
pub use service_flags::ServiceFlags;
pub use service_key::ServiceKey;
pub use stats::Stats;
pub use timeouts::Timeouts;
