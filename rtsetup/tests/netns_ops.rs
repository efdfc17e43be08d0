//! Every library operation against the host kernel, each test in its own namespaces.
//! Needs root (not IPVS): part of the normal host lane.

mod common;

use std::net::IpAddr;
use std::process::Command;

use common::Scratch;
use rtsetup::{sysctl, Error, IpNet, Netns, NetnsExt, Object, Rtnl};

#[test]
fn namespaces_are_created_listed_and_deleted_idempotently() {
    let (scratch, ns) = Scratch::new("ns", &["a"]);
    let name = ns[0].name().unwrap().to_string();
    assert!(Netns::exists(&name));
    assert_eq!(Netns::create(&name).unwrap(), ns[0], "creating twice is Ok");
    assert!(Netns::list().unwrap().contains(&name));
    assert!(Netns::delete(&name).unwrap());
    assert!(!Netns::delete(&name).unwrap(), "deleting twice is Ok");
    assert!(!Netns::exists(&name));
    assert!(Netns::open(&name).unwrap_err().is_not_found());
    drop(scratch);
}

#[test]
fn a_leftover_file_of_an_interrupted_create_is_reused_and_deleted() {
    testkit::require_root();
    let name = format!("rt{}-stale", std::process::id());
    std::fs::create_dir_all(rtsetup::netns::NETNS_RUN_DIR).unwrap();
    let path = std::path::Path::new(rtsetup::netns::NETNS_RUN_DIR).join(&name);
    std::fs::write(&path, b"").unwrap();
    assert!(!Netns::exists(&name), "a plain file is not a namespace");
    let created = Netns::create(&name);
    let usable = created.as_ref().map(|netns| netns.run(|| ()).is_ok());
    let deleted = Netns::delete(&name);
    assert!(
        usable.unwrap(),
        "the namespace made over the leftover cannot be entered"
    );
    assert!(deleted.unwrap());
    assert!(!path.exists());
    std::fs::write(&path, b"").unwrap();
    assert!(
        Netns::delete(&name).unwrap(),
        "a leftover file alone is deleted too"
    );
    assert!(!path.exists());
}

#[test]
fn namespaces_are_shared_with_iproute2() {
    let (_scratch, ns) = Scratch::new("ip", &["a"]);
    let ours = ns[0].name().unwrap();
    let status = Command::new("ip")
        .args(["netns", "exec", ours, "ip", "link", "show", "lo"])
        .output()
        .expect("iproute2's ip is needed (apt-get install iproute2)");
    assert!(status.status.success(), "ip netns exec cannot enter {ours}");

    let theirs = format!("rt{}-ip-theirs", std::process::id());
    let status = Command::new("ip")
        .args(["netns", "add", &theirs])
        .status()
        .unwrap();
    assert!(status.success());
    let seen = Netns::open(&theirs).map(|netns| netns.run(|| ()).is_ok());
    let listed = Netns::list().unwrap().contains(&theirs);
    let deleted = Netns::delete(&theirs);
    assert!(
        seen.unwrap(),
        "cannot enter a namespace made by ip netns add"
    );
    assert!(listed);
    assert!(deleted.unwrap());
}

#[test]
fn closures_and_processes_run_inside_the_namespace() {
    let (_scratch, ns) = Scratch::new("run", &["a"]);
    let mut inside = Rtnl::open(&ns[0]).unwrap();
    inside.add_bridge("marker0").unwrap();
    let seen_by_closure = ns[0]
        .run(|| std::fs::read_to_string("/proc/thread-self/net/dev").unwrap())
        .unwrap();
    assert!(seen_by_closure.contains("marker0"));
    let host = std::fs::read_to_string("/proc/thread-self/net/dev").unwrap();
    assert!(
        !host.contains("marker0"),
        "the caller's thread must not change namespace"
    );
    // A process reads its own namespace through /proc/net.
    let output = ns[0]
        .command("cat")
        .unwrap()
        .arg("/proc/net/dev")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stdout).contains("marker0"));
    assert!(rtsetup::in_netns(ns[0].name().unwrap(), || 7).unwrap() == 7);
}

