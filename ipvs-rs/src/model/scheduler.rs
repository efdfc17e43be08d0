//! Scheduling algorithms.

use std::fmt;
use std::str::FromStr;

use super::parse_error::ParseError;

/// A service's scheduler, by the name the kernel knows it under (`ip_vs_<name>` module).
///
/// Names the kernel ships are variants; any other name is kept as [`Scheduler::Other`], so a
/// scheduler loaded from an out-of-tree module survives a read and write unchanged.
///
/// The text form is the kernel's name. Parsing (`FromStr`) is strict: it knows only the
/// mainline schedulers, so a typo in a configuration fails when the configuration is loaded,
/// not later in the kernel. [`Scheduler::from_name`] takes any name, for out-of-tree modules.
///
/// ```
/// use ipvs_rs::Scheduler;
/// assert_eq!("wrr".parse::<Scheduler>()?, Scheduler::WeightedRoundRobin);
/// assert!("wrrr".parse::<Scheduler>().is_err());
/// assert_eq!(Scheduler::from_name("myhash"), Scheduler::Other("myhash".into()));
/// # Ok::<(), ipvs_rs::ParseError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[non_exhaustive]
pub enum Scheduler {
    /// Round robin (`rr`).
    RoundRobin,
    /// Weighted round robin (`wrr`).
    WeightedRoundRobin,
    /// Least connection (`lc`).
    LeastConnection,
    /// Weighted least connection (`wlc`), ipvsadm's default.
    #[default]
    WeightedLeastConnection,
    /// Locality-based least connection (`lblc`).
    LocalityBasedLeastConnection,
    /// Locality-based least connection with replication (`lblcr`).
    LocalityBasedLeastConnectionReplication,
    /// Destination hashing (`dh`).
    DestinationHashing,
    /// Source hashing (`sh`).
    SourceHashing,
    /// Shortest expected delay (`sed`).
    ShortestExpectedDelay,
    /// Never queue (`nq`).
    NeverQueue,
    /// Weighted failover (`fo`).
    WeightedFailover,
    /// Weighted overflow (`ovf`).
    WeightedOverflow,
    /// Maglev hashing (`mh`).
    MaglevHashing,
    /// Any other scheduler name.
    Other(String),
}

const KNOWN: [(&str, Scheduler); 13] = [
    ("rr", Scheduler::RoundRobin),
    ("wrr", Scheduler::WeightedRoundRobin),
    ("lc", Scheduler::LeastConnection),
    ("wlc", Scheduler::WeightedLeastConnection),
    ("lblc", Scheduler::LocalityBasedLeastConnection),
    ("lblcr", Scheduler::LocalityBasedLeastConnectionReplication),
    ("dh", Scheduler::DestinationHashing),
    ("sh", Scheduler::SourceHashing),
    ("sed", Scheduler::ShortestExpectedDelay),
    ("nq", Scheduler::NeverQueue),
    ("fo", Scheduler::WeightedFailover),
    ("ovf", Scheduler::WeightedOverflow),
    ("mh", Scheduler::MaglevHashing),
];

impl Scheduler {
    /// Every scheduler the mainline kernel ships, in ipvsadm's order.
    pub fn known() -> impl Iterator<Item = Scheduler> {
        KNOWN.into_iter().map(|(_, s)| s)
    }

    /// The name the kernel uses (`wlc`, `rr`, ...).
    pub fn name(&self) -> &str {
        match self {
            Scheduler::Other(name) => name,
            known => KNOWN
                .iter()
                .find(|(_, s)| s == known)
                .map_or("", |(n, _)| n),
        }
    }

    /// The scheduler called `name`; unknown names become [`Scheduler::Other`] (see `FromStr`
    /// for a parse that refuses them).
    pub fn from_name(name: &str) -> Self {
        KNOWN
            .iter()
            .find(|(n, _)| *n == name)
            .map_or_else(|| Scheduler::Other(name.to_owned()), |(_, s)| s.clone())
    }
}

impl fmt::Display for Scheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scheduler {
    type Err = ParseError;

    /// A mainline scheduler by name; any other name is an error.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        KNOWN
            .iter()
            .find(|(n, _)| *n == s)
            .map(|(_, sched)| sched.clone())
            .ok_or_else(|| {
                let names: Vec<&str> = KNOWN.iter().map(|(n, _)| *n).collect();
                ParseError::new(
                    "scheduler",
                    s,
                    format!(
                        "not a mainline scheduler ({}); Scheduler::from_name takes out-of-tree names",
                        names.join(", ")
                    ),
                )
            })
    }
}

impl From<&str> for Scheduler {
    fn from(s: &str) -> Self {
        Scheduler::from_name(s)
    }
}
