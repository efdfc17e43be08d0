//! Running one parsed command line against the kernel.

use std::io::Write;

use crate::checks::opt;
use crate::cmdline::{fmt, Parsed};
use crate::conn::list_connections;
use crate::entry::{Command, DAEMON_BACKUP, DAEMON_MASTER};
use crate::error::{Error, Result};
use crate::json;
use crate::kernel::{self, message, Kernel, Op};
use crate::listing::{service_entry, title, version_header, DestRow, ServiceRow};
use crate::resolve::{ntop, AF_INET, AF_INET6};
use crate::sort::{compare_services, merge_sort};
use ipvs_rs::Request;

/// The request a state-changing command line sends (edits carry the complete service or
/// real server, so what is not given goes back to the defaults, as with ipvsadm; a daemon
/// stop carries its sync id), and the call whose wording its errors take; `None` for
/// listings and `-R`.
pub fn request_for(p: &Parsed) -> Option<(Op, Request)> {
    let e = &p.entry;
    let svc = || kernel::to_kernel_service(&e.svc);
    let key = || kernel::key_of(&e.svc);
    let dest = || kernel::to_kernel_dest(&e.dest);
    Some(match e.cmd {
        Command::Flush => (Op::Other, Request::Flush),
        Command::Add => (Op::AddService, Request::AddService(svc())),
        Command::Edit => (Op::UpdateService, Request::UpdateService(svc())),
        Command::Delete => (Op::DeleteService, Request::DeleteService(key())),
        Command::Zero => (
            Op::Zero,
            Request::Zero(kernel::names_a_service(&e.svc).then(key)),
        ),
        Command::AddDest => (Op::AddDest, Request::AddDestination(key(), dest())),
        Command::EditDest => (Op::UpdateDest, Request::UpdateDestination(key(), dest())),
        Command::DeleteDest => (Op::DeleteDest, Request::DeleteDestination(key(), dest())),
        Command::Timeout => (
            Op::Other,
            Request::SetTimeouts(kernel::to_kernel_timeouts(&e.timeouts)),
        ),
        Command::StartDaemon => (
            Op::StartDaemon,
            Request::StartDaemon(kernel::to_kernel_daemon(&e.daemon)),
        ),
        Command::StopDaemon => (
            Op::StopDaemon,
            Request::StopDaemon(kernel::to_kernel_daemon(&e.daemon)),
        ),
        Command::List | Command::Save | Command::Restore | Command::None => return None,
    })
}

/// Prints a failed request's message as ipvsadm does and gives the line's result.
pub fn report(op: Op, result: &ipvs_rs::Result<()>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(err) => {
            crate::text::eprintln(&message(op, err));
            -1
        }
    }
}

/// Runs a kernel-changing or listing command; returns ipvsadm's result for the line
/// (0, or -1 after printing a kernel error).
pub fn execute(k: &Kernel, p: &Parsed, out: &mut dyn Write) -> Result<i32> {
    if let Some((op, request)) = request_for(p) {
        return Ok(report(op, &k.handle.execute(&request)));
    }
    match p.entry.cmd {
        Command::List => list(k, p, out)?,
        Command::Save => list_all(k, p.format | fmt::RULE, out)?,
        _ => {}
    }
    Ok(0)
}

/// Whether `p` lists the connection table, which needs no IPVS handle.
pub fn lists_connections(p: &Parsed) -> bool {
    p.entry.cmd == Command::List && p.has(opt::CONNECTION) && !p.has(opt::JSON)
}

/// `-L -c`: the connection table, from its /proc file.
pub fn connections(p: &Parsed, out: &mut dyn Write) -> Result<()> {
    let (text, err) = list_connections(
        p.format & fmt::NUMERIC != 0,
        p.format & fmt::PERSISTENTCONN != 0,
    );
    out.write_all(text.as_bytes())?;
    err.map_or(Ok(()), Err)
}

fn list(k: &Kernel, p: &Parsed, out: &mut dyn Write) -> Result<()> {
    if p.has(opt::JSON) {
        return json::write_table(k, p, out);
    }
    if p.has(opt::CONNECTION) {
        return connections(p, out);
    }
    if p.has(opt::SERVICE) {
        return list_service(k, p, out);
    }
    if p.has(opt::TIMEOUT) {
        let t = k
            .handle
            .timeouts()
            .map_err(|_| Error::Listing(String::new()))?;
        writeln!(
            out,
            "Timeout (tcp tcpfin udp): {} {} {}",
            t.tcp as i32, t.tcp_fin as i32, t.udp as i32
        )?;
        return Ok(());
    }
    if p.has(opt::DAEMON) {
        return list_daemons(k, out);
    }
    list_all(k, p.format, out)
}

