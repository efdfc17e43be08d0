//! The connection table against the real kernel: live flows through a masquerading service,
//! IPv4 and IPv6, a persistence template, and the same entries the reference ipvsadm lists.
#![cfg(feature = "kernel-tests")]

mod support;

use std::collections::BTreeSet;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;

use ipvs_rs::{connections, Connection, Destination, Error, Forwarding, Handle, Netns, Protocol};
use ipvs_rs::{Service, ServiceKey};
use support::run;

/// A masquerading service on `vip` to a loopback listener; returns the listener.
fn service(ipvs: &Handle, vip: SocketAddr, backend: SocketAddr, persistent: bool) -> TcpListener {
    let listener = TcpListener::bind(backend).unwrap();
    let mut svc = Service::new(ServiceKey::from((Protocol::Tcp, vip)));
    if persistent {
        svc = svc.with_persistence(300);
    }
    ipvs.add_service(&svc).unwrap();
    ipvs.add_destination(
        &svc.key,
        &Destination::from(backend).with_forwarding(Forwarding::Masq),
    )
    .unwrap();
    listener
}

/// (client, virtual, real server, state) as `ipvsadm -L -c -n` prints them.
fn reference_listing() -> BTreeSet<(String, String, String, String)> {
    let out = Command::new(testkit::reference_ipvsadm())
        .args(["-L", "-c", "-n"])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .skip(2)
        .map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let ip = |s: &str| s.to_string();
            (ip(f[3]), ip(f[4]), ip(f[5]), f[2].to_string())
        })
        .collect()
}

/// ipvsadm's text for an address: brackets around IPv6.
fn shown(addr: SocketAddr) -> String {
    addr.to_string()
}

#[test]
fn live_flows_and_templates_as_the_kernel_and_ipvsadm_list_them() {
    let ipvs = support::handle();
    run("ip", &["addr", "add", "10.30.0.1/32", "dev", "lo"]);
    run(
        "ip",
        &["-6", "addr", "add", "fd00:30::1/128", "dev", "lo", "nodad"],
    );
    let v4 = service(
        &ipvs,
        "10.30.0.1:80".parse().unwrap(),
        "127.0.0.1:8091".parse().unwrap(),
        false,
    );
    let v6 = service(
        &ipvs,
        "[fd00:30::1]:80".parse().unwrap(),
        "[::1]:8092".parse().unwrap(),
        false,
    );
    let persistent = service(
        &ipvs,
        "10.30.0.1:81".parse().unwrap(),
        "127.0.0.1:8093".parse().unwrap(),
        true,
    );

    let mut flows = Vec::new();
    for (vip, listener) in [
        ("10.30.0.1:80", &v4),
        ("[fd00:30::1]:80", &v6),
        ("10.30.0.1:81", &persistent),
    ] {
        let client = TcpStream::connect(vip).unwrap();
        let (served, _) = listener.accept().unwrap();
        flows.push((
            client.local_addr().unwrap(),
            vip.parse::<SocketAddr>().unwrap(),
            listener.local_addr().unwrap(),
            client,
            served,
        ));
    }

    let table = connections(&Netns::Current).unwrap();
    for (client, vip, backend, _, _) in &flows {
        let found: Vec<&Connection> = table
            .iter()
            .filter(|c| c.client == *client && c.virtual_addr == *vip)
            .collect();
        assert_eq!(found.len(), 1, "{client} -> {vip} in {table:#?}");
        assert_eq!(found[0].destination, *backend);
        assert_eq!(found[0].protocol, Protocol::Tcp);
        assert!(found[0].is_established(), "{:?}", found[0]);
        assert!(found[0].expires.as_secs() > 0);
    }
    // The persistent service's template: the client's address with port 0; a template's
    // state is NONE, or ASSURED once a connection used it (kernels since 5.x).
    let template: Vec<&Connection> = table
        .iter()
        .filter(|c| c.client.port() == 0 && c.virtual_addr == flows[2].1)
        .collect();
    assert_eq!(template.len(), 1, "{table:#?}");
    assert_eq!(template[0].client.ip(), flows[2].0.ip());
    assert!(
        ["NONE", "ASSURED"].contains(&template[0].state.as_str()),
        "{:?}",
        template[0]
    );
    assert_eq!(table.len(), 4, "{table:#?}");

    // The reference ipvsadm reads the same file: the same entries.
    let ours: BTreeSet<_> = table
        .iter()
        .map(|c| {
            (
                shown(c.client),
                shown(c.virtual_addr),
                shown(c.destination),
                c.state.clone(),
            )
        })
        .collect();
    assert_eq!(ours, reference_listing());

    // Another namespace has its own, empty table.
    let elsewhere = std::thread::spawn(|| {
        testkit::isolate_netns().unwrap();
        connections(&Netns::Current)
    })
    .join()
    .unwrap()
    .unwrap();
    assert_eq!(elsewhere, []);
    drop(flows);
}

#[test]
fn a_namespace_that_cannot_be_entered_is_an_error() {
    testkit::kernel_test();
    match connections(&Netns::Named("ipvsrs-no-such-namespace".into())) {
        Err(Error::Netns { .. }) => {}
        other => panic!("expected Error::Netns, got {other:?}"),
    }
}
