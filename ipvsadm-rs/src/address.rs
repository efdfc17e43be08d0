//! ipvsadm's `host[:port]` and netmask arguments.

use crate::entry::Service;
use crate::numbers::string_to_number;
use crate::resolve::{
    host_to_addr, parse_inet_aton, parse_ipv6, service_to_port, AF_INET, AF_INET6,
};

/// The address part was parsed.
pub const PARSED_ADDR: u8 = 1;
/// A port was given and parsed.
pub const PARSED_PORT: u8 = 2;

/// Parses `host[:port]`, `ipv6`, or `[ipv6]:port` into `svc`, as ipvsadm's
/// `parse_service` does, returning which parts were set (0 on failure).
///
/// Quirks kept: an all-digit (or empty) argument is refused; `[1.2.3.4]:80` is read as
/// the bracketed text alone; a bare IPv6 address never has a port; the port may be a
/// service name for the service's protocol; on failure `svc` may be partly changed.
pub fn parse_service(text: &str, svc: &mut Service) -> u8 {
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    let (host, mut port) = match text.strip_prefix('[') {
        Some(rest) => {
            let Some((inside, after)) = rest.split_once(']') else {
                return 0;
            };
            let Some(port) = after.strip_prefix(':') else {
                return 0;
            };
            (inside, Some(port))
        }
        None => (text, None),
    };
    if let Some(a6) = parse_ipv6(host) {
        svc.addr = a6;
        svc.af = AF_INET6;
        svc.netmask = 128;
    } else {
        let (name, p) = match host.bytes().rposition(|b| b == b':') {
            Some(i) => (&host[..i], Some(&host[i + 1..])),
            None => (host, None),
        };
        port = p;
        let Some(a4) = parse_inet_aton(name).or_else(|| host_to_addr(name)) else {
            return 0;
        };
        svc.addr[..4].copy_from_slice(&a4);
        svc.af = AF_INET;
    }
    let Some(port) = port else {
        return PARSED_ADDR;
    };
    let number = string_to_number(port, 0, 65535).map(|n| n as u16);
    match number.or_else(|| service_to_port(port, svc.protocol)) {
        Some(p) => {
            svc.port = p;
            PARSED_ADDR | PARSED_PORT
        }
        None => 0,
    }
}

/// ipvsadm's `parse_netmask`: a dotted mask (or a host name!) as the in-memory value of
/// a network-order `s_addr`.
pub fn parse_netmask(text: &str) -> Option<u32> {
    parse_inet_aton(text)
        .or_else(|| host_to_addr(text))
        .map(u32::from_ne_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::IPPROTO_TCP;

    fn svc() -> Service {
        Service {
            protocol: IPPROTO_TCP,
            ..Service::default()
        }
    }

    #[test]
    fn ipv4_with_port_and_service_name() {
        let mut s = svc();
        assert_eq!(parse_service("10.0.0.1:80", &mut s), 3);
        assert_eq!(
            (&s.addr[..4], s.port, s.af),
            (&[10, 0, 0, 1][..], 80, AF_INET)
        );
        let mut s = svc();
        assert_eq!(parse_service("127.1:http", &mut s), 3);
        assert_eq!((&s.addr[..4], s.port), (&[127, 0, 0, 1][..], 80));
        let mut s = svc();
        assert_eq!(parse_service("10.0.0.1", &mut s), 1);
        assert_eq!(s.port, 0);
    }

    #[test]
    fn ipv6_forms() {
        let mut s = svc();
        assert_eq!(parse_service("[2001:db8::1]:443", &mut s), 3);
        assert_eq!((s.af, s.port, s.netmask), (AF_INET6, 443, 128));
        let mut s = svc();
        assert_eq!(parse_service("2001:db8::1:80", &mut s), 1);
        assert_eq!(s.port, 0);
        let mut s = svc();
        assert_eq!(parse_service("[1.2.3.4]:80", &mut s), 1);
        assert_eq!(s.port, 0);
        assert_eq!(parse_service("[2001:db8::1]", &mut svc()), 0);
        assert_eq!(parse_service("[2001:db8::1", &mut svc()), 0);
    }

    #[test]
    fn refusals() {
        assert_eq!(parse_service("", &mut svc()), 0);
        assert_eq!(parse_service("8080", &mut svc()), 0);
        assert_eq!(parse_service("10.0.0.1:65536", &mut svc()), 0);
        assert_eq!(parse_service("10.0.0.1:", &mut svc()), 0);
        assert_eq!(parse_service("no-such-host.invalid:80", &mut svc()), 0);
        let mut none = Service::default();
        assert_eq!(parse_service("10.0.0.1:http", &mut none), 0);
    }

    #[test]
    fn netmask_is_network_order_in_memory() {
        assert_eq!(
            parse_netmask("255.255.255.0").map(u32::to_ne_bytes),
            Some([255, 255, 255, 0])
        );
        assert_eq!(parse_netmask("garbage.invalid"), None);
    }
}
