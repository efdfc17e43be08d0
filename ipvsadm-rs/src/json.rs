//! `-L --json`: the table as one JSON document (ipvsadm-rs only).
//!
//! The schema is documented in docs/ipvsadm-rs.md. Counters are the kernel's full 64-bit
//! values (the text listing keeps ipvsadm's 32-bit cut for real servers); addresses are
//! always numeric; services and real servers come in ipvsadm's listing order.

use std::io::Write;

use ipvs_rs::{Destination, Forwarding, Service, ServiceKey, Stats, TunnelType};
use serde::Serialize;

use crate::checks::opt;
use crate::cmdline::{fmt, Parsed};
use crate::error::{Error, Result};
use crate::kernel::{self, message, Kernel, Op};
use crate::sort::{compare_dests, compare_services, merge_sort};

/// The whole document.
#[derive(Debug, Serialize)]
pub struct Document {
    /// IPVS version, `major.minor.patch`.
    pub version: String,
    /// Size of the connection hash table.
    pub conn_table_size: u32,
    /// The services.
    pub services: Vec<JsonService>,
}

/// Traffic counters.
#[derive(Debug, Serialize)]
pub struct JsonStats {
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
}

/// Rates, per second.
#[derive(Debug, Serialize)]
pub struct JsonRates {
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

/// One virtual service.
#[derive(Debug, Serialize)]
pub struct JsonService {
    /// `tcp`, `udp`, `sctp`, or `fwmark`.
    pub kind: String,
    /// `inet` or `inet6`.
    pub family: &'static str,
    /// The address, absent for firewall-mark services.
    pub address: Option<String>,
    /// The port, absent for firewall-mark services.
    pub port: Option<u16>,
    /// The firewall mark, absent for address services.
    pub fwmark: Option<u32>,
    /// Scheduler name.
    pub scheduler: String,
    /// Flag names: `persistent`, `one-packet`, and scheduler flags.
    pub flags: Vec<&'static str>,
    /// Persistence timeout in seconds, absent when not persistent.
    pub persistence_timeout: Option<u32>,
    /// Persistence netmask (IPv4 mask or IPv6 prefix length).
    pub netmask: String,
    /// Persistence engine.
    pub pe: Option<String>,
    /// Counters.
    pub stats: JsonStats,
    /// Rates.
    pub rates: JsonRates,
    /// Real servers.
    pub destinations: Vec<JsonDestination>,
}

/// A tunnel's settings.
#[derive(Debug, Serialize)]
pub struct JsonTunnel {
    /// `ipip`, `gue` or `gre`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// GUE port.
    pub port: Option<u16>,
    /// `none`, `csum` or `remcsum`.
    pub checksum: &'static str,
}

/// One real server.
#[derive(Debug, Serialize)]
pub struct JsonDestination {
    /// The address.
    pub address: String,
    /// The port.
    pub port: u16,
    /// `inet` or `inet6`.
    pub family: &'static str,
    /// `route`, `tunnel`, `masq`, `local` or `bypass`.
    pub forwarding: &'static str,
    /// Tunnel settings, for `tunnel`.
    pub tunnel: Option<JsonTunnel>,
    /// Weight.
    pub weight: i32,
    /// Upper connection threshold (0: none).
    pub upper_threshold: u32,
    /// Lower connection threshold.
    pub lower_threshold: u32,
    /// Active connections.
    pub active_conns: u32,
    /// Inactive connections.
    pub inactive_conns: u32,
    /// Persistence templates.
    pub persistent_conns: u32,
    /// Counters.
    pub stats: JsonStats,
    /// Rates.
    pub rates: JsonRates,
}

fn stats(s: &Stats) -> (JsonStats, JsonRates) {
    (
        JsonStats {
            conns: s.conns,
            in_pkts: s.in_pkts,
            out_pkts: s.out_pkts,
            in_bytes: s.in_bytes,
            out_bytes: s.out_bytes,
        },
        JsonRates {
            cps: s.cps,
            in_pps: s.in_pps,
            out_pps: s.out_pps,
            in_bps: s.in_bps,
            out_bps: s.out_bps,
        },
    )
}

fn family_name(f: ipvs_rs::AddressFamily) -> &'static str {
    match f {
        ipvs_rs::AddressFamily::Inet6 => "inet6",
        _ => "inet",
    }
}

fn flag_names(svc: &Service) -> Vec<&'static str> {
    let bits = svc.flags.bits();
    let sched = svc.scheduler.name();
    let mut names = Vec::new();
    if bits & 0x1 != 0 {
        names.push("persistent");
    }
    if bits & 0x4 != 0 {
        names.push("one-packet");
    }
    let (f1, f2) = match sched {
        "sh" => ("sh-fallback", "sh-port"),
        "mh" => ("mh-fallback", "mh-port"),
        _ => ("flag-1", "flag-2"),
    };
    if bits & 0x8 != 0 {
        names.push(f1);
    }
    if bits & 0x10 != 0 {
        names.push(f2);
    }
    if bits & 0x20 != 0 {
        names.push("flag-3");
    }
    names
}

