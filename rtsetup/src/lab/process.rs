//! Long-running processes a lab starts besides the HTTP responders (keepalived, the streaming
//! client): detached, their pid recorded under the lab's state directory with the arguments
//! that identify them, so a stop never signals a process that reused the pid.

use std::fs;
use std::process::Command;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::error::{Error, Object, Place, Result};
use crate::lab::responder::{alive, spawn_detached};
use crate::lab::state::StateDir;

/// A process the lab owns: `key` names its pid file, `marks` are arguments its command line
/// must contain to still be the process the lab started.
pub(crate) struct Owned<'a> {
    pub(crate) state: &'a StateDir,
    pub(crate) key: String,
    pub(crate) marks: Vec<String>,
}

impl Owned<'_> {
    fn pid_file(&self) -> std::path::PathBuf {
        self.state.file(&format!("{}.pid", self.key))
    }

    /// Starts `command` detached unless the recorded process still runs; returns its pid.
    pub(crate) fn start(&self, command: Command, place: Place) -> Result<i32> {
        if let Some(pid) = self.running() {
            return Ok(pid);
        }
        let pid = spawn_detached(command).map_err(|e| {
            Error::from_io("start", Object::Process(self.key.clone()), place, e)
        })?;
        let path = self.pid_file();
        fs::write(&path, pid.to_string()).map_err(|e| self.state.error("write", &path, e))?;
        Ok(pid)
    }

    /// The recorded pid, if that process is alive and still carries the marks.
    pub(crate) fn running(&self) -> Option<i32> {
        let pid: i32 = fs::read_to_string(self.pid_file()).ok()?.trim().parse().ok()?;
        let cmdline = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        let ours = self.marks.iter().all(|m| args.contains(&m.as_bytes()));
        (ours && alive(pid)).then_some(pid)
    }

    /// Stops the process (SIGTERM, SIGKILL after `grace`) if it runs; returns whether it did.
    pub(crate) fn stop(&self, grace: Duration) -> bool {
        let found = self.running();
        if let Some(pid) = found {
            let pid = Pid::from_raw(pid);
            let _ = kill(pid, Signal::SIGTERM);
            let deadline = Instant::now() + grace;
            while alive(pid.as_raw()) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            if alive(pid.as_raw()) {
                let _ = kill(pid, Signal::SIGKILL);
            }
        }
        let _ = fs::remove_file(self.pid_file());
        found.is_some()
    }
}
