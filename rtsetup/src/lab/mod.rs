//! Labs: the walkthrough's Direct Routing lab and other IPVS labs described by a
//! [`Topology`], built ([`Lab::up`]), proven ([`Lab::verify`]) and removed ([`Lab::down`]).
//!
//! ```no_run
//! use rtsetup::lab::{Lab, Topology};
//! let lab = Lab::new(Topology::walkthrough(1, "rr")?)?;
//! lab.up(&std::env::current_exe().unwrap())?;
//! let report = lab.verify()?;
//! assert!(report.ok(), "{:?}", report.failures().collect::<Vec<_>>());
//! lab.down()?;
//! # Ok::<(), rtsetup::Error>(())
//! ```

mod check;
pub mod conns;
mod down;
mod failover;
pub mod ipvs;
pub mod keepalived;
pub mod ledger;
mod live;
mod multi_verify;
mod path;
mod patterns;
mod pcap;
mod process;
mod report;
mod responder;
mod scale_out;
mod state;
pub mod stream;
pub mod timeline;
mod topology;
mod up;
mod verify;

pub use check::{check_real_server, Check};
pub use down::{down, recorded};
pub use failover::{FailoverRecord, Failure};
pub use ledger::{Entry, Ledger, Teardown};
pub use patterns::MAX_REAL_SERVERS;
pub use report::{IpvsEvidence, PathFrame, Report, RequestOutcome};
pub use responder::SERVE_HTTP;
pub use state::STATE_ROOT;
pub use topology::{Host, HostLink, Mode, Pattern, Role, Topology, MAX_DIRECTORS};

use crate::error::{Error, Result};
use crate::netns::Netns;
use state::StateDir;

/// A lab: its topology, the namespace its bridges live in, and its state directory.
#[derive(Debug, Clone)]
pub struct Lab {
    topology: Topology,
    /// Where the client and the director are in `topology.hosts`, found once it is validated.
    client: usize,
    director: usize,
    root: Netns,
    state: StateDir,
}

impl Lab {
    /// A lab whose bridges live in the caller's namespace. Validates the topology.
    pub fn new(topology: Topology) -> Result<Lab> {
        topology.validate()?;
        let find = |role| {
            topology
                .hosts
                .iter()
                .position(|h| h.role == role)
                .ok_or_else(|| Error::Invalid {
                    what: "topology",
                    reason: format!("needs exactly one {role:?} host, has none"),
                })
        };
        let (client, director) = (find(Role::Client)?, find(Role::Director)?);
        let state = StateDir::for_lab(&topology.name);
        Ok(Lab {
            topology,
            client,
            director,
            root: Netns::Current,
            state,
        })
    }

    /// The lab `lab up` last built under `name`, from its saved topology, if any.
    pub fn saved(name: &str) -> Result<Option<Lab>> {
        StateDir::for_lab(name)
            .load_topology()?
            .map(Lab::new)
            .transpose()
    }

    /// The topology.
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// The client host.
    pub(crate) fn client(&self) -> &Host {
        &self.topology.hosts[self.client]
    }

    /// The director host.
    pub(crate) fn director(&self) -> &Host {
        &self.topology.hosts[self.director]
    }
}
