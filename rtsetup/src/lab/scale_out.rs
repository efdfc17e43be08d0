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
use crate::lab::process::Owned;
use crate::lab::stream::STREAM_CLIENT;
use crate::lab::topology::{Host, Pattern};
use crate::lab::{ipvs, keepalived, Lab};
use crate::netns::Netns;
use crate::rtnl::Rtnl;
use crate::sysctl::{self, Key};

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
    pub(crate) fn up_directors(&self, vip: IpNet) -> Result<()> {
        match self.topology.pattern {
            Pattern::Ha => self.up_ha(),
            Pattern::Ecmp => self.up_ecmp(vip),
            Pattern::Single => Ok(()),
        }
    }

    /// Every director gets the same IPVS table and, with sync, a master and a backup sync
    /// daemon: the one holding the VIP sends with its master, the others receive with their
    /// backups, whichever director that is after a failover. keepalived then elects the
    /// holder of the VIP.
    fn up_ha(&self) -> Result<()> {
        // Before anything runs, so a missing keepalived is reported first, not halfway.
        keepalived::binary()?;
        for director in self.topology.directors() {
            let netns = Netns::open(&director.name)?;
            ipvs::program(&self.topology, &netns)?;
            if self.topology.sync {
                start_sync_daemons(&netns, director)?;
            }
        }
        for (index, director) in self.topology.directors().enumerate() {
            keepalived::start(&self.state, &self.topology, director, index)?;
        }
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

    fn up_ecmp(&self, vip: IpNet) -> Result<()> {
        for director in self.topology.directors() {
            self.prepare_real_server(director, vip)?;
            let netns = Netns::open(&director.name)?;
            ipvs::program(&self.topology, &netns)?;
            sysctl::write(&netns, &sloppy_tcp(), "1")?;
        }
        let router = self.topology.router().expect("validated: an ecmp lab has a router");
        let netns = Netns::open(&router.name)?;
        sysctl::write(&netns, &Key::ip_forward(), "1")?;
        sysctl::write(&netns, &multipath_hash_policy(), "1")?;
        let gateways: Vec<IpAddr> = self
            .topology
            .directors()
            .map(|d| IpAddr::V4(d.address()))
            .collect();
        Rtnl::open(&netns)?.set_multipath_route(vip, &gateways)
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

    fn stream_client(&self) -> Owned<'_> {
        Owned {
            state: &self.state,
            key: "client.stream".into(),
            marks: vec![
                STREAM_CLIENT.into(),
                self.stream_log().display().to_string(),
            ],
        }
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

    pub(crate) fn start_streams(&self, exe: &Path) -> Result<()> {
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
        self.stream_client().start(command, netns.place())?;
        Ok(())
    }

    /// Stops what the multi-director labs run besides the responders: the streaming client,
    /// keepalived and the sync daemons.
    pub(crate) fn down_directors(&self, note: &mut dyn FnMut(Result<()>)) {
        self.stream_client().stop(Duration::from_secs(2));
        for director in self.topology.directors() {
            keepalived::stop(&self.state, &director.name);
            if self.topology.pattern == Pattern::Ha && Netns::exists(&director.name) {
                note(Netns::open(&director.name).and_then(|netns| stop_sync_daemons(&netns)));
            }
        }
    }
}

fn sync_error(netns: &Netns, action: &str, source: ipvs_rs::Error) -> Error {
    Error::Ipvs {
        action: action.into(),
        place: netns.place(),
        source,
    }
}

/// Starts a master and a backup sync daemon on the director's bridge-facing link, like
/// `ipvsadm --start-daemon master|backup --mcast-interface LINK --syncid 10`, unless running.
pub(crate) fn start_sync_daemons(netns: &Netns, director: &Host) -> Result<()> {
    let handle = ipvs::open(netns)?;
    let running = handle
        .daemons()
        .map_err(|e| sync_error(netns, "listing the sync daemons", e))?;
    for state in [DaemonState::MASTER, DaemonState::BACKUP] {
        if running.iter().any(|d| d.state.contains(state)) {
            continue;
        }
        let mut daemon = Daemon::new(state, director.inner_link(0));
        daemon.sync_id = SYNC_ID;
        handle
            .start_daemon(&daemon)
            .map_err(|e| sync_error(netns, &format!("starting the {state:?} sync daemon"), e))?;
    }
    Ok(())
}

/// Stops the sync daemons the lab started (the lab's namespace holds no others).
pub(crate) fn stop_sync_daemons(netns: &Netns) -> Result<()> {
    let handle = ipvs::open(netns)?;
    let running = handle
        .daemons()
        .map_err(|e| sync_error(netns, "listing the sync daemons", e))?;
    for daemon in running.iter().filter(|d| d.sync_id == SYNC_ID) {
        handle
            .stop_daemon(daemon.state)
            .map_err(|e| sync_error(netns, "stopping a sync daemon", e))?;
    }
    Ok(())
}
