//! The text of `-L` (every format) and `-S`, byte for byte as ipvsadm 1.31 prints it.

use std::fmt::Write;

use crate::cmdline::fmt;
use crate::columns;
use crate::entry::*;
use crate::names::{cut_after, truncate, write_addr_port};
use crate::resolve::{AF_INET, AF_INET6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP};
use crate::sort::{compare_dests, merge_sort};

/// Traffic counters and rates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Connections.
    pub conns: u64,
    /// Packets in.
    pub in_pkts: u64,
    /// Packets out.
    pub out_pkts: u64,
    /// Bytes in.
    pub in_bytes: u64,
    /// Bytes out.
    pub out_bytes: u64,
    /// Connections per second.
    pub cps: u64,
    /// Packets in per second.
    pub in_pps: u64,
    /// Packets out per second.
    pub out_pps: u64,
    /// Bytes in per second.
    pub in_bps: u64,
    /// Bytes out per second.
    pub out_bps: u64,
}

/// A service as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRow {
    /// Its settings.
    pub svc: Service,
    /// Its counters.
    pub stats: Counters,
}

/// A real server as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestRow {
    /// Its settings.
    pub dest: Dest,
    /// Active connections.
    pub active: u32,
    /// Inactive connections.
    pub inactive: u32,
    /// Persistence templates.
    pub persistent: u32,
    /// Its counters.
    pub stats: Counters,
}

/// The first line of a full listing.
pub fn version_header(version: u32, conn_table_size: u32) -> String {
    format!(
        "IP Virtual Server version {}.{}.{} (size={})\n",
        (version >> 16) & 0xff,
        (version >> 8) & 0xff,
        version & 0xff,
        conn_table_size as i32
    )
}

/// ipvsadm's `print_largenum`: right-aligned, abbreviated with K/M/G/T unless `--exact`.
pub fn largenum(out: &mut String, n: u64, exact: bool) {
    let (value, unit) = if exact || n < 100_000_000 {
        (n, None)
    } else if n < 1_000_000_000 {
        (n / 1000, Some('K'))
    } else if n < 100_000_000_000 {
        (n / 1_000_000, Some('M'))
    } else if n < 100_000_000_000_000 {
        (n / 1_000_000_000, Some('G'))
    } else {
        (n / 1_000_000_000_000, Some('T'))
    };
    let digits = columns::Decimal::unsigned(value);
    let digits = digits.as_str();
    match unit {
        Some(unit) => {
            columns::right(out, digits, 8);
            out.push(unit);
        }
        // Exact numbers keep at least one blank before them, however long.
        None => columns::right(out, digits, (digits.len() + 1).max(9)),
    }
}

/// The column titles for a listing format (none for `-S`).
pub fn title(format: u32) -> &'static str {
    if format & fmt::STATS != 0 {
        "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n  -> RemoteAddress:Port\n"
    } else if format & fmt::RATE != 0 {
        "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n  -> RemoteAddress:Port\n"
    } else if format & fmt::THRESHOLDS != 0 {
        "Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n  -> RemoteAddress:Port\n"
    } else if format & fmt::PERSISTENTCONN != 0 {
        "Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn \n  -> RemoteAddress:Port\n"
    } else if format & fmt::TUN_INFO != 0 {
        "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n"
    } else if format & fmt::RULE == 0 {
        "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
    } else {
        ""
    }
}

fn protocol_name(protocol: u16) -> &'static str {
    match protocol {
        IPPROTO_TCP => "TCP",
        IPPROTO_UDP => "UDP",
        IPPROTO_SCTP => "SCTP",
        _ => "?",
    }
}

fn protocol_option(protocol: u16) -> &'static str {
    match protocol {
        IPPROTO_TCP => "-t",
        IPPROTO_UDP => "-u",
        IPPROTO_SCTP => "--sctp-service",
        _ => "--xxx-service",
    }
}

/// What C's printf shows for a null string.
const NULL: &str = "(null)";

fn forward_name(fwd: u32) -> &'static str {
    match fwd & FWD_MASK {
        FWD_MASQ => "Masq",
        FWD_LOCAL => "Local",
        FWD_TUNNEL => "Tunnel",
        FWD_ROUTE => "Route",
        _ => NULL,
    }
}

fn forward_switch(fwd: u32) -> &'static str {
    match fwd & FWD_MASK {
        FWD_MASQ => "-m",
        FWD_TUNNEL => "-i",
        FWD_LOCAL | FWD_ROUTE => "-g",
        _ => NULL,
    }
}

fn tunnel_checksum(flags: u16) -> &'static str {
    ["-c", "+c", "r+c"]
        .get(usize::from(flags))
        .copied()
        .unwrap_or(NULL)
}

