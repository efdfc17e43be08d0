//! The destination attribute set (`IPVS_DEST_ATTR_*`), nested in `IPVS_CMD_ATTR_DEST`.

use netlink_packet_core::{DecodeError, DefaultNla, Nla, NlaBuffer, Parseable};

use super::addr::{addr_from_wire, addr_to_wire};
use super::nested::{emit_nested, fixed, nested_len, parse_nested};
use super::StatsAttr;
use crate::{AddressFamily, Destination, Forwarding, Stats, Tunnel, TunnelFlags, TunnelType};

pub(crate) const ADDR: u16 = 1;
pub(crate) const PORT: u16 = 2;
pub(crate) const FWD_METHOD: u16 = 3;
pub(crate) const WEIGHT: u16 = 4;
pub(crate) const U_THRESH: u16 = 5;
pub(crate) const L_THRESH: u16 = 6;
pub(crate) const ACTIVE_CONNS: u16 = 7;
pub(crate) const INACT_CONNS: u16 = 8;
pub(crate) const PERSIST_CONNS: u16 = 9;
pub(crate) const STATS: u16 = 10;
pub(crate) const ADDR_FAMILY: u16 = 11;
pub(crate) const STATS64: u16 = 12;
pub(crate) const TUN_TYPE: u16 = 13;
pub(crate) const TUN_PORT: u16 = 14;
pub(crate) const TUN_FLAGS: u16 = 15;

/// One attribute of a destination (real server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DestAttr {
    /// Address, 16 bytes (IPv4 in the first 4).
    Addr([u8; 16]),
    /// Port (host order here, network order on the wire).
    Port(u16),
    /// Forwarding method (`IP_VS_CONN_F_MASQ` 0 ... `IP_VS_CONN_F_BYPASS` 4).
    FwdMethod(u32),
    /// Weight (a signed value in an unsigned 32-bit attribute).
    Weight(i32),
    /// Upper connection threshold.
    UThresh(u32),
    /// Lower connection threshold.
    LThresh(u32),
    /// Active connections.
    ActiveConns(u32),
    /// Inactive connections.
    InactConns(u32),
    /// Persistent connection templates.
    PersistConns(u32),
    /// 32-bit statistics.
    Stats(Vec<StatsAttr>),
    /// The destination's address family.
    AddrFamily(u16),
    /// 64-bit statistics.
    Stats64(Vec<StatsAttr>),
    /// Tunnel type.
    TunType(u8),
    /// Tunnel (GUE) port (host order here, network order on the wire).
    TunPort(u16),
    /// Tunnel checksum flags.
    TunFlags(u16),
    /// An attribute this library does not know, kept as is.
    Other(DefaultNla),
}

impl DestAttr {
    /// The attributes identifying `dest` within a service: family, address, port.
    pub fn from_key(dest: &Destination) -> Vec<DestAttr> {
        let mut attrs = Vec::with_capacity(3);
        DestAttr::each_of_key(dest, &mut |a| attrs.push(a));
        attrs
    }

    /// The complete attribute set ipvsadm 1.31 sends for `dest`, in its order.
    pub fn from_destination(dest: &Destination) -> Vec<DestAttr> {
        let mut attrs = Vec::with_capacity(10);
        DestAttr::each_of_destination(dest, &mut |a| attrs.push(a));
        attrs
    }

    /// [`DestAttr::from_key`], one attribute at a time.
    pub(crate) fn each_of_key(dest: &Destination, f: &mut impl FnMut(DestAttr)) {
        f(DestAttr::AddrFamily(dest.family.number()));
        f(DestAttr::Addr(addr_to_wire(&dest.addr)));
        f(DestAttr::Port(dest.port));
    }

    /// [`DestAttr::from_destination`], one attribute at a time.
    pub(crate) fn each_of_destination(dest: &Destination, f: &mut impl FnMut(DestAttr)) {
        let tunnel = match dest.forwarding {
            Forwarding::Tunnel(t) => t,
            _ => Tunnel::default(),
        };
        DestAttr::each_of_key(dest, f);
        f(DestAttr::FwdMethod(dest.forwarding.method()));
        f(DestAttr::Weight(dest.weight));
        f(DestAttr::TunType(tunnel.kind.number()));
        f(DestAttr::TunPort(tunnel.port.unwrap_or(0)));
        f(DestAttr::TunFlags(tunnel.flags.bits()));
        f(DestAttr::UThresh(dest.upper_threshold));
        f(DestAttr::LThresh(dest.lower_threshold));
    }

