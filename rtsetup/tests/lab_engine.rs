//! The lab engine's network part on the host kernel (root, no IPVS needed): everything `up`
//! does before IPVS, `up` refusing a different topology under the same name, and `down`
//! after an `up` that stopped at IPVS. Names are unique to this process, and the bridges live
//! in the test thread's own namespace.

use std::net::IpAddr;
use std::path::Path;

use rtsetup::lab::{Lab, Topology, STATE_ROOT};
use rtsetup::sysctl::{self, Key};
use rtsetup::{Error, Netns, NetnsExt, Rtnl};

fn topology(pid: u32) -> Topology {
    let id = pid % 100_000;
    Topology::from_toml(&format!(
        r#"
        name = "rt{id}"
        mode = "route"
        scheduler = "rr"
        vip = "192.168.0.10"
        port = 80
        bridges = ["rtbr{id}"]

        [[hosts]]
        name = "c{id}"
        role = "client"
        links = [{{ bridge = "rtbr{id}", address = "192.168.0.1/24" }}]

        [[hosts]]
        name = "l{id}"
        role = "director"
        links = [{{ bridge = "rtbr{id}", address = "192.168.0.2/24" }}]

        [[hosts]]
        name = "a{id}"
        role = "real-server"
        links = [{{ bridge = "rtbr{id}", address = "192.168.0.3/24" }}]
        "#
    ))
    .unwrap()
}

#[test]
fn up_wires_the_hosts_and_down_removes_them_even_after_a_failed_up() {
    testkit::require_root();
    testkit::isolate_netns().unwrap();
    let topology = topology(std::process::id());
    let lab = Lab::new(topology.clone()).unwrap();
    struct Down<'a>(&'a Lab);
    impl Drop for Down<'_> {
        fn drop(&mut self) {
            let _ = self.0.down();
        }
    }
    let _guard = Down(&lab);

    // Without IPVS (this host) up stops at the IPVS step; with it, it finishes.
    match lab.up(Path::new(env!("CARGO_BIN_EXE_rtsetup"))) {
        Ok(()) | Err(Error::Ipvs { .. }) => {}
        Err(e) => panic!("up failed before IPVS: {e}"),
    }
    let [client, director, real_server] = [0, 1, 2].map(|i| topology.hosts[i].clone());
    let rs_ns = Netns::open(&real_server.name).unwrap();
    let mut rs = Rtnl::open(&rs_ns).unwrap();
    let vip = IpAddr::from([192, 168, 0, 10]);
    let on_lo = rs.addresses(Some("lo")).unwrap();
    assert!(
        on_lo
            .iter()
            .any(|a| a.net.addr() == vip && a.net.prefix_len() == 32),
        "{on_lo:?}"
    );
    for iface in ["all".to_string(), real_server.inner_link(0)] {
        assert_eq!(
            sysctl::read(&rs_ns, &Key::ipv4_conf(&iface, "arp_ignore")).unwrap(),
            "1"
        );
        assert_eq!(
            sysctl::read(&rs_ns, &Key::ipv4_conf(&iface, "arp_announce")).unwrap(),
            "2"
        );
    }
    let mut lb = Rtnl::open(&Netns::open(&director.name).unwrap()).unwrap();
    assert!(lb
        .addresses(Some(&director.inner_link(0)))
        .unwrap()
        .iter()
        .any(|a| a.net.addr() == vip));
    let mut here = Rtnl::open(&Netns::Current).unwrap();
    let bridge = here.link(&topology.bridges[0]).unwrap();
    assert_eq!(
        here.link(&client.bridge_link(0)).unwrap().controller,
        Some(bridge.index)
    );
    // The client reaches the real server's own address across the bridge.
    let reached = Netns::open(&client.name)
        .unwrap()
        .run(|| {
            std::net::UdpSocket::bind("192.168.0.1:0")
                .and_then(|s| s.send_to(b"x", "192.168.0.3:9"))
        })
        .unwrap();
    assert!(reached.is_ok(), "{reached:?}");

    let mut other = topology.clone();
    other.scheduler = "wlc".into();
    let err = Lab::new(other)
        .unwrap()
        .up(Path::new("/nonexistent"))
        .unwrap_err();
    assert!(
        err.to_string().contains("already up with another topology"),
        "{err}"
    );

    lab.down().unwrap();
    lab.down().unwrap();
    for host in &topology.hosts {
        assert!(
            !Netns::exists(&host.name),
            "namespace {} is left",
            host.name
        );
        assert!(here.find_link(&host.bridge_link(0)).unwrap().is_none());
    }
    assert!(here.find_link(&topology.bridges[0]).unwrap().is_none());
    assert!(!Path::new(STATE_ROOT).join(&topology.name).exists());
}
