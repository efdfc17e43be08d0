//! `cargo xtask test`: everything a contributor must pass, in every lane.

mod artifacts;
mod kernel_lane;
mod libtest;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::flags::Flags;
use crate::host;
use crate::vm;
use artifacts::TestBinary;
use libtest::Counts;

/// Kernel tests: `tests/kernel_*.rs`, run inside the VM.
const KERNEL_PREFIX: &str = "kernel_";
/// Tests of the VM lane itself: `tests/vm_*.rs`, run on the host, each booting VMs.
const VM_PREFIX: &str = "vm_";

/// How long the one guest that runs every kernel test may take unless `--timeout` says
/// otherwise: the whole kernel suite shares one boot, and TCG on a loaded 2-core machine
/// needs about ten minutes for it today, so a single command's default would cut it off.
const KERNEL_LANE_TIMEOUT: Duration = Duration::from_secs(45 * 60);

/// Which parts of the suite to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// The VM the kernel tests run in.
    pub vm: vm::Options,
    /// Run fmt, clippy and the host tests.
    pub host: bool,
    /// Run the kernel tests and the VM lane's own tests.
    pub kernel: bool,
}

/// Parses `[--kernel 6.1|6.12] [--timeout SECS] [--no-vm | --vm-only]`.
pub fn parse_args(args: &[String]) -> Result<Options> {
    let mut options = Options {
        vm: vm::Options {
            timeout: KERNEL_LANE_TIMEOUT,
            ..vm::Options::default()
        },
        host: true,
        kernel: true,
    };
    let mut flags = Flags::new(args, "test");
    while let Some(arg) = flags.next_arg() {
        if flags.vm_flag(arg, &mut options.vm)? {
            continue;
        }
        match arg {
            "--no-vm" => options.kernel = false,
            "--vm-only" => options.host = false,
            other => return Err(flags.unknown(other)),
        }
    }
    if !options.host && !options.kernel {
        return Err(Error::Usage(
            "--no-vm and --vm-only exclude each other".into(),
        ));
    }
    Ok(options)
}

/// A finished step of the run, for the summary.
struct Step {
    name: String,
    time: Duration,
    counts: Option<Counts>,
    /// Parts shown under the step, already included in its counts.
    parts: Vec<Step>,
}

impl Step {
    fn new(name: impl Into<String>, time: Duration, counts: Option<Counts>) -> Step {
        Step {
            name: name.into(),
            time,
            counts,
            parts: Vec::new(),
        }
    }
}

/// Runs the suite; returns 0 when everything passed and 1 otherwise.
///
/// A failing check (fmt, clippy, a build) stops the run; it counts as one failed test so that
/// the summary's last line still tells CI the outcome.
pub fn run(options: &Options) -> Result<i32> {
    let root = crate::workspace_root();
    let mut steps = Vec::new();
    let finish = |steps: &[Step]| {
        let total = summarize(steps, &mut std::io::stdout().lock());
        Ok(i32::from(total.failed > 0))
    };
    if options.host {
        if !check(
            &mut steps,
            "cargo fmt --check",
            cargo(&root).args(["fmt", "--all", "--check"]),
        )? {
            return finish(&steps);
        }
        if !check(
            &mut steps,
            "cargo clippy",
            // With the kernel tests compiled in, so that they are linted too.
            cargo(&root).args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--features",
                "kernel-tests",
                "--",
                "-D",
                "warnings",
            ]),
        )? {
            return finish(&steps);
        }
        let started = Instant::now();
        // The tokio feature too: AsyncHandle has host-lane tests (timeouts, Send futures).
        let counts = stream_tests(cargo(&root).args([
            "test",
            "--workspace",
            "--features",
            "ipvs-rs/tokio",
        ]))?;
        steps.push(Step::new("host tests", started.elapsed(), Some(counts)));
    }
    if options.kernel {
        let mut build = cargo(&root);
        build.args([
            "test",
            "--workspace",
            "--features",
            "kernel-tests",
            "--no-run",
            "--message-format=json",
        ]);
        let Some(built) = check_output(&mut steps, "build --features kernel-tests", &mut build)?
        else {
            return finish(&steps);
        };
        let kernel: Vec<TestBinary> = artifacts::test_binaries(&built, KERNEL_PREFIX)?;
        let started = Instant::now();
        let parts = run_in_vm(&options.vm, &kernel, &root)?;
        let mut counts = Counts::default();
        for part in &parts {
            counts += part.counts.unwrap_or_default();
        }
        let mut step = Step::new(
            format!("kernel tests (VM, {}, 1 boot)", options.vm.kernel),
            started.elapsed(),
            Some(counts),
        );
        step.parts = parts;
        steps.push(step);
        let started = Instant::now();
        let mut counts = Counts::default();
        for binary in artifacts::test_binaries(&built, VM_PREFIX)? {
            counts += run_on_host(&binary)?;
        }
        steps.push(Step::new(
            "VM lane tests (host, boot VMs)",
            started.elapsed(),
            Some(counts),
        ));
    }
    finish(&steps)
}

/// Runs a check that must pass, such as fmt or clippy, and records it; returns whether it
/// passed.
fn check(steps: &mut Vec<Step>, name: &str, command: &mut Command) -> Result<bool> {
    Ok(check_output(steps, name, command.stdout(Stdio::inherit()))?.is_some())
}

