//! proptest strategies for model values, shared by the property tests.

// Each test binary uses a different part of this module.
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipvs_rs::{
    AddressFamily, Daemon, DaemonState, Destination, Forwarding, Netmask, Protocol, Scheduler,
    Service, ServiceFlags, ServiceKey, Stats, Tunnel, TunnelFlags, TunnelType,
};
use proptest::prelude::*;

pub fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|b| IpAddr::V4(Ipv4Addr::from(b))),
        any::<[u8; 16]>().prop_map(|b| IpAddr::V6(Ipv6Addr::from(b))),
    ]
}

pub fn family() -> impl Strategy<Value = AddressFamily> {
    prop_oneof![Just(AddressFamily::Inet), Just(AddressFamily::Inet6)]
}

pub fn name() -> impl Strategy<Value = String> {
    "[a-z0-9_]{0,15}"
}

pub fn key() -> impl Strategy<Value = ServiceKey> {
    prop_oneof![
        (any::<u16>(), ip(), any::<u16>()).prop_map(|(p, addr, port)| ServiceKey::Inet {
            protocol: Protocol::from(p),
            addr,
            port
        }),
        (any::<u32>(), family()).prop_map(|(mark, family)| ServiceKey::Fwmark { mark, family }),
    ]
}

pub fn service() -> impl Strategy<Value = Service> {
    (
        key(),
        name(),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        proptest::option::of(name()),
    )
        .prop_map(|(key, sched, flags, timeout, mask, pe_name)| {
            let mut d = Service::new(key);
            d.netmask = match key.family() {
                AddressFamily::Inet6 => Netmask::V6(mask),
                _ => Netmask::V4(Ipv4Addr::from(mask)),
            };
            d.scheduler = Scheduler::from_name(&sched);
            d.flags = ServiceFlags::from_bits_retain(flags);
            d.timeout = timeout;
            d.pe_name = pe_name;
            d.stats = Stats::default();
            d
        })
}

pub fn forwarding() -> impl Strategy<Value = Forwarding> {
    let tunnel = (
        any::<u8>(),
        proptest::option::of(1..=u16::MAX),
        any::<u16>(),
    )
        .prop_map(|(kind, port, flags)| {
            Forwarding::Tunnel(Tunnel::new(
                TunnelType::from(kind),
                port,
                TunnelFlags::from_bits_retain(flags),
            ))
        });
    prop_oneof![
        Just(Forwarding::Route),
        Just(Forwarding::Masq),
        Just(Forwarding::Local),
        Just(Forwarding::Bypass),
        tunnel,
    ]
}

pub fn destination() -> impl Strategy<Value = Destination> {
    (
        ip(),
        any::<u16>(),
        forwarding(),
        any::<i32>(),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(|(addr, port, forwarding, weight, upper, lower)| {
            Destination::new(addr, port)
                .with_forwarding(forwarding)
                .with_weight(weight)
                .with_thresholds(upper, lower)
        })
}

pub fn daemon() -> impl Strategy<Value = Daemon> {
    (
        any::<u32>(),
        name(),
        any::<u8>(),
        proptest::option::of(any::<u16>()),
        proptest::option::of(ip()),
        proptest::option::of(any::<u16>()),
        proptest::option::of(any::<u8>()),
    )
        .prop_map(
            |(state, interface, sync_id, sync_maxlen, mcast_group, mcast_port, mcast_ttl)| {
                let mut d = Daemon::new(DaemonState::from_bits_retain(state), interface);
                d.sync_id = sync_id;
                d.sync_maxlen = sync_maxlen;
                d.mcast_group = mcast_group;
                d.mcast_port = mcast_port;
                d.mcast_ttl = mcast_ttl;
                d
            },
        )
}

pub fn stats() -> impl Strategy<Value = Stats> {
    proptest::array::uniform10(any::<u64>()).prop_map(|v| {
        let mut d = Stats::default();
        d.conns = v[0];
        d.in_pkts = v[1];
        d.out_pkts = v[2];
        d.in_bytes = v[3];
        d.out_bytes = v[4];
        d.cps = v[5];
        d.in_pps = v[6];
        d.out_pps = v[7];
        d.in_bps = v[8];
        d.out_bps = v[9];
        d
    })
}

/// A scheduler: mainline ones and out-of-tree names.
pub fn scheduler() -> impl Strategy<Value = Scheduler> {
    prop_oneof![
        proptest::sample::select(Scheduler::known().collect::<Vec<_>>()),
        name().prop_map(|n| Scheduler::from_name(&n)),
    ]
}

/// A service as read back from the kernel: any scheduler, counters included.
pub fn read_service() -> impl Strategy<Value = Service> {
    (service(), scheduler(), stats()).prop_map(|(mut svc, scheduler, stats)| {
        svc.scheduler = scheduler;
        svc.stats = stats;
        svc
    })
}

/// A destination as read back from the kernel, counters included, any family.
pub fn read_destination() -> impl Strategy<Value = Destination> {
    (destination(), any::<u16>(), any::<[u32; 3]>(), stats()).prop_map(
        |(mut d, family, conns, stats)| {
            d.family = AddressFamily::from(family);
            [d.active_conns, d.inactive_conns, d.persist_conns] = conns;
            d.stats = stats;
            d
        },
    )
}
