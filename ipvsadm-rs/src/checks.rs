//! ipvsadm's tables of which options each command and each tunnel type allows.
//!
//! Each row is one character per option: `+` required, `x` illegal, `1` at most one of
//! the `1` options, `.` optional. The option order is ipvsadm's, and so is the order in
//! which violations are found, which decides the message when several apply.

use crate::entry::Command;
use crate::error::{Error, Result};

/// Option bit numbers, in ipvsadm's order.
pub mod opt {
    /// `-n`
    pub const NUMERIC: u32 = 0;
    /// `-c`
    pub const CONNECTION: u32 = 1;
    /// `-t`, `-u`, `--sctp-service`, `-f`
    pub const SERVICE: u32 = 2;
    /// `-s`
    pub const SCHEDULER: u32 = 3;
    /// `-p`
    pub const PERSISTENT: u32 = 4;
    /// `-M`
    pub const NETMASK: u32 = 5;
    /// `-r`
    pub const SERVER: u32 = 6;
    /// `-g`, `-i`, `-m`
    pub const FORWARD: u32 = 7;
    /// `-w`
    pub const WEIGHT: u32 = 8;
    /// `-x`
    pub const UTHRESHOLD: u32 = 9;
    /// `-y`
    pub const LTHRESHOLD: u32 = 10;
    /// `--mcast-interface`
    pub const MCAST: u32 = 11;
    /// `--timeout`
    pub const TIMEOUT: u32 = 12;
    /// `--daemon`
    pub const DAEMON: u32 = 13;
    /// `--stats`
    pub const STATS: u32 = 14;
    /// `--rate`
    pub const RATE: u32 = 15;
    /// `--thresholds`
    pub const THRESHOLDS: u32 = 16;
    /// `--persistent-conn`
    pub const PERSISTENTCONN: u32 = 17;
    /// `--nosort`
    pub const NOSORT: u32 = 18;
    /// `--syncid`
    pub const SYNCID: u32 = 19;
    /// `--exact`
    pub const EXACT: u32 = 20;
    /// `-o`
    pub const ONEPACKET: u32 = 21;
    /// `--pe`
    pub const PERSISTENCE_ENGINE: u32 = 22;
    /// `-b`
    pub const SCHED_FLAGS: u32 = 23;
    /// `--mcast-group`
    pub const MCAST_GROUP: u32 = 24;
    /// `--mcast-port`
    pub const MCAST_PORT: u32 = 25;
    /// `--mcast-ttl`
    pub const MCAST_TTL: u32 = 26;
    /// `--sync-maxlen`
    pub const SYNC_MAXLEN: u32 = 27;
    /// `--tun-info`
    pub const TUN_INFO: u32 = 28;
    /// `--tun-type`
    pub const TUN_TYPE: u32 = 29;
    /// `--tun-port`
    pub const TUN_PORT: u32 = 30;
    /// `--tun-nocsum`
    pub const TUN_NOCSUM: u32 = 31;
    /// `--tun-csum`
    pub const TUN_CSUM: u32 = 32;
    /// `--tun-remcsum`
    pub const TUN_REMCSUM: u32 = 33;
    /// How many options ipvsadm's tables cover.
    pub const COUNT: u32 = 34;
    /// `--json` (ipvsadm-rs only; outside ipvsadm's tables)
    pub const JSON: u32 = 34;
    /// `--check` (ipvsadm-rs only; outside ipvsadm's tables)
    pub const CHECK: u32 = 35;
    /// `--replace` (ipvsadm-rs only; outside ipvsadm's tables)
    pub const REPLACE: u32 = 36;
}

/// The names ipvsadm gives options in its messages, by bit number.
pub const OPTION_NAMES: [&str; 37] = [
    "numeric",
    "connection",
    "service-address",
    "scheduler",
    "persistent",
    "netmask",
    "real-server",
    "forwarding-method",
    "weight",
    "u-threshold",
    "l-threshold",
    "mcast-interface",
    "timeout",
    "daemon",
    "stats",
    "rate",
    "thresholds",
    "persistent-conn",
    "nosort",
    "syncid",
    "exact",
    "ops",
    "pe",
    "sched-flags",
    "mcast-group",
    "mcast-port",
    "mcast-ttl",
    "sync-maxlen",
    "tun-info",
    "tun-type",
    "tun-port",
    "tun-nocsum",
    "tun-csum",
    "tun-remcsum",
    "json",
    "check",
    "replace",
];

