//! How ipvsadm prints an address and port: numbers with `-n`, names otherwise.

use crate::resolve::{addr_to_host, ntop, port_to_service, AF_INET};

/// ipvsadm builds these strings in a 60-byte buffer.
const MAX_LEN: usize = 59;

fn cut(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// `host:port`, `[v6]:port`, or their names (`gethostbyaddr`, `getservbyport` for the
/// protocol) when not numeric.
pub fn addr_port(af: u16, addr: &[u8; 16], port: u16, protocol: u16, numeric: bool) -> String {
    let (open, close) = if af == AF_INET { ("", "") } else { ("[", "]") };
    let text = if numeric {
        format!("{open}{}{close}:{port}", ntop(af, addr))
    } else {
        let host = addr_to_host(af, addr).unwrap_or_else(|| ntop(af, addr));
        let service = port_to_service(port, protocol).unwrap_or_else(|| port.to_string());
        format!("{open}{host}{close}:{service}")
    };
    cut(text, MAX_LEN)
}

/// Cuts a listing column the way ipvsadm does (at a byte count).
pub fn truncate(s: String, max: usize) -> String {
    cut(s, max)
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
    }
}
