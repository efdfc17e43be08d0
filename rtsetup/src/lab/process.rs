//! Detached processes a lab starts and stops: each is written down (pid and start time)
//! before its program runs, and is signalled only while it is still that process.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::removal::Removal;

/// A process as the kernel tells it apart: its pid and its start time (clock ticks after
/// boot, field 22 of `/proc/PID/stat`), which a later process reusing the pid cannot share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProcessId {
    pub(crate) pid: i32,
    pub(crate) start_time: u64,
}

/// Starts `command` as a grandchild in a session of its own; its parent exits at once, so
/// init (not the caller, which may be a long-lived program using the library) reaps it.
///
/// `record` gets the process's identity while the process waits just before exec: the
/// program only runs once `record` returned `Ok`. If `record` fails, or the caller dies
/// first, the process exits without running it, so an unrecorded program never runs.
pub(crate) fn spawn_detached<E>(
    mut command: Command,
    record: impl FnOnce(ProcessId) -> Result<(), E>,
) -> Result<ProcessId, SpawnError<E>> {
    let cloexec = nix::fcntl::OFlag::O_CLOEXEC;
    let (pid_reader, pid_writer) = nix::unistd::pipe2(cloexec).map_err(io_error)?;
    let (go_reader, go_writer) = nix::unistd::pipe2(cloexec).map_err(io_error)?;
    let (pid_fd, go_fd, go_writer_fd) = (
        pid_writer.as_raw_fd(),
        go_reader.as_raw_fd(),
        go_writer.as_raw_fd(),
    );
    // SAFETY: between fork and exec the closure only calls fork(2), setsid(2), getpid(2),
    // close(2), read(2), write(2) and _exit(2), all async-signal-safe, and touches no memory
    // but its own stack. The descriptors stay open in this process until the spawn returns.
    unsafe {
        command.pre_exec(move || match libc::fork() {
            -1 => Err(io::Error::last_os_error()),
            0 => {
                // Only the caller may hold the go pipe's write end: its death must read as EOF.
                libc::close(go_writer_fd);
                if libc::setsid() == -1 {
                    return Err(io::Error::last_os_error());
                }
                let pid = libc::getpid().to_ne_bytes();
                if libc::write(pid_fd, pid.as_ptr().cast(), pid.len()) != pid.len() as isize {
                    return Err(io::Error::last_os_error());
                }
                let mut go = 0u8;
                if libc::read(go_fd, (&mut go as *mut u8).cast(), 1) != 1 {
                    return Err(io::Error::from_raw_os_error(libc::ECANCELED));
                }
                Ok(())
            }
            _ => libc::_exit(0),
        });
    }
    std::thread::scope(|scope| {
        // The spawn returns once the grandchild has exec'd (or failed), so it runs on its own
        // thread while this one records the grandchild and lets it go.
        let spawner = scope.spawn(move || -> io::Result<()> {
            let spawned = command.spawn();
            drop(pid_writer);
            drop(go_reader);
            spawned?.wait().map(drop)
        });
        let mut go_writer = File::from(go_writer);
        let outcome = (|| {
            let mut pid = [0u8; 4];
            File::from(pid_reader)
                .read_exact(&mut pid)
                .map_err(SpawnError::Start)?;
            let pid = i32::from_ne_bytes(pid);
            let start_time = start_time(pid).ok_or_else(|| {
                SpawnError::Start(io::Error::other(format!("process {pid} vanished")))
            })?;
            let id = ProcessId { pid, start_time };
            record(id).map_err(SpawnError::Record)?;
            go_writer.write_all(&[1]).map_err(SpawnError::Start)?;
            Ok(id)
        })();
        drop(go_writer);
        let spawned = spawner
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("spawner thread panicked")));
        match (outcome, spawned) {
            (Ok(id), Ok(())) => Ok(id),
            (Err(SpawnError::Record(e)), _) => Err(SpawnError::Record(e)),
            (_, Err(e)) | (Err(SpawnError::Start(e)), _) => Err(SpawnError::Start(e)),
        }
    })
}

/// Why [`spawn_detached`] failed.
#[derive(Debug)]
pub(crate) enum SpawnError<E> {
    /// The process could not be started.
    Start(io::Error),
    /// Recording it failed, so its program never ran.
    Record(E),
}

fn io_error<E>(e: nix::Error) -> SpawnError<E> {
    SpawnError::Start(e.into())
}

/// The start time of `pid` (field 22 of `/proc/PID/stat`), if it exists.
pub(crate) fn start_time(pid: i32) -> Option<u64> {
    stat_fields(pid)?.get(19)?.parse().ok()
}

