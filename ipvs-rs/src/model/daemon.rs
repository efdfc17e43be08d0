//! Connection synchronisation daemons.

use std::net::IpAddr;

use bitflags::bitflags;

bitflags! {
    /// The role of a sync daemon (`IP_VS_STATE_*`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct DaemonState: u32 {
        /// Sends connection state (`--start-daemon master`).
        const MASTER = 0x1;
        /// Receives connection state (`--start-daemon backup`).
        const BACKUP = 0x2;

        // Bits a newer kernel may report are kept rather than dropped.
        const _ = !0;
    }
}

/// A connection synchronisation daemon, as started by `ipvsadm --start-daemon`.
///
/// The optional fields need Linux 4.3 or later; `None` leaves them to the kernel's defaults.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Daemon {
    /// Master or backup.
    pub state: DaemonState,
    /// The multicast interface (`--mcast-interface`).
    pub interface: String,
    /// The sync id (`--syncid`, 0 to 255; ipvsadm's default is 0).
    #[cfg_attr(feature = "serde", serde(default))]
    pub sync_id: u8,
    /// The maximum sync message payload (`--sync-maxlen`).
    #[cfg_attr(feature = "serde", serde(default))]
    pub sync_maxlen: Option<u16>,
    /// The multicast group (`--mcast-group`), IPv4 or IPv6.
    #[cfg_attr(feature = "serde", serde(default))]
    pub mcast_group: Option<IpAddr>,
    /// The multicast UDP port (`--mcast-port`).
    #[cfg_attr(feature = "serde", serde(default))]
    pub mcast_port: Option<u16>,
    /// The multicast TTL (`--mcast-ttl`).
    #[cfg_attr(feature = "serde", serde(default))]
    pub mcast_ttl: Option<u8>,
}

impl Daemon {
    /// A daemon of the given role on `interface`, sync id 0 and the kernel's defaults.
    pub fn new(state: DaemonState, interface: impl Into<String>) -> Self {
        Daemon {
            state,
            interface: interface.into(),
            sync_id: 0,
            sync_maxlen: None,
            mcast_group: None,
            mcast_port: None,
            mcast_ttl: None,
        }
    }
}
