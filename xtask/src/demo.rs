//! `cargo xtask demo`: the project's main job, shown end to end.
//!
//! The walkthrough's Direct Routing lab (`--topology dsr`, the default): `rtsetup lab up`
//! builds it, `rtsetup lab verify` proves it with live HTTP requests and the captured packet
//! path, `rtsetup lab down` removes it (also when a step fails). `--topology ha` and
//! `--topology ecmp` build the multi-director labs, fail a director while the lab's
//! long-lived connections stream, and prove they survived (docs/scale-out.md).

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::host;
use crate::shell::quote;
use crate::vm;

/// A demo: shell commands, each echoed before it runs; the first failure stops it, and the
/// cleanup command runs however the steps end. `$RTSETUP` is the rtsetup binary.
#[derive(Debug)]
struct Scenario {
    /// What the scenario shows, printed first.
    title: &'static str,
    /// The commands.
    steps: &'static [&'static str],
    /// Run on exit, whatever happened.
    cleanup: &'static str,
}

/// The walkthrough's lab end to end.
const DSR_LAB: Scenario = Scenario {
    title: "the walkthrough's IPVS Direct Routing lab, built, verified and removed by rtsetup",
    steps: &["\"$RTSETUP\" lab up", "\"$RTSETUP\" lab verify"],
    cleanup: "\"$RTSETUP\" lab down",
};

/// The HA pair: a hard failure of the active director, proven, then undone.
const HA_LAB: Scenario = Scenario {
    title: "an active/backup pair of IPVS directors (keepalived VRRP + IPVS connection sync): \
            long-lived connections survive a hard failure of the active director",
    steps: &[
        "\"$RTSETUP\" lab up --topology ha",
        "\"$RTSETUP\" lab verify",
        "\"$RTSETUP\" lab fail lb1 --hard",
        "\"$RTSETUP\" lab verify --pcap /tmp/ipvs-rs-demo-ha",
        "\"$RTSETUP\" lab restore lb1",
    ],
    cleanup: "\"$RTSETUP\" lab down",
};

/// ECMP scale-out: a director's flows move to the others without breaking.
const ECMP_LAB: Scenario = Scenario {
    title: "three stateless IPVS directors behind an ECMP route, scheduling with Maglev hashing: \
            a director's flows move to the others without breaking",
    steps: &[
        "\"$RTSETUP\" lab up --topology ecmp",
        "\"$RTSETUP\" lab verify",
        "\"$RTSETUP\" lab fail lb1",
        "\"$RTSETUP\" lab verify --pcap /tmp/ipvs-rs-demo-ecmp",
        "\"$RTSETUP\" lab restore lb1",
    ],
    cleanup: "\"$RTSETUP\" lab down",
};

/// What `cargo xtask demo` was asked for.
#[derive(Debug)]
pub struct Demo {
    /// The VM's kernel, when the demo runs there.
    pub options: vm::Options,
    scenario: &'static Scenario,
}

/// Where the demo runs.
#[derive(Debug, PartialEq)]
enum Place {
    /// In a fresh network namespace on the host, whose kernel has IPVS.
    Host,
    /// In the VM lane.
    Vm,
}

/// Parses `[--topology dsr|ha|ecmp] [--kernel 6.1|6.12]`.
pub fn parse_args(args: &[String]) -> Result<Demo> {
    let mut options = vm::Options::default();
    let mut scenario = &DSR_LAB;
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let value = rest
            .next()
            .ok_or_else(|| Error::Usage(format!("`demo {flag}` needs a value")))?;
        match flag.as_str() {
            "--kernel" => options.kernel = value.parse()?,
            "--topology" => {
                scenario = match value.as_str() {
                    "dsr" => &DSR_LAB,
                    "ha" => &HA_LAB,
                    "ecmp" => &ECMP_LAB,
                    other => {
                        return Err(Error::Usage(format!(
                            "`demo --topology {other}`: the demos are dsr, ha and ecmp"
                        )))
                    }
                }
            }
            _ => {
                return Err(Error::Usage(format!(
                    "unexpected arguments for `demo`: {args:?}"
                )))
            }
        }
    }
    Ok(Demo { options, scenario })
}

