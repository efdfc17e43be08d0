//! The reconcile, blocking and async, against `FakeIpvs` on the host: the same code paths the
//! kernel lane runs against a `Handle` and an `AsyncHandle`.

use std::net::Ipv4Addr;

use ipvs_rs::fake::FakeIpvs;
use ipvs_rs::reconcile::{self, Change, Scope, Table};
use ipvs_rs::{Destination, Error, Ipvs, Scheduler, Service, ServiceKey};

fn vip(n: u8) -> ServiceKey {
    ServiceKey::tcp(Ipv4Addr::new(10, 0, 0, n), 80)
}

fn real(n: u8) -> Destination {
    Destination::new(Ipv4Addr::new(192, 168, 1, n), 80)
}

fn owned() -> Scope {
    Scope::prefix(Ipv4Addr::new(10, 0, 0, 0).into(), 24)
}

/// A table the kernel (here, the fake) holds before the reconcile: one service to update,
/// one to delete, one outside the scope.
fn existing(ipvs: &FakeIpvs) {
    ipvs.add_service(&Service::new(vip(1))).unwrap();
    ipvs.add_destination(&vip(1), &real(1)).unwrap();
    ipvs.add_destination(&vip(1), &real(9)).unwrap();
    ipvs.add_service(&Service::new(vip(2))).unwrap();
    ipvs.add_service(&Service::new(ServiceKey::tcp(
        Ipv4Addr::new(172, 16, 0, 1),
        80,
    )))
    .unwrap();
}

fn desired() -> Table {
    let mut desired = Table::new();
    desired.insert(
        Service::new(vip(1)).with_scheduler(Scheduler::RoundRobin),
        [real(1).with_weight(5), real(2)],
    );
    desired.insert(Service::new(vip(3)), [real(3)]);
    desired
}

fn check(ipvs: &FakeIpvs, report: &reconcile::Report) {
    assert!(report.failures.is_empty(), "{report}");
    let mut keys: Vec<_> = ipvs
        .services()
        .unwrap()
        .into_iter()
        .map(|s| s.key)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            vip(1),
            vip(3),
            ServiceKey::tcp(Ipv4Addr::new(172, 16, 0, 1), 80)
        ]
    );
    assert_eq!(
        ipvs.service(&vip(1)).unwrap().scheduler,
        Scheduler::RoundRobin
    );
    let mut dests = ipvs.destinations(&vip(1)).unwrap();
    dests.sort_by_key(|d| d.addr);
    assert_eq!(dests, [real(1).with_weight(5), real(2)]);
    assert_eq!(ipvs.destinations(&vip(3)).unwrap(), [real(3)]);
}

#[test]
fn blocking_reconcile_against_the_fake() {
    let ipvs = FakeIpvs::new();
    existing(&ipvs);
    let report = reconcile::reconcile(&ipvs, &desired(), &owned()).unwrap();
    check(&ipvs, &report);
    assert!(reconcile::plan(&ipvs, &desired(), &owned())
        .unwrap()
        .is_empty());
    // A read that fails is an error before anything changes.
    ipvs.fail_next(Error::Timeout);
    assert!(matches!(
        reconcile::reconcile(&ipvs, &Table::new(), &owned()),
        Err(Error::Timeout)
    ));
    check(&ipvs, &report);
}

#[test]
fn async_reconcile_against_the_fake_matches_the_blocking_one() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let blocking = FakeIpvs::new();
    existing(&blocking);
    let plan = reconcile::plan(&blocking, &desired(), &owned()).unwrap();
    let ipvs = FakeIpvs::new();
    existing(&ipvs);
    runtime.block_on(async {
        let async_plan = reconcile::plan_async(&ipvs, &desired(), &owned())
            .await
            .unwrap();
        assert_eq!(async_plan, plan);
        assert!(plan
            .changes()
            .contains(&Change::DeleteDestination(vip(1), real(9))));
        let report = reconcile::apply_async(&ipvs, async_plan).await;
        check(&ipvs, &report);
        let again = reconcile::reconcile_async(&ipvs, &desired(), &owned())
            .await
            .unwrap();
        assert_eq!(again.applied(), 0, "{again}");
    });
}

/// A delete whose object vanished between the read and the apply is reported, not sent.
#[test]
fn deletes_are_re_verified_before_they_are_sent() {
    let ipvs = FakeIpvs::new();
    existing(&ipvs);
    let plan = reconcile::plan(&ipvs, &desired(), &owned()).unwrap();
    ipvs.delete_service(&vip(2)).unwrap();
    let report = reconcile::apply(&ipvs, plan.clone());
    assert_eq!(report.vanished, [Change::DeleteService(vip(2))]);
    assert!(report.failures.is_empty(), "{report}");
}

