//! The real servers' HTTP responders: `rtsetup serve-http` processes started inside each
//! real server's namespace, detached, recorded in the lab's [`Ledger`] before they run.

use std::fs::File;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::error::{Error, Object, Result};
use crate::lab::ledger::Ledger;
use crate::lab::state::StateDir;
use crate::netns::{within, Netns, NetnsExt};

/// The hidden subcommand of the `rtsetup` binary that serves HTTP.
pub const SERVE_HTTP: &str = "serve-http";

/// Starts the responder for `host` on every address of its namespace (the VIP on `lo` as
/// well as its own), unless the one this lab recorded still runs; `probe` is an address to
/// test it on.
pub(crate) fn start(
    ledger: &mut Ledger,
    netns: &Netns,
    host: &str,
    probe: SocketAddr,
    exe: &Path,
    state: &StateDir,
) -> Result<()> {
    let label = format!("{SERVE_HTTP} in {host}");
    if ledger.running(&label).is_some() {
        return Ok(());
    }
    let object = || Object::Process(label.clone());
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
    ledger.spawn(netns, &label, command)?;

    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if within(netns, || {
            TcpStream::connect_timeout(&probe, Duration::from_millis(200)).is_ok()
        })? {
            return Ok(());
        }
        let exited = ledger.running(&label).is_none();
        if exited || Instant::now() > deadline {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
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
