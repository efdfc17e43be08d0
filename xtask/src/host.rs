//! Running host programs and installing the Debian packages xtask needs.

use std::process::{Command, Output, Stdio};

use crate::error::{Error, Result};

/// Runs `command` to completion, capturing its output; fails unless it exits with 0.
pub fn output(command: &mut Command) -> Result<Output> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|source| spawn_error(command, source))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let details = if stderr.trim().is_empty() {
            String::new()
        } else {
            format!("\n{}", stderr.trim_end())
        };
        return Err(Error::Command {
            command: describe(command),
            status: output.status,
            details,
        });
    }
    Ok(output)
}

/// Runs `command` and returns its stdout as text; fails unless it exits with 0.
pub fn stdout(command: &mut Command) -> Result<String> {
    let output = output(command)?;
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The error for a program that could not be started.
pub fn spawn_error(command: &Command, source: std::io::Error) -> Error {
    Error::Spawn {
        program: command.get_program().to_string_lossy().into_owned(),
        source,
    }
}

/// The command line of `command`, for messages.
pub fn describe(command: &Command) -> String {
    let mut line = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        line.push(' ');
        line.push_str(&arg.to_string_lossy());
    }
    line
}

/// Installs those of `packages` that dpkg does not list as installed, with apt-get.
///
/// Refreshes the package lists and retries once when the first attempt fails, because a
/// fresh machine or container often has stale or no lists.
pub fn ensure_packages(packages: &[&str]) -> Result<()> {
    let missing = missing_packages(packages)?;
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("xtask: installing {}", missing.join(" "));
    let install = || {
        output(
            Command::new("apt-get")
                .args(["install", "-y", "-q", "--no-install-recommends"])
                .args(&missing)
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )
    };
    if install().is_err() {
        output(Command::new("apt-get").args(["update", "-q"]))?;
        install()?;
    }
    Ok(())
}

fn missing_packages(packages: &[&str]) -> Result<Vec<String>> {
    // dpkg-query exits non-zero when a package is unknown; its stdout still lists the rest.
    let out = Command::new("dpkg-query")
        .args(["-W", "-f", "${Package} ${db:Status-Status}\n"])
        .args(packages)
        .stderr(Stdio::null())
        .output()
        .map_err(|source| Error::Spawn {
            program: "dpkg-query".into(),
            source,
        })?;
    let listed = String::from_utf8_lossy(&out.stdout);
    Ok(packages
        .iter()
        .filter(|package| !is_installed(&listed, package))
        .map(|package| package.to_string())
        .collect())
}

fn is_installed(dpkg_listing: &str, package: &str) -> bool {
    dpkg_listing.lines().any(|line| {
        let mut fields = line.split_whitespace();
        // dpkg prints multi-arch packages as NAME:ARCH.
        let name = fields.next().unwrap_or_default();
        let name = name.split(':').next().unwrap_or_default();
        name == package && fields.next() == Some("installed")
    })
}

/// This machine's processor count and model name, from `/proc/cpuinfo` ("unknown" when it
/// cannot be read).
pub fn cpus() -> (usize, String) {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name")?.split(':').nth(1))
        .unwrap_or("unknown")
        .trim()
        .to_string();
    let count = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    (count, model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installed_means_status_installed() {
        let listing = "cpio installed\nkmod config-files\nqemu-system-x86:amd64 installed\n";
        assert!(is_installed(listing, "cpio"));
        assert!(!is_installed(listing, "kmod"));
        assert!(is_installed(listing, "qemu-system-x86"));
        assert!(!is_installed(listing, "busybox-static"));
    }
}
