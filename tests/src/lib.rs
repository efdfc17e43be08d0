//! Support for the workspace's cross-crate suites.
//!
//! The differential suite runs each scenario (a list of ipvsadm command lines) through the
//! reference ipvsadm 1.31 and through ipvsadm-rs, each in its own fresh network namespace,
//! and compares every command's exit status, stdout and stderr byte for byte. Both programs
//! are started with `argv[0] = "ipvsadm"`, since ipvsadm prints its `argv[0]` in messages.

#![deny(missing_docs)]

use std::io::Write;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

/// One command line of a scenario, with what to feed on stdin (for `-R`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The arguments after the program name.
    pub args: Vec<String>,
    /// Standard input, if any (otherwise /dev/null).
    pub stdin: Option<String>,
    /// Run as this user and group id instead of root.
    pub as_user: Option<u32>,
}

/// A step from a line of whitespace-separated arguments.
pub fn cmd(line: &str) -> Step {
    Step {
        args: line.split_whitespace().map(String::from).collect(),
        stdin: None,
        as_user: None,
    }
}

/// A step with explicit arguments (for arguments containing spaces or empty ones).
pub fn cmd_args(args: &[&str]) -> Step {
    Step {
        args: args.iter().map(|s| s.to_string()).collect(),
        stdin: None,
        as_user: None,
    }
}

/// A step running `line` with `input` on stdin.
pub fn with_stdin(line: &str, input: &str) -> Step {
    Step {
        stdin: Some(input.to_string()),
        ..cmd(line)
    }
}

/// A step run as the unprivileged user and group `nobody` (65534).
pub fn as_nobody(line: &str) -> Step {
    Step {
        as_user: Some(65534),
        ..cmd(line)
    }
}

/// `-R` with `input` on stdin.
pub fn restore(input: &str) -> Step {
    with_stdin("-R", input)
}

/// What one command did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The arguments, for messages.
    pub args: String,
    /// `exit N` or `signal N`.
    pub status: String,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// The reference ipvsadm 1.31.
pub fn reference() -> PathBuf {
    testkit::reference_ipvsadm().to_path_buf()
}

/// The ipvsadm-rs binary: `$IPVSADM_RS`, or `ipvsadm-rs` in the target directory this
/// test binary was built into.
pub fn clone_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("IPVSADM_RS") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target directory");
    let path = dir.join("ipvsadm-rs");
    assert!(
        path.exists(),
        "{} is missing: build it first (cargo build -p ipvsadm-rs) or set IPVSADM_RS; {}",
        path.display(),
        testkit::HOW_TO_RUN
    );
    path
}

/// A copy of `binary` that any user may run: the tree it was built in need not be searchable
/// by others (a checkout under /root is not).
fn runnable_by_anyone(binary: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("workspace-tests-exec-{}", std::process::id()));
    let name = binary.file_name().expect("a binary has a file name");
    let copy = dir.join(name);
    let open = std::fs::Permissions::from_mode(0o755);
    std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::set_permissions(&dir, open.clone()))
        .and_then(|()| std::fs::copy(binary, &copy))
        .and_then(|_| std::fs::set_permissions(&copy, open))
        .unwrap_or_else(|e| panic!("cannot copy {} for another user: {e}", binary.display()));
    copy
}

