//! How ipvsadm prints an address and port: numbers with `-n`, names otherwise.

use crate::columns;
use crate::resolve::{addr_to_host, port_to_service, write_ntop, AF_INET};

/// ipvsadm builds these strings in a 60-byte buffer.
const MAX_LEN: usize = 59;

/// Cuts what `s` holds after byte `from` to at most `max` bytes, on a character boundary.
pub fn cut_after(s: &mut String, from: usize, max: usize) {
    let mut end = from + max;
    if s.len() > end {
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
}

/// `host:port`, `[v6]:port`, or their names (`gethostbyaddr`, `getservbyport` for the
/// protocol) when not numeric.
pub fn addr_port(af: u16, addr: &[u8; 16], port: u16, protocol: u16, numeric: bool) -> String {
    let mut text = String::new();
    write_addr_port(&mut text, af, addr, port, protocol, numeric);
    text
}

/// [`addr_port`], appended to `out`.
pub fn write_addr_port(
    out: &mut String,
    af: u16,
    addr: &[u8; 16],
    port: u16,
    protocol: u16,
    numeric: bool,
) {
    let start = out.len();
    let v6 = af != AF_INET;
    if v6 {
        out.push('[');
    }
    let host = if numeric {
        None
    } else {
        addr_to_host(af, addr)
    };
    match host {
        Some(name) => out.push_str(&name),
        None => write_ntop(out, af, addr),
    }
    if v6 {
        out.push(']');
    }
    out.push(':');
    let service = if numeric {
        None
    } else {
        port_to_service(port, protocol)
    };
    match service {
        Some(name) => out.push_str(&name),
        None => columns::number(out, u64::from(port)),
    }
    cut_after(out, start, MAX_LEN);
}

/// Cuts a listing column the way ipvsadm does (at a byte count).
pub fn truncate(mut s: String, max: usize) -> String {
    cut_after(&mut s, 0, max);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::{AF_INET6, IPPROTO_TCP, IPPROTO_UDP};

    fn v4(a: [u8; 4]) -> [u8; 16] {
        let mut addr = [0; 16];
        addr[..4].copy_from_slice(&a);
        addr
    }

    #[test]
    fn numeric_forms() {
        assert_eq!(
            addr_port(AF_INET, &v4([10, 0, 0, 1]), 80, IPPROTO_TCP, true),
            "10.0.0.1:80"
        );
        let mut a6 = [0; 16];
        a6[0] = 0x20;
        a6[1] = 0x01;
        a6[15] = 1;
        assert_eq!(
            addr_port(AF_INET6, &a6, 443, IPPROTO_TCP, true),
            "[2001::1]:443"
        );
    }

    #[test]
    fn names_from_the_c_library() {
        assert_eq!(
            addr_port(AF_INET, &v4([127, 0, 0, 1]), 53, IPPROTO_UDP, false),
            "localhost:domain"
        );
        assert_eq!(
            addr_port(AF_INET, &v4([127, 0, 0, 1]), 65000, 0, false),
            "localhost:65000"
        );
    }

    #[test]
    fn cuts_on_bytes() {
        assert_eq!(truncate("abcdef".into(), 3), "abc");
        assert_eq!(truncate("ab".into(), 3), "ab");
        assert_eq!(truncate("aé".into(), 2), "a");
        let mut s = String::from("keep:abcdef");
        cut_after(&mut s, 5, 2);
        assert_eq!(s, "keep:ab");
    }

    #[test]
    fn appends_after_what_is_there() {
        let mut s = String::from("-r ");
        write_addr_port(&mut s, AF_INET, &v4([10, 0, 0, 1]), 80, IPPROTO_TCP, true);
        assert_eq!(s, "-r 10.0.0.1:80");
    }
}
