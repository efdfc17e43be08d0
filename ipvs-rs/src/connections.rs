//! The kernel's connection table, read from `/proc/net/ip_vs_conn`: IPVS has no netlink
//! command that lists connections, so ipvsadm, keepalived and this crate all read that file.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use crate::{Connection, Error, Netns, Protocol, Result};

/// The connection table seen from inside a namespace: `/proc/net` follows the reading
/// process, `/proc/thread-self/net` the reading thread, which is the one in the namespace.
const TABLE: &str = "/proc/thread-self/net/ip_vs_conn";

/// Every entry of the connection table of `netns`: client flows and persistence templates,
/// as `ipvsadm -L -c -n` lists them.
///
/// The kernel writes the file while it is read, so a table that changes meanwhile may show
/// an entry twice or miss one, as it does for ipvsadm. Persistence-engine data comes from
/// the clients' packets (a SIP Call-ID) and may hold bytes that are not UTF-8: they read as
/// U+FFFD, so one client cannot make the table unreadable.
///
/// ```no_run
/// use ipvs_rs::{connections, Netns};
/// for c in connections(&Netns::Named("lb".into()))? {
///     println!("{} -> {} -> {} {}", c.client, c.virtual_addr, c.destination, c.state);
/// }
/// # Ok::<(), ipvs_rs::Error>(())
/// ```
///
/// # Errors
/// [`Error::NotAvailable`] when the kernel has no IPVS (no ip_vs module loaded),
/// [`Error::Netns`] when the namespace cannot be entered, [`Error::Io`] when the file cannot
/// be read, and [`Error::Decode`] naming the line the kernel wrote in a form this crate does
/// not know (nothing is skipped silently).
pub fn connections(netns: &Netns) -> Result<Vec<Connection>> {
    let bytes = netns
        .run(|| std::fs::read(TABLE))?
        .map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => Error::NotAvailable,
            _ => Error::Io(e),
        })?;
    parse_file(&bytes)
}

/// The file's bytes, which are not all text.
fn parse_file(bytes: &[u8]) -> Result<Vec<Connection>> {
    parse_connections(&String::from_utf8_lossy(bytes))
}

/// The entries of a connection table in the kernel's text form (the contents of
/// `/proc/net/ip_vs_conn`, heading included).
///
/// ```
/// let text = "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n\
///             TCP C0A80001 9C40 C0A8000A 0050 C0A80003 0050 ESTABLISHED     899\n";
/// let table = ipvs_rs::parse_connections(text)?;
/// assert_eq!(table[0].client, "192.168.0.1:40000".parse().unwrap());
/// assert_eq!(table[0].destination, "192.168.0.3:80".parse().unwrap());
/// assert!(table[0].is_established());
/// # Ok::<(), ipvs_rs::Error>(())
/// ```
///
/// # Errors
/// [`Error::Decode`] naming the first line that is not in the kernel's form.
pub fn parse_connections(text: &str) -> Result<Vec<Connection>> {
    text.lines()
        .enumerate()
        .filter(|(i, line)| !(*i == 0 && line.starts_with("Pro ")))
        .map(|(i, line)| {
            parse_line(line).map_err(|reason| {
                Error::Decode(format!(
                    "connection table line {}: {reason}: {line:?}",
                    i + 1
                ))
            })
        })
        .collect()
}

/// `%-3s %08X|%pI6 %04X` three times (client, virtual, real server), then `%-11s %7u` and
/// an optional ` PENAME PEDATA` (ip_vs_conn.c, `ip_vs_conn_seq_show`).
fn parse_line(line: &str) -> std::result::Result<Connection, String> {
    let mut words = line.split_ascii_whitespace();
    let mut next = |what: &str| words.next().ok_or_else(|| format!("no {what}"));
    let protocol = protocol(next("protocol")?)?;
    let client = endpoint(next("client address")?, next("client port")?)?;
    let virtual_addr = endpoint(next("virtual address")?, next("virtual port")?)?;
    let destination = endpoint(next("real server address")?, next("real server port")?)?;
    let state = next("state")?.to_string();
    let expires = next("expiry")?;
    let expires = expires
        .parse::<u64>()
        .map_err(|_| format!("expiry {expires:?} is not a number of seconds"))?;
    let persistence_engine = match words.next() {
        None => None,
        Some(name) => {
            let data = words.collect::<Vec<_>>().join(" ");
            Some((name.to_string(), data))
        }
    };
    Ok(Connection {
        state,
        expires: Duration::from_secs(expires),
        persistence_engine,
        ..Connection::new(protocol, client, virtual_addr, destination)
    })
}

/// The kernel's protocol names (`ip_vs_proto_name`; IPIP and GRE since the kernel decapsulates
/// them for ICMP errors).
fn protocol(name: &str) -> std::result::Result<Protocol, String> {
    let number = match name {
        "TCP" => return Ok(Protocol::Tcp),
        "UDP" => return Ok(Protocol::Udp),
        "SCTP" => return Ok(Protocol::Sctp),
        "IP" => 0,
        "ICMP" => 1,
        "IPIP" => 4,
        "GRE" => 47,
        "ICMPv6" => 58,
        other => other
            .strip_prefix("IP_")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("unknown protocol {other:?}"))?,
    };
    Ok(Protocol::from(number))
}

