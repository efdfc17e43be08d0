//! `lab fail` and `lab restore`: inject a director failure into an `ha` or `ecmp` lab while
//! every interface of the lab is captured, and undo it. What was captured stays in the lab's
//! state directory (pcap files and a record of the fault) for `lab verify`.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::capture::{Capture, RawCaptured};
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::ipnet::IpNet;
use crate::lab::ledger::Ledger;
use crate::lab::stream::{now_ns, read_log};
use crate::lab::topology::{Host, Pattern};
use crate::lab::{keepalived, pcap, Lab};
use crate::mac::MacAddr;
use crate::netns::{Netns, NetnsExt};
use crate::rtnl::Rtnl;

/// How a director fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Failure {
    /// Its link goes down (in `ecmp`, after the router withdrew its next hop).
    Hard,
    /// Its keepalived stops, announcing priority 0 (`ha` only).
    Graceful,
}

/// What `lab fail` did and saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailoverRecord {
    /// The failed director.
    pub director: String,
    /// How it failed.
    pub how: Failure,
    /// When the fault was injected (ns since the epoch).
    pub fault_ns: u64,
    /// `ha`: the first gratuitous ARP for the VIP from another director seen by the client;
    /// `ecmp`: the router's route withdrawal.
    pub takeover_ns: Option<u64>,
    /// `ha`: the director that took the VIP.
    pub new_holder: Option<String>,
    /// When the recording ended.
    pub until_ns: u64,
    /// When `lab restore` undid the fault, if it did.
    pub restored_ns: Option<u64>,
    /// The recorded interfaces as (host, link); their frames are in
    /// `failover/HOST-LINK.pcap` under the lab's state directory.
    pub taps: Vec<(String, String)>,
}

/// The longest `lab fail` waits for the streams to recover.
const RECOVERY: Duration = Duration::from_secs(90);
/// How long the streams must all have flowed again before the recording stops.
const SETTLED: Duration = Duration::from_secs(2);

