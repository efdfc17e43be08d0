//! `-L -c`: the connection table, read from /proc/net/ip_vs_conn as ipvsadm reads it.
//!
//! IPVS has no netlink command for connections. ipvsadm reads the proc file in 256-byte
//! `fgets` chunks and picks each chunk apart with `sscanf`; this module does the same, so
//! the kernel's hex IPv4 and text IPv6 forms, the persistence-engine columns and a blank
//! line (fatal) come out alike.

use crate::columns;
use crate::error::Error;
use crate::names::addr_port;
use crate::resolve::{
    parse_ipv4_strict, parse_ipv6, AF_INET, AF_INET6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP,
};

/// Where the kernel publishes connection entries.
pub const CONN_PROC_FILE: &str = "/proc/net/ip_vs_conn";

/// Splits like repeated `fgets(buf, 256, f)`: lines of at most 255 bytes.
fn fgets_chunks(data: &[u8]) -> Vec<&[u8]> {
    let mut chunks = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let limit = rest.len().min(255);
        let end = rest[..limit]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(limit, |i| i + 1);
        chunks.push(&rest[..end]);
        rest = &rest[end..];
    }
    chunks
}

/// A `sscanf` cursor for the few conversions ipvsadm uses.
struct Scan<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Scan<'a> {
    fn skip_ws(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn word(&mut self) -> Option<String> {
        self.skip_ws();
        let start = self.pos;
        while self.pos < self.s.len() && !self.s[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
        (self.pos > start).then(|| String::from_utf8_lossy(&self.s[start..self.pos]).into_owned())
    }

    fn number(&mut self, radix: u32) -> Option<i64> {
        self.skip_ws();
        let start = self.pos;
        let mut negative = false;
        if self.pos < self.s.len() && (self.s[self.pos] == b'+' || self.s[self.pos] == b'-') {
            negative = self.s[self.pos] == b'-';
            self.pos += 1;
        }
        if radix == 16
            && self.s[self.pos..].len() > 2
            && self.s[self.pos] == b'0'
            && (self.s[self.pos + 1] | 0x20) == b'x'
            && self.s[self.pos + 2].is_ascii_hexdigit()
        {
            self.pos += 2;
        }
        let digits_start = self.pos;
        let mut value: i64 = 0;
        while self.pos < self.s.len() {
            let Some(d) = (self.s[self.pos] as char).to_digit(radix) else {
                break;
            };
            value = value
                .wrapping_mul(i64::from(radix))
                .wrapping_add(i64::from(d));
            self.pos += 1;
        }
        if self.pos == digits_start {
            self.pos = start;
            return None;
        }
        Some(if negative {
            value.wrapping_neg()
        } else {
            value
        })
    }
}

/// The fields of one connection line, and how many `sscanf` filled.
#[derive(Debug, Default)]
struct Fields {
    count: usize,
    protocol: String,
    caddr: String,
    cport: u16,
    vaddr: String,
    vport: u16,
    daddr: String,
    dport: u16,
    state: String,
    expires: u32,
    pe_name: String,
    pe_data: String,
}

/// `sscanf(buf, "%s %s %hX %s %hX %s %hX %s %d %s %s", ...)`; `None` when it returns -1.
fn scan_line(line: &[u8]) -> Option<Fields> {
    let mut sc = Scan { s: line, pos: 0 };
    let mut f = Fields::default();
    sc.skip_ws();
    if sc.pos == line.len() {
        return None;
    }
    macro_rules! take {
        ($e:expr, $field:expr) => {
            match $e {
                Some(v) => {
                    $field = v;
                    f.count += 1;
                }
                None => return Some(f),
            }
        };
    }
    take!(sc.word(), f.protocol);
    take!(sc.word(), f.caddr);
    take!(sc.number(16).map(|n| n as u16), f.cport);
    take!(sc.word(), f.vaddr);
    take!(sc.number(16).map(|n| n as u16), f.vport);
    take!(sc.word(), f.daddr);
    take!(sc.number(16).map(|n| n as u16), f.dport);
    take!(sc.word(), f.state);
    take!(sc.number(10).map(|n| n as u32), f.expires);
    take!(sc.word(), f.pe_name);
    take!(sc.word(), f.pe_data);
    Some(f)
}

fn hex_ipv4(text: &str) -> [u8; 16] {
    let mut sc = Scan {
        s: text.as_bytes(),
        pos: 0,
    };
    let value = sc.number(16).unwrap_or(0) as u32;
    let mut addr = [0; 16];
    addr[..4].copy_from_slice(&value.to_be_bytes());
    addr
}

fn v4(a: [u8; 4]) -> [u8; 16] {
    let mut addr = [0; 16];
    addr[..4].copy_from_slice(&a);
    addr
}

fn format_line(out: &mut String, f: &Fields, numeric: bool, persistent_conn: bool) {
    let proto = match f.protocol.as_str() {
        "TCP" => IPPROTO_TCP,
        "UDP" => IPPROTO_UDP,
        "SCTP" => IPPROTO_SCTP,
        _ => 0,
    };
    let (af, caddr, vaddr) = if let Some(c) = parse_ipv6(&f.caddr) {
        (AF_INET6, c, parse_ipv6(&f.vaddr).unwrap_or([0; 16]))
    } else if let Some(c) = parse_ipv4_strict(&f.caddr) {
        (
            AF_INET,
            v4(c),
            parse_ipv4_strict(&f.vaddr).map(v4).unwrap_or([0; 16]),
        )
    } else {
        (AF_INET, hex_ipv4(&f.caddr), hex_ipv4(&f.vaddr))
    };
    let (daf, daddr) = if let Some(d) = parse_ipv6(&f.daddr) {
        (AF_INET6, d)
    } else if let Some(d) = parse_ipv4_strict(&f.daddr) {
        (AF_INET, v4(d))
    } else {
        (AF_INET, hex_ipv4(&f.daddr))
    };
    let cname = addr_port(af, &caddr, f.cport, proto, numeric);
    let vname = addr_port(af, &vaddr, f.vport, proto, numeric);
    let dname = addr_port(daf, &daddr, f.dport, proto, numeric);
    let expire = format!("{:02}:{:02}", f.expires / 60, f.expires % 60);
    let mut fields = vec![
        (f.protocol.as_str(), 3),
        (&expire, 6),
        (&f.state, 11),
        (&cname, 18),
        (&vname, 18),
    ];
    if persistent_conn && f.count == 11 {
        fields.extend([(dname.as_str(), 16), (&f.pe_name, 18), (&f.pe_data, 0)]);
    } else {
        fields.push((&dname, 0));
    }
    for (i, (text, width)) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        columns::left(out, text, width);
    }
    out.push('\n');
}