/// Runs a check with its stderr streamed through and records it; returns its stdout if it
/// passed.
fn check_output(
    steps: &mut Vec<Step>,
    name: &str,
    command: &mut Command,
) -> Result<Option<String>> {
    let started = Instant::now();
    eprintln!("xtask: {}", host::describe(command));
    let output = command
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| host::spawn_error(command, e))?;
    if !output.status.success() {
        eprintln!("xtask: `{}` failed", host::describe(command));
        let failed = Counts {
            failed: 1,
            ..Counts::default()
        };
        steps.push(Step::new(name, started.elapsed(), Some(failed)));
        return Ok(None);
    }
    steps.push(Step::new(name, started.elapsed(), None));
    Ok(Some(String::from_utf8_lossy(&output.stdout).into_owned()))
}

/// Runs a libtest command with its stdout streamed through, and tallies its results; a
/// failure without a failing test (a build error, a crash) counts as one failed test.
fn stream_tests(command: &mut Command) -> Result<Counts> {
    eprintln!("xtask: {}", host::describe(command));
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| host::spawn_error(command, e))?;
    let mut output = String::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(Error::io("reading test output"))?;
            println!("{line}");
            output.push_str(&line);
            output.push('\n');
        }
    }
    let status = child.wait().map_err(Error::io("waiting for the tests"))?;
    let mut counts = Counts::tally(&output);
    if !status.success() && counts.failed == 0 {
        counts.failed += 1;
    }
    Ok(counts)
}

/// Runs all kernel test binaries in one VM boot; returns one step per binary.
fn run_in_vm(options: &vm::Options, binaries: &[TestBinary], root: &Path) -> Result<Vec<Step>> {
    let mut parts = Vec::new();
    if binaries.is_empty() {
        return Ok(parts);
    }
    let names: Vec<&str> = binaries.iter().map(|b| b.name.as_str()).collect();
    eprintln!("xtask: running in the VM: {}", names.join(" "));
    let command = [
        "sh".to_string(),
        "-c".to_string(),
        kernel_lane::script(binaries),
    ];
    let transcript = vm::Transcript::default();
    // A guest that times out or dies still leaves the results of the binaries that finished;
    // the others count as failed.
    if let Err(err) = vm::run(options, root, &command, Some(transcript.clone())) {
        eprintln!("xtask: {err}");
    }
    let output = transcript
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone();
    for result in kernel_lane::results(binaries, &String::from_utf8_lossy(&output)) {
        let effective = result.effective_counts();
        if effective != result.counts {
            match result.code {
                None => eprintln!("xtask: {} did not finish (the VM stopped)", result.name),
                Some(code) => eprintln!(
                    "xtask: {} exited with {code} without a failing test (a crash or an abort)",
                    result.name
                ),
            }
        }
        parts.push(Step::new(
            result.name,
            result.time.unwrap_or_default(),
            Some(effective),
        ));
    }
    Ok(parts)
}

/// Runs a test binary on the host from its package directory, as cargo would.
fn run_on_host(binary: &TestBinary) -> Result<Counts> {
    stream_tests(
        Command::new(&binary.executable)
            .current_dir(&binary.package_dir)
            .env("CARGO_MANIFEST_DIR", &binary.package_dir),
    )
}

/// Writes the summary to `out`; returns the total counts.
fn summarize(steps: &[Step], out: &mut impl Write) -> Counts {
    let mut total = Counts::default();
    let _ = writeln!(out, "\nxtask test summary:");
    let line = |step: &Step, indent: &str| {
        let counts = step.counts.map_or(String::new(), |c| {
            format!(
                "{} ran, {} passed, {} failed, {} ignored",
                c.ran(),
                c.passed,
                c.failed,
                c.ignored
            )
        });
        format!(
            "{indent}{:<width$} {:>7.1} s  {counts}",
            step.name,
            step.time.as_secs_f64(),
            width = 38 - indent.len()
        )
    };
    for step in steps {
        let _ = writeln!(out, "{}", line(step, "  "));
        for part in &step.parts {
            let _ = writeln!(out, "{}", line(part, "      "));
        }
        total += step.counts.unwrap_or_default();
    }
    let _ = writeln!(out, "{} passed, {} failed", total.passed, total.failed);
    total
}

fn cargo(root: &Path) -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(root);
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_lane_selection() {
        let options = parse_args(&args("--kernel 6.12 --vm-only")).unwrap();
        assert_eq!(options.vm.kernel, vm::Series::V6_12);
        assert!(!options.host && options.kernel);
        let options = parse_args(&[]).unwrap();
        assert!(options.host && options.kernel);
        assert_eq!(options.vm.timeout, KERNEL_LANE_TIMEOUT);
        let options = parse_args(&args("--timeout 90")).unwrap();
        assert_eq!(options.vm.timeout, Duration::from_secs(90));
        assert!(parse_args(&args("--no-vm --vm-only")).is_err());
        assert!(parse_args(&args("--fast")).is_err());
    }

    #[test]
    fn summary_totals_count_each_step_once() {
        let step = |failed| {
            let counts = Counts {
                passed: 1,
                failed,
                ignored: 0,
            };
            let mut step = Step::new("x", Duration::ZERO, Some(counts));
            // Parts are already in their step's counts and must not count twice.
            step.parts
                .push(Step::new("part", Duration::ZERO, Some(counts)));
            step
        };
        let mut out = Vec::new();
        let total = summarize(&[step(0), step(2)], &mut out);
        assert_eq!((total.passed, total.failed), (2, 2));
        let out = String::from_utf8(out).unwrap();
        assert_eq!(out.lines().last(), Some("2 passed, 2 failed"));
        assert_eq!(out.matches("part").count(), 2);
    }
}
