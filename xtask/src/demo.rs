//! `cargo xtask demo`: the project's main job, shown end to end.
//!
//! Until the DSR lab exists this is the IPVS smoke scenario of the walkthrough: one TCP
//! service with one real server in Route (direct routing) mode, then a listing.

use std::path::Path;

use crate::error::{Error, Result};
use crate::host;
use crate::shell::quote;
use crate::vm;

/// A demo: shell commands, each echoed before it runs; the first failure stops it.
struct Scenario {
    /// What the scenario shows, printed first.
    title: &'static str,
    /// The commands.
    steps: &'static [&'static str],
}

/// The walkthrough's service 192.168.0.10:80 with real server 192.168.0.3 in Route mode.
const IPVS_SMOKE: Scenario = Scenario {
    title: "IPVS smoke: a TCP service with one direct-routing real server (reference ipvsadm)",
    steps: &[
        // IPVS refuses real servers while lo is down ("address not unicast").
        "ip link set lo up",
        "ipvsadm -A -t 192.168.0.10:80 -s rr",
        "ipvsadm -a -t 192.168.0.10:80 -r 192.168.0.3 -g",
        "ipvsadm -L -n",
    ],
};

/// Where the demo runs.
#[derive(Debug, PartialEq)]
enum Place {
    /// In a fresh network namespace on the host, whose kernel has IPVS.
    Host,
    /// In the VM lane.
    Vm,
}

/// Parses `[--kernel 6.1|6.12]`, the kernel used when the demo runs in the VM.
pub fn parse_args(args: &[String]) -> Result<vm::Options> {
    let mut options = vm::Options::default();
    match args {
        [] => {}
        [flag, series] if flag == "--kernel" => options.kernel = series.parse()?,
        _ => {
            return Err(Error::Usage(format!(
                "unexpected arguments for `demo`: {args:?}"
            )))
        }
    }
    Ok(options)
}

/// Runs the demo on the host when its kernel has IPVS and we are root, else in the VM.
pub fn run(options: &vm::Options, root: &Path) -> Result<i32> {
    host::ensure_packages(&["ipvsadm", "iproute2"])?;
    let scenario = &IPVS_SMOKE;
    let script = script(scenario);
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
            Ok(vm::run(options, root, &command, false)?.code)
        }
    }
}

/// The shell script for a scenario.
fn script(scenario: &Scenario) -> String {
    let mut script = String::from("set -e\n");
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
            steps: &["echo one", "false", "echo never"],
        };
        let out = Command::new("sh")
            .arg("-c")
            .arg(script(&scenario))
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "$ echo one\none\n$ false\n"
        );
    }

    #[test]
    fn parses_the_kernel_option() {
        let args = ["--kernel".to_string(), "6.12".to_string()];
        assert_eq!(parse_args(&args).unwrap().kernel, vm::Series::V6_12);
        assert!(parse_args(&["--vm".to_string()]).is_err());
    }
}