fn list_daemons(k: &Kernel, out: &mut dyn Write) -> Result<()> {
    let daemons = k
        .handle
        .daemons()
        .map_err(|_| Error::Listing(String::new()))?;
    for d in daemons.iter().take(2) {
        let state = d.state.bits();
        let kind = if state & DAEMON_MASTER != 0 {
            "master"
        } else if state & DAEMON_BACKUP != 0 {
            "backup"
        } else {
            continue;
        };
        let mut line = format!(
            "{kind} sync daemon (mcast={}, syncid={}",
            d.interface, d.sync_id
        );
        if let Some(m) = d.sync_maxlen.filter(|m| *m != 0) {
            line.push_str(&format!(", maxlen={m}"));
        }
        if let Some(group) = d.mcast_group {
            let (af, raw) = match group {
                std::net::IpAddr::V4(a) => {
                    let mut raw = [0; 16];
                    raw[..4].copy_from_slice(&a.octets());
                    (AF_INET, raw)
                }
                std::net::IpAddr::V6(a) => (AF_INET6, a.octets()),
            };
            line.push_str(&format!(", group={}", ntop(af, &raw)));
        }
        if let Some(port) = d.mcast_port.filter(|p| *p != 0) {
            line.push_str(&format!(", port={port}"));
        }
        if let Some(ttl) = d.mcast_ttl.filter(|t| *t != 0) {
            line.push_str(&format!(", ttl={ttl}"));
        }
        writeln!(out, "{line})")?;
    }
    Ok(())
}

/// The real servers of a service, as listing rows.
pub fn dest_rows(k: &Kernel, key: &ipvs_rs::ServiceKey) -> Result<Vec<DestRow>> {
    let dests = k
        .handle
        .destinations(key)
        .map_err(|e| Error::Listing(message(Op::GetDests, &e)))?;
    Ok(dests.iter().map(kernel::dest_row).collect())
}

/// Every service, with its listing row, in ipvsadm's order unless `--nosort`.
pub fn service_rows(k: &Kernel, format: u32) -> Result<Vec<(ipvs_rs::Service, ServiceRow)>> {
    let services = k
        .handle
        .services()
        .map_err(|e| Error::Listing(message(Op::GetServices, &e)))?;
    let mut rows: Vec<(ipvs_rs::Service, ServiceRow)> = services
        .into_iter()
        .map(|s| {
            let row = kernel::service_row(&s);
            (s, row)
        })
        .collect();
    if format & fmt::NOSORT == 0 {
        merge_sort(
            &mut rows,
            &|a: &(ipvs_rs::Service, ServiceRow), b: &(ipvs_rs::Service, ServiceRow)| {
                compare_services(&a.1.svc, &b.1.svc)
            },
        );
    }
    Ok(rows)
}

fn list_all(k: &Kernel, format: u32, out: &mut dyn Write) -> Result<()> {
    if format & fmt::RULE == 0 {
        out.write_all(version_header(k.info.version.code(), k.info.conn_table_size).as_bytes())?;
    }
    let (services, rows): (Vec<_>, Vec<_>) = service_rows(k, format)?.into_iter().unzip();
    out.write_all(title(format).as_bytes())?;
    let mut text = String::new();
    for (entry, row) in k.handle.with_destinations(services).zip(rows) {
        let (_, dests) = entry.map_err(|e| Error::Listing(message(Op::GetDests, &e)))?;
        let mut dests: Vec<DestRow> = dests.iter().map(kernel::dest_row).collect();
        text.clear();
        service_entry(&mut text, &row, &mut dests, format);
        out.write_all(text.as_bytes())?;
    }
    Ok(())
}

fn list_service(k: &Kernel, p: &Parsed, out: &mut dyn Write) -> Result<()> {
    let key = kernel::key_of(&p.entry.svc);
    let svc = k
        .handle
        .service(&key)
        .map_err(|e| Error::Listing(message(Op::GetService, &e)))?;
    out.write_all(title(p.format).as_bytes())?;
    let row = kernel::service_row(&svc);
    let mut dests = dest_rows(k, &svc.key)?;
    let mut text = String::new();
    service_entry(&mut text, &row, &mut dests, p.format);
    out.write_all(text.as_bytes())?;
    Ok(())
}
