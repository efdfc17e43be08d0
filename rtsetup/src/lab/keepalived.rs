//! keepalived (Debian's package) for the `ha` lab: one VRRP-only instance per director,
//! in the director's namespace, with its own pid files and configuration under the lab's
//! state directory, in the foreground and logging to a file there.
//!
//! Every director starts as BACKUP with `nopreempt`: the first to time out (the one of
//! highest priority, `lb1`) takes the VIP, and a director coming back after a failure stays
//! standby instead of moving the VIP (and every connection) a second time. Peers are unicast,
//! so VRRP works on any bridge.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::error::{Error, Result};
use crate::lab::ledger::Ledger;
use crate::lab::state::StateDir;
use crate::lab::topology::{Host, Topology};
use crate::netns::{Netns, NetnsExt};

/// The VRRP router id the lab uses (any of 1..=255 would do on a private bridge).
pub const VIRTUAL_ROUTER_ID: u8 = 10;
/// VRRP advertisement interval, seconds: a backup takes over 3 intervals plus a skew
/// after the last advertisement.
pub const ADVERT_INT: u8 = 1;

/// Where keepalived is looked for, in this order.
pub const CANDIDATES: [&str; 3] = [
    "/usr/sbin/keepalived",
    "/sbin/keepalived",
    "/usr/local/sbin/keepalived",
];

/// The keepalived binary, or an error saying how to install it.
pub fn binary() -> Result<PathBuf> {
    CANDIDATES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or_else(|| Error::Invalid {
            what: "keepalived",
            reason: format!(
                "the ha lab runs keepalived for VRRP and it is not installed (looked for {}): \
                 `apt-get install keepalived` (Debian's package)",
                CANDIDATES.join(", ")
            ),
        })
}

/// The VRRP priority of the director at `index` (0-based): `lb1` highest.
pub fn priority(index: usize) -> u8 {
    200u8.saturating_sub(10 * index as u8)
}

/// keepalived's configuration for `director` (the `index`-th) of `topology`.
///
/// ```
/// let ha = rtsetup::lab::Topology::ha(2, 2, "rr", true)?;
/// let lb2 = ha.host("lb2").unwrap();
/// let config = rtsetup::lab::keepalived::config(&ha, lb2, 1);
/// assert!(config.contains("unicast_peer {\n    192.168.0.2\n  }"));
/// assert!(config.contains("192.168.0.10/32 dev lb2-veth0"));
/// # Ok::<(), rtsetup::Error>(())
/// ```
pub fn config(topology: &Topology, director: &Host, index: usize) -> String {
    let peers: Vec<String> = topology
        .directors()
        .filter(|d| d.name != director.name)
        .map(|d| format!("    {}", d.address()))
        .collect();
    let link = director.inner_link(0);
    format!(
        "# Written by rtsetup for lab {lab}; removed by `rtsetup lab down`.\n\
         global_defs {{\n  router_id {name}\n}}\n\
         vrrp_instance VIP {{\n  state BACKUP\n  nopreempt\n  interface {link}\n  \
         virtual_router_id {VIRTUAL_ROUTER_ID}\n  priority {priority}\n  advert_int {ADVERT_INT}\n  \
         unicast_src_ip {src}\n  unicast_peer {{\n{peers}\n  }}\n  \
         virtual_ipaddress {{\n    {vip}/32 dev {link}\n  }}\n}}\n",
        lab = topology.name,
        name = director.name,
        priority = priority(index),
        src = director.address(),
        peers = peers.join("\n"),
        vip = topology.vip,
    )
}

/// The files of one director's keepalived.
pub(crate) struct Files {
    pub(crate) config: PathBuf,
    pub(crate) log: PathBuf,
    pids: [PathBuf; 3],
}

impl Files {
    pub(crate) fn of(state: &StateDir, director: &str) -> Files {
        let file = |suffix: &str| state.file(&format!("{director}.keepalived{suffix}"));
        Files {
            config: file(".conf"),
            log: file(".log"),
            pids: [file(".main.pid"), file(".vrrp.pid"), file(".checkers.pid")],
        }
    }
}