fn tunnel_checksum_option(flags: u16) -> &'static str {
    ["--tun-nocsum", "--tun-csum", "--tun-remcsum"]
        .get(usize::from(flags))
        .copied()
        .unwrap_or(NULL)
}

fn tunnel_info(d: &Dest) -> String {
    let info = match (d.fwd & FWD_MASK, d.tun_type) {
        (FWD_TUNNEL, 0) => "ipip".to_string(),
        (FWD_TUNNEL, 1) => format!("gue:{}:{}", d.tun_port, tunnel_checksum(d.tun_flags)),
        (FWD_TUNNEL, 2) => format!("gre:{}", tunnel_checksum(d.tun_flags)),
        _ => return "n/a".to_string(),
    };
    truncate(info, 15)
}

fn sched_flags(svc: &Service) -> String {
    let named: [(u32, &str); 3] = match svc.sched_name.as_str() {
        "sh" => [
            (SVC_F_SCHED1, "sh-fallback"),
            (SVC_F_SCHED2, "sh-port"),
            (0, ""),
        ],
        "mh" => [
            (SVC_F_SCHED1, "mh-fallback"),
            (SVC_F_SCHED2, "mh-port"),
            (0, ""),
        ],
        _ => [
            (SVC_F_SCHED1, "flag-1"),
            (SVC_F_SCHED2, "flag-2"),
            (SVC_F_SCHED3, "flag-3"),
        ],
    };
    let set: Vec<&str> = named
        .iter()
        .filter(|(bit, _)| svc.flags & bit != 0)
        .map(|(_, n)| *n)
        .collect();
    set.join(",")
}

/// The service's name as the listing shows it (`TCP  1.2.3.4:80`, `FWM  5`, or the `-S`
/// option form), appended to `out`.
fn write_service_name(out: &mut String, svc: &Service, format: u32) {
    let rule = format & fmt::RULE != 0;
    let v6 = svc.af == AF_INET6;
    if svc.fwmark != 0 {
        out.push_str(if rule { "-f " } else { "FWM  " });
        columns::signed(out, i64::from(svc.fwmark as i32));
        if v6 {
            out.push_str(if rule { " -6" } else { " IPv6" });
        }
        return;
    }
    let start = out.len();
    if rule {
        out.push_str(protocol_option(svc.protocol));
    } else {
        columns::left(out, protocol_name(svc.protocol), 4);
    }
    out.push(' ');
    write_addr_port(
        out,
        svc.af,
        &svc.addr,
        svc.port,
        svc.protocol,
        format & fmt::NUMERIC != 0,
    );
    if !rule && !v6 {
        cut_after(out, start, 33);
    }
}

fn write_mask(out: &mut String, svc: &Service) {
    if svc.af == AF_INET6 {
        columns::signed(out, i64::from(svc.netmask as i32));
    } else {
        for (i, octet) in svc.netmask.to_ne_bytes().iter().enumerate() {
            if i > 0 {
                out.push('.');
            }
            columns::number(out, u64::from(*octet));
        }
    }
}

fn service_line(out: &mut String, row: &ServiceRow, name: &str, format: u32) {
    let svc = &row.svc;
    let exact = format & fmt::EXACT != 0;
    let has_sched_flags = svc.flags & SVC_F_SCHED_ALL != 0;
    let persistent = svc.flags & SVC_F_PERSISTENT != 0;
    let has_mask = match svc.af {
        AF_INET => svc.netmask != 0xffff_ffff,
        AF_INET6 => svc.netmask != 128,
        _ => false,
    };
    if format & fmt::RULE != 0 {
        out.push_str("-A ");
        out.push_str(name);
        out.push_str(" -s ");
        out.push_str(&svc.sched_name);
        if persistent {
            out.push_str(" -p ");
            columns::number(out, u64::from(svc.timeout));
            if has_mask {
                out.push_str(" -M ");
                write_mask(out, svc);
            }
        }
        if !svc.pe_name.is_empty() {
            out.push_str(" --pe ");
            out.push_str(&svc.pe_name);
        }
        if svc.flags & SVC_F_ONEPACKET != 0 {
            out.push_str(" -o");
        }
        if has_sched_flags {
            out.push_str(" -b ");
            out.push_str(&sched_flags(svc));
        }
    } else if format & (fmt::STATS | fmt::RATE) != 0 {
        let s = &row.stats;
        let values = if format & fmt::STATS != 0 {
            [s.conns, s.in_pkts, s.out_pkts, s.in_bytes, s.out_bytes]
        } else {
            [s.cps, s.in_pps, s.out_pps, s.in_bps, s.out_bps]
        };
        columns::left(out, name, 33);
        for v in values {
            largenum(out, v, exact);
        }
    } else {
        out.push_str(name);
        out.push(' ');
        out.push_str(&svc.sched_name);
        if has_sched_flags {
            out.push_str(" (");
            out.push_str(&sched_flags(svc));
            out.push(')');
        }
        if persistent {
            out.push_str(" persistent ");
            columns::number(out, u64::from(svc.timeout));
            if has_mask {
                out.push_str(" mask ");
                write_mask(out, svc);
            }
            if !svc.pe_name.is_empty() {
                out.push_str(" pe ");
                out.push_str(&svc.pe_name);
            }
        }
        if svc.flags & SVC_F_ONEPACKET != 0 {
            out.push_str(" ops");
        }
    }
    out.push('\n');
}

