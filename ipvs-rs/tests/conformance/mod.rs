//! One suite of IPVS behaviours, run against the kernel (`kernel_conformance.rs`, through a
//! `Handle` in the VM lane) and against `FakeIpvs` (`fake_conformance.rs`, on the host).
//!
//! Every case starts from an empty table in a fresh network namespace with `lo` up (the
//! kernel's side) or a fresh `FakeIpvs`. The expectations are the kernel's, measured on
//! Debian's Linux 6.1: when the two disagree, the fake is wrong.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipvs_rs::{
    AddressFamily, Batch, Daemon, DaemonState, Destination, Error, Forwarding, Ipvs, Netmask,
    Protocol, Request, Scheduler, Service, ServiceFlags, ServiceKey, Stats, Timeouts, Tunnel,
    TunnelFlags, TunnelType,
};

/// Expands to one `#[test]` per behaviour, each calling `$open()` for a fresh IPVS.
#[macro_export]
macro_rules! conformance_tests {
    ($open:expr) => {
        $crate::conformance_tests!(@each $open;
            info_is_version_1_2_1,
            services_exist_once_and_missing_ones_are_not_found,
            the_kernel_adds_hashed_and_keeps_other_flags,
            schedulers_and_engines_are_checked_after_existence,
            service_values_are_stored_as_the_kernel_stores_them,
            ipv6_netmasks_are_prefix_lengths_from_1_to_128,
            odd_keys_are_accepted_and_fwmark_0_is_an_address_service,
            unknown_families_are_not_supported,
            updates_replace_settings_and_keep_the_key,
            destinations_are_listed_newest_first_with_defaults,
            destination_errors_come_in_the_kernels_order,
            destination_addresses_the_kernel_refuses,
            thresholds_and_weights_have_ranges,
            mixed_families_only_for_tunnels,
            tunnels_keep_their_settings,
            updating_and_deleting_destinations,
            deleting_a_service_deletes_its_destinations_and_flush_all,
            zero_needs_an_existing_service,
            timeouts_zero_means_unchanged_and_big_ones_are_refused,
            daemons_start_once_per_role_with_kernel_defaults,
            daemon_requests_the_kernel_refuses,
            daemons_and_mixed_families_exclude_each_other,
            batches_apply_every_request_and_report_each,
            raw_get_info_is_answered_or_refused_clearly,
        );
    };
    (@each $open:expr; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                let ipvs = $open;
                $crate::conformance::$case(&ipvs);
            }
        )*
    };
}

/// The interface sync daemons use: a veth (`sync0`, MTU 1500, up, no address) that the kernel
/// side creates and the fake is told about.
pub const SYNC_IF: &str = "sync0";

pub fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

pub fn v6(last: u16) -> IpAddr {
    IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, last))
}

/// `value` changed by `edit`: the model types are non-exhaustive, so tests cannot use struct
/// update syntax.
fn with<T>(mut value: T, edit: impl FnOnce(&mut T)) -> T {
    edit(&mut value);
    value
}

fn key(n: u8) -> ServiceKey {
    ServiceKey::tcp(v4(10, 0, 0, n), 80)
}

fn dest(n: u8) -> Destination {
    Destination::new(v4(192, 168, 1, n), 80)
}

