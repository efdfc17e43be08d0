//! Services against the real kernel: every protocol, family, scheduler and flag.
#![cfg(feature = "kernel-tests")]

mod support;

use std::net::Ipv4Addr;

use ipvs_rs::{AddressFamily, Error, Netmask, Scheduler, Service, ServiceFlags, ServiceKey};
use support::{handle, v4, v6};

/// What the kernel reports back for a service written as `svc`.
fn as_read(svc: &Service) -> Service {
    let mut expected = svc.clone();
    expected.flags |= ServiceFlags::HASHED;
    expected
}

#[test]
fn add_get_list_delete_every_key_kind() {
    let ipvs = handle();
    let keys = [
        ServiceKey::tcp(v4(192, 168, 0, 10), 80),
        ServiceKey::udp(v4(192, 168, 0, 10), 53),
        ServiceKey::sctp(v4(192, 168, 0, 10), 3868),
        ServiceKey::tcp(v6(1), 443),
        ServiceKey::udp(v6(1), 53),
        ServiceKey::sctp(v6(1), 3868),
        ServiceKey::tcp(v4(10, 0, 0, 1), 0),
        ServiceKey::fwmark(1, AddressFamily::Inet),
        ServiceKey::fwmark(u32::MAX, AddressFamily::Inet),
        ServiceKey::fwmark(7, AddressFamily::Inet6),
    ];
    // Port 0 (every port) is for persistent services, as ipvsadm requires.
    let service = |key: ServiceKey| match key.port() {
        Some(0) => Service::new(key).with_persistence(360),
        _ => Service::new(key),
    };
    for key in keys {
        ipvs.add_service(&service(key))
            .unwrap_or_else(|e| panic!("{key}: {e}"));
    }
    for key in keys {
        assert_eq!(ipvs.service(&key).unwrap(), as_read(&service(key)), "{key}");
    }
    let mut listed: Vec<_> = ipvs
        .services()
        .unwrap()
        .into_iter()
        .map(|s| s.key)
        .collect();
    listed.sort();
    let mut sorted = keys.to_vec();
    sorted.sort();
    assert_eq!(listed, sorted);
    for key in keys {
        ipvs.delete_service(&key).unwrap();
        assert!(
            matches!(ipvs.service(&key), Err(Error::NoSuchService)),
            "{key}"
        );
    }
    assert!(ipvs.services().unwrap().is_empty());
}

#[test]
fn every_scheduler_is_kept() {
    let ipvs = handle();
    for (port, scheduler) in (1..).zip(Scheduler::known()) {
        let svc =
            Service::new(ServiceKey::tcp(v4(10, 1, 0, 1), port)).with_scheduler(scheduler.clone());
        ipvs.add_service(&svc)
            .unwrap_or_else(|e| panic!("{scheduler}: {e}"));
        assert_eq!(ipvs.service(&svc.key).unwrap().scheduler, scheduler);
    }
    assert_eq!(ipvs.services().unwrap().len(), Scheduler::known().count());
}

#[test]
fn every_flag_persistence_netmask_and_pe() {
    let ipvs = handle();
    let v4_svc = Service::new(ServiceKey::udp(v4(10, 2, 0, 1), 5060))
        .with_scheduler(Scheduler::SourceHashing)
        .with_flags(ServiceFlags::SH_FALLBACK | ServiceFlags::SH_PORT | ServiceFlags::ONE_PACKET)
        .with_persistence(900)
        .with_netmask(Netmask::V4(Ipv4Addr::new(255, 255, 0, 0)))
        .with_pe("sip");
    let v6_svc = Service::new(ServiceKey::fwmark(9, AddressFamily::Inet6))
        .with_scheduler(Scheduler::MaglevHashing)
        .with_flags(ServiceFlags::MH_FALLBACK | ServiceFlags::MH_PORT | ServiceFlags::SCHED3)
        .with_persistence(1)
        .with_netmask(Netmask::V6(48));
    for svc in [&v4_svc, &v6_svc] {
        ipvs.add_service(svc).unwrap();
        assert_eq!(ipvs.service(&svc.key).unwrap(), as_read(svc));
    }
}

#[test]
fn update_replaces_every_setting() {
    let ipvs = handle();
    let key = ServiceKey::tcp(v4(10, 3, 0, 1), 80);
    let before = Service::new(key)
        .with_scheduler(Scheduler::RoundRobin)
        .with_persistence(300)
        .with_pe("sip");
    ipvs.add_service(&before).unwrap();
    let after = Service::new(key).with_scheduler(Scheduler::LeastConnection);
    ipvs.update_service(&after).unwrap();
    let read = ipvs.service(&key).unwrap();
    assert_eq!(read.scheduler, Scheduler::LeastConnection);
    assert_eq!(read.flags, ServiceFlags::HASHED);
    assert_eq!(read.timeout, 0);
    assert_eq!(read.pe_name, None);
}

