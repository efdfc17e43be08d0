//! Destinations against the real kernel: every forwarding method and tunnel option.
#![cfg(feature = "kernel-tests")]

mod support;

use ipvs_rs::{
    AddressFamily, Destination, Error, Forwarding, Service, ServiceKey, Tunnel, TunnelFlags,
    TunnelType,
};
use support::{handle, v4, v6};

fn sorted(mut dests: Vec<Destination>) -> Vec<Destination> {
    dests.sort_by_key(|d| (d.addr, d.port));
    dests
}

#[test]
fn every_forwarding_method_and_tunnel() {
    let ipvs = handle();
    let key = ServiceKey::tcp(v4(10, 0, 0, 1), 80);
    ipvs.add_service(&Service::new(key)).unwrap();
    let tunnels = [
        Tunnel::ipip(),
        Tunnel::gue(6080),
        Tunnel::gue(6081).with_flags(TunnelFlags::CSUM),
        Tunnel::gue(6082).with_flags(TunnelFlags::REMCSUM),
        Tunnel::gre(),
        Tunnel::gre().with_flags(TunnelFlags::CSUM),
    ];
    let mut written = vec![
        Destination::new(v4(10, 0, 1, 1), 80),
        Destination::new(v4(10, 0, 1, 2), 8080).with_forwarding(Forwarding::Masq),
        Destination::new(v4(10, 0, 1, 3), 80).with_forwarding(Forwarding::Local),
        Destination::new(v4(10, 0, 1, 4), 80).with_forwarding(Forwarding::Bypass),
    ];
    for (i, t) in (10..).zip(tunnels) {
        written.push(Destination::new(v4(10, 0, 1, i), 80).with_forwarding(Forwarding::Tunnel(t)));
    }
    for dest in &written {
        ipvs.add_destination(&key, dest)
            .unwrap_or_else(|e| panic!("{dest:?}: {e}"));
    }
    assert_eq!(sorted(ipvs.destinations(&key).unwrap()), sorted(written));
}

#[test]
fn weights_thresholds_and_update() {
    let ipvs = handle();
    let key = ServiceKey::udp(v6(1), 53);
    ipvs.add_service(&Service::new(key)).unwrap();
    let dests = [
        Destination::new(v6(2), 53).with_weight(0),
        Destination::new(v6(3), 53)
            .with_weight(i32::MAX)
            .with_thresholds(i32::MAX as u32, 0),
        Destination::new(v6(4), 53)
            .with_weight(100)
            .with_thresholds(1000, 500),
    ];
    for d in &dests {
        ipvs.add_destination(&key, d)
            .unwrap_or_else(|e| panic!("{d:?}: {e}"));
    }
    assert_eq!(
        sorted(ipvs.destinations(&key).unwrap()),
        sorted(dests.to_vec())
    );

    let edited = Destination::new(v6(4), 53)
        .with_forwarding(Forwarding::Masq)
        .with_weight(3);
    ipvs.update_destination(&key, &edited).unwrap();
    let read = ipvs.destinations(&key).unwrap();
    assert_eq!(read.iter().find(|d| d.addr == v6(4)), Some(&edited));

    ipvs.delete_destination(&key, &dests[0]).unwrap();
    assert_eq!(ipvs.destinations(&key).unwrap().len(), 2);
}

#[test]
fn mixed_family_tunnel_destinations() {
    let ipvs = handle();
    let v6_key = ServiceKey::tcp(v6(10), 80);
    let v4_key = ServiceKey::fwmark(3, AddressFamily::Inet);
    ipvs.add_service(&Service::new(v6_key)).unwrap();
    ipvs.add_service(&Service::new(v4_key)).unwrap();
    let to_v4 =
        Destination::new(v4(10, 9, 0, 1), 80).with_forwarding(Forwarding::Tunnel(Tunnel::ipip()));
    let to_v6 = Destination::new(v6(11), 0).with_forwarding(Forwarding::Tunnel(Tunnel::gre()));
    ipvs.add_destination(&v6_key, &to_v4).unwrap();
    ipvs.add_destination(&v4_key, &to_v6).unwrap();
    assert_eq!(ipvs.destinations(&v6_key).unwrap(), vec![to_v4]);
    assert_eq!(ipvs.destinations(&v4_key).unwrap(), vec![to_v6]);
    // Only tunnels may cross families (kernel_validation shows the kernel's EINVAL).
    let routed = Destination::new(v4(10, 9, 0, 2), 80);
    let refused = ipvs.add_destination(&v6_key, &routed).unwrap_err();
    assert!(
        matches!(
            refused.invalid().map(|i| &i.violation),
            Some(ipvs_rs::Violation::MixedFamily { .. })
        ),
        "{refused:?}"
    );
}

