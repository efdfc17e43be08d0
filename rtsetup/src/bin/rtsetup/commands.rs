//! What each command does, on top of the library.

use std::path::Path;

use rtsetup::lab::{check_real_server, Failure, Lab, Topology, STATE_ROOT};
use rtsetup::{Error, Netns, NetnsExt, Result};

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
            pcap,
        }) => {
            let lab = saved_lab(&lab_name_of(&lab, lab_name)?)?;
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
            lab_name,
            json,
        }) => {
            let lab = saved_lab(&lab_name_of(&no_choice(), lab_name)?)?;
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
        Command::Lab(LabCommand::Restore { director, lab_name }) => {
            let lab = saved_lab(&lab_name_of(&no_choice(), lab_name)?)?;
            lab.restore(&director)?;
            println!("{director} is restored in lab {}", lab.topology().name);
            Ok(0)
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

fn no_choice() -> LabChoice {
    LabChoice {
        real_servers: None,
        topology: None,
        prefix: None,
    }
}

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
                return refuse(
                    "--real-servers, --directors and --scheduler (a TOML file says it all)",
                );
            }
            read_topology(Path::new(name))
        }
    }
}

/// The name of the lab a command refers to: `--lab`; else the built-in lab or topology
/// file's name after `--prefix`; else the one recorded lab (with that prefix); else the
/// walkthrough's name.
fn lab_name_of(choice: &LabChoice, lab_name: Option<String>) -> Result<String> {
    if let Some(name) = lab_name {
        return Ok(name);
    }
    let prefix = choice.prefix.as_deref().unwrap_or("");
    let name = match choice.topology.as_deref() {
        Some(name) if BUILT_IN.contains(&name) => name.to_string(),
        Some(path) => read_topology(Path::new(path))?.name,
        None => {
            let mut up: Vec<String> = rtsetup::lab::recorded()?
                .into_iter()
                .filter(|n| n.starts_with(prefix))
                .collect();
            return match up.len() {
                0 => Ok(format!("{prefix}{DEFAULT_LAB}")),
                1 => Ok(up.remove(0)),
                _ => Err(Error::Invalid {
                    what: "lab",
                    reason: format!(
                        "several labs are up ({}): name one with --lab",
                        up.join(", ")
                    ),
                }),
            };
        }
    };
    Ok(format!("{prefix}{name}"))
}

fn saved_lab(name: &str) -> Result<Lab> {
    Lab::saved(name)?.ok_or_else(|| Error::Invalid {
        what: "lab",
        reason: format!(
            "lab {name} is not up (nothing saved under {STATE_ROOT}/{name}): run `rtsetup lab up` first"
        ),
    })
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
