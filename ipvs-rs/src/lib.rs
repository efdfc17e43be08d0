//! A typed library for Linux IPVS (IP Virtual Server) over generic netlink.
//!
//! IPVS is the kernel's layer-4 load balancer; `ipvsadm` is its classic command-line tool.
//! This crate covers the whole `IPVS` generic-netlink family: services, destinations
//! (real servers), statistics, timeouts, sync daemons, zeroing and flushing, in any network
//! namespace, with batched writes and streamed reads.
//!
//! # Example
//!
//! The walkthrough's load balancer: a TCP service on 192.168.0.10:80 (scheduler `wlc`) with
//! one real server reached by direct routing, programmed inside the `lb` namespace. It is
//! `ipvsadm -A -t 192.168.0.10:80` then `ipvsadm -a -t 192.168.0.10:80 -r 192.168.0.3 -g`.
//!
//! ```no_run
//! use ipvs_rs::{Destination, Forwarding, Handle, Netns, Service, ServiceKey};
//! use std::net::Ipv4Addr;
//!
//! let ipvs = Handle::open_in_netns(&Netns::Named("lb".into()))?;
//! let key = ServiceKey::tcp(Ipv4Addr::new(192, 168, 0, 10), 80);
//! ipvs.add_service(&Service::new(key))?;
//! let real = Destination::new(Ipv4Addr::new(192, 168, 0, 3), 80);
//! ipvs.add_destination(&key, &real.with_forwarding(Forwarding::Route))?;
//! for dest in ipvs.destinations(&key)? {
//!     println!("{key} -> {}:{} weight {}", dest.addr, dest.port, dest.weight);
//! }
//! # Ok::<(), ipvs_rs::Error>(())
//! ```
//!
//! # Design
//! - A [`Handle`] opens its netlink sockets (one for requests, one for service dumps) once and
//!   resolves the family id once; short of file descriptors, it makes do with one.
//! - Writes send the complete attribute set ipvsadm sends; with the `wire` feature,
//!   `Request::Raw` and the `wire` module (typed attributes, on the re-exported
//!   `netlink_packet_core`) can send anything else byte for byte.
//! - Adds and edits are validated before they are sent ([`Violation`]); strings and, with the
//!   `serde` feature, JSON forms of the model read back what they write.
//! - [`Handle::apply`] sends a [`Batch`] many requests per `sendmsg` and attributes every
//!   ack or error to its request. A batch is **not atomic**.
//! - Dumps are streamed ([`Handle::services_iter`], [`Dump`]).
//! - Kernel errors are typed per command ([`Error`]); a receive that times out is
//!   [`Error::Timeout`], meaning the outcome is unknown.
//! - Code written against the [`Ipvs`] trait runs against the kernel ([`Handle`]) or an
//!   in-memory table that follows the kernel's rules ([`fake::FakeIpvs`]), without root.
//! - With the `tokio` feature, `AsyncHandle` offers the same operations as async methods on
//!   sockets driven by tokio's reactor; [`AsyncIpvs`] is the async trait.
//! - What IPVS keeps outside generic netlink is here too: the connection table
//!   ([`connections`], from `/proc/net/ip_vs_conn`) and the `net.ipv4.vs.*` settings
//!   ([`Sysctl`]), read inside the namespace the caller names ([`Netns`], the project's one
//!   namespace type, whose [`Netns::run`] rtsetup also uses).

#![deny(missing_docs)]

mod async_ipvs;
#[cfg(feature = "tokio")]
mod asynchronous;
mod batch;
mod connections;
mod dump;
mod error;
pub mod fake;
mod handle;
mod ipvs;
mod merge;
mod model;
mod module;
mod netns;
pub mod reconcile;
mod request;
#[cfg(feature = "serde")]
mod serde_support;
mod socket;
mod sysctl;
mod validation;
mod whole_table;
#[cfg(feature = "wire")]
pub mod wire;
#[cfg(not(feature = "wire"))]
mod wire;

pub use async_ipvs::AsyncIpvs;
#[cfg(feature = "tokio")]
pub use asynchronous::{AsyncHandle, DumpStream};
pub use batch::Batch;
pub use connections::{connections, parse_connections};
pub use dump::Dump;
pub use error::{Error, Result};
pub use handle::Handle;
pub use ipvs::Ipvs;
pub use model::*;
pub use module::load_module;
#[cfg(feature = "wire")]
pub use netlink_packet_core;
pub use netns::Netns;
pub use request::Request;
pub use sysctl::Sysctl;
pub use validation::{InvalidRequest, Violation, PE_NAME_MAX, SCHEDULER_NAME_MAX};
pub use whole_table::WithDestinations;
pub use wire::IpvsCmd;
