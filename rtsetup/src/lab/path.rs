//! Reading the packet path out of the captures: which MAC each hop used and whether the
//! headers are what the forwarding mode promises.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use crate::capture::{Captured, Direction};
use crate::frame::{Arp, TcpFlags};
use crate::lab::check::Check;
use crate::lab::live::{Macs, Tap};
use crate::lab::report::{PathFrame, Report};
use crate::lab::topology::Mode;
use crate::lab::Lab;
use crate::mac::MacAddr;

impl Lab {
    pub(crate) fn check_path(&self, report: &mut Report, macs: &Macs, seen: &Seen) {
        let t = &self.topology;
        let director = self.director();
        let lb_mac = macs.director[&director.inner_link(0)];
        let name_mac = |mac: &MacAddr| -> String {
            if *mac == lb_mac || macs.director.values().any(|m| m == mac) {
                format!("{} ({mac})", director.name)
            } else if let Some(rs) = macs.real_servers.get(mac) {
                format!("{rs} ({mac})")
            } else if *mac == macs.client {
                format!("{} ({mac})", self.client().name)
            } else {
                mac.to_string()
            }
        };
        let client_name = &self.client().name;

        // Who answered the client's ARP request for the VIP.
        let answerers: BTreeSet<MacAddr> = seen.arp_replies_for_vip.iter().copied().collect();
        let ok = answerers.iter().all(|m| *m == lb_mac) && !answerers.is_empty();
        report.checks.push(Check::new(
            "arp:vip",
            ok,
            if answerers.is_empty() {
                format!("nobody answered {client_name}'s ARP request for the VIP {}", t.vip)
            } else if ok {
                format!("only {} answered {client_name}'s ARP request for the VIP {}", name_mac(&lb_mac), t.vip)
            } else {
                format!(
                    "{} answered {client_name}'s ARP request for the VIP {}; only {} should (check arp_ignore on the real servers)",
                    answerers.iter().map(&name_mac).collect::<Vec<_>>().join(" and "), t.vip, director.name
                )
            },
        ));

        let to_vip: BTreeSet<MacAddr> = seen.client_to_vip.iter().copied().collect();
        let ok = !to_vip.is_empty() && to_vip.iter().all(|m| *m == lb_mac);
        report.checks.push(Check::new(
            "path:client-to-director",
            ok,
            format!(
                "{client_name} sent {} frames to the VIP {}:{} addressed to {}{}",
                seen.client_to_vip.len(),
                t.vip,
                t.port,
                to_vip
                    .iter()
                    .map(&name_mac)
                    .collect::<Vec<_>>()
                    .join(" and "),
                if ok {
                    String::new()
                } else {
                    format!("; they must go to {}", name_mac(&lb_mac))
                }
            ),
        ));

        let hops: BTreeSet<String> = seen
            .director_to_rs
            .iter()
            .map(|(mac, _)| name_mac(mac))
            .collect();
        let all_as_required = seen
            .director_to_rs
            .iter()
            .all(|(mac, headers_ok)| *headers_ok && macs.real_servers.contains_key(mac));
        let ok = !seen.director_to_rs.is_empty() && all_as_required;
        let how = match t.mode {
            Mode::Route => "with the IP header unchanged (source still the client, destination the VIP)",
            Mode::Tunnel => "encapsulated IP-in-IP from the director to the real server, the inner header unchanged",
            Mode::Masq => "with the destination rewritten to the real server's address",
        };
        report.checks.push(Check::new(
            "path:director-to-real-servers",
            ok,
            if seen.director_to_rs.is_empty() {
                format!(
                    "{} forwarded none of the client's packets to a real server",
                    director.name
                )
            } else if ok {
                format!(
                    "{} forwarded {} frames to {}, {how}",
                    director.name,
                    seen.director_to_rs.len(),
                    hops.into_iter().collect::<Vec<_>>().join(", ")
                )
            } else {
                format!(
                    "{} forwarded frames to {} but not all {how}",
                    director.name,
                    hops.into_iter().collect::<Vec<_>>().join(", ")
                )
            },
        ));

        match t.mode {
            Mode::Route | Mode::Tunnel => {
                let direct: BTreeSet<String> = seen
                    .rs_replies
                    .iter()
                    .map(|(rs, dst)| format!("{rs} to {}", name_mac(dst)))
                    .collect();
                let ok = !seen.rs_replies.is_empty()
                    && seen.rs_replies.iter().all(|(_, dst)| *dst == macs.client);
                report.checks.push(Check::new(
                    "path:real-servers-to-client",
                    ok,
                    format!(
                        "replies from the VIP went {}{}",
                        if direct.is_empty() {
                            "nowhere".to_string()
                        } else {
                            direct.into_iter().collect::<Vec<_>>().join(", ")
                        },
                        if ok {
                            ", straight to the client's MAC"
                        } else {
                            "; they must go straight to the client's MAC"
                        }
                    ),
                ));
                let ok = seen.director_to_client == 0;
                report.checks.push(Check::new(
                    "path:nothing-from-director-to-client",
                    ok,
                    if ok {
                        format!("{} sent no IP packet to the client", director.name)
                    } else {
                        format!("{} sent {} IP packets to the client; with {} only the real servers answer it", director.name, seen.director_to_client, match t.mode { Mode::Tunnel => "tunnelling", _ => "direct routing" })
                    },
                ));
            }
            Mode::Masq => {
                let ok = seen.director_to_client > 0;
                report.checks.push(Check::new(
                    "path:director-to-client",
                    ok,
                    format!(
                        "{} sent {} replies from the VIP to the client",
                        director.name, seen.director_to_client
                    ),
                ));
            }
        }
    }
}