/// Runs one step with `binary` in the calling thread's network namespace, as the step's user.
pub fn run_step(binary: &Path, step: &Step) -> Outcome {
    let mut command = match step.as_user {
        Some(uid) => {
            let mut command = Command::new(runnable_by_anyone(binary));
            command.uid(uid).gid(uid);
            command
        }
        None => Command::new(binary),
    };
    command
        .arg0("ipvsadm")
        .args(&step.args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command.stdin(if step.stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
    if let Some(input) = &step.stdin {
        let mut pipe = child.stdin.take().expect("stdin pipe");
        let input = input.clone();
        std::thread::spawn(move || {
            let _ = pipe.write_all(input.as_bytes());
        });
    }
    let out = child.wait_with_output().expect("wait for child");
    let status = match (out.status.code(), out.status.signal()) {
        (Some(code), _) => format!("exit {code}"),
        (None, Some(sig)) => format!("signal {sig}"),
        _ => "unknown".to_string(),
    };
    Outcome {
        args: step.args.join(" "),
        status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `f` on a new thread inside a fresh network namespace with `lo` up, one at a time.
///
/// IPVS dumps resume by position in a service table that every namespace shares, so a
/// listing taken while another namespace adds or removes services can repeat or miss
/// entries; the reference ipvsadm shows such repeats as they come. Scenarios therefore take
/// turns, and each empties its table before its namespace goes away, so that no namespace's
/// teardown rewrites the table under the next scenario's listing.
pub fn in_fresh_netns<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    static ONE_SCENARIO_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_SCENARIO_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    std::thread::scope(|s| {
        s.spawn(|| {
            testkit::isolate_netns()
                .unwrap_or_else(|e| panic!("cannot create a network namespace: {e}"));
            let result = f();
            let _ = Command::new(reference()).arg("-C").output();
            result
        })
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

/// Runs every step with `binary` in one fresh namespace.
pub fn run_scenario(binary: &Path, steps: &[Step]) -> Vec<Outcome> {
    in_fresh_netns(|| steps.iter().map(|s| run_step(binary, s)).collect())
}

/// Gives the calling thread (and the processes it starts) a private mount namespace in
/// which each `(path, contents)` replaces the file at `path`: how the name tests get their
/// own /etc/hosts and /etc/services without touching the system's.
pub fn private_files(files: &[(&str, &str)]) -> std::io::Result<()> {
    let check = |rc: libc::c_int| {
        if rc == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    };
    // SAFETY: unshare affects only this thread's mount namespace and fs context.
    check(unsafe { libc::unshare(libc::CLONE_NEWNS) })?;
    let root = std::ffi::CString::new("/").expect("no NUL");
    // SAFETY: plain mount(2) calls with valid NUL-terminated paths.
    check(unsafe {
        libc::mount(
            std::ptr::null(),
            root.as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        )
    })?;
    for (i, (path, contents)) in files.iter().enumerate() {
        let source = std::env::temp_dir().join(format!(
            "workspace-tests-{}-{i}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::write(&source, contents)?;
        let source = std::ffi::CString::new(source.to_string_lossy().into_owned()).expect("no NUL");
        let target = std::ffi::CString::new(*path).expect("no NUL");
        // SAFETY: as above.
        check(unsafe {
            libc::mount(
                source.as_ptr(),
                target.as_ptr(),
                std::ptr::null(),
                libc::MS_BIND,
                std::ptr::null(),
            )
        })?;
    }
    Ok(())
}

/// Runs a scenario through both programs, each in a fresh network namespace and a private
/// mount namespace where `files` replace system files, and describes any difference.
pub fn compare_with_files(name: &str, files: &[(&str, &str)], steps: &[Step]) -> Option<String> {
    let run = |binary: PathBuf| {
        in_fresh_netns(|| {
            private_files(files).unwrap_or_else(|e| panic!("cannot set up private files: {e}"));
            steps
                .iter()
                .map(|s| run_step(&binary, s))
                .collect::<Vec<_>>()
        })
    };
    let want = run(reference());
    let got = run(clone_binary());
    difference(name, &want, &got)
}

/// A readable account of where two runs differ, or `None` when they agree.
pub fn difference(name: &str, want: &[Outcome], got: &[Outcome]) -> Option<String> {
    let mut report = String::new();
    for (w, g) in want.iter().zip(got) {
        if w != g {
            report.push_str(&format!("\n[{name}] ipvsadm {}\n", w.args));
            for (what, a, b) in [
                ("status", &w.status, &g.status),
                ("stdout", &w.stdout, &g.stdout),
                ("stderr", &w.stderr, &g.stderr),
            ] {
                if a != b {
                    report.push_str(&format!(
                        "  {what}: ipvsadm:\n{a}\n  {what}: ipvsadm-rs:\n{b}\n"
                    ));
                }
            }
        }
    }
    (!report.is_empty()).then_some(report)
}

/// Runs a scenario through both programs (each in a fresh namespace) and describes any
/// difference.
pub fn compare(name: &str, steps: &[Step]) -> Option<String> {
    let want = run_scenario(&reference(), steps);
    let got = run_scenario(&clone_binary(), steps);
    difference(name, &want, &got)
}

/// Sets a table up with the reference ipvsadm in one fresh namespace, then runs every
/// check through both programs there: for listings whose order depends on the kernel's
/// per-namespace hash (ipvsadm's sort is not a total order, so even sorted listings of
/// far-apart addresses follow the dump order).
pub fn compare_in_one_namespace(name: &str, setup: &[Step], checks: &[Step]) -> Option<String> {
    let (reference, clone) = (reference(), clone_binary());
    in_fresh_netns(|| {
        for step in setup {
            run_step(&reference, step);
        }
        let want: Vec<Outcome> = checks.iter().map(|s| run_step(&reference, s)).collect();
        let got: Vec<Outcome> = checks.iter().map(|s| run_step(&clone, s)).collect();
        difference(name, &want, &got)
    })
}

/// Compares a table of scenarios and panics with every difference found.
pub fn assert_same(scenarios: &[(&str, Vec<Step>)]) {
    testkit::require_ipvs();
    let report: String = scenarios
        .iter()
        .filter_map(|(name, steps)| compare(name, steps))
        .collect();
    assert!(
        report.is_empty(),
        "ipvsadm-rs differs from ipvsadm:{report}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_split_on_whitespace() {
        assert_eq!(
            cmd(" -A  -t 10.0.0.1:80 ").args,
            vec!["-A", "-t", "10.0.0.1:80"]
        );
        assert_eq!(restore("-C\n").stdin.as_deref(), Some("-C\n"));
    }

    #[test]
    fn differences_are_reported() {
        let a = Outcome {
            args: "-Ln".into(),
            status: "exit 0".into(),
            stdout: "x".into(),
            stderr: String::new(),
        };
        let b = Outcome {
            stdout: "y".into(),
            ..a.clone()
        };
        assert!(difference("t", std::slice::from_ref(&a), std::slice::from_ref(&a)).is_none());
        let d = difference("t", &[a], &[b]).unwrap();
        assert!(d.contains("stdout") && !d.contains("stderr"));
    }

    #[test]
    fn run_step_reports_status_and_output() {
        let step = Step {
            stdin: Some("hi".into()),
            ..cmd_args(&["-c", "cat; exit 3"])
        };
        let o = run_step(Path::new("/bin/sh"), &step);
        assert_eq!(o.status, "exit 3");
        assert_eq!(o.stdout, "hi");
    }
}
