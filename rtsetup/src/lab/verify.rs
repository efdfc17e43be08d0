//! `lab verify`: static checks of the lab's configuration, then a live check that follows
//! HTTP requests through the director in captured frames.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::capture::{Capture, Captured, Direction};
use crate::error::Result;
use crate::frame::{Arp, Frame};
use crate::http;
use crate::lab::check::{check_real_server, Check};
use crate::lab::topology::{Mode, Topology};
use crate::lab::{ipvs, Lab};
use crate::mac::MacAddr;
use crate::netns::Netns;
use crate::rtnl::Rtnl;

/// How long a capture must stay quiet before the live check stops reading it.
const QUIET: Duration = Duration::from_millis(300);
/// Longer than the IPVS estimator's two-second period.
const COUNTER_SETTLE: Duration = Duration::from_secs(5);

/// Everything `lab verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The lab's name.
    pub lab: String,
    /// Its forwarding mode.
    pub mode: Mode,
    /// Static checks, then live ones.
    pub checks: Vec<Check>,
    /// The HTTP requests sent from the client to the VIP.
    pub requests: Vec<RequestOutcome>,
    /// The first request's frames on each interface, like `tcpdump -e -n -i LINK` showed them
    /// in the walkthrough, plus the client's ARP exchange for the VIP.
    pub path: Vec<PathFrame>,
    /// The IPVS service's counters in the director, once the requests are done.
    pub ipvs: Option<IpvsEvidence>,
}

impl Report {
    /// True when every check holds.
    pub fn ok(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }

    /// The checks that failed.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.ok)
    }
}

/// One HTTP request from the client to the VIP.
#[derive(Debug, Clone, Serialize)]
pub struct RequestOutcome {
    /// The status code, when a response came.
    pub status: Option<u16>,
    /// The body: the name of the real server that answered.
    pub server: Option<String>,
    /// Why no response came.
    pub error: Option<String>,
}

/// One captured frame on the path.
#[derive(Debug, Clone, Serialize)]
pub struct PathFrame {
    /// The host (namespace) it was captured in.
    pub host: String,
    /// The interface.
    pub link: String,
    /// Sent or received there.
    pub direction: Direction,
    /// The frame, in one tcpdump-like line.
    pub summary: String,
    /// The decoded frame.
    pub frame: Frame,
}

/// The IPVS counters and destinations after the live check.
#[derive(Debug, Clone, Serialize)]
pub struct IpvsEvidence {
    /// The scheduler.
    pub scheduler: String,
    /// Connections, packets in and out, over the whole service.
    pub conns: u64,
    /// Packets from clients.
    pub in_pkts: u64,
    /// Packets to clients: 0 for direct routing and tunnelling.
    pub out_pkts: u64,
    /// One line per real server: address, method, connections.
    pub destinations: Vec<String>,
}

/// A capture with what it belongs to.
struct Tap {
    host: String,
    link: String,
    capture: Capture,
}

/// MAC addresses of the lab's interfaces.
struct Macs {
    client: MacAddr,
    director: BTreeMap<String, MacAddr>,
    real_servers: BTreeMap<MacAddr, String>,
}

impl Lab {
    /// Runs every check; fails only when the lab cannot be inspected at all (a missing
    /// namespace, for instance). Whether the lab works is in [`Report::ok`].
    pub fn verify(&self) -> Result<Report> {
        let t = &self.topology;
        let mut report = Report {
            lab: t.name.clone(),
            mode: t.mode,
            checks: Vec::new(),
            requests: Vec::new(),
            path: Vec::new(),
            ipvs: None,
        };
        self.static_checks(&mut report)?;
        let macs = self.macs()?;
        self.live_checks(&mut report, &macs)?;
        Ok(report)
    }

    fn static_checks(&self, report: &mut Report) -> Result<()> {
        let t = &self.topology;
        let director = t.director();
        let director_ns = Netns::open(&director.name)?;
        let vip = IpAddr::V4(t.vip);
        let mut lb = Rtnl::open(&director_ns)?;
        let link = director.inner_link(0);
        let on_director = lb
            .addresses(Some(&link))?
            .iter()
            .any(|a| a.net.addr() == vip);
        report.checks.push(Check::new(
            "vip-on-director",
            on_director,
            if on_director {
                format!("{} holds the VIP {vip} on {link}, so it answers ARP for it", director.name)
            } else {
                format!("{} does not hold the VIP {vip} on {link}: nobody draws the clients' packets to IPVS; `ip addr add {vip}/32 dev {link}` in {}", director.name, director.name)
            },
        ));
        if t.mode != Mode::Masq {
            for rs in t.real_servers() {
                report
                    .checks
                    .extend(check_real_server(&Netns::open(&rs.name)?, &rs.name, t.vip)?);
            }
        }
        self.ipvs_checks(report, &director_ns);
        Ok(())
    }