/// True while `id` runs (not gone, not a zombie nobody reaped yet, not another process).
pub(crate) fn alive(id: ProcessId) -> bool {
    stat_fields(id.pid).is_some_and(|fields| {
        fields.first().is_some_and(|s| s != "Z" && s != "X")
            && fields.get(19).and_then(|t| t.parse().ok()) == Some(id.start_time)
    })
}

/// The fields of `/proc/PID/stat` after the command name (which is in parentheses and may
/// hold spaces): the state first, so the start time is at index 19.
fn stat_fields(pid: i32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    Some(rest.split_whitespace().map(String::from).collect())
}

/// Stops `id` (SIGTERM, then SIGKILL after 2 s) if it is still that process. Signals go
/// through a pidfd opened before the start time is checked, so they cannot reach a process
/// that took the pid over afterwards.
pub(crate) fn stop(id: ProcessId) -> io::Result<Removal> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, id.pid, 0) };
    if fd < 0 {
        let e = io::Error::last_os_error();
        return match e.raw_os_error() {
            Some(libc::ESRCH) => Ok(Removal::Missing),
            _ => Err(e),
        };
    }
    // SAFETY: fd is a descriptor pidfd_open just returned, owned by nothing else.
    let pidfd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    match start_time(id.pid) {
        None => return Ok(Removal::Missing),
        Some(t) if t != id.start_time => {
            return Ok(Removal::Different(format!(
                "pid {} is now another process (started at tick {t}, recorded {})",
                id.pid, id.start_time
            )))
        }
        Some(_) => {}
    }
    if !alive(id) {
        return Ok(Removal::Missing);
    }
    let signal = |sig: libc::c_int| {
        // SAFETY: pidfd is a valid pidfd; a null siginfo means "as kill(2) would send it".
        let r = unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                pidfd.as_raw_fd(),
                sig,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
        match r {
            0 => Ok(()),
            _ => match io::Error::last_os_error() {
                e if e.raw_os_error() == Some(libc::ESRCH) => Ok(()),
                e => Err(e),
            },
        }
    };
    signal(libc::SIGTERM)?;
    let deadline = Instant::now() + Duration::from_secs(2);
    while alive(id) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if alive(id) {
        signal(libc::SIGKILL)?;
    }
    Ok(Removal::Removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parent pid and session id from `/proc/PID/stat`.
    fn parent_and_session(pid: i32) -> (i32, i32) {
        let fields = stat_fields(pid).unwrap();
        (fields[1].parse().unwrap(), fields[3].parse().unwrap())
    }

    fn sleep() -> Command {
        let mut command = Command::new("sleep");
        command.arg("30");
        command
    }

    #[test]
    fn detached_processes_are_not_our_children_so_we_never_hold_their_zombies() {
        let id = spawn_detached(sleep(), |_| Ok::<(), ()>(())).unwrap();
        let (parent, session) = parent_and_session(id.pid);
        let cmdline = std::fs::read(format!("/proc/{}/cmdline", id.pid)).unwrap();
        assert_eq!(stop(id).unwrap(), Removal::Removed);
        assert!(cmdline.starts_with(b"sleep\0"), "it runs the program");
        assert_ne!(parent, std::process::id() as i32);
        assert_eq!(session, id.pid, "it leads a session of its own");
        // Waiting for it must fail: only its new parent can reap it.
        let wait = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(id.pid), None);
        assert_eq!(wait, Err(nix::errno::Errno::ECHILD));
        assert_eq!(stop(id).unwrap(), Removal::Missing);
    }

    #[test]
    fn a_process_whose_record_fails_never_runs_its_program() {
        let mut seen = None;
        let error = spawn_detached(sleep(), |id| {
            seen = Some(id);
            Err("disk full")
        })
        .unwrap_err();
        assert!(
            matches!(error, SpawnError::Record("disk full")),
            "{error:?}"
        );
        let id = seen.expect("record was called with the waiting process");
        let deadline = Instant::now() + Duration::from_secs(5);
        while alive(id) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!alive(id), "the unrecorded process is still there");
    }

    #[test]
    fn a_stop_spares_a_process_that_took_the_pid_over() {
        let id = spawn_detached(sleep(), |_| Ok::<(), ()>(())).unwrap();
        let stale = ProcessId {
            start_time: id.start_time + 1,
            ..id
        };
        assert!(matches!(stop(stale).unwrap(), Removal::Different(_)));
        assert!(alive(id), "another process's stop killed it");
        assert_eq!(stop(id).unwrap(), Removal::Removed);
        assert!(!alive(id));
    }

    #[test]
    fn a_program_that_cannot_start_is_an_error() {
        let error =
            spawn_detached(Command::new("/nonexistent/rtsetup"), |_| Ok::<(), ()>(())).unwrap_err();
        assert!(
            matches!(&error, SpawnError::Start(e) if e.kind() == io::ErrorKind::NotFound),
            "{error:?}"
        );
    }
}
