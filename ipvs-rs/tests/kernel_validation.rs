//! Every validation rule against the real kernel: what the kernel does when the request is
//! sent anyway (refuses it with the errno `Violation::errno` names, or stores it as given),
//! and the library's error, with nothing sent.
#![cfg(feature = "kernel-tests")]

mod support;

use std::net::Ipv4Addr;

use ipvs_rs::{
    AddressFamily, Batch, Destination, Error, Forwarding, Handle, Netmask, Scheduler, Service,
    ServiceFlags, ServiceKey, Tunnel, Violation,
};
use support::{handle, v4, v6};

/// A checked handle and an unchecked one on the same namespace.
fn handles() -> (Handle, Handle) {
    let checked = handle();
    let raw = Handle::new().expect("second handle");
    raw.set_validation(false);
    (checked, raw)
}

/// The library refuses `svc` with `expected`, and the kernel table does not change.
fn refused_service(ipvs: &Handle, svc: &Service, expected: &Violation) {
    let err = ipvs.add_service(svc).unwrap_err();
    let invalid = err.invalid().unwrap_or_else(|| panic!("{svc:?}: {err:?}"));
    assert_eq!(
        (invalid.service, invalid.destination, &invalid.violation),
        (svc.key, None, expected)
    );
    assert!(ipvs.services().unwrap().is_empty(), "something was sent");
}

/// What the kernel does with `svc` sent unchecked: `Err(errno)` or the service it stored.
fn kernel_service(raw: &Handle, svc: &Service) -> Result<Service, i32> {
    match raw.add_service(svc) {
        Ok(()) => {
            let stored = raw.service(&svc.key).unwrap();
            raw.delete_service(&svc.key).unwrap();
            Ok(stored)
        }
        Err(e) => Err(e.errno().unwrap_or_else(|| panic!("{e}"))),
    }
}

/// Checks one service rule: the library's error, then the kernel's own answer, which must be
/// the errno `Violation::errno` announces or, where it says `None`, a stored service that is
/// not what a caller meant (`wrong` says how).
fn service_rule(svc: Service, expected: Violation, wrong: impl Fn(&Service) -> bool) {
    let (ipvs, raw) = handles();
    refused_service(&ipvs, &svc, &expected);
    assert_eq!(
        svc.validate().unwrap_err().violation.field(),
        expected.field()
    );
    match (kernel_service(&raw, &svc), expected.errno()) {
        (Err(errno), Some(announced)) => assert_eq!(errno, announced, "{expected}"),
        (Ok(stored), None) => assert!(wrong(&stored), "{expected}: stored {stored:?}"),
        (got, announced) => panic!("{expected}: kernel {got:?}, announced {announced:?}"),
    }
}

#[test]
fn firewall_mark_family() {
    let svc = Service::new(ServiceKey::fwmark(1, AddressFamily::Other(99)));
    service_rule(
        svc,
        Violation::ServiceFamily {
            family: AddressFamily::Other(99),
        },
        |_| true,
    );
}

#[test]
fn zero_port_needs_persistence() {
    let svc = Service::new(ServiceKey::tcp(v4(10, 0, 0, 1), 0));
    service_rule(svc, Violation::ZeroPort, |s| {
        s.key.port() == Some(0) && !s.flags.contains(ServiceFlags::PERSISTENT)
    });
}

#[test]
fn one_packet_is_for_udp() {
    let svc =
        Service::new(ServiceKey::tcp(v4(10, 0, 0, 1), 80)).with_flags(ServiceFlags::ONE_PACKET);
    service_rule(
        svc,
        Violation::OnePacketNotUdp {
            protocol: ipvs_rs::Protocol::Tcp,
        },
        |s| s.flags.contains(ServiceFlags::ONE_PACKET),
    );
}

#[test]
fn scheduler_names_the_kernel_holds() {
    let key = ServiceKey::tcp(v4(10, 0, 0, 1), 80);
    let long = "a".repeat(16);
    let svc = Service::new(key).with_scheduler(Scheduler::from_name(&long));
    service_rule(svc, Violation::SchedulerName { name: long }, |_| true);
    let empty = Service::new(key).with_scheduler(Scheduler::from_name(""));
    service_rule(
        empty,
        Violation::SchedulerName {
            name: String::new(),
        },
        |_| true,
    );
}

#[test]
fn persistence_engine_names_the_kernel_holds() {
    let key = ServiceKey::udp(v4(10, 0, 0, 1), 5060);
    let long = "s".repeat(17);
    let svc = Service::new(key).with_persistence(60).with_pe(long.clone());
    service_rule(svc, Violation::PeName { name: long }, |_| true);
    // An empty name is taken as no engine at all.
    let empty = Service::new(key).with_persistence(60).with_pe("");
    service_rule(
        empty,
        Violation::PeName {
            name: String::new(),
        },
        |s| s.pe_name.is_none(),
    );
}

