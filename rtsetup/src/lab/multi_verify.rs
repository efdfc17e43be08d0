//! `lab verify` for the multi-director labs (`ha`, `ecmp`): the directors' state (who holds
//! the VIP, keepalived, sync daemons, identical IPVS tables, `mh`/`mh-port`/`sloppy_tcp`, the
//! router's multipath route), the standby's mirrored connection table, the long-lived
//! connections and their spread, HTTP through the lab, and the last failover `lab fail`
//! recorded: connections that survived on the same real server, the gap, the takeover.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use ipvs_rs::{Connection, DaemonState, ServiceFlags};

use crate::capture::{Capture, Direction};
use crate::error::Result;
use crate::frame::{Arp, Frame};
use crate::http;
use crate::lab::check::{check_real_server, Check};
use crate::lab::conns::connections;
use crate::lab::failover::FailoverRecord;
use crate::lab::report::{Report, RequestOutcome};
use crate::lab::scale_out::{multipath_hash_policy, sloppy_tcp};
use crate::lab::stream::{now_ns, read_log, Stream};
use crate::lab::timeline::{ConnectionRow, Timeline};
use crate::lab::topology::{Host, Pattern, Role};
use crate::lab::{ipvs, keepalived, pcap, Lab};
use crate::mac::MacAddr;
use crate::netns::{Netns, NetnsExt};
use crate::rtnl::Rtnl;
use crate::sysctl;

/// How long the sync check waits for the standby to catch up (sync sends a connection after
/// its third packet and flushes its buffer every second or two).
const SYNC_WAIT: Duration = Duration::from_secs(20);

fn ms(t_ns: u64, origin: u64) -> f64 {
    (t_ns as f64 - origin as f64) / 1e6
}

impl Lab {
    pub(crate) fn verify_directors(&self, report: &mut Report) -> Result<()> {
        let t = &self.topology;
        let record = self.failover()?;
        let failed = record
            .as_ref()
            .filter(|r| r.restored_ns.is_none())
            .map(|r| r.director.clone());
        let live: Vec<&Host> = t
            .directors()
            .filter(|d| Some(&d.name) != failed.as_ref())
            .collect();
        for rs in t.real_servers() {
            report
                .checks
                .extend(check_real_server(&Netns::open(&rs.name)?, &rs.name, t.vip)?);
        }
        let holder = match t.pattern {
            Pattern::Ha => self.ha_checks(report, &live, failed.as_deref())?,
            _ => {
                self.ecmp_checks(report, &live)?;
                None
            }
        };
        self.same_tables(report, &live);
        if let (Pattern::Ha, Some(holder)) = (t.pattern, holder) {
            self.sync_mirror(report, holder, &live)?;
            let mut through_holder = self.clone();
            through_holder.director = t
                .hosts
                .iter()
                .position(|h| h.name == holder.name)
                .expect("the holder is a host of the lab");
            let macs = through_holder.macs()?;
            through_holder.live_checks(report, &macs)?;
        } else if t.pattern == Pattern::Ecmp {
            self.ecmp_requests(report, &live)?;
        }
        let streams = read_log(&self.stream_log())
            .map_err(|e| self.state.error("read", &self.stream_log(), e))?;
        // In ha only the holder's entries say where a flow goes; the standby's are copies.
        let forwarding: Vec<&Host> = match (t.pattern, holder) {
            (Pattern::Ha, Some(holder)) => vec![holder],
            _ => live.clone(),
        };
        self.stream_checks(report, &streams, record.as_ref(), &forwarding)?;
        if let Some(record) = &record {
            report.timeline = Some(self.timeline(record, &streams)?);
            report.failover = Some(record.clone());
        }
        report.streams = streams;
        Ok(())
    }