/// An IPv4 address as eight hex digits, or an IPv6 address in the kernel's `%pI6` form
/// (eight groups of four digits), and a port as hex digits.
fn endpoint(address: &str, port: &str) -> std::result::Result<SocketAddr, String> {
    let ip = if address.contains(':') {
        address
            .parse::<Ipv6Addr>()
            .map(IpAddr::V6)
            .map_err(|_| format!("bad IPv6 address {address:?}"))?
    } else if address.len() == 8 {
        u32::from_str_radix(address, 16)
            .map(|n| IpAddr::V4(Ipv4Addr::from(n)))
            .map_err(|_| format!("bad IPv4 address {address:?}"))?
    } else {
        return Err(format!("bad address {address:?}"));
    };
    let port = u16::from_str_radix(port, 16).map_err(|_| format!("bad port {port:?}"))?;
    Ok(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADING: &str =
        "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n";

    #[test]
    fn every_form_the_kernel_writes() {
        let text = format!(
            "{HEADING}\
             TCP C0A80001 9C40 C0A8000A 0050 C0A8000B 0050 ESTABLISHED     899\n\
             UDP 0A000001 D431 0A00000A 0035 0A000002 0035 UDP             299\n\
             IP  C0A80001 0000 00000000 0000 C0A8000B 0050 NONE            359\n\
             TCP 2001:0db8:0000:0000:0000:0000:0000:0001 C350 2001:0db8:0000:0000:0000:0000:0000:000a 01BB 2001:0db8:0000:0000:0000:0000:0000:0003 01BB SYN_RECV         58\n\
             UDP C0A80001 13C4 C0A8000A 13C4 2001:0db8:0000:0000:0000:0000:0000:0003 13C4 UDP             179 sip call-1@host\n\
             IP_50 C0A80001 0000 C0A8000A 0000 C0A8000B 0000 NONE              1\n"
        );
        let table = parse_connections(&text).unwrap();
        assert_eq!(table.len(), 6);
        assert_eq!(table[0].protocol, Protocol::Tcp);
        assert_eq!(table[0].client, "192.168.0.1:40000".parse().unwrap());
        assert_eq!(table[0].virtual_addr, "192.168.0.10:80".parse().unwrap());
        assert_eq!(table[0].destination, "192.168.0.11:80".parse().unwrap());
        assert_eq!(
            (table[0].state.as_str(), table[0].expires),
            ("ESTABLISHED", Duration::from_secs(899))
        );
        assert!(table[0].is_established() && !table[1].is_established());
        assert_eq!(table[1].virtual_addr, "10.0.0.10:53".parse().unwrap());
        assert_eq!(table[2].protocol, Protocol::Other(0));
        assert_eq!(table[2].client.port(), 0);
        assert_eq!(table[3].client, "[2001:db8::1]:50000".parse().unwrap());
        assert_eq!(table[3].destination, "[2001:db8::3]:443".parse().unwrap());
        assert_eq!(table[4].destination, "[2001:db8::3]:5060".parse().unwrap());
        assert_eq!(
            table[4].persistence_engine,
            Some(("sip".to_string(), "call-1@host".to_string()))
        );
        assert_eq!(table[5].protocol, Protocol::Other(50));
    }

    #[test]
    fn bytes_a_client_sent_do_not_spoil_the_table() {
        let mut file = HEADING.as_bytes().to_vec();
        file.extend_from_slice(
            b"UDP C0A80001 13C4 C0A8000A 13C4 C0A8000B 13C4 UDP             179 sip ca\xe9ll\n",
        );
        let table = parse_file(&file).unwrap();
        assert_eq!(
            table[0].persistence_engine,
            Some(("sip".to_string(), "ca\u{fffd}ll".to_string()))
        );
        let numbered = format!("{HEADING}IP_6 C0A80001 0000 C0A8000A 0000 C0A8000B 0000 NONE 1\n");
        assert_eq!(
            parse_connections(&numbered).unwrap()[0].protocol,
            Protocol::Tcp
        );
    }

    #[test]
    fn an_empty_table_is_its_heading() {
        assert_eq!(parse_connections(HEADING).unwrap(), []);
        assert_eq!(parse_connections("").unwrap(), []);
    }

    #[test]
    fn a_line_in_another_form_is_an_error_naming_it() {
        for (line, reason) in [
            (
                "TCP C0A80001 9C40 C0A8000A 0050 C0A8000B",
                "no real server port",
            ),
            (
                "XYZ C0A80001 9C40 C0A8000A 0050 C0A8000B 0050 NONE 1",
                "unknown protocol",
            ),
            (
                "TCP C0A8001 9C40 C0A8000A 0050 C0A8000B 0050 NONE 1",
                "bad address",
            ),
            (
                "TCP C0A80001 9C40 C0A8000A 0050 C0A8000B 0050 NONE soon",
                "expiry",
            ),
            (
                "TCP C0A80001 G000 C0A8000A 0050 C0A8000B 0050 NONE 1",
                "bad port",
            ),
        ] {
            let text = format!("{HEADING}{line}\n");
            let error = parse_connections(&text).unwrap_err().to_string();
            assert!(error.contains(reason), "{error}");
            assert!(error.contains("line 2"), "{error}");
        }
    }
}