const COMMAND_TABLE: [&str; 14] = [
    "xx+...xxxxxxxxxxxxxxx...xxxxxxxxxx", // add-service
    "xx+...xxxxxxxxxxxxxxx...xxxxxxxxxx", // edit-service
    "xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // delete-service
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // flush
    ".11xxxxxxxxx11.......xxxxxxx.xxxxx", // list
    "xx+xxx+....xxxxxxxxxxxxxxxxxx.....", // add-server
    "xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxx", // delete-server
    "xx+xxx+....xxxxxxxxxxxxxxxxxx.....", // edit-server
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // set
    "xxxxxxxxxxx.xxxxxxx.xxxx....xxxxxx", // start-daemon
    "xxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxx", // stop-daemon
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // restore
    ".xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // save
    "xx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // zero
];

/// Tunnel type names, by number.
pub const TUNNEL_NAMES: [&str; 3] = ["ipip", "gue", "gre"];

/// The options checked per tunnel type: port, nocsum, csum, remcsum.
const TUNNEL_OPTIONS: [u32; 4] = [
    opt::TUN_PORT,
    opt::TUN_NOCSUM,
    opt::TUN_CSUM,
    opt::TUN_REMCSUM,
];

const TUNNEL_TABLE: [&str; 3] = [
    "xxxx", // ipip
    "+111", // gue
    "x11x", // gre
];

/// A row's rules as bit masks over the options: required, illegal, and the mutually
/// exclusive ones. Computed at compile time, so the common case (nothing wrong) is three
/// mask tests; the row is walked only to word a violation.
#[derive(Clone, Copy)]
struct RowMasks {
    required: u64,
    illegal: u64,
    exclusive: u64,
}

/// The masks of a row whose rule `i` is about option bit `bits[i]`.
const fn row_masks(row: &str, bits: &[u32]) -> RowMasks {
    let b = row.as_bytes();
    let mut m = RowMasks {
        required: 0,
        illegal: 0,
        exclusive: 0,
    };
    let mut i = 0;
    while i < b.len() {
        let bit = 1u64 << bits[i];
        match b[i] {
            b'+' => m.required |= bit,
            b'x' => m.illegal |= bit,
            b'1' => m.exclusive |= bit,
            _ => {}
        }
        i += 1;
    }
    m
}

/// The command table's rules are about option bits 0, 1, 2, ... in order.
const COMMAND_BITS: [u32; opt::COUNT as usize] = {
    let mut bits = [0; opt::COUNT as usize];
    let mut i = 0;
    while i < bits.len() {
        bits[i] = i as u32;
        i += 1;
    }
    bits
};

const COMMAND_MASKS: [RowMasks; 14] = {
    let mut out = [row_masks("", &[]); 14];
    let mut i = 0;
    while i < COMMAND_TABLE.len() {
        out[i] = row_masks(COMMAND_TABLE[i], &COMMAND_BITS);
        i += 1;
    }
    out
};

const TUNNEL_MASKS: [RowMasks; 3] = {
    let mut out = [row_masks("", &[]); 3];
    let mut i = 0;
    while i < TUNNEL_TABLE.len() {
        out[i] = row_masks(TUNNEL_TABLE[i], &TUNNEL_OPTIONS);
        i += 1;
    }
    out
};

impl RowMasks {
    fn allows(&self, options: u64) -> bool {
        options & self.illegal == 0
            && options & self.required == self.required
            && (options & self.exclusive).count_ones() <= 1
    }
}

fn is_set(options: u64, bit: u32) -> bool {
    options & (1u64 << bit) != 0
}

fn check_row(
    row: &str,
    bits: impl Iterator<Item = u32>,
    options: u64,
    subject: &str,
    kind: &str,
) -> Result<()> {
    let mut first_exclusive: Option<u32> = None;
    for (rule, bit) in row.bytes().zip(bits) {
        let name = OPTION_NAMES[bit as usize];
        if !is_set(options, bit) {
            if rule == b'+' {
                return Err(Error::Invalid(format!(
                    "You need to supply the '{name}' option for the '{subject}' {kind}"
                )));
            }
            continue;
        }
        match rule {
            b'x' => {
                return Err(Error::Invalid(format!(
                    "Illegal '{name}' option with the '{subject}' {kind}"
                )));
            }
            b'1' => match first_exclusive {
                None => first_exclusive = Some(bit),
                Some(last) => {
                    let last = OPTION_NAMES[last as usize];
                    return Err(Error::Invalid(format!(
                        "The option '{name}' conflicts with the '{last}' option in the '{subject}' {kind}"
                    )));
                }
            },
            _ => {}
        }
    }
    Ok(())
}

