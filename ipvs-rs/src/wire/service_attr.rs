//! The service attribute set (`IPVS_SVC_ATTR_*`), nested in `IPVS_CMD_ATTR_SERVICE`.

use netlink_packet_core::{DecodeError, DefaultNla, Nla, NlaBuffer, Parseable};

use super::addr::{addr_from_wire, addr_to_wire};
use super::nested::{emit_nested, emit_nul_string, fixed, nested_len, nul_string, parse_nested};
use super::StatsAttr;
use crate::{
    AddressFamily, Netmask, Protocol, Scheduler, Service, ServiceFlags, ServiceKey, Stats,
};

pub(crate) const AF: u16 = 1;
pub(crate) const PROTOCOL: u16 = 2;
pub(crate) const ADDR: u16 = 3;
pub(crate) const PORT: u16 = 4;
pub(crate) const FWMARK: u16 = 5;
pub(crate) const SCHED_NAME: u16 = 6;
pub(crate) const FLAGS: u16 = 7;
pub(crate) const TIMEOUT: u16 = 8;
pub(crate) const NETMASK: u16 = 9;
pub(crate) const STATS: u16 = 10;
pub(crate) const PE_NAME: u16 = 11;
pub(crate) const STATS64: u16 = 12;

/// The `struct ip_vs_flags` pair: the kernel sets the bits of `flags` selected by `mask`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlagsMask {
    /// Flag values.
    pub flags: u32,
    /// Which flags to change.
    pub mask: u32,
}

/// One attribute of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceAttr {
    /// Address family (`AF_INET`, `AF_INET6`).
    Af(u16),
    /// IP protocol number.
    Protocol(u16),
    /// Virtual address, 16 bytes (IPv4 in the first 4).
    Addr([u8; 16]),
    /// Virtual port (host order here, network order on the wire).
    Port(u16),
    /// Firewall mark.
    Fwmark(u32),
    /// Scheduler name.
    SchedName(String),
    /// Flags and the mask of flags to change.
    Flags(FlagsMask),
    /// Persistence timeout in seconds.
    Timeout(u32),
    /// Netmask as the kernel's raw 32-bit value (big-endian mask for IPv4, prefix length for
    /// IPv6).
    Netmask(u32),
    /// 32-bit statistics.
    Stats(Vec<StatsAttr>),
    /// Persistence engine name.
    PeName(String),
    /// 64-bit statistics.
    Stats64(Vec<StatsAttr>),
    /// An attribute this library does not know, kept as is.
    Other(DefaultNla),
}

impl ServiceAttr {
    /// The attributes identifying `key` (family, then fwmark or protocol, address and port).
    pub fn from_key(key: &ServiceKey) -> Vec<ServiceAttr> {
        let mut attrs = Vec::with_capacity(4);
        ServiceAttr::each_of_key(key, &mut |a| attrs.push(a));
        attrs
    }

    /// The attribute set ipvsadm sends to name an existing service in destination, delete and
    /// zero requests: the key, an empty scheduler name, no flags (mask all ones), timeout 0
    /// and a host netmask.
    pub fn from_reference(key: &ServiceKey) -> Vec<ServiceAttr> {
        let mut attrs = Vec::with_capacity(8);
        ServiceAttr::each_of_reference(key, &mut |a| attrs.push(a));
        attrs
    }

    /// The complete attribute set ipvsadm sends for `svc`, in ipvsadm's order; the flag mask
    /// is all ones, so every flag is replaced.
    pub fn from_service(svc: &Service) -> Vec<ServiceAttr> {
        let mut attrs = Vec::with_capacity(9);
        ServiceAttr::each_of_service(svc, &mut |a| attrs.push(a));
        attrs
    }

    /// [`ServiceAttr::from_key`], one attribute at a time.
    pub(crate) fn each_of_key(key: &ServiceKey, f: &mut impl FnMut(ServiceAttr)) {
        f(ServiceAttr::Af(key.family().number()));
        match key {
            ServiceKey::Fwmark { mark, .. } => f(ServiceAttr::Fwmark(*mark)),
            ServiceKey::Inet {
                protocol,
                addr,
                port,
            } => {
                f(ServiceAttr::Protocol(protocol.number()));
                f(ServiceAttr::Addr(addr_to_wire(addr)));
                f(ServiceAttr::Port(*port));
            }
        }
    }