#[test]
fn persistence_flag_and_timeout_go_together() {
    let key = ServiceKey::tcp(v4(10, 0, 0, 1), 80);
    let mut svc = Service::new(key);
    svc.timeout = 300;
    service_rule(
        svc,
        Violation::TimeoutWithoutPersistence { timeout: 300 },
        |s| s.timeout == 300 && !s.flags.contains(ServiceFlags::PERSISTENT),
    );
    let mut svc = Service::new(key).with_persistence(1);
    svc.timeout = 0;
    service_rule(svc, Violation::PersistenceWithoutTimeout, |s| {
        s.timeout == 0 && s.flags.contains(ServiceFlags::PERSISTENT)
    });
}

#[test]
fn netmask_family_and_range() {
    let v6_key = ServiceKey::tcp(v6(1), 80);
    let v4_mask = Netmask::V4(Ipv4Addr::new(255, 255, 255, 0));
    service_rule(
        Service::new(v6_key)
            .with_persistence(60)
            .with_netmask(v4_mask),
        Violation::NetmaskFamily {
            netmask: v4_mask,
            family: AddressFamily::Inet6,
        },
        |_| true,
    );
    for prefix in [0, 129] {
        service_rule(
            Service::new(v6_key)
                .with_persistence(60)
                .with_netmask(Netmask::V6(prefix)),
            Violation::NetmaskPrefix { prefix },
            |_| true,
        );
    }
    // A prefix length on an IPv4 service is stored as a mask nobody meant.
    let v4_key = ServiceKey::tcp(v4(10, 0, 0, 1), 80);
    service_rule(
        Service::new(v4_key)
            .with_persistence(60)
            .with_netmask(Netmask::V6(24)),
        Violation::NetmaskFamily {
            netmask: Netmask::V6(24),
            family: AddressFamily::Inet,
        },
        |s| {
            s.netmask != Netmask::V4(Ipv4Addr::new(255, 255, 255, 0))
                && matches!(s.netmask, Netmask::V4(_))
        },
    );
}

/// Checks one destination rule, as [`service_rule`] does for services.
fn destination_rule(
    key: ServiceKey,
    dest: Destination,
    expected: Violation,
    wrong: impl Fn(&[Destination]) -> bool,
) {
    let (ipvs, raw) = handles();
    ipvs.add_service(&Service::new(key)).unwrap();
    let err = ipvs.add_destination(&key, &dest).unwrap_err();
    let invalid = err.invalid().unwrap_or_else(|| panic!("{dest:?}: {err:?}"));
    assert_eq!(
        (invalid.service, invalid.destination, &invalid.violation),
        (key, Some(dest.socket_addr()), &expected)
    );
    assert!(
        ipvs.destinations(&key).unwrap().is_empty(),
        "something was sent"
    );
    match (raw.add_destination(&key, &dest), expected.errno()) {
        (Err(e), Some(announced)) => assert_eq!(e.errno(), Some(announced), "{expected}: {e}"),
        (Ok(()), None) => {
            let stored = raw.destinations(&key).unwrap();
            assert!(wrong(&stored), "{expected}: stored {stored:?}");
        }
        (got, announced) => panic!("{expected}: kernel {got:?}, announced {announced:?}"),
    }
    raw.delete_service(&key).unwrap();
}

#[test]
fn routed_and_tunnelled_real_servers_keep_the_service_port() {
    let key = ServiceKey::tcp(v4(10, 0, 0, 1), 80);
    for forwarding in [Forwarding::Route, Forwarding::Tunnel(Tunnel::ipip())] {
        let dest = Destination::new(v4(10, 0, 2, 1), 9999).with_forwarding(forwarding);
        destination_rule(
            key,
            dest,
            Violation::ForwardedPort {
                forwarding,
                port: 9999,
                service_port: 80,
            },
            // The kernel keeps the port that packets never go to.
            |stored| stored.len() == 1 && stored[0].port == 9999,
        );
    }
    // Masquerading rewrites the port, and firewall-mark services have none to keep.
    let (ipvs, _) = handles();
    ipvs.add_service(&Service::new(key)).unwrap();
    let nat = Destination::new(v4(10, 0, 2, 1), 8080).with_forwarding(Forwarding::Masq);
    ipvs.add_destination(&key, &nat).unwrap();
    let mark = ServiceKey::fwmark(3, AddressFamily::Inet);
    ipvs.add_service(&Service::new(mark)).unwrap();
    ipvs.add_destination(&mark, &Destination::new(v4(10, 0, 2, 1), 8080))
        .unwrap();
}

