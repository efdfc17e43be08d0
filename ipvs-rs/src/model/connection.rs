//! Entries of the kernel's connection table.

use std::net::SocketAddr;
use std::time::Duration;

use crate::Protocol;

/// One entry of IPVS's connection table, as `ipvsadm -L -c -n` lists it: a client's flow
/// (or a persistence template) and the real server it goes to.
///
/// Read with [`connections`](crate::connections).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
pub struct Connection {
    /// The protocol; a persistence template of a firewall-mark service has
    /// `Protocol::Other(0)` (the kernel's `IP`).
    pub protocol: Protocol,
    /// The client's address and port (port 0 in a persistence template).
    pub client: SocketAddr,
    /// The virtual service's address and port.
    pub virtual_addr: SocketAddr,
    /// The real server's address and port.
    pub destination: SocketAddr,
    /// The protocol state as the kernel names it: `ESTABLISHED`, `SYN_RECV`, `TIME_WAIT`,
    /// `CLOSE`, `UDP`, ...; a persistence template's is `NONE`, or `ASSURED` once a
    /// connection has used it.
    pub state: String,
    /// Time left until the entry expires, in whole seconds.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::seconds"))]
    pub expires: Duration,
    /// The persistence engine's name and data (`sip` and the Call-ID), when it has any.
    #[cfg_attr(feature = "serde", serde(default))]
    pub persistence_engine: Option<(String, String)>,
}

impl Connection {
    /// A connection entry; the other fields start empty.
    pub fn new(
        protocol: Protocol,
        client: SocketAddr,
        virtual_addr: SocketAddr,
        destination: SocketAddr,
    ) -> Self {
        Connection {
            protocol,
            client,
            virtual_addr,
            destination,
            state: String::new(),
            expires: Duration::ZERO,
            persistence_engine: None,
        }
    }

    /// Whether it stands for an established TCP or SCTP connection. Entries outlive their
    /// sockets (`TIME_WAIT`, `CLOSE`), so only these say where a live connection goes.
    pub fn is_established(&self) -> bool {
        matches!(self.protocol, Protocol::Tcp | Protocol::Sctp) && self.state == "ESTABLISHED"
    }
}
