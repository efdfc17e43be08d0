//! ipvsadm-rs where the process is short of something: file descriptors (it lists and
//! changes the table wherever ipvsadm does, with the same output), and room for its output
//! (a full disk, a reader gone with SIGPIPE ignored: reported, deliberately unlike ipvsadm).
#![cfg(feature = "kernel-tests")]

use std::io::Write;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, Stdio};

use workspace_tests::{clone_binary, difference, in_fresh_netns, reference, Outcome};

/// How a run's output leaves the process.
#[derive(Clone, Copy)]
enum Sink {
    /// A pipe the test reads.
    Pipe,
    /// `/dev/full`: every write fails with ENOSPC.
    Full,
    /// A pipe whose reader is gone, with SIGPIPE ignored: every write fails with EPIPE.
    ClosedIgnoringSigpipe,
}

/// Runs `binary args` (as `ipvsadm`) with `stdin`, at most `fds` open file descriptors and
/// its stdout to `sink`.
fn run(binary: &Path, args: &str, stdin: &str, fds: Option<u64>, sink: Sink) -> Outcome {
    let mut command = Command::new(binary);
    command
        .arg0("ipvsadm")
        .args(args.split_whitespace())
        .stdin(Stdio::piped())
        .stderr(Stdio::piped());
    match sink {
        Sink::Full => {
            command.stdout(std::fs::File::create("/dev/full").expect("open /dev/full"));
        }
        Sink::Pipe | Sink::ClosedIgnoringSigpipe => {
            command.stdout(Stdio::piped());
        }
    }
    let ignore_sigpipe = matches!(sink, Sink::ClosedIgnoringSigpipe);
    // SAFETY: the closure only makes async-signal-safe calls (setrlimit, signal).
    unsafe {
        command.pre_exec(move || {
            if let Some(n) = fds {
                let limit = libc::rlimit {
                    rlim_cur: n,
                    rlim_max: n,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            if ignore_sigpipe {
                libc::signal(libc::SIGPIPE, libc::SIG_IGN);
            }
            Ok(())
        });
    }
    let mut child = command.spawn().expect("start the program");
    if matches!(sink, Sink::ClosedIgnoringSigpipe) {
        drop(child.stdout.take());
    }
    let mut input = child.stdin.take().expect("stdin pipe");
    input.write_all(stdin.as_bytes()).expect("write stdin");
    drop(input);
    let out = child.wait_with_output().expect("wait");
    let status = match (out.status.code(), out.status.signal()) {
        (Some(code), _) => format!("exit {code}"),
        (_, Some(sig)) => format!("signal {sig}"),
        _ => "unknown".into(),
    };
    Outcome {
        args: args.to_string(),
        status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Commands, with their stdin, that ipvsadm runs with only descriptor 3 to spare. Listings
/// with names (`-L`, `-S` without `-n`) are left out: ipvsadm-rs keeps its socket open, so the
/// name lookups find no descriptor for /etc/hosts and /etc/services and it prints numbers
/// (docs/ipvsadm-rs.md).
const WITH_FOUR_DESCRIPTORS: &[(&str, &str)] = &[
    ("-Ln", ""),
    ("-Sn", ""),
    ("-Ln --stats --exact", ""),
    ("-Ln -t 10.9.0.1:80", ""),
    ("-Lnc", ""),
    ("-Ln --timeout", ""),
    ("-Ln --daemon", ""),
    ("-A -t 10.9.0.2:80 -s wlc", ""),
    ("-a -t 10.9.0.2:80 -r 10.9.1.2 -w 3", ""),
    ("-e -t 10.9.0.2:80 -r 10.9.1.2 -w 5", ""),
    ("-Ln", ""),
    ("-R", "-A -u 10.9.0.3:53\n-Ln\n-D -u 10.9.0.3:53\n"),
    ("-D -t 10.9.0.2:80", ""),
    ("-Z", ""),
    ("-Ln --rate", ""),
];

#[test]
fn four_descriptors_are_enough_where_they_are_for_ipvsadm() {
    testkit::kernel_test();
    let (reference, clone) = (reference(), clone_binary());
    let setup = "-A -t 10.9.0.1:80 -s rr\n-a -t 10.9.0.1:80 -r 10.9.1.1:80 -m\n-A -t 127.0.0.1:80\n-a -t 127.0.0.1:80 -r 127.0.0.2:80 -m\n";
    let all_steps = |binary: &Path| {
        in_fresh_netns(|| {
            run(&reference, "-R", setup, None, Sink::Pipe);
            WITH_FOUR_DESCRIPTORS
                .iter()
                .map(|(args, stdin)| run(binary, args, stdin, Some(4), Sink::Pipe))
                .collect::<Vec<_>>()
        })
    };
    let want = all_steps(&reference);
    for outcome in &want {
        assert_eq!(outcome.status, "exit 0", "ipvsadm succeeds: {outcome:?}");
    }
    let report = difference("ulimit -n 4", &want, &all_steps(&clone));
    assert!(
        report.is_none(),
        "ipvsadm-rs differs:{}",
        report.unwrap_or_default()
    );
}

/// Enough services for a listing of many 4 KiB blocks.
fn many_services() -> String {
    (0..400)
        .map(|i| format!("-A -t 10.8.{}.{}:80\n", i / 200, i % 200 + 1))
        .collect()
}

#[test]
fn write_errors_are_reported_for_small_and_large_output() {
    testkit::kernel_test();
    let (reference, clone) = (reference(), clone_binary());
    in_fresh_netns(|| {
        run(&reference, "-A -t 10.9.0.1:80", "", None, Sink::Pipe);
        let small = run(&clone, "-Ln", "", None, Sink::Pipe);
        assert!(small.stdout.len() < 4096, "{small:?}");
        run(&reference, "-R", &many_services(), None, Sink::Pipe);
        let large = run(&clone, "-Ln", "", None, Sink::Pipe);
        assert!(large.stdout.len() > 2 * 4096, "{}", large.stdout.len());
        for (sink, reason) in [
            (Sink::Full, "No space left on device"),
            (Sink::ClosedIgnoringSigpipe, "Broken pipe"),
        ] {
            for args in ["-Ln -t 10.9.0.1:80", "-Ln", "-h"] {
                let got = run(&clone, args, "", None, sink);
                assert_eq!(
                    (got.status.as_str(), got.stderr.as_str()),
                    (
                        "exit 1",
                        format!("ipvsadm: write error: {reason}\n").as_str()
                    ),
                    "ipvsadm-rs {args} ({reason})"
                );
                // The deliberate difference: ipvsadm says nothing and exits 0.
                let want = run(&reference, args, "", None, sink);
                assert_eq!((want.status.as_str(), want.stderr.as_str()), ("exit 0", ""));
            }
        }
        // A state change is made even when its output cannot be written.
        let got = run(&clone, "-R", "-A -t 10.9.0.5:80\n-Ln\n", None, Sink::Full);
        assert_eq!(got.status, "exit 1", "{got:?}");
        let listed = run(&clone, "-Ln -t 10.9.0.5:80", "", None, Sink::Pipe);
        assert_eq!(listed.status, "exit 0", "{listed:?}");
    });
}