/// The raw errno of an error, for errors the library leaves untyped (`ERANGE`, `ENODEV`...).
fn errno<T: std::fmt::Debug>(result: Result<T, Error>) -> i32 {
    match result {
        Err(e) => e
            .errno()
            .unwrap_or_else(|| panic!("not a kernel error: {e:?}")),
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
}

/// Stops every sync daemon: a test leaves none running for its namespace's teardown to stop
/// (on 6.1 under TCG that teardown, racing with other tests' daemons, stalled the lane).
fn stop_all(ipvs: &dyn Ipvs) {
    for daemon in ipvs.daemons().unwrap() {
        ipvs.stop_daemon(daemon.state).unwrap();
    }
    assert!(ipvs.daemons().unwrap().is_empty());
}

fn sorted_keys(ipvs: &dyn Ipvs) -> Vec<ServiceKey> {
    let mut keys: Vec<_> = ipvs
        .services()
        .unwrap()
        .into_iter()
        .map(|s| s.key)
        .collect();
    keys.sort();
    keys
}

fn dest_ids(ipvs: &dyn Ipvs, key: &ServiceKey) -> Vec<(IpAddr, u16)> {
    ipvs.destinations(key)
        .unwrap()
        .into_iter()
        .map(|d| (d.addr, d.port))
        .collect()
}

pub fn info_is_version_1_2_1(ipvs: &dyn Ipvs) {
    let info = ipvs.info().unwrap();
    assert_eq!(info.version.to_string(), "1.2.1");
    assert_eq!(info.conn_table_size, 4096);
}

pub fn services_exist_once_and_missing_ones_are_not_found(ipvs: &dyn Ipvs) {
    assert!(ipvs.services().unwrap().is_empty());
    assert_eq!(ipvs.service_count().unwrap(), 0);
    ipvs.add_service(&Service::new(key(1))).unwrap();
    assert!(matches!(
        ipvs.add_service(&Service::new(key(1))),
        Err(Error::ServiceExists)
    ));
    let missing = key(2);
    assert!(matches!(ipvs.service(&missing), Err(Error::NoSuchService)));
    assert!(matches!(
        ipvs.update_service(&Service::new(missing)),
        Err(Error::NoSuchService)
    ));
    assert!(matches!(
        ipvs.delete_service(&missing),
        Err(Error::NoSuchService)
    ));
    assert!(ipvs.destinations(&missing).unwrap().is_empty());
    assert_eq!(sorted_keys(ipvs), [key(1)]);
    assert_eq!(ipvs.service_count().unwrap(), 1);
    ipvs.delete_service(&key(1)).unwrap();
    assert!(matches!(ipvs.service(&key(1)), Err(Error::NoSuchService)));
    assert_eq!(ipvs.service_count().unwrap(), 0);
}

pub fn the_kernel_adds_hashed_and_keeps_other_flags(ipvs: &dyn Ipvs) {
    let plain = Service::new(key(1));
    ipvs.add_service(&plain).unwrap();
    assert_eq!(ipvs.service(&key(1)).unwrap().flags, ServiceFlags::HASHED);
    // HASHED sent by the caller changes nothing: the service is hashed and listed.
    ipvs.add_service(&Service::new(key(2)).with_flags(ServiceFlags::HASHED))
        .unwrap();
    assert_eq!(ipvs.service(&key(2)).unwrap().flags, ServiceFlags::HASHED);
    // Unknown bits are stored and reported as they were sent.
    let odd = ServiceFlags::from_bits_retain(0x8000_0040) | ServiceFlags::ONE_PACKET;
    ipvs.add_service(&Service::new(key(3)).with_flags(odd))
        .unwrap();
    assert_eq!(
        ipvs.service(&key(3)).unwrap().flags,
        odd | ServiceFlags::HASHED
    );
    assert_eq!(sorted_keys(ipvs), [key(1), key(2), key(3)]);
}

pub fn schedulers_and_engines_are_checked_after_existence(ipvs: &dyn Ipvs) {
    let bad = |s: Service| s.with_scheduler(Scheduler::from_name("nosuch"));
    match ipvs.add_service(&bad(Service::new(key(1)))) {
        Err(Error::SchedulerNotFound { scheduler, pe }) => {
            assert_eq!((scheduler.as_str(), pe), ("nosuch", None))
        }
        other => panic!("{other:?}"),
    }
    // An empty name is looked up as a module too.
    assert!(matches!(
        ipvs.add_service(&Service::new(key(1)).with_scheduler(Scheduler::from_name(""))),
        Err(Error::SchedulerNotFound { .. })
    ));
    match ipvs.add_service(&Service::new(key(1)).with_pe("nope")) {
        Err(Error::SchedulerNotFound { scheduler, pe }) => {
            assert_eq!((scheduler.as_str(), pe.as_deref()), ("wlc", Some("nope")))
        }
        other => panic!("{other:?}"),
    }
    assert!(ipvs.services().unwrap().is_empty(), "nothing was added");
    // "none" is a scheduler of its own; an empty engine name is no engine.
    ipvs.add_service(&Service::new(key(1)).with_scheduler(Scheduler::from_name("none")))
        .unwrap();
    assert_eq!(ipvs.service(&key(1)).unwrap().scheduler.name(), "none");
    ipvs.add_service(&Service::new(key(2)).with_pe("")).unwrap();
    assert_eq!(ipvs.service(&key(2)).unwrap().pe_name, None);
    let sip = ServiceKey::udp(v4(10, 0, 0, 3), 5060);
    ipvs.add_service(&Service::new(sip).with_pe("sip").with_persistence(60))
        .unwrap();
    assert_eq!(ipvs.service(&sip).unwrap().pe_name.as_deref(), Some("sip"));
    // Existence first: an existing service with a bad scheduler is ServiceExists; a missing
    // one on update is NoSuchService.
    assert!(matches!(
        ipvs.add_service(&bad(Service::new(key(1)))),
        Err(Error::ServiceExists)
    ));
    assert!(matches!(
        ipvs.update_service(&bad(Service::new(key(9)))),
        Err(Error::NoSuchService)
    ));
    assert!(matches!(
        ipvs.update_service(&bad(Service::new(key(1)))),
        Err(Error::SchedulerNotFound { .. })
    ));
    assert!(matches!(
        ipvs.update_service(&Service::new(key(1)).with_pe("nope")),
        Err(Error::SchedulerNotFound { .. })
    ));
    assert_eq!(ipvs.service(&key(1)).unwrap().scheduler.name(), "none");
}

pub fn service_values_are_stored_as_the_kernel_stores_them(ipvs: &dyn Ipvs) {
    let svc = Service::new(key(1))
        .with_scheduler(Scheduler::SourceHashing)
        .with_flags(ServiceFlags::SH_PORT)
        .with_persistence(300)
        .with_netmask(Netmask::V4(Ipv4Addr::new(255, 255, 255, 0)));
    ipvs.add_service(&svc).unwrap();
    let read = ipvs.service(&key(1)).unwrap();
    assert_eq!(
        read,
        with(svc.clone(), |x| {
            x.flags = svc.flags | ServiceFlags::HASHED;
        })
    );
    assert_eq!(read.stats, Stats::default());
    // Timeouts are kept in jiffies in 32 bits: a huge one wraps (HZ=250).
    ipvs.add_service(&Service::new(key(2)).with_persistence(20_000_000))
        .unwrap();
    assert_eq!(ipvs.service(&key(2)).unwrap().timeout, 2_820_130);
    // A timeout without persistence is kept; any IPv4 mask is kept.
    let odd = with(
        Service::new(key(3)).with_netmask(Netmask::V4(Ipv4Addr::new(1, 2, 3, 4))),
        |x| {
            x.timeout = 77;
        },
    );
    ipvs.add_service(&odd).unwrap();
    let read = ipvs.service(&key(3)).unwrap();
    assert_eq!((read.timeout, read.netmask), (77, odd.netmask));
    // An IPv6 prefix length sent for an IPv4 service is read back as the mask of those bytes.
    ipvs.add_service(&Service::new(key(4)).with_netmask(Netmask::V6(64)))
        .unwrap();
    assert_eq!(
        ipvs.service(&key(4)).unwrap().netmask,
        Netmask::V4(Ipv4Addr::from(64u32.to_ne_bytes()))
    );
}

pub fn ipv6_netmasks_are_prefix_lengths_from_1_to_128(ipvs: &dyn Ipvs) {
    for (n, prefix, ok) in [(1, 0, false), (2, 1, true), (3, 128, true), (4, 129, false)] {
        let svc = Service::new(ServiceKey::tcp(v6(n), 80)).with_netmask(Netmask::V6(prefix));
        let result = ipvs.add_service(&svc);
        if ok {
            result.unwrap();
            assert_eq!(ipvs.service(&svc.key).unwrap().netmask, Netmask::V6(prefix));
        } else {
            assert!(
                matches!(result, Err(Error::InvalidArgument { .. })),
                "/{prefix}: {result:?}"
            );
        }
    }
    // An IPv4 mask on an IPv6 service is a prefix length far above 128.
    let v4_mask = Service::new(ServiceKey::tcp(v6(5), 80))
        .with_netmask(Netmask::V4(Ipv4Addr::new(255, 255, 255, 0)));
    assert!(matches!(
        ipvs.add_service(&v4_mask),
        Err(Error::InvalidArgument { .. })
    ));
    // The scheduler is checked before the netmask, on add and on update.
    let both = Service::new(ServiceKey::tcp(v6(6), 80))
        .with_netmask(Netmask::V6(0))
        .with_scheduler(Scheduler::from_name("nosuch"));
    assert!(matches!(
        ipvs.add_service(&both),
        Err(Error::SchedulerNotFound { .. })
    ));
    let existing = with(both.clone(), |x| {
        x.key = ServiceKey::tcp(v6(2), 80);
    });
    assert!(matches!(
        ipvs.update_service(&existing),
        Err(Error::SchedulerNotFound { .. })
    ));
    assert!(matches!(
        ipvs.update_service(&Service::new(existing.key).with_netmask(Netmask::V6(0))),
        Err(Error::InvalidArgument { .. })
    ));
    assert_eq!(ipvs.service(&existing.key).unwrap().netmask, Netmask::V6(1));
}

pub fn odd_keys_are_accepted_and_fwmark_0_is_an_address_service(ipvs: &dyn Ipvs) {
    let odd = [
        ServiceKey::tcp(v4(10, 0, 0, 1), 0),
        ServiceKey::tcp(v4(0, 0, 0, 0), 80),
        ServiceKey::tcp(v4(224, 0, 0, 1), 80),
        ServiceKey::Inet {
            protocol: Protocol::Other(1),
            addr: v4(10, 0, 0, 2),
            port: 80,
        },
        ServiceKey::Inet {
            protocol: Protocol::Other(0),
            addr: v4(10, 0, 0, 3),
            port: 80,
        },
        ServiceKey::fwmark(1, AddressFamily::Inet),
        ServiceKey::fwmark(1, AddressFamily::Inet6),
        ServiceKey::sctp(v6(1), 9),
    ];
    for key in odd {
        ipvs.add_service(&Service::new(key)).unwrap();
        assert_eq!(ipvs.service(&key).unwrap().key, key);
    }
    let fw0 = ServiceKey::fwmark(0, AddressFamily::Inet);
    let tcp0 = ServiceKey::tcp(v4(0, 0, 0, 0), 0);
    ipvs.add_service(&Service::new(fw0)).unwrap();
    assert_eq!(ipvs.service(&fw0).unwrap().key, tcp0);
    assert!(matches!(
        ipvs.add_service(&Service::new(tcp0)),
        Err(Error::ServiceExists)
    ));
    ipvs.add_destination(&fw0, &dest(1)).unwrap();
    assert_eq!(dest_ids(ipvs, &tcp0), [(dest(1).addr, 80)]);
    let fw0_v6 = ServiceKey::fwmark(0, AddressFamily::Inet6);
    ipvs.add_service(&Service::new(fw0_v6)).unwrap();
    assert_eq!(
        ipvs.service(&fw0_v6).unwrap().key,
        ServiceKey::tcp(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0)
    );
    ipvs.delete_service(&fw0).unwrap();
    assert!(matches!(ipvs.service(&tcp0), Err(Error::NoSuchService)));
    assert_eq!(ipvs.services().unwrap().len(), odd.len() + 1);
}

pub fn unknown_families_are_not_supported(ipvs: &dyn Ipvs) {
    let odd = ServiceKey::fwmark(1, AddressFamily::Other(7));
    assert_eq!(
        errno(ipvs.add_service(&Service::new(odd).with_scheduler(Scheduler::from_name("x")))),
        libc::EAFNOSUPPORT
    );
    ipvs.add_service(&Service::new(key(1))).unwrap();
    let other = with(dest(1), |x| {
        x.family = AddressFamily::Other(9);
    });
    assert_eq!(
        errno(ipvs.add_destination(&key(1), &other.clone().with_thresholds(1 << 31, 0))),
        libc::EAFNOSUPPORT
    );
    assert_eq!(
        errno(ipvs.delete_destination(&key(1), &other)),
        libc::EAFNOSUPPORT
    );
    assert!(ipvs.destinations(&key(1)).unwrap().is_empty());
}

pub fn updates_replace_settings_and_keep_the_key(ipvs: &dyn Ipvs) {
    ipvs.add_service(&Service::new(key(1)).with_persistence(100).with_pe("sip"))
        .unwrap();
    ipvs.add_destination(&key(1), &dest(1)).unwrap();
    let edited = Service::new(key(1))
        .with_scheduler(Scheduler::RoundRobin)
        .with_flags(ServiceFlags::HASHED | ServiceFlags::ONE_PACKET);
    ipvs.update_service(&edited).unwrap();
    let read = ipvs.service(&key(1)).unwrap();
    assert_eq!(read.scheduler, Scheduler::RoundRobin);
    assert_eq!(read.flags, ServiceFlags::HASHED | ServiceFlags::ONE_PACKET);
    assert_eq!((read.timeout, read.pe_name), (0, None));
    assert_eq!(dest_ids(ipvs, &key(1)).len(), 1, "destinations stay");
}

pub fn destinations_are_listed_newest_first_with_defaults(ipvs: &dyn Ipvs) {
    ipvs.add_service(&Service::new(key(1))).unwrap();
    for n in 1..=3 {
        ipvs.add_destination(&key(1), &dest(n)).unwrap();
    }
    let masq = Destination::new(v4(192, 168, 1, 4), 8080).with_forwarding(Forwarding::Masq);
    ipvs.add_destination(&key(1), &masq).unwrap();
    let listed = ipvs.destinations(&key(1)).unwrap();
    assert_eq!(
        listed.iter().map(|d| d.addr).collect::<Vec<_>>(),
        [masq.addr, dest(3).addr, dest(2).addr, dest(1).addr]
    );
    assert_eq!(listed[0], masq);
    assert_eq!(listed[3], dest(1));
    let d = &listed[3];
    assert_eq!(
        (
            d.family,
            d.forwarding,
            d.weight,
            d.upper_threshold,
            d.lower_threshold
        ),
        (AddressFamily::Inet, Forwarding::Route, 1, 0, 0)
    );
    assert_eq!(
        (d.active_conns, d.inactive_conns, d.persist_conns, d.stats),
        (0, 0, 0, Stats::default())
    );
    // An update keeps the destination's place.
    ipvs.update_destination(&key(1), &dest(2).with_weight(5))
        .unwrap();
    assert_eq!(
        dest_ids(ipvs, &key(1))[2],
        (dest(2).addr, 80),
        "updated in place"
    );
    // Ports are free: port 0 on an address service, any port on a fwmark service.
    ipvs.add_destination(&key(1), &Destination::new(v4(192, 168, 1, 5), 0))
        .unwrap();
    let fw = ServiceKey::fwmark(7, AddressFamily::Inet);
    ipvs.add_service(&Service::new(fw)).unwrap();
    ipvs.add_destination(&fw, &Destination::new(v4(192, 168, 2, 1), 0))
        .unwrap();
    ipvs.add_destination(&fw, &Destination::new(v4(192, 168, 2, 2), 5))
        .unwrap();
    assert_eq!(
        dest_ids(ipvs, &fw),
        [(v4(192, 168, 2, 2), 5), (v4(192, 168, 2, 1), 0)]
    );
}

pub fn destination_errors_come_in_the_kernels_order(ipvs: &dyn Ipvs) {
    let missing = key(9);
    // The service first, whatever is wrong with the destination.
    for d in [
        dest(1),
        dest(1).with_weight(-1),
        dest(1).with_thresholds(1 << 31, 0),
        Destination::new(v6(5), 80),
    ] {
        assert!(matches!(
            ipvs.add_destination(&missing, &d),
            Err(Error::NoSuchService)
        ));
        assert!(matches!(
            ipvs.update_destination(&missing, &d),
            Err(Error::NoSuchService)
        ));
        assert!(matches!(
            ipvs.delete_destination(&missing, &d),
            Err(Error::NoSuchService)
        ));
    }
    ipvs.add_service(&Service::new(key(1))).unwrap();
    ipvs.add_destination(&key(1), &dest(1)).unwrap();
    assert!(matches!(
        ipvs.add_destination(&key(1), &dest(1)),
        Err(Error::DestinationExists)
    ));
    // Ranges before existence.
    assert_eq!(
        errno(ipvs.add_destination(&key(1), &dest(1).with_weight(-1))),
        libc::ERANGE
    );
    assert_eq!(
        errno(ipvs.update_destination(&key(1), &dest(8).with_weight(-5))),
        libc::ERANGE
    );
    // A mixed family (not a tunnel) before ranges.
    assert!(matches!(
        ipvs.add_destination(&key(1), &Destination::new(v6(5), 80).with_weight(-1)),
        Err(Error::InvalidArgument { .. })
    ));
    let v6_tunnel = Destination::new(v6(5), 80).with_forwarding(Forwarding::Tunnel(Tunnel::ipip()));
    assert_eq!(
        errno(ipvs.add_destination(&key(1), &v6_tunnel.clone().with_weight(-1))),
        libc::ERANGE
    );
    // A GUE tunnel without a port after ranges, before existence.
    let gue0 = dest(1).with_forwarding(Forwarding::Tunnel(Tunnel::gue(0)));
    assert_eq!(
        errno(ipvs.add_destination(&key(1), &gue0.clone().with_thresholds(1, 2))),
        libc::ERANGE
    );
    for result in [
        ipvs.add_destination(&key(1), &gue0),
        ipvs.update_destination(&key(1), &gue0),
        ipvs.update_destination(&key(1), &dest(8).with_forwarding(gue0.forwarding)),
    ] {
        assert!(
            matches!(result, Err(Error::InvalidArgument { .. })),
            "{result:?}"
        );
    }
    assert!(matches!(
        ipvs.update_destination(&key(1), &dest(8)),
        Err(Error::NoSuchDestination)
    ));
    assert!(matches!(
        ipvs.delete_destination(&key(1), &dest(8)),
        Err(Error::NoSuchDestination)
    ));
    // A delete looks at nothing but the identity, whatever else it carries.
    assert!(matches!(
        ipvs.delete_destination(&key(1), &Destination::new(v6(9), 80)),
        Err(Error::NoSuchDestination)
    ));
    let same_addr_other_family = with(dest(1), |x| {
        x.family = AddressFamily::Inet6;
    });
    assert!(matches!(
        ipvs.delete_destination(&key(1), &same_addr_other_family),
        Err(Error::NoSuchDestination)
    ));
    ipvs.delete_destination(
        &key(1),
        &dest(1).with_weight(-3).with_thresholds(1 << 31, 7),
    )
    .unwrap();
    assert!(ipvs.destinations(&key(1)).unwrap().is_empty());
}

pub fn destination_addresses_the_kernel_refuses(ipvs: &dyn Ipvs) {
    let k4 = key(1);
    let k6 = ServiceKey::tcp(v6(1), 80);
    ipvs.add_service(&Service::new(k4)).unwrap();
    ipvs.add_service(&Service::new(k6)).unwrap();
    let refused4 = [
        v4(224, 0, 0, 5),
        v4(255, 255, 255, 255),
        v4(0, 0, 0, 0),
        v4(127, 255, 255, 255),
    ];
    let taken4 = [
        v4(0, 1, 2, 3),
        v4(127, 0, 0, 1),
        v4(127, 0, 0, 5),
        v4(127, 0, 0, 0),
        v4(240, 0, 0, 1),
        v4(10, 255, 255, 255),
    ];
    for addr in refused4 {
        let result = ipvs.add_destination(&k4, &Destination::new(addr, 80));
        assert!(
            matches!(result, Err(Error::InvalidArgument { .. })),
            "{addr}: {result:?}"
        );
        // The weight is checked before the address.
        assert_eq!(
            errno(ipvs.add_destination(&k4, &Destination::new(addr, 80).with_weight(-1))),
            libc::ERANGE
        );
    }
    for addr in taken4 {
        ipvs.add_destination(&k4, &Destination::new(addr, 80))
            .unwrap_or_else(|e| panic!("{addr}: {e}"));
    }
    let refused6 = ["fe80::1", "ff02::1", "::", "::ffff:1.2.3.4"];
    for addr in refused6 {
        let addr: IpAddr = addr.parse().unwrap();
        let result = ipvs.add_destination(&k6, &Destination::new(addr, 80));
        assert!(
            matches!(result, Err(Error::InvalidArgument { .. })),
            "{addr}: {result:?}"
        );
    }
    for addr in ["::1", "2001:db8::9", "fec0::1"] {
        let addr: IpAddr = addr.parse().unwrap();
        ipvs.add_destination(&k6, &Destination::new(addr, 80))
            .unwrap_or_else(|e| panic!("{addr}: {e}"));
    }
    assert_eq!(dest_ids(ipvs, &k4).len(), taken4.len());
    assert_eq!(dest_ids(ipvs, &k6).len(), 3);
}

pub fn thresholds_and_weights_have_ranges(ipvs: &dyn Ipvs) {
    ipvs.add_service(&Service::new(key(1))).unwrap();
    let cases: [(Destination, Option<i32>); 9] = [
        (dest(1).with_thresholds(0, 5), Some(libc::ERANGE)),
        (dest(1).with_thresholds(3, 5), Some(libc::ERANGE)),
        (dest(1).with_thresholds(0, 1 << 31), Some(libc::ERANGE)),
        (
            dest(1).with_thresholds(1 << 31, (1 << 31) + 1),
            Some(libc::ERANGE),
        ),
        (
            dest(1).with_thresholds(1 << 31, 0).with_weight(-1),
            Some(libc::ERANGE),
        ),
        (dest(1).with_thresholds(1 << 31, 0), Some(libc::EINVAL)),
        (
            dest(1).with_thresholds(u32::MAX, 1 << 31),
            Some(libc::EINVAL),
        ),
        (dest(2).with_thresholds(5, 5), None),
        (
            dest(3)
                .with_thresholds(i32::MAX as u32, 0)
                .with_weight(i32::MAX),
            None,
        ),
    ];
    for (d, want) in cases {
        let result = ipvs.add_destination(&key(1), &d);
        match want {
            Some(want) => assert_eq!(errno(result), want, "{d:?}"),
            None => result.unwrap(),
        }
    }
    ipvs.add_destination(&key(1), &dest(4).with_weight(0))
        .unwrap();
    let read = ipvs.destinations(&key(1)).unwrap();
    assert_eq!(
        read.iter()
            .map(|d| (d.weight, d.upper_threshold, d.lower_threshold))
            .collect::<Vec<_>>(),
        [(0, 0, 0), (i32::MAX, i32::MAX as u32, 0), (1, 5, 5)]
    );
    // The same ranges on update, and on an existing destination before its lookup.
    assert_eq!(
        errno(ipvs.update_destination(&key(1), &dest(2).with_thresholds(1, 2))),
        libc::ERANGE
    );
    assert!(matches!(
        ipvs.update_destination(&key(1), &dest(2).with_thresholds(1 << 31, 0)),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        ipvs.update_destination(&key(1), &dest(8).with_thresholds(1 << 31, 0)),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        ipvs.add_destination(&key(1), &dest(2).with_thresholds(1 << 31, 0)),
        Err(Error::InvalidArgument { .. })
    ));
    assert_eq!(ipvs.destinations(&key(1)).unwrap(), read);
}

pub fn mixed_families_only_for_tunnels(ipvs: &dyn Ipvs) {
    ipvs.add_service(&Service::new(key(1))).unwrap();
    for fwd in [Forwarding::Route, Forwarding::Masq] {
        assert!(matches!(
            ipvs.add_destination(&key(1), &Destination::new(v6(2), 80).with_forwarding(fwd)),
            Err(Error::InvalidArgument { .. })
        ));
    }
    let tunnel = Destination::new(v6(3), 80).with_forwarding(Forwarding::Tunnel(Tunnel::ipip()));
    ipvs.add_destination(&key(1), &tunnel).unwrap();
    assert_eq!(
        ipvs.destinations(&key(1)).unwrap(),
        std::slice::from_ref(&tunnel)
    );
    // Turning it into a route is a mixed family again.
    assert!(matches!(
        ipvs.update_destination(&key(1), &Destination::new(v6(3), 80)),
        Err(Error::InvalidArgument { .. })
    ));
    let fw6 = ServiceKey::fwmark(5, AddressFamily::Inet6);
    ipvs.add_service(&Service::new(fw6)).unwrap();
    assert!(matches!(
        ipvs.add_destination(&fw6, &dest(1)),
        Err(Error::InvalidArgument { .. })
    ));
    ipvs.add_destination(
        &fw6,
        &dest(1).with_forwarding(Forwarding::Tunnel(Tunnel::gre())),
    )
    .unwrap();
    assert_eq!(
        ipvs.destinations(&fw6).unwrap()[0].family,
        AddressFamily::Inet
    );
}

pub fn tunnels_keep_their_settings(ipvs: &dyn Ipvs) {
    ipvs.add_service(&Service::new(key(1))).unwrap();
    let tunnels = [
        Tunnel::gue(6080),
        Tunnel::new(TunnelType::Ipip, Some(99), TunnelFlags::CSUM),
        Tunnel::new(TunnelType::Other(7), None, TunnelFlags::empty()),
        Tunnel::new(TunnelType::Gre, None, TunnelFlags::from_bits_retain(0x7)),
        Tunnel::new(TunnelType::Ipip, Some(0), TunnelFlags::empty()),
    ];
    for (n, t) in (1..).zip(tunnels) {
        ipvs.add_destination(&key(1), &dest(n).with_forwarding(Forwarding::Tunnel(t)))
            .unwrap();
    }
    for fwd in [Forwarding::Local, Forwarding::Bypass] {
        ipvs.add_destination(&key(1), &dest(10 + fwd.method() as u8).with_forwarding(fwd))
            .unwrap();
    }
    let mut read = ipvs.destinations(&key(1)).unwrap();
    read.reverse();
    let forwarding: Vec<_> = read.iter().map(|d| d.forwarding).collect();
    let port_0_is_none = with(tunnels[4], |x| {
        x.port = None;
    });
    assert_eq!(
        forwarding,
        [
            Forwarding::Tunnel(tunnels[0]),
            Forwarding::Tunnel(tunnels[1]),
            Forwarding::Tunnel(tunnels[2]),
            Forwarding::Tunnel(tunnels[3]),
            Forwarding::Tunnel(port_0_is_none),
            Forwarding::Local,
            Forwarding::Bypass,
        ]
    );
}

pub fn updating_and_deleting_destinations(ipvs: &dyn Ipvs) {
    ipvs.add_service(&Service::new(key(1))).unwrap();
    ipvs.add_destination(&key(1), &dest(1)).unwrap();
    ipvs.add_destination(&key(1), &dest(2)).unwrap();
    let edited = dest(1)
        .with_weight(9)
        .with_forwarding(Forwarding::Masq)
        .with_thresholds(10, 2);
    ipvs.update_destination(&key(1), &edited).unwrap();
    assert_eq!(
        ipvs.destinations(&key(1)).unwrap(),
        [dest(2), edited.clone()]
    );
    ipvs.delete_destination(&key(1), &dest(2)).unwrap();
    assert!(matches!(
        ipvs.delete_destination(&key(1), &dest(2)),
        Err(Error::NoSuchDestination)
    ));
    // Deleted and added again: a fresh destination with the new settings.
    ipvs.add_destination(&key(1), &dest(2).with_weight(3))
        .unwrap();
    assert_eq!(
        ipvs.destinations(&key(1)).unwrap(),
        [dest(2).with_weight(3), edited]
    );
}

pub fn deleting_a_service_deletes_its_destinations_and_flush_all(ipvs: &dyn Ipvs) {
    for n in 1..=3 {
        ipvs.add_service(&Service::new(key(n))).unwrap();
        ipvs.add_destination(&key(n), &dest(n)).unwrap();
    }
    ipvs.delete_service(&key(1)).unwrap();
    ipvs.add_service(&Service::new(key(1))).unwrap();
    assert!(ipvs.destinations(&key(1)).unwrap().is_empty());
    ipvs.set_timeouts(&Timeouts::new(1000, 0, 0)).unwrap();
    ipvs.flush().unwrap();
    assert!(ipvs.services().unwrap().is_empty());
    assert!(ipvs.destinations(&key(2)).unwrap().is_empty());
    assert_eq!(ipvs.timeouts().unwrap().tcp, 1000, "flush keeps timeouts");
    ipvs.flush().unwrap();
}

pub fn zero_needs_an_existing_service(ipvs: &dyn Ipvs) {
    ipvs.zero(None).unwrap();
    assert!(matches!(
        ipvs.zero(Some(&key(1))),
        Err(Error::NoSuchService)
    ));
    ipvs.add_service(&Service::new(key(1))).unwrap();
    ipvs.add_destination(&key(1), &dest(1)).unwrap();
    ipvs.zero(Some(&key(1))).unwrap();
    ipvs.zero(None).unwrap();
    assert_eq!(ipvs.service(&key(1)).unwrap().stats, Stats::default());
    assert_eq!(ipvs.destinations(&key(1)).unwrap(), [dest(1)]);
}

pub fn timeouts_zero_means_unchanged_and_big_ones_are_refused(ipvs: &dyn Ipvs) {
    let defaults = Timeouts::new(900, 120, 300);
    assert_eq!(ipvs.timeouts().unwrap(), defaults);
    ipvs.set_timeouts(&Timeouts::default()).unwrap();
    assert_eq!(ipvs.timeouts().unwrap(), defaults);
    let max = i32::MAX as u32 / 250;
    ipvs.set_timeouts(&Timeouts::new(max, 0, 7)).unwrap();
    let set = Timeouts::new(max, 120, 7);
    assert_eq!(ipvs.timeouts().unwrap(), set);
    for bad in [
        Timeouts::new(max + 1, 0, 0),
        Timeouts::new(0, 1 << 31, 0),
        Timeouts::new(1, 1, max + 1),
    ] {
        assert!(matches!(
            ipvs.set_timeouts(&bad),
            Err(Error::InvalidArgument { .. })
        ));
    }
    assert_eq!(
        ipvs.timeouts().unwrap(),
        set,
        "a refused set changes nothing"
    );
}

pub fn daemons_start_once_per_role_with_kernel_defaults(ipvs: &dyn Ipvs) {
    assert!(ipvs.daemons().unwrap().is_empty());
    // The backup first: the list still shows the master first.
    ipvs.start_daemon(&Daemon::new(DaemonState::BACKUP, SYNC_IF))
        .unwrap();
    ipvs.start_daemon(&with(Daemon::new(DaemonState::MASTER, SYNC_IF), |x| {
        x.sync_maxlen = Some(0);
    }))
    .unwrap();
    assert!(matches!(
        ipvs.start_daemon(&Daemon::new(DaemonState::MASTER, SYNC_IF)),
        Err(Error::DaemonRunning)
    ));
    let defaults = |state, maxlen| {
        with(Daemon::new(state, SYNC_IF), |x| {
            x.sync_maxlen = Some(maxlen);
            x.mcast_group = Some(v4(224, 0, 0, 81));
            x.mcast_port = Some(8848);
            x.mcast_ttl = Some(1);
        })
    };
    // The master's messages fit 1500 bytes; the backup's follow the interface's MTU.
    assert_eq!(
        ipvs.daemons().unwrap(),
        [
            defaults(DaemonState::MASTER, 1472),
            defaults(DaemonState::BACKUP, 1472)
        ]
    );
    ipvs.flush().unwrap();
    assert_eq!(ipvs.daemons().unwrap().len(), 2, "flush keeps daemons");
    ipvs.stop_daemon(DaemonState::MASTER).unwrap();
    ipvs.stop_daemon(DaemonState::BACKUP).unwrap();
    assert!(matches!(
        ipvs.stop_daemon(DaemonState::BACKUP),
        Err(Error::NoSuchDaemon)
    ));
    // Given values are kept; 0 means the default for port and TTL. A backup's length is at
    // least 1024 bytes, and an IPv6 group's header (48 bytes) is taken from its default.
    let master = with(Daemon::new(DaemonState::MASTER, SYNC_IF), |x| {
        x.sync_id = 255;
        x.sync_maxlen = Some(600);
        x.mcast_group = Some(v4(239, 1, 1, 1));
        x.mcast_port = Some(0);
        x.mcast_ttl = Some(3);
    });
    let backup = with(Daemon::new(DaemonState::BACKUP, SYNC_IF), |x| {
        x.sync_id = 7;
        x.sync_maxlen = Some(5);
        x.mcast_group = Some(v4(239, 1, 1, 2));
        x.mcast_port = Some(9000);
        x.mcast_ttl = Some(0);
    });
    ipvs.start_daemon(&master).unwrap();
    ipvs.start_daemon(&backup).unwrap();
    assert_eq!(
        ipvs.daemons().unwrap(),
        [
            with(master.clone(), |x| {
                x.mcast_port = Some(8848);
            }),
            with(backup, |x| {
                x.sync_maxlen = Some(1024);
                x.mcast_ttl = Some(1);
            })
        ]
    );
    stop_all(ipvs);
    let backup6 = with(Daemon::new(DaemonState::BACKUP, SYNC_IF), |x| {
        x.mcast_group = Some("ff02::1:2".parse().unwrap());
    });
    ipvs.start_daemon(&backup6).unwrap();
    assert_eq!(
        ipvs.daemons().unwrap(),
        [with(backup6, |x| {
            x.sync_maxlen = Some(1500 - 48);
            x.mcast_port = Some(8848);
            x.mcast_ttl = Some(1);
        })]
    );
    stop_all(ipvs);
}

pub fn daemon_requests_the_kernel_refuses(ipvs: &dyn Ipvs) {
    let on =
        |state: u32, interface: &str| Daemon::new(DaemonState::from_bits_retain(state), interface);
    assert!(matches!(
        ipvs.start_daemon(&on(1, "abcdefghijklmnop")),
        Err(Error::InvalidArgument { message: Some(m), .. }) if m == "Attribute failed policy validation"
    ));
    for (daemon, want) in [
        (on(1, "nosuch0"), libc::ENODEV),
        (on(1, "abcdefghijklmno"), libc::ENODEV),
        (on(1, ""), libc::ENODEV),
        (on(0, "nosuch0"), libc::ENODEV),
        (on(0, SYNC_IF), libc::EINVAL),
        (on(3, SYNC_IF), libc::EINVAL),
        (on(4, SYNC_IF), libc::EINVAL),
        (
            with(on(1, SYNC_IF), |x| {
                x.mcast_group = Some(v4(10, 1, 1, 1));
            }),
            libc::EINVAL,
        ),
    ] {
        assert_eq!(errno(ipvs.start_daemon(&daemon)), want, "{daemon:?}");
    }
    ipvs.start_daemon(&on(2, SYNC_IF)).unwrap();
    // The interface is looked up before the role's slot.
    assert_eq!(errno(ipvs.start_daemon(&on(2, "nosuch0"))), libc::ENODEV);
    for (state, want) in [(1, libc::ESRCH), (3, libc::EINVAL), (0, libc::EINVAL)] {
        assert_eq!(
            errno(ipvs.stop_daemon(DaemonState::from_bits_retain(state))),
            want
        );
    }
    assert_eq!(ipvs.daemons().unwrap().len(), 1);
    stop_all(ipvs);
}

pub fn daemons_and_mixed_families_exclude_each_other(ipvs: &dyn Ipvs) {
    ipvs.add_service(&Service::new(key(1))).unwrap();
    let tunnel = Destination::new(v6(3), 80).with_forwarding(Forwarding::Tunnel(Tunnel::ipip()));
    ipvs.add_destination(&key(1), &tunnel).unwrap();
    // Refused before the interface is even looked up.
    for interface in [SYNC_IF, "nosuch0"] {
        assert!(matches!(
            ipvs.start_daemon(&Daemon::new(DaemonState::MASTER, interface)),
            Err(Error::InvalidArgument { .. })
        ));
    }
    ipvs.delete_destination(&key(1), &tunnel).unwrap();
    ipvs.start_daemon(&Daemon::new(DaemonState::MASTER, SYNC_IF))
        .unwrap();
    assert!(matches!(
        ipvs.add_destination(&key(1), &tunnel),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        ipvs.update_destination(&key(1), &tunnel),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        ipvs.delete_destination(&key(1), &tunnel),
        Err(Error::NoSuchDestination)
    ));
    ipvs.add_destination(&key(1), &dest(1)).unwrap();
    ipvs.stop_daemon(DaemonState::MASTER).unwrap();
}

pub fn batches_apply_every_request_and_report_each(ipvs: &dyn Ipvs) {
    let mut batch = Batch::new();
    batch
        .add_service(Service::new(key(1)))
        .add_service(Service::new(key(1)))
        .add_destination(key(1), dest(1))
        .add_destination(key(2), dest(1))
        .update_destination(key(1), dest(1).with_weight(-1))
        .add_destination(key(1), dest(2))
        .set_timeouts(Timeouts::new(0, 0, 30))
        .push(Request::Zero(Some(key(3))))
        .start_daemon(Daemon::new(DaemonState::BACKUP, SYNC_IF));
    let results = ipvs.apply(&batch);
    assert_eq!(results.len(), batch.len());
    assert!(results[0].is_ok());
    assert!(matches!(results[1], Err(Error::ServiceExists)));
    assert!(results[2].is_ok());
    assert!(matches!(results[3], Err(Error::NoSuchService)));
    assert_eq!(results[4].as_ref().unwrap_err().errno(), Some(libc::ERANGE));
    assert!(results[5].is_ok());
    assert!(results[6].is_ok());
    assert!(matches!(results[7], Err(Error::NoSuchService)));
    assert!(results[8].is_ok());
    assert_eq!(
        dest_ids(ipvs, &key(1)),
        [(dest(2).addr, 80), (dest(1).addr, 80)]
    );
    assert_eq!(ipvs.timeouts().unwrap().udp, 30);
    assert_eq!(ipvs.daemons().unwrap().len(), 1);
    ipvs.stop_daemon(DaemonState::BACKUP).unwrap();
}

/// The one thing the fake does not do like the kernel, made explicit: a raw request. The
/// kernel answers a raw GET_INFO; the fake refuses it with `EOPNOTSUPP` and says why.
pub fn raw_get_info_is_answered_or_refused_clearly(ipvs: &dyn Ipvs) {
    use ipvs_rs::wire::{IpvsCmd, IpvsMessage};
    let flush = Request::Raw(IpvsMessage::new(IpvsCmd::Flush, vec![]));
    ipvs.add_service(&Service::new(key(1))).unwrap();
    match ipvs.execute(&flush) {
        Ok(()) => assert!(ipvs.services().unwrap().is_empty()),
        Err(Error::Kernel { errno, message, .. }) => {
            assert_eq!(errno, libc::EOPNOTSUPP);
            assert!(message.unwrap().contains("raw"));
            assert_eq!(ipvs.services().unwrap().len(), 1);
        }
        Err(e) => panic!("{e:?}"),
    }
}
