//! Info, timeouts, zeroing counters and sync daemons against the real kernel.
#![cfg(feature = "kernel-tests")]

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use ipvs_rs::{
    Daemon, DaemonState, Destination, Error, Forwarding, Service, ServiceKey, Stats, Timeouts,
    Tunnel, Version,
};
use support::{handle, run, v4, v6};

#[test]
fn info_reports_version_and_table_size() {
    let info = handle().info().unwrap();
    assert_eq!(
        info.version,
        Version {
            major: 1,
            minor: 2,
            patch: 1
        }
    );
    assert!(info.conn_table_size.is_power_of_two(), "{info:?}");
}

#[test]
fn timeouts_set_and_zero_leaves_unchanged() {
    let ipvs = handle();
    let set = Timeouts::new(900, 120, 300);
    ipvs.set_timeouts(&set).unwrap();
    assert_eq!(ipvs.timeouts().unwrap(), set);
    ipvs.set_timeouts(&Timeouts::new(0, 60, 0)).unwrap();
    assert_eq!(ipvs.timeouts().unwrap(), Timeouts::new(900, 60, 300));
}

/// Real traffic through a service on this namespace's loopback, then zeroing its counters.
#[test]
fn stats_count_traffic_and_zero_clears_them() {
    let ipvs = handle();
    run("ip", &["addr", "add", "10.20.0.1/32", "dev", "lo"]);
    let listener = TcpListener::bind("127.0.0.1:8080").unwrap();
    let key = ServiceKey::tcp(v4(10, 20, 0, 1), 80);
    let other = ServiceKey::tcp(v4(10, 20, 0, 1), 81);
    ipvs.add_service(&Service::new(key)).unwrap();
    ipvs.add_service(&Service::new(other)).unwrap();
    let real = Destination::new(v4(127, 0, 0, 1), 8080).with_forwarding(Forwarding::Masq);
    ipvs.add_destination(&key, &real).unwrap();

    let server = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut buf = [0; 5];
        conn.read_exact(&mut buf).unwrap();
        conn.write_all(b"world").unwrap();
    });
    let mut client = TcpStream::connect("10.20.0.1:80").unwrap();
    client.write_all(b"hello").unwrap();
    let mut reply = [0; 5];
    client.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"world");
    server.join().unwrap();

    // The kernel folds its per-CPU counters into what it reports every two seconds.
    let deadline = Instant::now() + Duration::from_secs(10);
    let svc = loop {
        let svc = ipvs.service(&key).unwrap();
        if svc.stats.conns > 0 || Instant::now() > deadline {
            break svc;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(svc.stats.conns, 1, "{:?}", svc.stats);
    assert!(
        svc.stats.in_pkts >= 3 && svc.stats.in_bytes > 0,
        "{:?}",
        svc.stats
    );
    let dest = &ipvs.destinations(&key).unwrap()[0];
    assert_eq!(dest.stats.conns, 1);
    assert!(dest.active_conns + dest.inactive_conns >= 1, "{dest:?}");

    // Zeroing another service leaves this one alone; zeroing all clears it.
    ipvs.zero(Some(&other)).unwrap();
    assert_eq!(ipvs.service(&key).unwrap().stats.conns, 1);
    ipvs.zero(Some(&key)).unwrap();
    let zeroed = ipvs.service(&key).unwrap().stats;
    assert_eq!(
        (zeroed.conns, zeroed.in_pkts, zeroed.in_bytes),
        (0, 0, 0),
        "{zeroed:?}"
    );
    ipvs.zero(None).unwrap();
    assert_eq!(ipvs.destinations(&key).unwrap()[0].stats.conns, 0);
    assert_eq!(ipvs.service(&other).unwrap().stats, Stats::default());
}

#[test]
fn sync_daemons_start_list_stop() {
    let ipvs = handle();
    run(
        "ip",
        &[
            "link", "add", "sync0", "type", "veth", "peer", "name", "sync1",
        ],
    );
    run("ip", &["link", "set", "sync0", "up"]);
    let master = {
        let mut d = Daemon::new(DaemonState::MASTER, "sync0");
        d.sync_id = 200;
        d.sync_maxlen = Some(1200);
        d.mcast_group = Some(v4(239, 0, 0, 7));
        d.mcast_port = Some(9000);
        d.mcast_ttl = Some(3);
        d
    };
    let backup = {
        let mut d = Daemon::new(DaemonState::BACKUP, "sync0");
        d.sync_id = 5;
        d.sync_maxlen = Some(1400);
        d.mcast_group = Some("ff02::1:2".parse().unwrap());
        d.mcast_port = Some(9100);
        d.mcast_ttl = Some(1);
        d
    };
    ipvs.start_daemon(&master).unwrap();
    ipvs.start_daemon(&backup).unwrap();
    assert_eq!(
        ipvs.daemons().unwrap(),
        vec![master.clone(), backup.clone()]
    );
    assert!(matches!(
        ipvs.start_daemon(&master),
        Err(Error::DaemonRunning)
    ));

    // A mixed-family destination is refused while a daemon runs.
    let key = ServiceKey::tcp(v6(1), 80);
    ipvs.add_service(&Service::new(key)).unwrap();
    let tunnel =
        Destination::new(v4(10, 0, 0, 9), 80).with_forwarding(Forwarding::Tunnel(Tunnel::ipip()));
    assert!(matches!(
        ipvs.add_destination(&key, &tunnel),
        Err(Error::InvalidArgument { .. })
    ));

    ipvs.stop_daemon(DaemonState::MASTER).unwrap();
    assert!(matches!(
        ipvs.stop_daemon(DaemonState::MASTER),
        Err(Error::NoSuchDaemon)
    ));
    assert_eq!(ipvs.daemons().unwrap(), vec![backup]);
    ipvs.stop_daemon(DaemonState::BACKUP).unwrap();
    assert!(ipvs.daemons().unwrap().is_empty());

    let nowhere = Daemon::new(DaemonState::MASTER, "nosuchdev0");
    match ipvs.start_daemon(&nowhere) {
        Err(e) => assert_eq!(e.errno(), Some(libc::ENODEV), "{e}"),
        Ok(()) => panic!("daemon started on a missing interface"),
    }
}
