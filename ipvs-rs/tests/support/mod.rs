//! Helpers shared by the kernel tests.

// Every test binary includes this module and uses a different part of it.
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::process::Command;
use std::sync::Once;

use ipvs_rs::{Handle, Scheduler};

/// A handle in the test's own namespace, after `testkit::kernel_test()`.
pub fn handle() -> Handle {
    preload_modules();
    testkit::kernel_test();
    Handle::new().expect("open an IPVS handle")
}

/// Loads every scheduler and the SIP persistence engine up front.
///
/// The kernel loads a missing scheduler with request_module while holding the IPVS mutex; a
/// module that registers per-namespace state (lblc, lblcr) then waits for the namespace lock,
/// which a test's namespace teardown holds while it waits for the IPVS mutex: a deadlock seen
/// on 6.1 with parallel tests. With every module loaded first, request_module never runs.
pub fn preload_modules() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let mut modules: Vec<String> = Scheduler::known().map(|s| format!("ip_vs_{s}")).collect();
        modules.push("ip_vs_pe_sip".into());
        let status = Command::new("modprobe")
            .arg("-a")
            .args(&modules)
            .status()
            .expect("modprobe");
        assert!(status.success(), "modprobe -a {modules:?} failed");
    });
}

pub fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

pub fn v6(last: u16) -> IpAddr {
    IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, last))
}

/// Runs the reference ipvsadm in the calling thread's namespace; returns its stdout.
pub fn ipvsadm(args: &[&str]) -> String {
    let out = Command::new(testkit::reference_ipvsadm())
        .args(args)
        .output()
        .expect("run ipvsadm");
    assert!(
        out.status.success(),
        "ipvsadm {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Runs a command (such as `ip`) in the calling thread's namespace and checks it succeeds.
pub fn run(cmd: &str, args: &[&str]) {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