#[test]
fn flush_removes_everything() {
    let ipvs = handle();
    for port in 1..=50 {
        ipvs.add_service(&Service::new(ServiceKey::tcp(v4(10, 4, 0, 1), port)))
            .unwrap();
    }
    assert_eq!(ipvs.services().unwrap().len(), 50);
    ipvs.flush().unwrap();
    assert!(ipvs.services().unwrap().is_empty());
}

#[test]
fn service_errors_are_typed() {
    let ipvs = handle();
    let key = ServiceKey::tcp(v4(10, 5, 0, 1), 80);
    ipvs.add_service(&Service::new(key)).unwrap();
    assert!(matches!(
        ipvs.add_service(&Service::new(key)),
        Err(Error::ServiceExists)
    ));

    let missing = ServiceKey::tcp(v4(10, 5, 0, 2), 80);
    assert!(matches!(ipvs.service(&missing), Err(Error::NoSuchService)));
    assert!(matches!(
        ipvs.update_service(&Service::new(missing)),
        Err(Error::NoSuchService)
    ));
    assert!(matches!(
        ipvs.delete_service(&missing),
        Err(Error::NoSuchService)
    ));
    assert!(matches!(
        ipvs.zero(Some(&missing)),
        Err(Error::NoSuchService)
    ));

    let bad = Service::new(missing).with_scheduler(Scheduler::Other("nosuchsched".into()));
    match ipvs.add_service(&bad) {
        Err(Error::SchedulerNotFound {
            scheduler,
            pe: None,
        }) => assert_eq!(scheduler, "nosuchsched"),
        other => panic!("unexpected {other:?}"),
    }
    let bad_pe = Service::new(missing)
        .with_persistence(60)
        .with_pe("nosuchpe");
    match ipvs.add_service(&bad_pe) {
        Err(Error::SchedulerNotFound { pe: Some(pe), .. }) => assert_eq!(pe, "nosuchpe"),
        other => panic!("unexpected {other:?}"),
    }
    let bad_prefix = Service::new(ServiceKey::tcp(v6(5), 80)).with_netmask(Netmask::V6(129));
    match ipvs.add_service(&bad_prefix) {
        Err(e @ Error::Invalid(_)) => assert_eq!(e.errno(), Some(libc::EINVAL), "{e}"),
        other => panic!("unexpected {other:?}"),
    }
    let bad_family = Service::new(ServiceKey::fwmark(1, AddressFamily::Other(99)));
    match ipvs.add_service(&bad_family) {
        Err(e) => assert_eq!(e.errno(), Some(libc::EAFNOSUPPORT), "{e}"),
        Ok(()) => panic!("family 99 accepted"),
    }
    // Nothing of the failed requests was created.
    assert_eq!(ipvs.services().unwrap().len(), 1);
}

#[test]
fn streamed_dump_and_busy_handle() {
    let ipvs = handle();
    for port in 1..=1000 {
        ipvs.add_service(&Service::new(ServiceKey::udp(v4(10, 6, 0, 1), port)))
            .unwrap();
    }
    let mut dump = ipvs.services_iter().unwrap();
    let first = dump.next().expect("one service").unwrap();
    // The same thread cannot use the handle while its dump is open.
    assert!(matches!(ipvs.info(), Err(Error::Busy)));
    // Other tests write in their namespaces meanwhile, which can make the kernel skip entries of
    // a stream (see kernel_dump_races.rs): check what came, then count with `services()`.
    let mut seen = std::collections::HashSet::from([first.key]);
    for svc in dump.by_ref() {
        let key = svc.unwrap().key;
        assert!(seen.insert(key), "{key} listed twice");
        assert!(matches!(
            key,
            ServiceKey::Inet {
                protocol: ipvs_rs::Protocol::Udp,
                ..
            }
        ));
    }
    drop(dump);
    assert_eq!(ipvs.service_count().unwrap(), 1000);
    // An abandoned dump is drained on drop: the handle works again right away.
    let mut partial = ipvs.services_iter().unwrap();
    partial.next().unwrap().unwrap();
    drop(partial);
    assert_eq!(ipvs.services().unwrap().len(), 1000);
    let mut count = 0;
    ipvs.for_each_service(|s| {
        assert!(matches!(s.key, ServiceKey::Inet { .. }));
        count += 1;
    })
    .unwrap();
    assert!(count <= 1000);
}
