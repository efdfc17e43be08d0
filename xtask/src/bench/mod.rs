//! `cargo xtask bench`: ipvsadm 1.31 against ipvsadm-rs, and the library's batched apply and
//! reconcile, measured inside the VM lane. See docs/performance.md.
//!
//! The host side builds release binaries and boots one VM; inside it, `xtask bench-guest`
//! drives the runs and `xtask bench-worker` is the measured process of the library's
//! workloads. The Markdown report goes to stdout and to `target/bench/report.md`.

mod guest;
mod measure;
mod report;
mod scale;
mod worker;
mod workload;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::flags::Flags;
use crate::{host, vm};

/// Table sizes benchmarked unless `--sizes` says otherwise.
const DEFAULT_SIZES: [u32; 3] = [1000, 10_000, 50_000];
/// Measured runs per side unless `--runs` says otherwise.
const DEFAULT_RUNS: u32 = 3;
/// The default limit for the whole VM boot: the default benchmark takes well over an hour
/// under TCG.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3 * 3600);

/// What `cargo xtask bench` was asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// The VM to run in.
    pub vm: vm::Options,
    /// Table sizes.
    pub sizes: Vec<u32>,
    /// Runs per side.
    pub runs: u32,
    /// Whether to compare the CLIs (else only the library is benchmarked).
    pub cli: bool,
    /// The reconcile table size, if not the largest.
    pub reconcile: Option<u32>,
    /// Whether to run only the control-loop benchmarks.
    pub scale_only: bool,
}

/// Parses `[--sizes N,N,...] [--runs N] [--reconcile N] [--no-cli] [--scale-only]
/// [--kernel 6.1|6.12] [--timeout SECS]`.
pub fn parse_args(args: &[String]) -> Result<Options> {
    let mut options = Options {
        vm: vm::Options {
            timeout: DEFAULT_TIMEOUT,
            ..vm::Options::default()
        },
        sizes: DEFAULT_SIZES.to_vec(),
        runs: DEFAULT_RUNS,
        cli: true,
        reconcile: None,
        scale_only: false,
    };
    let mut flags = Flags::new(args, "bench");
    while let Some(arg) = flags.next_arg() {
        if flags.vm_flag(arg, &mut options.vm)? {
            continue;
        }
        match arg {
            "--sizes" => options.sizes = parse_sizes(flags.value(arg)?)?,
            "--runs" => options.runs = parse_count(arg, flags.value(arg)?)?,
            "--reconcile" => options.reconcile = Some(parse_count(arg, flags.value(arg)?)?),
            "--no-cli" => options.cli = false,
            "--scale-only" => options.scale_only = true,
            other => return Err(flags.unknown(other)),
        }
    }
    Ok(options)
}

/// Parses a comma-separated list of table sizes.
fn parse_sizes(text: &str) -> Result<Vec<u32>> {
    let mut sizes = text
        .split(',')
        .map(|n| parse_count("--sizes", n))
        .collect::<Result<Vec<u32>>>()?;
    sizes.sort_unstable();
    sizes.dedup();
    Ok(sizes)
}

/// Parses a positive count; service counts stay within the generated address ranges.
fn parse_count(flag: &str, text: &str) -> Result<u32> {
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=1_000_000).contains(n))
        .ok_or_else(|| {
            Error::Usage(format!(
                "{flag} wants numbers from 1 to 1000000, not {text:?}"
            ))
        })
}

/// Builds the release binaries, runs the benchmark in the VM, and saves the report.
pub fn run(options: &Options, root: &Path) -> Result<i32> {
    let mut build = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    build.args(["build", "--release", "--quiet", "-p", "xtask"]);
    if options.cli {
        build.args(["-p", "ipvsadm-rs"]);
    }
    host::output(build.current_dir(root))?;
    let release = target_dir(root).join("release");
    let guest = guest::Options {
        sizes: options.sizes.clone(),
        runs: options.runs,
        ipvsadm: PathBuf::from("/usr/sbin/ipvsadm"),
        ipvsadm_rs: options.cli.then(|| release.join("ipvsadm-rs")),
        reconcile: options.reconcile,
        scale_only: options.scale_only,
    };
    host::ensure_packages(&["ipvsadm", "iproute2"])?;
    let mut command = vec![
        release.join("xtask").display().to_string(),
        "bench-guest".to_string(),
    ];
    command.extend(guest.to_args());
    let transcript = vm::Transcript::default();
    let code = vm::run(&options.vm, root, &command, Some(transcript.clone()))?;
    if code != 0 {
        return Ok(code);
    }
    let stdout = transcript
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone();
    let dir = target_dir(root).join("bench");
    fs::create_dir_all(&dir).map_err(Error::io(format!("creating {}", dir.display())))?;
    let path = dir.join("report.md");
    let mut text = format!(
        "Host: {}; kernel lane {}.\n\n",
        host_cpu(),
        options.vm.kernel
    );
    text.push_str(&String::from_utf8_lossy(&stdout));
    fs::write(&path, text).map_err(Error::io(format!("writing {}", path.display())))?;
    eprintln!("xtask bench: report written to {}", path.display());
    Ok(0)
}

/// Runs the in-guest driver (`bench-guest`) or a measured library workload (`bench-worker`).
pub fn run_in_guest(command: &str, args: &[String]) -> Result<i32> {
    match command {
        "bench-guest" => guest::run(&guest::parse(args)?),
        _ => worker::run(args),
    }
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

/// The host's CPU model and count, from /proc/cpuinfo.
fn host_cpu() -> String {
    let (cpus, model) = host::cpus();
    format!("{cpus} x {model}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn defaults_and_options() {
        let options = parse_args(&[]).unwrap();
        assert_eq!(options.sizes, DEFAULT_SIZES);
        assert_eq!((options.runs, options.cli), (DEFAULT_RUNS, true));
        let options = parse_args(&args(
            "--sizes 500,100,500 --runs 1 --no-cli --reconcile 100",
        ))
        .unwrap();
        assert_eq!(options.sizes, [100, 500]);
        assert_eq!((options.runs, options.cli), (1, false));
        assert_eq!(options.reconcile, Some(100));
        for bad in ["--sizes 0", "--sizes 1,x", "--runs", "--runs 0", "--fast"] {
            assert!(parse_args(&args(bad)).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn guest_options_survive_the_command_line() {
        let options = guest::Options {
            sizes: vec![100, 1000],
            runs: 2,
            ipvsadm: PathBuf::from("/usr/sbin/ipvsadm"),
            ipvsadm_rs: Some(PathBuf::from("/w/target/release/ipvsadm-rs")),
            reconcile: Some(100),
            scale_only: true,
        };
        assert_eq!(guest::parse(&options.to_args()).unwrap(), options);
    }
}