#[test]
fn destination_errors_are_typed() {
    let ipvs = handle();
    let key = ServiceKey::tcp(v4(10, 0, 0, 1), 80);
    ipvs.add_service(&Service::new(key)).unwrap();
    let dest = Destination::new(v4(10, 0, 2, 1), 80);
    ipvs.add_destination(&key, &dest).unwrap();
    assert!(matches!(
        ipvs.add_destination(&key, &dest),
        Err(Error::DestinationExists)
    ));

    let other = Destination::new(v4(10, 0, 2, 2), 80);
    assert!(matches!(
        ipvs.update_destination(&key, &other),
        Err(Error::NoSuchDestination)
    ));
    assert!(matches!(
        ipvs.delete_destination(&key, &other),
        Err(Error::NoSuchDestination)
    ));

    let missing = ServiceKey::tcp(v4(10, 0, 0, 2), 80);
    assert!(matches!(
        ipvs.add_destination(&missing, &dest),
        Err(Error::NoSuchService)
    ));
    assert!(ipvs.destinations(&missing).unwrap().is_empty());

    match ipvs.add_destination(&key, &other.clone().with_weight(-1)) {
        Err(e) => assert_eq!(e.errno(), Some(libc::ERANGE), "{e}"),
        Ok(()) => panic!("negative weight accepted"),
    }
    match ipvs.add_destination(&key, &other.clone().with_thresholds(10, 20)) {
        Err(e) => assert_eq!(e.errno(), Some(libc::ERANGE), "{e}"),
        Ok(()) => panic!("lower threshold above upper accepted"),
    }
    // Linux 6.1 takes thresholds up to i32::MAX only (EINVAL, as the error's errno says).
    let huge = other.clone().with_thresholds(i32::MAX as u32 + 1, 0);
    match ipvs.add_destination(&key, &huge) {
        Err(e @ Error::Invalid(_)) => assert_eq!(e.errno(), Some(libc::EINVAL), "{e}"),
        other => panic!("unexpected {other:?}"),
    }
    let gue_without_port = Tunnel::new(TunnelType::Gue, None, TunnelFlags::empty());
    let bad = other
        .clone()
        .with_forwarding(Forwarding::Tunnel(gue_without_port));
    assert!(matches!(
        ipvs.add_destination(&key, &bad),
        Err(Error::InvalidArgument { .. })
    ));
    let multicast = Destination::new(v4(224, 0, 0, 1), 80);
    assert!(matches!(
        ipvs.add_destination(&key, &multicast),
        Err(Error::InvalidArgument { .. })
    ));
    assert_eq!(ipvs.destinations(&key).unwrap(), vec![dest]);
}

/// A service with hundreds of real servers: its destination dump spans many page-sized
/// datagrams, and every destination comes back exactly once, also after an abandoned dump.
#[test]
fn destination_dumps_span_many_datagrams() {
    let ipvs = handle();
    let key = ServiceKey::tcp(v6(0x50), 443);
    ipvs.add_service(&Service::new(key)).unwrap();
    let mut batch = ipvs_rs::Batch::new();
    let written: Vec<Destination> = (1..=300u16)
        .map(|i| {
            Destination::new(v6(0x1000 + i), 443)
                .with_weight(i32::from(i))
                .with_thresholds(u32::from(i) * 10, u32::from(i))
        })
        .collect();
    for dest in &written {
        batch.add_destination(key, dest.clone());
    }
    assert!(ipvs.apply(&batch).iter().all(Result::is_ok));

    let mut partial = ipvs.destinations_iter(&key).unwrap();
    partial.next().unwrap().unwrap();
    drop(partial);

    let read = sorted(ipvs.destinations(&key).unwrap());
    assert_eq!(read.len(), written.len());
    let fields = |d: &Destination| {
        let thresholds = (d.upper_threshold, d.lower_threshold);
        (d.addr, d.port, d.weight, thresholds)
    };
    for (r, w) in read.iter().zip(&sorted(written)) {
        assert_eq!(fields(r), fields(w));
    }
    assert_eq!(ipvs.services().unwrap().len(), 1);
}
