//! Property tests: decode(encode(x)) == x for every attribute set and model type.
#![cfg(feature = "wire")]

use std::net::{Ipv4Addr, Ipv6Addr};

use ipvs_rs::wire::{
    CmdAttr, Counter, DaemonAttr, DestAttr, FlagsMask, InfoAttr, IpvsCmd, IpvsMessage, ServiceAttr,
    StatsAttr,
};
use ipvs_rs::{Request, Scheduler, Stats, Version};
use netlink_packet_core::NetlinkMessage;
use netlink_packet_core::{
    DefaultNla, Emitable, Nla, NlaBuffer, NlasIterator, Parseable, ParseableParametrized,
};
use netlink_packet_generic::{GenlHeader, GenlMessage};
use proptest::prelude::*;

mod model_strategies;
use model_strategies::*;

fn roundtrip<T>(attrs: &[T]) -> Vec<T>
where
    T: Nla + for<'a> Parseable<NlaBuffer<&'a [u8]>>,
{
    let mut buf = vec![0; attrs.buffer_len()];
    attrs.emit(&mut buf);
    NlasIterator::new(&buf[..])
        .map(|nla| T::parse(&nla.unwrap()).unwrap())
        .collect()
}

fn message_roundtrip(msg: &IpvsMessage) -> IpvsMessage {
    let mut buf = vec![0; msg.buffer_len()];
    msg.emit(&mut buf);
    let header = GenlHeader {
        cmd: msg.cmd.into(),
        version: 1,
    };
    IpvsMessage::parse_with_param(&buf[..], header).unwrap()
}

fn other(min_kind: u16) -> impl Strategy<Value = DefaultNla> {
    (
        min_kind..0x3fff,
        proptest::collection::vec(any::<u8>(), 0..24),
    )
        .prop_map(|(kind, value)| DefaultNla::new(kind, value))
}

fn counter() -> impl Strategy<Value = Counter> {
    prop_oneof![
        any::<u32>().prop_map(Counter::U32),
        any::<u64>().prop_map(Counter::U64)
    ]
}

fn stats_attr() -> impl Strategy<Value = StatsAttr> {
    prop_oneof![
        counter().prop_map(StatsAttr::Conns),
        counter().prop_map(StatsAttr::InPkts),
        counter().prop_map(StatsAttr::OutPkts),
        counter().prop_map(StatsAttr::InBytes),
        counter().prop_map(StatsAttr::OutBytes),
        counter().prop_map(StatsAttr::Cps),
        counter().prop_map(StatsAttr::InPps),
        counter().prop_map(StatsAttr::OutPps),
        counter().prop_map(StatsAttr::InBps),
        counter().prop_map(StatsAttr::OutBps),
        other(11).prop_map(StatsAttr::Other),
    ]
}

fn stats_attrs() -> impl Strategy<Value = Vec<StatsAttr>> {
    proptest::collection::vec(stats_attr(), 0..12)
}

fn service_attr() -> impl Strategy<Value = ServiceAttr> {
    prop_oneof![
        any::<u16>().prop_map(ServiceAttr::Af),
        any::<u16>().prop_map(ServiceAttr::Protocol),
        any::<[u8; 16]>().prop_map(ServiceAttr::Addr),
        any::<u16>().prop_map(ServiceAttr::Port),
        any::<u32>().prop_map(ServiceAttr::Fwmark),
        name().prop_map(ServiceAttr::SchedName),
        (any::<u32>(), any::<u32>())
            .prop_map(|(flags, mask)| ServiceAttr::Flags(FlagsMask { flags, mask })),
        any::<u32>().prop_map(ServiceAttr::Timeout),
        any::<u32>().prop_map(ServiceAttr::Netmask),
        stats_attrs().prop_map(ServiceAttr::Stats),
        name().prop_map(ServiceAttr::PeName),
        stats_attrs().prop_map(ServiceAttr::Stats64),
        other(13).prop_map(ServiceAttr::Other),
    ]
}

