//! `-R` fed by a producer that stalls: every line read is applied before the wait, and a
//! SIGINT or SIGTERM during the wait keeps them and ends the run as it ends ipvsadm's.
#![cfg(feature = "kernel-tests")]

use std::io::Write;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use workspace_tests::{clone_binary, in_fresh_netns, reference};

const LINES: &str = "-A -t 10.9.0.1:80 -s rr\n-a -t 10.9.0.1:80 -r 10.9.1.1:80 -m\n";
const SAVED: &str = "-A -t 10.9.0.1:80 -s rr\n-a -t 10.9.0.1:80 -r 10.9.1.1:80 -m -w 1\n";

fn saved_table() -> String {
    let out = Command::new(reference())
        .arg("-Sn")
        .output()
        .expect("run ipvsadm -Sn");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What happened to a `-R` run that got [`LINES`] and then nothing, until `signal` (or, with
/// none, the end of its input): whether the table showed both lines during the stall, the
/// run's status and stderr, and the table afterwards.
fn stalled_restore(binary: &Path, signal: Option<i32>) -> (bool, String, String, String) {
    in_fresh_netns(|| {
        let mut command = Command::new(binary);
        // SAFETY: signal is async-signal-safe. The test's own runner may ignore SIGINT.
        unsafe {
            command.pre_exec(|| {
                libc::signal(libc::SIGINT, libc::SIG_DFL);
                libc::signal(libc::SIGTERM, libc::SIG_DFL);
                Ok(())
            });
        }
        let mut child = command
            .arg0("ipvsadm")
            .arg("-R")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start -R");
        let mut input = child.stdin.take().expect("stdin pipe");
        input.write_all(LINES.as_bytes()).expect("write the lines");
        // Generous: the guest is emulated and shares two host cores.
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut applied = false;
        while Instant::now() < deadline {
            if saved_table() == SAVED {
                applied = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if let Some(sig) = signal {
            // SAFETY: kill has no memory-safety preconditions; the child is ours.
            unsafe { libc::kill(child.id() as i32, sig) };
            // Then the end of input, so that a run the signal did not end ends anyway.
            std::thread::sleep(Duration::from_secs(1));
        }
        drop(input);
        let out = child.wait_with_output().expect("wait for -R");
        let status = match (out.status.code(), out.status.signal()) {
            (Some(code), _) => format!("exit {code}"),
            (_, Some(sig)) => format!("signal {sig}"),
            _ => "unknown".into(),
        };
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (applied, status, stderr, saved_table())
    })
}

#[test]
fn lines_of_a_stalled_pipe_are_applied_and_survive_a_signal() {
    testkit::kernel_test();
    for signal in [None, Some(libc::SIGTERM), Some(libc::SIGINT)] {
        let want = stalled_restore(&reference(), signal);
        let got = stalled_restore(&clone_binary(), signal);
        assert!(
            want.0 && want.3 == SAVED,
            "the reference applies each line as it reads it ({signal:?}): {want:?}"
        );
        assert_eq!(got, want, "ipvsadm-rs against ipvsadm, signal {signal:?}");
    }
}
