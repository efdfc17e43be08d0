//! The real servers' HTTP responders: `rtsetup serve-http` processes started inside each
//! real server's namespace, detached, with their pids under the lab's state directory.

use std::fs::{self, File};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Stdio;
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
    // SAFETY: setsid(2) is async-signal-safe; it detaches the responder from our terminal
    // and process group so it outlives `rtsetup lab up`.
    unsafe {
        command.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let mut child = command
        .spawn()
        .map_err(|e| Error::from_io("start", object(), netns.place(), e))?;
    let pid_path = state.pid_file(host);
    fs::write(&pid_path, child.id().to_string()).map_err(|e| state.error("write", &pid_path, e))?;

    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if netns.run(|| TcpStream::connect_timeout(&probe, Duration::from_millis(200)).is_ok())? {
            return Ok(());
        }
        let exited = child.try_wait().ok().flatten();
        if exited.is_some() || Instant::now() > deadline {
            let log = fs::read_to_string(&log_path).unwrap_or_default();
            return Err(Error::System {
                action: "start",
                object: object(),
                place: netns.place(),
                source: std::io::Error::other(format!(
                    "not answering on {probe} ({}); its log says: {}",
                    exited.map_or("still starting after 5 s".to_string(), |s| s.to_string()),
                    log.trim()
                )),
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
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
fn alive(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name, which is in parentheses and may hold spaces.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}
