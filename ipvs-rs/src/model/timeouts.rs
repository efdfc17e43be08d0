//! Connection timeouts.

/// IPVS connection timeouts in seconds (`ipvsadm --set tcp tcpfin udp`).
///
/// On [`Handle::set_timeouts`](crate::Handle::set_timeouts) a value of 0 leaves that timeout
/// unchanged.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct Timeouts {
    /// Established TCP connections.
    pub tcp: u32,
    /// TCP connections after a FIN.
    pub tcp_fin: u32,
    /// UDP flows.
    pub udp: u32,
}

impl Timeouts {
    /// Timeouts of `tcp`, `tcp_fin` and `udp` seconds (0: unchanged on a write).
    pub fn new(tcp: u32, tcp_fin: u32, udp: u32) -> Self {
        Timeouts { tcp, tcp_fin, udp }
    }
}