/// Formats the proc file's contents; on a fatal line the text so far comes with the error.
pub fn format_connections(
    data: &[u8],
    numeric: bool,
    persistent_conn: bool,
) -> (String, Option<Error>) {
    let mut out = String::new();
    let chunks = fgets_chunks(data);
    let Some((_, lines)) = chunks.split_first() else {
        return (
            out,
            Some(Error::Listing(format!(
                "unexpected input from {CONN_PROC_FILE}"
            ))),
        );
    };
    out.push_str("IPVS connection entries\n");
    if persistent_conn {
        out.push_str(
            "pro expire state       source             virtual            destination        pe name          pe_data\n",
        );
    } else {
        out.push_str("pro expire state       source             virtual            destination\n");
    }
    for line in lines {
        match scan_line(line) {
            Some(fields) => format_line(&mut out, &fields, numeric, persistent_conn),
            None => return (out, Some(Error::Listing(String::new()))),
        }
    }
    (out, None)
}

/// Reads and formats the connection table.
pub fn list_connections(numeric: bool, persistent_conn: bool) -> (String, Option<Error>) {
    match std::fs::read(CONN_PROC_FILE) {
        Ok(data) => format_connections(&data, numeric, persistent_conn),
        Err(_) => (
            String::new(),
            Some(Error::Listing(format!("cannot open file {CONN_PROC_FILE}"))),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n";

    #[test]
    fn ipv4_hex_lines() {
        let data =
            format!("{HEADER}TCP 0A000064 9C40 0A000001 0050 0A000002 1F90 ESTABLISHED     899\n");
        let (out, err) = format_connections(data.as_bytes(), true, false);
        assert!(err.is_none());
        assert_eq!(
            out,
            "IPVS connection entries\npro expire state       source             virtual            destination\nTCP 14:59  ESTABLISHED 10.0.0.100:40000   10.0.0.1:80        10.0.0.2:8080\n"
        );
    }

    #[test]
    fn ipv6_and_persistence_engine() {
        let data = format!("{HEADER}UDP 2001:0db8:0000:0000:0000:0000:0000:0064 13C4 2001:0db8:0000:0000:0000:0000:0000:0001 13C4 2001:0db8:0000:0000:0000:0000:0000:0002 13C4 UDP             61 sip abc\n");
        let (out, _) = format_connections(data.as_bytes(), true, true);
        let last = out.lines().last().unwrap();
        assert_eq!(
            last,
            "UDP 01:01  UDP         [2001:db8::64]:5060 [2001:db8::1]:5060 [2001:db8::2]:5060 sip                abc"
        );
    }

    #[test]
    fn empty_file_and_blank_line() {
        let (_, err) = format_connections(b"", true, false);
        assert_eq!(
            err.unwrap().to_string(),
            "unexpected input from /proc/net/ip_vs_conn"
        );
        let (out, err) = format_connections(format!("{HEADER}\n").as_bytes(), true, false);
        assert!(err.is_some());
        assert!(out.starts_with("IPVS connection entries\n"));
    }
}
