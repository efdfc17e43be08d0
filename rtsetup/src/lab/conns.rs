//! The IPVS connection table of a namespace, as `/proc/net/ip_vs_conn` shows it (IPVS has
//! no netlink dump of connections).

use std::net::{Ipv4Addr, SocketAddrV4};

use serde::Serialize;

use crate::error::{Error, Object, Result};
use crate::netns::{within, Netns, NetnsExt};

/// One IPVS connection entry (IPv4 only; the labs are IPv4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IpvsConn {
    /// `TCP`, `UDP`, `SCTP`.
    pub protocol: String,
    /// The client's address and port.
    pub client: SocketAddrV4,
    /// The virtual service's address and port.
    pub virtual_addr: SocketAddrV4,
    /// The real server it is forwarded to.
    pub destination: SocketAddrV4,
    /// The protocol state: `ESTABLISHED`, `TIME_WAIT`, ...
    pub state: String,
    /// Seconds until it expires.
    pub expires: u32,
}

impl IpvsConn {
    /// Whether it stands for a live TCP connection. Entries outlive their sockets (TIME_WAIT,
    /// CLOSE) and ports get reused, so only these say where a connection goes now.
    pub fn is_live(&self) -> bool {
        self.protocol == "TCP" && self.state == "ESTABLISHED"
    }
}

/// The connection entries in `netns`.
///
/// ```no_run
/// use rtsetup::NetnsExt;
/// let lb1 = rtsetup::Netns::open("lb1")?;
/// for c in rtsetup::lab::conns::connections(&lb1)? {
///     println!("{} -> {} {}", c.client, c.destination, c.state);
/// }
/// # Ok::<(), rtsetup::Error>(())
/// ```
pub fn connections(netns: &Netns) -> Result<Vec<IpvsConn>> {
    // /proc/net follows the process's namespace; thread-self follows this thread's.
    let path = "/proc/thread-self/net/ip_vs_conn";
    let text = within(netns, || std::fs::read_to_string(path))?
        .map_err(|e| Error::from_io("read", Object::File(path.into()), netns.place(), e))?;
    Ok(parse(&text))
}

fn parse(text: &str) -> Vec<IpvsConn> {
    let hex_addr = |addr: &str, port: &str| -> Option<SocketAddrV4> {
        let addr = u32::from_str_radix(addr, 16).ok()?;
        let port = u16::from_str_radix(port, 16).ok()?;
        Some(SocketAddrV4::new(Ipv4Addr::from(addr), port))
    };
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 9 {
                return None;
            }
            Some(IpvsConn {
                protocol: f[0].to_string(),
                client: hex_addr(f[1], f[2])?,
                virtual_addr: hex_addr(f[3], f[4])?,
                destination: hex_addr(f[5], f[6])?,
                state: f[7].to_string(),
                expires: f[8].parse().ok()?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernel_table_parses() {
        let text =
            "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n\
                    TCP C0A80001 9C40 C0A8000A 0050 C0A8000B 0050 ESTABLISHED     899\n\
                    TCP C0A80001 9C42 C0A8000A 0050 C0A8000C 0050 TIME_WAIT       119\n\
                    IP  bad\n";
        let conns = parse(text);
        assert_eq!(conns.len(), 2);
        assert_eq!(conns[0].client, "192.168.0.1:40000".parse().unwrap());
        assert_eq!(conns[0].destination, "192.168.0.11:80".parse().unwrap());
        assert!(conns[0].is_live() && !conns[1].is_live());
    }
}
