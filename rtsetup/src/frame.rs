//! Ethernet frames as captured on a veth: just enough of Ethernet, ARP, IPv4 and TCP to
//! follow a request through a load balancer, and ARP requests to send.

use std::fmt;
use std::net::Ipv4Addr;

use serde::Serialize;

use crate::mac::MacAddr;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_ARP: u16 = 0x0806;
const IPPROTO_TCP: u8 = 6;
const IPPROTO_IPIP: u8 = 4;

/// A decoded Ethernet frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Frame {
    /// Source MAC address.
    pub src: MacAddr,
    /// Destination MAC address.
    pub dst: MacAddr,
    /// What the frame carries.
    pub payload: Payload,
}

/// The payload of a [`Frame`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Payload {
    /// An ARP packet for IPv4 over Ethernet.
    Arp(Arp),
    /// An IPv4 packet.
    Ipv4(Ipv4),
    /// Anything else, by EtherType.
    Other {
        /// The EtherType.
        ethertype: u16,
    },
}

/// An ARP packet (IPv4 over Ethernet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Arp {
    /// 1 for a request, 2 for a reply.
    pub operation: u16,
    /// Sender hardware address.
    pub sender_mac: MacAddr,
    /// Sender protocol address: the address the sender announces as its own.
    pub sender_ip: Ipv4Addr,
    /// Target hardware address (zero in requests).
    pub target_mac: MacAddr,
    /// Target protocol address: the address asked about.
    pub target_ip: Ipv4Addr,
}

impl Arp {
    /// ARP request operation code.
    pub const REQUEST: u16 = 1;
    /// ARP reply operation code.
    pub const REPLY: u16 = 2;
}

/// The fields of an IPv4 header (and TCP ports) that show how a packet was forwarded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ipv4 {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// IP protocol number.
    pub protocol: u8,
    /// TCP source and destination ports, for TCP.
    pub tcp_ports: Option<(u16, u16)>,
    /// For IP-in-IP (protocol 4), the encapsulated packet.
    pub inner: Option<Box<Ipv4>>,
}

impl Frame {
    /// Decodes a captured frame; `None` when it is too short to be Ethernet.
    /// Truncated or malformed payloads decode as far as they go.
    pub fn parse(bytes: &[u8]) -> Option<Frame> {
        let dst = MacAddr::from_slice(bytes.get(0..6)?)?;
        let src = MacAddr::from_slice(bytes.get(6..12)?)?;
        let ethertype = u16::from_be_bytes([*bytes.get(12)?, *bytes.get(13)?]);
        let body = &bytes[14..];
        let payload = match ethertype {
            ETHERTYPE_ARP => parse_arp(body).map_or(Payload::Other { ethertype }, Payload::Arp),
            ETHERTYPE_IPV4 => parse_ipv4(body).map_or(Payload::Other { ethertype }, Payload::Ipv4),
            _ => Payload::Other { ethertype },
        };
        Some(Frame { src, dst, payload })
    }

    /// The IPv4 packet in this frame, if any.
    pub fn ipv4(&self) -> Option<&Ipv4> {
        match &self.payload {
            Payload::Ipv4(ip) => Some(ip),
            _ => None,
        }
    }

    /// The ARP packet in this frame, if any.
    pub fn arp(&self) -> Option<&Arp> {
        match &self.payload {
            Payload::Arp(arp) => Some(arp),
            _ => None,
        }
    }
}

impl fmt::Display for Frame {
    /// One line in the spirit of `tcpdump -e -n`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} > {}, ", self.src, self.dst)?;
        match &self.payload {
            Payload::Arp(arp) if arp.operation == Arp::REQUEST => write!(
                f,
                "ARP, Request who-has {} tell {}",
                arp.target_ip, arp.sender_ip
            ),
            Payload::Arp(arp) if arp.operation == Arp::REPLY => {
                write!(f, "ARP, Reply {} is-at {}", arp.sender_ip, arp.sender_mac)
            }
            Payload::Arp(arp) => write!(f, "ARP, operation {}", arp.operation),
            Payload::Ipv4(ip) => write!(f, "IPv4, {ip}"),
            Payload::Other { ethertype } => write!(f, "ethertype 0x{ethertype:04x}"),
        }
    }
}

impl fmt::Display for Ipv4 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.tcp_ports {
            Some((sport, dport)) => {
                write!(f, "{}.{} > {}.{}: tcp", self.src, sport, self.dst, dport)?
            }
            None => write!(f, "{} > {}: proto {}", self.src, self.dst, self.protocol)?,
        }
        if let Some(inner) = &self.inner {
            write!(f, " (ipip: {inner})")?;
        }
        Ok(())
    }
}

