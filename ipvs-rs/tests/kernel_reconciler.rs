//! The cached reconciler against the real kernel: it leaves the same table as full
//! reconciles, finds and repairs what another writer changed, and reads the whole table again
//! after a failed request.
#![cfg(feature = "kernel-tests")]

use std::net::Ipv4Addr;

use ipvs_rs::reconcile::{self, Change, Reconciler, Resync, Scope, Table};
use ipvs_rs::{Destination, Forwarding, Handle, Scheduler, Service, ServiceFlags, ServiceKey};
use proptest::prelude::*;

fn handle() -> Handle {
    testkit::kernel_test();
    Handle::new().expect("open an IPVS handle")
}

/// A handle in a fresh namespace of its own (the sockets stay there).
fn other_namespace() -> Handle {
    std::thread::spawn(|| {
        testkit::isolate_netns().unwrap();
        Handle::new().unwrap()
    })
    .join()
    .unwrap()
}

fn vip(n: u8) -> ServiceKey {
    ServiceKey::tcp(Ipv4Addr::new(10, 0, 0, n), 80)
}

fn real(n: u8) -> Destination {
    Destination::new(Ipv4Addr::new(192, 168, 1, n), 80)
}

fn owned() -> Scope {
    Scope::prefix(Ipv4Addr::new(10, 0, 0, 0).into(), 24)
}

/// A service outside the scope, which no sync may touch.
fn foreign() -> ServiceKey {
    ServiceKey::tcp(Ipv4Addr::new(192, 0, 2, 1), 443)
}

type Settings = Vec<(String, Vec<(String, String, i32, u32, u32)>)>;

/// The kernel's table as settings: no counters, no HASHED.
fn settings(ipvs: &Handle) -> Settings {
    let mut all: Settings = ipvs
        .table()
        .unwrap()
        .map(|entry| {
            let (mut svc, dests) = entry.unwrap();
            svc.flags.remove(ServiceFlags::HASHED);
            svc.stats = Default::default();
            let mut dests: Vec<_> = dests
                .iter()
                .map(|d| {
                    (
                        format!("{}:{}", d.addr, d.port),
                        format!("{:?}", d.forwarding),
                        d.weight,
                        d.upper_threshold,
                        d.lower_threshold,
                    )
                })
                .collect();
            dests.sort_by(|a, b| a.0.cmp(&b.0));
            (format!("{svc:?}"), dests)
        })
        .collect();
    all.sort();
    all
}

fn seed_foreign(ipvs: &Handle) {
    ipvs.add_service(&Service::new(foreign())).unwrap();
    ipvs.add_destination(
        &foreign(),
        &Destination::new(Ipv4Addr::new(192, 168, 1, 9), 443),
    )
    .unwrap();
}

/// One desired state drawn from `bits`: up to six services of the scope, each with a
/// scheduler, a persistence choice and up to five real servers of varied weights and methods.
fn desired_from(bits: &[u32]) -> Table {
    let mut table = Table::new();
    for (i, b) in bits.iter().enumerate() {
        if b & 1 == 0 {
            continue;
        }
        let scheduler = if b >> 1 & 1 == 0 {
            Scheduler::RoundRobin
        } else {
            Scheduler::WeightedLeastConnection
        };
        let mut svc = Service::new(vip(i as u8 + 1)).with_scheduler(scheduler);
        if b >> 2 & 1 == 1 {
            svc = svc.with_persistence(300);
        }
        let dests = (1..=5u8).filter(|n| b >> (2 + n) & 1 == 1).map(|n| {
            let method = [Forwarding::Route, Forwarding::Masq][(b >> (8 + n) & 1) as usize];
            real(n)
                .with_weight((b >> (14 + n) & 3) as i32)
                .with_forwarding(method)
        });
        table.insert(svc, dests);
    }
    table
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    /// Two namespaces start alike; one follows a sequence of desired states with a
    /// `Reconciler`, the other with a full reconcile each time: after every step both kernels
    /// hold the same table, and the cached syncs read the whole table only once.
    #[test]
    fn cached_syncs_leave_the_table_full_reconciles_leave(
        steps in proptest::collection::vec(proptest::collection::vec(any::<u32>(), 6), 1..8)
    ) {
        let cached = handle();
        let full = other_namespace();
        seed_foreign(&cached);
        seed_foreign(&full);
        let mut reconciler = Reconciler::new(owned());
        for (n, bits) in steps.iter().enumerate() {
            let desired = desired_from(bits);
            let sync = reconciler.sync(&cached, &desired).unwrap();
            prop_assert!(sync.report.is_success(), "{:?}", sync.report.failures);
            prop_assert_eq!(sync.resync, (n == 0).then_some(Resync::First));
            prop_assert!(sync.drift.is_empty(), "{:?}", sync.drift);
            let report = reconcile::reconcile(&full, &desired, &owned()).unwrap();
            prop_assert!(report.is_success(), "{:?}", report.failures);
            prop_assert_eq!(settings(&cached), settings(&full), "step {}", n);
            prop_assert_eq!(
                reconcile::plan(&cached, &desired, &owned()).unwrap().len(), 0,
                "step {}: the cached sync left something to do", n
            );
        }
    }
}

