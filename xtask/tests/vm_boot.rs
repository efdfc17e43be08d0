//! Boots of the VM lane seen from the host: exit codes, output, timeouts, both kernels.
//! Each test boots a VM (about 10 s); `cargo xtask test` runs them on the host.
#![cfg(feature = "kernel-tests")]

use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn xtask_vm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("vm")
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn exit_code_stdout_stderr_cwd_and_env_reach_the_guest_and_back() {
    let out = xtask_vm(&[
        "--env",
        "XTASK_PROBE=a b",
        "--",
        "sh",
        "-c",
        "echo \"$(pwd)|$HOME|$XTASK_PROBE\"; echo err >&2; exit 7",
    ]);
    assert_eq!(out.status.code(), Some(7), "stderr: {}", text(&out.stderr));
    // Cargo runs integration tests in the package directory; the guest command starts there too.
    let cwd = std::env::current_dir().unwrap();
    assert_eq!(text(&out.stdout), format!("{}|/tmp|a b\n", cwd.display()));
    assert_eq!(text(&out.stderr), "err\n");
}

#[test]
fn a_guest_kernel_panic_ends_the_vm_with_the_console_tail() {
    let out = xtask_vm(&["--", "sh", "-c", "echo c >/proc/sysrq-trigger; sleep 600"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "stderr: {stderr}");
    assert!(
        stderr.contains("without reporting an exit status"),
        "stderr: {stderr}"
    );
    assert!(stderr.contains("Kernel panic"), "stderr: {stderr}");
}

#[test]
fn a_hanging_guest_times_out() {
    let started = Instant::now();
    let out = xtask_vm(&["--timeout", "5", "--", "sleep", "600"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(124), "stderr: {stderr}");
    assert!(
        stderr.contains("did not finish within 5 s"),
        "stderr: {stderr}"
    );
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn kernel_6_12_boots_and_loads_ip_vs() {
    let out = xtask_vm(&[
        "--kernel",
        "6.12",
        "--",
        "sh",
        "-c",
        "uname -r && modprobe ip_vs && cat /proc/net/ip_vs",
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert!(stdout.starts_with("6.12."), "stdout: {stdout}");
    assert!(
        stdout.contains("IP Virtual Server version"),
        "stdout: {stdout}"
    );
}
