//! `-L --json`: the table as one JSON document (ipvsadm-rs only).
//!
//! The schema is documented in docs/ipvsadm-rs.md: ipvs-rs's own serde forms of the services
//! and real servers (docs/library.md), in ipvsadm's listing order. Counters are the kernel's
//! full 64-bit values (the text listing keeps ipvsadm's 32-bit cut for real servers);
//! addresses are always numeric.

use std::io::Write;

use ipvs_rs::{Destination, Info, Service, ServiceFlags};
use serde::Serialize;

use crate::checks::opt;
use crate::cmdline::{fmt, Parsed};
use crate::error::{Error, Result};
use crate::kernel::{self, message, Kernel, Op};
use crate::sort::{compare_dests, compare_services, merge_sort};

/// The whole document: IPVS's version and table size, then the services.
#[derive(Debug, Serialize)]
struct Document<'a> {
    #[serde(flatten)]
    info: &'a Info,
    services: Vec<Entry>,
}

/// One service with its real servers.
#[derive(Debug, Serialize)]
struct Entry {
    #[serde(flatten)]
    service: Service,
    destinations: Vec<Destination>,
}

fn entry(svc: &Service, mut dests: Vec<Destination>, sort: bool) -> Entry {
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
    // The kernel sets HASHED on every service it holds; ipvsadm never shows it.
    let mut service = svc.clone();
    service.flags.remove(ServiceFlags::HASHED);
    Entry {
        service,
        destinations: dests,
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
        info: &k.info,
        services: Vec::with_capacity(services.len()),
    };
    for item in k.handle.with_destinations(services) {
        let (svc, dests) = item.map_err(|e| Error::Listing(message(Op::GetDests, &e)))?;
        doc.services.push(entry(&svc, dests, sort));
    }
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(|e| Error::Io(e.into()))?;
    out.write_all(b"\n")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipvs_rs::{Forwarding, ServiceKey, Tunnel};
    use std::net::Ipv4Addr;

    #[test]
    fn service_document_shape() {
        let key = ServiceKey::tcp(Ipv4Addr::new(10, 0, 0, 1), 80);
        let mut svc = Service::new(key);
        svc.flags = ServiceFlags::from_bits_retain(0x1 | 0x2 | 0x8);
        svc.timeout = 300;
        let mut d = Destination::new(Ipv4Addr::new(10, 0, 0, 2), 80);
        d.forwarding = Forwarding::Tunnel(Tunnel::gue(6080));
        d.stats.conns = 1 << 40;
        let v = serde_json::to_value(entry(&svc, vec![d], true)).unwrap();
        assert_eq!(v["key"], "tcp:10.0.0.1:80");
        assert_eq!(v["timeout"], 300);
        assert_eq!(v["flags"], serde_json::json!(["persistent", "flag-1"]));
        assert_eq!(v["destinations"][0]["forwarding"], "tunnel:gue:6080");
        assert_eq!(v["destinations"][0]["stats"]["conns"], 1u64 << 40);
    }
}
