//! The IPVS generic-netlink wire format, in the style of `netlink-packet-route`.
//!
//! One enum per attribute set with [`Nla`](netlink_packet_core::Nla) and
//! [`Parseable`](netlink_packet_core::Parseable) implementations. Numbers and byte orders
//! follow the kernel's `include/uapi/linux/ip_vs.h` and `net/netfilter/ipvs/ip_vs_ctl.c`.
//! Attributes this crate does not know are kept as `Other(DefaultNla)`, never dropped.
//!
//! Most users want [`Handle`](crate::Handle); this module is for sending exactly the bytes
//! another tool sends, or for reading raw captures. It is public with the `wire` feature.

// Without the `wire` feature the crate uses only part of this module's public interface; the
// rest is the feature's API, not dead code.
#![cfg_attr(not(feature = "wire"), allow(dead_code, unused_imports))]

mod addr;
pub(crate) mod cmd_attr;
mod command;
mod daemon_attr;
pub(crate) mod dest_attr;
mod entry;
mod info_attr;
pub(crate) mod message;
mod nested;
pub(crate) mod service_attr;
mod stats_attr;

pub use addr::{addr_from_wire, addr_to_wire};
pub use cmd_attr::CmdAttr;
pub use command::IpvsCmd;
pub use daemon_attr::DaemonAttr;
pub use dest_attr::DestAttr;
pub(crate) use entry::{daemon_entry, destination_entry, service_entry};
pub use info_attr::InfoAttr;
pub use message::{IpvsAttrs, IpvsMessage, FAMILY_NAME, FAMILY_VERSION};
pub use service_attr::{FlagsMask, ServiceAttr};
pub use stats_attr::{Counter, StatsAttr};