fn tunnel_rule(out: &mut String, svc_name: &str, dname: &str, d: &Dest) {
    let head = format!(
        "-a {svc_name} -r {dname} {} -w {}",
        forward_switch(d.fwd),
        d.weight
    );
    let _ = match d.tun_type {
        2 => writeln!(
            out,
            "{head} --tun-type gre {}",
            tunnel_checksum_option(d.tun_flags)
        ),
        1 => writeln!(
            out,
            "{head} --tun-type gue --tun-port {} {}",
            d.tun_port,
            tunnel_checksum_option(d.tun_flags)
        ),
        0 => writeln!(out, "{head} --tun-type ipip"),
        _ => writeln!(out, "{head}"),
    };
}

/// One real server's line; `dname` is scratch space for its name.
fn dest_line(
    out: &mut String,
    dname: &mut String,
    svc: &Service,
    row: &DestRow,
    svc_name: &str,
    format: u32,
) {
    let d = &row.dest;
    let exact = format & fmt::EXACT != 0;
    dname.clear();
    write_addr_port(
        dname,
        d.af,
        &d.addr,
        d.port,
        svc.protocol,
        format & fmt::NUMERIC != 0,
    );
    if format & fmt::RULE == 0 && d.af != AF_INET6 {
        cut_after(dname, 0, 28);
    }
    let dname = dname.as_str();
    let s = &row.stats;
    if format & fmt::RULE != 0 {
        if d.fwd & FWD_MASK == FWD_TUNNEL {
            tunnel_rule(out, svc_name, dname, d);
        } else {
            out.push_str("-a ");
            out.push_str(svc_name);
            out.push_str(" -r ");
            out.push_str(dname);
            out.push(' ');
            out.push_str(forward_switch(d.fwd));
            out.push_str(" -w ");
            columns::signed(out, i64::from(d.weight));
            out.push('\n');
        }
        return;
    }
    out.push_str("  -> ");
    columns::left(out, dname, 28);
    if format & fmt::STATS != 0 {
        for v in [s.conns, s.in_pkts, s.out_pkts, s.in_bytes, s.out_bytes] {
            largenum(out, v, exact);
        }
    } else if format & fmt::RATE != 0 {
        for v in [s.cps, s.in_pps, s.out_pps] {
            out.push(' ');
            columns::right_number(out, v, 8);
        }
        largenum(out, s.in_bps, exact);
        largenum(out, s.out_bps, exact);
    } else if format & fmt::THRESHOLDS != 0 {
        for v in [d.u_threshold, d.l_threshold, row.active, row.inactive] {
            out.push(' ');
            columns::left_number(out, u64::from(v), 10);
        }
    } else if format & fmt::PERSISTENTCONN != 0 {
        out.push(' ');
        columns::left_number(out, u64::from(d.weight as u32), 9);
        out.push(' ');
        columns::left_number(out, u64::from(row.persistent), 11);
        for v in [row.active, row.inactive] {
            out.push(' ');
            columns::left_number(out, u64::from(v), 10);
        }
    } else {
        out.push(' ');
        columns::left(out, forward_name(d.fwd), 7);
        if format & fmt::TUN_INFO != 0 {
            out.push(' ');
            columns::left(out, &tunnel_info(d), 13);
        }
        out.push(' ');
        columns::left_signed(out, i64::from(d.weight), 6);
        for v in [row.active, row.inactive] {
            out.push(' ');
            columns::left_number(out, u64::from(v), 10);
        }
    }
    out.push('\n');
}

