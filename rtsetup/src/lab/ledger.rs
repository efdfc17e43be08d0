//! The ownership record of a lab: every object `lab up` makes is written down, with what
//! identifies it, before it exists; `lab down` removes only what still matches the record.
//!
//! Names are not identities: a bridge called `br0` or a namespace called `lb` may belong to
//! the user. So a [`Ledger`] refuses any name that exists and that it did not record, and
//! removes an object only when its identity is the recorded one:
//!
//! | object     | identity recorded                                           |
//! |------------|-------------------------------------------------------------|
//! | namespace  | nsfs device and inode, namespace cookie                      |
//! | link       | namespace, name, kind, interface index (chosen before creation) |
//! | address    | namespace, interface index, address                          |
//! | route      | namespace, destination, gateway                              |
//! | sysctl     | namespace, key, the value before and the value set           |
//! | process    | namespace, pid and start time (recorded before its program runs) |
//!
//! Each entry is complete when it is written, before the object exists (an interface's
//! index is chosen by rtsetup, a namespace is recorded between its creation and its naming,
//! a process between its fork and its exec), so a `lab up` killed at any point leaves no
//! object the record does not name. Another object kind is one more [`Entry`] variant, a
//! method that records then creates it, and its arm in [`Ledger::teardown`].
//!
//! ```no_run
//! use rtsetup::lab::Ledger;
//! use rtsetup::{Netns, Rtnl};
//!
//! let mut ledger = Ledger::open("mylab")?;
//! let mut here = Rtnl::open(&Netns::Current)?;
//! ledger.add_bridge(&mut here, "my-br0")?;
//! let ns = ledger.create_netns("my-ns")?;
//! ledger.add_veth(&mut here, "my-br0p", "my-veth0", &ns)?;
//! // ... later, maybe from another process:
//! if let Some(ledger) = Ledger::existing("mylab")? {
//!     let teardown = ledger.teardown()?;
//!     println!("removed {:?}, left alone {:?}", teardown.removed, teardown.left);
//! }
//! # Ok::<(), rtsetup::Error>(())
//! ```

use std::fmt;
use std::fs::{self, File};
use std::io;
use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Object, Place, Result};
use crate::ipnet::IpNet;
use crate::lab::process::{self, ProcessId, SpawnError};
use crate::lab::state::STATE_ROOT;
use crate::link::Link;
use crate::netns::{blocking_entry, Netns, NetnsExt, NsIdentity};
use crate::removal::Removal;
use crate::rtnl::Rtnl;
use crate::sysctl::{self, Key};

/// The record's file in the lab's state directory.
pub(crate) const RECORD_FILE: &str = "record.json";

/// A namespace as an entry names it: by name (`None` for the namespace `lab up` ran in, where
/// the bridges are) and by identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NsRef {
    /// The name under `/run/netns`, `None` for the namespace the lab was built from.
    pub name: Option<String>,
    /// Its identity when the entry was written.
    pub identity: NsIdentity,
}

impl fmt::Display for NsRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "namespace {name}"),
            None => f.write_str("the lab's root namespace"),
        }
    }
}

