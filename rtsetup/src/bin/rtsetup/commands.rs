//! What each command does, on top of the library.

use std::path::Path;

use rtsetup::lab::{check_real_server, Lab, Topology};
use rtsetup::{Error, Netns, Result};

use crate::args::{Command, LabChoice, LabCommand};
use crate::output;

/// The walkthrough lab's name, under which `lab up` saves its state.
const DEFAULT_LAB: &str = "dsr";

/// Runs a command; the result is the process exit code.
pub fn run(command: Command) -> Result<i32> {
    match command {
        Command::Lab(LabCommand::Up { lab, scheduler }) => {
            let topology = match &lab.topology {
                Some(path) => read_topology(path)?,
                None => Topology::walkthrough(lab.real_servers, &scheduler)?,
            };
            let lab = Lab::new(topology)?;
            let exe = std::env::current_exe().map_err(|e| Error::Invalid {
                what: "executable",
                reason: format!("cannot find rtsetup's own path to start the HTTP responders: {e}"),
            })?;
            lab.up(&exe)?;
            print!("{}", output::lab_up(lab.topology()));
            Ok(0)
        }
        Command::Lab(LabCommand::Verify { lab, json }) => {
            let lab = existing_lab(&lab)?.ok_or_else(|| Error::Invalid {
                what: "lab",
                reason:
                    "no lab is up (nothing saved under /run/rtsetup): run `rtsetup lab up` first"
                        .into(),
            })?;
            let report = lab.verify()?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report).expect("a report serializes")
                );
            } else {
                print!("{}", output::report(&report));
            }
            Ok(if report.ok() { 0 } else { 1 })
        }
        Command::Lab(LabCommand::Down { lab: choice }) => {
            let lab = match &choice.topology {
                Some(path) => Lab::new(read_topology(path)?)?,
                // Unreadable state must not keep the walkthrough lab from coming down.
                None => match Lab::saved(DEFAULT_LAB) {
                    Ok(Some(lab)) => lab,
                    Ok(None) | Err(_) => Lab::new(Topology::walkthrough(
                        choice.real_servers,
                        Topology::WALKTHROUGH_SCHEDULER,
                    )?)?,
                },
            };
            lab.down()?;
            println!("lab {} is down", lab.topology().name);
            Ok(0)
        }
        Command::CheckRealServer { netns, vip, json } => {
            let checks = check_real_server(&Netns::open(&netns)?, &netns, vip)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&checks).expect("checks serialize")
                );
            } else {
                print!("{}", output::checks(&checks));
            }
            Ok(if checks.iter().all(|c| c.ok) { 0 } else { 1 })
        }
        Command::ServeHttp { name, listen } => {
            let listener = std::net::TcpListener::bind(listen).map_err(|e| {
                Error::from_io(
                    "listen on",
                    rtsetup::Object::Url(format!("http://{listen}/")),
                    rtsetup::Place::Current,
                    e,
                )
            })?;
            rtsetup::http::serve(&listener, &name).map_err(|e| {
                Error::from_io(
                    "serve",
                    rtsetup::Object::Url(format!("http://{listen}/")),
                    rtsetup::Place::Current,
                    e,
                )
            })?;
            Ok(0)
        }
    }
}

/// The lab a verify or down refers to: the given topology file, else what `lab up` saved.
fn existing_lab(choice: &LabChoice) -> Result<Option<Lab>> {
    match &choice.topology {
        Some(path) => Lab::new(read_topology(path)?).map(Some),
        None => Lab::saved(DEFAULT_LAB),
    }
}

fn read_topology(path: &Path) -> Result<Topology> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::from_io(
            "read",
            rtsetup::Object::File(path.into()),
            rtsetup::Place::Filesystem,
            e,
        )
    })?;
    Topology::from_toml(&text)
}