/// Runs the demo on the host when its kernel has IPVS and we are root, else in the VM.
pub fn run(demo: &Demo, root: &Path) -> Result<i32> {
    let (options, scenario) = (&demo.options, demo.scenario);
    let script = script(scenario, &build_rtsetup(root)?);
    println!("xtask demo: {}", scenario.title);
    match place() {
        Place::Host => {
            println!("xtask demo: on this host's kernel (root, IPVS available), in a new network namespace");
            let status = std::process::Command::new("unshare")
                .args(["--net", "sh", "-c", &script])
                .current_dir(root)
                .status()
                .map_err(|e| Error::Spawn {
                    program: "unshare".into(),
                    source: e,
                })?;
            Ok(status.code().unwrap_or(1))
        }
        Place::Vm => {
            println!(
                "xtask demo: in the VM lane (Debian {} kernel), because {}",
                options.kernel,
                if is_root() {
                    "this kernel has no IPVS"
                } else {
                    "IPVS needs root here"
                }
            );
            let command = ["sh".to_string(), "-c".to_string(), script];
            vm::run(options, root, &command, None)
        }
    }
}

/// Builds the rtsetup binary and returns its path.
fn build_rtsetup(root: &Path) -> Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    host::output(
        std::process::Command::new(cargo)
            .args(["build", "--quiet", "-p", "rtsetup"])
            .current_dir(root),
    )?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    Ok(root.join(target).join("debug").join("rtsetup"))
}

/// The shell script for a scenario.
fn script(scenario: &Scenario, rtsetup: &Path) -> String {
    let mut script = format!(
        "set -e\nRTSETUP={}\ntrap {} EXIT\n",
        quote(&rtsetup.to_string_lossy()),
        quote(&format!(
            "echo {}; {}",
            quote(&format!("$ {}", scenario.cleanup)),
            scenario.cleanup
        ))
    );
    for step in scenario.steps {
        script.push_str(&format!("echo {}\n{step}\n", quote(&format!("$ {step}"))));
    }
    script
}

fn place() -> Place {
    if is_root() && host_has_ipvs() {
        Place::Host
    } else {
        Place::Vm
    }
}

fn host_has_ipvs() -> bool {
    let loaded = || Path::new("/proc/net/ip_vs").exists();
    loaded()
        || (host::output(std::process::Command::new("/sbin/modprobe").args(["-q", "ip_vs"]))
            .is_ok()
            && loaded())
}

/// Whether the effective user is root, from /proc/self/status.
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn script_echoes_each_step_and_stops_at_the_first_failure() {
        let scenario = Scenario {
            title: "t",
            steps: &["\"$RTSETUP\" one", "false", "echo never"],
            cleanup: "echo cleanup",
        };
        let out = Command::new("sh")
            .arg("-c")
            .arg(script(&scenario, Path::new("/bin/echo")))
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "the failing step's status is kept"
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "$ \"$RTSETUP\" one\none\n$ false\n$ echo cleanup\ncleanup\n"
        );
    }

    #[test]
    fn parses_the_kernel_option() {
        let args = ["--kernel".to_string(), "6.12".to_string()];
        assert_eq!(parse_args(&args).unwrap().options.kernel, vm::Series::V6_12);
        assert!(parse_args(&["--vm".to_string()]).is_err());
        assert!(parse_args(&["--kernel".to_string()]).is_err());
    }

    #[test]
    fn parses_the_topology() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let ha = parse_args(&args(&["--topology", "ha", "--kernel", "6.1"])).unwrap();
        assert_eq!(ha.scenario.title, HA_LAB.title);
        assert!(ha.scenario.steps.iter().any(|s| s.contains("lab fail lb1")));
        let ecmp = parse_args(&args(&["--topology", "ecmp"])).unwrap();
        assert_eq!(ecmp.scenario.title, ECMP_LAB.title);
        assert_eq!(parse_args(&[]).unwrap().scenario.title, DSR_LAB.title);
        let err = parse_args(&args(&["--topology", "nat"]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("dsr, ha and ecmp"), "{err}");
    }
}
