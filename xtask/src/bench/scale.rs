//! The control-loop benchmarks (issue 13), run by the guest driver after the others:
//!
//! - **reload**: a table reloaded in place by `-C` then `-R` (ipvsadm and ipvsadm-rs) against
//!   `ipvsadm-rs -R --replace`, with how long services were missing meanwhile;
//! - **sync**: the cached [`Reconciler`](ipvs_rs::reconcile::Reconciler) applying a 1 % change
//!   against a full reconcile of the same change, and a resync after another writer changed
//!   ten objects (measured inside one `bench-worker sync` process);
//! - **read**: the whole-table read (`Handle::table`) against `ipvsadm-rs -Ln` and
//!   `cat /proc/net/ip_vs`.

use std::fmt::Write as _;
use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ipvs_rs::Handle;

use super::guest::{fresh_netns, worker, write_rules, Options};
use super::measure::{measure, Sample};
use super::worker::Workload;
use crate::error::{Error, Result};
use crate::host;

/// The largest table reloaded with `-C` then `-R`: after `-C`, every add walks the kernel's
/// destination trash, so ipvsadm's reload of 50,000 x 4 would take the better part of an
/// hour under TCG.
const RELOAD_MAX: u32 = 10_000;

/// Runs the three benchmarks at every size and returns their Markdown tables.
pub fn run(options: &Options, me: &Path) -> Result<String> {
    let mut reload = String::new();
    let mut sync = String::new();
    let mut read = String::new();
    let reload_size = options
        .sizes
        .iter()
        .copied()
        .filter(|&s| s <= RELOAD_MAX)
        .max();
    for &size in &options.sizes {
        for run in 0..options.runs {
            if Some(size) == reload_size {
                if let Some(rs) = &options.ipvsadm_rs {
                    reload_run(options, rs, me, size, run, &mut reload)?;
                }
            }
            eprintln!("bench: {size} services, run {}, cached sync", run + 1);
            fresh_netns()?;
            measure(worker(me, Workload::ApplyBatched, size).stdout(Stdio::piped()))?;
            let done = measure(worker(me, Workload::Sync, size).stdout(Stdio::piped()))?;
            let _ = writeln!(sync, "| {size} | {} |", done.stdout.trim());
            eprintln!("bench: {size} services, run {}, whole-table read", run + 1);
            read_run(options, me, size, run, &mut read)?;
            host::output(Command::new(&options.ipvsadm).arg("-C"))?;
        }
    }
    let mut out = String::new();
    if !reload.is_empty() {
        out.push_str(
            "\n#### Reload in place: -C then -R against -R --replace\n\n\
             | services x4 | tool | reload | wall | user | sys | services missing for |\n\
             |---|---|---|---|---|---|---|\n",
        );
        out.push_str(&reload);
    }
    out.push_str(
        "\n#### Cached sync of a 1 % change against a full reconcile, and a resync after drift\n\n\
         | services x4 | full reconcile | first sync (whole read) | cached sync | ratio | \
         idle cached sync | drift resync | drift found | drift repaired |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    out.push_str(&sync);
    out.push_str(
        "\n#### Whole-table read\n\n\
         | services x4 | Handle::table() | ipvsadm-rs -Ln | cat /proc/net/ip_vs | \
         table() / /proc | table() / -Ln |\n\
         |---|---|---|---|---|---|\n",
    );
    out.push_str(&read);
    Ok(out)
}

/// One reload by each way, each in a fresh namespace whose table was loaded first (not
/// timed), with a poller counting services meanwhile.
fn reload_run(
    options: &Options,
    rs: &Path,
    me: &Path,
    size: u32,
    run: u32,
    out: &mut String,
) -> Result<()> {
    let rules = std::path::PathBuf::from(format!("/tmp/bench-reload-{size}.rules"));
    write_rules(&rules, size)?;
    let mut ways: Vec<(&str, &Path, bool)> = vec![
        ("ipvsadm", &options.ipvsadm, false),
        ("ipvsadm-rs", rs, false),
        ("ipvsadm-rs", rs, true),
    ];
    if run % 2 == 1 {
        ways.reverse();
    }
    for (name, tool, replace) in ways {
        let how = if replace {
            "-R --replace"
        } else {
            "-C then -R"
        };
        eprintln!(
            "bench: {size} services, run {}, reload by {name} {how}",
            run + 1
        );
        fresh_netns()?;
        measure(worker(me, Workload::ApplyBatched, size).stdout(Stdio::piped()))?;
        let poller = Poller::start(size)?;
        let mut total = Sample {
            wall: Duration::ZERO,
            user: Duration::ZERO,
            sys: Duration::ZERO,
            max_rss_kib: 0,
        };
        let mut add = |s: Sample| {
            total.wall += s.wall;
            total.user += s.user;
            total.sys += s.sys;
        };
        let input =
            || File::open(&rules).map_err(Error::io(format!("opening {}", rules.display())));
        if replace {
            let done = measure(
                Command::new(tool)
                    .args(["-R", "--replace"])
                    .stdin(input()?)
                    .stdout(Stdio::piped()),
            )?;
            add(done.sample);
        } else {
            add(measure(Command::new(tool).arg("-C"))?.sample);
            add(measure(Command::new(tool).arg("-R").stdin(input()?))?.sample);
        }
        let missing = poller.stop();
        let check = host::stdout(Command::new(rs).arg("-Sn"))?;
        let lines = check.lines().count();
        if lines != super::workload::save_lines(size) {
            return Err(Error::Failed(format!(
                "after the reload by {name} {how}, -Sn printed {lines} lines"
            )));
        }
        let _ = writeln!(
            out,
            "| {size} | {name} | {how} | {:.3} | {:.3} | {:.3} | {} |",
            total.wall.as_secs_f64(),
            total.user.as_secs_f64(),
            total.sys.as_secs_f64(),
            match missing {
                Some(span) => format!("{:.3}", span.as_secs_f64()),
                None => "never".into(),
            }
        );
        host::output(Command::new(rs).arg("-C"))?;
    }
    std::fs::remove_file(&rules).map_err(Error::io("removing the reload rules"))
}

/// Polls the kernel's service count of this namespace on its own thread, noting when it is
/// below the full table.
struct Poller {
    stop: std::sync::Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Option<Duration>>,
}

impl Poller {
    /// Starts polling; the handle is opened here, so it lives in the caller's namespace.
    fn start(size: u32) -> Result<Self> {
        let ipvs = Handle::new().map_err(|e| Error::Failed(format!("ipvs-rs: {e}")))?;
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut first: Option<Instant> = None;
            let mut last = None;
            while !flag.load(Ordering::Relaxed) {
                let now = Instant::now();
                if ipvs.service_count().map_or(true, |n| n < size) {
                    first.get_or_insert(now);
                    last = Some(now);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            first.zip(last).map(|(a, b)| b - a)
        });
        Ok(Poller { stop, thread })
    }

    /// Stops polling; how long services were missing, from the first poll that saw fewer
    /// than the table to the last, or `None` if no poll did.
    fn stop(self) -> Option<Duration> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().ok().flatten()
    }
}

