//! The option table: every spelling ipvsadm 1.31 accepts, plus ipvsadm-rs's opt-in extras.
//!
//! One table drives the popt-compatible scanner, the man page and the shell completions,
//! so the three cannot disagree.

/// Whether an option takes an argument, popt style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// A flag.
    None,
    /// Always takes an argument (attached, after `=`, or the next word).
    Required,
    /// Takes the next word only when it does not start with `-` (`-p [timeout]`).
    Optional,
}

/// What an option means to the command-line interpreter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    /// `-A`
    AddService,
    /// `-E`
    EditService,
    /// `-D`
    DeleteService,
    /// `-C`
    Clear,
    /// `-L` and `-l`
    List,
    /// `-Z`
    Zero,
    /// `-a`
    AddServer,
    /// `-e`
    EditServer,
    /// `-d`
    DeleteServer,
    /// `--set`
    Set,
    /// `-h`
    Help,
    /// `-v`
    Version,
    /// `-R`
    Restore,
    /// `-S`
    Save,
    /// `--start-daemon`
    StartDaemon,
    /// `--stop-daemon`
    StopDaemon,
    /// `-t`
    TcpService,
    /// `-u`
    UdpService,
    /// `--sctp-service`
    SctpService,
    /// `-f`
    FwmarkService,
    /// `-s`
    Scheduler,
    /// `-p`
    Persistent,
    /// `-M`
    Netmask,
    /// `-r`
    RealServer,
    /// `-m`
    Masquerading,
    /// `-i`
    Ipip,
    /// `-g`
    Gatewaying,
    /// `-w`
    Weight,
    /// `-x`
    UThreshold,
    /// `-y`
    LThreshold,
    /// `-n`
    Numeric,
    /// `-c`
    Connection,
    /// `--mcast-interface`
    McastInterface,
    /// `--syncid`
    SyncId,
    /// `--timeout`
    Timeout,
    /// `--daemon`
    Daemon,
    /// `--stats`
    Stats,
    /// `--rate`
    Rate,
    /// `--thresholds`
    Thresholds,
    /// `--persistent-conn`
    PersistentConn,
    /// `--nosort`
    NoSort,
    /// `--sort`
    Sort,
    /// `-X`
    Exact,
    /// `-6`
    Ipv6,
    /// `-o`
    Ops,
    /// `--pe`
    Pe,
    /// `-b`
    SchedFlags,
    /// `--mcast-group`
    McastGroup,
    /// `--mcast-port`
    McastPort,
    /// `--mcast-ttl`
    McastTtl,
    /// `--sync-maxlen`
    SyncMaxlen,
    /// `--tun-info`
    TunInfo,
    /// `--tun-type`
    TunType,
    /// `--tun-port`
    TunPort,
    /// `--tun-nocsum`
    TunNocsum,
    /// `--tun-csum`
    TunCsum,
    /// `--tun-remcsum`
    TunRemcsum,
    /// `--json` (ipvsadm-rs only)
    Json,
    /// `--check` (ipvsadm-rs only)
    Check,
    /// `--replace` (ipvsadm-rs only)
    Replace,
}

/// One row of the option table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptSpec {
    /// The long name, without dashes.
    pub long: &'static str,
    /// The short name, if any.
    pub short: Option<char>,
    /// Whether and how it takes an argument.
    pub kind: ArgKind,
    /// What it means.
    pub tag: Tag,
    /// The argument's name in help texts.
    pub value_name: &'static str,
    /// One line of help.
    pub help: &'static str,
}

const fn opt(
    long: &'static str,
    short: Option<char>,
    kind: ArgKind,
    tag: Tag,
    value_name: &'static str,
    help: &'static str,
) -> OptSpec {
    OptSpec {
        long,
        short,
        kind,
        tag,
        value_name,
        help,
    }
}

use ArgKind::{None as Flag, Optional, Required};

