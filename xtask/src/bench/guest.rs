//! The benchmark driver that runs inside the VM: `xtask bench-guest ...`.
//!
//! Every measured run starts in a fresh network namespace, so each side meets an empty IPVS
//! table of its own; runs of the two sides alternate, so drift in the guest (page cache, the
//! host's load) hits both alike. Outputs are checked (line counts, the reconcile's report):
//! a benchmark of a side that did the wrong thing fails instead of reporting a time.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::measure::{measure, Sample};
use super::report::{Key, Results, Side};
use super::worker::Workload;
use super::workload;
use crate::error::{Error, Result};
use crate::host;

/// What to run, as the host side passes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Table sizes, in services of four real servers.
    pub sizes: Vec<u32>,
    /// Measured runs per side and size.
    pub runs: u32,
    /// The reference ipvsadm.
    pub ipvsadm: PathBuf,
    /// ipvsadm-rs, or `None` to bench the library only.
    pub ipvsadm_rs: Option<PathBuf>,
    /// The table size of the reconcile benchmark (default: the largest size).
    pub reconcile: Option<u32>,
    /// Whether to run only the control-loop benchmarks (reload, cached sync, whole-table
    /// read).
    pub scale_only: bool,
}

impl Options {
    /// The arguments that make [`parse`] return these options.
    pub fn to_args(&self) -> Vec<String> {
        let sizes: Vec<String> = self.sizes.iter().map(u32::to_string).collect();
        let mut args = vec![
            "--sizes".into(),
            sizes.join(","),
            "--runs".into(),
            self.runs.to_string(),
            "--ipvsadm".into(),
            self.ipvsadm.display().to_string(),
        ];
        if let Some(path) = &self.ipvsadm_rs {
            args.extend(["--ipvsadm-rs".into(), path.display().to_string()]);
        }
        if let Some(size) = self.reconcile {
            args.extend(["--reconcile".into(), size.to_string()]);
        }
        if self.scale_only {
            args.extend(["--scale-only".into(), "1".into()]);
        }
        args
    }
}

/// Parses the driver's arguments.
pub fn parse(args: &[String]) -> Result<Options> {
    let mut options = Options {
        sizes: Vec::new(),
        runs: 1,
        ipvsadm: PathBuf::from("/usr/sbin/ipvsadm"),
        ipvsadm_rs: None,
        reconcile: None,
        scale_only: false,
    };
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let value = rest
            .next()
            .ok_or_else(|| Error::Usage(format!("{arg} needs a value")))?;
        match arg.as_str() {
            "--sizes" => options.sizes = super::parse_sizes(value)?,
            "--runs" => options.runs = super::parse_count("--runs", value)?,
            "--ipvsadm" => options.ipvsadm = PathBuf::from(value),
            "--ipvsadm-rs" => options.ipvsadm_rs = Some(PathBuf::from(value)),
            "--reconcile" => options.reconcile = Some(super::parse_count("--reconcile", value)?),
            "--scale-only" => options.scale_only = value == "1",
            other => {
                return Err(Error::Usage(format!(
                    "unknown option {other} for bench-guest"
                )))
            }
        }
    }
    if options.sizes.is_empty() {
        return Err(Error::Usage("bench-guest needs --sizes".into()));
    }
    Ok(options)
}

/// Runs the benchmark and prints its report (Markdown) on stdout.
pub fn run(options: &Options) -> Result<i32> {
    host::output(Command::new("modprobe").arg("ip_vs"))?;
    let me = std::env::current_exe().map_err(Error::io("finding the xtask binary"))?;
    let mut results = Results::default();
    results.environment = environment()?;
    warm_up(options, &me)?;
    results.rss_floor_kib = measure(&mut Command::new("true"))?.sample.max_rss_kib;
    if !options.scale_only {
        classic(options, &me, &mut results)?;
    }
    let scale = super::scale::run(options, &me)?;
    if options.scale_only {
        println!("Environment: {}", results.environment);
    } else {
        print!("{}", results.markdown(options.runs));
    }
    print!("{scale}");
    Ok(0)
}

