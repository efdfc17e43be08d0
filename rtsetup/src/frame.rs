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

/// The fields of an IPv4 header (and of its TCP header) that show how a packet was forwarded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ipv4 {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// IP protocol number.
    pub protocol: u8,
    /// The TCP header, for TCP with a complete one.
    pub tcp: Option<Tcp>,
    /// For IP-in-IP (protocol 4), the encapsulated packet.
    pub inner: Option<Box<Ipv4>>,
}

/// The fields of a TCP header that tell which connection and which step of it a segment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Tcp {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// The control flags.
    pub flags: TcpFlags,
    /// Payload bytes: the IP total length less both headers, as tcpdump's `length`.
    pub length: u16,
}

/// TCP control flags, shown (and serialized) as tcpdump shows them: `S.` for SYN and ACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// No more data from the sender.
    pub const FIN: u8 = 0x01;
    /// Synchronize sequence numbers.
    pub const SYN: u8 = 0x02;
    /// Reset the connection.
    pub const RST: u8 = 0x04;
    /// Push the data to the application.
    pub const PSH: u8 = 0x08;
    /// The acknowledgment number is valid.
    pub const ACK: u8 = 0x10;
    /// The urgent pointer is valid.
    pub const URG: u8 = 0x20;
    /// ECN echo.
    pub const ECE: u8 = 0x40;
    /// Congestion window reduced.
    pub const CWR: u8 = 0x80;

    /// True when every flag in `mask` is set.
    pub fn has(self, mask: u8) -> bool {
        self.0 & mask == mask
    }
}

impl fmt::Display for TcpFlags {
    /// tcpdump's letters, in tcpdump's order; `none` when no flag is set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const LETTERS: [(u8, char); 8] = [
            (TcpFlags::FIN, 'F'),
            (TcpFlags::SYN, 'S'),
            (TcpFlags::RST, 'R'),
            (TcpFlags::PSH, 'P'),
            (TcpFlags::ACK, '.'),
            (TcpFlags::URG, 'U'),
            (TcpFlags::ECE, 'E'),
            (TcpFlags::CWR, 'W'),
        ];
        if self.0 == 0 {
            return f.write_str("none");
        }
        for (bit, letter) in LETTERS {
            if self.has(bit) {
                write!(f, "{letter}")?;
            }
        }
        Ok(())
    }
}

impl Serialize for TcpFlags {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
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
        match &self.tcp {
            Some(tcp) => write!(
                f,
                "{}.{} > {}.{}: Flags [{}], length {}",
                self.src, tcp.src_port, self.dst, tcp.dst_port, tcp.flags, tcp.length
            )?,
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
        operation: u16::from_be_bytes(body.get(6..8)?.try_into().ok()?),
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
    let total_len = usize::from(u16::from_be_bytes([header[2], header[3]]));
    let protocol = header[9];
    let src = Ipv4Addr::new(header[12], header[13], header[14], header[15]);
    let dst = Ipv4Addr::new(header[16], header[17], header[18], header[19]);
    let rest = body.get(header_len..).unwrap_or(&[]);
    let tcp = match protocol {
        IPPROTO_TCP => total_len
            .checked_sub(header_len)
            .and_then(|segment_len| parse_tcp(rest, segment_len)),
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
        tcp,
        inner,
    })
}