/// The facts the path checks need, pulled out of the captures.
pub(crate) struct Seen {
    /// Source MACs of ARP replies for the VIP received by the client.
    pub(crate) arp_replies_for_vip: Vec<MacAddr>,
    /// Destination MACs of the client's frames to the VIP.
    pub(crate) client_to_vip: Vec<MacAddr>,
    /// Destination MAC of each frame the director sent towards a real server, and whether
    /// its headers were as the mode requires.
    pub(crate) director_to_rs: Vec<(MacAddr, bool)>,
    /// Real server name and destination MAC of each reply sent from the VIP.
    pub(crate) rs_replies: Vec<(String, MacAddr)>,
    /// IP packets from the director to the client.
    pub(crate) director_to_client: usize,
}

impl Seen {
    pub(crate) fn new(
        lab: &Lab,
        client: Ipv4Addr,
        director: Ipv4Addr,
        captured: &[(&Tap, Vec<Captured>)],
    ) -> Seen {
        let mut seen = Seen {
            arp_replies_for_vip: Vec::new(),
            client_to_vip: Vec::new(),
            director_to_rs: Vec::new(),
            rs_replies: Vec::new(),
            director_to_client: 0,
        };
        let t = lab.topology();
        let client_host = &lab.client().name;
        let director_host = &lab.director().name;
        let is_rs = |host: &str| t.real_servers().any(|h| h.name == host);
        let rs_addresses: Vec<Ipv4Addr> = t.real_servers().map(|h| h.address()).collect();
        for (tap, frames) in captured {
            for c in frames {
                let f = &c.frame;
                if tap.host == *client_host {
                    if let Some(arp) = f.arp() {
                        if c.direction == Direction::In
                            && arp.operation == Arp::REPLY
                            && arp.sender_ip == t.vip
                        {
                            seen.arp_replies_for_vip.push(arp.sender_mac);
                        }
                    }
                }
                let Some(ip) = f.ipv4() else { continue };
                if c.direction != Direction::Out {
                    continue;
                }
                if tap.host == *client_host
                    && ip.dst == t.vip
                    && ip.tcp.map(|tcp| tcp.dst_port) == Some(t.port)
                {
                    seen.client_to_vip.push(f.dst);
                }
                if tap.host == *director_host {
                    if ip.dst == client && ip.protocol == 6 {
                        seen.director_to_client += 1;
                    }
                    let forwarded = match t.mode {
                        Mode::Route => (ip.src == client && ip.dst == t.vip).then_some(true),
                        Mode::Tunnel => ip.inner.as_ref().map(|inner| {
                            ip.src == director
                                && rs_addresses.contains(&ip.dst)
                                && inner.src == client
                                && inner.dst == t.vip
                        }),
                        Mode::Masq => {
                            (ip.src == client && rs_addresses.contains(&ip.dst)).then_some(true)
                        }
                    };
                    if let Some(ok) = forwarded {
                        seen.director_to_rs.push((f.dst, ok));
                    }
                }
                if is_rs(&tap.host) && ip.src == t.vip && ip.dst == client {
                    seen.rs_replies.push((tap.host.clone(), f.dst));
                }
            }
        }
        seen
    }
}

/// The first request's frames everywhere (by the client's source port, or the inner header
/// for tunnels), and the client's ARP exchange for the VIP.
pub(crate) fn first_connection(
    lab: &Lab,
    client: Ipv4Addr,
    captured: &[(&Tap, Vec<Captured>)],
) -> Vec<PathFrame> {
    let t = lab.topology();
    let client_host = &lab.client().name;
    let port = captured
        .iter()
        .filter(|(tap, _)| tap.host == *client_host)
        .flat_map(|(_, frames)| frames)
        .filter_map(|c| c.frame.ipv4())
        .filter(|ip| ip.src == client && ip.dst == t.vip)
        // The first connection opened while capturing: older ones (a lab's long-lived
        // connections) carry on across the capture and are not a request's path.
        .find(|ip| ip.tcp.is_some_and(|tcp| tcp.flags.0 & TcpFlags::SYN != 0))
        .and_then(|ip| ip.tcp.map(|tcp| tcp.src_port));
    let belongs = |c: &Captured| -> bool {
        if let Some(arp) = c.frame.arp() {
            return arp.target_ip == t.vip || arp.sender_ip == t.vip;
        }
        let Some(ip) = c.frame.ipv4() else {
            return false;
        };
        let ip = ip.inner.as_deref().unwrap_or(ip);
        match (ip.tcp, port) {
            (Some(tcp), Some(port)) => {
                (ip.src == client && tcp.src_port == port)
                    || (ip.dst == client && tcp.dst_port == port)
            }
            _ => false,
        }
    };
    let mut path = Vec::new();
    for (tap, frames) in captured {
        for c in frames.iter().filter(|c| belongs(c)) {
            path.push(PathFrame {
                host: tap.host.clone(),
                link: tap.link.clone(),
                direction: c.direction,
                summary: c.frame.to_string(),
                frame: c.frame.clone(),
            });
        }
    }
    path
}