    fn ipvs_checks(&self, report: &mut Report, director_ns: &Netns) {
        let t = &self.topology;
        let key = ipvs::service_key(t);
        let director = &t.director().name;
        let (service, destinations) = match ipvs::inspect(t, director_ns) {
            Ok(Some(found)) => found,
            Ok(None) => {
                report.checks.push(Check::new(
                    "ipvs-service",
                    false,
                    format!("{director} has no IPVS service {key}: `ipvsadm -A -t {}:{} -s {}` in {director}", t.vip, t.port, t.scheduler),
                ));
                return;
            }
            Err(e) => {
                report
                    .checks
                    .push(Check::new("ipvs-service", false, e.to_string()));
                return;
            }
        };
        report.checks.push(Check::new(
            "ipvs-service",
            true,
            format!(
                "{director} has IPVS service {key} with scheduler {}",
                service.scheduler
            ),
        ));
        let want = ipvs::forwarding(t.mode);
        for rs in t.real_servers() {
            let found = destinations
                .iter()
                .find(|d| d.addr == IpAddr::V4(rs.address()) && d.port == t.port);
            let (ok, detail) = match found {
                Some(d) if d.forwarding.method() == want.method() => (
                    true,
                    format!("{} {}:{} is a real server of {key}, forwarded by {:?} ({})", rs.name, d.addr, d.port, d.forwarding, t.mode.ipvsadm_flag()),
                ),
                Some(d) => (
                    false,
                    format!(
                        "{} {}:{} is forwarded by {:?}, not {want:?}: the {} lab needs `ipvsadm -e -t {}:{} -r {}:{} {}`",
                        rs.name, d.addr, d.port, d.forwarding, format!("{:?}", t.mode).to_lowercase(),
                        t.vip, t.port, d.addr, d.port, t.mode.ipvsadm_flag()
                    ),
                ),
                None => (
                    false,
                    format!("{} {}:{} is not a real server of {key}: `ipvsadm -a -t {}:{} -r {}:{} {}`", rs.name, rs.address(), t.port, t.vip, t.port, rs.address(), t.port, t.mode.ipvsadm_flag()),
                ),
            };
            report.checks.push(Check::new(
                format!("ipvs-destination:{}", rs.name),
                ok,
                detail,
            ));
        }
    }

    fn macs(&self) -> Result<Macs> {
        let t = &self.topology;
        let mac_of = |host: &str, link: &str| -> Result<MacAddr> {
            let link = Rtnl::open(&Netns::open(host)?)?.link(link)?;
            Ok(link.mac.unwrap_or(MacAddr::ZERO))
        };
        let client = t.client();
        let director = t.director();
        let mut director_macs = BTreeMap::new();
        for index in 0..director.links.len() {
            let link = director.inner_link(index);
            director_macs.insert(link.clone(), mac_of(&director.name, &link)?);
        }
        let mut real_servers = BTreeMap::new();
        for rs in t.real_servers() {
            real_servers.insert(mac_of(&rs.name, &rs.inner_link(0))?, rs.name.clone());
        }
        Ok(Macs {
            client: mac_of(&client.name, &client.inner_link(0))?,
            director: director_macs,
            real_servers,
        })
    }

