//! `-R --replace` (ipvsadm-rs only): make the kernel's table equal to the restore input by
//! adding, editing and deleting only what differs, never flushing.
//!
//! The input is validated as `-R --check` does, then played on an empty table in memory, as
//! `-C` followed by `-R` would play it on the kernel; a line the kernel would refuse there
//! (a real server of a service the input has not added, a service added twice) is a bad
//! line, and nothing is applied. The resulting rule set goes to ipvs-rs's
//! [`reconcile::replace`], and each change is printed.

use std::io::Write;

use ipvs_rs::reconcile::{self, DestinationId, Table};
use ipvs_rs::{Request, ServiceKey};

use crate::cmdline::{self, Outcome};
use crate::commands;
use crate::error::{Error, Result};
use crate::kernel::{self, Kernel};
use crate::text;

/// Reads the rule lines already split into words, replaces the table, prints what changed;
/// returns the exit status.
pub fn run(k: &Kernel, program: &str, lines: &[Vec<String>], out: &mut dyn Write) -> Result<i32> {
    crate::run::check_lines(program, lines)?;
    let rules = rule_set(program, lines)?;
    let report = reconcile::replace(&k.handle, &rules)
        .map_err(|e| Error::Listing(kernel::message(kernel::Op::GetServices, &e)))?;
    write_report(&report, out)?;
    for failure in &report.failures {
        text::eprintln(&format!("{}: {}", failure.change, failure.error));
    }
    if report.failures.is_empty() {
        Ok(0)
    } else {
        Err(Error::ReplaceFailed {
            count: report.failures.len(),
        })
    }
}

/// The table the input describes, played on an empty table; every line the kernel would
/// refuse is named on stderr.
pub fn rule_set(program: &str, lines: &[Vec<String>]) -> Result<Table> {
    let mut table = Table::new();
    let mut bad = 0;
    for (n, words) in lines.iter().enumerate() {
        if words.is_empty() {
            continue;
        }
        let argv: Vec<&str> = std::iter::once(program)
            .chain(words.iter().map(String::as_str))
            .collect();
        let problem = match cmdline::parse(&argv) {
            Ok(Outcome::Ready(p)) => match commands::request_for(&p) {
                Some((_, request)) => play(&mut table, request).err(),
                None => Some(NOT_A_RULE.to_string()),
            },
            // check_lines has already refused these.
            Ok(Outcome::ScanFailed(msg)) => Some(msg),
            Err(e) => Some(e.to_string()),
        };
        if let Some(problem) = problem {
            bad += 1;
            text::eprintln(&format!("line {}: {}", n + 1, problem.trim_end()));
        }
    }
    if bad > 0 {
        return Err(Error::CheckFailed { count: bad });
    }
    Ok(table)
}

const NOT_A_RULE: &str =
    "--replace takes only -A, -E, -D, -a, -e, -d and -C lines (services and real servers)";

/// Applies one request to the table as the kernel would after `-C`, or says why the kernel
/// would refuse it.
fn play(table: &mut Table, request: Request) -> std::result::Result<(), String> {
    let missing = |key: &ServiceKey| format!("no service {key} in the input above this line");
    match request {
        Request::Flush => {
            *table = Table::new();
        }
        Request::AddService(svc) => {
            if table.contains(&svc.key) {
                return Err(format!("service {} is added twice", svc.key));
            }
            table.insert(svc, []);
        }
        Request::UpdateService(svc) => match table.get_mut(&svc.key) {
            Some(entry) => entry.service = svc,
            None => return Err(missing(&svc.key)),
        },
        Request::DeleteService(key) => {
            table.remove(&key).ok_or_else(|| missing(&key))?;
        }
        Request::AddDestination(key, dest) => {
            let entry = table.get_mut(&key).ok_or_else(|| missing(&key))?;
            let id = DestinationId::of(&dest);
            if entry.destination(&id).is_some() {
                return Err(format!("real server {id} of {key} is added twice"));
            }
            entry.insert_destination(dest);
        }
        Request::UpdateDestination(key, dest) => {
            let entry = table.get_mut(&key).ok_or_else(|| missing(&key))?;
            let id = DestinationId::of(&dest);
            if entry.destination(&id).is_none() {
                return Err(format!("no real server {id} of {key} above this line"));
            }
            entry.insert_destination(dest);
        }
        Request::DeleteDestination(key, dest) => {
            let entry = table.get_mut(&key).ok_or_else(|| missing(&key))?;
            let id = DestinationId::of(&dest);
            entry
                .remove_destination(&id)
                .ok_or_else(|| format!("no real server {id} of {key} above this line"))?;
        }
        _ => return Err(NOT_A_RULE.to_string()),
    }
    Ok(())
}

