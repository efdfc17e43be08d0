//! The `serde` feature: JSON round trips of the whole model, and the documented shape.
#![cfg(feature = "serde")]

use std::net::Ipv4Addr;

use ipvs_rs::reconcile::Table;
use ipvs_rs::{
    AddressFamily, Daemon, DaemonState, Destination, Forwarding, Info, Netmask, Scheduler, Service,
    ServiceFlags, ServiceKey, Timeouts, Tunnel, TunnelFlags, Version,
};
use proptest::prelude::*;
use serde_json::json;

mod model_strategies;
use model_strategies::*;

fn json_round_trip<T>(value: &T) -> T
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    let text = serde_json::to_string(value).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

proptest! {
    #[test]
    fn services(svc in read_service()) {
        prop_assert_eq!(json_round_trip(&svc), svc);
    }

    #[test]
    fn destinations(d in read_destination()) {
        prop_assert_eq!(json_round_trip(&d), d);
    }

    #[test]
    fn daemons(d in daemon()) {
        prop_assert_eq!(json_round_trip(&d), d);
    }

    #[test]
    fn stats_timeouts_info(s in stats(), t in any::<[u32; 3]>(), code in 0u32..0x100_0000, size in any::<u32>()) {
        prop_assert_eq!(json_round_trip(&s), s);
        let t = Timeouts::new(t[0], t[1], t[2]);
        prop_assert_eq!(json_round_trip(&t), t);
        let info = Info::new(Version::from_code(code), size);
        prop_assert_eq!(json_round_trip(&info), info);
    }

    #[test]
    fn tables(entries in proptest::collection::vec((read_service(), proptest::collection::vec(read_destination(), 0..4)), 0..4)) {
        let mut table = Table::new();
        for (svc, dests) in entries {
            table.insert(svc, dests);
        }
        prop_assert_eq!(json_round_trip(&table), table);
    }
}

#[test]
fn the_documented_shape() {
    let key = ServiceKey::tcp(Ipv4Addr::new(192, 168, 0, 10), 80);
    let svc = Service::new(key)
        .with_scheduler(Scheduler::SourceHashing)
        .with_persistence(60)
        .with_flags(ServiceFlags::SH_PORT | ServiceFlags::HASHED);
    let gue = Tunnel::gue(6080).with_flags(TunnelFlags::CSUM);
    let dest = Destination::new(Ipv4Addr::new(10, 0, 1, 2), 80)
        .with_forwarding(Forwarding::Tunnel(gue))
        .with_weight(5);
    let zero = json!({"conns": 0, "in_pkts": 0, "out_pkts": 0, "in_bytes": 0, "out_bytes": 0,
        "cps": 0, "in_pps": 0, "out_pps": 0, "in_bps": 0, "out_bps": 0});
    assert_eq!(
        serde_json::to_value(&svc).unwrap(),
        json!({
            "key": "tcp:192.168.0.10:80",
            "scheduler": "sh",
            "flags": ["persistent", "hashed", "sh-port"],
            "timeout": 60,
            "netmask": "255.255.255.255",
            "pe_name": null,
            "stats": zero,
        })
    );
    assert_eq!(
        serde_json::to_value(&dest).unwrap(),
        json!({
            "address": "10.0.1.2",
            "port": 80,
            "family": "inet",
            "forwarding": "tunnel:gue:6080+csum",
            "weight": 5,
            "upper_threshold": 0,
            "lower_threshold": 0,
            "active_conns": 0,
            "inactive_conns": 0,
            "persist_conns": 0,
            "stats": zero,
        })
    );
    let mut daemon = Daemon::new(DaemonState::BACKUP, "eth0");
    daemon.mcast_port = Some(8848);
    assert_eq!(
        serde_json::to_value(&daemon).unwrap(),
        json!({"state": ["backup"], "interface": "eth0", "sync_id": 0, "sync_maxlen": null,
            "mcast_group": null, "mcast_port": 8848, "mcast_ttl": null})
    );
    assert_eq!(
        serde_json::to_value(Scheduler::from_name("myhash")).unwrap(),
        json!({"other": "myhash"})
    );
}

#[test]
fn a_configuration_leaves_out_what_it_does_not_set() {
    let table: Table = serde_json::from_value(json!([
        {"key": "tcp:[2001:db8::10]:443", "scheduler": "rr",
         "destinations": [{"address": "2001:db8::3", "port": 443}]},
        {"key": "fwmark:7", "flags": ["persistent"], "timeout": 300, "netmask": "255.255.255.0"},
    ]))
    .unwrap();
    let web = table
        .get(&"tcp:[2001:db8::10]:443".parse().unwrap())
        .unwrap();
    assert_eq!(web.service.netmask, Netmask::V6(128));
    assert_eq!(web.service.flags, ServiceFlags::empty());
    let real = &web.destinations()[0];
    assert_eq!(
        (real.family, real.forwarding, real.weight),
        (AddressFamily::Inet6, Forwarding::Route, 1)
    );
    let marked = table
        .get(&ServiceKey::fwmark(7, AddressFamily::Inet))
        .unwrap();
    assert_eq!(
        marked.service,
        Service::new(ServiceKey::fwmark(7, AddressFamily::Inet))
            .with_persistence(300)
            .with_netmask(Netmask::V4(Ipv4Addr::new(255, 255, 255, 0)))
    );
}