/// One object a lab created (or one change it made), as written before it was made.
/// New kinds of objects become new variants, so matches outside rtsetup need a `_` arm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "object", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Entry {
    /// A named network namespace.
    Netns {
        /// Its name under `/run/netns`.
        name: String,
        /// Its identity.
        identity: NsIdentity,
    },
    /// A network interface (each end of a veth pair is an entry of its own).
    Link {
        /// The namespace it was created in.
        netns: NsRef,
        /// Its name.
        name: String,
        /// Its driver kind ("bridge", "veth").
        kind: String,
        /// Its interface index, chosen before creation.
        index: u32,
    },
    /// An address on an interface.
    Address {
        /// The interface's namespace.
        netns: NsRef,
        /// The interface's name.
        link: String,
        /// The interface's index.
        link_index: u32,
        /// The address and prefix length.
        address: IpNet,
    },
    /// A main-table route.
    Route {
        /// The namespace it is in.
        netns: NsRef,
        /// Its destination.
        destination: IpNet,
        /// Its next hop, if any.
        gateway: Option<IpAddr>,
    },
    /// A sysctl the lab changed.
    Sysctl {
        /// The namespace it belongs to.
        netns: NsRef,
        /// The dotted key.
        key: String,
        /// The value before the lab changed it, restored by `down`.
        previous: String,
        /// The value the lab set.
        value: String,
    },
    /// An IPVS connection sync daemon the lab started.
    SyncDaemon {
        /// The namespace it runs in.
        netns: NsRef,
        /// `master` or `backup`.
        role: String,
        /// Its multicast interface.
        interface: String,
        /// Its sync id.
        sync_id: u8,
    },
    /// A process the lab started, detached.
    Process {
        /// The namespace it runs in.
        netns: NsRef,
        /// What it is for, unique within the lab ("serve-http in ap").
        label: String,
        /// Its command line.
        argv: Vec<String>,
        /// Its pid.
        pid: i32,
        /// Its start time in clock ticks after boot (field 22 of `/proc/PID/stat`).
        start_time: u64,
    },
}

impl Entry {
    /// The namespace the object is in; `None` for a namespace itself.
    pub fn netns(&self) -> Option<&NsRef> {
        match self {
            Entry::Netns { .. } => None,
            Entry::Link { netns, .. }
            | Entry::Address { netns, .. }
            | Entry::Route { netns, .. }
            | Entry::Sysctl { netns, .. }
            | Entry::SyncDaemon { netns, .. }
            | Entry::Process { netns, .. } => Some(netns),
        }
    }
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::Netns { name, .. } => write!(f, "namespace {name}"),
            Entry::Link {
                netns,
                name,
                kind,
                index,
            } => write!(f, "{kind} {name} (index {index}) in {netns}"),
            Entry::Address {
                netns,
                link,
                address,
                ..
            } => write!(f, "address {address} on {link} in {netns}"),
            Entry::Route {
                netns,
                destination,
                gateway,
            } => {
                write!(f, "route to {destination}")?;
                if let Some(gateway) = gateway {
                    write!(f, " via {gateway}")?;
                }
                write!(f, " in {netns}")
            }
            Entry::Sysctl {
                netns,
                key,
                previous,
                ..
            } => write!(f, "sysctl {key} in {netns} (back to {previous})"),
            Entry::SyncDaemon {
                netns,
                role,
                interface,
                sync_id,
            } => write!(
                f,
                "IPVS {role} sync daemon on {interface} (sync id {sync_id}) in {netns}"
            ),
            Entry::Process {
                label, pid, argv, ..
            } => write!(f, "process {label} (pid {pid}: {})", argv.join(" ")),
        }
    }
}

/// What the record file holds.
#[derive(Debug, Serialize, Deserialize)]
struct RecordFile {
    lab: String,
    entries: Vec<Entry>,
}

/// What [`Ledger::teardown`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Teardown {
    /// Objects removed (and sysctls restored, processes stopped), in that order.
    pub removed: Vec<String>,
    /// Recorded objects whose name now belongs to something else, left alone, with why.
    pub left: Vec<String>,
}

/// A name a lab is about to use, for [`Ledger::claim`].
#[derive(Debug, Clone)]
pub enum Name {
    /// A named network namespace.
    Netns(String),
    /// An interface in a namespace.
    Link(Netns, String),
}

/// One lab's ownership record, locked for as long as this value lives: two `lab up` or
/// `lab down` runs of the same lab take turns.
#[derive(Debug)]
pub struct Ledger {
    lab: String,
    dir: PathBuf,
    entries: Vec<Entry>,
    /// The state directory, opened and flock'ed.
    _lock: File,
    /// Identities of the namespaces used so far, so each is looked up once.
    known: Vec<NsRef>,
}

impl Ledger {
    /// Opens the record of lab `lab` under [`STATE_ROOT`], creating an empty one.
    pub fn open(lab: &str) -> Result<Ledger> {
        let dir = state_dir(lab)?;
        for (path, mode) in [(Path::new(STATE_ROOT), 0o755), (dir.as_path(), 0o700)] {
            match fs::DirBuilder::new().mode(mode).create(path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(file_error("create", path, e)),
            }
            // Before anything is made inside it.
            own_directory(path)?;
        }
        let ledger = Ledger::lock(lab, dir)?;
        // An empty record at once: a state directory always has one for `down` to find.
        if !ledger.dir.join(RECORD_FILE).exists() {
            ledger.save()?;
        }
        Ok(ledger)
    }

