//! What one ipvsadm command line asks for, in ipvsadm's own terms.
//!
//! The fields keep ipvsadm's raw representation (address family numbers, flag bits,
//! 16-byte addresses) because its checks and defaults are defined on them; conversion to
//! the ipvs-rs model happens only when talking to the kernel.

use crate::resolve::{AF_INET, IPPROTO_TCP};

/// The command, in ipvsadm's order (its tables are indexed by it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Command {
    /// No command seen yet.
    #[default]
    None,
    /// `-A`
    Add,
    /// `-E`
    Edit,
    /// `-D`
    Delete,
    /// `-C`
    Flush,
    /// `-L`
    List,
    /// `-a`
    AddDest,
    /// `-d`
    DeleteDest,
    /// `-e`
    EditDest,
    /// `--set`
    Timeout,
    /// `--start-daemon`
    StartDaemon,
    /// `--stop-daemon`
    StopDaemon,
    /// `-R`
    Restore,
    /// `-S`
    Save,
    /// `-Z`
    Zero,
}

impl Command {
    /// The row of ipvsadm's command/option table, `None` for no command.
    pub fn index(self) -> Option<usize> {
        // The variants after `None` are declared in the table's row order.
        (self as usize).checked_sub(1)
    }

    /// The name ipvsadm uses in its messages.
    pub fn name(self) -> &'static str {
        const NAMES: [&str; 14] = [
            "add-service",
            "edit-service",
            "delete-service",
            "flush",
            "list",
            "add-server",
            "delete-server",
            "edit-server",
            "set",
            "start-daemon",
            "stop-daemon",
            "restore",
            "save",
            "zero",
        ];
        self.index().map_or("", |i| NAMES[i])
    }
}

/// Service flag: persistent.
pub const SVC_F_PERSISTENT: u32 = 0x0001;
/// Service flag: one-packet scheduling.
pub const SVC_F_ONEPACKET: u32 = 0x0004;
/// Service flag: scheduler flag 1 (sh-fallback, mh-fallback).
pub const SVC_F_SCHED1: u32 = 0x0008;
/// Service flag: scheduler flag 2 (sh-port, mh-port).
pub const SVC_F_SCHED2: u32 = 0x0010;
/// Service flag: scheduler flag 3.
pub const SVC_F_SCHED3: u32 = 0x0020;
/// All scheduler flags.
pub const SVC_F_SCHED_ALL: u32 = SVC_F_SCHED1 | SVC_F_SCHED2 | SVC_F_SCHED3;

/// Forwarding method: masquerading.
pub const FWD_MASQ: u32 = 0;
/// Forwarding method: local node.
pub const FWD_LOCAL: u32 = 1;
/// Forwarding method: tunnel.
pub const FWD_TUNNEL: u32 = 2;
/// Forwarding method: direct routing.
pub const FWD_ROUTE: u32 = 3;
/// The bits of the connection flags that hold the forwarding method.
pub const FWD_MASK: u32 = 7;

/// The persistence timeout `-p` gives without a value.
pub const DEFAULT_PERSISTENT_TIMEOUT: u32 = 360;
/// The scheduler of `-A`/`-E` without `-s`.
pub const DEFAULT_SCHEDULER: &str = "wlc";
/// The interface of `--start-daemon` without `--mcast-interface`.
pub const DEFAULT_MCAST_IFN: &str = "eth0";

/// Sync daemon state: master.
pub const DAEMON_MASTER: u32 = 1;
/// Sync daemon state: backup.
pub const DAEMON_BACKUP: u32 = 2;

/// A virtual service as ipvsadm holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Address family (0 until an address or fwmark is given).
    pub af: u16,
    /// IP protocol number (0 until `-t`/`-u`/`--sctp-service`/`-f`).
    pub protocol: u16,
    /// Address, IPv4 in the first 4 bytes.
    pub addr: [u8; 16],
    /// Port, host order.
    pub port: u16,
    /// Firewall mark, 0 for none.
    pub fwmark: u32,
    /// Scheduler name (at most 15 bytes, as ipvsadm truncates).
    pub sched_name: String,
    /// Persistence engine name.
    pub pe_name: String,
    /// Service flags.
    pub flags: u32,
    /// Persistence timeout in seconds.
    pub timeout: u32,
    /// IPv4 netmask as a network-order value in host memory, or an IPv6 prefix length.
    pub netmask: u32,
}

impl Default for Service {
    fn default() -> Self {
        Service {
            af: 0,
            protocol: 0,
            addr: [0; 16],
            port: 0,
            fwmark: 0,
            sched_name: String::new(),
            pe_name: String::new(),
            flags: 0,
            timeout: 0,
            netmask: 0xffff_ffff,
        }
    }
}

impl Service {
    /// Makes this a firewall-mark service the way `-f` does.
    pub fn set_fwmark(&mut self, fwmark: u32) {
        self.af = AF_INET;
        self.protocol = IPPROTO_TCP;
        self.fwmark = fwmark;
    }
}

/// A real server as ipvsadm holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dest {
    /// Address family.
    pub af: u16,
    /// Address, IPv4 in the first 4 bytes.
    pub addr: [u8; 16],
    /// Port, host order.
    pub port: u16,
    /// Forwarding method.
    pub fwd: u32,
    /// Weight.
    pub weight: i32,
    /// Upper connection threshold.
    pub u_threshold: u32,
    /// Lower connection threshold.
    pub l_threshold: u32,
    /// Tunnel type: 0 ipip, 1 gue, 2 gre.
    pub tun_type: u8,
    /// Tunnel port, host order.
    pub tun_port: u16,
    /// Tunnel checksum flags: 0 none, 1 csum, 2 remcsum.
    pub tun_flags: u16,
}

impl Default for Dest {
    fn default() -> Self {
        Dest {
            af: 0,
            addr: [0; 16],
            port: 0,
            fwd: FWD_ROUTE,
            weight: 1,
            u_threshold: 0,
            l_threshold: 0,
            tun_type: 0,
            tun_port: 0,
            tun_flags: 0,
        }
    }
}

/// A sync daemon request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Daemon {
    /// Master or backup.
    pub state: u32,
    /// Multicast interface (at most 15 bytes).
    pub mcast_ifn: String,
    /// Sync id.
    pub syncid: u32,
    /// Maximum sync message length, 0 for the kernel's default.
    pub sync_maxlen: u16,
    /// Family of the multicast group, 0 for the kernel's default.
    pub mcast_af: u16,
    /// Multicast group, IPv4 in the first 4 bytes.
    pub mcast_group: [u8; 16],
    /// Multicast port, 0 for the default.
    pub mcast_port: u16,
    /// Multicast TTL, 0 for the default.
    pub mcast_ttl: u8,
}

/// `--set` values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP established timeout.
    pub tcp: u32,
    /// TCP FIN_WAIT timeout.
    pub tcp_fin: u32,
    /// UDP timeout.
    pub udp: u32,
}

/// Everything one command line says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    /// The command.
    pub cmd: Command,
    /// The virtual service.
    pub svc: Service,
    /// The real server.
    pub dest: Dest,
    /// Timeout values.
    pub timeouts: Timeouts,
    /// Sync daemon parameters.
    pub daemon: Daemon,
}

#[cfg(test)]
mod tests {
    use super::Command;

    #[test]
    fn command_rows_follow_ipvsadm_table_order() {
        assert_eq!(Command::None.index(), None);
        assert_eq!(Command::Add.index(), Some(0));
        assert_eq!(Command::List.name(), "list");
        assert_eq!(Command::Zero.index(), Some(13));
        assert_eq!(Command::Zero.name(), "zero");
    }
}
