//! The statistics attribute set (`IPVS_STATS_ATTR_*`).

use netlink_packet_core::{DecodeError, DefaultNla, Nla, NlaBuffer, Parseable};

use super::nested::fixed;
use crate::Stats;

pub(crate) const CONNS: u16 = 1;
pub(crate) const INPKTS: u16 = 2;
pub(crate) const OUTPKTS: u16 = 3;
pub(crate) const INBYTES: u16 = 4;
pub(crate) const OUTBYTES: u16 = 5;
pub(crate) const CPS: u16 = 6;
pub(crate) const INPPS: u16 = 7;
pub(crate) const OUTPPS: u16 = 8;
pub(crate) const INBPS: u16 = 9;
pub(crate) const OUTBPS: u16 = 10;

/// A counter as it travels: the 32-bit `STATS` set mixes 32- and 64-bit values, `STATS64`
/// is all 64-bit. The width is kept so a decoded attribute encodes back to the same bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Counter {
    /// A 32-bit value.
    U32(u32),
    /// A 64-bit value.
    U64(u64),
}

impl Counter {
    /// The value, widened.
    pub fn get(self) -> u64 {
        match self {
            Counter::U32(v) => u64::from(v),
            Counter::U64(v) => v,
        }
    }

    fn len(self) -> usize {
        match self {
            Counter::U32(_) => 4,
            Counter::U64(_) => 8,
        }
    }

    fn emit(self, buffer: &mut [u8]) {
        match self {
            Counter::U32(v) => buffer.copy_from_slice(&v.to_ne_bytes()),
            Counter::U64(v) => buffer.copy_from_slice(&v.to_ne_bytes()),
        }
    }

    fn parse(payload: &[u8]) -> Result<Self, DecodeError> {
        match payload.len() {
            4 => Ok(Counter::U32(u32::from_ne_bytes(fixed(
                payload,
                "stats counter",
            )?))),
            _ => Ok(Counter::U64(u64::from_ne_bytes(fixed(
                payload,
                "stats counter",
            )?))),
        }
    }
}

/// One attribute of a nested statistics set (inside `STATS` or `STATS64`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatsAttr {
    /// Connections scheduled.
    Conns(Counter),
    /// Incoming packets.
    InPkts(Counter),
    /// Outgoing packets.
    OutPkts(Counter),
    /// Incoming bytes.
    InBytes(Counter),
    /// Outgoing bytes.
    OutBytes(Counter),
    /// Connection rate.
    Cps(Counter),
    /// Incoming packet rate.
    InPps(Counter),
    /// Outgoing packet rate.
    OutPps(Counter),
    /// Incoming byte rate.
    InBps(Counter),
    /// Outgoing byte rate.
    OutBps(Counter),
    /// Anything else, such as the alignment padding attribute, kept as is.
    Other(DefaultNla),
}

impl StatsAttr {
    fn counter(&self) -> Option<(u16, Counter)> {
        Some(match *self {
            StatsAttr::Conns(c) => (CONNS, c),
            StatsAttr::InPkts(c) => (INPKTS, c),
            StatsAttr::OutPkts(c) => (OUTPKTS, c),
            StatsAttr::InBytes(c) => (INBYTES, c),
            StatsAttr::OutBytes(c) => (OUTBYTES, c),
            StatsAttr::Cps(c) => (CPS, c),
            StatsAttr::InPps(c) => (INPPS, c),
            StatsAttr::OutPps(c) => (OUTPPS, c),
            StatsAttr::InBps(c) => (INBPS, c),
            StatsAttr::OutBps(c) => (OUTBPS, c),
            StatsAttr::Other(_) => return None,
        })
    }

    /// The counters of `attrs` as [`Stats`]; missing counters are 0.
    pub fn to_stats(attrs: &[StatsAttr]) -> Stats {
        let mut s = Stats::default();
        for attr in attrs {
            match *attr {
                StatsAttr::Conns(c) => s.conns = c.get(),
                StatsAttr::InPkts(c) => s.in_pkts = c.get(),
                StatsAttr::OutPkts(c) => s.out_pkts = c.get(),
                StatsAttr::InBytes(c) => s.in_bytes = c.get(),
                StatsAttr::OutBytes(c) => s.out_bytes = c.get(),
                StatsAttr::Cps(c) => s.cps = c.get(),
                StatsAttr::InPps(c) => s.in_pps = c.get(),
                StatsAttr::OutPps(c) => s.out_pps = c.get(),
                StatsAttr::InBps(c) => s.in_bps = c.get(),
                StatsAttr::OutBps(c) => s.out_bps = c.get(),
                StatsAttr::Other(_) => {}
            }
        }
        s
    }

    /// `stats` as a `STATS64` set (every counter 64 bits wide).
    pub fn from_stats64(s: &Stats) -> Vec<StatsAttr> {
        vec![
            StatsAttr::Conns(Counter::U64(s.conns)),
            StatsAttr::InPkts(Counter::U64(s.in_pkts)),
            StatsAttr::OutPkts(Counter::U64(s.out_pkts)),
            StatsAttr::InBytes(Counter::U64(s.in_bytes)),
            StatsAttr::OutBytes(Counter::U64(s.out_bytes)),
            StatsAttr::Cps(Counter::U64(s.cps)),
            StatsAttr::InPps(Counter::U64(s.in_pps)),
            StatsAttr::OutPps(Counter::U64(s.out_pps)),
            StatsAttr::InBps(Counter::U64(s.in_bps)),
            StatsAttr::OutBps(Counter::U64(s.out_bps)),
        ]
    }
}

impl Nla for StatsAttr {
    fn value_len(&self) -> usize {
        match self {
            StatsAttr::Other(nla) => nla.value_len(),
            other => other.counter().map_or(0, |(_, c)| c.len()),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            StatsAttr::Other(nla) => nla.kind(),
            other => other.counter().map_or(0, |(k, _)| k),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            StatsAttr::Other(nla) => nla.emit_value(buffer),
            other => {
                if let Some((_, c)) = other.counter() {
                    c.emit(buffer)
                }
            }
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for StatsAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let payload = buf.value();
        let counter = || Counter::parse(payload);
        Ok(match buf.kind() {
            CONNS => StatsAttr::Conns(counter()?),
            INPKTS => StatsAttr::InPkts(counter()?),
            OUTPKTS => StatsAttr::OutPkts(counter()?),
            INBYTES => StatsAttr::InBytes(counter()?),
            OUTBYTES => StatsAttr::OutBytes(counter()?),
            CPS => StatsAttr::Cps(counter()?),
            INPPS => StatsAttr::InPps(counter()?),
            OUTPPS => StatsAttr::OutPps(counter()?),
            INBPS => StatsAttr::InBps(counter()?),
            OUTBPS => StatsAttr::OutBps(counter()?),
            _ => StatsAttr::Other(DefaultNla::parse(buf)?),
        })
    }
}
