//! How results look on a terminal.

use std::fmt::Write;

use rtsetup::lab::{Check, FailoverRecord, Report, Role, Teardown, Topology};

/// What `lab up` prints: who is where.
pub fn lab_up(topology: &Topology) -> String {
    let mut out = format!("lab {} is up ({:?} mode)\n", topology.name, topology.mode);
    for host in &topology.hosts {
        let role = match host.role {
            Role::Client => "client",
            Role::Director => "director",
            Role::RealServer => "real server",
            Role::Router => "router",
        };
        let links: Vec<String> = host
            .links
            .iter()
            .enumerate()
            .map(|(i, l)| format!("{} {} on {}", host.inner_link(i), l.address, l.bridge))
            .collect();
        let _ = writeln!(out, "  {:<8} {:<12} {}", host.name, role, links.join(", "));
    }
    let _ = writeln!(
        out,
        "  VIP {}:{} in {}, scheduler {}, real servers {} ({})",
        topology.vip,
        topology.port,
        topology
            .directors()
            .map(|h| h.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        topology.scheduler,
        topology
            .real_servers()
            .map(|h| h.address().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        topology.mode.ipvsadm_flag()
    );
    let _ = writeln!(
        out,
        "  recorded in {}/{}: rtsetup lab down removes exactly that",
        rtsetup::lab::STATE_ROOT,
        topology.name
    );
    let _ = writeln!(out, "next: rtsetup lab verify");
    out
}

/// What `lab fail` prints.
pub fn failover(record: &FailoverRecord) -> String {
    let secs = |t: u64| (t as f64 - record.fault_ns as f64) / 1e9;
    let mut out = format!(
        "{} failed ({:?}); recorded {:.1} s\n",
        record.director,
        record.how,
        secs(record.until_ns)
    );
    match (&record.new_holder, record.takeover_ns) {
        (Some(holder), Some(at)) => {
            let _ = writeln!(
                out,
                "  {holder} announced the VIP {:.2} s after the fault",
                secs(at)
            );
        }
        (Some(holder), None) => {
            let _ = writeln!(out, "  {holder} holds the VIP (no announcement captured)");
        }
        _ => {}
    }
    let _ = writeln!(
        out,
        "next: rtsetup lab verify [--pcap DIR], then rtsetup lab restore {}",
        record.director
    );
    out
}

/// What `lab down` prints: what it removed (what it left alone goes to stderr).
pub fn teardown(name: &str, teardown: &Teardown) -> String {
    let mut out = format!(
        "lab {name} is down: {} recorded objects removed\n",
        teardown.removed.len()
    );
    for removed in &teardown.removed {
        let _ = writeln!(out, "  {removed}");
    }
    out
}

/// One line per check.
pub fn checks(checks: &[Check]) -> String {
    let mut out = String::new();
    for check in checks {
        let _ = writeln!(
            out,
            "{:<4} {:<36} {}",
            if check.ok { "ok" } else { "FAIL" },
            check.name,
            check.detail
        );
    }
    out
}

/// The whole verify report: checks, the path, IPVS counters, the verdict.
pub fn report(report: &Report) -> String {
    let mut out = format!("lab {} ({:?} mode)\n\n", report.lab, report.mode);
    out.push_str(&checks(&report.checks));
    if !report.path.is_empty() {
        out.push_str("\npath of the first request, as tcpdump -e -n shows it on each interface:\n");
        let mut last = None;
        for frame in &report.path {
            let at = (&frame.host, &frame.link);
            if last != Some(at) {
                let _ = writeln!(out, "  {} {}:", frame.host, frame.link);
                last = Some(at);
            }
            let _ = writeln!(
                out,
                "    {:<3} {}",
                format!("{:?}", frame.direction).to_lowercase(),
                frame.summary
            );
        }
    }
    if let Some(ipvs) = &report.ipvs {
        let _ = writeln!(
            out,
            "\nIPVS: scheduler {}, {} connections, InPkts {}, OutPkts {}",
            ipvs.scheduler, ipvs.conns, ipvs.in_pkts, ipvs.out_pkts
        );
        for destination in &ipvs.destinations {
            let _ = writeln!(out, "  -> {destination}");
        }
    }
    let failures: Vec<&Check> = report.failures().collect();
    if failures.is_empty() {
        let _ = writeln!(
            out,
            "\nverdict: {:?} forwarding holds ({} checks)",
            report.mode,
            report.checks.len()
        );
    } else {
        let _ = writeln!(
            out,
            "\nverdict: FAILED, {} of {} checks:",
            failures.len(),
            report.checks.len()
        );
        for failure in failures {
            let _ = writeln!(out, "  {}: {}", failure.name, failure.detail);
        }
    }
    out
}