    /// Writes the failover's pcap files and its timeline (SVG) into `dir`; returns the files.
    pub fn write_evidence(
        &self,
        report: &Report,
        dir: &std::path::Path,
    ) -> Result<Vec<std::path::PathBuf>> {
        let mut written = Vec::new();
        std::fs::create_dir_all(dir).map_err(|e| self.state.error("create", dir, e))?;
        if let Some(record) = &report.failover {
            for (host, link) in &record.taps {
                let from = self.failover_pcap(host, link);
                let to = dir.join(format!("failover-{host}-{link}.pcap"));
                std::fs::copy(&from, &to).map_err(|e| self.state.error("copy", &from, e))?;
                written.push(to);
            }
        }
        if let Some(timeline) = &report.timeline {
            let to = dir.join("failover-timeline.svg");
            std::fs::write(&to, timeline.svg()).map_err(|e| self.state.error("write", &to, e))?;
            written.push(to);
        }
        Ok(written)
    }

    fn ha_checks<'a>(
        &'a self,
        report: &mut Report,
        live: &[&'a Host],
        failed: Option<&str>,
    ) -> Result<Option<&'a Host>> {
        let t = &self.topology;
        let holders = self.vip_holders()?;
        let names: Vec<&str> = holders.iter().map(|h| h.name.as_str()).collect();
        let ok = holders.len() == 1;
        report.checks.push(Check::new(
            "vip-holder",
            ok,
            match names.len() {
                0 => format!("no director holds the VIP {}: VRRP elected nobody; see keepalived's logs under /run/rtsetup/{}", t.vip, t.name),
                1 => format!("{} holds the VIP {} on {} (VRRP master); {}", names[0], t.vip, holders[0].inner_link(0),
                    match failed { Some(f) => format!("{f} is failed by `lab fail`"), None => "the others are standby".into() }),
                _ => format!("{} all hold the VIP {}: split brain, clients' packets go to whichever answered ARP last", names.join(" and "), t.vip),
            },
        ));
        let ledger = self.ledger()?;
        for director in live {
            let running = ledger.running(&keepalived::label(&director.name)).is_some();
            report.checks.push(Check::new(
                format!("keepalived:{}", director.name),
                running,
                if running {
                    format!("keepalived (VRRP, priority {}) runs in {}", keepalived::priority(self.director_index(director)), director.name)
                } else {
                    format!("keepalived does not run in {}: it cannot take the VIP over; `rtsetup lab restore {}`", director.name, director.name)
                },
            ));
            let daemons = ipvs::open(&Netns::open(&director.name)?)?
                .daemons()
                .unwrap_or_default();
            let role = if names.first() == Some(&director.name.as_str()) {
                DaemonState::MASTER
            } else {
                DaemonState::BACKUP
            };
            let found = daemons.iter().find(|d| d.state.contains(role));
            let ok = found.is_some_and(|d| d.interface == director.inner_link(0));
            let what = if role == DaemonState::MASTER {
                "master"
            } else {
                "backup"
            };
            report.checks.push(Check::new(
                format!("sync-daemon:{}", director.name),
                ok,
                match found {
                    Some(d) if ok => format!("{} runs a {what} sync daemon on {} (sync id {}){}", director.name, d.interface, d.sync_id,
                        if role == DaemonState::MASTER { ", sending its connections to the standby" } else { ", receiving the active director's connections" }),
                    Some(d) => format!("{}'s {what} sync daemon is on {}, not {}", director.name, d.interface, director.inner_link(0)),
                    None => format!("{} runs no {what} sync daemon: established connections break when the VIP moves; `ipvsadm --start-daemon {what} --mcast-interface {} --syncid {}` in {}",
                        director.name, director.inner_link(0), crate::lab::scale_out::SYNC_ID, director.name),
                },
            ));
        }
        Ok(holders.first().copied())
    }

    fn director_index(&self, director: &Host) -> usize {
        self.topology
            .directors()
            .position(|d| d.name == director.name)
            .unwrap_or(0)
    }

    fn ecmp_checks(&self, report: &mut Report, live: &[&Host]) -> Result<()> {
        let t = &self.topology;
        for director in live {
            let netns = Netns::open(&director.name)?;
            report
                .checks
                .extend(check_real_server(&netns, &director.name, t.vip)?);
            let sloppy = sysctl::read(&netns, &sloppy_tcp()).unwrap_or_else(|e| e.to_string());
            report.checks.push(Check::new(
                format!("sloppy_tcp:{}", director.name),
                sloppy.trim() == "1",
                if sloppy.trim() == "1" {
                    format!("{}: net.ipv4.vs.sloppy_tcp=1, so it takes over flows another director started", director.name)
                } else {
                    format!("{}: net.ipv4.vs.sloppy_tcp={}: a flow moved here mid-stream is not scheduled and gets reset; `sysctl -w net.ipv4.vs.sloppy_tcp=1`", director.name, sloppy.trim())
                },
            ));
            if let Some((service, _)) = ipvs::inspect(t, &netns)? {
                let mh = service.scheduler.to_string() == "mh";
                let port = service.flags.contains(ServiceFlags::MH_PORT);
                report.checks.push(Check::new(
                    format!("scheduler:{}", director.name),
                    mh && port,
                    if mh && port {
                        format!("{} schedules {} with mh (Maglev hashing) and mh-port: every director picks the same real server for a flow", director.name, ipvs::service_key(t))
                    } else if mh {
                        format!("{} schedules with mh without mh-port: every flow of one client goes to one real server; `ipvsadm -E -t {}:{} -s mh -b mh-port`", director.name, t.vip, t.port)
                    } else {
                        format!("{} schedules with {}, not mh: directors pick different real servers for one flow, so a flow that moves to another director is reset; `ipvsadm -E -t {}:{} -s mh -b mh-port`", director.name, service.scheduler, t.vip, t.port)
                    },
                ));
            }
        }
        let router = t.router().expect("validated: an ecmp lab has a router");
        let netns = Netns::open(&router.name)?;
        let policy = sysctl::read(&netns, &multipath_hash_policy()).unwrap_or_default();
        report.checks.push(Check::new(
            "router:hash-policy",
            policy.trim() == "1",
            format!(
                "{}: net.ipv4.fib_multipath_hash_policy={}{}",
                router.name,
                policy.trim(),
                if policy.trim() == "1" {
                    " (ports hashed: one client's flows spread over the directors)"
                } else {
                    ": only addresses are hashed, so one client uses one director; set it to 1"
                }
            ),
        ));
        let vip = IpAddr::V4(t.vip);
        let route = Rtnl::open(&netns)?
            .routes()?
            .into_iter()
            .find(|r| r.destination.addr() == vip && r.destination.prefix_len() == 32);
        let hops: BTreeSet<IpAddr> = route
            .as_ref()
            .map(|r| {
                if r.next_hops.is_empty() {
                    r.gateway.into_iter().collect()
                } else {
                    r.next_hops.iter().copied().collect()
                }
            })
            .unwrap_or_default();
        let want: BTreeSet<IpAddr> = live.iter().map(|d| IpAddr::V4(d.address())).collect();
        report.checks.push(Check::new(
            "router:multipath",
            hops == want,
            format!(
                "{}'s route to {} goes via {}{}",
                router.name,
                t.vip,
                hops.iter()
                    .map(|h| h.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                if hops == want {
                    ", every working director".to_string()
                } else {
                    format!(
                        "; it should go via every working director: {}",
                        want.iter()
                            .map(|h| h.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            ),
        ));
        Ok(())
    }

    /// Every working director carries the same services (the lab's and any added by hand),
    /// each with the same real servers, weights and order.
    fn same_tables(&self, report: &mut Report, live: &[&Host]) {
        let mut tables = Vec::new();
        for director in live {
            let table = Netns::open(&director.name)
                .and_then(|netns| ipvs::open(&netns))
                .and_then(|handle| {
                    let services = handle.services().map_err(|e| crate::Error::Ipvs {
                        action: "listing services".into(),
                        place: crate::error::Place::Filesystem,
                        source: e,
                    })?;
                    // Services in key order (the kernel lists them in hash order, which
                    // differs between directors); destinations in the kernel's order, which
                    // mh's table depends on.
                    let mut blocks = Vec::new();
                    for service in services {
                        let mut block = vec![format!(
                            "{} {} flags {:?}",
                            service.key, service.scheduler, service.flags
                        )];
                        for d in handle.destinations(&service.key).unwrap_or_default() {
                            block.push(format!(
                                "  -> {}:{} {:?} weight {}",
                                d.addr, d.port, d.forwarding, d.weight
                            ));
                        }
                        blocks.push(block);
                    }
                    blocks.sort();
                    Ok(blocks.concat())
                })
                .unwrap_or_else(|e| vec![format!("unreadable: {e}")]);
            tables.push((director.name.clone(), table));
        }
        let differ: Vec<&str> = tables
            .iter()
            .filter(|(_, table)| *table != tables[0].1)
            .map(|(name, _)| name.as_str())
            .collect();
        let services = tables.first().map_or(0, |(_, t)| {
            t.iter().filter(|l| !l.starts_with("  ")).count()
        });
        report.checks.push(Check::new(
            "ipvs-tables-same",
            differ.is_empty() && services > 0,
            if differ.is_empty() {
                format!("{} {} the same IPVS table ({services} service{}, real servers in the same order with the same weights): {}",
                    tables.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", "),
                    if tables.len() == 1 { "is the only working director, with" } else { "carry" },
                    if services == 1 { "" } else { "s" },
                    tables.first().map(|(_, t)| t.join("; ")).unwrap_or_default())
            } else {
                format!("{}'s IPVS table differs from {}'s ({} vs {}): a flow that moves between them may go to another real server",
                    differ.join(", "), tables[0].0, tables.iter().find(|(n, _)| n == differ[0]).map(|(_, t)| t.join("; ")).unwrap_or_default(), tables[0].1.join("; "))
            },
        ));
    }

    /// The standby directors hold every live connection of the active one, to the same
    /// real server.
    fn sync_mirror(&self, report: &mut Report, holder: &Host, live: &[&Host]) -> Result<()> {
        let vip = self.topology.vip;
        let ours = |c: &Connection| c.is_established() && c.virtual_addr.ip() == vip;
        let deadline = Instant::now() + SYNC_WAIT;
        loop {
            let active: Vec<Connection> = connections(&Netns::open(&holder.name)?)?
                .into_iter()
                .filter(ours)
                .collect();
            let mut missing = Vec::new();
            for standby in live.iter().filter(|d| d.name != holder.name) {
                let theirs = connections(&Netns::open(&standby.name)?)?;
                for c in &active {
                    if !theirs
                        .iter()
                        .any(|s| s.client == c.client && s.destination == c.destination)
                    {
                        missing.push(format!(
                            "{} lacks {} -> {}",
                            standby.name, c.client, c.destination
                        ));
                    }
                }
            }
            let ok = missing.is_empty() && !active.is_empty();
            if ok || Instant::now() > deadline {
                report.checks.push(Check::new(
                    "sync-mirror",
                    ok,
                    if ok {
                        format!("every standby holds all {} live connections of {} to the same real servers (synced)", active.len(), holder.name)
                    } else if active.is_empty() {
                        format!("{} has no live connection to mirror", holder.name)
                    } else {
                        format!("{} of {} live connections of {} are not on the standby after {} s ({}): the sync daemons do not carry them",
                            missing.len(), active.len(), holder.name, SYNC_WAIT.as_secs(), missing.iter().take(3).cloned().collect::<Vec<_>>().join("; "))
                    },
                ));
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// New HTTP requests through the router, while every working director's link is
    /// captured: each must be answered, and no director may send an IP packet to the client.
    fn ecmp_requests(&self, report: &mut Report, live: &[&Host]) -> Result<()> {
        let t = &self.topology;
        let mut taps = Vec::new();
        for director in live {
            let link = director.inner_link(0);
            let netns = Netns::open(&director.name)?;
            let mac = Rtnl::open(&netns)?.link(&link)?.mac;
            taps.push((director.name.clone(), mac, Capture::open(&netns, &link)?));
        }
        let client = Netns::open(&self.client().name)?;
        let target = SocketAddr::new(IpAddr::V4(t.vip), t.port);
        for _ in 0..(4 * t.directors().count()).max(6) {
            report.requests.push(match http::get(&client, target) {
                Ok(r) => RequestOutcome {
                    status: Some(r.status),
                    server: Some(r.body),
                    error: None,
                },
                Err(e) => RequestOutcome {
                    status: None,
                    server: None,
                    error: Some(e.to_string()),
                },
            });
        }
        let failed = report
            .requests
            .iter()
            .filter(|r| r.status != Some(200))
            .count();
        report.checks.push(Check::new(
            "http",
            failed == 0,
            format!(
                "{} of {} new requests from {} to http://{target}/ answered 200{}",
                report.requests.len() - failed,
                report.requests.len(),
                self.client().name,
                report
                    .requests
                    .iter()
                    .find_map(|r| r.error.clone())
                    .map(|e| format!("; {e}"))
                    .unwrap_or_default()
            ),
        ));
        let client_ip = self.client().address();
        let mut senders = Vec::new();
        let mut forwarded = 0;
        for (name, mac, capture) in &taps {
            for c in capture.drain_within(Duration::from_millis(300), Duration::from_secs(3))? {
                let Some(ip) = c.frame.ipv4() else { continue };
                if Some(c.frame.src) != *mac || c.direction != Direction::Out {
                    continue;
                }
                if ip.dst == client_ip {
                    senders.push(name.clone());
                } else if ip.src == client_ip && ip.dst == t.vip {
                    forwarded += 1;
                }
            }
        }
        senders.dedup();
        report.checks.push(Check::new(
            "path:nothing-from-director-to-client",
            senders.is_empty() && forwarded > 0,
            if !senders.is_empty() {
                format!("{} sent IP packets to the client: with direct routing only the real servers answer it", senders.join(", "))
            } else if forwarded == 0 {
                "no director forwarded a packet of the client to a real server".to_string()
            } else {
                format!("the directors forwarded {forwarded} packets of the client with the IP header unchanged and sent none to the client")
            },
        ));
        Ok(())
    }

    fn stream_checks(
        &self,
        report: &mut Report,
        streams: &[Stream],
        record: Option<&FailoverRecord>,
        live: &[&Host],
    ) -> Result<()> {
        let t = &self.topology;
        let now = now_ns();
        let recent = now.saturating_sub(3_000_000_000);
        let names: BTreeMap<SocketAddr, String> = t
            .real_servers()
            .map(|h| (SocketAddr::from((h.address(), t.port)), h.name.clone()))
            .collect();
        // Where the directors send each stream now, from their live connection entries.
        let mut owners: BTreeMap<u16, Vec<(String, String)>> = BTreeMap::new();
        for director in live {
            for c in connections(&Netns::open(&director.name)?)? {
                if c.is_established()
                    && c.client.ip() == self.client().address()
                    && c.virtual_addr.ip() == t.vip
                {
                    let rs = names
                        .get(&c.destination)
                        .cloned()
                        .unwrap_or_else(|| c.destination.to_string());
                    owners
                        .entry(c.client.port())
                        .or_default()
                        .push((director.name.clone(), rs));
                }
            }
        }
        let flowing: Vec<&Stream> = streams
            .iter()
            .filter(|s| s.end.is_none() && s.data_after(recent))
            .collect();
        let broken: Vec<String> = streams
            .iter()
            .filter(|s| !(s.end.is_none() && s.data_after(recent)))
            .map(|s| {
                format!(
                    ":{} {}",
                    s.port,
                    s.end
                        .as_ref()
                        .map_or("no data for 3 s".to_string(), |e| e.kind.clone())
                )
            })
            .collect();
        let want = self.stream_count();
        let mut broken = broken;
        if streams.len() < want {
            broken.push(format!(
                "{} never opened (is the lab's stream-client running?)",
                want - streams.len()
            ));
        }
        report.checks.push(Check::new(
            "streams",
            flowing.len() == want,
            format!(
                "{} of the lab's {want} long-lived connections from {} are flowing{}",
                flowing.len(),
                self.client().name,
                if broken.is_empty() {
                    String::new()
                } else {
                    format!("; not: {}", broken.join(", "))
                }
            ),
        ));
        let mut by_server: BTreeMap<&str, usize> = BTreeMap::new();
        for s in &flowing {
            for server in &s.servers {
                *by_server.entry(server.as_str()).or_default() += 1;
            }
        }
        let spread_rs = by_server.len() == t.real_servers().count() || t.scheduler == "mh";
        report.checks.push(Check::new(
            "spread:real-servers",
            spread_rs,
            format!(
                "flowing connections per real server: {}{}",
                by_server
                    .iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if spread_rs {
                    ""
                } else {
                    "; a real server got none"
                }
            ),
        ));
        let mut by_director: BTreeMap<&str, usize> = BTreeMap::new();
        let mut mismatched = Vec::new();
        for s in &flowing {
            for (director, rs) in owners.get(&s.port).into_iter().flatten() {
                *by_director.entry(director.as_str()).or_default() += 1;
                if !s.servers.contains(rs) {
                    mismatched.push(format!(
                        ":{} data from {} but {director} sends it to {rs}",
                        s.port,
                        s.servers.join("/")
                    ));
                }
            }
        }
        let spread_ok = match t.pattern {
            Pattern::Ecmp => live.len() < 2 || by_director.len() >= 2,
            _ => true,
        } && mismatched.is_empty();
        report.checks.push(Check::new(
            "spread:directors",
            spread_ok,
            format!(
                "live IPVS entries of the flowing connections per director: {}{}",
                by_director
                    .iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if !mismatched.is_empty() {
                    format!("; {}", mismatched.join("; "))
                } else if spread_ok {
                    ", each to the real server that sends the data".into()
                } else {
                    ": the router sends every flow to one director (fib_multipath_hash_policy?)"
                        .into()
                }
            ),
        ));
        let Some(record) = record else { return Ok(()) };
        let before: Vec<&Stream> = streams
            .iter()
            .filter(|s| {
                s.opened_ns < record.fault_ns && s.reads_ns.iter().any(|r| *r < record.fault_ns)
            })
            .collect();
        let after = record.takeover_ns.unwrap_or(record.fault_ns);
        let survived: Vec<&&Stream> = before
            .iter()
            .filter(|s| {
                s.servers.len() == 1
                    && s.data_after(after)
                    && s.end.as_ref().is_none_or(|e| e.at_ns > record.until_ns)
            })
            .collect();
        let lost: Vec<String> = before
            .iter()
            .filter(|s| !survived.iter().any(|v| v.conn == s.conn))
            .map(|s| {
                format!(
                    ":{} ({})",
                    s.port,
                    match &s.end {
                        Some(e) => format!(
                            "{} {:.2} s after the fault",
                            e.kind,
                            ms(e.at_ns, record.fault_ns) / 1000.0
                        ),
                        None if s.servers.len() > 1 =>
                            format!("data from {}", s.servers.join(" then ")),
                        None => "no data after the takeover".into(),
                    }
                )
            })
            .collect();
        report.checks.push(Check::new(
            "failover:connections",
            lost.is_empty() && !before.is_empty(),
            if lost.is_empty() {
                format!("all {} connections established before {} failed ({:?}) went on without reset, each from the same real server", before.len(), record.director, record.how)
            } else {
                format!("{} of {} connections established before {} failed broke: {}", lost.len(), before.len(), record.director, lost.join(", "))
            },
        ));
        let gaps: Vec<u64> = survived
            .iter()
            .map(|s| s.longest_gap_ns(record.fault_ns, record.until_ns))
            .collect();
        if let (Some(max), Some(min)) = (gaps.iter().max(), gaps.iter().min()) {
            report.checks.push(Check::new(
                "failover:gap",
                true,
                format!(
                    "longest time without data per surviving connection: {:.2} to {:.2} s{}",
                    *min as f64 / 1e9,
                    *max as f64 / 1e9,
                    record
                        .takeover_ns
                        .map(|t| format!(
                            " (takeover {:.2} s after the fault)",
                            ms(t, record.fault_ns) / 1000.0
                        ))
                        .unwrap_or_default()
                ),
            ));
        }
        if t.pattern == Pattern::Ha {
            let ok = record.takeover_ns.is_some()
                && record
                    .new_holder
                    .as_deref()
                    .is_some_and(|h| h != record.director);
            report.checks.push(Check::new(
                "failover:takeover",
                ok,
                match (record.takeover_ns, &record.new_holder) {
                    (Some(at), Some(holder)) => format!(
                        "{holder} announced the VIP with a gratuitous ARP {:.2} s after {} failed",
                        ms(at, record.fault_ns) / 1000.0,
                        record.director
                    ),
                    _ => format!(
                        "no other director announced the VIP after {} failed",
                        record.director
                    ),
                },
            ));
        }
        let from_directors = self.director_frames_to_client(record)?;
        report.checks.push(Check::new(
            "failover:dr",
            from_directors == 0,
            if from_directors == 0 {
                "during the failover no director sent an IP packet to the client: replies went straight from the real servers".to_string()
            } else {
                format!("directors sent {from_directors} IP packets to the client during the failover (resets from a director without the connection?)")
            },
        ));
        Ok(())
    }

    /// IP packets the directors sent to the client during the recorded failover.
    fn director_frames_to_client(&self, record: &FailoverRecord) -> Result<usize> {
        let client = self.client().address();
        let mut count = 0;
        for (host, link) in &record.taps {
            if self.topology.host(host).map(|h| h.role) != Some(Role::Director) {
                continue;
            }
            let macs = self.link_mac(host, link);
            for (_, bytes) in pcap::read(&self.failover_pcap(host, link))? {
                let Some(frame) = Frame::parse(&bytes) else {
                    continue;
                };
                if Some(frame.src) == macs && frame.ipv4().is_some_and(|ip| ip.dst == client) {
                    count += 1;
                }
            }
        }
        Ok(count)
    }

    fn link_mac(&self, host: &str, link: &str) -> Option<MacAddr> {
        Rtnl::open(&Netns::open(host).ok()?)
            .ok()?
            .link(link)
            .ok()?
            .mac
    }

    fn timeline(&self, record: &FailoverRecord, streams: &[Stream]) -> Result<Timeline> {
        let origin = record.fault_ns;
        let mut macs = BTreeMap::new();
        for director in self.topology.directors() {
            if let Some(mac) = self.link_mac(&director.name, &director.inner_link(0)) {
                macs.insert(mac, director.name.clone());
            }
        }
        let client = self.client();
        let mut announcements = Vec::new();
        let client_pcap = self.failover_pcap(&client.name, &client.inner_link(0));
        if client_pcap.exists() {
            for (at, bytes) in pcap::read(&client_pcap)? {
                let arp: Option<Arp> = Frame::parse(&bytes).and_then(|f| f.arp().cloned());
                if let Some(arp) = arp.filter(|a| {
                    a.sender_ip == self.topology.vip && a.target_ip == self.topology.vip
                }) {
                    let who = macs
                        .get(&arp.sender_mac)
                        .cloned()
                        .unwrap_or_else(|| arp.sender_mac.to_string());
                    announcements.push((ms(at, origin), who));
                }
            }
        }
        let mut vrrp = Vec::new();
        if self.topology.pattern == Pattern::Ha {
            for director in self.topology.directors() {
                for (at, line) in keepalived::transitions(&self.state, &director.name) {
                    if at + 2_000_000_000 >= origin && at <= record.until_ns + 1_000_000_000 {
                        vrrp.push((ms(at, origin), director.name.clone(), line));
                    }
                }
            }
        }
        let window = |t: u64| t + 5_000_000_000 >= origin && t <= record.until_ns;
        let connections = streams
            .iter()
            .map(|s| ConnectionRow {
                port: s.port,
                servers: s.servers.clone(),
                reads_ms: s
                    .reads_ns
                    .iter()
                    .copied()
                    .filter(|t| window(*t))
                    .map(|t| ms(t, origin))
                    .collect(),
                end: s
                    .end
                    .as_ref()
                    .filter(|e| window(e.at_ns))
                    .map(|e| (ms(e.at_ns, origin), e.kind.clone())),
                gap_ms: s.longest_gap_ns(origin, record.until_ns) as f64 / 1e6,
            })
            .collect();
        Ok(Timeline {
            director: record.director.clone(),
            how: format!("{:?}", record.how).to_lowercase(),
            fault_ns: origin,
            takeover_ms: record.takeover_ns.map(|t| ms(t, origin)),
            announcements,
            vrrp,
            connections,
        })
    }
}