/// ipvsadm's `print_service_entry`: the service line, then its real servers (sorted
/// unless `--nosort`).
pub fn service_entry(out: &mut String, row: &ServiceRow, dests: &mut [DestRow], format: u32) {
    let mut name = String::new();
    write_service_name(&mut name, &row.svc, format);
    service_line(out, row, &name, format);
    if format & fmt::NOSORT == 0 {
        merge_sort(dests, &|a: &DestRow, b: &DestRow| {
            compare_dests(&a.dest, &b.dest)
        });
    }
    let mut dname = String::new();
    for d in dests.iter() {
        dest_line(out, &mut dname, &row.svc, d, &name, format);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(a: [u8; 4]) -> [u8; 16] {
        let mut addr = [0; 16];
        addr[..4].copy_from_slice(&a);
        addr
    }

    fn tcp_service() -> ServiceRow {
        let svc = Service {
            af: AF_INET,
            protocol: IPPROTO_TCP,
            addr: v4([10, 0, 0, 1]),
            port: 80,
            sched_name: "wlc".into(),
            ..Service::default()
        };
        ServiceRow {
            svc,
            stats: Counters::default(),
        }
    }

    fn dest(a: [u8; 4], port: u16, fwd: u32, weight: i32) -> DestRow {
        DestRow {
            dest: Dest {
                af: AF_INET,
                addr: v4(a),
                port,
                fwd,
                weight,
                ..Dest::default()
            },
            active: 0,
            inactive: 0,
            persistent: 0,
            stats: Counters::default(),
        }
    }

    #[test]
    fn default_listing_matches_ipvsadm() {
        let mut out = String::new();
        let mut dests = vec![
            dest([10, 0, 0, 6], 80, FWD_ROUTE, i32::MAX),
            dest([10, 0, 0, 2], 8080, FWD_MASQ, 5),
        ];
        service_entry(&mut out, &tcp_service(), &mut dests, fmt::NUMERIC);
        assert_eq!(
            out,
            "TCP  10.0.0.1:80 wlc\n  -> 10.0.0.2:8080                Masq    5      0          0         \n  -> 10.0.0.6:80                  Route   2147483647 0          0         \n"
        );
    }

    #[test]
    fn save_format() {
        let mut row = tcp_service();
        row.svc.flags = SVC_F_PERSISTENT | SVC_F_ONEPACKET | SVC_F_SCHED1;
        row.svc.timeout = 360;
        row.svc.netmask = u32::from_ne_bytes([255, 255, 0, 0]);
        row.svc.pe_name = "sip".into();
        let mut tun = dest([10, 0, 0, 3], 80, FWD_TUNNEL, 1);
        tun.dest.tun_type = 1;
        tun.dest.tun_port = 6080;
        tun.dest.tun_flags = 1;
        let mut out = String::new();
        service_entry(&mut out, &row, &mut [tun], fmt::NUMERIC | fmt::RULE);
        assert_eq!(
            out,
            "-A -t 10.0.0.1:80 -s wlc -p 360 -M 255.255.0.0 --pe sip -o -b flag-1\n-a -t 10.0.0.1:80 -r 10.0.0.3:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum\n"
        );
    }

    #[test]
    fn fwmark_prints_signed() {
        let mut row = tcp_service();
        row.svc.set_fwmark(u32::MAX);
        let mut out = String::new();
        service_entry(&mut out, &row, &mut [], fmt::NUMERIC);
        assert_eq!(out, "FWM  -1 wlc\n");
    }

    #[test]
    fn largenum_units() {
        let cases = [
            (99_999_999, false, " 99999999"),
            (100_000_000, false, "  100000K"),
            (1_000_000_000, false, "    1000M"),
            (100_000_000_000, false, "     100G"),
            (100_000_000_000_000, false, "     100T"),
            (1_234_567_890, true, " 1234567890"),
            (12, true, "       12"),
        ];
        for (n, exact, want) in cases {
            let mut s = String::new();
            largenum(&mut s, n, exact);
            assert_eq!(s, want, "{n}");
        }
    }

    #[test]
    fn stats_and_rate_lines() {
        let mut row = tcp_service();
        row.stats.conns = 3;
        row.stats.in_bytes = 1_500_000_000;
        let mut d = dest([10, 0, 0, 2], 80, FWD_ROUTE, 1);
        d.stats.in_bps = 123_456_789_012;
        d.stats.cps = 200_000_000;
        let mut out = String::new();
        service_entry(&mut out, &row, &mut [d.clone()], fmt::NUMERIC | fmt::STATS);
        assert_eq!(
            out,
            "TCP  10.0.0.1:80                         3        0        0    1500M        0\n  -> 10.0.0.2:80                         0        0        0        0        0\n"
        );
        let mut out = String::new();
        service_entry(&mut out, &row, &mut [d], fmt::NUMERIC | fmt::RATE);
        assert!(
            out.ends_with(
                "  -> 10.0.0.2:80                  200000000        0        0     123G        0\n"
            ),
            "{out}"
        );
    }

    #[test]
    fn tunnel_info_column() {
        let mut d = dest([10, 0, 0, 4], 80, FWD_TUNNEL, 1);
        d.dest.tun_type = 2;
        let mut out = String::new();
        service_entry(
            &mut out,
            &tcp_service(),
            &mut [d],
            fmt::NUMERIC | fmt::TUN_INFO,
        );
        assert!(out.ends_with("  -> 10.0.0.4:80                  Tunnel  gre:-c        1      0          0         \n"));
    }
}