    /// [`ServiceAttr::from_reference`], one attribute at a time.
    pub(crate) fn each_of_reference(key: &ServiceKey, f: &mut impl FnMut(ServiceAttr)) {
        ServiceAttr::each_of_key(key, f);
        f(ServiceAttr::SchedName(String::new()));
        f(ServiceAttr::Flags(FlagsMask { flags: 0, mask: !0 }));
        f(ServiceAttr::Timeout(0));
        f(ServiceAttr::Netmask(Netmask::host(key.family()).to_raw()));
    }

    /// [`ServiceAttr::from_service`], one attribute at a time.
    pub(crate) fn each_of_service(svc: &Service, f: &mut impl FnMut(ServiceAttr)) {
        ServiceAttr::each_of_key(&svc.key, f);
        f(ServiceAttr::SchedName(svc.scheduler.name().to_owned()));
        if let Some(pe) = &svc.pe_name {
            f(ServiceAttr::PeName(pe.clone()));
        }
        f(ServiceAttr::Flags(FlagsMask {
            flags: svc.flags.bits(),
            mask: !0,
        }));
        f(ServiceAttr::Timeout(svc.timeout));
        f(ServiceAttr::Netmask(svc.netmask.to_raw()));
    }

    /// The service described by `attrs`, as the kernel reports it.
    ///
    /// Statistics come from `STATS64` when present, else from `STATS`. Unknown attributes are
    /// ignored; a missing identity (family, fwmark or protocol/address/port) is an error.
    pub fn to_service(attrs: &[ServiceAttr]) -> Result<Service, DecodeError> {
        let mut f = ServiceFields::default();
        for attr in attrs {
            match attr {
                ServiceAttr::Af(v) => f.af = Some(AddressFamily::from(*v)),
                ServiceAttr::Protocol(v) => f.protocol = Some(Protocol::from(*v)),
                ServiceAttr::Addr(v) => f.addr = Some(*v),
                ServiceAttr::Port(v) => f.port = Some(*v),
                ServiceAttr::Fwmark(v) => f.fwmark = Some(*v),
                ServiceAttr::SchedName(v) => f.scheduler = Some(Scheduler::from_name(v)),
                ServiceAttr::Flags(v) => f.flags = v.flags & v.mask,
                ServiceAttr::Timeout(v) => f.timeout = *v,
                ServiceAttr::Netmask(v) => f.netmask = Some(*v),
                ServiceAttr::Stats(v) => f.stats32 = Some(StatsAttr::to_stats(v)),
                ServiceAttr::PeName(v) => f.pe_name = Some(v.clone()),
                ServiceAttr::Stats64(v) => f.stats64 = Some(StatsAttr::to_stats(v)),
                ServiceAttr::Other(_) => {}
            }
        }
        f.finish()
    }
}

/// What a service's attributes say, gathered from an attribute list or straight from the
/// bytes of a dump entry (see `entry.rs`), before the service is assembled.
#[derive(Default)]
pub(crate) struct ServiceFields {
    pub(crate) af: Option<AddressFamily>,
    pub(crate) protocol: Option<Protocol>,
    pub(crate) addr: Option<[u8; 16]>,
    pub(crate) port: Option<u16>,
    pub(crate) fwmark: Option<u32>,
    pub(crate) scheduler: Option<Scheduler>,
    pub(crate) flags: u32,
    pub(crate) timeout: u32,
    pub(crate) netmask: Option<u32>,
    pub(crate) pe_name: Option<String>,
    pub(crate) stats32: Option<Stats>,
    pub(crate) stats64: Option<Stats>,
}

impl ServiceFields {
    /// The service, or what its identity lacks.
    pub(crate) fn finish(self) -> Result<Service, DecodeError> {
        let family = self
            .af
            .ok_or_else(|| DecodeError::from("service without address family"))?;
        let key = match (self.fwmark, self.protocol, self.addr, self.port) {
            (Some(mark), ..) if mark != 0 || self.protocol.is_none() => {
                ServiceKey::Fwmark { mark, family }
            }
            (_, Some(protocol), Some(addr), Some(port)) => ServiceKey::Inet {
                protocol,
                addr: addr_from_wire(&addr, family)?,
                port,
            },
            _ => return Err(DecodeError::from("service without fwmark or address")),
        };
        Ok(Service {
            netmask: self
                .netmask
                .map_or(Netmask::host(family), |raw| Netmask::from_raw(raw, family)),
            key,
            scheduler: self.scheduler.unwrap_or(Scheduler::Other(String::new())),
            flags: ServiceFlags::from_bits_retain(self.flags),
            timeout: self.timeout,
            pe_name: self.pe_name,
            stats: self.stats64.or(self.stats32).unwrap_or_default(),
        })
    }
}