/// One line per change made, then the totals.
fn write_report(report: &reconcile::Report, out: &mut dyn Write) -> Result<()> {
    let mut text = String::new();
    let lines = report
        .added_services
        .iter()
        .map(|k| format!("added service {k}"))
        .chain(
            report
                .updated_services
                .iter()
                .map(|k| format!("updated service {k}")),
        )
        .chain(
            report
                .deleted_services
                .iter()
                .map(|k| format!("deleted service {k}")),
        )
        .chain(
            report
                .added_destinations
                .iter()
                .map(|(k, d)| format!("added real server {d} to {k}")),
        )
        .chain(
            report
                .updated_destinations
                .iter()
                .map(|(k, d)| format!("updated real server {d} of {k}")),
        )
        .chain(
            report
                .deleted_destinations
                .iter()
                .map(|(k, d)| format!("deleted real server {d} of {k}")),
        );
    for line in lines {
        text.push_str(&line);
        text.push('\n');
    }
    text.push_str(&format!("{report}\n"));
    out.write_all(text.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &str) -> Vec<Vec<String>> {
        input
            .lines()
            .map(|l| l.split_whitespace().map(String::from).collect())
            .collect()
    }

    #[test]
    fn the_input_is_played_on_an_empty_table_as_clear_then_restore_would() {
        let table = rule_set(
            "ipvsadm",
            &lines(
                "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.1 -m\n\
                 -a -t 10.0.0.1:80 -r 10.0.1.2 -g\n-e -t 10.0.0.1:80 -r 10.0.1.2 -g -w 5\n\
                 -A -t 10.0.0.2:80\n-d -t 10.0.0.1:80 -r 10.0.1.1\n-C\n\
                 -A -t 10.0.0.3:80 -s wlc\n-a -t 10.0.0.3:80 -r 10.0.1.3\n-E -t 10.0.0.3:80 -s sh",
            ),
        )
        .unwrap();
        assert_eq!(table.len(), 1, "-C empties what came before");
        let entry = table.iter().next().unwrap();
        assert_eq!(entry.service.scheduler.name(), "sh");
        assert_eq!(entry.destinations().len(), 1);
    }

    #[test]
    fn lines_the_kernel_would_refuse_are_bad() {
        for input in [
            "-a -t 10.0.0.1:80 -r 10.0.1.1",
            "-A -t 10.0.0.1:80\n-A -t 10.0.0.1:80",
            "-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -r 10.0.1.1\n-a -t 10.0.0.1:80 -r 10.0.1.1",
            "-A -t 10.0.0.1:80\n-e -t 10.0.0.1:80 -r 10.0.1.1",
            "-A -t 10.0.0.1:80\n-d -t 10.0.0.1:80 -r 10.0.1.1",
            "-D -t 10.0.0.1:80",
            "-E -t 10.0.0.1:80",
            "--set 1 2 3",
            "-Z",
            "-L -n",
        ] {
            assert!(
                matches!(
                    rule_set("ipvsadm", &lines(input)),
                    Err(Error::CheckFailed { count: 1 })
                ),
                "{input}"
            );
        }
    }
}
