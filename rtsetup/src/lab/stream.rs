//! The lab's long-lived connections: a client (`rtsetup stream-client`, started in the
//! client's namespace by `lab up` of an `ha` or `ecmp` lab) that holds a number of
//! `GET /stream` connections to the VIP and logs, per connection, when it opened, every read
//! (with the real server's name and line number) and how it ended. `lab verify` reads that
//! log to prove that connections survived a failover on the same real server, and to measure
//! the gap without data.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::http::STREAM_PATH;

/// The hidden subcommand of the `rtsetup` binary that runs the streaming client.
pub const STREAM_CLIENT: &str = "stream-client";

/// Nanoseconds since the Unix epoch, the clock of the log, the captures and keepalived.
pub(crate) fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Opens `connections` streams to `target` (100 ms apart) and logs their life to `log` until
/// the process is stopped. Each connection is opened once: one that ends stays ended, so the
/// log shows every reset.
pub fn run_client(target: SocketAddr, connections: usize, log: &Path) -> io::Result<()> {
    let log = Arc::new(OpenOptions::new().create(true).append(true).open(log)?);
    let mut threads = Vec::new();
    for conn in 0..connections {
        let log = Arc::clone(&log);
        threads.push(std::thread::spawn(move || follow(conn, target, &log)));
        std::thread::sleep(Duration::from_millis(100));
    }
    for thread in threads {
        let _ = thread.join();
    }
    Ok(())
}

fn write_event(log: &File, conn: usize, port: u16, event: &str, detail: &str) {
    // One write per line on an O_APPEND file: lines of different threads never interleave.
    let line = format!("{} {conn} {port} {event} {detail}\n", now_ns());
    let _ = (&*log).write_all(line.as_bytes());
}

fn follow(conn: usize, target: SocketAddr, log: &File) {
    let mut stream = match TcpStream::connect_timeout(&target, Duration::from_secs(5)) {
        Ok(stream) => stream,
        Err(e) => return write_event(log, conn, 0, "error", &e.to_string().replace(' ', "_")),
    };
    let port = stream.local_addr().map_or(0, |a| a.port());
    write_event(log, conn, port, "open", "-");
    let request =
        format!("GET {STREAM_PATH} HTTP/1.0\r\nHost: {target}\r\nUser-Agent: rtsetup\r\n\r\n");
    if let Err(e) = stream.write_all(request.as_bytes()) {
        return write_event(log, conn, port, "error", &e.to_string().replace(' ', "_"));
    }
    let mut pending = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return write_event(log, conn, port, "closed", "-"),
            Ok(n) => {
                pending.extend_from_slice(&buffer[..n]);
                let Some(end) = pending.iter().rposition(|b| *b == b'\n') else {
                    continue;
                };
                let text = String::from_utf8_lossy(&pending[..end]).into_owned();
                pending.drain(..=end);
                let last = text.lines().rev().find_map(|line| {
                    let (server, seq) = line.trim().split_once(' ')?;
                    seq.parse::<u64>().ok().map(|seq| (server.to_string(), seq))
                });
                if let Some((server, seq)) = last {
                    write_event(log, conn, port, "data", &format!("{server} {seq}"));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                return write_event(log, conn, port, "reset", "-")
            }
            Err(e) => {
                return write_event(log, conn, port, "error", &e.to_string().replace(' ', "_"))
            }
        }
    }
}

/// How a stream ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StreamEnd {
    /// When, in nanoseconds since the Unix epoch.
    pub at_ns: u64,
    /// `reset`, `closed` or `error`.
    pub kind: String,
    /// The error, for `error`.
    pub detail: String,
}

/// One long-lived connection, as the streaming client saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stream {
    /// The client's number for it.
    pub conn: usize,
    /// The client's local port (0 when it never connected).
    pub port: u16,
    /// When it opened (ns since the epoch).
    pub opened_ns: u64,
    /// The real servers that sent its lines, in order of first appearance (one, unless
    /// something went badly wrong).
    pub servers: Vec<String>,
    /// When each read returned data (ns since the epoch).
    pub reads_ns: Vec<u64>,
    /// How it ended, if it did.
    pub end: Option<StreamEnd>,
}