/// A change as its kind and objects, without the values it carries.
fn what(change: &Change) -> String {
    let text = change.to_string();
    text.split(" (").next().unwrap_or_default().to_string()
}

/// The owned table of the drift tests: four services of three real servers each.
fn four_services() -> Table {
    let mut desired = Table::new();
    for n in 1..=4 {
        desired.insert(
            Service::new(vip(n)).with_scheduler(Scheduler::RoundRobin),
            (1..=3).map(real),
        );
    }
    desired
}

/// What another writer does between syncs: one change of each kind, on three services.
fn another_writer(ipvs: &Handle) -> usize {
    ipvs.delete_destination(&vip(1), &real(1)).unwrap();
    ipvs.update_destination(&vip(1), &real(2).with_weight(9))
        .unwrap();
    ipvs.add_destination(&vip(2), &real(7)).unwrap();
    ipvs.update_service(&Service::new(vip(3)).with_scheduler(Scheduler::SourceHashing))
        .unwrap();
    ipvs.delete_service(&vip(4)).unwrap();
    ipvs.add_service(&Service::new(vip(5))).unwrap();
    6
}

#[test]
fn drift_is_found_at_the_next_resync_and_repaired_exactly() {
    let ipvs = handle();
    seed_foreign(&ipvs);
    let desired = four_services();
    let mut reconciler = Reconciler::new(owned());
    reconciler.sync(&ipvs, &desired).unwrap();
    let clean = settings(&ipvs);
    let drifted = another_writer(&ipvs);

    // The cache does not know: a sync of the same state sends nothing and reads nothing.
    let quiet = reconciler.sync(&ipvs, &desired).unwrap();
    assert_eq!(quiet.resync, None);
    assert_eq!((quiet.report.applied(), quiet.reverified), (0, 0));

    reconciler.request_resync();
    let sync = reconciler.sync(&ipvs, &desired).unwrap();
    assert_eq!(sync.resync, Some(Resync::Requested));
    let mut drift: Vec<String> = sync.drift.iter().map(what).collect();
    drift.sort();
    assert_eq!(
        drift,
        [
            "add destination 192.168.1.7:80 to tcp:10.0.0.2:80",
            "add service tcp:10.0.0.5:80",
            "delete destination 192.168.1.1:80 of tcp:10.0.0.1:80",
            "delete service tcp:10.0.0.4:80",
            "update destination 192.168.1.2:80 of tcp:10.0.0.1:80",
            "update service tcp:10.0.0.3:80",
        ]
    );
    assert_eq!(sync.drift.len(), drifted);
    // The repair: each drifted object back, the deleted service with its three real servers.
    let r = &sync.report;
    assert!(r.is_success(), "{:?}", r.failures);
    assert_eq!(
        (
            r.added_services.len(),
            r.updated_services.len(),
            r.deleted_services.len(),
            r.added_destinations.len(),
            r.updated_destinations.len(),
            r.deleted_destinations.len(),
        ),
        (1, 1, 1, 4, 1, 1)
    );
    assert_eq!(settings(&ipvs), clean, "the resync repaired the table");
}

