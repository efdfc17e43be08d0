//! Flag sets as lists of names; bits without a name as one hexadecimal string (`"0x40"`).

use serde::de::{self, Deserializer};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Serialize, Serializer};

use crate::{DaemonState, Scheduler, ServiceFlags};

/// Writes the names of `bits` from `names` (first match per bit), then any rest in hex.
fn write_names<S: Serializer>(
    serializer: S,
    bits: u32,
    names: &[(&str, u32)],
) -> Result<S::Ok, S::Error> {
    let mut rest = bits;
    let mut seq = serializer.serialize_seq(None)?;
    for (name, bit) in names {
        if rest & bit != 0 {
            seq.serialize_element(name)?;
            rest &= !bit;
        }
    }
    if rest != 0 {
        seq.serialize_element(&format!("{rest:#x}"))?;
    }
    seq.end()
}

/// Reads a list of names from `names`, or hexadecimal bits.
fn read_names<'de, D: Deserializer<'de>>(
    deserializer: D,
    names: &[(&str, u32)],
    what: &str,
) -> Result<u32, D::Error> {
    let list = Vec::<String>::deserialize(deserializer)?;
    let mut bits = 0;
    for name in &list {
        bits |= match names.iter().find(|(n, _)| n == name) {
            Some((_, bit)) => *bit,
            None => name
                .strip_prefix("0x")
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .ok_or_else(|| {
                    let known: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
                    de::Error::custom(format!(
                        "unknown {what} `{name}` (expected {} or hexadecimal bits)",
                        known.join(", ")
                    ))
                })?,
        };
    }
    Ok(bits)
}

const SERVICE_FLAGS: [(&str, u32); 10] = [
    ("persistent", ServiceFlags::PERSISTENT.bits()),
    ("hashed", ServiceFlags::HASHED.bits()),
    ("one-packet", ServiceFlags::ONE_PACKET.bits()),
    ("flag-1", ServiceFlags::SCHED1.bits()),
    ("flag-2", ServiceFlags::SCHED2.bits()),
    ("flag-3", ServiceFlags::SCHED3.bits()),
    ("sh-fallback", ServiceFlags::SH_FALLBACK.bits()),
    ("sh-port", ServiceFlags::SH_PORT.bits()),
    ("mh-fallback", ServiceFlags::MH_FALLBACK.bits()),
    ("mh-port", ServiceFlags::MH_PORT.bits()),
];

/// The names of a service's flags as ipvsadm shows them for its scheduler: `sh-port` for
/// `sh`, `mh-port` for `mh`, `flag-2` for any other.
fn service_flag_names(scheduler: &Scheduler) -> [(&'static str, u32); 6] {
    let (one, two) = match scheduler {
        Scheduler::SourceHashing => ("sh-fallback", "sh-port"),
        Scheduler::MaglevHashing => ("mh-fallback", "mh-port"),
        _ => ("flag-1", "flag-2"),
    };
    [
        SERVICE_FLAGS[0],
        SERVICE_FLAGS[1],
        SERVICE_FLAGS[2],
        (one, ServiceFlags::SCHED1.bits()),
        (two, ServiceFlags::SCHED2.bits()),
        SERVICE_FLAGS[5],
    ]
}

/// A service's flags, named for its scheduler.
pub(crate) struct ServiceFlagNames<'a>(pub ServiceFlags, pub &'a Scheduler);

impl Serialize for ServiceFlagNames<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        write_names(serializer, self.0.bits(), &service_flag_names(self.1))
    }
}

/// Service flags alone: `persistent`, `hashed`, `one-packet`, `flag-1`, `flag-2`, `flag-3`
/// (reading also takes `sh-fallback`, `sh-port`, `mh-fallback`, `mh-port`).
impl Serialize for ServiceFlags {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        write_names(serializer, self.bits(), &SERVICE_FLAGS[..6])
    }
}

impl<'de> Deserialize<'de> for ServiceFlags {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        read_names(deserializer, &SERVICE_FLAGS, "service flag").map(ServiceFlags::from_bits_retain)
    }
}

const DAEMON_STATES: [(&str, u32); 2] = [
    ("master", DaemonState::MASTER.bits()),
    ("backup", DaemonState::BACKUP.bits()),
];

/// Daemon states: `master`, `backup`.
impl Serialize for DaemonState {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        write_names(serializer, self.bits(), &DAEMON_STATES)
    }
}

impl<'de> Deserialize<'de> for DaemonState {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        read_names(deserializer, &DAEMON_STATES, "daemon state").map(DaemonState::from_bits_retain)
    }
}
