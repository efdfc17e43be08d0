//! What `lab verify` reports: verdicts and the evidence behind them.

use serde::Serialize;

use crate::capture::Direction;
use crate::frame::Frame;
use crate::lab::check::Check;
use crate::lab::failover::FailoverRecord;
use crate::lab::stream::Stream;
use crate::lab::timeline::Timeline;
use crate::lab::topology::Mode;

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
    /// `ha` and `ecmp`: the lab's long-lived connections, as its streaming client saw them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub streams: Vec<Stream>,
    /// `ha` and `ecmp`: the last failover `lab fail` injected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failover: Option<FailoverRecord>,
    /// Its timeline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Timeline>,
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
