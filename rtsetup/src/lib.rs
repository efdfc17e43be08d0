//! Network namespaces, veth pairs, bridges, addresses, routes and sysctls in pure Rust over
//! rtnetlink and `setns(2)`, and the IPVS Direct Routing lab built on them.
//!
//! Every network operation goes through an [`Rtnl`] connection opened in one namespace:
//!
//! ```no_run
//! use rtsetup::{sysctl, Netns, NetnsExt, Rtnl};
//!
//! let ap = Netns::create("ap")?;
//! let mut host = Rtnl::open(&Netns::Current)?;
//! host.add_bridge("br0")?;
//! host.add_veth("ap-br0", "ap-veth0", Some(&ap))?;
//! host.set_controller("ap-br0", "br0")?;
//! host.set_up("ap-br0")?;
//! host.set_up("br0")?;
//!
//! let mut inside = Rtnl::open(&ap)?;
//! inside.add_address("ap-veth0", "192.168.0.3/24".parse()?)?;
//! inside.add_address("lo", "192.168.0.10/32".parse()?)?;
//! inside.set_up("ap-veth0")?;
//! inside.set_up("lo")?;
//! sysctl::write(&ap, &sysctl::Key::ipv4_conf("all", "arp_ignore"), "1")?;
//! # Ok::<(), rtsetup::Error>(())
//! ```

#![deny(missing_docs)]

pub mod address;
pub mod capture;
pub mod error;
pub mod frame;
pub mod http;
pub mod ipnet;
pub mod lab;
pub mod link;
pub mod mac;
pub mod neighbour;
pub mod netns;
pub mod removal;
pub mod route;
pub mod rtnl;
mod serde_text;
pub mod sysctl;

pub use address::Address;
pub use error::{Error, Object, Place, Result};
pub use ipnet::IpNet;
pub use link::Link;
pub use mac::MacAddr;
pub use neighbour::Neighbour;
pub use netns::{in_netns, Netns, NetnsExt, NsIdentity};
pub use removal::Removal;
pub use route::Route;
pub use rtnl::Rtnl;