/// The label of `director`'s keepalived in the lab's record.
pub(crate) fn label(director: &str) -> String {
    format!("keepalived in {director}")
}

/// Starts keepalived in `director`'s namespace with the lab's configuration (written anew),
/// recorded in `ledger`, unless the recorded one runs.
pub(crate) fn start(
    ledger: &mut Ledger,
    state: &StateDir,
    topology: &Topology,
    director: &Host,
    index: usize,
) -> Result<i32> {
    let exe = binary()?;
    let files = Files::of(state, &director.name);
    std::fs::write(&files.config, config(topology, director, index))
        .map_err(|e| state.error("write", &files.config, e))?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&files.log)
        .map_err(|e| state.error("open", &files.log, e))?;
    let log_err = log
        .try_clone()
        .map_err(|e| state.error("open", &files.log, e))?;
    let netns = Netns::open(&director.name)?;
    let mut command = netns.command(&exe)?;
    let arg = |p: &Path| p.display().to_string();
    // -n: stay in the foreground (the lab records this pid); -l: log to stdout, here the log
    // file, with timestamps; -P: VRRP only; own pid files, so instances in several
    // namespaces do not take each other for a running keepalived.
    command
        .args(["-n", "-l", "-D", "-P", "-f", &arg(&files.config)])
        .args(["-p", &arg(&files.pids[0]), "-r", &arg(&files.pids[1])])
        .args(["-c", &arg(&files.pids[2])])
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err);
    ledger.spawn(&netns, &label(&director.name), command)
}

/// keepalived's state changes in `director`'s log: (time in ns since the epoch, line).
/// keepalived stamps its console lines to the second in local time; the lab's machines
/// run in UTC, which is what this reads.
pub(crate) fn transitions(state: &StateDir, director: &str) -> Vec<(u64, String)> {
    let files = Files::of(state, director);
    let text = std::fs::read_to_string(&files.log).unwrap_or_default();
    text.lines()
        .filter(|l| l.contains("Entering") || l.contains("priority 0") || l.contains("Stopped"))
        .filter_map(|line| {
            let (stamp, rest) = line.split_once(": ")?;
            Some((parse_stamp(stamp)?, rest.trim().to_string()))
        })
        .collect()
}

/// `Wed Dec  2 16:08:55 2026` as ns since the epoch (UTC).
fn parse_stamp(stamp: &str) -> Option<u64> {
    let fields: Vec<&str> = stamp.split_whitespace().collect();
    let [_, month, day, time, year] = fields[..] else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| *m == month)? as i64 + 1;
    let (day, year): (i64, i64) = (day.parse().ok()?, year.parse().ok()?);
    let hms: Vec<i64> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, s] = hms[..] else { return None };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + m * 60 + s;
    u64::try_from(secs).ok().map(|s| s * 1_000_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepalived_stamps_parse_as_utc() {
        assert_eq!(parse_stamp("Thu Jan  1 00:00:01 1970"), Some(1_000_000_000));
        assert_eq!(
            parse_stamp("Wed Dec  2 16:08:55 2026"),
            Some(1_796_227_735 * 1_000_000_000)
        );
        assert_eq!(parse_stamp("garbage"), None);
    }

    #[test]
    fn every_director_lists_the_others_as_peers() {
        let ha = crate::lab::Topology::ha(3, 2, "rr", true).unwrap();
        let lb1 = ha.host("lb1").unwrap();
        let text = config(&ha, lb1, 0);
        assert!(
            text.contains("priority 200") && text.contains("nopreempt"),
            "{text}"
        );
        assert!(
            text.contains("    192.168.0.3\n    192.168.0.4\n"),
            "{text}"
        );
        assert!(!text.contains("    192.168.0.2\n"), "{text}");
    }
}