#[test]
fn veth_pairs_bridges_ports_and_moves() {
    let (_scratch, ns) = Scratch::new("veth", &["sw", "a"]);
    let (switch, host) = (&ns[0], &ns[1]);
    let mut sw = Rtnl::open(switch).unwrap();
    let bridge = sw.add_bridge("br0").unwrap();
    assert!(bridge.is_bridge());
    assert_eq!(
        sw.add_bridge("br0").unwrap().index,
        bridge.index,
        "idempotent"
    );

    // Created in one namespace, then moved: the walkthrough's two steps.
    let port = sw.add_veth("a-br0", "a-veth0", None).unwrap();
    assert!(port.is_veth());
    assert_eq!(
        sw.add_veth("a-br0", "a-veth0", None).unwrap().index,
        port.index
    );
    sw.move_to_netns("a-veth0", host).unwrap();
    sw.move_to_netns("a-veth0", host).unwrap();
    assert!(sw.find_link("a-veth0").unwrap().is_none());
    let mut inside = Rtnl::open(host).unwrap();
    let moved = inside.link("a-veth0").unwrap();
    assert!(moved.mac.is_some());

    // Created with the peer directly in the other namespace.
    sw.add_veth("a-br1", "a-veth1", Some(host)).unwrap();
    sw.add_veth("a-br1", "a-veth1", Some(host)).unwrap();
    assert!(inside.link("a-veth1").unwrap().is_veth());

    sw.set_controller("a-br0", "br0").unwrap();
    sw.set_controller("a-br0", "br0").unwrap();
    assert_eq!(sw.link("a-br0").unwrap().controller, Some(bridge.index));
    sw.set_up("a-br0").unwrap();
    assert!(sw.link("a-br0").unwrap().up);
    sw.set_down("a-br0").unwrap();
    assert!(!sw.link("a-br0").unwrap().up);

    assert!(inside.delete_link("a-veth1").unwrap());
    assert!(!inside.delete_link("a-veth1").unwrap());
    assert!(
        sw.find_link("a-br1").unwrap().is_none(),
        "the peer goes with it"
    );
}

#[test]
fn conflicting_shapes_are_typed_errors_naming_the_object() {
    let (_scratch, ns) = Scratch::new("conf", &["a"]);
    let mut inside = Rtnl::open(&ns[0]).unwrap();
    inside.add_bridge("x0").unwrap();
    let err = inside.add_veth("x0", "x1", None).unwrap_err();
    assert!(
        matches!(&err, Error::Exists { object: Object::Veth(n), .. } if n == "x0"),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("veth x0 already exists in namespace"),
        "{message}"
    );
    inside.add_veth("v0", "v1", None).unwrap();
    assert!(matches!(
        inside.add_bridge("v0").unwrap_err(),
        Error::Exists { .. }
    ));
    let err = inside.add_veth("v0", "other", None).unwrap_err();
    assert!(err.to_string().contains("its peer is not other"), "{err}");
    let err = inside.set_up("missing0").unwrap_err();
    assert!(matches!(&err, Error::NotFound { object: Object::Link(n), .. } if n == "missing0"));
    assert!(
        err.to_string()
            .contains("link missing0 not found in namespace rt"),
        "{err}"
    );
}

#[test]
fn addresses_v4_v6_and_a_host_address_on_lo() {
    let (_scratch, ns) = Scratch::new("addr", &["a"]);
    let mut inside = Rtnl::open(&ns[0]).unwrap();
    inside.add_veth("e0", "e1", None).unwrap();
    inside.set_up("lo").unwrap();
    inside.set_up("e0").unwrap();
    let nets: Vec<IpNet> = ["192.168.0.3/24", "fd00::3/64"]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    for net in &nets {
        inside.add_address("e0", *net).unwrap();
        inside.add_address("e0", *net).unwrap();
    }
    let vip: IpNet = "192.168.0.10/32".parse().unwrap();
    inside.add_address("lo", vip).unwrap();
    let on_e0: Vec<IpNet> = inside
        .addresses(Some("e0"))
        .unwrap()
        .iter()
        .map(|a| a.net)
        .collect();
    for net in &nets {
        assert!(on_e0.contains(net), "{net} missing from {on_e0:?}");
    }
    let on_lo = inside.addresses(Some("lo")).unwrap();
    assert!(
        on_lo.iter().any(|a| a.net == vip && a.scope == "global"),
        "{on_lo:?}"
    );
    assert!(inside.delete_address("lo", vip).unwrap());
    assert!(!inside.delete_address("lo", vip).unwrap());
    assert!(!inside
        .addresses(Some("lo"))
        .unwrap()
        .iter()
        .any(|a| a.net == vip));
}