impl Lab {
    fn failed_director(&self, name: &str) -> Result<(usize, &Host)> {
        if self.topology.pattern == Pattern::Single {
            return Err(Error::Invalid {
                what: "lab",
                reason: format!(
                    "lab {} has one director; `lab fail` and `lab restore` are for the ha and ecmp labs",
                    self.topology.name
                ),
            });
        }
        self.topology
            .directors()
            .enumerate()
            .find(|(_, d)| d.name == name)
            .ok_or_else(|| Error::Invalid {
                what: "director",
                reason: format!(
                    "{name} is not a director of lab {} (its directors: {})",
                    self.topology.name,
                    self.topology
                        .directors()
                        .map(|d| d.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })
    }

    /// The record `lab up` keeps of what it made.
    pub(crate) fn ledger(&self) -> Result<Ledger> {
        Ledger::existing(&self.topology.name)?.ok_or_else(|| Error::Invalid {
            what: "lab",
            reason: format!(
                "lab {} has no record under {}: it is not up",
                self.topology.name,
                crate::lab::STATE_ROOT
            ),
        })
    }

    pub(crate) fn failover_file(&self) -> PathBuf {
        self.state.file("failover.json")
    }

    pub(crate) fn failover_pcap(&self, host: &str, link: &str) -> PathBuf {
        self.state.file(&format!("failover/{host}-{link}.pcap"))
    }

    /// The last failover `lab fail` recorded, if any.
    pub fn failover(&self) -> Result<Option<FailoverRecord>> {
        let path = self.failover_file();
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| Error::Invalid {
                    what: "failover record",
                    reason: format!("{}: {e}", path.display()),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.state.error("read", &path, e)),
        }
    }

    fn save_failover(&self, record: &FailoverRecord) -> Result<()> {
        let path = self.failover_file();
        let text = serde_json::to_string_pretty(record).expect("a record serializes");
        std::fs::write(&path, text).map_err(|e| self.state.error("write", &path, e))
    }

    /// Fails `director` while every interface of the lab is captured, waits until the lab's
    /// streams flow again (or the recovery timeout passed), and records what happened. In `ha`,
    /// [`Failure::Hard`] takes the director's link down and [`Failure::Graceful`] stops its
    /// keepalived; in `ecmp`, the router's route stops using the director, then its link
    /// goes down.
    pub fn fail(&self, director: &str, how: Failure) -> Result<FailoverRecord> {
        let (_, failed) = self.failed_director(director)?;
        if how == Failure::Graceful && self.topology.pattern == Pattern::Ecmp {
            return Err(Error::Invalid {
                what: "failure",
                reason: "--graceful stops keepalived, which only the ha lab runs".into(),
            });
        }
        if let Some(record) = self.failover()? {
            if record.restored_ns.is_none() {
                return Err(Error::Invalid {
                    what: "lab",
                    reason: format!(
                        "{} is still failed: `rtsetup lab restore {}` first",
                        record.director, record.director
                    ),
                });
            }
        }
        let failed_mac = Rtnl::open(&Netns::open(&failed.name)?)?
            .link(&failed.inner_link(0))?
            .mac;
        let recorder = Recorder::start(self)?;
        std::thread::sleep(Duration::from_secs(1));
        let fault_ns = now_ns();
        self.inject(failed, how)?;
        let streams_at_fault: Vec<usize> = read_log(&self.stream_log())
            .unwrap_or_default()
            .iter()
            .filter(|s| s.end.is_none())
            .map(|s| s.conn)
            .collect();

        let deadline = Instant::now() + RECOVERY;
        let mut settled_since: Option<Instant> = None;
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(250));
            let taken_over = match self.topology.pattern {
                Pattern::Ha => self.vip_holders()?.iter().any(|h| h.name != failed.name),
                _ => true,
            };
            let recent = now_ns().saturating_sub(1_000_000_000);
            let streams = read_log(&self.stream_log()).unwrap_or_default();
            let flowing = streams
                .iter()
                .filter(|s| streams_at_fault.contains(&s.conn))
                .all(|s| s.end.is_some() || s.data_after(recent.max(fault_ns)));
            if taken_over && flowing {
                let since = *settled_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= SETTLED {
                    break;
                }
            } else {
                settled_since = None;
            }
        }
        let captured = recorder.stop();
        let until_ns = now_ns();
        let dir = self.state.file("failover");
        std::fs::create_dir_all(&dir).map_err(|e| self.state.error("create", &dir, e))?;
        let mut taps = Vec::new();
        let mut takeover = None;
        for ((host, link), frames) in &captured {
            pcap::write(&self.failover_pcap(host, link), frames)?;
            taps.push((host.clone(), link.clone()));
            if *host == self.client().name && self.topology.pattern == Pattern::Ha {
                takeover = first_announcement(self, frames, fault_ns, failed_mac);
            }
        }
        let (takeover_ns, new_holder) = match self.topology.pattern {
            Pattern::Ha => {
                let holder = self.vip_holders()?.first().map(|h| h.name.clone());
                (takeover, holder)
            }
            _ => (Some(fault_ns), None),
        };
        let record = FailoverRecord {
            director: failed.name.clone(),
            how,
            fault_ns,
            takeover_ns,
            new_holder,
            until_ns,
            restored_ns: None,
            taps,
        };
        self.save_failover(&record)?;
        Ok(record)
    }

    fn inject(&self, failed: &Host, how: Failure) -> Result<()> {
        match (self.topology.pattern, how) {
            (Pattern::Ha, Failure::Graceful) => {
                if !self.ledger()?.stop(&keepalived::label(&failed.name))? {
                    return Err(Error::Invalid {
                        what: "director",
                        reason: format!("{}'s keepalived is not running", failed.name),
                    });
                }
                Ok(())
            }
            (Pattern::Ecmp, _) => {
                self.route_over(|d| d.name != failed.name)?;
                Rtnl::open(&self.root)?.set_down(&failed.bridge_link(0))
            }
            _ => Rtnl::open(&self.root)?.set_down(&failed.bridge_link(0)),
        }
    }

    fn route_over(&self, keep: impl Fn(&Host) -> bool) -> Result<()> {
        let router = self
            .topology
            .router()
            .expect("validated: an ecmp lab has a router");
        let gateways: Vec<IpAddr> = self
            .topology
            .directors()
            .filter(|d| keep(d))
            .map(|d| IpAddr::V4(d.address()))
            .collect();
        Rtnl::open(&Netns::open(&router.name)?)?
            .set_multipath_route(IpNet::host(IpAddr::V4(self.topology.vip)), &gateways)
    }

    /// Undoes `lab fail`: the link comes back up and keepalived runs again (`ha`; the
    /// restored director stays standby, keepalived runs with `nopreempt`), or the link comes
    /// up and the router routes over every director again (`ecmp`).
    pub fn restore(&self, director: &str) -> Result<()> {
        let (index, restored) = self.failed_director(director)?;
        Rtnl::open(&self.root)?.set_up(&restored.bridge_link(0))?;
        match self.topology.pattern {
            Pattern::Ha => {
                let mut ledger = self.ledger()?;
                keepalived::start(&mut ledger, &self.state, &self.topology, restored, index)?;
            }
            _ => self.route_over(|_| true)?,
        }
        if let Some(mut record) = self.failover()? {
            if record.director == restored.name && record.restored_ns.is_none() {
                record.restored_ns = Some(now_ns());
                self.save_failover(&record)?;
            }
        }
        Ok(())
    }

    /// The interfaces a failover is recorded on: the client's, every director's, every real
    /// server's and the router's.
    pub(crate) fn taps(&self) -> Vec<(String, String)> {
        let mut taps = Vec::new();
        for host in &self.topology.hosts {
            for index in 0..host.links.len() {
                taps.push((host.name.clone(), host.inner_link(index)));
            }
        }
        taps
    }
}