    /// The record of lab `lab`, if `lab up` left one.
    pub fn existing(lab: &str) -> Result<Option<Ledger>> {
        let dir = state_dir(lab)?;
        if !dir.join(RECORD_FILE).exists() {
            // A directory a killed `up` made just before its first record: empty, or it
            // would hold one. remove_dir removes only an empty directory.
            let _ = fs::remove_dir(&dir);
            return Ok(None);
        }
        Ledger::lock(lab, dir).map(Some)
    }

    fn lock(lab: &str, dir: PathBuf) -> Result<Ledger> {
        for path in [Path::new(STATE_ROOT), dir.as_path()] {
            own_directory(path)?;
        }
        let lock = File::open(&dir).map_err(|e| file_error("open", &dir, e))?;
        // SAFETY: flock on a descriptor this function owns.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(file_error("lock", &dir, io::Error::last_os_error()));
        }
        let file = dir.join(RECORD_FILE);
        let entries = match fs::read_to_string(&file) {
            Ok(text) => {
                let record: RecordFile =
                    serde_json::from_str(&text).map_err(|e| Error::Invalid {
                        what: "lab record",
                        reason: format!(
                            "{}: {e}; nothing was removed. Remove the lab's objects and the \
                             file by hand",
                            file.display()
                        ),
                    })?;
                record.entries
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(file_error("read", &file, e)),
        };
        Ok(Ledger {
            lab: lab.to_string(),
            dir,
            entries,
            _lock: lock,
            known: Vec::new(),
        })
    }

    /// The lab's name.
    pub fn lab(&self) -> &str {
        &self.lab
    }

    /// The lab's state directory, which holds the record.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Everything recorded, oldest first.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Checks, before anything is created, that none of `names` exists unless this lab
    /// created it: [`Error::Taken`] lists every one that does.
    pub fn claim(&mut self, names: &[Name]) -> Result<()> {
        let mut taken = Vec::new();
        for name in names {
            match name {
                Name::Netns(name) => {
                    if let Some(what) = blocking_entry(name) {
                        taken.push(format!("namespace name {name} ({what})"));
                    } else if Netns::exists(name) && !self.owns_netns(name)? {
                        taken.push(foreign_netns(name)?);
                    }
                }
                Name::Link(netns, name) => {
                    let mut rtnl = Rtnl::open(netns)?;
                    if let Some(link) = rtnl.find_link(name)? {
                        let ns = self.ns_ref(netns)?;
                        if !self.owns_link(&ns, &link) {
                            taken.push(foreign_link(&link, rtnl.place()));
                        }
                    }
                }
            }
        }
        if taken.is_empty() {
            Ok(())
        } else {
            Err(Error::Taken {
                lab: self.lab.clone(),
                taken,
            })
        }
    }

    /// Creates the named namespace, or returns it if this lab created it earlier.
    pub fn create_netns(&mut self, name: &str) -> Result<Netns> {
        if Netns::exists(name) {
            if self.owns_netns(name)? {
                return Netns::open(name);
            }
            return Err(self.taken(foreign_netns(name)?));
        }
        let mut recorded = None;
        let netns = Netns::create_new(name, |identity| {
            recorded = Some(*identity);
            self.push(Entry::Netns {
                name: name.to_string(),
                identity: *identity,
            })
        })?;
        if let Some(identity) = recorded {
            self.known.push(NsRef {
                name: Some(name.to_string()),
                identity,
            });
        }
        Ok(netns)
    }

    /// Creates a bridge in `rtnl`'s namespace, or returns it if this lab created it.
    pub fn add_bridge(&mut self, rtnl: &mut Rtnl, name: &str) -> Result<Link> {
        let ns = self.ns_ref(rtnl.netns())?;
        if let Some(link) = self.existing_link(rtnl, &ns, name)? {
            return Ok(link);
        }
        let index = free_index(rtnl)?;
        self.push(Entry::Link {
            netns: ns,
            name: name.into(),
            kind: "bridge".into(),
            index,
        })?;
        rtnl.create_bridge(name, index)
    }

