//! The ARP behaviour the DSR walkthrough depends on, observed in captured frames.
//! A "client" namespace and a "real server" namespace share a veth link; the real server
//! holds the VIP on lo. Needs root (not IPVS): part of the normal host lane.

mod common;

use std::net::Ipv4Addr;
use std::time::Duration;

use common::Scratch;
use rtsetup::capture::{Capture, Direction};
use rtsetup::frame::{arp_request, Arp};
use rtsetup::{sysctl, MacAddr, Netns, Rtnl};

const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 168, 0, 1);
const REAL_SERVER: Ipv4Addr = Ipv4Addr::new(192, 168, 0, 3);
const VIP: Ipv4Addr = Ipv4Addr::new(192, 168, 0, 10);

struct Pair {
    _scratch: Scratch,
    client: Netns,
    real_server: Netns,
    real_server_mac: MacAddr,
}

fn pair(test: &str, arp_ignore: &str, arp_announce: &str) -> Pair {
    let (scratch, ns) = Scratch::new(test, &["c", "r"]);
    let (client, real_server) = (ns[0].clone(), ns[1].clone());
    common::wire(
        &client,
        "c0",
        "192.168.0.1/24",
        &real_server,
        "r0",
        "192.168.0.3/24",
    );
    let mut rs = Rtnl::open(&real_server).unwrap();
    rs.add_address("lo", "192.168.0.10/32".parse().unwrap())
        .unwrap();
    for iface in ["all", "r0"] {
        let set =
            |key, value| sysctl::write(&real_server, &sysctl::Key::ipv4_conf(iface, key), value);
        set("arp_ignore", arp_ignore).unwrap();
        set("arp_announce", arp_announce).unwrap();
    }
    let real_server_mac = rs.link("r0").unwrap().mac.unwrap();
    Pair {
        _scratch: scratch,
        client,
        real_server,
        real_server_mac,
    }
}

/// The client asks who has `target` with a raw ARP request; returns the MACs that answered.
fn who_has(pair: &Pair, target: Ipv4Addr) -> Vec<MacAddr> {
    let capture = Capture::open(&pair.client, "c0").unwrap();
    let mac = Rtnl::open(&pair.client)
        .unwrap()
        .link("c0")
        .unwrap()
        .mac
        .unwrap();
    capture.send(&arp_request(mac, CLIENT, target)).unwrap();
    capture
        .drain(Duration::from_millis(300))
        .unwrap()
        .into_iter()
        .filter(|c| c.direction == Direction::In)
        .filter_map(|c| c.frame.arp().cloned())
        .filter(|arp| arp.operation == Arp::REPLY && arp.sender_ip == target)
        .map(|arp| arp.sender_mac)
        .collect()
}

/// The real server sends a datagram from the VIP to the client; returns the sender IP of
/// the ARP request it broadcasts to resolve the client.
fn announced_sender(pair: &Pair) -> Ipv4Addr {
    let capture = Capture::open(&pair.client, "c0").unwrap();
    pair.real_server
        .run(|| {
            let socket = std::net::UdpSocket::bind((VIP, 0)).unwrap();
            socket.send_to(b"ping", (CLIENT, 9)).unwrap();
        })
        .unwrap();
    let requests: Vec<Arp> = capture
        .drain(Duration::from_millis(300))
        .unwrap()
        .into_iter()
        .filter_map(|c| c.frame.arp().cloned())
        .filter(|arp| arp.operation == Arp::REQUEST && arp.target_ip == CLIENT)
        .collect();
    assert!(
        !requests.is_empty(),
        "the real server sent no ARP request for the client"
    );
    assert!(requests
        .iter()
        .all(|arp| arp.sender_mac == pair.real_server_mac));
    requests[0].sender_ip
}

#[test]
fn with_arp_ignore_0_the_real_server_answers_for_the_vip_on_lo() {
    let pair = pair("ign0", "0", "0");
    assert_eq!(who_has(&pair, VIP), vec![pair.real_server_mac]);
}

#[test]
fn with_arp_ignore_1_the_real_server_stays_silent_for_the_vip() {
    let pair = pair("ign1", "1", "0");
    assert_eq!(who_has(&pair, VIP), Vec::<MacAddr>::new());
    // Not a deaf host: it still answers for the address on the asking interface.
    assert_eq!(who_has(&pair, REAL_SERVER), vec![pair.real_server_mac]);
}

#[test]
fn with_arp_announce_0_arp_requests_leak_the_vip() {
    let pair = pair("ann0", "1", "0");
    assert_eq!(announced_sender(&pair), VIP);
}

#[test]
fn with_arp_announce_2_arp_requests_carry_the_interface_address() {
    let pair = pair("ann2", "1", "2");
    assert_eq!(announced_sender(&pair), REAL_SERVER);
}