/// The table, in ipvsadm's order (which matters: `--list` finds `-L` before `-l`).
pub const OPTIONS: &[OptSpec] = &[
    opt(
        "add-service",
        Some('A'),
        Flag,
        Tag::AddService,
        "",
        "add virtual service with options",
    ),
    opt(
        "edit-service",
        Some('E'),
        Flag,
        Tag::EditService,
        "",
        "edit virtual service with options",
    ),
    opt(
        "delete-service",
        Some('D'),
        Flag,
        Tag::DeleteService,
        "",
        "delete virtual service",
    ),
    opt(
        "clear",
        Some('C'),
        Flag,
        Tag::Clear,
        "",
        "clear the whole table",
    ),
    opt("list", Some('L'), Flag, Tag::List, "", "list the table"),
    opt("list", Some('l'), Flag, Tag::List, "", "list the table"),
    opt(
        "zero",
        Some('Z'),
        Flag,
        Tag::Zero,
        "",
        "zero counters in a service or all services",
    ),
    opt(
        "add-server",
        Some('a'),
        Flag,
        Tag::AddServer,
        "",
        "add real server with options",
    ),
    opt(
        "edit-server",
        Some('e'),
        Flag,
        Tag::EditServer,
        "",
        "edit real server with options",
    ),
    opt(
        "delete-server",
        Some('d'),
        Flag,
        Tag::DeleteServer,
        "",
        "delete real server",
    ),
    opt(
        "set",
        None,
        Flag,
        Tag::Set,
        "",
        "set connection timeout values (tcp tcpfin udp)",
    ),
    opt(
        "help",
        Some('h'),
        Flag,
        Tag::Help,
        "",
        "display the help message",
    ),
    opt(
        "version",
        Some('v'),
        Flag,
        Tag::Version,
        "",
        "display the version",
    ),
    opt(
        "restore",
        Some('R'),
        Flag,
        Tag::Restore,
        "",
        "restore rules from stdin",
    ),
    opt(
        "save",
        Some('S'),
        Flag,
        Tag::Save,
        "",
        "save rules to stdout",
    ),
    opt(
        "start-daemon",
        None,
        Required,
        Tag::StartDaemon,
        "STATE",
        "start connection sync daemon (master|backup)",
    ),
    opt(
        "stop-daemon",
        None,
        Required,
        Tag::StopDaemon,
        "STATE",
        "stop connection sync daemon (master|backup)",
    ),
    opt(
        "tcp-service",
        Some('t'),
        Required,
        Tag::TcpService,
        "SERVICE",
        "TCP virtual service host[:port]",
    ),
    opt(
        "udp-service",
        Some('u'),
        Required,
        Tag::UdpService,
        "SERVICE",
        "UDP virtual service host[:port]",
    ),
    opt(
        "sctp-service",
        None,
        Required,
        Tag::SctpService,
        "SERVICE",
        "SCTP virtual service host[:port]",
    ),
    opt(
        "fwmark-service",
        Some('f'),
        Required,
        Tag::FwmarkService,
        "FWMARK",
        "firewall-mark virtual service (an integer greater than zero)",
    ),
    opt(
        "scheduler",
        Some('s'),
        Required,
        Tag::Scheduler,
        "SCHEDULER",
        "one of rr|wrr|lc|wlc|lblc|lblcr|dh|sh|sed|nq|fo|ovf|mh (default wlc)",
    ),
    opt(
        "persistent",
        Some('p'),
        Optional,
        Tag::Persistent,
        "TIMEOUT",
        "persistent service, timeout in seconds (default 360)",
    ),
    opt(
        "netmask",
        Some('M'),
        Required,
        Tag::Netmask,
        "NETMASK",
        "persistent granularity mask",
    ),
    opt(
        "real-server",
        Some('r'),
        Required,
        Tag::RealServer,
        "SERVER",
        "real server host[:port]",
    ),
    opt(
        "masquerading",
        Some('m'),
        Flag,
        Tag::Masquerading,
        "",
        "masquerading (NAT)",
    ),
    opt(
        "ipip",
        Some('i'),
        Flag,
        Tag::Ipip,
        "",
        "ipip encapsulation (tunneling)",
    ),
    opt(
        "gatewaying",
        Some('g'),
        Flag,
        Tag::Gatewaying,
        "",
        "gatewaying (direct routing) (default)",
    ),
    opt(
        "weight",
        Some('w'),
        Required,
        Tag::Weight,
        "WEIGHT",
        "capacity of real server",
    ),
    opt(
        "u-threshold",
        Some('x'),
        Required,
        Tag::UThreshold,
        "UTHRESHOLD",
        "upper threshold of connections",
    ),
    opt(
        "l-threshold",
        Some('y'),
        Required,
        Tag::LThreshold,
        "LTHRESHOLD",
        "lower threshold of connections",
    ),
    opt(
        "numeric",
        Some('n'),
        Flag,
        Tag::Numeric,
        "",
        "numeric output of addresses and ports",
    ),
    opt(
        "connection",
        Some('c'),
        Flag,
        Tag::Connection,
        "",
        "output of current IPVS connections",
    ),
    opt(
        "mcast-interface",
        None,
        Required,
        Tag::McastInterface,
        "INTERFACE",
        "multicast interface for connection sync",
    ),
    opt(
        "syncid",
        None,
        Required,
        Tag::SyncId,
        "SID",
        "syncid for connection sync (default 0)",
    ),
    opt(
        "timeout",
        None,
        Flag,
        Tag::Timeout,
        "",
        "output of timeout (tcp tcpfin udp)",
    ),
    opt(
        "daemon",
        None,
        Flag,
        Tag::Daemon,
        "",
        "output of daemon information",
    ),
    opt(
        "stats",
        None,
        Flag,
        Tag::Stats,
        "",
        "output of statistics information",
    ),
    opt(
        "rate",
        None,
        Flag,
        Tag::Rate,
        "",
        "output of rate information",
    ),
    opt(
        "thresholds",
        None,
        Flag,
        Tag::Thresholds,
        "",
        "output of thresholds information",
    ),
    opt(
        "persistent-conn",
        None,
        Flag,
        Tag::PersistentConn,
        "",
        "output of persistent connection info",
    ),
    opt(
        "nosort",
        None,
        Flag,
        Tag::NoSort,
        "",
        "disable sorting output of service/server entries",
    ),
    opt(
        "sort",
        None,
        Flag,
        Tag::Sort,
        "",
        "does nothing, for backwards compatibility",
    ),
    opt(
        "exact",
        Some('X'),
        Flag,
        Tag::Exact,
        "",
        "expand numbers (display exact values)",
    ),
    opt(
        "ipv6",
        Some('6'),
        Flag,
        Tag::Ipv6,
        "",
        "fwmark entry uses IPv6",
    ),
    opt(
        "ops",
        Some('o'),
        Flag,
        Tag::Ops,
        "",
        "one-packet scheduling",
    ),
    opt(
        "pe",
        None,
        Required,
        Tag::Pe,
        "ENGINE",
        "alternate persistence engine (sip)",
    ),
    opt(
        "sched-flags",
        Some('b'),
        Required,
        Tag::SchedFlags,
        "FLAGS",
        "scheduler flags (comma-separated)",
    ),
    opt(
        "mcast-group",
        None,
        Required,
        Tag::McastGroup,
        "ADDRESS",
        "IPv4/IPv6 group (default 224.0.0.81)",
    ),
    opt(
        "mcast-port",
        None,
        Required,
        Tag::McastPort,
        "PORT",
        "UDP port (default 8848)",
    ),
    opt(
        "mcast-ttl",
        None,
        Required,
        Tag::McastTtl,
        "TTL",
        "multicast TTL (default 1)",
    ),
    opt(
        "sync-maxlen",
        None,
        Required,
        Tag::SyncMaxlen,
        "LENGTH",
        "max sync message length (default 1472)",
    ),
    opt(
        "tun-info",
        None,
        Flag,
        Tag::TunInfo,
        "",
        "output of tunnel information",
    ),
    opt(
        "tun-type",
        None,
        Required,
        Tag::TunType,
        "TYPE",
        "one of ipip|gue|gre (default ipip)",
    ),
    opt(
        "tun-port",
        None,
        Required,
        Tag::TunPort,
        "PORT",
        "tunnel destination port",
    ),
    opt(
        "tun-nocsum",
        None,
        Flag,
        Tag::TunNocsum,
        "",
        "tunnel encapsulation without checksum",
    ),
    opt(
        "tun-csum",
        None,
        Flag,
        Tag::TunCsum,
        "",
        "tunnel encapsulation with checksum",
    ),
    opt(
        "tun-remcsum",
        None,
        Flag,
        Tag::TunRemcsum,
        "",
        "tunnel encapsulation with remote checksum",
    ),
    OptSpec {
        long: "json",
        short: None,
        kind: Flag,
        tag: Tag::Json,
        value_name: "",
        help: "with -L: print the table as one JSON document (ipvsadm-rs only)",
    },
    OptSpec {
        long: "check",
        short: None,
        kind: Flag,
        tag: Tag::Check,
        value_name: "",
        help: "with -R: validate every line and apply nothing if one is bad (ipvsadm-rs only)",
    },
    OptSpec {
        long: "replace",
        short: None,
        kind: Flag,
        tag: Tag::Replace,
        value_name: "",
        help: "with -R: make the table equal to the input by adds, edits and deletes, never flushing, after --check's validation (ipvsadm-rs only)",
    },
];

