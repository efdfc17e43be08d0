//! Addresses, host names and service names through the C library, as ipvsadm does.
//!
//! ipvsadm resolves with `gethostbyname`, `gethostbyaddr`, `getservbyname` and
//! `getservbyport` and parses with `inet_aton` and `inet_pton`; calling the same functions
//! makes /etc/hosts, /etc/services, nsswitch and the odd address spellings (`127.1`,
//! `0x7f000001`, `::ffff:1.2.3.4`) behave exactly alike.

use std::ffi::{c_char, c_int, c_void, CStr, CString};

use crate::columns;

/// IPv4's address family number.
pub const AF_INET: u16 = libc::AF_INET as u16;
/// IPv6's address family number.
pub const AF_INET6: u16 = libc::AF_INET6 as u16;
/// TCP's protocol number.
pub const IPPROTO_TCP: u16 = libc::IPPROTO_TCP as u16;
/// UDP's protocol number.
pub const IPPROTO_UDP: u16 = libc::IPPROTO_UDP as u16;
/// SCTP's protocol number.
pub const IPPROTO_SCTP: u16 = libc::IPPROTO_SCTP as u16;

extern "C" {
    fn inet_aton(cp: *const c_char, inp: *mut libc::in_addr) -> c_int;
    fn inet_pton(af: c_int, src: *const c_char, dst: *mut c_void) -> c_int;
    fn inet_ntop(
        af: c_int,
        src: *const c_void,
        dst: *mut c_char,
        size: libc::socklen_t,
    ) -> *const c_char;
    fn gethostbyname(name: *const c_char) -> *mut libc::hostent;
    fn gethostbyaddr(addr: *const c_void, len: libc::socklen_t, af: c_int) -> *mut libc::hostent;
}

/// Strings shorter than this are made C strings on the stack.
const STACK_C_STR: usize = 128;

/// Calls `f` with `s` as a NUL-terminated C string; `None` when `s` holds a NUL (C would
/// see a shorter string; ipvsadm never gets such an argument from `argv`).
fn with_c_str<T>(s: &str, f: impl FnOnce(*const c_char) -> Option<T>) -> Option<T> {
    if s.as_bytes().contains(&0) {
        return None;
    }
    if s.len() < STACK_C_STR {
        let mut buf = [0u8; STACK_C_STR];
        buf[..s.len()].copy_from_slice(s.as_bytes());
        return f(buf.as_ptr().cast());
    }
    let c = CString::new(s).ok()?;
    f(c.as_ptr())
}

/// A dotted quad in its plain spelling (four decimal numbers up to 255, no leading zeros,
/// nothing after), which `inet_aton` reads the obvious way; `None` for any other spelling.
fn plain_dotted_quad(s: &str) -> Option<[u8; 4]> {
    let b = s.as_bytes();
    let mut out = [0u8; 4];
    let mut i = 0;
    for (n, octet) in out.iter_mut().enumerate() {
        if n > 0 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let start = i;
        let mut value = 0u32;
        while i < b.len() && i - start < 3 && b[i].is_ascii_digit() {
            value = value * 10 + u32::from(b[i] - b'0');
            i += 1;
        }
        let digits = i - start;
        if digits == 0 || (digits > 1 && b[start] == b'0') || value > 255 {
            return None;
        }
        *octet = value as u8;
    }
    (i == b.len()).then_some(out)
}

fn libc_inet_aton(s: &str) -> Option<[u8; 4]> {
    with_c_str(s, |c| {
        let mut addr = libc::in_addr { s_addr: 0 };
        // SAFETY: c is NUL-terminated and addr is a valid in_addr to write to.
        let ok = unsafe { inet_aton(c, &mut addr) };
        (ok != 0).then(|| addr.s_addr.to_ne_bytes())
    })
}

/// `inet_aton`: dotted quads and their C shorthand (`10.1`, hex, octal, trailing blanks).
///
/// The plain spelling, which nearly every rule uses, is read here; every other spelling
/// goes to the C library, whose rules are the reference.
pub fn parse_inet_aton(s: &str) -> Option<[u8; 4]> {
    plain_dotted_quad(s).or_else(|| libc_inet_aton(s))
}

/// `inet_pton(AF_INET6, ...)`.
pub fn parse_ipv6(s: &str) -> Option<[u8; 16]> {
    // Every IPv6 spelling has at least two colons (seven separators, or `::`).
    s.bytes().filter(|&b| b == b':').nth(1)?;
    with_c_str(s, |c| {
        let mut out = [0u8; 16];
        // SAFETY: out has room for an in6_addr; c is NUL-terminated.
        let ok = unsafe { inet_pton(libc::AF_INET6, c, out.as_mut_ptr().cast()) };
        (ok > 0).then_some(out)
    })
}