fn dest_attr() -> impl Strategy<Value = DestAttr> {
    prop_oneof![
        any::<[u8; 16]>().prop_map(DestAttr::Addr),
        any::<u16>().prop_map(DestAttr::Port),
        any::<u32>().prop_map(DestAttr::FwdMethod),
        any::<i32>().prop_map(DestAttr::Weight),
        any::<u32>().prop_map(DestAttr::UThresh),
        any::<u32>().prop_map(DestAttr::LThresh),
        any::<u32>().prop_map(DestAttr::ActiveConns),
        any::<u32>().prop_map(DestAttr::InactConns),
        any::<u32>().prop_map(DestAttr::PersistConns),
        stats_attrs().prop_map(DestAttr::Stats),
        any::<u16>().prop_map(DestAttr::AddrFamily),
        stats_attrs().prop_map(DestAttr::Stats64),
        any::<u8>().prop_map(DestAttr::TunType),
        any::<u16>().prop_map(DestAttr::TunPort),
        any::<u16>().prop_map(DestAttr::TunFlags),
        other(16).prop_map(DestAttr::Other),
    ]
}

fn daemon_attr() -> impl Strategy<Value = DaemonAttr> {
    prop_oneof![
        any::<u32>().prop_map(DaemonAttr::State),
        name().prop_map(DaemonAttr::McastIfn),
        any::<u32>().prop_map(DaemonAttr::SyncId),
        any::<u16>().prop_map(DaemonAttr::SyncMaxlen),
        any::<[u8; 4]>().prop_map(|b| DaemonAttr::McastGroup(Ipv4Addr::from(b))),
        any::<[u8; 16]>().prop_map(|b| DaemonAttr::McastGroup6(Ipv6Addr::from(b))),
        any::<u16>().prop_map(DaemonAttr::McastPort),
        any::<u8>().prop_map(DaemonAttr::McastTtl),
        other(9).prop_map(DaemonAttr::Other),
    ]
}

fn cmd_attr() -> impl Strategy<Value = CmdAttr> {
    prop_oneof![
        proptest::collection::vec(service_attr(), 0..8).prop_map(CmdAttr::Service),
        proptest::collection::vec(dest_attr(), 0..8).prop_map(CmdAttr::Dest),
        proptest::collection::vec(daemon_attr(), 0..8).prop_map(CmdAttr::Daemon),
        any::<u32>().prop_map(CmdAttr::TimeoutTcp),
        any::<u32>().prop_map(CmdAttr::TimeoutTcpFin),
        any::<u32>().prop_map(CmdAttr::TimeoutUdp),
        other(7).prop_map(CmdAttr::Other),
    ]
}