#[test]
fn routes_are_added_listed_and_deleted() {
    let (_scratch, ns) = Scratch::new("route", &["a"]);
    let mut inside = Rtnl::open(&ns[0]).unwrap();
    inside.add_veth("e0", "e1", None).unwrap();
    inside.set_up("e0").unwrap();
    inside
        .add_address("e0", "10.9.0.1/24".parse().unwrap())
        .unwrap();
    let gateway: IpAddr = "10.9.0.254".parse().unwrap();
    let default: IpNet = "0.0.0.0/0".parse().unwrap();
    let onlink: IpNet = "10.8.0.0/16".parse().unwrap();
    inside.add_route(default, Some(gateway), None).unwrap();
    inside.add_route(default, Some(gateway), None).unwrap();
    inside.add_route(onlink, None, Some("e0")).unwrap();
    let other: IpAddr = "10.9.0.253".parse().unwrap();
    assert!(matches!(
        inside.add_route(default, Some(other), None).unwrap_err(),
        Error::Exists {
            object: Object::Route(_),
            ..
        }
    ));
    let routes = inside.routes().unwrap();
    assert!(routes
        .iter()
        .any(|r| r.destination == default && r.gateway == Some(gateway)));
    let e0 = inside.link("e0").unwrap().index;
    assert!(routes
        .iter()
        .any(|r| r.destination == onlink && r.link_index == Some(e0)));
    assert!(inside.delete_route(default).unwrap());
    assert!(!inside.delete_route(default).unwrap());
}

#[test]
fn neighbours_show_resolved_macs() {
    let (_scratch, ns) = Scratch::new("neigh", &["a", "b"]);
    common::wire(&ns[0], "a0", "10.7.0.1/24", &ns[1], "b0", "10.7.0.2/24");
    let b_mac = Rtnl::open(&ns[1]).unwrap().link("b0").unwrap().mac;
    ns[0]
        .run(|| {
            let socket = std::net::UdpSocket::bind("10.7.0.1:0").unwrap();
            socket.send_to(b"x", "10.7.0.2:9").unwrap();
        })
        .unwrap();
    let target: IpAddr = "10.7.0.2".parse().unwrap();
    let mut a = Rtnl::open(&ns[0]).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    let entry = loop {
        match a.neighbour(target).unwrap() {
            Some(n) if n.mac.is_some() => break n,
            _ if std::time::Instant::now() > deadline => panic!("no neighbour entry for {target}"),
            _ => std::thread::sleep(std::time::Duration::from_millis(20)),
        }
    };
    assert_eq!(entry.mac, b_mac);
}

#[test]
fn sysctls_are_per_namespace() {
    let (_scratch, ns) = Scratch::new("sysctl", &["a", "b"]);
    let key = sysctl::Key::ipv4_conf("all", "arp_ignore");
    sysctl::write(&ns[0], &key, "1").unwrap();
    assert_eq!(sysctl::read(&ns[0], &key).unwrap(), "1");
    assert_eq!(sysctl::read(&ns[1], &key).unwrap(), "0");
    Rtnl::open(&ns[0]).unwrap().add_bridge("br7").unwrap();
    for (key, value) in [
        ("net.ipv4.conf.br7.arp_announce", "2"),
        ("net.ipv4.conf.all.rp_filter", "2"),
        ("net.ipv4.ip_forward", "1"),
    ] {
        let key: sysctl::Key = key.parse().unwrap();
        sysctl::write(&ns[0], &key, value).unwrap();
        assert_eq!(sysctl::read(&ns[0], &key).unwrap(), value, "{key}");
    }
    let missing = sysctl::Key::ipv4_conf("nosuch0", "arp_ignore");
    let err = sysctl::read(&ns[0], &missing).unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotFound {
                object: Object::Sysctl(_),
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn one_namespace_type_every_kind_reaches_the_same_namespace() {
    let (_scratch, ns) = Scratch::new("kinds", &["a"]);
    let name = ns[0].name().unwrap().to_string();
    // rtsetup hands out ipvs-rs's type itself: no conversion before opening IPVS in it.
    let shared: &ipvs_rs::Netns = &ns[0];
    assert_eq!(*shared, ipvs_rs::Netns::Named(name.clone()));
    Rtnl::open(&ns[0]).unwrap().add_bridge("kind0").unwrap();

    let mut sleeper = ns[0].command("sleep").unwrap().arg("30").spawn().unwrap();
    let file = std::fs::File::open(format!("/run/netns/{name}")).unwrap();
    let fd = std::os::fd::AsRawFd::as_raw_fd(&file);
    let kinds = [
        ns[0].clone(),
        Netns::Path(format!("/run/netns/{name}").into()),
        Netns::Pid(sleeper.id()),
        Netns::Fd(fd),
    ];
    let identity = ns[0].identity().unwrap();
    for netns in &kinds {
        assert!(
            netns.identity().unwrap().same(&identity),
            "{netns} is another namespace"
        );
        let links = Rtnl::open(netns).unwrap().links().unwrap();
        assert!(
            links.iter().any(|l| l.name == "kind0"),
            "rtnetlink in {netns} does not see the namespace's bridge"
        );
        let dev = sysctl::read(netns, &"net.ipv4.conf.kind0.forwarding".parse().unwrap());
        assert!(dev.is_ok(), "sysctl in {netns}: {dev:?}");
        let listed = netns
            .command("cat")
            .unwrap()
            .arg("/proc/net/dev")
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&listed.stdout).contains("kind0"));
    }
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();

    // Gone: the error names the namespace the way the caller gave it.
    let gone = Netns::Pid(sleeper.id());
    let Err(error) = Rtnl::open(&gone) else {
        panic!("opened rtnetlink in the namespace of a dead process");
    };
    assert!(error.is_not_found(), "{error}");
    assert!(
        error
            .to_string()
            .contains(&format!("the namespace of process {}", sleeper.id())),
        "{error}"
    );
}

