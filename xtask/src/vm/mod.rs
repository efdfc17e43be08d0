//! `cargo xtask vm`: run a command as root in a throwaway VM with a real Debian kernel.

mod image;
mod initramfs;
mod job;
mod kernel;
mod qemu;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::flags::Flags;
use crate::host;
pub use kernel::Series;
pub use qemu::Transcript;

/// Debian packages the lane needs on the host (the guest runs the host's binaries:
/// keepalived is the `ha` lab's VRRP).
const PACKAGES: &[&str] = &[
    "qemu-system-x86",
    "busybox-static",
    "cpio",
    "kmod",
    "xz-utils",
    "keepalived",
];

/// How long a guest may run unless `--timeout` says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// What to run in the VM, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// The kernel series to boot.
    pub kernel: Series,
    /// The limit for the whole boot, command included.
    pub timeout: Duration,
    /// Extra environment for the command, after the defaults.
    pub env: Vec<(String, String)>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            kernel: Series::default(),
            timeout: DEFAULT_TIMEOUT,
            env: Vec::new(),
        }
    }
}

/// Parses `[--kernel 6.1|6.12] [--timeout SECS] [--env K=V]... [--] CMD [ARGS...]`.
pub fn parse_args(args: &[String]) -> Result<(Options, Vec<String>)> {
    let mut options = Options::default();
    let mut flags = Flags::new(args, "vm");
    while let Some(arg) = flags.next_arg() {
        if flags.vm_flag(arg, &mut options)? {
            continue;
        }
        match arg {
            "--" => break,
            "--env" => {
                let text = flags.value(arg)?;
                let (name, val) = text
                    .split_once('=')
                    .filter(|(name, _)| job::is_variable_name(name))
                    .ok_or_else(|| Error::Usage(format!("--env wants NAME=VALUE, not {text:?}")))?;
                options.env.push((name.to_string(), val.to_string()));
            }
            flag if flag.starts_with("--") => return Err(flags.unknown(flag)),
            _ => {
                let mut command = vec![arg.to_string()];
                command.extend(flags.rest());
                return Ok((options, command));
            }
        }
    }
    let command = flags.rest();
    if command.is_empty() {
        return Err(Error::Usage("`vm` needs a command to run".into()));
    }
    Ok((options, command))
}

/// Parses a `--timeout` value: a positive number of seconds.
pub fn parse_timeout(text: &str) -> Result<Duration> {
    text.parse::<u64>()
        .ok()
        .filter(|secs| *secs > 0)
        .map(Duration::from_secs)
        .ok_or_else(|| Error::Usage(format!("--timeout wants whole seconds, not {text:?}")))
}

/// Runs `command` in a fresh VM in directory `cwd` and returns its exit code. Its stdout and
/// stderr stream to ours; its stdout is also copied into `transcript` when one is given.
pub fn run(
    options: &Options,
    cwd: &Path,
    command: &[String],
    transcript: Option<Transcript>,
) -> Result<i32> {
    host::ensure_packages(PACKAGES)?;
    let kernel = kernel::prepare(options.kernel)?;
    let initramfs = initramfs::prepare(&kernel)?;
    let image = image::bootable(&kernel)?;
    let run_dir = RunDir::create()?;
    let mut env: Vec<(String, String)> = job::PASSED_THROUGH
        .iter()
        .filter_map(|name| Some((name.to_string(), std::env::var(name).ok()?)))
        .collect();
    env.extend(options.env.iter().cloned());
    let job = run_dir.path().join("job");
    fs::write(&job, job::script(cwd, &env, command))
        .map_err(Error::io(format!("writing {}", job.display())))?;
    let libdir = library_dir()?;
    let boot = qemu::Boot {
        kernel: &kernel,
        image: &image,
        initramfs: &initramfs,
        job: &job,
        libdir: &libdir,
        run_dir: run_dir.path(),
        timeout: options.timeout,
        transcript,
    };
    boot.run()
}

/// The directory that holds `modules/` on this host, following a merged-/usr `/lib` link.
fn library_dir() -> Result<PathBuf> {
    fs::canonicalize("/lib").map_err(Error::io("resolving /lib"))
}

/// A private temporary directory, removed when dropped.
struct RunDir(PathBuf);

/// The prefix of run directories' names, followed by the owner's pid.
const RUN_DIR_PREFIX: &str = "ipvs-rs-vm-";

impl RunDir {
    fn create() -> Result<Self> {
        let temp = std::env::temp_dir();
        remove_orphans(&temp);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let path = temp.join(format!("{RUN_DIR_PREFIX}{}-{nanos:09}", std::process::id()));
        fs::create_dir(&path).map_err(Error::io(format!("creating {}", path.display())))?;
        Ok(RunDir(path))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Removes run directories in `temp` whose owner no longer runs: a run killed by a signal
/// (Ctrl-C, a CI timeout) cannot clean up after itself.
fn remove_orphans(temp: &Path) {
    let Ok(entries) = fs::read_dir(temp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|name| name.strip_prefix(RUN_DIR_PREFIX))
            .and_then(|rest| rest.split('-').next())
            .filter(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        if !Path::new("/proc").join(pid).exists() {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_options_then_the_command() {
        let (options, command) = parse_args(&args(
            "--kernel 6.12 --timeout 30 --env A=b=c -- ls -l --kernel",
        ))
        .unwrap();
        assert_eq!(options.kernel, Series::V6_12);
        assert_eq!(options.timeout, Duration::from_secs(30));
        assert_eq!(options.env, [("A".to_string(), "b=c".to_string())]);
        assert_eq!(command, args("ls -l --kernel"));
    }

    #[test]
    fn the_command_may_follow_without_a_separator() {
        let (options, command) = parse_args(&args("uname -r")).unwrap();
        assert_eq!(options, Options::default());
        assert_eq!(command, args("uname -r"));
    }

    #[test]
    fn orphaned_run_directories_are_removed_and_live_ones_kept() {
        let temp = std::env::temp_dir().join(format!("xtask-orphans-{}", std::process::id()));
        // No process has a pid this large (the kernel's limit is 2^22).
        let orphan = temp.join(format!("{RUN_DIR_PREFIX}99999999-1"));
        let live = temp.join(format!("{RUN_DIR_PREFIX}{}-1", std::process::id()));
        let other = temp.join("unrelated-99999999-1");
        for dir in [&orphan, &live, &other] {
            fs::create_dir_all(dir).unwrap();
        }
        remove_orphans(&temp);
        let (orphan_left, live_left, other_left) = (orphan.exists(), live.exists(), other.exists());
        fs::remove_dir_all(&temp).unwrap();
        assert!(!orphan_left && live_left && other_left);
    }

    #[test]
    fn rejects_bad_arguments() {
        for bad in [
            "",
            "--",
            "--kernel 5.10 -- true",
            "--timeout 0 -- true",
            "--timeout x -- true",
            "--env 1A=b -- true",
            "--env A -- true",
            "--verbose -- true",
            "--kernel",
        ] {
            assert!(
                matches!(parse_args(&args(bad)), Err(Error::Usage(_))),
                "{bad:?} was accepted"
            );
        }
    }
}
