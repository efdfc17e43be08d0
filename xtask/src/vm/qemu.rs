//! Booting the guest under QEMU and relaying its output and exit status.

use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::kernel::Kernel;
use crate::error::{Error, Result};

/// Guest memory in MiB.
const MEMORY_MIB: u32 = 2048;
/// Guest vCPUs; TCG runs each on its own host thread.
const CPUS: u32 = 2;
/// Lines of the guest console shown when the guest fails.
const CONSOLE_TAIL_LINES: usize = 40;
/// How far back the shown console may reach to start at a kernel panic or oops: their stack
/// traces are often longer than the tail.
const CONSOLE_TROUBLE_LINES: usize = 150;
/// Console lines that start a kernel's report of trouble.
const TROUBLE_MARKERS: &[&str] = &["Kernel panic", "BUG:", "Oops:", "WARNING:"];

/// One guest boot that runs the job at `job` and reports its exit status.
pub struct Boot<'a> {
    /// The kernel to boot.
    pub kernel: &'a Kernel,
    /// Its image file, compressed or not.
    pub image: &'a Path,
    /// Its initramfs.
    pub initramfs: &'a Path,
    /// The job script, on the host filesystem.
    pub job: &'a Path,
    /// The host's library directory that holds `modules/` (`/usr/lib` on merged-/usr hosts).
    pub libdir: &'a Path,
    /// A private directory for sockets and the console log.
    pub run_dir: &'a Path,
    /// How long the whole boot may take.
    pub timeout: Duration,
    /// Where to copy the job's stdout besides streaming it, if anywhere.
    pub transcript: Option<Transcript>,
}

/// A copy of a job's stdout, filled as the output arrives, so that it survives a guest that
/// times out or dies.
pub type Transcript = Arc<Mutex<Vec<u8>>>;

impl Boot<'_> {
    /// Boots the guest, streams the job's stdout and stderr to ours, and returns the job's
    /// exit code.
    pub fn run(&self) -> Result<i32> {
        let streams = [
            ("stdout", Relay::Stdout(self.transcript.clone())),
            ("stderr", Relay::Stderr),
            ("status", Relay::Status),
        ];
        let mut listeners = Vec::new();
        for (name, relay) in streams {
            let path = self.run_dir.join(format!("{name}.sock"));
            let listener = UnixListener::bind(&path)
                .map_err(Error::io(format!("listening on {}", path.display())))?;
            listeners.push((name, path, listener, relay));
        }
        let mut command = self.command(&listeners)?;
        let started = Instant::now();
        let mut child = command
            .spawn()
            .map_err(|e| crate::host::spawn_error(&command, e))?;
        let relays = match accept_all(&mut child, listeners, started + self.timeout) {
            Ok(relays) => relays,
            Err(reason) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::QemuStart {
                    reason,
                    log: self.qemu_log(),
                });
            }
        };
        let status = wait_until(&mut child, started + self.timeout)?;
        let mut status_text = Vec::new();
        for relay in relays {
            status_text.extend(relay.join().unwrap_or_default());
        }
        let console_tail = || self.console_tail();
        let Some(status) = status else {
            return Err(Error::Timeout {
                timeout: self.timeout,
                console_tail: console_tail(),
            });
        };
        let text = String::from_utf8_lossy(&status_text).into_owned();
        text.trim().parse::<i32>().map_err(|_| Error::NoStatus {
            status,
            console_tail: console_tail(),
        })
    }

    fn command(&self, ports: &[(&str, PathBuf, UnixListener, Relay)]) -> Result<Command> {
        let append = format!(
            "console=ttyS0 quiet panic=-1 ipvsrs.job={} ipvsrs.modules={} ipvsrs.libdir={}",
            guest_path(self.job)?,
            guest_path(&self.kernel.modules())?,
            guest_path(self.libdir)?,
        );
        let qemu_log = self.run_dir.join("qemu.log");
        let qemu_log = fs::File::create(&qemu_log)
            .map_err(Error::io(format!("creating {}", qemu_log.display())))?;
        let mut command = Command::new("qemu-system-x86_64");
        command
            .args([
                "-nodefaults",
                "-no-user-config",
                "-display",
                "none",
                "-no-reboot",
            ])
            .args(["-accel", "tcg,thread=multi", "-cpu", "max"])
            .args(["-smp", &CPUS.to_string(), "-m", &MEMORY_MIB.to_string()])
            .arg("-kernel")
            .arg(self.image)
            .arg("-initrd")
            .arg(self.initramfs)
            .args(["-append", &append])
            .arg("-serial")
            .arg(format!("file:{}", self.console_log().display()))
            .args([
                "-fsdev",
                "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap",
                "-device",
                "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot",
                "-device",
                "virtio-serial-pci",
            ]);
        for (name, path, _, _) in ports {
            command
                .arg("-chardev")
                .arg(format!("socket,id={name},path={}", path.display()))
                .arg("-device")
                .arg(format!("virtserialport,chardev={name},name=ipvsrs.{name}"));
        }
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(qemu_log);
        Ok(command)
    }

    fn console_log(&self) -> PathBuf {
        self.run_dir.join("console.log")
    }

    /// The last lines of the guest console and of QEMU's own messages.
    fn console_tail(&self) -> String {
        let console = fs::read(self.console_log()).unwrap_or_default();
        let console = String::from_utf8_lossy(&console);
        excerpt(&format!("{console}{}", self.qemu_log()))
    }

    /// What QEMU printed on its stderr.
    fn qemu_log(&self) -> String {
        let log = fs::read(self.run_dir.join("qemu.log")).unwrap_or_default();
        String::from_utf8_lossy(&log).into_owned()
    }
}

