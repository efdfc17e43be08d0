//! A small IPVS agent: keeps the kernel's table equal to a desired-state file, drains the real
//! servers the file drops, and prints the rates of its services.
//!
//! Usage (as root): `agent STATE_FILE [PERIOD_SECONDS]` (default period 5 s), for example
//! `cargo run -p ipvs-rs --example agent -- state.toml 2`.
//!
//! The file is JSON (`.json`) or TOML (anything else): a `reconcile::Table` in the library's
//! serde form (docs/library.md, "Serde"), its list of services under the key `services`:
//!
//! ```toml
//! [[services]]
//! key = "tcp:10.96.0.1:80"
//! scheduler = "rr"
//! destinations = [
//!     { address = "10.1.0.2", port = 80, forwarding = "masq", weight = 5 },
//!     { address = "10.1.0.3", port = 80, forwarding = "masq" },
//! ]
//! ```
//!
//! Every period it re-reads the file (a file that does not parse is reported and the previous
//! state kept), reconciles, logs each change the kernel accepted with its old and new values
//! (`update destination ... (weight 1 -> 5)`), and prints one `rates` line per service.
//!
//! It owns the services the file has named since it started: one dropped from the file is
//! deleted; nothing else in the table is touched. A real server dropped from a service is
//! drained (weight 0, no new connections) and deleted by the first pass that finds it with no
//! active and no inactive connection.
//!
//! It keeps a `reconcile::Reconciler`: after its first pass it reads only the services it
//! changes or drains, and the whole table again every minute or when the file names a new
//! service; what another writer changed shows as `drift:` lines when it is found.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use ipvs_rs::reconcile::{Policy, Reconciler, Removal, Scope, Table};
use ipvs_rs::{Handle, Netns, ServiceKey};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (path, period) = match args.as_slice() {
        [path] => (PathBuf::from(path), Ok(5.0)),
        [path, secs] => (PathBuf::from(path), secs.parse::<f64>()),
        _ => {
            eprintln!("usage: agent STATE_FILE [PERIOD_SECONDS]");
            return ExitCode::from(2);
        }
    };
    let Some(period) = period
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
    else {
        eprintln!("agent: the period is a number of seconds");
        return ExitCode::from(2);
    };
    // The first state must load: an agent that starts on a broken file would do nothing.
    let (mut text, mut desired) = match load(&path) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("agent: {e}");
            return ExitCode::FAILURE;
        }
    };
    let ipvs = match Handle::open_or_load(&Netns::Current) {
        Ok(ipvs) => ipvs,
        Err(e) => {
            eprintln!("agent: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Reads the whole table once, then only the services it changes (and those draining),
    // and again every minute to repair what other writers did.
    let mut reconciler = Reconciler::new(Scope::keys([]))
        .with_policy(Policy::default().with_removal(Removal::Drain))
        .with_resync_period(Duration::from_secs(60));
    let mut owned = BTreeSet::<ServiceKey>::new();
    loop {
        match load(&path) {
            Ok((new_text, new_state)) if new_text != text => {
                println!("reloaded {}", path.display());
                (text, desired) = (new_text, new_state);
            }
            Ok(_) => {}
            Err(e) => eprintln!("agent: {e}; keeping the previous state"),
        }
        let known = owned.len();
        owned.extend(desired.iter().map(|entry| entry.service.key));
        if owned.len() != known {
            reconciler.set_scope(Scope::keys(owned.iter().copied()));
        }
        match reconciler.sync(&ipvs, &desired) {
            Ok(sync) => {
                for change in &sync.drift {
                    println!("drift: {change}");
                }
                let report = &sync.report;
                for change in &report.changes {
                    println!("{change}");
                }
                for (service, dest) in &report.draining {
                    println!("draining {dest} of {service}");
                }
                for failure in &report.failures {
                    eprintln!("agent: {}", report.describe(failure));
                }
            }
            Err(e) => eprintln!("agent: reading the table: {e}"),
        }
        print_rates(&ipvs, &desired);
        std::thread::sleep(period);
    }
}

/// The file's text and the table it describes.
fn load(path: &Path) -> Result<(String, Table), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let table: Result<Table, String> = match path.extension().and_then(|e| e.to_str()) {
        Some("json") => serde_json::from_str(&text).map_err(|e| e.to_string()),
        _ => toml::from_str(&text).map_err(|e| e.to_string()),
    };
    table
        .map(|table| (text, table))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// One line per desired service: its connection count and the kernel's rate estimates.
fn print_rates(ipvs: &Handle, desired: &Table) {
    for entry in desired {
        match ipvs.service(&entry.service.key) {
            Ok(svc) => {
                let s = svc.stats;
                println!(
                    "rates {} conns={} cps={} inpps={} outpps={} inbps={} outbps={}",
                    svc.key, s.conns, s.cps, s.in_pps, s.out_pps, s.in_bps, s.out_bps
                );
            }
            Err(e) => eprintln!("agent: rates of {}: {e}", entry.service.key),
        }
    }
}
