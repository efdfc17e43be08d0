//! Golden bytes captured from a real 6.1 kernel and the reference ipvsadm 1.31
//! (`tests/fixtures/*.hex`, made by `tests/fixtures/capture.sh`).
//!
//! Requests: what this crate encodes for a typed [`Request`] is byte for byte what ipvsadm sent.
//! Replies: the kernel's dump and get replies decode to the table ipvsadm configured.
#![cfg(feature = "wire")]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipvs_rs::wire::{
    CmdAttr, DaemonAttr, DestAttr, InfoAttr, IpvsAttrs, IpvsCmd, IpvsMessage, ServiceAttr,
};
use ipvs_rs::{
    AddressFamily, Daemon, DaemonState, Destination, Forwarding, Netmask, Request, Scheduler,
    Service, ServiceFlags, ServiceKey, Timeouts, Tunnel, TunnelFlags, Version,
};
use netlink_packet_core::{Emitable, NetlinkMessage, NetlinkPayload};
use netlink_packet_generic::GenlMessage;

const GENL_ID_CTRL: u16 = 0x10;

struct Capture {
    sent: Vec<Vec<u8>>,
    received: Vec<Vec<u8>>,
    /// Every message in capture order, `true` for sent.
    ordered: Vec<(bool, Vec<u8>)>,
}

fn load(name: &str) -> Capture {
    let path = format!("{}/tests/fixtures/{name}.hex", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut capture = Capture {
        sent: vec![],
        received: vec![],
        ordered: vec![],
    };
    for line in text
        .lines()
        .filter(|l| l.starts_with("> ") || l.starts_with("< "))
    {
        let (dir, hex) = line.split_at(2);
        let bytes: Vec<u8> = (0..hex.len() / 2)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex"))
            .collect();
        capture.ordered.push((dir == "> ", bytes.clone()));
        match dir {
            "> " => capture.sent.push(bytes),
            _ => capture.received.push(bytes),
        }
    }
    capture
}

fn message_type(bytes: &[u8]) -> u16 {
    u16::from_ne_bytes([bytes[4], bytes[5]])
}

fn decode(bytes: &[u8]) -> IpvsMessage {
    match NetlinkMessage::<GenlMessage<IpvsMessage>>::deserialize(bytes)
        .expect("decodes")
        .payload
    {
        NetlinkPayload::InnerMessage(m) => m.payload,
        other => panic!("not an IPVS message: {other:?}"),
    }
}

/// The IPVS messages of a capture (sent or received), skipping the controller and acks.
fn ipvs_messages(messages: &[Vec<u8>]) -> Vec<(&[u8], IpvsMessage)> {
    messages
        .iter()
        .filter(|m| message_type(m) != GENL_ID_CTRL && message_type(m) > 0x10)
        .map(|m| (m.as_slice(), decode(m)))
        .collect()
}

/// The one state-changing request ipvsadm sent (everything after the netlink header).
fn ipvsadm_write(name: &str) -> Vec<u8> {
    let capture = load(name);
    let writes: Vec<_> = ipvs_messages(&capture.sent)
        .into_iter()
        .filter(|(_, m)| {
            !matches!(
                m.cmd,
                IpvsCmd::GetInfo | IpvsCmd::GetService | IpvsCmd::GetDest
            )
        })
        .collect();
    assert_eq!(
        writes.len(),
        1,
        "{name}: expected one write, got {writes:?}"
    );
    writes[0].0[16..].to_vec()
}

/// A netlink header (of some IPVS family id) in front of a generic-netlink message.
fn frame(genl: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + genl.len());
    out.extend_from_slice(&(16 + genl.len() as u32).to_ne_bytes());
    out.extend_from_slice(&0x20u16.to_ne_bytes());
    out.extend_from_slice(&[0; 10]);
    out.extend_from_slice(genl);
    out
}

/// The generic-netlink part of what a handle sends for `request`.
fn encode(request: &Request) -> Vec<u8> {
    let mut out = Vec::new();
    request.write_frame(0x20, 0, 0, &mut out);
    out.split_off(16)
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

fn v6(last: u16) -> IpAddr {
    IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, last))
}

fn tcp80() -> ServiceKey {
    ServiceKey::tcp(v4(192, 168, 0, 10), 80)
}

fn udp6() -> ServiceKey {
    ServiceKey::udp(v6(1), 53)
}

fn fwm6() -> ServiceKey {
    ServiceKey::fwmark(5, AddressFamily::Inet6)
}

fn sctp() -> ServiceKey {
    ServiceKey::sctp(v4(10, 1, 1, 1), 3868)
}