    fn live_checks(&self, report: &mut Report, macs: &Macs) -> Result<()> {
        let t = &self.topology;
        let client = t.client();
        let director = t.director();
        let client_ns = Netns::open(&client.name)?;
        let vip = IpAddr::V4(t.vip);
        // A fresh ARP exchange for the VIP, so the capture shows who answers it.
        Rtnl::open(&client_ns)?.delete_neighbour(vip)?;

        let mut taps = vec![tap(&client.name, &client.inner_link(0))?];
        for index in 0..director.links.len() {
            taps.push(tap(&director.name, &director.inner_link(index))?);
        }
        for rs in t.real_servers() {
            taps.push(tap(&rs.name, &rs.inner_link(0))?);
        }

        let count = (2 * t.real_servers().count()).max(4);
        let target = SocketAddr::new(vip, t.port);
        for _ in 0..count {
            report.requests.push(match http::get(&client_ns, target) {
                Ok(response) => RequestOutcome {
                    status: Some(response.status),
                    server: Some(response.body),
                    error: None,
                },
                Err(e) => RequestOutcome {
                    status: None,
                    server: None,
                    error: Some(e.to_string()),
                },
            });
        }
        let mut captured: Vec<(&Tap, Vec<Captured>)> = Vec::new();
        for tap in &taps {
            captured.push((tap, tap.capture.drain(QUIET)?));
        }

        self.check_requests(report);
        let seen = Seen::new(t, client.address(), director.address(), &captured);
        self.check_path(report, macs, &seen);
        self.check_counters(report, client_ns, macs)?;
        report.path = first_connection(t, client.address(), &captured);
        Ok(())
    }

    fn check_requests(&self, report: &mut Report) {
        let t = &self.topology;
        let failed: Vec<String> = report
            .requests
            .iter()
            .filter(|r| r.status != Some(200))
            .map(|r| {
                r.error
                    .clone()
                    .unwrap_or_else(|| format!("status {:?}", r.status))
            })
            .collect();
        report.checks.push(Check::new(
            "http",
            failed.is_empty(),
            if failed.is_empty() {
                format!(
                    "{} of {} requests from {} to http://{}:{}/ answered 200",
                    report.requests.len(),
                    report.requests.len(),
                    t.client().name,
                    t.vip,
                    t.port
                )
            } else {
                format!(
                    "{} of {} requests from {} to http://{}:{}/ failed: {}",
                    failed.len(),
                    report.requests.len(),
                    t.client().name,
                    t.vip,
                    t.port,
                    failed[0]
                )
            },
        ));
        let answered: BTreeSet<&str> = report
            .requests
            .iter()
            .filter_map(|r| r.server.as_deref())
            .collect();
        let all: BTreeSet<&str> = t.real_servers().map(|h| h.name.as_str()).collect();
        let missing: Vec<&&str> = all.difference(&answered).collect();
        // Only round robin promises that a handful of requests reaches everyone.
        if matches!(t.scheduler.as_str(), "rr" | "wrr") {
            report.checks.push(Check::new(
                "http:every-real-server",
                missing.is_empty(),
                if missing.is_empty() {
                    format!(
                        "answers came from {}",
                        answered.iter().copied().collect::<Vec<_>>().join(", ")
                    )
                } else {
                    format!(
                        "no answer came from {} (answers from: {})",
                        missing.iter().map(|s| **s).collect::<Vec<_>>().join(", "),
                        answered.iter().copied().collect::<Vec<_>>().join(", ")
                    )
                },
            ));
        }
    }