/// A request whose outcome is unknown (a receive timeout) makes the cached reconciler's next
/// sync read the whole table again, and that sync finishes the change.
#[test]
fn a_timed_out_request_forces_a_resync() {
    let ipvs = FakeIpvs::new();
    let mut reconciler = reconcile::Reconciler::new(owned());
    let first = reconciler.sync(&ipvs, &desired()).unwrap();
    assert_eq!(first.resync, Some(reconcile::Resync::First));
    assert!(first.report.failures.is_empty(), "{}", first.report);

    let mut more = desired();
    more.insert(Service::new(vip(5)), [real(5)]);
    ipvs.fail_next(Error::Timeout);
    let cached = reconciler.sync(&ipvs, &more).unwrap();
    assert_eq!(cached.resync, None, "the second sync works from the cache");
    assert!(
        matches!(cached.report.failures[0].error, Error::Timeout),
        "{}",
        cached.report
    );

    let next = reconciler.sync(&ipvs, &more).unwrap();
    assert_eq!(next.resync, Some(reconcile::Resync::Failure));
    assert!(next.report.failures.is_empty(), "{}", next.report);
    assert_eq!(ipvs.destinations(&vip(5)).unwrap(), [real(5)]);
    let idle = reconciler.sync(&ipvs, &more).unwrap();
    assert_eq!((idle.resync, idle.report.changes.len()), (None, 0));
}

/// `real(n)` as the fake reports it while `active` connections use it.
fn busy(n: u8, active: u32) -> Destination {
    let mut d = real(n);
    d.active_conns = active;
    d
}

fn ports_and_weights(ipvs: &FakeIpvs, key: &ServiceKey) -> Vec<(Ipv4Addr, i32)> {
    let mut found: Vec<_> = ipvs
        .destinations(key)
        .unwrap()
        .into_iter()
        .map(|d| match d.addr {
            std::net::IpAddr::V4(a) => (a, d.weight),
            other => panic!("unexpected address {other}"),
        })
        .collect();
    found.sort();
    found
}

/// The cached reconciler drains as `reconcile_with` does: weight 0 first, kept while the
/// kernel counts connections (read fresh at every sync, never from the cache), deleted by
/// the first sync after they are gone; on the resync path and on the cached path.
#[test]
fn the_cached_reconciler_drains_on_fresh_connection_counts() {
    use reconcile::{DestinationId, Policy, Reconciler, Removal, Resync};
    let ipvs = FakeIpvs::new();
    ipvs.add_service(&Service::new(vip(1))).unwrap();
    ipvs.add_destination(&vip(1), &real(1)).unwrap();
    ipvs.set_destination_stats(&vip(1), &busy(1, 2)).unwrap();
    let mut reconciler =
        Reconciler::new(owned()).with_policy(Policy::default().with_removal(Removal::Drain));
    let mut desired = Table::new();
    desired.insert(Service::new(vip(1)), [real(2)]);

    // First sync, from a whole-table read: .1 is drained, .2 added.
    let first = reconciler.sync(&ipvs, &desired).unwrap();
    assert_eq!(first.resync, Some(Resync::First));
    assert!(first.report.is_success(), "{}", first.report);
    assert_eq!(
        first.report.drained_destinations,
        [(vip(1), DestinationId::of(&real(1)))]
    );
    assert_eq!(
        ports_and_weights(&ipvs, &vip(1)),
        [
            (Ipv4Addr::new(192, 168, 1, 1), 0),
            (Ipv4Addr::new(192, 168, 1, 2), 1)
        ]
    );

    // From the cache, the draining service is re-read each time and .1 kept while busy;
    // a resync in between must not forget it.
    for resync in [None, Some(Resync::Requested), None] {
        if resync.is_some() {
            reconciler.request_resync();
        }
        let sync = reconciler.sync(&ipvs, &desired).unwrap();
        assert_eq!(sync.resync, resync);
        if resync.is_none() {
            assert_eq!(sync.reverified, 1, "the draining service is re-read");
        }
        assert_eq!(sync.report.applied(), 0, "{}", sync.report);
        assert_eq!(
            sync.report.draining,
            [(vip(1), DestinationId::of(&real(1)))]
        );
    }

    // The connections end: the next sync deletes it, and later ones read nothing.
    let mut idle = real(1);
    idle.weight = 0;
    ipvs.set_destination_stats(&vip(1), &idle).unwrap();
    let gone = reconciler.sync(&ipvs, &desired).unwrap();
    assert_eq!(
        gone.report.deleted_destinations,
        [(vip(1), DestinationId::of(&real(1)))],
        "{}",
        gone.report
    );
    assert_eq!(
        ports_and_weights(&ipvs, &vip(1)),
        [(Ipv4Addr::new(192, 168, 1, 2), 1)]
    );
    let quiet = reconciler.sync(&ipvs, &desired).unwrap();
    assert_eq!((quiet.reverified, quiet.report.changes.len()), (0, 0));
    assert!(quiet.report.draining.is_empty());
}