/// The long option that selects a network namespace; handled before IPVS is initialised.
pub const NETNS_LONG: &str = "netns";

/// The hidden long option that prints the man page or a shell completion script.
pub const GENERATE_LONG: &str = "generate";

/// Finds an option by its long name (popt: exact match, first row wins).
pub fn by_long(name: &str) -> Option<&'static OptSpec> {
    OPTIONS.iter().find(|o| o.long == name)
}

const _: () = assert!(OPTIONS.len() < u8::MAX as usize);

/// For each ASCII character, 1 + the index of the first row with that short name (0: none).
const SHORT_INDEX: [u8; 128] = {
    let mut index = [0u8; 128];
    let mut i = OPTIONS.len();
    // Backwards, so that the first row with a name is the one left in the table.
    while i > 0 {
        i -= 1;
        if let Some(c) = OPTIONS[i].short {
            index[c as usize] = i as u8 + 1;
        }
    }
    index
};

/// Finds an option by its short name.
pub fn by_short(c: char) -> Option<&'static OptSpec> {
    let slot = *SHORT_INDEX.get(c as usize)?;
    slot.checked_sub(1).map(|i| &OPTIONS[usize::from(i)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_list_finds_upper_l_first() {
        assert_eq!(by_long("list").unwrap().short, Some('L'));
        assert_eq!(by_short('l').unwrap().tag, Tag::List);
    }

    #[test]
    fn short_lookup_agrees_with_the_table() {
        for c in (0..=0x10ffff).filter_map(char::from_u32).take(70_000) {
            let scanned = OPTIONS.iter().find(|o| o.short == Some(c));
            assert_eq!(by_short(c), scanned, "{c:?}");
        }
        assert_eq!(by_short('L').unwrap().tag, Tag::List);
        assert!(by_short('q').is_none());
    }

    #[test]
    fn short_names_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for o in OPTIONS {
            if let Some(c) = o.short {
                assert!(seen.insert(c), "duplicate short option -{c}");
            }
        }
    }

    #[test]
    fn persistent_takes_an_optional_argument() {
        assert_eq!(by_short('p').unwrap().kind, ArgKind::Optional);
        assert!(by_long("persist").is_none());
    }
}
