//! The declarative reconcile against the real kernel: adds, edits, deletes, scope,
//! idempotence, error attribution and the re-verification of deletes.
#![cfg(feature = "kernel-tests")]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipvs_rs::reconcile::{self, Change, DestinationId, Scope, Table};
use ipvs_rs::{
    AddressFamily, Destination, Error, Forwarding, Handle, Scheduler, Service, ServiceFlags,
    ServiceKey, Tunnel,
};

fn handle() -> Handle {
    testkit::kernel_test();
    Handle::new().expect("open an IPVS handle")
}

fn vip(n: u8) -> ServiceKey {
    ServiceKey::tcp(Ipv4Addr::new(10, 0, 0, n), 80)
}

fn real(n: u8) -> Destination {
    Destination::new(Ipv4Addr::new(192, 168, 1, n), 80)
}

fn id(n: u8) -> DestinationId {
    DestinationId::of(&real(n))
}

/// The owned part of the test tables: 10.0.0.0/24 and fwmarks 100 to 199.
fn owned() -> Scope {
    Scope::prefix(Ipv4Addr::new(10, 0, 0, 0).into(), 24).or(Scope::fwmarks(100..=199))
}

/// The kernel's table as comparable settings: services without counters or HASHED,
/// destinations as (id, forwarding, weight, thresholds).
type Settings = Vec<(Service, Vec<(DestinationId, Forwarding, i32, u32, u32)>)>;

fn settings(ipvs: &Handle) -> Settings {
    let mut all: Settings = ipvs
        .services()
        .unwrap()
        .into_iter()
        .map(|mut svc| {
            svc.flags.remove(ServiceFlags::HASHED);
            svc.stats = Default::default();
            let mut dests: Vec<_> = ipvs
                .destinations(&svc.key)
                .unwrap()
                .iter()
                .map(|d| {
                    (
                        DestinationId::of(d),
                        d.forwarding,
                        d.weight,
                        d.upper_threshold,
                        d.lower_threshold,
                    )
                })
                .collect();
            dests.sort_by_key(|d| d.0);
            (svc, dests)
        })
        .collect();
    all.sort_by_key(|(svc, _)| svc.key);
    all
}

fn settings_of(table: &Table) -> Settings {
    table
        .iter()
        .map(|e| {
            let dests = e
                .destinations()
                .iter()
                .map(|d| {
                    (
                        DestinationId::of(d),
                        d.forwarding,
                        d.weight,
                        d.upper_threshold,
                        d.lower_threshold,
                    )
                })
                .collect();
            (e.service.clone(), dests)
        })
        .collect()
}

/// The starting table: two owned services, one owned fwmark service, one foreign service.
fn seed(ipvs: &Handle) -> ServiceKey {
    let foreign = ServiceKey::tcp(Ipv4Addr::new(192, 0, 2, 1), 443);
    ipvs.add_service(&Service::new(vip(1)).with_scheduler(Scheduler::RoundRobin))
        .unwrap();
    ipvs.add_destination(&vip(1), &real(1)).unwrap();
    ipvs.add_destination(&vip(1), &real(2)).unwrap();
    ipvs.add_service(&Service::new(vip(2))).unwrap();
    ipvs.add_destination(&vip(2), &real(1)).unwrap();
    ipvs.add_service(&Service::new(ServiceKey::fwmark(150, AddressFamily::Inet)))
        .unwrap();
    ipvs.add_service(&Service::new(foreign)).unwrap();
    let foreign_real = Destination::new(Ipv4Addr::new(192, 168, 1, 9), 443);
    ipvs.add_destination(&foreign, &foreign_real).unwrap();
    foreign
}

/// The desired table of the owned part after the change.
fn desired() -> Table {
    let v6 = ServiceKey::udp("2001:db8::10".parse::<Ipv6Addr>().unwrap(), 53);
    let mut table = Table::new();
    table.insert(
        Service::new(vip(1)).with_persistence(300),
        [
            real(2).with_weight(5),
            real(3).with_forwarding(Forwarding::Tunnel(Tunnel::gue(6080))),
            real(4).with_thresholds(100, 10),
        ],
    );
    table.insert(
        Service::new(vip(3)).with_scheduler(Scheduler::SourceHashing),
        [real(1), real(2).with_forwarding(Forwarding::Masq)],
    );
    table.insert(
        Service::new(v6),
        [Destination::new(
            "2001:db8::20".parse::<IpAddr>().unwrap(),
            53,
        )],
    );
    table
}

#[test]
fn adds_updates_and_deletes_exactly_what_differs_within_the_scope() {
    let ipvs = handle();
    let foreign = seed(&ipvs);
    let foreign_before: Settings = settings(&ipvs)
        .into_iter()
        .filter(|(s, _)| s.key == foreign)
        .collect();
    let desired = desired();

    let report = reconcile::reconcile(&ipvs, &desired, &owned()).unwrap();

    assert!(report.is_success(), "{:?}", report.failures);
    let v6 = ServiceKey::udp("2001:db8::10".parse::<Ipv6Addr>().unwrap(), 53);
    assert_eq!(report.added_services, [vip(3), v6]);
    assert_eq!(report.updated_services, [vip(1)]);
    let mut deleted = report.deleted_services.clone();
    deleted.sort();
    assert_eq!(
        deleted,
        [vip(2), ServiceKey::fwmark(150, AddressFamily::Inet)]
    );
    assert_eq!(report.deleted_destinations, [(vip(1), id(1))]);
    assert_eq!(report.updated_destinations, [(vip(1), id(2))]);
    assert_eq!(report.added_destinations.len(), 5);
    assert!(report.vanished.is_empty());

    let mut expected = settings_of(&desired);
    expected.extend(foreign_before);
    expected.sort_by_key(|(svc, _)| svc.key);
    assert_eq!(settings(&ipvs), expected);
}

