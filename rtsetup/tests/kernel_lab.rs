//! The walkthrough's lab against a kernel with IPVS (the VM lane): up, verify and down with
//! real HTTP; verify catches each breakage; three real servers; down leaves nothing, not even
//! a zombie responder.
//!
//! The labs use fixed namespace names (client, lb, ap...), so the tests take turns on one
//! lock. Each test's bridge lives in its own thread's namespace (from
//! `testkit::kernel_test()`), and every test takes its lab down even when it fails.

#![cfg(feature = "kernel-tests")]

use std::net::IpAddr;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ipvs_rs::{Destination, Forwarding};
use rtsetup::lab::{ipvs, Lab, Mode, Report, Topology};
use rtsetup::sysctl::{self, Key};
use rtsetup::{Netns, NetnsExt, Rtnl};

static ONE_LAB_AT_A_TIME: Mutex<()> = Mutex::new(());

const RESPONDER: &str = env!("CARGO_BIN_EXE_rtsetup");

/// Runs `test` on a lab that is up, then takes it down and checks nothing is left.
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
    lab.up(Path::new(RESPONDER)).expect("lab up");
    let started = responders();
    assert_eq!(
        started.len(),
        lab.topology().real_servers().count(),
        "one responder per real server"
    );
    for &(pid, parent) in &started {
        assert_ne!(
            parent,
            std::process::id() as i32,
            "responder {pid} is our child: it would stay a zombie after down"
        );
    }
    test(&lab);
    drop(guard);
    lab.down().expect("a second down is fine too");
    assert_nothing_left(lab.topology());
    for (pid, _) in started {
        assert_reaped(pid);
    }
}

/// Pid and parent pid of every running `serve-http` process.
fn responders() -> Vec<(i32, i32)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if !cmdline
            .split(|b| *b == 0)
            .any(|arg| arg == rtsetup::lab::SERVE_HTTP.as_bytes())
        {
            continue;
        }
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let parent = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse().ok());
        if let Some(parent) = parent {
            found.push((pid, parent));
        }
    }
    found
}

