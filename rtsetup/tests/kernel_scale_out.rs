//! The multi-director labs against a kernel with IPVS (the VM lane): `ha` (keepalived VRRP
//! and IPVS sync daemons) and `ecmp` (a multipath route over directors running `mh`) come
//! up, verify, survive a director failure with every long-lived connection on its real
//! server, come back and go down leaving nothing; the controls (no sync daemons, `rr`
//! instead of `mh`) fail the verify with the cause named.
//!
//! The labs use fixed namespace names, so the tests take turns on one lock, and every test
//! takes its lab down even when it fails. Times are not asserted: the guest is slow.

#![cfg(feature = "kernel-tests")]

use std::path::Path;
use std::sync::Mutex;

use rtsetup::lab::{Failure, Lab, Report, Topology};
use rtsetup::{Netns, NetnsExt, Rtnl};

static ONE_LAB_AT_A_TIME: Mutex<()> = Mutex::new(());

const RTSETUP: &str = env!("CARGO_BIN_EXE_rtsetup");

fn with_lab(topology: Topology, test: impl FnOnce(&Lab)) {
    testkit::kernel_test();
    let _turn = ONE_LAB_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let lab = Lab::new(topology).unwrap();
    struct Down<'a>(&'a Lab);
    impl Drop for Down<'_> {
        fn drop(&mut self) {
            let _ = self.0.down();
        }
    }
    let guard = Down(&lab);
    lab.up(Path::new(RTSETUP)).expect("lab up");
    test(&lab);
    drop(guard);
    assert_nothing_left(lab.topology());
}

/// Processes whose command line holds `mark`.
fn processes_with(mark: &str) -> Vec<i32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let zombie = stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'));
        if !zombie
            && cmdline
                .split(|b| *b == 0)
                .any(|arg| String::from_utf8_lossy(arg).contains(mark))
        {
            found.push(pid);
        }
    }
    found
}

fn assert_nothing_left(topology: &Topology) {
    for host in &topology.hosts {
        assert!(
            !Netns::exists(&host.name),
            "namespace {} is left",
            host.name
        );
    }
    let mut here = Rtnl::open(&Netns::Current).unwrap();
    for bridge in &topology.bridges {
        assert!(
            here.find_link(bridge).unwrap().is_none(),
            "bridge {bridge} is left"
        );
    }
    let state = Path::new(rtsetup::lab::STATE_ROOT).join(&topology.name);
    assert!(!state.exists(), "{} is left", state.display());
    // Processes leave /proc once init reaps them; give it a moment.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let left: Vec<i32> = ["keepalived", "stream-client", "serve-http"]
            .iter()
            .flat_map(|m| processes_with(m))
            .collect();
        if left.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "processes left: {left:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

fn failing(report: &Report) -> Vec<String> {
    report.failures().map(|c| c.name.clone()).collect()
}

fn assert_holds(report: &Report) {
    assert!(
        report.ok(),
        "verify failed: {:#?}",
        report.failures().collect::<Vec<_>>()
    );
}

fn detail<'a>(report: &'a Report, name: &str) -> &'a str {
    report
        .checks
        .iter()
        .find(|c| c.name == name)
        .map_or("", |c| c.detail.as_str())
}

#[test]
fn ha_keeps_every_connection_across_a_hard_failure_and_a_graceful_failback() {
    with_lab(Topology::ha(2, 2, "rr", true).unwrap(), |lab| {
        let report = lab.verify().unwrap();
        assert_holds(&report);
        assert!(
            detail(&report, "vip-holder").starts_with("lb1 holds"),
            "{report:#?}"
        );
        assert!(report.streams.len() >= 6);

        let record = lab.fail("lb1", Failure::Hard).unwrap();
        assert_eq!(record.new_holder.as_deref(), Some("lb2"));
        let report = lab.verify().unwrap();
        assert_holds(&report);
        assert!(detail(&report, "vip-holder").starts_with("lb2 holds"));
        let timeline = report.timeline.as_ref().expect("a timeline");
        assert!(timeline.takeover_ms.is_some_and(|t| t > 0.0));
        assert!(!timeline.announcements.is_empty());
        let dir = std::env::temp_dir().join("kernel-scale-out-evidence");
        let files = lab.write_evidence(&report, &dir).unwrap();
        assert!(files
            .iter()
            .any(|f| f.extension().is_some_and(|e| e == "svg")));
        assert!(
            files
                .iter()
                .filter(|f| f.extension().is_some_and(|e| e == "pcap"))
                .count()
                >= 5
        );

        // lb1 comes back as the standby (nopreempt); failing lb2 gracefully moves the VIP
        // and the connections back, which only works if lb2's master synced them to lb1.
        lab.restore("lb1").unwrap();
        let record = lab.fail("lb2", Failure::Graceful).unwrap();
        assert_eq!(record.new_holder.as_deref(), Some("lb1"));
        let report = lab.verify().unwrap();
        assert_holds(&report);
        lab.restore("lb2").unwrap();
    });
}

