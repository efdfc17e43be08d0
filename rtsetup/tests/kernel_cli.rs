//! The `rtsetup` binary as a user runs it, against a kernel with IPVS (the VM lane): `lab up`
//! with the walkthrough's defaults, `lab verify` and its exit status in text and JSON,
//! `check-realserver` naming a broken sysctl, and an idempotent `lab down`.
//!
//! One test walks the whole sequence because the lab uses fixed namespace names.

#![cfg(feature = "kernel-tests")]

use std::process::{Command, Output};

const RTSETUP: &str = env!("CARGO_BIN_EXE_rtsetup");

fn rtsetup(args: &[&str]) -> Output {
    Command::new(RTSETUP)
        .args(args)
        .output()
        .expect("run rtsetup")
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Takes the lab down even when an assertion fails half-way.
struct Down;

impl Drop for Down {
    fn drop(&mut self) {
        let _ = rtsetup(&["lab", "down"]);
    }
}

fn set_arp_ignore(value: &str) {
    for key in ["all", "ap-veth0"] {
        let status = Command::new("ip")
            .args(["netns", "exec", "ap", "sysctl", "-qw"])
            .arg(format!("net.ipv4.conf.{key}.arp_ignore={value}"))
            .status()
            .expect("run ip netns exec sysctl");
        assert!(status.success(), "cannot set arp_ignore on {key}");
    }
}

#[test]
fn lab_up_verify_break_and_down_from_the_command_line() {
    testkit::kernel_test();
    let _down = Down;

    let up = rtsetup(&["lab", "up"]);
    assert!(up.status.success(), "{}", text(&up));
    let up_text = String::from_utf8_lossy(&up.stdout);
    assert!(
        up_text.contains("scheduler wlc") && up_text.contains("192.168.0.3 (-g)"),
        "lab up did not build the walkthrough's service:\n{}",
        text(&up)
    );

    let verify = rtsetup(&["lab", "verify", "--json"]);
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify));
    let report: serde_json::Value =
        serde_json::from_slice(&verify.stdout).expect("verify --json prints JSON");
    let checks = report["checks"].as_array().expect("a checks array");
    assert!(checks.len() >= 10, "too few checks: {report}");
    assert!(
        checks.iter().all(|c| c["ok"] == true),
        "a check failed on a good lab: {report}"
    );
    assert!(
        checks.iter().any(|c| c["name"] == "ipvs-stats"),
        "no IPVS stats check: {report}"
    );

    set_arp_ignore("0");
    let broken = rtsetup(&["lab", "verify"]);
    assert_eq!(broken.status.code(), Some(1), "{}", text(&broken));
    assert!(
        String::from_utf8_lossy(&broken.stdout).contains("net.ipv4.conf.all.arp_ignore=0"),
        "verify does not name the sysctl:\n{}",
        text(&broken)
    );
    let doctor = rtsetup(&["check-realserver", "--netns", "ap", "--vip", "192.168.0.10"]);
    assert_eq!(doctor.status.code(), Some(1), "{}", text(&doctor));
    assert!(
        String::from_utf8_lossy(&doctor.stdout).contains("arp_ignore"),
        "check-realserver does not name arp_ignore:\n{}",
        text(&doctor)
    );
    set_arp_ignore("1");
    let doctor = rtsetup(&["check-realserver", "--netns", "ap", "--vip", "192.168.0.10"]);
    assert_eq!(doctor.status.code(), Some(0), "{}", text(&doctor));

    for _ in 0..2 {
        let down = rtsetup(&["lab", "down"]);
        assert!(down.status.success(), "{}", text(&down));
    }
    let left = std::fs::read_dir("/run/netns")
        .map(|dir| {
            dir.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| ["client", "lb", "ap"].contains(&n.as_str()))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    assert!(left.is_empty(), "lab down left namespaces {left:?}");
}