/// Drift on a service the next sync touches is found without a resync: the update or delete
/// re-reads its service first, and the plan for it is made from what the kernel holds.
#[test]
fn a_sync_finds_drift_on_the_services_it_touches() {
    let ipvs = handle();
    let mut desired = four_services();
    let mut reconciler = Reconciler::new(owned());
    reconciler.sync(&ipvs, &desired).unwrap();
    another_writer(&ipvs);
    // Reweight one real server of vip 1 and drop vip 4 (which the other writer deleted).
    desired.insert_destination(&vip(1), real(3).with_weight(4));
    desired.remove(&vip(4));
    let sync = reconciler.sync(&ipvs, &desired).unwrap();
    assert_eq!(sync.resync, None);
    assert_eq!(sync.reverified, 2);
    let mut drift: Vec<String> = sync.drift.iter().map(what).collect();
    drift.sort();
    assert_eq!(
        drift,
        [
            "delete destination 192.168.1.1:80 of tcp:10.0.0.1:80",
            "delete service tcp:10.0.0.4:80",
            "update destination 192.168.1.2:80 of tcp:10.0.0.1:80",
        ]
    );
    let r = &sync.report;
    assert!(r.is_success(), "{:?}", r.failures);
    // vip 1 is repaired along with the change; vip 4 is already gone, so nothing is sent.
    assert_eq!(
        r.added_destinations,
        [(vip(1), reconcile::DestinationId::of(&real(1)))]
    );
    assert_eq!(r.updated_destinations.len(), 2);
    assert!(r.deleted_services.is_empty() && r.vanished.is_empty());
    // vip 1 and vip 4 now match; the drift of the services this sync did not touch (vip 2,
    // vip 3, vip 5) waits for the next resync.
    let touched: Table = desired
        .iter()
        .filter(|e| e.service.key == vip(1))
        .map(|e| (e.service.clone(), e.destinations().to_vec()))
        .collect();
    let left = reconcile::plan(&ipvs, &touched, &Scope::keys([vip(1), vip(4)])).unwrap();
    assert!(left.is_empty(), "{:?}", left.changes());
    let left = reconcile::plan(&ipvs, &desired, &owned()).unwrap();
    assert_eq!(left.len(), 3, "{:?}", left.changes());
}

/// A request the kernel refuses (an add the cache did not know was done) is reported, and
/// the next sync reads the whole table and finishes the job.
#[test]
fn a_failed_request_forces_a_resync() {
    let ipvs = handle();
    let mut desired = four_services();
    let mut reconciler = Reconciler::new(owned());
    reconciler.sync(&ipvs, &desired).unwrap();
    ipvs.add_destination(&vip(2), &real(8).with_weight(3))
        .unwrap();
    desired.insert_destination(&vip(2), real(8));
    desired.insert_destination(&vip(3), real(8));
    let sync = reconciler.sync(&ipvs, &desired).unwrap();
    assert_eq!(sync.resync, None);
    assert_eq!(sync.report.failures.len(), 1, "{:?}", sync.report.failures);
    assert!(matches!(
        sync.report.failures[0].error,
        ipvs_rs::Error::DestinationExists
    ));
    assert_eq!(sync.report.added_destinations.len(), 1);

    let next = reconciler.sync(&ipvs, &desired).unwrap();
    assert_eq!(next.resync, Some(Resync::Failure));
    assert_eq!(next.drift.len(), 1, "{:?}", next.drift);
    assert_eq!(
        next.report.updated_destinations,
        [(vip(2), reconcile::DestinationId::of(&real(8)))]
    );
    assert!(reconcile::plan(&ipvs, &desired, &owned())
        .unwrap()
        .is_empty());
    let after = reconciler.sync(&ipvs, &desired).unwrap();
    assert_eq!((after.resync, after.report.applied()), (None, 0));
}