/// ipvsadm's `generic_opt_check`: the options allowed with a command.
pub fn check_command_options(cmd: Command, options: u64) -> Result<()> {
    let Some(row) = cmd.index() else {
        return Ok(());
    };
    let table_bits = (1u64 << opt::COUNT) - 1;
    if COMMAND_MASKS[row].allows(options & table_bits) {
        return Ok(());
    }
    check_row(
        COMMAND_TABLE[row],
        0..opt::COUNT,
        options,
        cmd.name(),
        "command",
    )
}

/// ipvsadm's `tunnel_opt_check`: the options allowed with a tunnel type.
pub fn check_tunnel_options(tun_type: u8, options: u64) -> Result<()> {
    let Some(row) = TUNNEL_TABLE.get(usize::from(tun_type)) else {
        return Ok(());
    };
    let table_bits = TUNNEL_OPTIONS.iter().fold(0, |acc, b| acc | (1u64 << b));
    if TUNNEL_MASKS[usize::from(tun_type)].allows(options & table_bits) {
        return Ok(());
    }
    check_row(
        row,
        TUNNEL_OPTIONS.into_iter(),
        options,
        TUNNEL_NAMES[usize::from(tun_type)],
        "tunnel type",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(list: &[u32]) -> u64 {
        list.iter().fold(0, |acc, b| acc | (1 << b))
    }

    /// The masks say "allowed" exactly when walking the row finds nothing wrong.
    #[test]
    fn masks_agree_with_the_row_walk() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let tunnel_rows = TUNNEL_TABLE.iter().zip(TUNNEL_MASKS);
        let rows = COMMAND_TABLE
            .iter()
            .zip(COMMAND_MASKS)
            .map(|r| (r, &COMMAND_BITS[..]))
            .chain(tunnel_rows.map(|r| (r, &TUNNEL_OPTIONS[..])));
        for ((row, masks), bits) in rows {
            for round in 0..20_000 {
                // Sparse option sets, like real command lines, and dense ones.
                let mut options = next() & next() & ((1u64 << opt::COUNT) - 1);
                if round % 2 == 0 {
                    options &= next();
                }
                let walked = check_row(row, bits.iter().copied(), options, "c", "command").is_ok();
                assert_eq!(masks.allows(options), walked, "{row} {options:#x}");
            }
            assert!(masks.allows(masks.required), "{row}");
        }
    }

    #[test]
    fn rows_cover_every_option() {
        for row in COMMAND_TABLE {
            assert_eq!(row.len(), opt::COUNT as usize, "{row}");
        }
    }

    #[test]
    fn required_illegal_and_exclusive() {
        let e = check_command_options(Command::Add, 0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "You need to supply the 'service-address' option for the 'add-service' command"
        );
        let e =
            check_command_options(Command::Add, bits(&[opt::SERVICE, opt::WEIGHT])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Illegal 'weight' option with the 'add-service' command"
        );
        let e = check_command_options(Command::List, bits(&[opt::CONNECTION, opt::SERVICE]))
            .unwrap_err();
        assert_eq!(e.to_string(), "The option 'service-address' conflicts with the 'connection' option in the 'list' command");
        assert!(check_command_options(
            Command::List,
            bits(&[opt::NUMERIC, opt::SYNCID, opt::TUN_INFO])
        )
        .is_ok());
        assert!(
            check_command_options(Command::StartDaemon, bits(&[opt::MCAST, opt::SYNC_MAXLEN]))
                .is_ok()
        );
    }

    #[test]
    fn tunnel_rules() {
        let e = check_tunnel_options(1, 0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "You need to supply the 'tun-port' option for the 'gue' tunnel type"
        );
        let e = check_tunnel_options(2, bits(&[opt::TUN_REMCSUM])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Illegal 'tun-remcsum' option with the 'gre' tunnel type"
        );
        let e = check_tunnel_options(1, bits(&[opt::TUN_PORT, opt::TUN_CSUM, opt::TUN_REMCSUM]))
            .unwrap_err();
        assert_eq!(e.to_string(), "The option 'tun-remcsum' conflicts with the 'tun-csum' option in the 'gue' tunnel type");
        assert!(check_tunnel_options(0, bits(&[opt::TUN_TYPE])).is_ok());
    }
}
