//! IPVS generic-netlink commands (`IPVS_CMD_*`).

use std::fmt;

/// A command of the IPVS family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IpvsCmd {
    /// Add a service (1); also the type of each service in a dump.
    NewService,
    /// Edit a service (2).
    SetService,
    /// Delete a service (3).
    DelService,
    /// Get one service, or dump all (4).
    GetService,
    /// Add a destination (5); also the type of each destination in a dump.
    NewDest,
    /// Edit a destination (6).
    SetDest,
    /// Delete a destination (7).
    DelDest,
    /// Dump a service's destinations (8).
    GetDest,
    /// Start a sync daemon (9); also the type of each daemon in a dump.
    NewDaemon,
    /// Stop a sync daemon (10).
    DelDaemon,
    /// Dump the sync daemons (11).
    GetDaemon,
    /// Set timeouts (12); also the type of the reply to [`GetConfig`](Self::GetConfig).
    SetConfig,
    /// Get timeouts (13).
    GetConfig,
    /// The type of the reply to [`GetInfo`](Self::GetInfo) (14).
    SetInfo,
    /// Get version and table size (15).
    GetInfo,
    /// Zero counters of one or every service (16).
    Zero,
    /// Delete every service (17).
    Flush,
    /// A command number this library does not know.
    Other(u8),
}

const TABLE: [IpvsCmd; 17] = [
    IpvsCmd::NewService,
    IpvsCmd::SetService,
    IpvsCmd::DelService,
    IpvsCmd::GetService,
    IpvsCmd::NewDest,
    IpvsCmd::SetDest,
    IpvsCmd::DelDest,
    IpvsCmd::GetDest,
    IpvsCmd::NewDaemon,
    IpvsCmd::DelDaemon,
    IpvsCmd::GetDaemon,
    IpvsCmd::SetConfig,
    IpvsCmd::GetConfig,
    IpvsCmd::SetInfo,
    IpvsCmd::GetInfo,
    IpvsCmd::Zero,
    IpvsCmd::Flush,
];

impl From<u8> for IpvsCmd {
    fn from(n: u8) -> Self {
        match n {
            1..=17 => TABLE[usize::from(n) - 1],
            n => IpvsCmd::Other(n),
        }
    }
}

impl From<IpvsCmd> for u8 {
    fn from(cmd: IpvsCmd) -> Self {
        match cmd {
            IpvsCmd::Other(n) => n,
            known => TABLE
                .iter()
                .position(|c| *c == known)
                .map_or(0, |i| i as u8 + 1),
        }
    }
}

/// What the command does, in words (`add real server`, `start sync daemon`), for messages.
impl fmt::Display for IpvsCmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words = match self {
            IpvsCmd::NewService => "add service",
            IpvsCmd::SetService => "edit service",
            IpvsCmd::DelService => "delete service",
            IpvsCmd::GetService => "get services",
            IpvsCmd::NewDest => "add real server",
            IpvsCmd::SetDest => "edit real server",
            IpvsCmd::DelDest => "delete real server",
            IpvsCmd::GetDest => "get real servers",
            IpvsCmd::NewDaemon => "start sync daemon",
            IpvsCmd::DelDaemon => "stop sync daemon",
            IpvsCmd::GetDaemon => "get sync daemons",
            IpvsCmd::SetConfig => "set timeouts",
            IpvsCmd::GetConfig => "get timeouts",
            IpvsCmd::SetInfo => "info reply",
            IpvsCmd::GetInfo => "get info",
            IpvsCmd::Zero => "zero counters",
            IpvsCmd::Flush => "flush",
            IpvsCmd::Other(n) => return write!(f, "IPVS command {n}"),
        };
        f.write_str(words)
    }
}
