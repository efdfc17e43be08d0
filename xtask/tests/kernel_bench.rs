//! A small run of `cargo xtask bench`'s in-guest driver, so the benchmark's code paths (fresh
//! namespaces, wait4 accounting, both CLIs and the library workloads with their output checks,
//! the reload, cached sync, drift and whole-table read benchmarks, the report)
//! keep working. It measures nothing worth reading: 100 services, one run.
#![cfg(feature = "kernel-tests")]

use std::path::Path;
use std::process::Command;

#[test]
fn the_bench_driver_runs_and_checks_every_workload_on_a_small_table() {
    testkit::kernel_test();
    let xtask = Path::new(env!("CARGO_BIN_EXE_xtask"));
    // The kernel lane builds every workspace binary into the same directory.
    let ipvsadm_rs = xtask.with_file_name("ipvsadm-rs");
    assert!(
        ipvsadm_rs.exists(),
        "{} is missing: build the workspace first (cargo xtask test does)",
        ipvsadm_rs.display()
    );
    let out = Command::new(xtask)
        .args(["bench-guest", "--sizes", "100", "--runs", "1"])
        .arg("--ipvsadm")
        .arg(testkit::reference_ipvsadm())
        .arg("--ipvsadm-rs")
        .arg(&ipvsadm_rs)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "bench-guest failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let row = |prefix: &str| stdout.lines().any(|l| l.starts_with(prefix));
    assert!(row("| 100 | restore (-R) | "), "no CLI rows:\n{stdout}");
    assert!(row("| 100 | clear (-C) | "), "no CLI rows:\n{stdout}");
    assert!(
        stdout.contains("services: 1 added, 0 updated, 1 deleted; destinations: 5 added, 1 updated, 1 deleted; 0 vanished, 0 failed"),
        "the reconcile did not make the expected change:\n{stdout}"
    );
    for (what, prefix) in [
        ("reload by ipvsadm", "| 100 | ipvsadm | -C then -R | "),
        ("reload by ipvsadm-rs", "| 100 | ipvsadm-rs | -C then -R | "),
        ("replace", "| 100 | ipvsadm-rs | -R --replace | "),
    ] {
        assert!(row(prefix), "no {what} row:\n{stdout}");
    }
    let sync = stdout
        .lines()
        .find(|l| l.ends_with("| 10 of 10 | 10 |"))
        .unwrap_or_else(|| panic!("no sync row with the drift found and repaired:\n{stdout}"));
    assert!(sync.starts_with("| 100 | "), "{sync}");
    let read = stdout
        .lines()
        .filter(|l| l.starts_with("| 100 | ") && l.matches('|').count() == 7)
        .count();
    assert_eq!(read, 1, "no whole-table read row:\n{stdout}");
}