/// `pid` leaves /proc altogether: stopped and reaped, not a zombie. Init reaps it when it
/// gets to it, hence the (generous) deadline.
fn assert_reaped(pid: i32) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        assert!(
            Instant::now() < deadline,
            "responder {pid} is left after down: {stat}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
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
    for name in topology
        .bridges
        .iter()
        .cloned()
        .chain(topology.hosts.iter().map(|h| h.bridge_link(0)))
    {
        assert!(
            here.find_link(&name).unwrap().is_none(),
            "link {name} is left"
        );
    }
    let state = Path::new(rtsetup::lab::STATE_ROOT).join(&topology.name);
    assert!(!state.exists(), "{} is left", state.display());
    let left = responders();
    assert!(left.is_empty(), "responders are left: {left:?}");
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

fn servers(report: &Report) -> std::collections::BTreeSet<String> {
    report
        .requests
        .iter()
        .filter_map(|r| r.server.clone())
        .collect()
}

#[test]
fn the_walkthrough_lab_comes_up_verifies_and_goes_down() {
    with_lab(Topology::walkthrough(1, "rr").unwrap(), |lab| {
        let report = lab.verify().unwrap();
        assert_holds(&report);
        assert_eq!(servers(&report), ["ap".to_string()].into());
        assert!(report.requests.iter().all(|r| r.status == Some(200)));
        let counters = report.ipvs.as_ref().expect("IPVS evidence");
        assert!(counters.in_pkts > 0);
        assert_eq!(counters.out_pkts, 0, "the director must never see a reply");
        // lb forwarded the client's packet to ap's MAC with the client still the source.
        let forwarded = report.path.iter().find(|f| {
            f.host == "lb"
                && f.frame.ipv4().is_some_and(|ip| {
                    ip.src.octets() == [192, 168, 0, 1] && ip.dst.octets() == [192, 168, 0, 10]
                })
                && f.direction == rtsetup::capture::Direction::Out
        });
        assert!(
            forwarded.is_some(),
            "no forwarded frame on lb-veth0: {:#?}",
            report.path
        );
        // Each hop shows the handshake's SYN and the request's data as tcpdump prints them.
        for host in ["client", "lb", "ap"] {
            let on = |pattern: &str| {
                report
                    .path
                    .iter()
                    .any(|f| f.host == host && f.summary.contains(pattern))
            };
            assert!(on("Flags [S], length 0"), "{host}: {:#?}", report.path);
            assert!(on("Flags [P.], length "), "{host}: {:#?}", report.path);
        }
        // Up again changes nothing and breaks nothing.
        lab.up(Path::new(RESPONDER)).unwrap();
        assert_holds(&lab.verify().unwrap());
    });
}

#[test]
fn verify_names_each_breakage() {
    with_lab(Topology::walkthrough(1, "rr").unwrap(), |lab| {
        let ap = Netns::open("ap").unwrap();
        let lb = Netns::open("lb").unwrap();
        let set = |key: &str, value: &str| {
            for iface in ["all", "ap-veth0"] {
                sysctl::write(&ap, &Key::ipv4_conf(iface, key), value).unwrap();
            }
        };
        let repair = || {
            lab.up(Path::new(RESPONDER)).unwrap();
            assert_holds(&lab.verify().unwrap());
        };

        set("arp_ignore", "0");
        let report = lab.verify().unwrap();
        assert!(
            failing(&report).contains(&"arp_ignore:ap:ap-veth0".to_string()),
            "{:?}",
            failing(&report)
        );
        let detail = &report
            .failures()
            .find(|c| c.name.starts_with("arp_ignore"))
            .unwrap()
            .detail;
        assert!(
            detail.contains("net.ipv4.conf.all.arp_ignore=0"),
            "{detail}"
        );
        // The client's fresh ARP request is answered by ap as well.
        assert!(
            failing(&report).contains(&"arp:vip".to_string()),
            "{:?}",
            failing(&report)
        );
        repair();

        set("arp_announce", "0");
        let report = lab.verify().unwrap();
        // Whether ap's leaked announcements also repoint the client's cache entry for the VIP
        // within the live check depends on timing; the static check names the cause either way.
        let failed = failing(&report);
        assert!(
            failed.contains(&"arp_announce:ap:ap-veth0".to_string()),
            "{failed:?}"
        );
        let detail = &report
            .failures()
            .find(|c| c.name.starts_with("arp_announce"))
            .unwrap()
            .detail;
        assert!(
            detail.contains("net.ipv4.conf.all.arp_announce=0"),
            "{detail}"
        );
        assert!(
            !failed
                .iter()
                .any(|f| f.starts_with("arp_ignore") || f.starts_with("ipvs")),
            "{failed:?}"
        );
        repair();

        let vip: rtsetup::IpNet = "192.168.0.10/32".parse().unwrap();
        Rtnl::open(&ap).unwrap().delete_address("lo", vip).unwrap();
        let report = lab.verify().unwrap();
        let failed = failing(&report);
        assert!(failed.contains(&"vip-on-lo:ap".to_string()), "{failed:?}");
        assert!(
            failed.contains(&"http".to_string()),
            "without the VIP ap drops the requests: {failed:?}"
        );
        repair();

        let handle = ipvs::open(&lb).unwrap();
        let key = ipvs::service_key(lab.topology());
        let masq =
            Destination::new(IpAddr::from([192, 168, 0, 3]), 80).with_forwarding(Forwarding::Masq);
        handle.update_destination(&key, &masq).unwrap();
        let report = lab.verify().unwrap();
        let failed = failing(&report);
        assert!(
            failed.contains(&"ipvs-destination:ap".to_string()),
            "{failed:?}"
        );
        let detail = &report
            .failures()
            .find(|c| c.name == "ipvs-destination:ap")
            .unwrap()
            .detail;
        assert!(detail.contains("Masq") && detail.contains("-g"), "{detail}");
        repair();
    });
}

#[test]
fn three_real_servers_all_answer() {
    with_lab(Topology::walkthrough(3, "rr").unwrap(), |lab| {
        let report = lab.verify().unwrap();
        assert_holds(&report);
        let expected: std::collections::BTreeSet<String> = ["ap1", "ap2", "ap3"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(servers(&report), expected);
        assert_eq!(report.ipvs.as_ref().unwrap().destinations.len(), 3);
    });
}

#[test]
fn down_cleans_up_after_a_failed_up() {
    testkit::kernel_test();
    let _turn = ONE_LAB_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let lab = Lab::new(Topology::walkthrough(2, "rr").unwrap()).unwrap();
    let err = lab.up(Path::new("/nonexistent/rtsetup")).unwrap_err();
    assert!(err.to_string().contains("serve-http in ap1"), "{err}");
    assert!(Netns::exists("lb"), "up got as far as the namespaces");
    lab.down().unwrap();
    assert_nothing_left(lab.topology());
}

#[test]
fn nat_and_tunnel_labs_from_topology_files() {
    let nat = include_str!("../labs/nat.toml");
    with_lab(Topology::from_toml(nat).unwrap(), |lab| {
        assert_eq!(lab.topology().mode, Mode::Masq);
        let report = lab.verify().unwrap();
        assert_holds(&report);
        assert!(
            report.ipvs.as_ref().unwrap().out_pkts > 0,
            "NAT replies pass the director"
        );
        assert_eq!(servers(&report).len(), 2);
    });

    let tunnel = Topology::from_toml(include_str!("../labs/tunnel.toml")).unwrap();
    with_lab(tunnel, |lab| {
        let report = lab.verify().unwrap();
        assert_holds(&report);
        assert_eq!(report.ipvs.as_ref().unwrap().out_pkts, 0);
        let encapsulated = report
            .path
            .iter()
            .any(|f| f.host == "lb" && f.frame.ipv4().is_some_and(|ip| ip.inner.is_some()));
        assert!(
            encapsulated,
            "no IP-in-IP frame from lb: {:#?}",
            report.path
        );
    });
}