/// The three reads of the table the sync left (the original one), alternating their order.
fn read_run(options: &Options, me: &Path, size: u32, run: u32, out: &mut String) -> Result<()> {
    const OUTPUT: &str = "/tmp/bench-read.out";
    let mut reads: Vec<(&str, Command)> = vec![("table", worker(me, Workload::Read, size))];
    if let Some(rs) = &options.ipvsadm_rs {
        let mut list = Command::new(rs);
        list.arg("-Ln");
        reads.push(("list", list));
    }
    let mut cat = Command::new("cat");
    cat.arg("/proc/net/ip_vs");
    reads.push(("proc", cat));
    if run % 2 == 1 {
        reads.reverse();
    }
    let mut walls = std::collections::BTreeMap::new();
    for (name, mut command) in reads {
        let file = File::create(OUTPUT).map_err(Error::io(format!("creating {OUTPUT}")))?;
        let done = measure(command.stdout(file))?;
        let text = std::fs::read_to_string(OUTPUT).map_err(Error::io("reading a read's output"))?;
        let want = match name {
            "table" => 1,
            "list" => super::workload::list_lines(size),
            _ => super::workload::list_lines(size),
        };
        if text.lines().count() != want {
            return Err(Error::Failed(format!(
                "the {name} read printed {} lines, expected {want}",
                text.lines().count()
            )));
        }
        walls.insert(name, done.sample.wall.as_secs_f64());
    }
    let get = |name| walls.get(name).copied();
    let cell = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.3}"));
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.1}x", a / b),
        _ => "-".into(),
    };
    let _ = writeln!(
        out,
        "| {size} | {} | {} | {} | {} | {} |",
        cell(get("table")),
        cell(get("list")),
        cell(get("proc")),
        ratio(get("table"), get("proc")),
        ratio(get("table"), get("list")),
    );
    Ok(())
}