fn udp_sip() -> ServiceKey {
    ServiceKey::udp(v4(10, 2, 2, 2), 5060)
}

fn tunnel(t: Tunnel) -> Forwarding {
    Forwarding::Tunnel(t)
}

fn master() -> Daemon {
    let mut d = Daemon::new(DaemonState::MASTER, "sync0");
    d.sync_id = 7;
    d.sync_maxlen = Some(1400);
    d.mcast_group = Some(v4(239, 1, 2, 3));
    d.mcast_port = Some(8849);
    d.mcast_ttl = Some(2);
    d
}

fn backup() -> Daemon {
    let mut d = Daemon::new(DaemonState::BACKUP, "sync0");
    d.sync_id = 9;
    d
}

#[test]
fn typed_requests_encode_to_ipvsadm_bytes() {
    let gre_csum = Tunnel::gre().with_flags(TunnelFlags::CSUM);
    let gue_remcsum = Tunnel::gue(6081).with_flags(TunnelFlags::REMCSUM);
    let cases: Vec<(&str, Request)> = vec![
        ("add-tcp", Request::AddService(Service::new(tcp80()))),
        (
            "add-dest-route",
            Request::AddDestination(tcp80(), Destination::new(v4(192, 168, 0, 3), 80)),
        ),
        (
            "add-udp6-mh-sip",
            Request::AddService(
                Service::new(udp6())
                    .with_scheduler(Scheduler::MaglevHashing)
                    .with_flags(ServiceFlags::MH_PORT)
                    .with_persistence(360)
                    .with_pe("sip"),
            ),
        ),
        (
            "add-fwmark6-sh",
            Request::AddService(
                Service::new(fwm6())
                    .with_scheduler(Scheduler::SourceHashing)
                    .with_flags(ServiceFlags::SH_PORT | ServiceFlags::SH_FALLBACK)
                    .with_persistence(100)
                    .with_netmask(Netmask::V6(64)),
            ),
        ),
        (
            "add-dest-fwmark6-masq",
            Request::AddDestination(
                fwm6(),
                Destination::new(v6(0x20), 8080)
                    .with_forwarding(Forwarding::Masq)
                    .with_weight(0),
            ),
        ),
        (
            "add-sctp-rr",
            Request::AddService(
                Service::new(sctp())
                    .with_scheduler(Scheduler::RoundRobin)
                    .with_persistence(30)
                    .with_netmask(Netmask::V4(Ipv4Addr::new(255, 255, 255, 0))),
            ),
        ),
        (
            "add-dest-gre",
            Request::AddDestination(
                sctp(),
                Destination::new(v4(10, 1, 1, 2), 3868)
                    .with_forwarding(tunnel(gre_csum))
                    .with_weight(i32::MAX),
            ),
        ),
        (
            "add-udp-ops",
            Request::AddService(
                Service::new(udp_sip())
                    .with_scheduler(Scheduler::WeightedRoundRobin)
                    .with_flags(ServiceFlags::ONE_PACKET),
            ),
        ),
        (
            "add-dest-ipip",
            Request::AddDestination(
                udp_sip(),
                Destination::new(v4(10, 2, 2, 3), 5060)
                    .with_forwarding(tunnel(Tunnel::ipip()))
                    .with_weight(3),
            ),
        ),
        (
            "add-dest-gue-remcsum",
            Request::AddDestination(
                udp_sip(),
                Destination::new(v4(10, 2, 2, 4), 5060).with_forwarding(tunnel(gue_remcsum)),
            ),
        ),
        (
            "add-dest-gre-nocsum",
            Request::AddDestination(
                udp_sip(),
                Destination::new(v4(10, 2, 2, 5), 5060).with_forwarding(tunnel(Tunnel::gre())),
            ),
        ),
        (
            "add-dest-local",
            Request::AddDestination(
                tcp80(),
                Destination::new(v4(127, 0, 0, 1), 8080).with_forwarding(Forwarding::Masq),
            ),
        ),
        (
            "edit-tcp",
            Request::UpdateService(
                Service::new(tcp80())
                    .with_scheduler(Scheduler::LeastConnection)
                    .with_persistence(600),
            ),
        ),
        (
            "edit-dest",
            Request::UpdateDestination(
                tcp80(),
                Destination::new(v4(192, 168, 0, 3), 80)
                    .with_weight(5)
                    .with_thresholds(100, 50),
            ),
        ),
        (
            "set-timeouts",
            Request::SetTimeouts(Timeouts::new(900, 120, 300)),
        ),
        ("start-master", Request::StartDaemon(master())),
        ("start-backup", Request::StartDaemon(backup())),
        (
            "stop-master",
            Request::StopDaemon(Daemon::new(DaemonState::MASTER, "")),
        ),
        (
            "stop-backup",
            Request::StopDaemon(Daemon::new(DaemonState::BACKUP, "")),
        ),
        ("zero-one", Request::Zero(Some(tcp80()))),
        ("zero-all", Request::Zero(None)),
        (
            "del-dest",
            Request::DeleteDestination(tcp80(), Destination::new(v4(192, 168, 0, 3), 80)),
        ),
        ("del-service", Request::DeleteService(tcp80())),
        ("flush", Request::Flush),
    ];
    for (name, request) in cases {
        assert_eq!(encode(&request), ipvsadm_write(name), "{name}: {request:?}");
    }
}