/// The first gratuitous ARP for the VIP after `fault_ns` from another MAC than the failed
/// director's.
fn first_announcement(
    lab: &Lab,
    frames: &[RawCaptured],
    fault_ns: u64,
    failed: Option<MacAddr>,
) -> Option<u64> {
    frames
        .iter()
        .filter(|f| f.time_ns >= fault_ns)
        .find(|f| {
            Frame::parse(&f.bytes)
                .and_then(|frame| frame.arp().cloned())
                .is_some_and(|arp| {
                    arp.sender_ip == lab.topology.vip
                        && arp.target_ip == lab.topology.vip
                        && Some(arp.sender_mac) != failed
                })
        })
        .map(|f| f.time_ns)
}

/// A recorded interface: (host, link).
type Tap = (String, String);
type Captures = Vec<(Tap, Vec<RawCaptured>)>;

/// Captures on every interface of the lab, one thread each, until stopped.
struct Recorder {
    stop: Arc<AtomicBool>,
    threads: Vec<(Tap, std::thread::JoinHandle<Vec<RawCaptured>>)>,
}

impl Recorder {
    fn start(lab: &Lab) -> Result<Recorder> {
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for (host, link) in lab.taps() {
            let capture = Capture::open(&Netns::open(&host)?, &link)?;
            let stop = Arc::clone(&stop);
            let thread = std::thread::spawn(move || {
                let mut frames = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    match capture.next_raw(Duration::from_millis(100)) {
                        Ok(Some(frame)) => frames.push(frame),
                        Ok(None) => {}
                        Err(_) => break,
                    }
                }
                frames
            });
            threads.push(((host, link), thread));
        }
        Ok(Recorder { stop, threads })
    }

    fn stop(self) -> Captures {
        self.stop.store(true, Ordering::Relaxed);
        self.threads
            .into_iter()
            .map(|(tap, thread)| (tap, thread.join().unwrap_or_default()))
            .collect()
    }
}
