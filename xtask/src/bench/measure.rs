//! Timing one child process: wall time, and its user time, system time and peak RSS as the
//! kernel accounted them (wait4).

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::host;

/// The cost of one run of a command.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Elapsed time from spawn to exit.
    pub wall: Duration,
    /// CPU time in user mode.
    pub user: Duration,
    /// CPU time in the kernel on the process's behalf.
    pub sys: Duration,
    /// Peak resident set size in KiB.
    pub max_rss_kib: u64,
}

/// A finished, measured run.
pub struct Run {
    /// What it cost.
    pub sample: Sample,
    /// Its stdout, when it was piped.
    pub stdout: String,
}

/// Runs `command` to completion and measures it; fails unless it exits with 0.
///
/// Its stdout is captured only if the caller set it to piped; its stderr is captured and
/// shown in the error when it fails.
pub fn measure(command: &mut Command) -> Result<Run> {
    command.stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = command.spawn().map_err(|e| host::spawn_error(command, e))?;
    // stderr is drained on its own thread so a chatty child never blocks on a full pipe.
    let stderr = child.stderr.take().map(|mut err| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = err.read_to_string(&mut text);
            text
        })
    });
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout.take() {
        out.read_to_string(&mut stdout)
            .map_err(Error::io("reading a benchmarked command's stdout"))?;
    }
    let (status, usage) = wait4(child.id())?;
    let stderr = stderr
        .and_then(|reader| reader.join().ok())
        .unwrap_or_default();
    let wall = started.elapsed();
    if !status.success() {
        return Err(Error::Failed(format!(
            "`{}` failed ({status}): {}",
            host::describe(command),
            stderr.trim_end()
        )));
    }
    Ok(Run {
        sample: Sample {
            wall,
            user: timeval(usage.ru_utime),
            sys: timeval(usage.ru_stime),
            max_rss_kib: u64::try_from(usage.ru_maxrss).unwrap_or(0),
        },
        stdout,
    })
}

/// Reaps `pid`, returning its exit status and resource usage.
fn wait4(pid: u32) -> Result<(ExitStatus, libc::rusage)> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| Error::Failed(format!("bad pid {pid}")))?;
    let mut status = 0;
    // SAFETY: rusage is plain old data; all-zero is a valid value for wait4 to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: status and usage are valid for writes; pid is our own unreaped child.
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            return Ok((ExitStatus::from_raw(status), usage));
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(Error::io("waiting for a benchmarked command")(err));
        }
    }
}

fn timeval(tv: libc::timeval) -> Duration {
    let secs = u64::try_from(tv.tv_sec).unwrap_or(0);
    let micros = u32::try_from(tv.tv_usec).unwrap_or(0);
    Duration::from_secs(secs) + Duration::from_micros(u64::from(micros))
}

/// The median of each measure of `samples` taken separately (the mean of the two middle ones
/// for an even count).
pub fn median(samples: &[Sample]) -> Option<Sample> {
    if samples.is_empty() {
        return None;
    }
    fn mid<T: Copy + Ord>(mut values: Vec<T>, mean: impl Fn(T, T) -> T) -> T {
        values.sort_unstable();
        let n = values.len();
        if n % 2 == 1 {
            values[n / 2]
        } else {
            mean(values[n / 2 - 1], values[n / 2])
        }
    }
    let durations =
        |f: fn(&Sample) -> Duration| mid(samples.iter().map(f).collect(), |a, b| (a + b) / 2);
    Some(Sample {
        wall: durations(|s| s.wall),
        user: durations(|s| s.user),
        sys: durations(|s| s.sys),
        max_rss_kib: mid(samples.iter().map(|s| s.max_rss_kib).collect(), |a, b| {
            (a + b) / 2
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(wall_ms: u64, rss: u64) -> Sample {
        Sample {
            wall: Duration::from_millis(wall_ms),
            user: Duration::from_millis(wall_ms / 2),
            sys: Duration::from_millis(1),
            max_rss_kib: rss,
        }
    }

    #[test]
    fn medians_are_taken_per_measure() {
        let m = median(&[sample(30, 5), sample(10, 9), sample(20, 7)]).unwrap();
        assert_eq!(m.wall, Duration::from_millis(20));
        assert_eq!(m.user, Duration::from_millis(10));
        assert_eq!(m.max_rss_kib, 7);
        let even = median(&[sample(10, 4), sample(20, 8)]).unwrap();
        assert_eq!(even.wall, Duration::from_millis(15));
        assert_eq!(even.max_rss_kib, 6);
        assert!(median(&[]).is_none());
    }

    #[test]
    fn measures_a_child_and_its_cpu_time() {
        let run = measure(
            Command::new("sh")
                .args([
                    "-c",
                    "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; echo done",
                ])
                .stdout(Stdio::piped()),
        )
        .unwrap();
        assert_eq!(run.stdout, "done\n");
        assert!(run.sample.user + run.sample.sys > Duration::ZERO);
        assert!(run.sample.wall >= run.sample.user);
        assert!(run.sample.max_rss_kib > 0);
        let failed = measure(Command::new("sh").args(["-c", "echo nope >&2; exit 3"]));
        assert!(matches!(failed, Err(Error::Failed(m)) if m.contains("nope")));
    }
}