#[test]
fn a_name_that_is_no_namespace_is_not_found_before_setns() {
    testkit::require_root();
    let name = format!("rt{}-plainfile", std::process::id());
    std::fs::create_dir_all(rtsetup::netns::NETNS_RUN_DIR).unwrap();
    let path = std::path::Path::new(rtsetup::netns::NETNS_RUN_DIR).join(&name);
    std::fs::write(&path, b"").unwrap();
    let result = Rtnl::open(&Netns::Named(name.clone()));
    std::fs::remove_file(&path).unwrap();
    match result {
        Err(Error::NotFound {
            object: Object::Netns(n),
            ..
        }) => assert_eq!(n, name),
        Err(other) => panic!("expected NotFound, got {other}"),
        Ok(_) => panic!("a plain file was used as a namespace"),
    }
}

#[test]
fn a_symbolic_link_in_the_registry_is_used_but_never_created_over_or_unmounted() {
    use rtsetup::netns::NETNS_RUN_DIR;
    use rtsetup::Removal;
    let (_scratch, ns) = Scratch::new("link", &["real"]);
    let real = ns[0].name().unwrap().to_string();
    let identity = ns[0].identity().unwrap();
    let pid = std::process::id();
    let name = format!("rt{pid}-link");
    let link = std::path::Path::new(NETNS_RUN_DIR).join(&name);
    // How people give a container's namespace a name for `ip netns exec`.
    std::os::unix::fs::symlink(std::path::Path::new(NETNS_RUN_DIR).join(&real), &link).unwrap();
    let planted = |link: &std::path::Path| link.symlink_metadata().is_ok();

    // Used like iproute2 uses it: the namespace it points to.
    assert!(Netns::exists(&name));
    let linked = Netns::open(&name).unwrap();
    assert!(linked.identity().unwrap().same(&identity));
    // Never deleted by identity (it is not the mount that was created), and `delete`
    // removes the link only, not the namespace it points to.
    assert!(matches!(
        Netns::delete_if(&name, &identity).unwrap(),
        Removal::Different(_)
    ));
    assert!(planted(&link), "delete_if removed a link it did not make");
    assert!(Netns::delete(&name).unwrap());
    assert!(!planted(&link));
    assert!(
        Netns::exists(&real),
        "deleting the link unmounted its target"
    );
    assert!(ns[0].identity().unwrap().same(&identity));

    // A link to something else is no namespace, and nothing is mounted over it.
    let elsewhere = std::env::temp_dir().join(format!("rt{pid}-elsewhere"));
    std::fs::write(&elsewhere, b"someone's file").unwrap();
    let odd = format!("rt{pid}-odd");
    let odd_link = std::path::Path::new(NETNS_RUN_DIR).join(&odd);
    std::os::unix::fs::symlink(&elsewhere, &odd_link).unwrap();
    assert!(!Netns::exists(&odd));
    match Rtnl::open(&Netns::Named(odd.clone())) {
        Err(e) => assert!(e.is_not_found(), "{e}"),
        Ok(_) => panic!("rtnetlink opened through a link to a plain file"),
    }
    let refused = Netns::create(&odd);
    let deleted = Netns::delete(&odd);
    let contents = std::fs::read(&elsewhere).unwrap();
    std::fs::remove_file(&elsewhere).unwrap();
    assert!(matches!(refused, Err(Error::Exists { .. })), "{refused:?}");
    assert_eq!(contents, b"someone's file");
    assert!(deleted.unwrap());
    assert!(!planted(&odd_link));
}
