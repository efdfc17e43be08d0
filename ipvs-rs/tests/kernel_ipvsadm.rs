//! Cross-checks with the reference ipvsadm 1.31 in the same namespace.
#![cfg(feature = "kernel-tests")]

mod support;

use std::net::Ipv4Addr;
use std::sync::Mutex;

use ipvs_rs::{
    AddressFamily, Destination, Forwarding, Netmask, Scheduler, Service, ServiceFlags, ServiceKey,
    Timeouts, Tunnel, TunnelFlags,
};
use support::{handle, ipvsadm, v4, v6};

/// The reference ipvsadm prints what the kernel's dump gives, and a service dump repeats or
/// skips entries while another namespace writes (see kernel_dump_races.rs): these tests take
/// turns, and each empties its table before its namespace goes away.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Flushes the test's table when it ends, also when an assertion fails.
struct FlushOnDrop<'a>(&'a ipvs_rs::Handle);

impl Drop for FlushOnDrop<'_> {
    fn drop(&mut self) {
        let _ = self.0.flush();
    }
}

fn lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

#[test]
fn what_the_library_writes_ipvsadm_saves() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let ipvs = handle();
    let _flush = FlushOnDrop(&ipvs);
    let tcp = ServiceKey::tcp(v4(192, 168, 0, 10), 80);
    let udp6 = ServiceKey::udp(v6(1), 53);
    let fwm = ServiceKey::fwmark(5, AddressFamily::Inet6);
    let sctp = ServiceKey::sctp(v4(10, 1, 1, 1), 3868);
    ipvs.add_service(&Service::new(tcp)).unwrap();
    ipvs.add_destination(&tcp, &Destination::new(v4(192, 168, 0, 3), 80))
        .unwrap();
    ipvs.add_destination(
        &tcp,
        &Destination::new(v4(192, 168, 0, 4), 8080)
            .with_forwarding(Forwarding::Masq)
            .with_weight(2),
    )
    .unwrap();
    ipvs.add_service(
        &Service::new(udp6)
            .with_scheduler(Scheduler::MaglevHashing)
            .with_flags(ServiceFlags::MH_PORT)
            .with_persistence(360)
            .with_pe("sip"),
    )
    .unwrap();
    let gue = Tunnel::gue(6080).with_flags(TunnelFlags::CSUM);
    ipvs.add_destination(
        &udp6,
        &Destination::new(v4(10, 0, 0, 5), 53)
            .with_forwarding(Forwarding::Tunnel(gue))
            .with_weight(7),
    )
    .unwrap();
    ipvs.add_service(
        &Service::new(fwm)
            .with_scheduler(Scheduler::SourceHashing)
            .with_flags(ServiceFlags::SH_PORT)
            .with_persistence(100)
            .with_netmask(Netmask::V6(64)),
    )
    .unwrap();
    ipvs.add_service(
        &Service::new(sctp)
            .with_scheduler(Scheduler::RoundRobin)
            .with_persistence(30)
            .with_netmask(Netmask::V4(Ipv4Addr::new(255, 255, 255, 0))),
    )
    .unwrap();
    ipvs.add_destination(
        &sctp,
        &Destination::new(v4(10, 1, 1, 2), 3868).with_forwarding(Forwarding::Tunnel(Tunnel::gre())),
    )
    .unwrap();
    ipvs.set_timeouts(&Timeouts::new(900, 120, 300)).unwrap();

    let expected = "\
-A -t 192.168.0.10:80 -s wlc
-a -t 192.168.0.10:80 -r 192.168.0.3:80 -g -w 1
-a -t 192.168.0.10:80 -r 192.168.0.4:8080 -m -w 2
-A -u [2001:db8::1]:53 -s mh -p 360 --pe sip -b mh-port
-a -u [2001:db8::1]:53 -r 10.0.0.5:53 -i -w 7 --tun-type gue --tun-port 6080 --tun-csum
-A -f 5 -6 -s sh -p 100 -M 64 -b sh-port
-A --sctp-service 10.1.1.1:3868 -s rr -p 30 -M 255.255.255.0
-a --sctp-service 10.1.1.1:3868 -r 10.1.1.2:3868 -i -w 1 --tun-type gre --tun-nocsum
";
    assert_eq!(lines(&ipvsadm(&["-Sn"])), lines(expected));
    let timeouts = ipvsadm(&["-L", "--timeout"]);
    assert_eq!(timeouts.trim(), "Timeout (tcp tcpfin udp): 900 120 300");
}