/// The CLI comparison, the batched apply and the reconcile.
fn classic(options: &Options, me: &Path, results: &mut Results) -> Result<()> {
    for &size in &options.sizes {
        let rules = PathBuf::from(format!("/tmp/bench-{size}.rules"));
        write_rules(&rules, size)?;
        for run in 0..options.runs {
            if let Some(rs) = &options.ipvsadm_rs {
                let mut sides = [(Side::Reference, &options.ipvsadm), (Side::Target, rs)];
                if run % 2 == 1 {
                    sides.reverse();
                }
                for (side, tool) in sides {
                    eprintln!("bench: {size} services, run {}, {}", run + 1, side.name());
                    cli_run(tool, &rules, size, side, results)?;
                }
            }
            let mut workloads = [Workload::ApplySingle, Workload::ApplyBatched];
            if run % 2 == 1 {
                workloads.reverse();
            }
            for workload in workloads {
                eprintln!(
                    "bench: {size} services, run {}, {}",
                    run + 1,
                    workload.name()
                );
                fresh_netns()?;
                let done = measure(worker(me, workload, size).stdout(Stdio::piped()))?;
                results.add(Key::Library(size, workload), done.sample);
                check_save(
                    &options.ipvsadm,
                    workload::save_lines(size),
                    "the applied table",
                )?;
                host::output(Command::new(&options.ipvsadm).arg("-C"))?;
            }
        }
        fs::remove_file(&rules).map_err(Error::io(format!("removing {}", rules.display())))?;
    }
    let size = options
        .reconcile
        .or_else(|| options.sizes.iter().copied().max())
        .unwrap_or(0);
    for run in 0..options.runs {
        eprintln!("bench: reconcile of {size} services, run {}", run + 1);
        fresh_netns()?;
        measure(worker(me, Workload::ApplyBatched, size).stdout(Stdio::piped()))?;
        let done = measure(worker(me, Workload::Reconcile, size).stdout(Stdio::piped()))?;
        results.add(Key::Library(size, Workload::Reconcile), done.sample);
        results.reconcile_outcome = done.stdout.trim().to_string();
        host::output(Command::new(&options.ipvsadm).arg("-C"))?;
    }
    Ok(())
}

/// One run of a CLI: restore, list, save and clear, each measured, in a fresh namespace.
fn cli_run(tool: &Path, rules: &Path, size: u32, side: Side, results: &mut Results) -> Result<()> {
    fresh_netns()?;
    let input = File::open(rules).map_err(Error::io(format!("opening {}", rules.display())))?;
    let restore = measure(Command::new(tool).arg("-R").stdin(input))?;
    results.add(Key::Cli(size, "restore (-R)", side), restore.sample);
    let list = measure_to_file(Command::new(tool).arg("-Ln"))?;
    check_lines(OUTPUT, workload::list_lines(size), "-Ln")?;
    results.add(Key::Cli(size, "list (-Ln)", side), list);
    let saved = measure_to_file(Command::new(tool).arg("-Sn"))?;
    check_lines(OUTPUT, workload::save_lines(size), "-Sn")?;
    results.add(Key::Cli(size, "save (-Sn)", side), saved);
    let clear = measure(Command::new(tool).arg("-C"))?;
    results.add(Key::Cli(size, "clear (-C)", side), clear.sample);
    check_save(tool, 0, "-Sn after -C")
}

/// Where measured commands write their output: tmpfs, as a script's redirect would.
const OUTPUT: &str = "/tmp/bench.out";

/// Measures a command whose stdout goes to [`OUTPUT`].
fn measure_to_file(command: &mut Command) -> Result<Sample> {
    let file = File::create(OUTPUT).map_err(Error::io(format!("creating {OUTPUT}")))?;
    Ok(measure(command.stdout(file))?.sample)
}

