//! Traffic counters and rates.

/// Counters and rate estimates of a service or destination.
///
/// Read from the kernel's 64-bit statistics when it reports them (Linux 4.1 and later),
/// otherwise from the 32-bit ones.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct Stats {
    /// Connections scheduled.
    pub conns: u64,
    /// Packets received.
    pub in_pkts: u64,
    /// Packets sent.
    pub out_pkts: u64,
    /// Bytes received.
    pub in_bytes: u64,
    /// Bytes sent.
    pub out_bytes: u64,
    /// Connections per second (estimated).
    pub cps: u64,
    /// Incoming packets per second (estimated).
    pub in_pps: u64,
    /// Outgoing packets per second (estimated).
    pub out_pps: u64,
    /// Incoming bytes per second (estimated).
    pub in_bps: u64,
    /// Outgoing bytes per second (estimated).
    pub out_bps: u64,
}
