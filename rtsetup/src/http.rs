//! A minimal HTTP/1.0 responder and client over std TCP: enough to prove a path through a
//! load balancer without python or curl.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use crate::error::{Error, Object, Result};
use crate::netns::{within, Netns, NetnsExt};

/// How long either side waits for the other.
const IO_TIMEOUT: Duration = Duration::from_secs(2);
/// Requests larger than this are not read further; the responder answers anyway.
const MAX_REQUEST: usize = 8192;

/// The path of the endless response: one line `NAME SEQ` every [`STREAM_PERIOD`].
pub const STREAM_PATH: &str = "/stream";
/// How often the endless response sends a line.
pub const STREAM_PERIOD: Duration = Duration::from_millis(100);

/// Serves every connection on `listener`, each on a thread of its own, forever (or until
/// accepting fails): `GET /stream` with an endless response of lines `NAME SEQ`, anything
/// else with `200 OK` and the body `name` plus a newline.
pub fn serve(listener: &TcpListener, name: &str) -> io::Result<()> {
    let body = format!("{name}\n");
    let response = format!(
        "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nServer: rtsetup\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    loop {
        let (mut stream, _) = listener.accept()?;
        let (name, response) = (name.to_string(), response.clone());
        // A client that misbehaves only loses its own connection.
        std::thread::spawn(move || answer(&mut stream, &name, response.as_bytes()));
    }
}

fn answer(stream: &mut TcpStream, name: &str, response: &[u8]) -> io::Result<()> {
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut request = Vec::new();
    let mut chunk = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < MAX_REQUEST {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        request.extend_from_slice(&chunk[..n]);
    }
    if request.starts_with(format!("GET {STREAM_PATH} ").as_bytes()) {
        return stream_lines(stream, name);
    }
    stream.write_all(response)?;
    stream.shutdown(std::net::Shutdown::Write)
}

/// Writes `NAME SEQ` lines until the peer goes away. A write blocked for long (a failover
/// in progress) only ends the stream after [`STREAM_STALL`].
fn stream_lines(stream: &mut TcpStream, name: &str) -> io::Result<()> {
    stream.set_write_timeout(Some(STREAM_STALL))?;
    stream.write_all(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nServer: rtsetup\r\n\r\n")?;
    for seq in 0u64.. {
        stream.write_all(format!("{name} {seq}\n").as_bytes())?;
        std::thread::sleep(STREAM_PERIOD);
    }
    Ok(())
}

/// How long the endless response waits for a blocked write.
const STREAM_STALL: Duration = Duration::from_secs(120);

/// A response to [`get`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The body, lossily decoded as UTF-8 and trimmed.
    pub body: String,
}

/// `GET /` from inside `netns` to `addr`, like `curl http://ADDR/` run there.
///
/// ```no_run
/// use rtsetup::NetnsExt;
/// let client = rtsetup::Netns::open("client")?;
/// let response = rtsetup::http::get(&client, "192.168.0.10:80".parse().unwrap())?;
/// assert_eq!(response.status, 200);
/// # Ok::<(), rtsetup::Error>(())
/// ```
pub fn get(netns: &Netns, addr: SocketAddr) -> Result<Response> {
    within(netns, || fetch(addr))?.map_err(|e| {
        Error::from_io(
            "GET",
            Object::Url(format!("http://{addr}/")),
            netns.place(),
            e,
        )
    })
}

fn fetch(addr: SocketAddr) -> io::Result<Response> {
    let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    // One write, one segment: write! would send each formatted piece on its own.
    let request = format!("GET / HTTP/1.0\r\nHost: {addr}\r\nUser-Agent: rtsetup\r\n\r\n");
    stream.write_all(request.as_bytes())?;
    let mut reply = Vec::new();
    stream.take(1 << 20).read_to_end(&mut reply)?;
    parse_response(&reply)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "not an HTTP response"))
}

fn parse_response(reply: &[u8]) -> Option<Response> {
    let text = String::from_utf8_lossy(reply);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status_line = head.lines().next()?;
    let mut parts = status_line.split_whitespace();
    if !parts.next()?.starts_with("HTTP/") {
        return None;
    }
    let status = parts.next()?.parse().ok()?;
    Some(Response {
        status,
        body: body.trim().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_its_name_over_loopback() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || serve(&listener, "ap7"));
        let response = fetch(addr).unwrap();
        assert_eq!(
            response,
            Response {
                status: 200,
                body: "ap7".into()
            }
        );
    }

    #[test]
    fn rejects_what_is_not_http() {
        assert!(parse_response(b"SSH-2.0-OpenSSH\r\n\r\n").is_none());
        assert!(parse_response(b"HTTP/1.0 200 OK").is_none());
        assert_eq!(
            parse_response(b"HTTP/1.1 404 Not Found\r\n\r\n")
                .unwrap()
                .status,
            404
        );
    }
}
