//! Reconcile policy against the real kernel: draining a real server that holds a live
//! connection over several reconciles (by `reconcile_with` and by the cached `Reconciler`),
//! capped deletes, vetoed changes, and failures tied to the failure that caused them.
#![cfg(feature = "kernel-tests")]

mod support;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use ipvs_rs::reconcile::{self, Change, DestinationId, Plan, Policy, Removal, Scope, Table};
use ipvs_rs::{Destination, Error, Forwarding, Handle, Scheduler, Service, ServiceKey};
use support::{handle, reset, run};

fn vip(n: u8) -> ServiceKey {
    ServiceKey::tcp(Ipv4Addr::new(10, 0, 0, n), 80)
}

fn real(n: u8) -> Destination {
    Destination::new(Ipv4Addr::new(192, 168, 1, n), 80)
}

fn ids(ipvs: &Handle, key: &ServiceKey) -> Vec<DestinationId> {
    let mut ids: Vec<_> = ipvs
        .destinations(key)
        .unwrap()
        .iter()
        .map(DestinationId::of)
        .collect();
    ids.sort();
    ids
}

/// A loopback real server for masquerading, on `port`.
fn backend(port: u16) -> Destination {
    Destination::new(Ipv4Addr::LOCALHOST, port).with_forwarding(Forwarding::Masq)
}

/// One echo exchange on `conn`.
fn echo(conn: &mut TcpStream, server: &mut TcpStream) {
    conn.write_all(b"ping").unwrap();
    let mut buf = [0; 4];
    server.read_exact(&mut buf).unwrap();
    server.write_all(&buf).unwrap();
    conn.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping");
}

/// A real server with a live connection through it is drained, kept while the connection
/// lives (over several reconciles), and deleted by the first reconcile after its last
/// connection is gone; its replacement takes the new connections meanwhile.
#[test]
fn drain_keeps_a_busy_real_server_until_its_connections_end() {
    let ipvs = handle();
    run("ip", &["addr", "add", "10.20.0.1/32", "dev", "lo"]);
    let key = ServiceKey::tcp(Ipv4Addr::new(10, 20, 0, 1), 80);
    let scope = Scope::desired();
    let drain = Policy::default().with_removal(Removal::Drain);
    let (old, new) = (backend(8081), backend(8082));
    let old_listener = TcpListener::bind("127.0.0.1:8081").unwrap();
    let new_listener = TcpListener::bind("127.0.0.1:8082").unwrap();

    let mut desired = Table::new();
    desired.insert(
        Service::new(key).with_scheduler(Scheduler::RoundRobin),
        [old.clone()],
    );
    let report = reconcile::reconcile_with(&ipvs, &desired, &scope, &drain).unwrap();
    assert!(report.is_success(), "{report:?}");

    let mut conn = TcpStream::connect("10.20.0.1:80").unwrap();
    let (mut served, _) = old_listener.accept().unwrap();
    echo(&mut conn, &mut served);

    // The old real server leaves the desired state: weight 0 first, not deleted.
    desired.insert(
        Service::new(key).with_scheduler(Scheduler::RoundRobin),
        [new.clone()],
    );
    let plan = reconcile::plan_with(&ipvs, &desired, &scope, &drain).unwrap();
    let shown: Vec<String> = plan.changes().iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "drain destination 127.0.0.1:8081 of tcp:10.20.0.1:80 (weight 1 -> 0)",
            "add destination 127.0.0.1:8082 to tcp:10.20.0.1:80",
        ]
    );
    let report = reconcile::apply(&ipvs, plan);
    assert!(report.is_success(), "{report:?}");
    assert_eq!(
        report.drained_destinations,
        [(key, DestinationId::of(&old))]
    );
    let weights: Vec<(u16, i32)> = ipvs
        .destinations(&key)
        .unwrap()
        .iter()
        .map(|d| (d.port, d.weight))
        .collect();
    assert!(
        weights.contains(&(8081, 0)) && weights.contains(&(8082, 1)),
        "{weights:?}"
    );

    // New connections go to the new server; the old connection still works.
    let mut fresh = TcpStream::connect("10.20.0.1:80").unwrap();
    let (mut fresh_served, _) = new_listener.accept().unwrap();
    echo(&mut fresh, &mut fresh_served);
    for _ in 0..3 {
        let report = reconcile::reconcile_with(&ipvs, &desired, &scope, &drain).unwrap();
        assert_eq!(report.applied(), 0, "{report:?}");
        assert_eq!(report.draining, [(key, DestinationId::of(&old))]);
        echo(&mut conn, &mut served);
    }

    // A plan made from a stale read that shows the server idle: the delete is re-verified
    // against the kernel, which still counts the connection, and is not sent.
    let mut stale = Table::read(&ipvs, &scope, &desired).unwrap();
    let mut idle_old = ipvs
        .destinations(&key)
        .unwrap()
        .into_iter()
        .find(|d| d.port == 8081)
        .unwrap();
    assert!(
        idle_old.active_conns + idle_old.inactive_conns > 0,
        "{idle_old:?}"
    );
    idle_old.active_conns = 0;
    idle_old.inactive_conns = 0;
    assert!(stale.insert_destination(&key, idle_old.clone()));
    let plan = Plan::compute_with(&stale, &desired, &scope, &drain);
    assert_eq!(
        plan.changes(),
        [Change::DeleteDestination(key, idle_old.clone())]
    );
    let report = reconcile::apply(&ipvs, plan);
    assert_eq!(report.deferred, [Change::DeleteDestination(key, idle_old)]);
    assert_eq!(report.applied(), 0, "{report:?}");
    echo(&mut conn, &mut served);

    // Once the connection is gone and the kernel has expired it, the next run deletes it.
    reset(conn);
    drop(served);
    let deadline = Instant::now() + Duration::from_secs(120);
    let deleted = loop {
        let report = reconcile::reconcile_with(&ipvs, &desired, &scope, &drain).unwrap();
        assert!(report.is_success(), "{report:?}");
        if !report.deleted_destinations.is_empty() {
            break report.deleted_destinations;
        }
        // Not deleted: because the kernel still counted a connection on it.
        assert_eq!(
            report.draining,
            [(key, DestinationId::of(&old))],
            "{report:?}"
        );
        assert!(Instant::now() < deadline, "the connection never expired");
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(deleted, [(key, DestinationId::of(&old))]);
    assert_eq!(ids(&ipvs, &key), [DestinationId::of(&new)]);
    echo(&mut fresh, &mut fresh_served);
}