    /// Creates a veth pair, `name` in `rtnl`'s namespace and `peer` in `peer_netns`, or
    /// returns `name` if this lab created the pair.
    pub fn add_veth(
        &mut self,
        rtnl: &mut Rtnl,
        name: &str,
        peer: &str,
        peer_netns: &Netns,
    ) -> Result<Link> {
        let ns = self.ns_ref(rtnl.netns())?;
        let peer_ns = self.ns_ref(peer_netns)?;
        if let Some(link) = self.existing_link(rtnl, &ns, name)? {
            return Ok(link);
        }
        let mut peer_rtnl = Rtnl::open(peer_netns)?;
        if let Some(link) = peer_rtnl.find_link(peer)? {
            return Err(self.taken(foreign_link(&link, peer_rtnl.place())));
        }
        let index = free_index(rtnl)?;
        let peer_index = loop {
            let candidate = free_index(&mut peer_rtnl)?;
            // Both ends may be in one namespace.
            if candidate != index {
                break candidate;
            }
        };
        for (netns, name, index) in [(ns, name, index), (peer_ns, peer, peer_index)] {
            self.push(Entry::Link {
                netns,
                name: name.into(),
                kind: "veth".into(),
                index,
            })?;
        }
        rtnl.create_veth((name, index), (peer, peer_index), peer_netns)
    }

    /// Adds an address to an interface, unless this lab added it already.
    pub fn add_address(&mut self, rtnl: &mut Rtnl, link: &str, address: IpNet) -> Result<()> {
        let ns = self.ns_ref(rtnl.netns())?;
        let link_index = rtnl.link(link)?.index;
        let entry = Entry::Address {
            netns: ns,
            link: link.into(),
            link_index,
            address,
        };
        if rtnl.addresses(Some(link))?.iter().any(|a| a.net == address) {
            if self.entries.contains(&entry) {
                return Ok(());
            }
            return Err(self.taken(format!("{entry}, not added by this lab")));
        }
        self.push(entry)?;
        rtnl.add_address(link, address)
    }

    /// Adds a main-table route, unless this lab added it already.
    pub fn add_route(
        &mut self,
        rtnl: &mut Rtnl,
        destination: IpNet,
        gateway: Option<IpAddr>,
        link: Option<&str>,
    ) -> Result<()> {
        let ns = self.ns_ref(rtnl.netns())?;
        let entry = Entry::Route {
            netns: ns,
            destination,
            gateway,
        };
        if rtnl.routes()?.iter().any(|r| r.destination == destination) {
            if self.entries.contains(&entry) {
                return Ok(());
            }
            return Err(self.taken(format!("{entry}, not added by this lab")));
        }
        self.push(entry)?;
        rtnl.add_route(destination, gateway, link)
    }

    /// Sets the route to `destination` over `gateways` (ECMP), recorded as a route without
    /// a single gateway; a route to `destination` the lab did not add is refused.
    pub fn set_multipath_route(
        &mut self,
        rtnl: &mut Rtnl,
        destination: IpNet,
        gateways: &[IpAddr],
    ) -> Result<()> {
        let ns = self.ns_ref(rtnl.netns())?;
        let entry = Entry::Route {
            netns: ns,
            destination,
            gateway: None,
        };
        if !self.entries.contains(&entry) {
            if rtnl.routes()?.iter().any(|r| r.destination == destination) {
                return Err(self.taken(format!("{entry}, not added by this lab")));
            }
            self.push(entry)?;
        }
        rtnl.set_multipath_route(destination, gateways)
    }