    /// The destination described by `attrs`, as the kernel reports it for a service of
    /// `service_family` (the default when the kernel does not report the destination's own).
    pub fn to_destination(
        attrs: &[DestAttr],
        service_family: AddressFamily,
    ) -> Result<Destination, DecodeError> {
        let mut f = DestFields::new(service_family);
        for attr in attrs {
            let d = &mut f.dest;
            match attr {
                DestAttr::Addr(v) => f.addr = Some(*v),
                DestAttr::Port(v) => f.port = Some(*v),
                DestAttr::FwdMethod(v) => f.method = Some(*v),
                DestAttr::Weight(v) => d.weight = *v,
                DestAttr::UThresh(v) => d.upper_threshold = *v,
                DestAttr::LThresh(v) => d.lower_threshold = *v,
                DestAttr::ActiveConns(v) => d.active_conns = *v,
                DestAttr::InactConns(v) => d.inactive_conns = *v,
                DestAttr::PersistConns(v) => d.persist_conns = *v,
                DestAttr::Stats(v) => f.stats32 = Some(StatsAttr::to_stats(v)),
                DestAttr::AddrFamily(v) => f.family = AddressFamily::from(*v),
                DestAttr::Stats64(v) => f.stats64 = Some(StatsAttr::to_stats(v)),
                DestAttr::TunType(v) => f.tunnel.kind = TunnelType::from(*v),
                DestAttr::TunPort(v) => f.tunnel.port = (*v != 0).then_some(*v),
                DestAttr::TunFlags(v) => f.tunnel.flags = TunnelFlags::from_bits_retain(*v),
                DestAttr::Other(_) => {}
            }
        }
        f.finish()
    }
}

/// What a destination's attributes say, gathered from an attribute list or straight from the
/// bytes of a dump entry (see `entry.rs`), before the destination is assembled. The plain
/// fields go straight into `dest`.
pub(crate) struct DestFields {
    pub(crate) dest: Destination,
    pub(crate) addr: Option<[u8; 16]>,
    pub(crate) port: Option<u16>,
    pub(crate) method: Option<u32>,
    pub(crate) family: AddressFamily,
    pub(crate) tunnel: Tunnel,
    pub(crate) stats32: Option<Stats>,
    pub(crate) stats64: Option<Stats>,
}

impl DestFields {
    /// Nothing yet, for a service of `service_family` (the destination's family unless the
    /// kernel reports its own).
    pub(crate) fn new(service_family: AddressFamily) -> Self {
        DestFields {
            dest: Destination::new(std::net::Ipv4Addr::UNSPECIFIED, 0),
            addr: None,
            port: None,
            method: None,
            family: service_family,
            tunnel: Tunnel::default(),
            stats32: None,
            stats64: None,
        }
    }

    /// The destination, or what it lacks.
    pub(crate) fn finish(self) -> Result<Destination, DecodeError> {
        let mut d = self.dest;
        let addr = self
            .addr
            .ok_or_else(|| DecodeError::from("destination without address"))?;
        d.addr = addr_from_wire(&addr, self.family)?;
        d.family = self.family;
        d.port = self
            .port
            .ok_or_else(|| DecodeError::from("destination without port"))?;
        d.forwarding = forwarding_from_wire(self.method, self.tunnel)?;
        d.stats = self.stats64.or(self.stats32).unwrap_or_default();
        Ok(d)
    }
}

/// The forwarding method of a `FWD_METHOD` value (none means the kernel's default, Route),
/// with the tunnel attributes that apply when it is a tunnel.
pub(crate) fn forwarding_from_wire(
    method: Option<u32>,
    tunnel: Tunnel,
) -> Result<Forwarding, DecodeError> {
    Ok(match method {
        Some(0) => Forwarding::Masq,
        Some(1) => Forwarding::Local,
        Some(2) => Forwarding::Tunnel(tunnel),
        Some(3) | None => Forwarding::Route,
        Some(4) => Forwarding::Bypass,
        Some(other) => {
            return Err(DecodeError::from(format!(
                "unknown forwarding method {other}"
            )))
        }
    })
}