/// ipvsadm leaves stale bytes after an IPv4 address in an IPv6 service's request; decoding
/// ignores them, and a raw request re-encodes them exactly.
#[test]
fn mixed_family_request_keeps_ipvsadm_bytes() {
    let bytes = ipvsadm_write("add-dest-gue");
    let msg = decode(&frame(&bytes));
    assert_eq!(encode(&Request::Raw(msg.clone())), bytes);
    let dest = msg
        .cmd_attrs()
        .iter()
        .find_map(|a| match a {
            CmdAttr::Dest(d) => Some(DestAttr::to_destination(d, AddressFamily::Inet6).unwrap()),
            _ => None,
        })
        .unwrap();
    let gue = Tunnel::gue(6080).with_flags(TunnelFlags::CSUM);
    let expected = Destination::new(v4(10, 0, 0, 5), 53)
        .with_forwarding(Forwarding::Tunnel(gue))
        .with_weight(7)
        .with_thresholds(10, 2);
    assert_eq!(dest, expected);
}

fn services_of(capture: &Capture) -> Vec<Service> {
    ipvs_messages(&capture.received)
        .iter()
        .filter(|(_, m)| m.cmd == IpvsCmd::NewService)
        .flat_map(|(_, m)| m.cmd_attrs().to_vec())
        .filter_map(|a| match a {
            CmdAttr::Service(s) => Some(ServiceAttr::to_service(&s).expect("service decodes")),
            _ => None,
        })
        .collect()
}

#[test]
fn kernel_service_dump_decodes() {
    let capture = load("list");
    let mut services = services_of(&capture);
    services.sort_by_key(|s| s.key);
    let hashed = ServiceFlags::HASHED;
    let mut expected = vec![
        Service::new(tcp80())
            .with_scheduler(Scheduler::LeastConnection)
            .with_persistence(600)
            .with_flags(hashed),
        Service::new(udp6())
            .with_scheduler(Scheduler::MaglevHashing)
            .with_flags(ServiceFlags::MH_PORT | hashed)
            .with_persistence(360)
            .with_pe("sip"),
        Service::new(fwm6())
            .with_scheduler(Scheduler::SourceHashing)
            .with_flags(ServiceFlags::SH_PORT | ServiceFlags::SH_FALLBACK | hashed)
            .with_persistence(100)
            .with_netmask(Netmask::V6(64)),
        Service::new(sctp())
            .with_scheduler(Scheduler::RoundRobin)
            .with_persistence(30)
            .with_flags(hashed)
            .with_netmask(Netmask::V4(Ipv4Addr::new(255, 255, 255, 0))),
        Service::new(udp_sip())
            .with_scheduler(Scheduler::WeightedRoundRobin)
            .with_flags(ServiceFlags::ONE_PACKET | hashed),
    ];
    expected.sort_by_key(|s| s.key);
    assert_eq!(services, expected);
}