#[test]
fn a_second_run_changes_nothing() {
    let ipvs = handle();
    seed(&ipvs);
    let desired = desired();
    let first = reconcile::reconcile(&ipvs, &desired, &owned()).unwrap();
    assert!(first.is_success() && first.applied() > 0, "{first}");
    let after_first = settings(&ipvs);

    assert!(reconcile::plan(&ipvs, &desired, &owned())
        .unwrap()
        .is_empty());
    let second = reconcile::reconcile(&ipvs, &desired, &owned()).unwrap();
    assert_eq!(second.applied(), 0, "{second}");
    assert!(
        second.is_success() && second.vanished.is_empty(),
        "{second}"
    );
    assert_eq!(settings(&ipvs), after_first);
}

#[test]
fn the_default_scope_deletes_no_service() {
    let ipvs = handle();
    seed(&ipvs);
    let before = settings(&ipvs);
    let mut desired = Table::new();
    desired.insert(
        Service::new(vip(1)).with_scheduler(Scheduler::RoundRobin),
        [real(1)],
    );

    let report = reconcile::reconcile(&ipvs, &desired, &Scope::desired()).unwrap();

    assert!(report.is_success(), "{report}");
    assert!(report.deleted_services.is_empty());
    assert_eq!(report.deleted_destinations, [(vip(1), id(2))]);
    assert_eq!(report.applied(), 1, "{report}");
    let after = settings(&ipvs);
    assert_eq!(after.len(), before.len());
    assert_eq!(after[1..], before[1..], "only 10.0.0.1:80 may change");
}

#[test]
fn each_error_is_attributed_to_its_change_and_the_rest_is_applied() {
    let ipvs = handle();
    let mut desired = Table::new();
    desired.insert(
        Service::new(vip(1)).with_scheduler(Scheduler::from_name("nosuchsched")),
        [real(1)],
    );
    desired.insert(
        Service::new(vip(2)),
        [real(1), real(2).with_weight(-1), real(3)],
    );

    let report = reconcile::reconcile(&ipvs, &desired, &owned()).unwrap();

    assert_eq!(report.added_services, [vip(2)]);
    assert_eq!(
        report.added_destinations,
        [(vip(2), id(1)), (vip(2), id(3))]
    );
    let failures: Vec<(String, Option<i32>)> = report
        .failures
        .iter()
        .map(|f| (f.change.to_string(), f.error.errno()))
        .collect();
    assert_eq!(
        failures,
        [
            (
                "add service tcp:10.0.0.1:80".to_string(),
                Some(libc::ENOENT)
            ),
            (
                "add destination 192.168.1.1:80 to tcp:10.0.0.1:80".to_string(),
                Some(libc::ESRCH)
            ),
            (
                "add destination 192.168.1.2:80 to tcp:10.0.0.2:80".to_string(),
                Some(libc::ERANGE)
            ),
        ]
    );
    assert!(matches!(
        &report.failures[0].error,
        Error::SchedulerNotFound { scheduler, .. } if scheduler == "nosuchsched"
    ));
    assert!(matches!(report.failures[1].error, Error::NoSuchService));
}

#[test]
fn deletes_are_re_verified_and_never_sent_for_what_is_already_gone() {
    let ipvs = handle();
    seed(&ipvs);
    let mut desired = Table::new();
    desired.insert(
        Service::new(vip(1)).with_scheduler(Scheduler::RoundRobin),
        [real(2)],
    );
    let plan = reconcile::plan(&ipvs, &desired, &owned()).unwrap();
    let deletes: Vec<String> = plan
        .changes()
        .iter()
        .filter(|c| c.is_delete())
        .map(Change::to_string)
        .collect();
    assert_eq!(
        deletes,
        [
            "delete destination 192.168.1.1:80 of tcp:10.0.0.1:80",
            "delete service tcp:10.0.0.2:80",
            "delete service fwmark:150",
        ]
    );

    // Another writer removes two of them between the read and the apply.
    ipvs.delete_destination(&vip(1), &real(1)).unwrap();
    ipvs.delete_service(&vip(2)).unwrap();
    let report = reconcile::apply(&ipvs, plan);

    assert!(report.is_success(), "{:?}", report.failures);
    assert_eq!(
        report.deleted_services,
        [ServiceKey::fwmark(150, AddressFamily::Inet)]
    );
    let vanished: Vec<String> = report.vanished.iter().map(Change::to_string).collect();
    assert_eq!(
        vanished,
        [
            "delete destination 192.168.1.1:80 of tcp:10.0.0.1:80",
            "delete service tcp:10.0.0.2:80",
        ]
    );
}