    /// Starts an IPVS sync daemon in `netns`, recorded first, unless one of that role runs.
    pub fn start_sync_daemon(&mut self, netns: &Netns, daemon: &ipvs_rs::Daemon) -> Result<()> {
        let handle = crate::lab::ipvs::open(netns)?;
        let wrap = |action: String, source| Error::Ipvs {
            action,
            place: netns.place(),
            source,
        };
        let role = daemon_role(daemon.state);
        let running = handle
            .daemons()
            .map_err(|e| wrap("listing the sync daemons".into(), e))?;
        if running.iter().any(|d| d.state.contains(daemon.state)) {
            return Ok(());
        }
        let ns = self.ns_ref(netns)?;
        let entry = Entry::SyncDaemon {
            netns: ns,
            role: role.into(),
            interface: daemon.interface.clone(),
            sync_id: daemon.sync_id,
        };
        if !self.entries.contains(&entry) {
            self.push(entry)?;
        }
        handle
            .start_daemon(daemon)
            .map_err(|e| wrap(format!("starting the {role} sync daemon"), e))
    }

    /// Stops the process recorded as `label` if it is still that process; returns whether
    /// it ran. Its entry stays, so a later [`Ledger::spawn`] under the label replaces it.
    pub fn stop(&self, label: &str) -> Result<bool> {
        let found = self.entries.iter().rev().find_map(|e| match e {
            Entry::Process {
                label: l,
                pid,
                start_time,
                ..
            } if l == label => Some(ProcessId {
                pid: *pid,
                start_time: *start_time,
            }),
            _ => None,
        });
        match found {
            Some(id) if process::alive(id) => process::stop(id)
                .map(|removal| removal == Removal::Removed)
                .map_err(|e| {
                    Error::from_io("stop", Object::Process(label.into()), Place::Current, e)
                }),
            _ => Ok(false),
        }
    }

    /// Sets a sysctl, recording the value it had unless this lab changed it before (so a
    /// rerun never records the lab's own value as the one to restore).
    pub fn set_sysctl(&mut self, netns: &Netns, key: &Key, value: &str) -> Result<()> {
        let ns = self.ns_ref(netns)?;
        let text = key.to_string();
        let current = sysctl::read(netns, key)?;
        let recorded = self
            .entries
            .iter()
            .any(|e| matches!(e, Entry::Sysctl { netns: n, key: k, .. } if *n == ns && *k == text));
        if current == value {
            return Ok(());
        }
        if !recorded {
            self.push(Entry::Sysctl {
                netns: ns,
                key: text,
                previous: current,
                value: value.into(),
            })?;
        }
        sysctl::write(netns, key, value)
    }

    /// Starts `command` detached (in the namespace `command` was made for, see
    /// [`Netns::command`]) as the process `label`, recorded before its program runs, unless
    /// the process recorded under `label` still runs. Returns its pid.
    pub fn spawn(&mut self, netns: &Netns, label: &str, command: Command) -> Result<i32> {
        if let Some(pid) = self.running(label) {
            return Ok(pid);
        }
        let ns = self.ns_ref(netns)?;
        let argv: Vec<String> = std::iter::once(command.get_program())
            .chain(command.get_args())
            .map(|arg| arg.to_string_lossy().into_owned())
            .collect();
        let object = || Object::Process(label.to_string());
        let started = process::spawn_detached(command, |id| {
            // A dead process under the same label is a leftover of an earlier run.
            self.entries.retain(|e| match e {
                Entry::Process {
                    label: l,
                    pid,
                    start_time,
                    ..
                } => {
                    l != label
                        || process::alive(ProcessId {
                            pid: *pid,
                            start_time: *start_time,
                        })
                }
                _ => true,
            });
            self.push(Entry::Process {
                netns: ns,
                label: label.into(),
                argv,
                pid: id.pid,
                start_time: id.start_time,
            })
        });
        match started {
            Ok(id) => Ok(id.pid),
            Err(SpawnError::Record(e)) => Err(e),
            Err(SpawnError::Start(e)) => Err(Error::from_io("start", object(), netns.place(), e)),
        }
    }

    /// The pid of the process recorded as `label`, if it is still that process and runs.
    pub fn running(&self, label: &str) -> Option<i32> {
        self.entries.iter().rev().find_map(|e| match e {
            Entry::Process {
                label: l,
                pid,
                start_time,
                ..
            } if l == label => {
                let id = ProcessId {
                    pid: *pid,
                    start_time: *start_time,
                };
                process::alive(id).then_some(*pid)
            }
            _ => None,
        })
    }