fn parse_arp(body: &[u8]) -> Option<Arp> {
    // Ethernet (1) / IPv4 (0x0800), 6-byte and 4-byte addresses.
    if body.get(0..6)? != [0, 1, 8, 0, 6, 4] {
        return None;
    }
    let ip = |at: usize| -> Option<Ipv4Addr> {
        let b: [u8; 4] = body.get(at..at + 4)?.try_into().ok()?;
        Some(Ipv4Addr::from(b))
    };
    Some(Arp {
        operation: u16::from_be_bytes([body[6], body[7]]),
        sender_mac: MacAddr::from_slice(body.get(8..14)?)?,
        sender_ip: ip(14)?,
        target_mac: MacAddr::from_slice(body.get(18..24)?)?,
        target_ip: ip(24)?,
    })
}

fn parse_ipv4(body: &[u8]) -> Option<Ipv4> {
    let first = *body.first()?;
    if first >> 4 != 4 {
        return None;
    }
    let header_len = usize::from(first & 0x0f) * 4;
    let header = body.get(..20)?;
    let protocol = header[9];
    let src = Ipv4Addr::new(header[12], header[13], header[14], header[15]);
    let dst = Ipv4Addr::new(header[16], header[17], header[18], header[19]);
    let rest = body.get(header_len..).unwrap_or(&[]);
    let tcp_ports = match (protocol, rest.get(..4)) {
        (IPPROTO_TCP, Some(p)) => Some((
            u16::from_be_bytes([p[0], p[1]]),
            u16::from_be_bytes([p[2], p[3]]),
        )),
        _ => None,
    };
    let inner = match protocol {
        IPPROTO_IPIP => parse_ipv4(rest).map(Box::new),
        _ => None,
    };
    Some(Ipv4 {
        src,
        dst,
        protocol,
        tcp_ports,
        inner,
    })
}

/// A broadcast ARP request frame: `sender_mac`/`sender_ip` asks who has `target_ip`.
pub fn arp_request(sender_mac: MacAddr, sender_ip: Ipv4Addr, target_ip: Ipv4Addr) -> Vec<u8> {
    let mut frame = Vec::with_capacity(42);
    frame.extend_from_slice(&MacAddr::BROADCAST.0);
    frame.extend_from_slice(&sender_mac.0);
    frame.extend_from_slice(&ETHERTYPE_ARP.to_be_bytes());
    frame.extend_from_slice(&[0, 1, 8, 0, 6, 4]);
    frame.extend_from_slice(&Arp::REQUEST.to_be_bytes());
    frame.extend_from_slice(&sender_mac.0);
    frame.extend_from_slice(&sender_ip.octets());
    frame.extend_from_slice(&MacAddr::ZERO.0);
    frame.extend_from_slice(&target_ip.octets());
    frame
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arp_requests_round_trip() {
        let mac = MacAddr([2, 0, 0, 0, 0, 1]);
        let bytes = arp_request(
            mac,
            Ipv4Addr::new(192, 168, 0, 1),
            Ipv4Addr::new(192, 168, 0, 10),
        );
        let frame = Frame::parse(&bytes).unwrap();
        assert_eq!(frame.dst, MacAddr::BROADCAST);
        let arp = frame.arp().unwrap();
        assert_eq!(arp.operation, Arp::REQUEST);
        assert_eq!(arp.sender_ip, Ipv4Addr::new(192, 168, 0, 1));
        assert_eq!(arp.target_ip, Ipv4Addr::new(192, 168, 0, 10));
        assert_eq!(
            frame.to_string(),
            "02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ARP, Request who-has 192.168.0.10 tell 192.168.0.1"
        );
    }

    #[test]
    fn tcp_over_ipv4_shows_addresses_and_ports() {
        // A SYN from 192.168.0.1:40000 to 192.168.0.10:80, as a kernel would send it.
        let mut bytes = vec![0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00];
        bytes.extend_from_slice(&[
            0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 192, 168, 0, 1, 192, 168, 0, 10,
        ]);
        bytes.extend_from_slice(&[0x9c, 0x40, 0, 80, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x02]);
        let frame = Frame::parse(&bytes).unwrap();
        let ip = frame.ipv4().unwrap();
        assert_eq!(ip.tcp_ports, Some((40000, 80)));
        assert_eq!(
            frame.to_string(),
            "02:00:00:00:00:01 > 02:00:00:00:00:02, IPv4, 192.168.0.1.40000 > 192.168.0.10.80: tcp"
        );
    }

    #[test]
    fn short_and_foreign_frames_do_not_panic() {
        assert!(Frame::parse(&[0; 13]).is_none());
        let mut ipv6 = vec![0; 14];
        ipv6[12] = 0x86;
        ipv6[13] = 0xdd;
        assert_eq!(
            Frame::parse(&ipv6).unwrap().payload,
            Payload::Other { ethertype: 0x86dd }
        );
        let mut cut = vec![0; 14];
        cut[12] = 0x08;
        cut.extend_from_slice(&[0x45, 0, 0]);
        assert_eq!(
            Frame::parse(&cut).unwrap().payload,
            Payload::Other { ethertype: 0x0800 }
        );
    }
}
