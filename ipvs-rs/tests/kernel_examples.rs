//! The example agent (`examples/agent.rs`) against the real kernel: it loads a state file,
//! logs each change with its old and new values, drains a real server the file drops while a
//! connection holds it, deletes it once idle, and prints rates.
//!
//! The agent binary is built by `cargo test` (examples are built with the tests, as in
//! `cargo xtask test`) or `cargo build -p ipvs-rs --examples`.
#![cfg(feature = "kernel-tests")]

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use ipvs_rs::{Forwarding, Handle, Scheduler, ServiceKey};
use support::reset;

/// The agent executable next to this test's, in cargo's examples directory.
fn agent_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .and_then(Path::parent)
        .map(|dir| dir.join("examples").join("agent"))
        .unwrap();
    assert!(
        path.is_file(),
        "{} is missing: build it with `cargo build -p ipvs-rs --examples`",
        path.display()
    );
    path
}

/// The running agent; killed when dropped, so a failing test leaves no process behind.
struct Agent {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Agent {
    fn start(state: &Path) -> Agent {
        let mut child = Command::new(agent_binary())
            .arg(state)
            .arg("0.2")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Agent {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The first line from now on that `want` accepts; panics after `limit`, showing
    /// everything the agent printed.
    fn wait_for(&mut self, limit: Duration, want: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if want(&line) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "the agent did not print the expected line within {limit:?}; it printed:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    fn wait_line(&mut self, exact: &str) {
        self.wait_for(Duration::from_secs(20), |line| line == exact);
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes the state file whole (a rename), so the agent never reads half of it.
fn write_state(path: &Path, text: &str) {
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// The state: service tcp:10.20.0.1:80 (rr) with masquerading real servers on loopback,
/// given as (port, weight).
fn state(json: bool, reals: &[(u16, i32)]) -> String {
    if json {
        let dests: Vec<String> = reals
            .iter()
            .map(|(port, weight)| {
                format!(
                    r#"{{"address": "127.0.0.1", "port": {port}, "forwarding": "masq", "weight": {weight}}}"#
                )
            })
            .collect();
        format!(
            r#"{{"services": [{{"key": "tcp:10.20.0.1:80", "scheduler": "rr", "destinations": [{}]}}]}}"#,
            dests.join(", ")
        )
    } else {
        let mut text = "[[services]]\nkey = \"tcp:10.20.0.1:80\"\nscheduler = \"rr\"\n".to_string();
        for (port, weight) in reals {
            text.push_str(&format!(
                "[[services.destinations]]\naddress = \"127.0.0.1\"\nport = {port}\n\
                 forwarding = \"masq\"\nweight = {weight}\n"
            ));
        }
        text
    }
}

/// (port, weight) of each real server of `key` in the kernel, all masquerading.
fn kernel_reals(ipvs: &Handle, key: &ServiceKey) -> Vec<(u16, i32)> {
    let mut reals: Vec<(u16, i32)> = ipvs
        .destinations(key)
        .unwrap()
        .iter()
        .map(|d| {
            assert_eq!(d.forwarding, Forwarding::Masq, "{d:?}");
            (d.port, d.weight)
        })
        .collect();
    reals.sort();
    reals
}

/// The whole life of one state file: load, weight edit, drain under a live connection,
/// delete once idle, rates.
fn agent_follows_its_state_file(json: bool) {
    testkit::kernel_test();
    let ipvs = Handle::new().unwrap();
    let status = Command::new("ip")
        .args(["addr", "add", "10.20.0.1/32", "dev", "lo"])
        .status()
        .unwrap();
    assert!(status.success());
    let key: ServiceKey = "tcp:10.20.0.1:80".parse().unwrap();
    let old_server = TcpListener::bind("127.0.0.1:8081").unwrap();
    let _new_server = TcpListener::bind("127.0.0.1:8082").unwrap();
    let dir = std::env::temp_dir().join(format!(
        "ipvs-rs-agent-{}-{}",
        std::process::id(),
        if json { "json" } else { "toml" }
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(if json { "state.json" } else { "state.toml" });

    write_state(&path, &state(json, &[(8081, 1)]));
    let mut agent = Agent::start(&path);
    agent.wait_line("add destination 127.0.0.1:8081 to tcp:10.20.0.1:80");
    assert_eq!(ipvs.service(&key).unwrap().scheduler, Scheduler::RoundRobin);
    assert_eq!(kernel_reals(&ipvs, &key), [(8081, 1)]);

    // A live connection through the first real server, the only one so far.
    let mut conn = TcpStream::connect("10.20.0.1:80").unwrap();
    let (mut served, _) = old_server.accept().unwrap();
    conn.write_all(b"ping").unwrap();
    let mut buf = [0; 4];
    served.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping");
    let rates = agent.wait_for(Duration::from_secs(20), |line| {
        line.starts_with("rates tcp:10.20.0.1:80 conns=1 ")
    });
    assert!(rates.contains(" cps="), "{rates}");

    write_state(&path, &state(json, &[(8081, 3), (8082, 2)]));
    agent.wait_line("update destination 127.0.0.1:8081 of tcp:10.20.0.1:80 (weight 1 -> 3)");
    agent.wait_line("add destination 127.0.0.1:8082 to tcp:10.20.0.1:80");
    assert_eq!(kernel_reals(&ipvs, &key), [(8081, 3), (8082, 2)]);

    // Dropped from the file while it holds the connection: drained, not deleted.
    write_state(&path, &state(json, &[(8082, 2)]));
    agent.wait_line("drain destination 127.0.0.1:8081 of tcp:10.20.0.1:80 (weight 3 -> 0)");
    for _ in 0..3 {
        agent.wait_line("draining 127.0.0.1:8081 of tcp:10.20.0.1:80");
    }
    assert_eq!(kernel_reals(&ipvs, &key), [(8081, 0), (8082, 2)]);
    served.write_all(b"pong").unwrap();
    conn.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"pong", "the drained server's connection still works");

    // Idle: the kernel forgets the reset connection within seconds, then the agent deletes.
    reset(conn);
    agent.wait_for(Duration::from_secs(60), |line| {
        line == "delete destination 127.0.0.1:8081 of tcp:10.20.0.1:80"
    });
    assert_eq!(kernel_reals(&ipvs, &key), [(8082, 2)]);
    drop(agent);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn agent_follows_a_toml_state_file() {
    agent_follows_its_state_file(false);
}

#[test]
fn agent_follows_a_json_state_file() {
    agent_follows_its_state_file(true);
}
