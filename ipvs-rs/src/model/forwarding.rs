//! Packet-forwarding methods of real servers.

use bitflags::bitflags;

/// How IPVS forwards packets to a real server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Forwarding {
    /// Direct routing (`-g`, "gatewaying"): the frame is sent to the real server's MAC address.
    #[default]
    Route,
    /// IP tunnelling (`-i`): the packet is encapsulated to the real server.
    Tunnel(Tunnel),
    /// Masquerading (`-m`, NAT): the destination address is rewritten.
    Masq,
    /// Local node: the director itself serves the connection.
    Local,
    /// Cache bypass.
    Bypass,
}

impl Forwarding {
    /// The kernel's forwarding method number (`IP_VS_CONN_F_*` & `IP_VS_CONN_F_FWD_MASK`).
    pub fn method(&self) -> u32 {
        match self {
            Forwarding::Masq => 0,
            Forwarding::Local => 1,
            Forwarding::Tunnel(_) => 2,
            Forwarding::Route => 3,
            Forwarding::Bypass => 4,
        }
    }
}

/// The encapsulation of a [`Forwarding::Tunnel`] destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Tunnel {
    /// The encapsulation type.
    pub kind: TunnelType,
    /// The UDP destination port for GUE (required by the kernel for GUE, unused otherwise).
    pub port: Option<u16>,
    /// Checksum options (GUE and GRE).
    pub flags: TunnelFlags,
}

impl Tunnel {
    /// Plain IP-in-IP, the default tunnel.
    pub fn ipip() -> Self {
        Tunnel::default()
    }

    /// Generic UDP Encapsulation to `port` (Linux 5.2 and later).
    pub fn gue(port: u16) -> Self {
        Tunnel {
            kind: TunnelType::Gue,
            port: Some(port),
            flags: TunnelFlags::empty(),
        }
    }

    /// GRE encapsulation (Linux 5.3 and later).
    pub fn gre() -> Self {
        Tunnel {
            kind: TunnelType::Gre,
            port: None,
            flags: TunnelFlags::empty(),
        }
    }
}

/// Tunnel encapsulation types (`IP_VS_CONN_F_TUNNEL_TYPE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TunnelType {
    /// IP in IP (0).
    #[default]
    Ipip,
    /// Generic UDP Encapsulation (1).
    Gue,
    /// Generic Routing Encapsulation (2).
    Gre,
    /// A type number this library does not know, kept as reported.
    Other(u8),
}

impl TunnelType {
    /// The kernel's type number.
    pub fn number(self) -> u8 {
        match self {
            TunnelType::Ipip => 0,
            TunnelType::Gue => 1,
            TunnelType::Gre => 2,
            TunnelType::Other(n) => n,
        }
    }
}

impl From<u8> for TunnelType {
    fn from(n: u8) -> Self {
        match n {
            0 => TunnelType::Ipip,
            1 => TunnelType::Gue,
            2 => TunnelType::Gre,
            n => TunnelType::Other(n),
        }
    }
}

bitflags! {
    /// Tunnel checksum options (`IP_VS_TUNNEL_ENCAP_FLAG_*`).
    ///
    /// The kernel defines "no checksum" as the value 0, so [`NOCSUM`](Self::NOCSUM) is the
    /// empty set.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct TunnelFlags: u16 {
        /// No checksum (`--tun-nocsum`): no bit set.
        const NOCSUM = 0;
        /// Checksum the outer header (`--tun-csum`).
        const CSUM = 1 << 0;
        /// Remote checksum offload (`--tun-remcsum`).
        const REMCSUM = 1 << 1;

        // Bits a newer kernel may report are kept rather than dropped.
        const _ = !0;
    }
}