impl Nla for DestAttr {
    fn value_len(&self) -> usize {
        match self {
            DestAttr::Addr(_) => 16,
            DestAttr::Port(_) | DestAttr::AddrFamily(_) | DestAttr::TunPort(_) => 2,
            DestAttr::TunFlags(_) => 2,
            DestAttr::TunType(_) => 1,
            DestAttr::FwdMethod(_)
            | DestAttr::Weight(_)
            | DestAttr::UThresh(_)
            | DestAttr::LThresh(_)
            | DestAttr::ActiveConns(_)
            | DestAttr::InactConns(_)
            | DestAttr::PersistConns(_) => 4,
            DestAttr::Stats(s) | DestAttr::Stats64(s) => nested_len(s),
            DestAttr::Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            DestAttr::Addr(_) => ADDR,
            DestAttr::Port(_) => PORT,
            DestAttr::FwdMethod(_) => FWD_METHOD,
            DestAttr::Weight(_) => WEIGHT,
            DestAttr::UThresh(_) => U_THRESH,
            DestAttr::LThresh(_) => L_THRESH,
            DestAttr::ActiveConns(_) => ACTIVE_CONNS,
            DestAttr::InactConns(_) => INACT_CONNS,
            DestAttr::PersistConns(_) => PERSIST_CONNS,
            DestAttr::Stats(_) => STATS,
            DestAttr::AddrFamily(_) => ADDR_FAMILY,
            DestAttr::Stats64(_) => STATS64,
            DestAttr::TunType(_) => TUN_TYPE,
            DestAttr::TunPort(_) => TUN_PORT,
            DestAttr::TunFlags(_) => TUN_FLAGS,
            DestAttr::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            DestAttr::Addr(v) => buffer.copy_from_slice(v),
            DestAttr::Port(v) | DestAttr::TunPort(v) => buffer.copy_from_slice(&v.to_be_bytes()),
            DestAttr::AddrFamily(v) | DestAttr::TunFlags(v) => {
                buffer.copy_from_slice(&v.to_ne_bytes())
            }
            DestAttr::TunType(v) => buffer[0] = *v,
            DestAttr::Weight(v) => buffer.copy_from_slice(&v.to_ne_bytes()),
            DestAttr::FwdMethod(v)
            | DestAttr::UThresh(v)
            | DestAttr::LThresh(v)
            | DestAttr::ActiveConns(v)
            | DestAttr::InactConns(v)
            | DestAttr::PersistConns(v) => buffer.copy_from_slice(&v.to_ne_bytes()),
            DestAttr::Stats(s) | DestAttr::Stats64(s) => emit_nested(s, buffer),
            DestAttr::Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for DestAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let p = buf.value();
        let u32_of = |what| fixed(p, what).map(u32::from_ne_bytes);
        Ok(match buf.kind() {
            ADDR => DestAttr::Addr(fixed(p, "destination address")?),
            PORT => DestAttr::Port(u16::from_be_bytes(fixed(p, "destination port")?)),
            FWD_METHOD => DestAttr::FwdMethod(u32_of("forwarding method")?),
            WEIGHT => DestAttr::Weight(i32::from_ne_bytes(fixed(p, "weight")?)),
            U_THRESH => DestAttr::UThresh(u32_of("upper threshold")?),
            L_THRESH => DestAttr::LThresh(u32_of("lower threshold")?),
            ACTIVE_CONNS => DestAttr::ActiveConns(u32_of("active connections")?),
            INACT_CONNS => DestAttr::InactConns(u32_of("inactive connections")?),
            PERSIST_CONNS => DestAttr::PersistConns(u32_of("persistent connections")?),
            STATS => DestAttr::Stats(parse_nested(p)?),
            ADDR_FAMILY => DestAttr::AddrFamily(u16::from_ne_bytes(fixed(p, "family")?)),
            STATS64 => DestAttr::Stats64(parse_nested(p)?),
            TUN_TYPE => DestAttr::TunType(fixed::<1>(p, "tunnel type")?[0]),
            TUN_PORT => DestAttr::TunPort(u16::from_be_bytes(fixed(p, "tunnel port")?)),
            TUN_FLAGS => DestAttr::TunFlags(u16::from_ne_bytes(fixed(p, "tunnel flags")?)),
            _ => DestAttr::Other(DefaultNla::parse(buf)?),
        })
    }
}