    fn check_path(&self, report: &mut Report, macs: &Macs, seen: &Seen) {
        let t = &self.topology;
        let director = t.director();
        let lb_mac = macs.director[&director.inner_link(0)];
        let name_mac = |mac: &MacAddr| -> String {
            if *mac == lb_mac || macs.director.values().any(|m| m == mac) {
                format!("{} ({mac})", director.name)
            } else if let Some(rs) = macs.real_servers.get(mac) {
                format!("{rs} ({mac})")
            } else if *mac == macs.client {
                format!("{} ({mac})", t.client().name)
            } else {
                mac.to_string()
            }
        };
        let client_name = &t.client().name;

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

    fn check_counters(&self, report: &mut Report, client_ns: Netns, macs: &Macs) -> Result<()> {
        let t = &self.topology;
        let director = t.director();
        let lb_mac = macs.director[&director.inner_link(0)];
        let answered = report
            .requests
            .iter()
            .filter(|r| r.status.is_some())
            .count() as u64;
        if let Some((service, destinations)) =
            settled_counters(t, &Netns::open(&director.name)?, answered)
        {
            let stats = service.stats;
            let ok = stats.in_pkts > 0 && ((t.mode == Mode::Masq) == (stats.out_pkts > 0));
            report.checks.push(Check::new(
                "ipvs-stats",
                ok,
                format!(
                    "{} IPVS counters: {} connections, InPkts {}, OutPkts {}{}",
                    director.name,
                    stats.conns,
                    stats.in_pkts,
                    stats.out_pkts,
                    match (t.mode, ok) {
                        (Mode::Masq, _) => " (NAT: replies pass the director)",
                        (_, true) => " (the director never sees a reply)",
                        (_, false) =>
                            " (want InPkts > 0 and OutPkts 0: replies must bypass the director)",
                    }
                ),
            ));
            report.ipvs = Some(IpvsEvidence {
                scheduler: service.scheduler.to_string(),
                conns: stats.conns,
                in_pkts: stats.in_pkts,
                out_pkts: stats.out_pkts,
                destinations: destinations
                    .iter()
                    .map(|d| {
                        format!(
                            "{}:{} {:?} weight {} conns {} InPkts {} OutPkts {}",
                            d.addr,
                            d.port,
                            d.forwarding,
                            d.weight,
                            d.stats.conns,
                            d.stats.in_pkts,
                            d.stats.out_pkts
                        )
                    })
                    .collect(),
            });
        }
        let entry = Rtnl::open(&client_ns)?.neighbour(IpAddr::V4(t.vip))?;
        let ok = entry.as_ref().and_then(|n| n.mac) == Some(lb_mac);
        report.checks.push(Check::new(
            "neighbour:client-vip",
            ok,
            match entry {
                Some(n) => format!(
                    "{}'s neighbour entry for the VIP {} is {} ({}){}",
                    t.client().name,
                    t.vip,
                    n.mac.map_or("unresolved".into(), |m| m.to_string()),
                    n.state,
                    if ok {
                        format!(", {}'s MAC", director.name)
                    } else {
                        format!(", not {}'s MAC {lb_mac}", director.name)
                    }
                ),
                None => format!(
                    "{} has no neighbour entry for the VIP {}",
                    t.client().name,
                    t.vip
                ),
            },
        ));
        Ok(())
    }
}

/// The service once its counters include the `answered` connections. IPVS publishes the
/// counters it reports from its rate estimator, which sums them every two seconds, so
/// counters read right after the traffic still show an older snapshot.
fn settled_counters(
    t: &Topology,
    director: &Netns,
    answered: u64,
) -> Option<(ipvs_rs::Service, Vec<ipvs_rs::Destination>)> {
    let deadline = Instant::now() + COUNTER_SETTLE;
    loop {
        let found = ipvs::inspect(t, director).ok().flatten()?;
        if found.0.stats.conns >= answered.max(1) || Instant::now() > deadline {
            return Some(found);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn tap(host: &str, link: &str) -> Result<Tap> {
    Ok(Tap {
        host: host.into(),
        link: link.into(),
        capture: Capture::open(&Netns::open(host)?, link)?,
    })
}

/// The facts the path checks need, pulled out of the captures.
struct Seen {
    /// Source MACs of ARP replies for the VIP received by the client.
    arp_replies_for_vip: Vec<MacAddr>,
    /// Destination MACs of the client's frames to the VIP.
    client_to_vip: Vec<MacAddr>,
    /// Destination MAC of each frame the director sent towards a real server, and whether
    /// its headers were as the mode requires.
    director_to_rs: Vec<(MacAddr, bool)>,
    /// Real server name and destination MAC of each reply sent from the VIP.
    rs_replies: Vec<(String, MacAddr)>,
    /// IP packets from the director to the client.
    director_to_client: usize,
}

impl Seen {
    fn new(
        t: &Topology,
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
        let client_host = &t.client().name;
        let director_host = &t.director().name;
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
                    && ip.tcp_ports.map(|p| p.1) == Some(t.port)
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
fn first_connection(
    t: &Topology,
    client: Ipv4Addr,
    captured: &[(&Tap, Vec<Captured>)],
) -> Vec<PathFrame> {
    let client_host = &t.client().name;
    let port = captured
        .iter()
        .filter(|(tap, _)| tap.host == *client_host)
        .flat_map(|(_, frames)| frames)
        .filter_map(|c| c.frame.ipv4())
        .find(|ip| ip.src == client && ip.dst == t.vip)
        .and_then(|ip| ip.tcp_ports.map(|p| p.0));
    let belongs = |c: &Captured| -> bool {
        if let Some(arp) = c.frame.arp() {
            return arp.target_ip == t.vip || arp.sender_ip == t.vip;
        }
        let Some(ip) = c.frame.ipv4() else {
            return false;
        };
        let ip = ip.inner.as_deref().unwrap_or(ip);
        match (ip.tcp_ports, port) {
            (Some((sport, dport)), Some(port)) => {
                (ip.src == client && sport == port) || (ip.dst == client && dport == port)
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