proptest! {
    #[test]
    fn stats_attrs_round_trip(attrs in stats_attrs()) {
        prop_assert_eq!(roundtrip(&attrs), attrs);
    }

    #[test]
    fn service_attrs_round_trip(attrs in proptest::collection::vec(service_attr(), 0..16)) {
        prop_assert_eq!(roundtrip(&attrs), attrs);
    }

    #[test]
    fn dest_attrs_round_trip(attrs in proptest::collection::vec(dest_attr(), 0..16)) {
        prop_assert_eq!(roundtrip(&attrs), attrs);
    }

    #[test]
    fn daemon_attrs_round_trip(attrs in proptest::collection::vec(daemon_attr(), 0..12)) {
        prop_assert_eq!(roundtrip(&attrs), attrs);
    }

    #[test]
    fn info_attrs_round_trip(version in any::<u32>(), size in any::<u32>(), extra in other(3)) {
        let attrs = vec![InfoAttr::Version(version), InfoAttr::ConnTabSize(size), InfoAttr::Other(extra)];
        prop_assert_eq!(roundtrip(&attrs), attrs.clone());
        let info = InfoAttr::to_info(&attrs).unwrap();
        prop_assert_eq!(info.version.code(), version & 0xff_ffff);
        prop_assert_eq!(info.conn_table_size, size);
    }

    #[test]
    fn messages_round_trip(cmd in 1u8..=17, attrs in proptest::collection::vec(cmd_attr(), 0..6)) {
        prop_assume!(cmd != 14);
        let msg = IpvsMessage::new(IpvsCmd::from(cmd), attrs);
        prop_assert_eq!(message_roundtrip(&msg), msg);
    }

    /// The one-pass writer and `Emitable` write the same bytes, framed as
    /// netlink-packet-core frames a generic-netlink message.
    #[test]
    fn one_pass_writer_matches_emitable(
        cmd in 1u8..=17,
        attrs in proptest::collection::vec(cmd_attr(), 0..6),
        (family, flags, seq) in (any::<u16>(), any::<u16>(), any::<u32>()),
    ) {
        prop_assume!(cmd != 14);
        let msg = IpvsMessage::new(IpvsCmd::from(cmd), attrs);
        let mut emitted = vec![0; msg.buffer_len()];
        msg.emit(&mut emitted);
        let mut written = vec![0xaa];
        msg.write_attrs(&mut written);
        prop_assert_eq!(&written[1..], &emitted[..]);

        let mut genl = GenlMessage::from_payload(msg.clone());
        genl.set_resolved_family_id(family);
        let mut nl = NetlinkMessage::from(genl);
        nl.header.flags = flags;
        nl.header.sequence_number = seq;
        nl.finalize();
        let mut framed = vec![0; nl.buffer_len()];
        nl.serialize(&mut framed);
        let mut frame = Vec::new();
        let len = msg.write_frame(family, flags, seq, &mut frame);
        prop_assert_eq!(len, frame.len());
        prop_assert_eq!(frame, framed);
    }

    /// A request written directly is the message it stands for, written.
    #[test]
    fn requests_write_their_message(
        svc in service(),
        k in key(),
        dest in destination(),
        (family, flags, seq) in (any::<u16>(), any::<u16>(), any::<u32>()),
    ) {
        let requests = [
            Request::AddService(svc.clone()),
            Request::UpdateService(svc),
            Request::DeleteService(k),
            Request::AddDestination(k, dest.clone()),
            Request::UpdateDestination(k, dest.clone()),
            Request::DeleteDestination(k, dest),
            Request::Zero(Some(k)),
            Request::Flush,
        ];
        for request in requests {
            let (mut direct, mut listed) = (vec![1, 2, 3], vec![1, 2, 3]);
            let len = request.write_frame(family, flags, seq, &mut direct);
            request.to_message().write_frame(family, flags, seq, &mut listed);
            prop_assert_eq!(len, direct.len() - 3);
            prop_assert_eq!(direct, listed, "{:?}", request);
        }
    }

    #[test]
    fn services_round_trip(svc in service()) {
        let attrs = roundtrip(&ServiceAttr::from_service(&svc));
        prop_assert_eq!(ServiceAttr::to_service(&attrs).unwrap(), svc);
    }

    #[test]
    fn destinations_round_trip(dest in destination(), service_family in family()) {
        let attrs = roundtrip(&DestAttr::from_destination(&dest));
        prop_assert_eq!(DestAttr::to_destination(&attrs, service_family).unwrap(), dest);
    }

    #[test]
    fn daemons_round_trip(d in daemon()) {
        let attrs = roundtrip(&DaemonAttr::from_daemon(&d));
        prop_assert_eq!(DaemonAttr::to_daemon(&attrs).unwrap(), d);
    }

    #[test]
    fn stats_round_trip(v in any::<[u64; 10]>()) {
        let s = {
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
    };
        prop_assert_eq!(StatsAttr::to_stats(&roundtrip(&StatsAttr::from_stats64(&s))), s);
    }

    #[test]
    fn scheduler_names_are_kept(name in "[ -~]{0,20}") {
        let s = Scheduler::from_name(&name);
        prop_assert_eq!(s.name(), name.as_str());
        prop_assert_eq!(Scheduler::from_name(&s.to_string()), s);
    }

    #[test]
    fn commands_and_versions_round_trip(n in any::<u8>(), code in 0u32..0x100_0000) {
        prop_assert_eq!(u8::from(IpvsCmd::from(n)), n);
        prop_assert_eq!(Version::from_code(code).code(), code);
    }

    /// Arbitrary bytes never panic the decoder.
    #[test]
    fn garbage_never_panics(cmd in any::<u8>(), bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = IpvsMessage::parse_with_param(&bytes[..], GenlHeader { cmd, version: 1 });
        let attrs: Vec<Result<ServiceAttr, _>> =
            NlasIterator::new(&bytes[..]).map(|n| n.and_then(|n| ServiceAttr::parse(&n))).collect();
        if let Ok(attrs) = attrs.into_iter().collect::<Result<Vec<_>, _>>() {
            let _ = ServiceAttr::to_service(&attrs);
        }
    }
}