#[test]
fn ha_without_sync_is_caught_before_and_after_the_failover() {
    with_lab(Topology::ha(2, 2, "rr", false).unwrap(), |lab| {
        let report = lab.verify().unwrap();
        let failed = failing(&report);
        assert!(
            failed.contains(&"sync-daemon:lb1".to_string()),
            "{failed:?}"
        );
        assert!(detail(&report, "sync-daemon:lb1").contains("--start-daemon master"));
        lab.fail("lb1", Failure::Hard).unwrap();
        let report = lab.verify().unwrap();
        let failed = failing(&report);
        assert!(
            failed.contains(&"failover:connections".to_string()),
            "{failed:?}"
        );
        assert!(
            detail(&report, "failover:connections").contains("reset"),
            "{report:#?}"
        );
    });
}

#[test]
fn ecmp_moves_a_directors_flows_without_breaking_them() {
    with_lab(Topology::ecmp(3, 3, "mh").unwrap(), |lab| {
        let report = lab.verify().unwrap();
        assert_holds(&report);
        assert!(
            detail(&report, "spread:directors").contains("lb2"),
            "{report:#?}"
        );
        // A service someone adds by hand: on one director it is a difference verify names,
        // on every director it is accepted.
        let extra = ipvs_rs::Service::new(ipvs_rs::ServiceKey::tcp(
            "192.168.0.10".parse::<std::net::Ipv4Addr>().unwrap(),
            8080,
        ));
        let add = |name: &str| {
            rtsetup::lab::ipvs::open(&Netns::open(name).unwrap())
                .unwrap()
                .add_service(&extra)
                .unwrap()
        };
        add("lb1");
        let report = lab.verify().unwrap();
        assert_eq!(failing(&report), ["ipvs-tables-same"], "{report:#?}");
        assert!(detail(&report, "ipvs-tables-same").contains("differs"));
        add("lb2");
        add("lb3");
        assert_holds(&lab.verify().unwrap());
        lab.fail("lb1", Failure::Hard).unwrap();
        let report = lab.verify().unwrap();
        assert_holds(&report);
        assert!(detail(&report, "router:multipath").contains("192.168.0.3, 192.168.0.4"));
        lab.restore("lb1").unwrap();
        assert_holds(&lab.verify().unwrap());
    });
}

#[test]
fn ecmp_with_round_robin_is_caught_and_breaks_moved_flows() {
    with_lab(Topology::ecmp(3, 3, "rr").unwrap(), |lab| {
        let report = lab.verify().unwrap();
        assert!(
            failing(&report).contains(&"scheduler:lb1".to_string()),
            "{report:#?}"
        );
        // Whether rr sends a moved flow to another real server depends on where each
        // director's rotation stands, so one failure may move only flows that land where they
        // were: fail the directors in turn until a flow breaks (with mh none ever does).
        let mut seen = Vec::new();
        let broke = ["lb1", "lb2", "lb3"].into_iter().any(|director| {
            lab.fail(director, Failure::Hard).unwrap();
            let failed = failing(&lab.verify().unwrap());
            lab.restore(director).unwrap();
            seen.push((director, failed.clone()));
            failed.contains(&"failover:connections".to_string())
        });
        assert!(broke, "no failure broke a connection under rr: {seen:?}");
    });
}