/// The cached `Reconciler` drains with the same rules, on connection counts it re-reads
/// from the kernel at each sync: a live connection keeps the drained server, its end lets
/// the next sync delete it.
#[test]
fn the_cached_reconciler_drains_a_busy_real_server() {
    use ipvs_rs::reconcile::Reconciler;
    let ipvs = handle();
    run("ip", &["addr", "add", "10.20.0.2/32", "dev", "lo"]);
    let key = ServiceKey::tcp(Ipv4Addr::new(10, 20, 0, 2), 80);
    let (old, new) = (backend(8083), backend(8084));
    let old_listener = TcpListener::bind("127.0.0.1:8083").unwrap();
    let new_listener = TcpListener::bind("127.0.0.1:8084").unwrap();
    let mut reconciler = Reconciler::new(Scope::desired())
        .with_policy(Policy::default().with_removal(Removal::Drain));
    let service = Service::new(key).with_scheduler(Scheduler::RoundRobin);
    let mut desired = Table::new();
    desired.insert(service.clone(), [old.clone()]);
    assert!(reconciler
        .sync(&ipvs, &desired)
        .unwrap()
        .report
        .is_success());

    let mut conn = TcpStream::connect("10.20.0.2:80").unwrap();
    let (mut served, _) = old_listener.accept().unwrap();
    echo(&mut conn, &mut served);

    desired.insert(service, [new.clone()]);
    let sync = reconciler.sync(&ipvs, &desired).unwrap();
    assert_eq!(sync.resync, None, "planned from the cache");
    assert!(sync.report.is_success(), "{}", sync.report);
    assert_eq!(
        sync.report.drained_destinations,
        [(key, DestinationId::of(&old))]
    );
    let mut fresh = TcpStream::connect("10.20.0.2:80").unwrap();
    let (mut fresh_served, _) = new_listener.accept().unwrap();
    echo(&mut fresh, &mut fresh_served);
    for _ in 0..3 {
        let sync = reconciler.sync(&ipvs, &desired).unwrap();
        assert_eq!((sync.resync, sync.reverified), (None, 1));
        assert_eq!(sync.report.applied(), 0, "{}", sync.report);
        assert_eq!(sync.report.draining, [(key, DestinationId::of(&old))]);
        echo(&mut conn, &mut served);
    }

    reset(conn);
    drop(served);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let sync = reconciler.sync(&ipvs, &desired).unwrap();
        assert!(sync.report.is_success(), "{}", sync.report);
        if !sync.report.deleted_destinations.is_empty() {
            assert_eq!(
                sync.report.deleted_destinations,
                [(key, DestinationId::of(&old))]
            );
            break;
        }
        assert_eq!(sync.report.draining, [(key, DestinationId::of(&old))]);
        assert!(Instant::now() < deadline, "the connection never expired");
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(ids(&ipvs, &key), [DestinationId::of(&new)]);
    let quiet = reconciler.sync(&ipvs, &desired).unwrap();
    assert_eq!((quiet.reverified, quiet.report.changes.len()), (0, 0));
    echo(&mut fresh, &mut fresh_served);
}