    /// Undoes the record, newest entry first: stops the processes, restores the sysctls
    /// (unless they were changed since), deletes addresses, routes, interfaces and
    /// namespaces, each only if it is still the recorded object. Something else under a
    /// recorded name is left alone and reported in [`Teardown::left`].
    ///
    /// Every entry is tried; entries that failed stay in the record for another try and
    /// the first error is returned. When all are done the state directory goes.
    ///
    /// It must run in the network namespace `up` ran in (where the bridges are): anywhere
    /// else it is an error and nothing is removed, so the record keeps those objects.
    pub fn teardown(mut self) -> Result<Teardown> {
        if let Some(root) = self.entries.iter().find_map(|e| match e.netns() {
            Some(ns) if ns.name.is_none() => Some(ns.identity),
            _ => None,
        }) {
            let here = Netns::Current.identity()?;
            if !here.same(&root) {
                return Err(Error::Invalid {
                    what: "namespace for lab down",
                    reason: format!(
                        "lab {} was brought up in another network namespace ({root}) than this \
                         one ({here}); run lab down there. Nothing was removed",
                        self.lab
                    ),
                });
            }
        }
        let mut done = Teardown::default();
        let mut kept = Vec::new();
        let mut first_error = None;
        for entry in std::mem::take(&mut self.entries).into_iter().rev() {
            match undo(&entry) {
                Ok(Removal::Removed) => done.removed.push(entry.to_string()),
                Ok(Removal::Missing) => {}
                Ok(Removal::Different(why)) => done.left.push(format!("{entry}: {why}")),
                Err(e) => {
                    first_error.get_or_insert(e);
                    kept.push(entry);
                }
            }
        }
        if let Some(e) = first_error {
            kept.reverse();
            self.entries = kept;
            self.save()?;
            return Err(e);
        }
        match fs::remove_dir_all(&self.dir) {
            Ok(()) => Ok(done),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(done),
            Err(e) => Err(file_error("remove", &self.dir, e)),
        }
    }

    /// Appends an entry and writes the record, before the object it names is created.
    fn push(&mut self, entry: Entry) -> Result<()> {
        self.entries.push(entry);
        self.save()
    }

    /// Writes the record atomically: a reader (or a killed writer) sees the old or the new.
    fn save(&self) -> Result<()> {
        let record = RecordFile {
            lab: self.lab.clone(),
            entries: self.entries.clone(),
        };
        let text = serde_json::to_string_pretty(&record).expect("a record serializes");
        let file = self.dir.join(RECORD_FILE);
        let partial = self.dir.join(format!("{RECORD_FILE}.partial"));
        fs::write(&partial, text).map_err(|e| file_error("write", &partial, e))?;
        fs::rename(&partial, &file).map_err(|e| file_error("write", &file, e))
    }

    fn taken(&self, what: String) -> Error {
        Error::Taken {
            lab: self.lab.clone(),
            taken: vec![what],
        }
    }

    fn ns_ref(&mut self, netns: &Netns) -> Result<NsRef> {
        let name = match netns {
            Netns::Current => None,
            Netns::Named(name) => Some(name.clone()),
            // A record must find the namespace again at teardown, by name or as the root.
            other => {
                return Err(Error::Invalid {
                    what: "namespace",
                    reason: format!(
                    "a lab records objects in named namespaces or the current one, not in {other}"
                ),
                })
            }
        };
        if let Some(known) = self.known.iter().find(|k| k.name == name) {
            return Ok(known.clone());
        }
        let ns = NsRef {
            name,
            identity: netns.identity()?,
        };
        self.known.push(ns.clone());
        Ok(ns)
    }

    fn owns_netns(&mut self, name: &str) -> Result<bool> {
        let identity = Netns::open(name)?.identity()?;
        let owned = self.entries.iter().any(
            |e| matches!(e, Entry::Netns { name: n, identity: i } if n == name && i.same(&identity)),
        );
        Ok(owned)
    }