/// A cap on deletes holds back the rest for later syncs, on the resync path (where the cache
/// must keep what was held back, even of a service with nothing else to change) and on the
/// cached path.
#[test]
fn the_cached_reconciler_caps_deletes_per_sync() {
    use reconcile::{Policy, Reconciler};
    let ipvs = FakeIpvs::new();
    for key in [vip(1), vip(2)] {
        ipvs.add_service(&Service::new(key)).unwrap();
        for n in 1..=3 {
            ipvs.add_destination(&key, &real(n)).unwrap();
        }
    }
    ipvs.add_service(&Service::new(vip(4))).unwrap();
    let mut reconciler =
        Reconciler::new(owned()).with_policy(Policy::default().with_max_deletes(2));
    let mut desired = Table::new();
    desired.insert(Service::new(vip(1)), [real(1)]);
    desired.insert(Service::new(vip(2)), [real(1)]);

    let mut left = Vec::new();
    for _ in 0..4 {
        let sync = reconciler.sync(&ipvs, &desired).unwrap();
        assert!(sync.report.is_success(), "{}", sync.report);
        let deletes = sync.report.changes.iter().filter(|c| c.is_delete()).count();
        assert!(deletes <= 2, "{}", sync.report);
        left.push((
            ipvs.destinations(&vip(1)).unwrap().len(),
            ipvs.destinations(&vip(2)).unwrap().len(),
            ipvs.service(&vip(4)).is_ok(),
        ));
    }
    // Plan order: destination deletes first, the service delete last.
    assert_eq!(
        left,
        [(1, 3, true), (1, 1, true), (1, 1, false), (1, 1, false)]
    );
}

/// `Reconciler::sync_async` on a tokio task (the future is `Send`): the same outcome as the
/// blocking sync, drift found at a resync and repaired.
#[test]
fn the_cached_reconciler_syncs_on_a_tokio_task() {
    use reconcile::{Reconciler, Resync};
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let ipvs = std::sync::Arc::new(FakeIpvs::new());
    existing(&ipvs);
    let shared = ipvs.clone();
    let task = runtime.spawn(async move {
        let mut reconciler = Reconciler::new(owned());
        let first = reconciler.sync_async(&*shared, &desired()).await.unwrap();
        // Another writer removes a real server the reconciler put there.
        shared.delete_destination(&vip(3), &real(3)).unwrap();
        reconciler.request_resync();
        let repaired = reconciler.sync_async(&*shared, &desired()).await.unwrap();
        let idle = reconciler.sync_async(&*shared, &desired()).await.unwrap();
        (first, repaired, idle)
    });
    let (first, repaired, idle) = runtime.block_on(task).unwrap();
    assert_eq!(first.resync, Some(Resync::First));
    check(&ipvs, &first.report);
    assert_eq!(repaired.resync, Some(Resync::Requested));
    assert_eq!(
        repaired.drift,
        [Change::DeleteDestination(vip(3), real(3))],
        "the writer's delete is reported as drift"
    );
    check(&ipvs, &repaired.report);
    assert_eq!(repaired.report.applied(), 1, "{}", repaired.report);
    assert_eq!((idle.resync, idle.report.changes.len()), (None, 0));
}

/// A new scope makes the next sync read the whole table: services it brings in are
/// reconciled (deleted when not desired) without being reported as drift.
#[test]
fn a_new_scope_is_read_before_it_is_reconciled() {
    use reconcile::{Reconciler, Resync};
    let ipvs = FakeIpvs::new();
    ipvs.add_service(&Service::new(vip(7))).unwrap();
    let mut desired = Table::new();
    desired.insert(Service::new(vip(1)), [real(1)]);
    let mut reconciler = Reconciler::new(Scope::keys([vip(1)]));
    assert!(reconciler
        .sync(&ipvs, &desired)
        .unwrap()
        .report
        .is_success());
    let untouched = reconciler.sync(&ipvs, &desired).unwrap();
    assert_eq!(
        (untouched.resync, untouched.report.changes.len()),
        (None, 0)
    );
    assert!(ipvs.service(&vip(7)).is_ok(), "outside the scope");

    // Widened while another resync is pending: still no drift for what it brings in.
    reconciler.request_resync();
    reconciler.set_scope(Scope::keys([vip(1), vip(7)]));
    let widened = reconciler.sync(&ipvs, &desired).unwrap();
    assert_eq!(widened.resync, Some(Resync::Requested));
    assert!(widened.drift.is_empty(), "{:?}", widened.drift);
    assert_eq!(
        widened.report.changes,
        [Change::DeleteService(vip(7))],
        "{}",
        widened.report
    );
    assert!(matches!(ipvs.service(&vip(7)), Err(Error::NoSuchService)));
    assert_eq!(reconciler.sync(&ipvs, &desired).unwrap().resync, None);

    ipvs.add_service(&Service::new(vip(8))).unwrap();
    reconciler.set_scope(Scope::keys([vip(1), vip(7), vip(8)]));
    let again = reconciler.sync(&ipvs, &desired).unwrap();
    assert_eq!(again.resync, Some(Resync::Scope));
    assert!(again.drift.is_empty(), "{:?}", again.drift);
    assert_eq!(again.report.changes, [Change::DeleteService(vip(8))]);
}
