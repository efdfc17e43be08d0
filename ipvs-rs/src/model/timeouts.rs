//! Connection timeouts.

/// IPVS connection timeouts in seconds (`ipvsadm --set tcp tcpfin udp`).
///
/// On [`Handle::set_timeouts`](crate::Handle::set_timeouts) a value of 0 leaves that timeout
/// unchanged.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Timeouts {
    /// Established TCP connections.
    pub tcp: u32,
    /// TCP connections after a FIN.
    pub tcp_fin: u32,
    /// UDP flows.
    pub udp: u32,
}