impl Stream {
    /// The longest time without data between `from_ns` and `until_ns` (reads before
    /// `from_ns` count as its start), in nanoseconds.
    pub fn longest_gap_ns(&self, from_ns: u64, until_ns: u64) -> u64 {
        let mut last = self
            .reads_ns
            .iter()
            .copied()
            .filter(|t| *t <= from_ns)
            .max()
            .unwrap_or(from_ns);
        let mut longest = 0;
        for t in self
            .reads_ns
            .iter()
            .copied()
            .filter(|t| *t > from_ns && *t <= until_ns)
        {
            longest = longest.max(t - last);
            last = t;
        }
        longest.max(until_ns.saturating_sub(last))
    }

    /// Whether it received data after `t_ns`.
    pub fn data_after(&self, t_ns: u64) -> bool {
        self.reads_ns.last().is_some_and(|last| *last > t_ns)
    }
}

/// Reads the streaming client's log. Lines it cannot parse (a partial last line) are skipped.
pub(crate) fn read_log(path: &Path) -> io::Result<Vec<Stream>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let mut streams: BTreeMap<usize, Stream> = BTreeMap::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let (Some(t), Some(conn), Some(port), Some(event)) = (
            fields.first().and_then(|f| f.parse::<u64>().ok()),
            fields.get(1).and_then(|f| f.parse::<usize>().ok()),
            fields.get(2).and_then(|f| f.parse::<u16>().ok()),
            fields.get(3),
        ) else {
            continue;
        };
        let stream = streams.entry(conn).or_insert_with(|| Stream {
            conn,
            port,
            opened_ns: t,
            servers: Vec::new(),
            reads_ns: Vec::new(),
            end: None,
        });
        match *event {
            "data" => {
                if let Some(server) = fields.get(4) {
                    if !stream.servers.iter().any(|s| s == server) {
                        stream.servers.push(server.to_string());
                    }
                }
                stream.reads_ns.push(t);
            }
            "open" => {}
            kind => {
                stream.end = Some(StreamEnd {
                    at_ns: t,
                    kind: kind.to_string(),
                    detail: fields.get(4).unwrap_or(&"-").replace('_', " "),
                })
            }
        }
    }
    Ok(streams.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn the_log_tells_each_connection_its_server_gap_and_end() {
        let dir = std::env::temp_dir().join(format!("rtsetup-stream-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("log");
        std::fs::write(
            &log,
            "100 0 4000 open -\n200 0 4000 data ap1 0\n300 1 4001 open -\n\
             1200 0 4000 data ap1 9\n1300 1 4001 reset -\n5200 0 4000 data ap1 50\n5300 0 40",
        )
        .unwrap();
        let streams = read_log(&log).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(streams.len(), 2);
        assert_eq!(streams[0].servers, ["ap1"]);
        assert_eq!(streams[0].longest_gap_ns(1000, 6000), 4000);
        assert!(streams[0].data_after(5000) && streams[0].end.is_none());
        assert_eq!(streams[1].end.as_ref().unwrap().kind, "reset");
        assert!(!streams[1].data_after(0));
    }

    #[test]
    fn the_client_follows_a_real_stream() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || crate::http::serve(&listener, "ap9"));
        let dir = std::env::temp_dir().join(format!("rtsetup-follow-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("log");
        let path = log.clone();
        std::thread::spawn(move || run_client(addr, 2, &path));
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let streams = loop {
            let streams = read_log(&log).unwrap();
            if streams.len() == 2 && streams.iter().all(|s| s.reads_ns.len() >= 3) {
                break streams;
            }
            assert!(std::time::Instant::now() < deadline, "{streams:?}");
            std::thread::sleep(Duration::from_millis(100));
        };
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(streams
            .iter()
            .all(|s| s.servers == ["ap9"] && s.end.is_none() && s.port != 0));
    }
}
