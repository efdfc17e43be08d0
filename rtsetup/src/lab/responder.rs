//! The real servers' HTTP responders: `rtsetup serve-http` processes started inside each
//! real server's namespace, detached, with their pids under the lab's state directory.

use std::fs::{self, File};
use std::io::{self, Read};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, Object, Result};
use crate::lab::state::StateDir;
use crate::netns::Netns;

/// The hidden subcommand of the `rtsetup` binary that serves HTTP.
pub const SERVE_HTTP: &str = "serve-http";

/// Starts the responder for `host` on every address of its namespace (the VIP on `lo` as
/// well as its own), unless one is already running; `probe` is an address to test it on.
pub(crate) fn start(
    netns: &Netns,
    host: &str,
    probe: SocketAddr,
    exe: &Path,
    state: &StateDir,
) -> Result<()> {
    if running_pid(state, host).is_some() {
        return Ok(());
    }
    let object = || Object::Process(format!("{SERVE_HTTP} in {host}"));
    let listen = SocketAddr::new(std::net::Ipv4Addr::UNSPECIFIED.into(), probe.port());
    let log_path = state.log_file(host);
    let log = File::create(&log_path).map_err(|e| state.error("create", &log_path, e))?;
    let log_err = log
        .try_clone()
        .map_err(|e| state.error("open", &log_path, e))?;
    let mut command = netns.command(exe)?;
    command
        .args([SERVE_HTTP, "--name", host, "--listen", &listen.to_string()])
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err);
    let pid =
        spawn_detached(command).map_err(|e| Error::from_io("start", object(), netns.place(), e))?;
    let pid_path = state.pid_file(host);
    fs::write(&pid_path, pid.to_string()).map_err(|e| state.error("write", &pid_path, e))?;

    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if netns.run(|| TcpStream::connect_timeout(&probe, Duration::from_millis(200)).is_ok())? {
            return Ok(());
        }
        let exited = !alive(pid);
        if exited || Instant::now() > deadline {
            let log = fs::read_to_string(&log_path).unwrap_or_default();
            return Err(Error::System {
                action: "start",
                object: object(),
                place: netns.place(),
                source: std::io::Error::other(format!(
                    "not answering on {probe} ({}); its log says: {}",
                    if exited {
                        "it exited"
                    } else {
                        "still starting after 5 s"
                    },
                    log.trim()
                )),
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts `command` as a grandchild in a session of its own and returns its pid. Its
/// parent exits at once, so init (not the caller, which may be a long-lived program using
/// the library) reaps it when it ends: `lab down` leaves no zombie behind.
pub(crate) fn spawn_detached(mut command: Command) -> io::Result<i32> {
    let (pid_reader, pid_writer) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    let writer = pid_writer.as_raw_fd();
    // SAFETY: between fork and exec the closure only calls fork(2), setsid(2), getpid(2),
    // write(2) and _exit(2), all async-signal-safe, and touches no memory but its own stack.
    // `writer` stays open in this process until the spawn returns.
    unsafe {
        command.pre_exec(move || match libc::fork() {
            -1 => Err(io::Error::last_os_error()),
            0 => {
                if libc::setsid() == -1 {
                    return Err(io::Error::last_os_error());
                }
                let pid = libc::getpid().to_ne_bytes();
                if libc::write(writer, pid.as_ptr().cast(), pid.len()) != pid.len() as isize {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            }
            _ => libc::_exit(0),
        });
    }
    // The spawn succeeds only once the grandchild has exec'd, so its pid is in the pipe.
    let mut intermediate = command.spawn()?;
    drop(pid_writer);
    intermediate.wait()?;
    let mut pid = [0u8; 4];
    File::from(pid_reader).read_exact(&mut pid)?;
    Ok(i32::from_ne_bytes(pid))
}

/// Stops the responder for `host` if it runs. Returns whether one was running.
pub(crate) fn stop(state: &StateDir, host: &str) -> Result<bool> {
    let pid_path = state.pid_file(host);
    let Some(pid) = running_pid(state, host) else {
        let _ = fs::remove_file(&pid_path);
        return Ok(false);
    };
    let pid = nix::unistd::Pid::from_raw(pid);
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(2);
    while alive(pid.as_raw()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if alive(pid.as_raw()) {
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
    }
    let _ = fs::remove_file(&pid_path);
    Ok(true)
}

/// The pid recorded for `host`, if that process is alive and still our responder (a pid
/// can be reused after a reboot-less crash).
pub(crate) fn running_pid(state: &StateDir, host: &str) -> Option<i32> {
    let pid: i32 = fs::read_to_string(state.pid_file(host))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    let ours = args.contains(&SERVE_HTTP.as_bytes()) && args.contains(&host.as_bytes());
    (ours && alive(pid)).then_some(pid)
}

/// True unless the process is gone or a zombie nobody reaped yet.
pub(crate) fn alive(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name, which is in parentheses and may hold spaces.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// State, parent pid and session id from `/proc/PID/stat`.
    fn stat(pid: i32) -> (String, i32, i32) {
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let (_, rest) = stat.rsplit_once(')').unwrap();
        let fields: Vec<&str> = rest.split_whitespace().collect();
        (
            fields[0].to_string(),
            fields[1].parse().unwrap(),
            fields[3].parse().unwrap(),
        )
    }

    #[test]
    fn detached_processes_are_not_our_children_so_we_never_hold_their_zombies() {
        let mut command = Command::new("sleep");
        command.arg("30");
        let pid = spawn_detached(command).unwrap();
        let (state, parent, session) = stat(pid);
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        )
        .unwrap();
        assert_ne!(parent, std::process::id() as i32, "state {state}");
        assert_eq!(session, pid, "it leads a session of its own");
        // Waiting for it must fail: only its new parent can reap it.
        let wait = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
        assert_eq!(wait, Err(nix::errno::Errno::ECHILD));
    }

    #[test]
    fn a_program_that_cannot_start_is_an_error() {
        let error = spawn_detached(Command::new("/nonexistent/rtsetup")).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
    }
}
