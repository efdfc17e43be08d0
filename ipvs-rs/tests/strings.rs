//! Property tests of the text forms: `FromStr(Display(x)) == x`, and typos are errors.

use std::net::SocketAddr;

use ipvs_rs::{
    AddressFamily, Forwarding, Netmask, Protocol, Scheduler, ServiceKey, TunnelType, Version,
};
use proptest::prelude::*;

mod model_strategies;
use model_strategies::*;

fn round_trips<T>(value: &T)
where
    T: std::fmt::Display + std::str::FromStr + PartialEq + std::fmt::Debug,
    T::Err: std::fmt::Display,
{
    let text = value.to_string();
    match text.parse::<T>() {
        Ok(back) => assert_eq!(&back, value, "{text}"),
        Err(e) => panic!("{text} does not parse back: {e}"),
    }
}

proptest! {
    #[test]
    fn service_keys(key in key()) {
        round_trips(&key);
    }

    #[test]
    fn forwarding_methods(fwd in forwarding()) {
        round_trips(&fwd);
    }

    #[test]
    fn protocols(n in any::<u16>()) {
        round_trips(&Protocol::from(n));
    }

    #[test]
    fn families(n in any::<u16>()) {
        round_trips(&AddressFamily::from(n));
    }

    #[test]
    fn tunnel_types(n in any::<u8>()) {
        round_trips(&TunnelType::from(n));
    }

    #[test]
    fn netmasks(raw in any::<u32>(), v6 in any::<bool>()) {
        let family = if v6 { AddressFamily::Inet6 } else { AddressFamily::Inet };
        let mask = match family {
            AddressFamily::Inet6 => Netmask::V6(raw),
            _ => Netmask::V4(raw.to_be_bytes().into()),
        };
        round_trips(&mask);
    }

    #[test]
    fn versions(code in 0u32..0x100_0000) {
        round_trips(&Version::from_code(code));
    }

    #[test]
    fn socket_addresses_are_keys(addr in any::<SocketAddr>(), p in any::<u16>()) {
        let addr = match addr {
            SocketAddr::V6(mut v6) => { v6.set_scope_id(0); v6.set_flowinfo(0); SocketAddr::V6(v6) }
            v4 => v4,
        };
        let key = ServiceKey::from((Protocol::from(p), addr));
        prop_assert_eq!(key.socket_addr(), Some(addr));
        prop_assert_eq!(key.protocol(), Some(Protocol::from(p)));
        round_trips(&key);
    }

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,40}") {
        let _ = s.parse::<ServiceKey>();
        let _ = s.parse::<Forwarding>();
        let _ = s.parse::<Netmask>();
        let _ = s.parse::<Scheduler>();
    }
}

#[test]
fn every_mainline_scheduler_round_trips() {
    for sched in Scheduler::known() {
        round_trips(&sched);
    }
}

#[test]
fn documented_forms() {
    let cases = [
        "tcp:192.168.0.10:80",
        "udp:[2001:db8::1]:53",
        "sctp:10.0.0.1:3868",
        "47:10.0.0.1:0",
        "fwmark:7",
        "fwmark6:7",
        "fwmark-af3:7",
    ];
    for text in cases {
        let key: ServiceKey = text.parse().unwrap();
        assert_eq!(key.to_string(), text);
    }
    assert_eq!(
        "fwmark6:7".parse::<ServiceKey>().unwrap(),
        ServiceKey::fwmark(7, AddressFamily::Inet6)
    );
    for text in [
        "route",
        "masq",
        "local",
        "bypass",
        "tunnel",
        "tunnel:gre",
        "tunnel:gue:6080+csum",
        "tunnel:gue:6080+remcsum+0x4",
    ] {
        assert_eq!(text.parse::<Forwarding>().unwrap().to_string(), text);
    }
}

#[test]
fn mistakes_are_errors_that_say_what_is_wrong() {
    fn err<T: std::str::FromStr<Err = ipvs_rs::ParseError>>(text: &str) -> String {
        match text.parse::<T>() {
            Ok(_) => panic!("{text} parsed"),
            Err(e) => e.to_string(),
        }
    }
    let messages = [
        err::<ServiceKey>("tpc:10.0.0.1:80"),
        err::<ServiceKey>("tcp:10.0.0.1"),
        err::<ServiceKey>("tcp:2001:db8::1:80"),
        err::<ServiceKey>("tcp:[fe80::1%2]:80"),
        err::<ServiceKey>("fwmark:-1"),
        err::<ServiceKey>("fwmark:4294967296"),
        err::<Scheduler>("wrrr"),
        err::<Forwarding>("dr"),
        err::<Forwarding>("tunnel:gue:6080+crc"),
        err::<Netmask>("255.255.255"),
    ];
    let inputs = [
        "tpc:10.0.0.1:80",
        "tcp:10.0.0.1",
        "tcp:2001:db8::1:80",
        "tcp:[fe80::1%2]:80",
        "fwmark:-1",
        "fwmark:4294967296",
        "wrrr",
        "dr",
        "tunnel:gue:6080+crc",
        "255.255.255",
    ];
    for (message, text) in messages.iter().zip(inputs) {
        assert!(message.contains(&format!("`{text}`")), "{message}");
    }
    assert!("wrrr"
        .parse::<Scheduler>()
        .unwrap_err()
        .to_string()
        .contains("wlc"));
    assert!("fwmark:4294967296"
        .parse::<ServiceKey>()
        .unwrap_err()
        .to_string()
        .contains("out of range"));
}