/// `segment` as captured (possibly cut short), `segment_len` its length by the IP header.
fn parse_tcp(segment: &[u8], segment_len: usize) -> Option<Tcp> {
    let header = segment.get(..14)?;
    let header_len = usize::from(header[12] >> 4) * 4;
    if header_len < 20 {
        return None;
    }
    Some(Tcp {
        src_port: u16::from_be_bytes([header[0], header[1]]),
        dst_port: u16::from_be_bytes([header[2], header[3]]),
        flags: TcpFlags(header[13]),
        length: u16::try_from(segment_len.checked_sub(header_len)?).ok()?,
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

    /// One HTTP/1.0 exchange between two namespaces over a veth, captured on the client's
    /// end with an AF_PACKET socket (client 192.168.0.1, server 192.168.0.10), and how
    /// `tcpdump -e -n` shows each frame (options, sequence numbers and windows left out).
    const HTTP_EXCHANGE: [(&str, &str); 10] = [
        (
            "26b994cbf46d0abf2b73655708004500003cdca440004006dcbbc0a80001c0a8000a805200507c7215c000000000a002faf0818a0000020405b40402080ae113e8ed000000000103030a",
            "0a:bf:2b:73:65:57 > 26:b9:94:cb:f4:6d, IPv4, 192.168.0.1.32850 > 192.168.0.10.80: Flags [S], length 0",
        ),
        (
            "0abf2b73655726b994cbf46d08004500003c000040004006b960c0a8000ac0a800010050805250d0fe2f7c7215c1a012fe88818a0000020405b40402080ae52ce798e113e8ed0103030a",
            "26:b9:94:cb:f4:6d > 0a:bf:2b:73:65:57, IPv4, 192.168.0.10.80 > 192.168.0.1.32850: Flags [S.], length 0",
        ),
        (
            "26b994cbf46d0abf2b736557080045000034dca540004006dcc2c0a80001c0a8000a805200507c7215c150d0fe308010003f818200000101080ae113e8ede52ce798",
            "0a:bf:2b:73:65:57 > 26:b9:94:cb:f4:6d, IPv4, 192.168.0.1.32850 > 192.168.0.10.80: Flags [.], length 0",
        ),
        (
            "26b994cbf46d0abf2b736557080045000072dca640004006dc83c0a80001c0a8000a805200507c7215c150d0fe308018003f81c000000101080ae113e8eee52ce798474554202f20485454502f312e300d0a486f73743a203139322e3136382e302e31303a38300d0a557365722d4167656e743a20727473657475700d0a0d0a",
            "0a:bf:2b:73:65:57 > 26:b9:94:cb:f4:6d, IPv4, 192.168.0.1.32850 > 192.168.0.10.80: Flags [P.], length 62",
        ),
        (
            "0abf2b73655726b994cbf46d080045000034fec740004006baa0c0a8000ac0a800010050805250d0fe307c7215ff80100040818200000101080ae52ce799e113e8ee",
            "26:b9:94:cb:f4:6d > 0a:bf:2b:73:65:57, IPv4, 192.168.0.10.80 > 192.168.0.1.32850: Flags [.], length 0",
        ),
        (
            "0abf2b73655726b994cbf46d08004500005dfec840004006ba76c0a8000ac0a800010050805250d0fe307c7215ff8018004081ab00000101080ae52ce799e113e8ee485454502f312e3020323030204f4b0d0a436f6e74656e742d4c656e6774683a20330d0a0d0a61700a",
            "26:b9:94:cb:f4:6d > 0a:bf:2b:73:65:57, IPv4, 192.168.0.10.80 > 192.168.0.1.32850: Flags [P.], length 41",
        ),
        (
            "26b994cbf46d0abf2b736557080045000034dca740004006dcc0c0a80001c0a8000a805200507c7215ff50d0fe598010003f818200000101080ae113e8eee52ce799",
            "0a:bf:2b:73:65:57 > 26:b9:94:cb:f4:6d, IPv4, 192.168.0.1.32850 > 192.168.0.10.80: Flags [.], length 0",
        ),
        (
            "26b994cbf46d0abf2b736557080045000034dca840004006dcbfc0a80001c0a8000a805200507c7215ff50d0fe598011003f818200000101080ae113e8eee52ce799",
            "0a:bf:2b:73:65:57 > 26:b9:94:cb:f4:6d, IPv4, 192.168.0.1.32850 > 192.168.0.10.80: Flags [F.], length 0",
        ),
        (
            "0abf2b73655726b994cbf46d080045000034fec940004006ba9ec0a8000ac0a800010050805250d0fe597c72160080110040818200000101080ae52ce799e113e8ee",
            "26:b9:94:cb:f4:6d > 0a:bf:2b:73:65:57, IPv4, 192.168.0.10.80 > 192.168.0.1.32850: Flags [F.], length 0",
        ),
        (
            "26b994cbf46d0abf2b736557080045000034dca940004006dcbec0a80001c0a8000a805200507c72160050d0fe5a8010003f818200000101080ae113e8eee52ce799",
            "0a:bf:2b:73:65:57 > 26:b9:94:cb:f4:6d, IPv4, 192.168.0.1.32850 > 192.168.0.10.80: Flags [.], length 0",
        ),
    ];

    fn bytes(hex: &str) -> Vec<u8> {
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn tcp_segments_show_flags_and_payload_length_as_tcpdump_does() {
        for (hex, line) in HTTP_EXCHANGE {
            let frame = Frame::parse(&bytes(hex)).unwrap();
            assert_eq!(frame.to_string(), line);
        }
        let request = Frame::parse(&bytes(HTTP_EXCHANGE[3].0)).unwrap();
        let tcp = request.ipv4().unwrap().tcp.unwrap();
        assert_eq!((tcp.src_port, tcp.dst_port, tcp.length), (32850, 80, 62));
        assert!(tcp.flags.has(TcpFlags::PSH | TcpFlags::ACK));
        assert!(!tcp.flags.has(TcpFlags::SYN));
    }

    #[test]
    fn the_json_evidence_carries_the_flags_as_tcpdump_letters() {
        let syn_ack = Frame::parse(&bytes(HTTP_EXCHANGE[1].0)).unwrap();
        let json = serde_json::to_value(&syn_ack).unwrap();
        assert_eq!(
            json["payload"]["tcp"],
            serde_json::json!({"src_port": 80, "dst_port": 32850, "flags": "S.", "length": 0})
        );
    }

    #[test]
    fn every_flag_has_its_tcpdump_letter_in_tcpdump_order() {
        assert_eq!(TcpFlags(0).to_string(), "none");
        assert_eq!(TcpFlags(TcpFlags::RST).to_string(), "R");
        assert_eq!(TcpFlags(TcpFlags::RST | TcpFlags::ACK).to_string(), "R.");
        assert_eq!(TcpFlags(0xff).to_string(), "FSRP.UEW");
    }

    #[test]
    fn ip_in_ip_shows_the_inner_segment() {
        // The director's SYN to a real server in tunnel mode: the client's SYN (above)
        // inside an outer header from 192.168.0.2 to 192.168.0.3, protocol 4.
        let syn = bytes(HTTP_EXCHANGE[0].0);
        let mut frame = syn[..14].to_vec();
        let inner = &syn[14..];
        let total = u16::try_from(20 + inner.len()).unwrap().to_be_bytes();
        frame.extend_from_slice(&[0x45, 0, total[0], total[1], 0, 0, 0x40, 0, 64, 4, 0, 0]);
        frame.extend_from_slice(&[192, 168, 0, 2, 192, 168, 0, 3]);
        frame.extend_from_slice(inner);
        assert_eq!(
            Frame::parse(&frame).unwrap().to_string(),
            "0a:bf:2b:73:65:57 > 26:b9:94:cb:f4:6d, IPv4, 192.168.0.2 > 192.168.0.3: proto 4 \
             (ipip: 192.168.0.1.32850 > 192.168.0.10.80: Flags [S], length 0)"
        );
    }

    #[test]
    fn cut_or_malformed_tcp_headers_show_no_flags() {
        let syn = bytes(HTTP_EXCHANGE[0].0);
        // Cut inside the TCP header, before the flags.
        let cut = Frame::parse(&syn[..14 + 20 + 13]).unwrap();
        assert_eq!(cut.ipv4().unwrap().tcp, None);
        assert!(cut
            .to_string()
            .ends_with("192.168.0.1 > 192.168.0.10: proto 6"));
        // Cut after the flags: the lengths come from the headers, not from the capture.
        let short = Frame::parse(&syn[..14 + 20 + 20]).unwrap();
        assert_eq!(short.ipv4().unwrap().tcp.unwrap().length, 0);
        // A data offset below 5 words, or beyond the IP total length.
        for offset in [0x40, 0xf0] {
            let mut bad = syn.clone();
            bad[14 + 20 + 12] = offset;
            assert_eq!(
                Frame::parse(&bad).unwrap().ipv4().unwrap().tcp,
                None,
                "{offset:#x}"
            );
        }
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
        // An ARP header cut right after its fixed part, before the operation.
        let mut arp = vec![0; 14];
        arp[12] = 0x08;
        arp[13] = 0x06;
        arp.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0]);
        assert_eq!(
            Frame::parse(&arp).unwrap().payload,
            Payload::Other { ethertype: 0x0806 }
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
