//! What each command does, on top of the library.

use std::path::Path;

use rtsetup::lab::{check_real_server, Failure, Lab, Topology, STATE_ROOT};
use rtsetup::{Error, Netns, Result};

use crate::args::{Command, LabChoice, LabCommand};
use crate::output;

/// The walkthrough lab's name, under which `lab up` saves its state.
const DEFAULT_LAB: &str = "dsr";

/// Runs a command; the result is the process exit code.
pub fn run(command: Command) -> Result<i32> {
    match command {
        Command::Lab(LabCommand::Up {
            lab,
            scheduler,
            directors,
            no_sync,
        }) => {
            let topology = built_in_or_file(&lab, scheduler.as_deref(), directors, no_sync)?;
            let lab = Lab::new(topology)?;
            let exe = std::env::current_exe().map_err(|e| Error::Invalid {
                what: "executable",
                reason: format!("cannot find rtsetup's own path to start the HTTP responders: {e}"),
            })?;
            lab.up(&exe)?;
            print!("{}", output::lab_up(lab.topology()));
            Ok(0)
        }
        Command::Lab(LabCommand::Verify { lab, json, pcap }) => {
            let lab = existing_lab(&lab)?;
            let report = lab.verify()?;
            let written = match &pcap {
                Some(dir) => lab.write_evidence(&report, dir)?,
                None => Vec::new(),
            };
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report).expect("a report serializes")
                );
            } else {
                print!("{}", output::report(&report));
                for file in written {
                    println!("wrote {}", file.display());
                }
            }
            Ok(if report.ok() { 0 } else { 1 })
        }
        Command::Lab(LabCommand::Fail {
            director,
            hard: _,
            graceful,
            json,
        }) => {
            let lab = existing_lab(&LabChoice {
                real_servers: None,
                topology: None,
            })?;
            let how = if graceful {
                Failure::Graceful
            } else {
                Failure::Hard
            };
            let record = lab.fail(&director, how)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&record).expect("a record serializes")
                );
            } else {
                print!("{}", output::failover(&record));
            }
            Ok(0)
        }
        Command::Lab(LabCommand::Restore { director }) => {
            let lab = existing_lab(&LabChoice {
                real_servers: None,
                topology: None,
            })?;
            lab.restore(&director)?;
            println!("{director} is restored in lab {}", lab.topology().name);
            Ok(0)
        }
        Command::Lab(LabCommand::Down { lab: choice }) => {
            let lab = match existing_lab(&choice) {
                Ok(lab) => lab,
                // Unreadable state must not keep the walkthrough lab from coming down.
                Err(_) if choice.topology.is_none() => Lab::new(Topology::walkthrough(
                    choice.real_servers.unwrap_or(1),
                    Topology::WALKTHROUGH_SCHEDULER,
                )?)?,
                Err(e) => return Err(e),
            };
            lab.down()?;
            println!("lab {} is down", lab.topology().name);
            Ok(0)
        }
        Command::StreamClient {
            target,
            connections,
            log,
        } => {
            rtsetup::lab::stream::run_client(target, connections, &log).map_err(|e| {
                Error::from_io(
                    "stream from",
                    rtsetup::Object::Url(format!("http://{target}/stream")),
                    rtsetup::Place::Current,
                    e,
                )
            })?;
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

/// The built-in labs `--topology` names.
const BUILT_IN: [&str; 3] = ["dsr", "ha", "ecmp"];

/// The topology `lab up` builds: a built-in lab with the options given, or a TOML file.
fn built_in_or_file(
    choice: &LabChoice,
    scheduler: Option<&str>,
    directors: Option<u8>,
    no_sync: bool,
) -> Result<Topology> {
    let name = choice.topology.as_deref().unwrap_or(DEFAULT_LAB);
    let refuse = |option: &str| {
        Err(Error::Invalid {
            what: "option",
            reason: format!("{option} does not apply to the {name} lab"),
        })
    };
    match name {
        "dsr" => {
            if directors.is_some() {
                return refuse("--directors");
            }
            if no_sync {
                return refuse("--no-sync");
            }
            Topology::walkthrough(
                choice.real_servers.unwrap_or(1),
                scheduler.unwrap_or(Topology::WALKTHROUGH_SCHEDULER),
            )
        }
        "ha" => Topology::ha(
            directors.unwrap_or(2),
            choice.real_servers.unwrap_or(2),
            scheduler.unwrap_or("rr"),
            !no_sync,
        ),
        "ecmp" => {
            if no_sync {
                return refuse("--no-sync");
            }
            Topology::ecmp(
                directors.unwrap_or(3),
                choice.real_servers.unwrap_or(3),
                scheduler.unwrap_or("mh"),
            )
        }
        _ => {
            if choice.real_servers.is_some() || directors.is_some() || scheduler.is_some() {
                return refuse("--real-servers, --directors and --scheduler are for the built-in labs; a TOML file says it all, so");
            }
            read_topology(Path::new(name))
        }
    }
}

/// The lab a verify, fail, restore or down refers to: the built-in lab or file named, else
/// the one lab that is up.
fn existing_lab(choice: &LabChoice) -> Result<Lab> {
    let not_up = |what: String| Error::Invalid {
        what: "lab",
        reason: format!("{what}: run `rtsetup lab up` first"),
    };
    match choice.topology.as_deref() {
        Some(name) if BUILT_IN.contains(&name) => {
            Lab::saved(name)?.ok_or_else(|| not_up(format!("lab {name} is not up")))
        }
        Some(path) => Lab::new(read_topology(Path::new(path))?),
        None => {
            let mut up = Lab::all_saved()?;
            match up.len() {
                1 => Ok(up.remove(0)),
                0 => Err(not_up(format!("no lab is up (nothing saved under {STATE_ROOT})"))),
                _ => Err(Error::Invalid {
                    what: "lab",
                    reason: format!(
                        "several labs are up ({}): name one with --topology",
                        up.iter()
                            .map(|l| l.topology().name.clone())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                }),
            }
        }
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