fn destination(d: &Destination) -> JsonDestination {
    let (forwarding, tunnel) = match d.forwarding {
        Forwarding::Route => ("route", None),
        Forwarding::Masq => ("masq", None),
        Forwarding::Local => ("local", None),
        Forwarding::Bypass => ("bypass", None),
        Forwarding::Tunnel(t) => {
            let kind = match t.kind {
                TunnelType::Gue => "gue",
                TunnelType::Gre => "gre",
                _ => "ipip",
            };
            let checksum = match t.flags.bits() {
                1 => "csum",
                2 => "remcsum",
                _ => "none",
            };
            (
                "tunnel",
                Some(JsonTunnel {
                    kind,
                    port: t.port,
                    checksum,
                }),
            )
        }
    };
    let (stats, rates) = stats(&d.stats);
    JsonDestination {
        address: d.addr.to_string(),
        port: d.port,
        family: family_name(d.family),
        forwarding,
        tunnel,
        weight: d.weight,
        upper_threshold: d.upper_threshold,
        lower_threshold: d.lower_threshold,
        active_conns: d.active_conns,
        inactive_conns: d.inactive_conns,
        persistent_conns: d.persist_conns,
        stats,
        rates,
    }
}

fn service(svc: &Service, mut dests: Vec<Destination>, sort: bool) -> JsonService {
    if sort {
        let mut keyed: Vec<(crate::entry::Dest, Destination)> = dests
            .into_iter()
            .map(|d| (kernel::dest_row(&d).dest, d))
            .collect();
        merge_sort(
            &mut keyed,
            &|a: &(crate::entry::Dest, Destination), b: &(crate::entry::Dest, Destination)| {
                compare_dests(&a.0, &b.0)
            },
        );
        dests = keyed.into_iter().map(|(_, d)| d).collect();
    }
    let (kind, address, port, fwmark) = match svc.key {
        ServiceKey::Inet {
            protocol,
            addr,
            port,
        } => (
            protocol.to_string().to_lowercase(),
            Some(addr.to_string()),
            Some(port),
            None,
        ),
        ServiceKey::Fwmark { mark, .. } => ("fwmark".to_string(), None, None, Some(mark)),
    };
    let (stats, rates) = stats(&svc.stats);
    JsonService {
        kind,
        family: family_name(svc.key.family()),
        address,
        port,
        fwmark,
        scheduler: svc.scheduler.name().to_string(),
        flags: flag_names(svc),
        persistence_timeout: (svc.flags.bits() & 0x1 != 0).then_some(svc.timeout),
        netmask: svc.netmask.to_string(),
        pe: svc.pe_name.clone(),
        stats,
        rates,
        destinations: dests.iter().map(destination).collect(),
    }
}

/// Writes the JSON document for `-L --json` (optionally one service).
pub fn write_table(k: &Kernel, p: &Parsed, out: &mut dyn Write) -> Result<()> {
    let sort = p.format & fmt::NOSORT == 0;
    let mut services = if p.has(opt::SERVICE) {
        let key = kernel::key_of(&p.entry.svc);
        vec![k
            .handle
            .service(&key)
            .map_err(|e| Error::Listing(message(Op::GetService, &e)))?]
    } else {
        k.handle
            .services()
            .map_err(|e| Error::Listing(message(Op::GetServices, &e)))?
    };
    if sort {
        let mut keyed: Vec<(crate::entry::Service, Service)> = services
            .into_iter()
            .map(|s| (kernel::service_row(&s).svc, s))
            .collect();
        merge_sort(
            &mut keyed,
            &|a: &(crate::entry::Service, Service), b: &(crate::entry::Service, Service)| {
                compare_services(&a.0, &b.0)
            },
        );
        services = keyed.into_iter().map(|(_, s)| s).collect();
    }
    let mut doc = Document {
        version: format!(
            "{}.{}.{}",
            k.info.version.major, k.info.version.minor, k.info.version.patch
        ),
        conn_table_size: k.info.conn_table_size,
        services: Vec::with_capacity(services.len()),
    };
    for entry in k.handle.with_destinations(services) {
        let (svc, dests) = entry.map_err(|e| Error::Listing(message(Op::GetDests, &e)))?;
        doc.services.push(service(&svc, dests, sort));
    }
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(|e| Error::Io(e.into()))?;
    out.write_all(b"\n")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipvs_rs::{ServiceFlags, Tunnel};
    use std::net::Ipv4Addr;

    #[test]
    fn service_document_shape() {
        let key = ServiceKey::tcp(Ipv4Addr::new(10, 0, 0, 1), 80);
        let mut svc = Service::new(key);
        svc.flags = ServiceFlags::from_bits_retain(0x1 | 0x8);
        svc.timeout = 300;
        let mut d = Destination::new(Ipv4Addr::new(10, 0, 0, 2), 80);
        d.forwarding = Forwarding::Tunnel(Tunnel::gue(6080));
        d.stats.conns = 1 << 40;
        let v = serde_json::to_value(service(&svc, vec![d], true)).unwrap();
        assert_eq!(v["kind"], "tcp");
        assert_eq!(v["address"], "10.0.0.1");
        assert_eq!(v["persistence_timeout"], 300);
        assert_eq!(v["flags"], serde_json::json!(["persistent", "flag-1"]));
        assert_eq!(v["destinations"][0]["tunnel"]["type"], "gue");
        assert_eq!(v["destinations"][0]["tunnel"]["port"], 6080);
        assert_eq!(v["destinations"][0]["stats"]["conns"], 1u64 << 40);
        assert!(v["fwmark"].is_null());
    }
}