/// A resync period makes a sync read the whole table once it has passed.
#[test]
fn the_resync_period_makes_a_sync_read_the_table() {
    let ipvs = handle();
    let desired = four_services();
    let mut reconciler =
        Reconciler::new(owned()).with_resync_period(std::time::Duration::from_millis(200));
    reconciler.sync(&ipvs, &desired).unwrap();
    assert_eq!(reconciler.sync(&ipvs, &desired).unwrap().resync, None);
    std::thread::sleep(std::time::Duration::from_millis(250));
    assert_eq!(
        reconciler.sync(&ipvs, &desired).unwrap().resync,
        Some(Resync::Period)
    );
    assert_eq!(reconciler.sync(&ipvs, &desired).unwrap().resync, None);
}

/// The real kernel behind a link that loses one answer: the next write is carried out but
/// reported as [`Error::Timeout`](ipvs_rs::Error::Timeout), as when a receive times out after
/// the kernel acted.
struct LosesOneAnswer<'h> {
    kernel: &'h Handle,
    armed: std::cell::Cell<bool>,
}

impl LosesOneAnswer<'_> {
    fn lose(&self, result: ipvs_rs::Result<()>) -> ipvs_rs::Result<()> {
        if self.armed.replace(false) {
            result.and(Err(ipvs_rs::Error::Timeout))
        } else {
            result
        }
    }
}

impl ipvs_rs::Ipvs for LosesOneAnswer<'_> {
    fn execute(&self, request: &ipvs_rs::Request) -> ipvs_rs::Result<()> {
        self.lose(self.kernel.execute(request))
    }
    fn apply(&self, batch: &ipvs_rs::Batch) -> Vec<ipvs_rs::Result<()>> {
        let mut results = self.kernel.apply(batch);
        if let Some(first) = results.first_mut() {
            *first = self.lose(std::mem::replace(first, Ok(())));
        }
        results
    }
    fn services(&self) -> ipvs_rs::Result<Vec<Service>> {
        self.kernel.services()
    }
    fn service(&self, key: &ServiceKey) -> ipvs_rs::Result<Service> {
        self.kernel.service(key)
    }
    fn destinations(&self, key: &ServiceKey) -> ipvs_rs::Result<Vec<Destination>> {
        self.kernel.destinations(key)
    }
    fn info(&self) -> ipvs_rs::Result<ipvs_rs::Info> {
        self.kernel.info()
    }
    fn timeouts(&self) -> ipvs_rs::Result<ipvs_rs::Timeouts> {
        self.kernel.timeouts()
    }
    fn daemons(&self) -> ipvs_rs::Result<Vec<ipvs_rs::Daemon>> {
        self.kernel.daemons()
    }
}

/// A request that timed out (its outcome unknown: here the kernel did carry it out) makes the
/// next sync read the whole table, which finds the change made and sends nothing more.
#[test]
fn a_timed_out_request_forces_a_resync() {
    let ipvs = handle();
    let link = LosesOneAnswer {
        kernel: &ipvs,
        armed: std::cell::Cell::new(false),
    };
    let mut desired = four_services();
    let mut reconciler = Reconciler::new(owned());
    reconciler.sync(&link, &desired).unwrap();
    desired.insert_destination(&vip(2), real(8).with_weight(4));
    link.armed.set(true);
    let sync = reconciler.sync(&link, &desired).unwrap();
    assert_eq!(sync.resync, None);
    assert!(
        matches!(sync.report.failures[..], [ref f] if matches!(f.error, ipvs_rs::Error::Timeout)),
        "{}",
        sync.report
    );
    let carried_out = ipvs.destinations(&vip(2)).unwrap();
    assert!(
        carried_out
            .iter()
            .any(|d| d.addr == real(8).addr && d.weight == 4),
        "the kernel did not get the request: {carried_out:?}"
    );

    let next = reconciler.sync(&link, &desired).unwrap();
    assert_eq!(next.resync, Some(Resync::Failure));
    assert!(next.report.failures.is_empty(), "{}", next.report);
    assert_eq!(next.report.applied(), 0, "{}", next.report);
    assert!(reconcile::plan(&ipvs, &desired, &owned())
        .unwrap()
        .is_empty());
}
