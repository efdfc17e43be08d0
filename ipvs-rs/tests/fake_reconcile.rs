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
