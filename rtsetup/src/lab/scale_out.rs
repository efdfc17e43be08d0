//! The directors of the multi-director labs, and what they run: `ha` (keepalived VRRP and
//! IPVS sync daemons) and `ecmp` (VIP on `lo`, `mh` with `mh-port`, `sloppy_tcp`, and the
//! router's multipath route), plus the streaming client both use.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use ipvs_rs::{Daemon, DaemonState};

use crate::error::{Error, Result};
use crate::ipnet::IpNet;
use crate::lab::ledger::Ledger;
use crate::lab::stream::{read_log, STREAM_CLIENT};
use crate::lab::topology::{Host, Pattern};
use crate::lab::{ipvs, keepalived, Lab};
use crate::netns::{Netns, NetnsExt};
use crate::rtnl::Rtnl;
use crate::sysctl::Key;

/// How long `lab up` waits for every long-lived connection to carry data.
const STREAMS_START: Duration = Duration::from_secs(60);
/// How long `lab up` waits for VRRP to elect a holder of the VIP.
const ELECTION: Duration = Duration::from_secs(60);

/// `net.ipv4.vs.sloppy_tcp`: IPVS creates connections for mid-stream TCP packets, so a
/// director that inherits a flow from another one schedules it.
pub(crate) fn sloppy_tcp() -> Key {
    "net.ipv4.vs.sloppy_tcp".parse().expect("a valid key")
}

/// `net.ipv4.fib_multipath_hash_policy`: 1 hashes ports too, so one client's flows spread.
pub(crate) fn multipath_hash_policy() -> Key {
    "net.ipv4.fib_multipath_hash_policy"
        .parse()
        .expect("a valid key")
}

/// The sync id the lab's daemons use.
pub const SYNC_ID: u8 = keepalived::VIRTUAL_ROUTER_ID;

impl Lab {
    pub(crate) fn up_directors(&self, ledger: &mut Ledger, vip: IpNet) -> Result<()> {
        match self.topology.pattern {
            Pattern::Ha => self.up_ha(ledger),
            Pattern::Ecmp => self.up_ecmp(ledger, vip),
            Pattern::Single => Ok(()),
        }
    }

    /// Every director gets the same IPVS table and, with sync, a master and a backup sync
    /// daemon: the one holding the VIP sends with its master, the others receive with their
    /// backups, whichever director that is after a failover. keepalived then elects the
    /// holder of the VIP: `lb1` alone first, so it is the one that holds it.
    fn up_ha(&self, ledger: &mut Ledger) -> Result<()> {
        for director in self.topology.directors() {
            let netns = Netns::open(&director.name)?;
            ipvs::program(&self.topology, &netns)?;
            if self.topology.sync {
                for state in [DaemonState::MASTER, DaemonState::BACKUP] {
                    let mut daemon = Daemon::new(state, director.inner_link(0));
                    daemon.sync_id = SYNC_ID;
                    ledger.start_sync_daemon(&netns, &daemon)?;
                }
            }
        }
        for (index, director) in self.topology.directors().enumerate() {
            keepalived::start(ledger, &self.state, &self.topology, director, index)?;
            if index == 0 {
                self.wait_for_holder()?;
            }
        }
        Ok(())
    }

    fn wait_for_holder(&self) -> Result<()> {
        let deadline = Instant::now() + ELECTION;
        while self.vip_holders()?.is_empty() {
            if Instant::now() > deadline {
                return Err(Error::Invalid {
                    what: "lab",
                    reason: format!(
                        "no director took the VIP within {} s; see keepalived's logs in {}",
                        ELECTION.as_secs(),
                        self.state.file("").display()
                    ),
                });
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(())
    }

    fn up_ecmp(&self, ledger: &mut Ledger, vip: IpNet) -> Result<()> {
        for director in self.topology.directors() {
            self.prepare_real_server(ledger, director, vip)?;
            let netns = Netns::open(&director.name)?;
            ipvs::program(&self.topology, &netns)?;
            ledger.set_sysctl(&netns, &sloppy_tcp(), "1")?;
        }
        let router = self
            .topology
            .router()
            .expect("validated: an ecmp lab has a router");
        let netns = Netns::open(&router.name)?;
        ledger.set_sysctl(&netns, &Key::ip_forward(), "1")?;
        ledger.set_sysctl(&netns, &multipath_hash_policy(), "1")?;
        let gateways: Vec<IpAddr> = self
            .topology
            .directors()
            .map(|d| IpAddr::V4(d.address()))
            .collect();
        ledger.set_multipath_route(&mut Rtnl::open(&netns)?, vip, &gateways)
    }

    /// The directors that hold the VIP on their bridge-facing link (`ha`).
    pub(crate) fn vip_holders(&self) -> Result<Vec<&Host>> {
        let vip = IpAddr::V4(self.topology.vip);
        let mut holders = Vec::new();
        for director in self.topology.directors() {
            let mut rtnl = Rtnl::open(&Netns::open(&director.name)?)?;
            if rtnl
                .addresses(Some(&director.inner_link(0)))?
                .iter()
                .any(|a| a.net.addr() == vip)
            {
                holders.push(director);
            }
        }
        Ok(holders)
    }

    pub(crate) fn stream_log(&self) -> std::path::PathBuf {
        self.state.file("streams.log")
    }

    /// How many long-lived connections the lab's client holds.
    pub fn stream_count(&self) -> usize {
        let most = self
            .topology
            .real_servers()
            .count()
            .max(self.topology.directors().count());
        (4 * most).max(6)
    }

    pub(crate) fn start_streams(&self, ledger: &mut Ledger, exe: &Path) -> Result<()> {
        let client = self.client();
        let netns = Netns::open(&client.name)?;
        let target = SocketAddr::new(IpAddr::V4(self.topology.vip), self.topology.port);
        let mut command = netns.command(exe)?;
        command
            .args([STREAM_CLIENT, "--target", &target.to_string()])
            .args(["--connections", &self.stream_count().to_string()])
            .args(["--log", &self.stream_log().display().to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        ledger.spawn(
            &netns,
            &format!("{STREAM_CLIENT} in {}", client.name),
            command,
        )?;
        // `lab up` ends when every connection carries data, so a verify right after it
        // sees them all.
        let deadline = Instant::now() + STREAMS_START;
        loop {
            let streams = read_log(&self.stream_log()).unwrap_or_default();
            let flowing = streams
                .iter()
                .filter(|s| s.end.is_none() && !s.reads_ns.is_empty())
                .count();
            if flowing == self.stream_count() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(Error::Invalid {
                    what: "lab",
                    reason: format!(
                        "only {flowing} of the {} long-lived connections from {} to {target} carry data after {} s; see {}",
                        self.stream_count(),
                        client.name,
                        STREAMS_START.as_secs(),
                        self.stream_log().display()
                    ),
                });
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}