#[test]
fn only_tunnels_cross_families() {
    let key = ServiceKey::tcp(v6(1), 80);
    destination_rule(
        key,
        Destination::new(v4(10, 0, 2, 1), 80),
        Violation::MixedFamily {
            family: AddressFamily::Inet,
            service_family: AddressFamily::Inet6,
        },
        |_| true,
    );
}

#[test]
fn the_family_is_the_address_family() {
    let key = ServiceKey::tcp(v4(10, 0, 0, 1), 80);
    let mut dest =
        Destination::new(v4(10, 0, 2, 1), 80).with_forwarding(Forwarding::Tunnel(Tunnel::ipip()));
    dest.family = AddressFamily::Inet6;
    destination_rule(
        key,
        dest.clone(),
        Violation::DestinationFamily {
            family: AddressFamily::Inet6,
            addr: v4(10, 0, 2, 1),
        },
        // The kernel reads the IPv4 address's bytes as an IPv6 address.
        |stored| stored.len() == 1 && stored[0].addr != dest.addr,
    );
}

#[test]
fn weights_and_thresholds() {
    let key = ServiceKey::tcp(v4(10, 0, 0, 1), 80);
    let real = || Destination::new(v4(10, 0, 2, 1), 80);
    destination_rule(
        key,
        real().with_weight(-1),
        Violation::NegativeWeight { weight: -1 },
        |_| true,
    );
    destination_rule(
        key,
        real().with_thresholds(10, 20),
        Violation::LowerThreshold {
            lower: 20,
            upper: 10,
        },
        |_| true,
    );
    let upper = i32::MAX as u32 + 1;
    destination_rule(
        key,
        real().with_thresholds(upper, 0),
        Violation::UpperThreshold { upper },
        |_| true,
    );
}

#[test]
fn a_batch_with_an_invalid_request_sends_nothing() {
    let (ipvs, _) = handles();
    let key = ServiceKey::tcp(v4(10, 0, 0, 1), 80);
    let mut batch = Batch::new();
    batch
        .add_service(Service::new(key))
        .add_destination(key, Destination::new(v4(10, 0, 2, 1), 80).with_weight(-5))
        .add_service(Service::new(ServiceKey::udp(v4(10, 0, 0, 1), 53)));
    let results = ipvs.apply(&batch);
    assert!(matches!(results[0], Err(Error::NotSent { index: 1 })));
    let invalid = results[1].as_ref().unwrap_err().invalid();
    assert_eq!(
        invalid.map(|i| &i.violation),
        Some(&Violation::NegativeWeight { weight: -5 })
    );
    assert!(matches!(results[2], Err(Error::NotSent { index: 1 })));
    assert!(ipvs.services().unwrap().is_empty());
}

#[test]
fn einval_on_a_real_server_names_the_likely_causes() {
    let (ipvs, _) = handles();
    let key = ServiceKey::tcp(v4(10, 0, 0, 1), 80);
    ipvs.add_service(&Service::new(key)).unwrap();
    let multicast = Destination::new(v4(224, 0, 0, 1), 80);
    let err = ipvs.add_destination(&key, &multicast).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with("add real server failed: invalid argument"),
        "{text}"
    );
    assert!(text.contains("`lo` up"), "{text}");
    assert!(err.hint().is_some());

    // A fresh namespace has `lo` down: every real server is refused the same way.
    // SAFETY: unshare only moves this test's thread into a new namespace.
    assert_eq!(unsafe { libc::unshare(libc::CLONE_NEWNET) }, 0);
    let fresh = Handle::new().unwrap();
    fresh.add_service(&Service::new(key)).unwrap();
    let err = fresh
        .add_destination(&key, &Destination::new(v4(10, 0, 2, 1), 80))
        .unwrap_err();
    assert!(err.to_string().contains("`lo` up"), "{err}");
    testkit::set_link_up("lo").unwrap();
    fresh
        .add_destination(&key, &Destination::new(v4(10, 0, 2, 1), 80))
        .unwrap();
}

#[test]
fn kernel_errors_print_without_debug_names_or_a_second_errno() {
    let (_, raw) = handles();
    let key = ServiceKey::tcp(v4(10, 0, 0, 1), 80);
    raw.add_service(&Service::new(key)).unwrap();
    let err = raw
        .add_destination(&key, &Destination::new(v4(10, 0, 2, 1), 80).with_weight(-1))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "add real server failed: Numerical result out of range (errno 34)"
    );
}