/// Where a guest port's bytes go.
enum Relay {
    /// To our stdout, and to the transcript if there is one.
    Stdout(Option<Transcript>),
    /// To our stderr.
    Stderr,
    /// Collected and returned: the job's exit status.
    Status,
}

/// Accepts QEMU's connection on every port (it connects while starting up) and starts
/// relaying each; says why not if QEMU exits or stalls first.
fn accept_all(
    child: &mut Child,
    listeners: Vec<(&str, PathBuf, UnixListener, Relay)>,
    deadline: Instant,
) -> Result<Vec<JoinHandle<Vec<u8>>>, String> {
    let mut relays = Vec::new();
    for (name, _, listener, relay) in listeners {
        let stream = loop {
            listener
                .set_nonblocking(true)
                .map_err(|e| format!("cannot poll the {name} port: {e}"))?;
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(format!("cannot accept the {name} port: {e}")),
            }
            match child.try_wait() {
                Ok(Some(status)) => {
                    return Err(format!(
                        "it exited ({status}) before connecting the {name} port"
                    ))
                }
                Ok(None) => {}
                Err(e) => return Err(format!("cannot wait for it: {e}")),
            }
            if Instant::now() > deadline {
                return Err(format!("it never connected the {name} port"));
            }
            thread::sleep(Duration::from_millis(10));
        };
        stream
            .set_nonblocking(false)
            .map_err(|e| format!("cannot configure the {name} port: {e}"))?;
        relays.push(thread::spawn(move || relay_stream(stream, relay)));
    }
    Ok(relays)
}

/// Copies `stream` until EOF, flushing every chunk so output appears as it is produced;
/// returns what a [`Relay::Status`] collected.
fn relay_stream(mut stream: UnixStream, relay: Relay) -> Vec<u8> {
    let mut kept = Vec::new();
    let mut buffer = [0u8; 8192];
    while let Ok(n) = stream.read(&mut buffer) {
        if n == 0 {
            break;
        }
        let chunk = &buffer[..n];
        // A closed stdout on our side must not stall the guest: keep draining.
        let _ = match &relay {
            Relay::Stdout(transcript) => {
                if let Some(transcript) = transcript {
                    transcript
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .extend_from_slice(chunk);
                }
                write_flush(&mut io::stdout().lock(), chunk)
            }
            Relay::Stderr => write_flush(&mut io::stderr().lock(), chunk),
            Relay::Status => {
                kept.extend_from_slice(chunk);
                Ok(())
            }
        };
    }
    kept
}

fn write_flush(out: &mut impl Write, chunk: &[u8]) -> io::Result<()> {
    out.write_all(chunk)?;
    out.flush()
}

/// Waits for the child until `deadline`; kills it and returns `None` when time runs out.
fn wait_until(child: &mut Child, deadline: Instant) -> Result<Option<ExitStatus>> {
    loop {
        if let Some(status) = child.try_wait().map_err(Error::io("waiting for QEMU"))? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            child.wait().map_err(Error::io("waiting for QEMU"))?;
            return Ok(None);
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// `path` as it may appear on the guest kernel's command line.
fn guest_path(path: &Path) -> Result<String> {
    match path.to_str() {
        Some(text) if path.is_absolute() && !text.contains(char::is_whitespace) => {
            Ok(text.to_string())
        }
        _ => Err(Error::GuestPath(path.display().to_string())),
    }
}

/// The end of the console: the last lines, reaching back to the last report of kernel
/// trouble when that is not too far away.
fn excerpt(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut start = lines.len().saturating_sub(CONSOLE_TAIL_LINES);
    let trouble = lines
        .iter()
        .rposition(|line| TROUBLE_MARKERS.iter().any(|marker| line.contains(marker)));
    if let Some(at) = trouble {
        if at < start && lines.len() - at <= CONSOLE_TROUBLE_LINES {
            start = at;
        }
    }
    lines[start..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_paths_must_be_absolute_without_whitespace() {
        assert_eq!(guest_path(Path::new("/a/b+c_1")).unwrap(), "/a/b+c_1");
        assert!(guest_path(Path::new("a/b")).is_err());
        assert!(guest_path(Path::new("/a b")).is_err());
    }

    fn numbered(range: std::ops::Range<usize>) -> Vec<String> {
        range.map(|n| format!("line {n}")).collect()
    }

    #[test]
    fn excerpt_keeps_the_last_lines() {
        let text = numbered(0..100).join("\n");
        assert_eq!(excerpt(&text), numbered(60..100).join("\n"));
        assert_eq!(excerpt("one\n"), "one");
        assert_eq!(excerpt(""), "");
    }

    #[test]
    fn excerpt_reaches_back_to_a_panic() {
        let mut lines = numbered(0..100);
        lines[30] = "[ 17.3] Kernel panic - not syncing: sysrq triggered crash".into();
        let text = lines.join("\n");
        assert_eq!(excerpt(&text), lines[30..].join("\n"));
        // Too far back: the plain tail.
        let mut lines = numbered(0..300);
        lines[10] = "Kernel panic".into();
        assert_eq!(excerpt(&lines.join("\n")), lines[260..].join("\n"));
    }
}