/// Checks that `tool -Sn` prints `want` lines.
fn check_save(tool: &Path, want: usize, what: &str) -> Result<()> {
    let file = File::create(OUTPUT).map_err(Error::io(format!("creating {OUTPUT}")))?;
    host::output(Command::new(tool).arg("-Sn").stdout(file))?;
    check_lines(OUTPUT, want, what)
}

/// Checks the line count of the file at `path`, reading it in small pieces (see
/// [`workload::write_restore_input`] for why the driver's memory must stay small).
fn check_lines(path: &str, want: usize, what: &str) -> Result<()> {
    let mut reader =
        BufReader::new(File::open(path).map_err(Error::io(format!("opening {path}")))?);
    let mut got = 0;
    let mut start = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(Error::io(format!("reading {path}")))?;
        if n == 0 {
            break;
        }
        if got < 5 {
            start.push(String::from_utf8_lossy(&line).trim_end().to_string());
        }
        got += 1;
    }
    if got == want {
        Ok(())
    } else {
        Err(Error::Failed(format!(
            "{what} printed {got} lines, expected {want}; the start of it:\n{}",
            start.join("\n")
        )))
    }
}

pub(super) fn write_rules(path: &Path, services: u32) -> Result<()> {
    let file = File::create(path).map_err(Error::io(format!("creating {}", path.display())))?;
    let mut out = BufWriter::new(file);
    workload::write_restore_input(services, &mut out)
        .and_then(|()| out.flush())
        .map_err(Error::io(format!("writing {}", path.display())))
}

pub(super) fn worker(me: &Path, workload: Workload, size: u32) -> Command {
    let mut command = Command::new(me);
    command.args(["bench-worker", workload.name(), &size.to_string()]);
    command
}

/// One unmeasured small run of each side, so that binaries are in the page cache (they come
/// over 9p) and the scheduler module is loaded before anything is timed.
fn warm_up(options: &Options, me: &Path) -> Result<()> {
    let size = 100;
    let rules = Path::new("/tmp/bench-warm-up.rules");
    write_rules(rules, size)?;
    let mut sink = Results::default();
    for tool in std::iter::once(&options.ipvsadm).chain(&options.ipvsadm_rs) {
        cli_run(tool, rules, size, Side::Reference, &mut sink)?;
    }
    fresh_netns()?;
    measure(worker(me, Workload::ApplyBatched, size).stdout(Stdio::piped()))?;
    host::output(Command::new(&options.ipvsadm).arg("-C"))?;
    fs::remove_file(rules).map_err(Error::io("removing the warm-up"))
}

/// Moves this process (its only thread) into a new network namespace with `lo` up: IPVS
/// refuses real servers while lo is down. The previous namespace, its table already cleared,
/// is freed.
pub(super) fn fresh_netns() -> Result<()> {
    // SAFETY: unshare only changes the calling thread's namespace membership.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        return Err(Error::io("creating a network namespace")(
            std::io::Error::last_os_error(),
        ));
    }
    host::output(Command::new("ip").args(["link", "set", "lo", "up"])).map(drop)
}

/// The guest's kernel, CPU and memory, for the report.
fn environment() -> Result<String> {
    let kernel = host::stdout(Command::new("uname").args(["-srm"]))?;
    let (cpus, model) = host::cpus();
    let meminfo =
        fs::read_to_string("/proc/meminfo").map_err(Error::io("reading /proc/meminfo"))?;
    let mem = meminfo.lines().next().unwrap_or("").trim().to_string();
    let ipvsadm = host::stdout(Command::new("ipvsadm").arg("-v")).unwrap_or_default();
    Ok(format!(
        "guest kernel {}, {cpus} vCPU ({model}), {mem}; {}",
        kernel.trim(),
        ipvsadm.trim()
    ))
}
