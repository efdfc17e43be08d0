//! What each command does, on top of the library.

use std::path::Path;

use rtsetup::lab::{check_real_server, Lab, Topology, STATE_ROOT};
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
            let topology = match &lab.prefix {
                Some(prefix) => topology.with_prefix(prefix)?,
                None => topology,
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
        Command::Lab(LabCommand::Verify {
            lab,
            lab_name,
            json,
        }) => {
            let name = lab_name_of(&lab, lab_name)?;
            let lab = Lab::saved(&name)?.ok_or_else(|| Error::Invalid {
                what: "lab",
                reason: format!(
                    "lab {name} is not up (nothing saved under {STATE_ROOT}/{name}): run `rtsetup lab up` first"
                ),
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
        Command::Lab(LabCommand::Down { lab, lab_name }) => {
            let name = lab_name_of(&lab, lab_name)?;
            match rtsetup::lab::down(&name)? {
                Some(teardown) => {
                    for left in &teardown.left {
                        eprintln!("rtsetup: left alone, not the lab's any more: {left}");
                    }
                    print!("{}", output::teardown(&name, &teardown));
                }
                None => println!(
                    "no record of lab {name} under {STATE_ROOT}/{name}: nothing removed \
                     (rtsetup lab list shows the labs that have one)"
                ),
            }
            Ok(0)
        }
        Command::Lab(LabCommand::List) => {
            for name in rtsetup::lab::recorded()? {
                println!("{name}");
            }
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

/// The name of the lab a verify or down refers to: `--lab`, else the topology file's or
/// the walkthrough's name, after `--prefix`.
fn lab_name_of(choice: &LabChoice, lab_name: Option<String>) -> Result<String> {
    if let Some(name) = lab_name {
        return Ok(name);
    }
    let name = match &choice.topology {
        Some(path) => read_topology(path)?.name,
        None => DEFAULT_LAB.to_string(),
    };
    Ok(format!("{}{name}", choice.prefix.as_deref().unwrap_or("")))
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