/// `inet_pton(AF_INET, ...)`: strict dotted quad.
pub fn parse_ipv4_strict(s: &str) -> Option<[u8; 4]> {
    with_c_str(s, |c| {
        let mut out = [0u8; 4];
        // SAFETY: out has room for an in_addr; c is NUL-terminated.
        let ok = unsafe { inet_pton(libc::AF_INET, c, out.as_mut_ptr().cast()) };
        (ok > 0).then_some(out)
    })
}

/// `inet_ntop`: the address in `addr` (first 4 bytes for IPv4) as text.
pub fn ntop(af: u16, addr: &[u8; 16]) -> String {
    let mut text = String::new();
    write_ntop(&mut text, af, addr);
    text
}

/// [`ntop`], appended to `out`.
pub fn write_ntop(out: &mut String, af: u16, addr: &[u8; 16]) {
    if af != AF_INET6 {
        // inet_ntop's IPv4 form is printf's "%u.%u.%u.%u".
        for (i, octet) in addr[..4].iter().enumerate() {
            if i > 0 {
                out.push('.');
            }
            columns::number(out, u64::from(*octet));
        }
        return;
    }
    let mut buf = [0 as c_char; 64];
    // SAFETY: addr holds an in6_addr; buf is large enough for any address.
    let p = unsafe {
        inet_ntop(
            libc::AF_INET6,
            addr.as_ptr().cast(),
            buf.as_mut_ptr(),
            buf.len() as libc::socklen_t,
        )
    };
    if p.is_null() {
        return;
    }
    // SAFETY: inet_ntop wrote a NUL-terminated string into buf.
    out.push_str(&unsafe { CStr::from_ptr(buf.as_ptr()) }.to_string_lossy());
}

/// ipvsadm's `host_to_addr`: the first IPv4 address of a host name.
pub fn host_to_addr(name: &str) -> Option<[u8; 4]> {
    with_c_str(name, host_to_addr_c)
}

fn host_to_addr_c(name: *const c_char) -> Option<[u8; 4]> {
    // SAFETY: name is NUL-terminated; the result points into libc's static storage and is
    // read before any other resolver call.
    unsafe {
        let h = gethostbyname(name);
        if h.is_null() || (*h).h_addrtype != libc::AF_INET || (*h).h_length != 4 {
            return None;
        }
        let first = *(*h).h_addr_list;
        if first.is_null() {
            return None;
        }
        let mut out = [0u8; 4];
        std::ptr::copy_nonoverlapping(first.cast::<u8>(), out.as_mut_ptr(), 4);
        Some(out)
    }
}

/// ipvsadm's `addr_to_host`: the name `gethostbyaddr` gives an address, if any.
pub fn addr_to_host(af: u16, addr: &[u8; 16]) -> Option<String> {
    let (len, family) = if af == AF_INET {
        (4, libc::AF_INET)
    } else {
        (16, af as c_int)
    };
    // SAFETY: addr holds len bytes; the result points into libc's static storage.
    unsafe {
        let h = gethostbyaddr(addr.as_ptr().cast(), len, family);
        if h.is_null() || (*h).h_name.is_null() {
            return None;
        }
        Some(CStr::from_ptr((*h).h_name).to_string_lossy().into_owned())
    }
}

fn proto_name(proto: u16) -> Option<&'static CStr> {
    match proto {
        IPPROTO_TCP => Some(c"tcp"),
        IPPROTO_UDP => Some(c"udp"),
        IPPROTO_SCTP => Some(c"sctp"),
        _ => None,
    }
}

/// ipvsadm's `service_to_port`: a service name's port for the protocol.
pub fn service_to_port(name: &str, proto: u16) -> Option<u16> {
    let proto = proto_name(proto)?;
    with_c_str(name, |c| {
        // SAFETY: both strings are NUL-terminated; the result is read immediately.
        unsafe {
            let s = libc::getservbyname(c, proto.as_ptr());
            (!s.is_null()).then(|| u16::from_be((*s).s_port as u16))
        }
    })
}