    fn owns_link(&self, ns: &NsRef, link: &Link) -> bool {
        self.entries.iter().any(|e| {
            matches!(e, Entry::Link { netns, name, kind, index }
                if netns == ns && *name == link.name && Some(kind) == link.kind.as_ref()
                    && *index == link.index)
        })
    }

    /// The interface `name` if this lab created it; `None` if there is none; an error if
    /// it is someone else's.
    fn existing_link(&self, rtnl: &mut Rtnl, ns: &NsRef, name: &str) -> Result<Option<Link>> {
        match rtnl.find_link(name)? {
            None => Ok(None),
            Some(link) if self.owns_link(ns, &link) => Ok(Some(link)),
            Some(link) => Err(self.taken(foreign_link(&link, rtnl.place()))),
        }
    }
}

/// The state directory of lab `lab`, whose name must be a plain file name.
fn state_dir(lab: &str) -> Result<PathBuf> {
    if lab.is_empty() || lab.contains('/') || lab.starts_with('.') {
        return Err(Error::Invalid {
            what: "lab name",
            reason: format!("{lab:?} must be a plain file name"),
        });
    }
    Ok(Path::new(STATE_ROOT).join(lab))
}

fn foreign_netns(name: &str) -> Result<String> {
    let identity = Netns::open(name)?.identity()?;
    Ok(format!("namespace {name} ({identity})"))
}

fn foreign_link(link: &Link, place: &Place) -> String {
    format!(
        "{} {} (index {}) in {place}",
        link.kind.as_deref().unwrap_or("device"),
        link.name,
        link.index
    )
}

/// The recorded namespace, if it is still there; `None` if it is gone or was replaced (the
/// root namespace is checked before teardown starts), so what is in it is not the lab's.
fn locate(ns: &NsRef) -> Result<Option<Netns>> {
    let netns = match &ns.name {
        Some(name) if !Netns::exists(name) => return Ok(None),
        Some(name) => Netns::open(name)?,
        None => Netns::Current,
    };
    Ok(netns.identity()?.same(&ns.identity).then_some(netns))
}

/// Removes one recorded object if it is still the recorded one.
fn undo(entry: &Entry) -> Result<Removal> {
    let netns = match (entry, entry.netns()) {
        (Entry::Netns { name, identity }, _) => return Netns::delete_if(name, identity),
        (_, Some(ns)) => match locate(ns)? {
            Some(netns) => netns,
            None => return Ok(Removal::Missing),
        },
        (_, None) => unreachable!("every other entry is in a namespace"),
    };
    match entry {
        Entry::Netns { .. } => unreachable!("handled above"),
        Entry::Link {
            name, kind, index, ..
        } => Rtnl::open(&netns)?.delete_link_if(name, *index, kind),
        Entry::Address {
            link,
            link_index,
            address,
            ..
        } => {
            let mut rtnl = Rtnl::open(&netns)?;
            match rtnl.find_link(link)? {
                Some(found) if found.index == *link_index => {}
                _ => return Ok(Removal::Missing),
            }
            Ok(if rtnl.delete_address(link, *address)? {
                Removal::Removed
            } else {
                Removal::Missing
            })
        }
        Entry::Route {
            destination,
            gateway,
            ..
        } => {
            let mut rtnl = Rtnl::open(&netns)?;
            let found = rtnl
                .routes()?
                .into_iter()
                .find(|r| r.destination == *destination);
            match found {
                None => Ok(Removal::Missing),
                Some(route) if route.gateway != *gateway => Ok(Removal::Different(format!(
                    "its next hop is {:?} now",
                    route.gateway
                ))),
                Some(_) => Ok(if rtnl.delete_route(*destination)? {
                    Removal::Removed
                } else {
                    Removal::Missing
                }),
            }
        }
        Entry::Sysctl {
            key,
            previous,
            value,
            ..
        } => {
            let key: Key = key.parse()?;
            let current = match sysctl::read(&netns, &key) {
                Ok(current) => current,
                // A per-interface key goes with its interface.
                Err(e) if e.is_not_found() => return Ok(Removal::Missing),
                Err(e) => return Err(e),
            };
            if current != *value {
                return Ok(Removal::Different(format!(
                    "it is {current} now, not the {value} the lab set: someone changed it since"
                )));
            }
            sysctl::write(&netns, &key, previous)?;
            Ok(Removal::Removed)
        }
        Entry::SyncDaemon {
            role,
            interface,
            sync_id,
            ..
        } => {
            let handle = crate::lab::ipvs::open(&netns)?;
            let wrap = |source| Error::Ipvs {
                action: format!("stopping the {role} sync daemon"),
                place: netns.place(),
                source,
            };
            let daemons = handle.daemons().map_err(wrap)?;
            let Some(running) = daemons.iter().find(|d| daemon_role(d.state) == role) else {
                return Ok(Removal::Missing);
            };
            if running.interface != *interface || running.sync_id != *sync_id {
                return Ok(Removal::Different(format!(
                    "the {role} daemon runs on {} with sync id {} now",
                    running.interface, running.sync_id
                )));
            }
            handle.stop_daemon(running.state).map_err(wrap)?;
            Ok(Removal::Removed)
        }
        Entry::Process {
            pid,
            start_time,
            label,
            ..
        } => process::stop(ProcessId {
            pid: *pid,
            start_time: *start_time,
        })
        .map_err(|e| Error::from_io("stop", Object::Process(label.clone()), netns.place(), e)),
    }
}

