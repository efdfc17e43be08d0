//! The live part of `lab verify`: HTTP requests from the client to the VIP while every
//! interface on the path is captured, then the checks on what was seen.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use crate::capture::{Capture, Captured};
use crate::error::Result;
use crate::http;
use crate::lab::check::Check;
use crate::lab::path::{first_connection, Seen};
use crate::lab::report::{IpvsEvidence, Report, RequestOutcome};
use crate::lab::topology::{Mode, Topology};
use crate::lab::{ipvs, Lab};
use crate::mac::MacAddr;
use crate::netns::{Netns, NetnsExt};
use crate::rtnl::Rtnl;

/// How long a capture must stay quiet before the live check stops reading it.
const QUIET: Duration = Duration::from_millis(300);
/// The most time spent reading one capture after the requests.
const DRAIN_LIMIT: Duration = Duration::from_secs(3);
/// Longer than the IPVS estimator's two-second period.
const COUNTER_SETTLE: Duration = Duration::from_secs(5);

/// A capture with what it belongs to.
pub(crate) struct Tap {
    pub(crate) host: String,
    pub(crate) link: String,
    pub(crate) capture: Capture,
}

/// MAC addresses of the lab's interfaces.
pub(crate) struct Macs {
    pub(crate) client: MacAddr,
    pub(crate) director: BTreeMap<String, MacAddr>,
    pub(crate) real_servers: BTreeMap<MacAddr, String>,
}

impl Lab {
    pub(crate) fn macs(&self) -> Result<Macs> {
        let t = &self.topology;
        let mac_of = |host: &str, link: &str| -> Result<MacAddr> {
            let link = Rtnl::open(&Netns::open(host)?)?.link(link)?;
            Ok(link.mac.unwrap_or(MacAddr::ZERO))
        };
        let client = self.client();
        let director = self.director();
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

    pub(crate) fn live_checks(&self, report: &mut Report, macs: &Macs) -> Result<()> {
        let t = &self.topology;
        let client = self.client();
        let director = self.director();
        let client_ns = Netns::open(&client.name)?;
        let vip = IpAddr::V4(t.vip);

        let mut taps = vec![tap(&client.name, &client.inner_link(0))?];
        for index in 0..director.links.len() {
            taps.push(tap(&director.name, &director.inner_link(index))?);
        }
        for rs in t.real_servers() {
            taps.push(tap(&rs.name, &rs.inner_link(0))?);
        }
        // A fresh ARP exchange for the VIP, so the capture shows who answers it; the taps
        // are open first, as other traffic to the VIP (a lab's streams) resolves it at once.
        Rtnl::open(&client_ns)?.delete_neighbour(vip)?;

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
            captured.push((tap, tap.capture.drain_within(QUIET, DRAIN_LIMIT)?));
        }

        self.check_requests(report);
        let seen = Seen::new(self, client.address(), director.address(), &captured);
        self.check_path(report, macs, &seen);
        self.check_counters(report, client_ns, macs)?;
        report.path = first_connection(self, client.address(), &captured);
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
                    self.client().name,
                    t.vip,
                    t.port
                )
            } else {
                format!(
                    "{} of {} requests from {} to http://{}:{}/ failed: {}",
                    failed.len(),
                    report.requests.len(),
                    self.client().name,
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

    fn check_counters(&self, report: &mut Report, client_ns: Netns, macs: &Macs) -> Result<()> {
        let t = &self.topology;
        let director = self.director();
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
                    self.client().name,
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
                    self.client().name,
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
