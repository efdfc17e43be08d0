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
    for key in keys {
        ipvs.add_service(&Service::new(key))
            .unwrap_or_else(|e| panic!("{key}: {e}"));
    }
    for key in keys {
        assert_eq!(
            ipvs.service(&key).unwrap(),
            as_read(&Service::new(key)),
            "{key}"
        );
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
    assert!(matches!(
        ipvs.add_service(&bad_prefix),
        Err(Error::InvalidArgument { .. })
    ));
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
    let rest = dump.by_ref().count();
    assert_eq!(1 + rest, 1000);
    drop(dump);
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
    assert_eq!(count, 1000);
    assert_ne!(first.key, ServiceKey::udp(v4(0, 0, 0, 0), 0));
}

/// The kernel's service dump resumes by position in a table shared by every namespace, so a
/// writer in another namespace makes it repeat entries; the handle drops the repeats.
#[test]
fn dumps_never_repeat_while_another_namespace_writes() {
    let ipvs = handle();
    let keys: std::collections::BTreeSet<_> = (1..=300)
        .map(|port| ServiceKey::tcp(v4(10, 7, 0, 1), port))
        .collect();
    for key in &keys {
        ipvs.add_service(&Service::new(*key)).unwrap();
    }
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            testkit::isolate_netns().unwrap();
            let writer = ipvs_rs::Handle::new().unwrap();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for port in 1..=200 {
                    writer
                        .add_service(&Service::new(ServiceKey::udp(v4(10, 8, 0, 1), port)))
                        .unwrap();
                }
                writer.flush().unwrap();
            }
        });
        // Stops the writer even when an assertion below fails.
        struct StopOnDrop<'a>(&'a std::sync::atomic::AtomicBool);
        impl Drop for StopOnDrop<'_> {
            fn drop(&mut self) {
                self.0.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
        let _stop = StopOnDrop(&stop);
        for _ in 0..40 {
            let listed: Vec<_> = ipvs
                .services()
                .unwrap()
                .into_iter()
                .map(|s| s.key)
                .collect();
            let unique: std::collections::BTreeSet<_> = listed.iter().copied().collect();
            assert_eq!(unique.len(), listed.len(), "a service was listed twice");
            assert!(
                unique.is_subset(&keys),
                "a service of another namespace was listed"
            );
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    assert_eq!(ipvs.services().unwrap().len(), keys.len());
}