/// `master` or `backup`, as ipvsadm names a sync daemon's role.
fn daemon_role(state: ipvs_rs::DaemonState) -> &'static str {
    if state.contains(ipvs_rs::DaemonState::MASTER) {
        "master"
    } else {
        "backup"
    }
}

/// An interface index unused in `rtnl`'s namespace, chosen at random far above the ones
/// the kernel hands out in order, so that the index names this lab's interface alone.
fn free_index(rtnl: &mut Rtnl) -> Result<u32> {
    let used: Vec<u32> = rtnl.links()?.iter().map(|l| l.index).collect();
    loop {
        let mut bytes = [0u8; 4];
        // SAFETY: getrandom writes at most bytes.len() bytes into bytes.
        let n = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
        if n != bytes.len() as isize {
            return Err(Error::from_io(
                "draw an interface index for",
                Object::Link("(new)".into()),
                rtnl.place().clone(),
                io::Error::last_os_error(),
            ));
        }
        let index = (1 << 24) + u32::from_ne_bytes(bytes) % ((1 << 30) - (1 << 24));
        if !used.contains(&index) {
            return Ok(index);
        }
    }
}

/// Fails unless the process may create namespaces and interfaces: before anything is
/// written, so a user without the rights gets one clear error and nothing is created.
pub(crate) fn require_admin(action: &'static str, lab: &str) -> Result<()> {
    const CAP_NET_ADMIN: u32 = 12;
    const CAP_SYS_ADMIN: u32 = 21;
    let effective = fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("CapEff:"))
                .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        })
        .unwrap_or(0);
    let needed = (1u64 << CAP_NET_ADMIN) | (1u64 << CAP_SYS_ADMIN);
    if effective & needed == needed {
        Ok(())
    } else {
        Err(Error::Permission {
            action,
            object: Object::Lab(lab.into()),
            place: Place::Current,
        })
    }
}

/// Records live only in directories of the caller's own: through a link, or in someone
/// else's directory, `down` would act on a record it never wrote.
fn own_directory(path: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let meta = fs::symlink_metadata(path).map_err(|e| file_error("inspect", path, e))?;
    let what = if meta.file_type().is_symlink() {
        "a link"
    } else if !meta.is_dir() {
        "not a directory"
    } else if meta.uid() != nix::unistd::geteuid().as_raw() {
        "someone else's directory"
    } else {
        return Ok(());
    };
    Err(Error::Invalid {
        what: "lab state directory",
        reason: format!(
            "{} is {what}: rtsetup keeps its records only in a directory it made; \
             move it away if it is not in use",
            path.display()
        ),
    })
}

fn file_error(action: &'static str, path: &Path, e: io::Error) -> Error {
    Error::from_io(
        action,
        Object::File(path.to_path_buf()),
        Place::Filesystem,
        e,
    )
}