#[test]
fn what_ipvsadm_writes_the_library_reads() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let ipvs = handle();
    let _flush = FlushOnDrop(&ipvs);
    for args in [
        "-A -t 192.168.0.10:80 -s wrr -p 600 -M 255.255.0.0",
        "-a -t 192.168.0.10:80 -r 192.168.0.3 -g -w 5 -x 100 -y 10",
        "-a -t 192.168.0.10:80 -r 192.168.0.4:8080 -m -w 0",
        "-A -u [2001:db8::1]:53 -s sh -b sh-fallback,sh-port -o",
        "-a -u [2001:db8::1]:53 -r [2001:db8::2]:53 -i --tun-type gue --tun-port 6081 --tun-remcsum",
        "-A -f 77 -s lblcr --pe sip -p",
        "-a -f 77 -r 10.9.9.9:0 -i --tun-type gre --tun-csum -w 65535",
        "--set 100 20 30",
    ] {
        ipvsadm(&args.split(' ').collect::<Vec<_>>());
    }
    let tcp = ServiceKey::tcp(v4(192, 168, 0, 10), 80);
    let udp6 = ServiceKey::udp(v6(1), 53);
    let fwm = ServiceKey::fwmark(77, AddressFamily::Inet);
    let hashed = ServiceFlags::HASHED;
    assert_eq!(
        ipvs.service(&tcp).unwrap(),
        Service::new(tcp)
            .with_scheduler(Scheduler::WeightedRoundRobin)
            .with_persistence(600)
            .with_flags(hashed)
            .with_netmask(Netmask::V4(Ipv4Addr::new(255, 255, 0, 0)))
    );
    assert_eq!(
        ipvs.service(&udp6).unwrap(),
        Service::new(udp6)
            .with_scheduler(Scheduler::SourceHashing)
            .with_flags(
                ServiceFlags::SH_FALLBACK
                    | ServiceFlags::SH_PORT
                    | ServiceFlags::ONE_PACKET
                    | hashed
            )
    );
    assert_eq!(
        ipvs.service(&fwm).unwrap(),
        Service::new(fwm)
            .with_scheduler(Scheduler::LocalityBasedLeastConnectionReplication)
            .with_persistence(360)
            .with_flags(hashed)
            .with_pe("sip")
    );
    let mut tcp_dests = ipvs.destinations(&tcp).unwrap();
    tcp_dests.sort_by_key(|d| d.addr);
    assert_eq!(
        tcp_dests,
        vec![
            Destination::new(v4(192, 168, 0, 3), 80)
                .with_weight(5)
                .with_thresholds(100, 10),
            Destination::new(v4(192, 168, 0, 4), 8080)
                .with_forwarding(Forwarding::Masq)
                .with_weight(0),
        ]
    );
    let remcsum = Tunnel::gue(6081).with_flags(TunnelFlags::REMCSUM);
    assert_eq!(
        ipvs.destinations(&udp6).unwrap(),
        vec![Destination::new(v6(2), 53).with_forwarding(Forwarding::Tunnel(remcsum))]
    );
    let gre = Tunnel::gre().with_flags(TunnelFlags::CSUM);
    assert_eq!(
        ipvs.destinations(&fwm).unwrap(),
        vec![Destination::new(v4(10, 9, 9, 9), 0)
            .with_forwarding(Forwarding::Tunnel(gre))
            .with_weight(65535)]
    );
    assert_eq!(ipvs.timeouts().unwrap(), Timeouts::new(100, 20, 30));
}