#[test]
fn kernel_destination_dumps_decode() {
    let capture = load("list");
    let services = services_of(&capture);
    // Each destination dump's replies follow its request.
    let mut found = Vec::new();
    let mut current = None;
    for (sent, bytes) in &capture.ordered {
        if message_type(bytes) <= GENL_ID_CTRL {
            continue;
        }
        let msg = decode(bytes);
        match (sent, msg.cmd) {
            (true, IpvsCmd::GetDest) => {
                let CmdAttr::Service(attrs) = &msg.cmd_attrs()[0] else {
                    panic!("{msg:?}")
                };
                current = services
                    .iter()
                    .find(|s| ServiceAttr::from_key(&s.key) == *attrs)
                    .map(|s| s.key);
                assert!(
                    current.is_some(),
                    "dump request for an unknown service: {attrs:?}"
                );
            }
            (false, IpvsCmd::NewDest) => {
                let key = current.expect("destination before any request");
                for attr in msg.cmd_attrs() {
                    if let CmdAttr::Dest(d) = attr {
                        found.push((
                            key,
                            DestAttr::to_destination(d, key.family()).expect("destination decodes"),
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    let gue = Tunnel::gue(6080).with_flags(TunnelFlags::CSUM);
    let gue_rem = Tunnel::gue(6081).with_flags(TunnelFlags::REMCSUM);
    let gre_csum = Tunnel::gre().with_flags(TunnelFlags::CSUM);
    let mut expected = vec![
        (
            tcp80(),
            Destination::new(v4(192, 168, 0, 3), 80)
                .with_weight(5)
                .with_thresholds(100, 50),
        ),
        (
            tcp80(),
            Destination::new(v4(127, 0, 0, 1), 8080).with_forwarding(Forwarding::Masq),
        ),
        (
            udp6(),
            Destination::new(v4(10, 0, 0, 5), 53)
                .with_forwarding(Forwarding::Tunnel(gue))
                .with_weight(7)
                .with_thresholds(10, 2),
        ),
        (
            fwm6(),
            Destination::new(v6(0x20), 8080)
                .with_forwarding(Forwarding::Masq)
                .with_weight(0),
        ),
        (
            sctp(),
            Destination::new(v4(10, 1, 1, 2), 3868)
                .with_forwarding(Forwarding::Tunnel(gre_csum))
                .with_weight(i32::MAX),
        ),
        (
            udp_sip(),
            Destination::new(v4(10, 2, 2, 3), 5060)
                .with_forwarding(Forwarding::Tunnel(Tunnel::ipip()))
                .with_weight(3),
        ),
        (
            udp_sip(),
            Destination::new(v4(10, 2, 2, 4), 5060).with_forwarding(Forwarding::Tunnel(gue_rem)),
        ),
        (
            udp_sip(),
            Destination::new(v4(10, 2, 2, 5), 5060)
                .with_forwarding(Forwarding::Tunnel(Tunnel::gre())),
        ),
    ];
    let order = |(k, d): &(ServiceKey, Destination)| (*k, d.addr, d.port);
    found.sort_by_key(order);
    expected.sort_by_key(order);
    assert_eq!(found, expected);
}

#[test]
fn kernel_info_timeouts_and_daemons_decode() {
    let info = ipvs_messages(&load("list").received)
        .into_iter()
        .find_map(|(_, m)| match m.attrs {
            IpvsAttrs::Info(a) => Some(InfoAttr::to_info(&a).unwrap()),
            _ => None,
        })
        .expect("info reply");
    assert_eq!(
        info.version,
        Version {
            major: 1,
            minor: 2,
            patch: 1
        }
    );
    assert_eq!(info.conn_table_size, 4096);

    let config = ipvs_messages(&load("list-timeouts").received)
        .into_iter()
        .find(|(_, m)| m.cmd == IpvsCmd::SetConfig)
        .expect("config reply")
        .1;
    assert_eq!(
        config.cmd_attrs(),
        &[
            CmdAttr::TimeoutTcp(900),
            CmdAttr::TimeoutTcpFin(120),
            CmdAttr::TimeoutUdp(300)
        ]
    );

    let daemons: Vec<Daemon> = ipvs_messages(&load("list-daemons").received)
        .into_iter()
        .filter(|(_, m)| m.cmd == IpvsCmd::NewDaemon)
        .flat_map(|(_, m)| m.cmd_attrs().to_vec())
        .filter_map(|a| match a {
            CmdAttr::Daemon(d) => Some(DaemonAttr::to_daemon(&d).unwrap()),
            _ => None,
        })
        .collect();
    // The kernel reports its defaults for what ipvsadm left out.
    let backup_reported = {
        let mut d = backup();
        d.sync_maxlen = daemons.get(1).and_then(|d| d.sync_maxlen);
        d.mcast_group = Some(v4(224, 0, 0, 81));
        d.mcast_port = Some(8848);
        d.mcast_ttl = Some(1);
        d
    };
    assert_eq!(daemons, vec![master(), backup_reported]);
}

/// Every IPVS message in every capture decodes, and re-encodes to what it decoded from.
#[test]
fn every_captured_message_round_trips() {
    let dir = format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "hex") {
            continue;
        }
        let capture = load(path.file_stem().unwrap().to_str().unwrap());
        for (_, msg) in ipvs_messages(&capture.sent)
            .into_iter()
            .chain(ipvs_messages(&capture.received))
        {
            let genl = GenlMessage::from_payload(msg.clone());
            let mut out = vec![0; genl.buffer_len()];
            genl.emit(&mut out);
            let again = decode(&frame(&out));
            assert_eq!(again, msg, "{}", path.display());
            count += 1;
        }
    }
    assert!(count > 50, "only {count} messages in the fixtures");
}