impl Nla for ServiceAttr {
    fn value_len(&self) -> usize {
        match self {
            ServiceAttr::Af(_) | ServiceAttr::Protocol(_) | ServiceAttr::Port(_) => 2,
            ServiceAttr::Fwmark(_) | ServiceAttr::Timeout(_) | ServiceAttr::Netmask(_) => 4,
            ServiceAttr::Addr(_) => 16,
            ServiceAttr::Flags(_) => 8,
            ServiceAttr::SchedName(s) | ServiceAttr::PeName(s) => s.len() + 1,
            ServiceAttr::Stats(s) | ServiceAttr::Stats64(s) => nested_len(s),
            ServiceAttr::Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            ServiceAttr::Af(_) => AF,
            ServiceAttr::Protocol(_) => PROTOCOL,
            ServiceAttr::Addr(_) => ADDR,
            ServiceAttr::Port(_) => PORT,
            ServiceAttr::Fwmark(_) => FWMARK,
            ServiceAttr::SchedName(_) => SCHED_NAME,
            ServiceAttr::Flags(_) => FLAGS,
            ServiceAttr::Timeout(_) => TIMEOUT,
            ServiceAttr::Netmask(_) => NETMASK,
            ServiceAttr::Stats(_) => STATS,
            ServiceAttr::PeName(_) => PE_NAME,
            ServiceAttr::Stats64(_) => STATS64,
            ServiceAttr::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            ServiceAttr::Af(v) | ServiceAttr::Protocol(v) => {
                buffer.copy_from_slice(&v.to_ne_bytes())
            }
            ServiceAttr::Port(v) => buffer.copy_from_slice(&v.to_be_bytes()),
            ServiceAttr::Fwmark(v) | ServiceAttr::Timeout(v) | ServiceAttr::Netmask(v) => {
                buffer.copy_from_slice(&v.to_ne_bytes())
            }
            ServiceAttr::Addr(v) => buffer.copy_from_slice(v),
            ServiceAttr::Flags(f) => {
                buffer[..4].copy_from_slice(&f.flags.to_ne_bytes());
                buffer[4..].copy_from_slice(&f.mask.to_ne_bytes());
            }
            ServiceAttr::SchedName(s) | ServiceAttr::PeName(s) => emit_nul_string(s, buffer),
            ServiceAttr::Stats(s) | ServiceAttr::Stats64(s) => emit_nested(s, buffer),
            ServiceAttr::Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for ServiceAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let p = buf.value();
        Ok(match buf.kind() {
            AF => ServiceAttr::Af(u16::from_ne_bytes(fixed(p, "service family")?)),
            PROTOCOL => ServiceAttr::Protocol(u16::from_ne_bytes(fixed(p, "service protocol")?)),
            ADDR => ServiceAttr::Addr(fixed(p, "service address")?),
            PORT => ServiceAttr::Port(u16::from_be_bytes(fixed(p, "service port")?)),
            FWMARK => ServiceAttr::Fwmark(u32::from_ne_bytes(fixed(p, "service fwmark")?)),
            SCHED_NAME => ServiceAttr::SchedName(nul_string(p, "scheduler name")?),
            FLAGS => {
                let raw: [u8; 8] = fixed(p, "service flags")?;
                ServiceAttr::Flags(FlagsMask {
                    flags: u32::from_ne_bytes(fixed(&raw[..4], "service flags")?),
                    mask: u32::from_ne_bytes(fixed(&raw[4..], "service flag mask")?),
                })
            }
            TIMEOUT => ServiceAttr::Timeout(u32::from_ne_bytes(fixed(p, "service timeout")?)),
            NETMASK => ServiceAttr::Netmask(u32::from_ne_bytes(fixed(p, "service netmask")?)),
            STATS => ServiceAttr::Stats(parse_nested(p)?),
            PE_NAME => ServiceAttr::PeName(nul_string(p, "persistence engine name")?),
            STATS64 => ServiceAttr::Stats64(parse_nested(p)?),
            _ => ServiceAttr::Other(DefaultNla::parse(buf)?),
        })
    }
}