/// At most N deletes per run: the rest goes in later runs, in plan order.
#[test]
fn capped_deletes_spread_over_runs() {
    let ipvs = handle();
    let mut desired = Table::new();
    desired.insert(Service::new(vip(1)), (1..=5).map(real));
    reconcile::reconcile(&ipvs, &desired, &Scope::desired()).unwrap();
    desired.insert(Service::new(vip(1)), [real(6)]);
    let capped = Policy::default().with_max_deletes(2);
    let mut left = Vec::new();
    for _ in 0..4 {
        let report =
            reconcile::reconcile_with(&ipvs, &desired, &Scope::desired(), &capped).unwrap();
        assert!(report.is_success(), "{report:?}");
        assert!(report.deleted_destinations.len() <= 2, "{report:?}");
        left.push(ids(&ipvs, &vip(1)).len());
    }
    // 5 old + 1 new, then 2 deleted per run.
    assert_eq!(left, [4, 2, 1, 1]);
    assert_eq!(ids(&ipvs, &vip(1)), [DestinationId::of(&real(6))]);
}

/// Vetoed changes are not applied, nor what needs them; everything else is.
#[test]
fn vetoed_changes_are_not_applied() {
    let ipvs = handle();
    let mut desired = Table::new();
    desired.insert(Service::new(vip(1)), [real(1), real(2)]);
    reconcile::reconcile(&ipvs, &desired, &Scope::desired()).unwrap();

    desired.insert(Service::new(vip(1)), [real(3)]);
    desired.insert(Service::new(vip(2)), [real(1)]);
    let mut plan = reconcile::plan(&ipvs, &desired, &Scope::desired()).unwrap();
    let protected = DestinationId::of(&real(1));
    let vetoed = plan.veto(|change| match change {
        Change::DeleteDestination(_, d) => DestinationId::of(d) == protected,
        Change::AddService(s) => s.key == vip(2),
        _ => false,
    });
    assert_eq!(vetoed.len(), 3, "{vetoed:?}");
    let report = reconcile::apply(&ipvs, plan);
    assert!(report.is_success(), "{report:?}");
    assert_eq!(
        ids(&ipvs, &vip(1)),
        [DestinationId::of(&real(1)), DestinationId::of(&real(3))]
    );
    assert!(matches!(ipvs.service(&vip(2)), Err(Error::NoSuchService)));
}

/// After a service's add fails, each failure of its destinations points to it.
#[test]
fn failures_point_to_the_failure_that_caused_them() {
    let ipvs = handle();
    let mut desired = Table::new();
    desired.insert(
        Service::new(vip(1)).with_scheduler(Scheduler::from_name("nosuchsched")),
        [real(1), real(2)],
    );
    desired.insert(Service::new(vip(2)), [real(1), real(3).with_weight(-1)]);
    let report = reconcile::reconcile(&ipvs, &desired, &Scope::desired()).unwrap();

    let causes: Vec<(String, Option<usize>)> = report
        .failures
        .iter()
        .map(|f| (f.change.to_string(), f.caused_by))
        .collect();
    assert_eq!(
        causes,
        [
            ("add service tcp:10.0.0.1:80".to_string(), None),
            (
                "add destination 192.168.1.1:80 to tcp:10.0.0.1:80".to_string(),
                Some(0)
            ),
            (
                "add destination 192.168.1.2:80 to tcp:10.0.0.1:80".to_string(),
                Some(0)
            ),
            (
                "add destination 192.168.1.3:80 to tcp:10.0.0.2:80".to_string(),
                None
            ),
        ]
    );
    assert_eq!(report.root_failures().count(), 2);
    let described = report.describe(&report.failures[1]);
    assert!(
        described.starts_with("add destination 192.168.1.1:80 to tcp:10.0.0.1:80: no such service (caused by: add service tcp:10.0.0.1:80: "),
        "{described}"
    );
    assert_eq!(
        report.added_destinations,
        [(vip(2), DestinationId::of(&real(1)))]
    );
}