#[test]
fn configuration_mistakes_fail_when_read() {
    let error = |value: serde_json::Value| {
        serde_json::from_value::<Table>(value)
            .unwrap_err()
            .to_string()
    };
    let cases = [
        (
            json!([{"key": "tcp:10.0.0.1:80", "scheduler": "wrrr"}]),
            "wrrr",
        ),
        (json!([{"key": "tpc:10.0.0.1:80"}]), "tpc"),
        (
            json!([{"key": "tcp:10.0.0.1:80", "schedular": "rr"}]),
            "schedular",
        ),
        (
            json!([{"key": "tcp:10.0.0.1:80", "flags": ["persistant"]}]),
            "persistant",
        ),
        (
            json!([{"key": "tcp:10.0.0.1:80", "destinations": [{"address": "10.0.0.2", "port": 80, "forwarding": "dr"}]}]),
            "dr",
        ),
        (
            json!([{"key": "tcp:10.0.0.1:80", "destinations": [{"address": "10.0.0.2"}]}]),
            "port",
        ),
        (
            json!([{"key": "tcp:10.0.0.1:80"}, {"key": "tcp:10.0.0.1:80"}]),
            "listed twice",
        ),
        (json!({"servics": []}), "servics"),
        (json!({}), "services"),
        (
            json!({"services": [{"key": "tcp:10.0.0.1:80"}], "scope": "all"}),
            "scope",
        ),
        (json!({"services": {"key": "tcp:10.0.0.1:80"}}), "list"),
        (
            json!({"services": [{"key": "tcp:10.0.0.1:80"}, {"key": "tcp:10.0.0.1:80"}]}),
            "listed twice",
        ),
        (
            json!([{"key": "tcp:10.0.0.1:80", "destinations": [{"address": "10.0.0.2", "port": 80}, {"address": "10.0.0.2", "port": 80, "weight": 3}]}]),
            "10.0.0.2:80 twice",
        ),
    ];
    for (value, needle) in cases {
        let message = error(value);
        assert!(message.contains(needle), "{needle}: {message}");
    }
    let svc =
        serde_json::from_value::<Service>(json!({"key": "tcp:10.0.0.1:80", "destinations": []}));
    assert!(svc.is_err());
}

/// A configuration file's root may name the list: `{"services": [...]}`, which TOML needs (its
/// root is a table), reads as the bare list does.
#[test]
fn a_table_reads_from_a_named_list_in_json_and_toml() {
    let list = json!([
        {"key": "tcp:10.0.0.1:80", "scheduler": "rr",
         "destinations": [{"address": "10.0.1.2", "port": 80, "weight": 5}]},
        {"key": "udp:[2001:db8::1]:53"},
    ]);
    let bare: Table = serde_json::from_value(list.clone()).unwrap();
    let named: Table = serde_json::from_value(json!({ "services": list })).unwrap();
    assert_eq!(named, bare);
    assert_eq!(bare.len(), 2);
    let toml_text = r#"
        [[services]]
        key = "tcp:10.0.0.1:80"
        scheduler = "rr"
        destinations = [{ address = "10.0.1.2", port = 80, weight = 5 }]

        [[services]]
        key = "udp:[2001:db8::1]:53"
    "#;
    let from_toml: Table = toml::from_str(toml_text).unwrap();
    assert_eq!(from_toml, bare);
    // Written back under the same name, TOML reads it again.
    let written =
        toml::to_string(&std::collections::BTreeMap::from([("services", &bare)])).unwrap();
    assert_eq!(toml::from_str::<Table>(&written).unwrap(), bare);
}

/// A connection entry: addresses as text, the expiry in seconds, the persistence engine's
/// name and data as a pair.
#[test]
fn connections() {
    let text = "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n\
                TCP C0A80001 9C40 C0A8000A 0050 C0A8000B 0050 ESTABLISHED     899\n\
                UDP C0A80001 13C4 C0A8000A 13C4 2001:0db8:0000:0000:0000:0000:0000:0003 13C4 UDP             179 sip call-1\n";
    let table = ipvs_rs::parse_connections(text).unwrap();
    assert_eq!(
        serde_json::to_value(&table[0]).unwrap(),
        json!({"protocol": "tcp", "client": "192.168.0.1:40000",
            "virtual_addr": "192.168.0.10:80", "destination": "192.168.0.11:80",
            "state": "ESTABLISHED", "expires": 899, "persistence_engine": null})
    );
    assert_eq!(
        serde_json::to_value(&table[1]).unwrap()["persistence_engine"],
        json!(["sip", "call-1"])
    );
    for c in &table {
        assert_eq!(&json_round_trip(c), c);
    }
}
