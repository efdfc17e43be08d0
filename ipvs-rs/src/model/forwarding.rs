//! Packet-forwarding methods of real servers.

use std::fmt;
use std::str::FromStr;

use bitflags::bitflags;

use super::parse_error::{number, ParseError};

/// How IPVS forwards packets to a real server.
///
/// The text form is `route`, `masq`, `local`, `bypass`, or for a tunnel
/// `tunnel[:TYPE[:PORT]][+FLAG...]`: TYPE is `ipip` (the default), `gue`, `gre` or a type
/// number, PORT the GUE port, FLAG `csum`, `remcsum` or a hexadecimal rest of unknown bits
/// (`+0x4`). Display writes the shortest form, so plain IP-in-IP is `tunnel`.
///
/// ```
/// use ipvs_rs::{Forwarding, Tunnel, TunnelFlags};
/// assert_eq!("route".parse::<Forwarding>()?, Forwarding::Route);
/// let gue = Tunnel::gue(6080).with_flags(TunnelFlags::CSUM);
/// assert_eq!(Forwarding::Tunnel(gue).to_string(), "tunnel:gue:6080+csum");
/// assert_eq!("tunnel:gue:6080+csum".parse::<Forwarding>()?, Forwarding::Tunnel(gue));
/// assert_eq!("tunnel".parse::<Forwarding>()?, Forwarding::Tunnel(Tunnel::ipip()));
/// # Ok::<(), ipvs_rs::ParseError>(())
/// ```
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
#[non_exhaustive]
pub struct Tunnel {
    /// The encapsulation type.
    pub kind: TunnelType,
    /// The UDP destination port for GUE (required by the kernel for GUE, unused otherwise).
    pub port: Option<u16>,
    /// Checksum options (GUE and GRE).
    pub flags: TunnelFlags,
}

impl Tunnel {
    /// A tunnel of `kind` with the GUE `port` and checksum `flags`.
    pub fn new(kind: TunnelType, port: Option<u16>, flags: TunnelFlags) -> Self {
        Tunnel { kind, port, flags }
    }

    /// Sets the checksum options.
    #[must_use = "a builder method returns the changed value"]
    pub fn with_flags(mut self, flags: TunnelFlags) -> Self {
        self.flags = flags;
        self
    }

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
#[non_exhaustive]
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

impl fmt::Display for TunnelType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TunnelType::Ipip => f.write_str("ipip"),
            TunnelType::Gue => f.write_str("gue"),
            TunnelType::Gre => f.write_str("gre"),
            TunnelType::Other(n) => write!(f, "{n}"),
        }
    }
}

impl FromStr for TunnelType {
    type Err = ParseError;

    /// `ipip`, `gue`, `gre` or a type number (taken as [`TunnelType::from`] does).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ipip" => Ok(TunnelType::Ipip),
            "gue" => Ok(TunnelType::Gue),
            "gre" => Ok(TunnelType::Gre),
            _ => number::<u8>("tunnel type", s, s, "tunnel type")
                .map(TunnelType::from)
                .map_err(|_| {
                    ParseError::new("tunnel type", s, "expected ipip, gue, gre or a type number")
                }),
        }
    }
}

impl fmt::Display for Tunnel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tunnel")?;
        match (self.kind, self.port) {
            (TunnelType::Ipip, None) => {}
            (kind, None) => write!(f, ":{kind}")?,
            (kind, Some(port)) => write!(f, ":{kind}:{port}")?,
        }
        if self.flags.contains(TunnelFlags::CSUM) {
            f.write_str("+csum")?;
        }
        if self.flags.contains(TunnelFlags::REMCSUM) {
            f.write_str("+remcsum")?;
        }
        let rest = self.flags.bits() & !(TunnelFlags::CSUM | TunnelFlags::REMCSUM).bits();
        if rest != 0 {
            write!(f, "+{rest:#x}")?;
        }
        Ok(())
    }
}

impl FromStr for Tunnel {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const WHAT: &str = "tunnel";
        let err = |reason: String| ParseError::new(WHAT, s, reason);
        let mut flag_parts = s.split('+');
        let head = flag_parts.next().unwrap_or_default();
        let mut parts = head.split(':');
        if parts.next() != Some("tunnel") {
            return Err(err("expected `tunnel[:TYPE[:PORT]][+FLAG...]`".into()));
        }
        let kind = match parts.next() {
            Some(kind) => kind
                .parse::<TunnelType>()
                .map_err(|e| err(e.reason().into()))?,
            None => TunnelType::Ipip,
        };
        let port = parts
            .next()
            .map(|p| number::<u16>(WHAT, s, p, "port"))
            .transpose()?;
        if let Some(extra) = parts.next() {
            return Err(err(format!("unexpected `:{extra}`")));
        }
        let mut flags = TunnelFlags::empty();
        for flag in flag_parts {
            flags |= match flag {
                "csum" => TunnelFlags::CSUM,
                "remcsum" => TunnelFlags::REMCSUM,
                _ => flag
                    .strip_prefix("0x")
                    .and_then(|hex| u16::from_str_radix(hex, 16).ok())
                    .map(TunnelFlags::from_bits_retain)
                    .ok_or_else(|| {
                        err(format!(
                            "unknown flag `{flag}` (csum, remcsum or hexadecimal bits)"
                        ))
                    })?,
            };
        }
        Ok(Tunnel { kind, port, flags })
    }
}

impl fmt::Display for Forwarding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Forwarding::Route => f.write_str("route"),
            Forwarding::Masq => f.write_str("masq"),
            Forwarding::Local => f.write_str("local"),
            Forwarding::Bypass => f.write_str("bypass"),
            Forwarding::Tunnel(t) => t.fmt(f),
        }
    }
}

impl FromStr for Forwarding {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "route" => Ok(Forwarding::Route),
            "masq" => Ok(Forwarding::Masq),
            "local" => Ok(Forwarding::Local),
            "bypass" => Ok(Forwarding::Bypass),
            _ if s.starts_with("tunnel") => s
                .parse::<Tunnel>()
                .map(Forwarding::Tunnel)
                .map_err(|e| ParseError::new("forwarding method", s, e.reason())),
            _ => Err(ParseError::new(
                "forwarding method",
                s,
                "expected route, masq, local, bypass or tunnel[:TYPE[:PORT]][+FLAG...]",
            )),
        }
    }
}