/// ipvsadm's `port_to_service`: the service name of a port for the protocol.
pub fn port_to_service(port: u16, proto: u16) -> Option<String> {
    let proto = proto_name(proto)?;
    // SAFETY: proto is NUL-terminated; the result is read immediately.
    unsafe {
        let s = libc::getservbyport(c_int::from(port.to_be()), proto.as_ptr());
        if s.is_null() || (*s).s_name.is_null() {
            return None;
        }
        Some(CStr::from_ptr((*s).s_name).to_string_lossy().into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_dotted_quads_read_as_the_c_library_reads_them() {
        let mut cases: Vec<String> = [
            "0.0.0.0",
            "255.255.255.255",
            "10.0.0.1",
            "1.2.3.04",
            "01.2.3.4",
            "00.0.0.0",
            "256.1.1.1",
            "1.2.3.256",
            "1.2.3",
            "1.2.3.4.",
            ".1.2.3.4",
            "1..2.3",
            "1.2.3.4 ",
            "1.2.3.4\t",
            " 1.2.3.4",
            "+1.2.3.4",
            "1.2.3.-4",
            "0x1.2.3.4",
            "1.2.3.4x",
            "1.2.3.0x4",
            "1000.2.3.4",
            "1.2.3.4.5",
            "",
            "localhost",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for a in [0u32, 1, 7, 9, 10, 99, 100, 199, 255, 256, 999] {
            for b in [0u32, 8, 65, 255] {
                cases.push(format!("{a}.{b}.{b}.{a}"));
                cases.push(format!("{a}.{b}.0{b}.{a}"));
            }
        }
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 16) as usize;
            let text: String = (0..len)
                .map(|i| b"0123456789.x.25"[((seed >> (4 * i)) % 15) as usize] as char)
                .collect();
            cases.push(text);
        }
        for s in &cases {
            assert_eq!(parse_inet_aton(s), libc_inet_aton(s), "{s:?}");
            if let Some(quad) = plain_dotted_quad(s) {
                assert_eq!(Some(quad), libc_inet_aton(s), "{s:?}");
            }
        }
        assert_eq!(plain_dotted_quad("10.0.0.1"), Some([10, 0, 0, 1]));
        assert_eq!(plain_dotted_quad("010.0.0.1"), None);
    }

    #[test]
    fn c_strings_long_or_with_a_nul() {
        let long = format!("{}1", "0".repeat(300));
        assert_eq!(parse_inet_aton(&long), Some([0, 0, 0, 1]));
        assert_eq!(parse_inet_aton("1.2.3.4\0junk"), None);
        assert_eq!(host_to_addr("local\0host"), None);
    }

    #[test]
    fn ipv4_text_is_printf_decimal() {
        let mut a = [0u8; 16];
        for quad in [
            [0, 0, 0, 0],
            [10, 0, 0, 1],
            [255, 255, 255, 255],
            [1, 20, 200, 9],
        ] {
            a[..4].copy_from_slice(&quad);
            let want = format!("{}.{}.{}.{}", quad[0], quad[1], quad[2], quad[3]);
            assert_eq!(ntop(AF_INET, &a), want);
        }
    }

    #[test]
    fn inet_aton_accepts_c_shorthand() {
        assert_eq!(parse_inet_aton("127.1"), Some([127, 0, 0, 1]));
        assert_eq!(parse_inet_aton("0x0a000001"), Some([10, 0, 0, 1]));
        assert_eq!(parse_inet_aton("1.2.3.4.5"), None);
        assert_eq!(parse_ipv4_strict("127.1"), None);
    }

    #[test]
    fn ipv6_round_trip_uses_the_c_spelling() {
        let a = parse_ipv6("::1.2.3.4").unwrap();
        assert_eq!(ntop(AF_INET6, &a), "::1.2.3.4");
        let b = parse_ipv6("2001:db8:0:0:1:0:0:1").unwrap();
        assert_eq!(ntop(AF_INET6, &b), "2001:db8::1:0:0:1");
        assert!(parse_ipv6("1.2.3.4").is_none());
    }

    #[test]
    fn services_from_etc_services() {
        // /etc/services on every supported system names port 80/tcp "http".
        if std::path::Path::new("/etc/services").exists() {
            assert_eq!(service_to_port("http", IPPROTO_TCP), Some(80));
            assert_eq!(port_to_service(80, IPPROTO_TCP).as_deref(), Some("http"));
        }
        assert_eq!(service_to_port("http", 0), None);
    }

    #[test]
    fn localhost_resolves() {
        assert_eq!(host_to_addr("localhost"), Some([127, 0, 0, 1]));
    }
}
