//! An in-memory IPVS for tests that run without root or a kernel with IPVS.
//!
//! [`FakeIpvs`] implements [`Ipvs`] the way the kernel does, as measured on Debian's Linux 6.1:
//! the same [`Error`] variants in the same order of checks, the values the kernel refuses, and
//! what it fills in (the `HASHED` flag, destination and daemon defaults, timeouts where 0 means
//! unchanged). `ipvs-rs/tests/conformance/` holds one suite of behaviours that runs against a
//! [`Handle`](crate::Handle) in the kernel lane and against `FakeIpvs` on the host: any
//! difference is a bug in the fake.
//!
//! # What it does not model
//! - Traffic: counters, rates and connection counts stay at zero unless a test sets them
//!   ([`FakeIpvs::set_service_stats`], [`FakeIpvs::set_destination_stats`]); no packet is
//!   ever forwarded, and the connection table does not exist.
//! - The network namespace around IPVS: the fake knows only the interfaces it was given
//!   (`lo`, MTU 65536, at first; [`FakeIpvs::add_interface`]) and only `lo`'s addresses, so it
//!   takes a real server on the broadcast address of a subnet configured elsewhere, and it
//!   starts a sync daemon the kernel would refuse for lack of a route or an address
//!   (`ENETUNREACH`).
//! - Kernel versions: the schedulers are 6.1's (no `twos`), `sip` is the only persistence
//!   engine, and timeouts assume `HZ=250` (Debian's).
//! - The order of a dump: services come in the order they were added (the kernel's is its hash
//!   order), destinations newest first (as the kernel's).
//! - Dump races, [`Error::Busy`], [`Error::Timeout`], [`Error::PermissionDenied`]: nothing is
//!   concurrent or privileged here; [`FakeIpvs::fail_next`] makes the next call fail with any
//!   error instead.
//! - `Request::Raw` (feature `wire`): refused with `EOPNOTSUPP`.
//!
//! # Unit-testing an agent
//!
//! Write the agent against [`Ipvs`] (`&dyn Ipvs` or a generic), hand it a
//! [`Handle`](crate::Handle) in production and a `FakeIpvs` in its unit tests:
//!
//! ```
//! use ipvs_rs::fake::FakeIpvs;
//! use ipvs_rs::{Destination, Error, Ipvs, Result, Service, ServiceKey};
//! use std::net::{IpAddr, Ipv4Addr};
//!
//! /// The agent: `key` balances over exactly `backends`; a draining one keeps weight 0.
//! fn sync_backends(ipvs: &dyn Ipvs, key: ServiceKey, backends: &[(IpAddr, bool)]) -> Result<()> {
//!     match ipvs.service(&key) {
//!         Err(Error::NoSuchService) => ipvs.add_service(&Service::new(key))?,
//!         other => drop(other?),
//!     }
//!     let current = ipvs.destinations(&key)?;
//!     for dest in &current {
//!         if !backends.iter().any(|(addr, _)| *addr == dest.addr) {
//!             ipvs.delete_destination(&key, dest)?;
//!         }
//!     }
//!     for &(addr, draining) in backends {
//!         let want = Destination::new(addr, 80).with_weight(if draining { 0 } else { 1 });
//!         match current.iter().find(|d| d.addr == addr) {
//!             None => ipvs.add_destination(&key, &want)?,
//!             Some(have) if have.weight != want.weight => ipvs.update_destination(&key, &want)?,
//!             Some(_) => {}
//!         }
//!     }
//!     Ok(())
//! }
//!
//! // The test: no root, no IPVS, the kernel's rules all the same.
//! let ipvs = FakeIpvs::new();
//! let key = ServiceKey::tcp(Ipv4Addr::new(10, 96, 0, 1), 80);
//! let (a, b) = (IpAddr::from([10, 1, 0, 2]), IpAddr::from([10, 1, 0, 3]));
//! sync_backends(&ipvs, key, &[(a, false), (b, true)])?;
//! let weights: Vec<_> = ipvs.destinations(&key)?.iter().map(|d| (d.addr, d.weight)).collect();
//! assert_eq!(weights, [(b, 0), (a, 1)]); // newest first, as the kernel lists them
//! sync_backends(&ipvs, key, &[(b, false)])?;
//! assert_eq!(ipvs.destinations(&key)?, [Destination::new(b, 80)]);
//! // What the kernel refuses, the fake refuses with the same error.
//! let multicast = IpAddr::from([224, 0, 0, 1]);
//! assert!(matches!(
//!     sync_backends(&ipvs, key, &[(multicast, false)]),
//!     Err(Error::InvalidArgument { .. })
//! ));
//! // And failures the fake cannot cause by itself can be injected.
//! ipvs.fail_next(Error::Timeout);
//! assert!(matches!(sync_backends(&ipvs, key, &[(a, false)]), Err(Error::Timeout)));
//! # Ok::<(), ipvs_rs::Error>(())
//! ```

mod rules;

use std::sync::{Mutex, MutexGuard};

use crate::validation::Validation;
use crate::wire::IpvsCmd;
use crate::{
    Daemon, DaemonState, Destination, Error, Info, Ipvs, Request, Result, Service, ServiceKey,
    Stats, Timeouts, Version,
};

/// An in-memory IPVS table that follows the kernel's rules; see the [module](self) for what
/// it models and what it does not.
///
/// It is `Send` and `Sync`: every call locks the whole table, so each request is atomic, as a
/// kernel request is.
#[derive(Debug)]
pub struct FakeIpvs {
    state: Mutex<State>,
    validation: Validation,
}

#[derive(Debug)]
struct State {
    /// In the order they were added.
    services: Vec<Entry>,
    timeouts: Timeouts,
    master: Option<Daemon>,
    backup: Option<Daemon>,
    /// Name and MTU of each interface a sync daemon may use.
    interfaces: Vec<(String, u32)>,
    fail_next: Option<Error>,
}

#[derive(Debug)]
struct Entry {
    service: Service,
    /// Newest first, as the kernel lists them.
    destinations: Vec<Destination>,
}

impl Default for FakeIpvs {
    fn default() -> Self {
        FakeIpvs::new()
    }
}

impl FakeIpvs {
    /// An empty table, as in a fresh network namespace with `lo` up: no services, the kernel's
    /// default timeouts (TCP 900 s, TCP FIN 120 s, UDP 300 s), no sync daemon.
    pub fn new() -> Self {
        FakeIpvs {
            validation: Validation::default(),
            state: Mutex::new(State {
                services: Vec::new(),
                timeouts: Timeouts {
                    tcp: 900,
                    tcp_fin: 120,
                    udp: 300,
                },
                master: None,
                backup: None,
                interfaces: vec![("lo".into(), 65536)],
                fail_next: None,
            }),
        }
    }

    /// Makes an interface known to sync daemons (`lo`, MTU 65536, is known from the start).
    pub fn add_interface(&self, name: impl Into<String>, mtu: u32) {
        let name = name.into();
        let mut state = self.lock();
        state.interfaces.retain(|(n, _)| *n != name);
        state.interfaces.push((name, mtu));
    }

    /// Turns the library's checks before a request is handled on or off (on by default), as
    /// [`Handle::set_validation`](crate::Handle::set_validation) does: with them off, the fake
    /// answers as the kernel does.
    pub fn set_validation(&self, enabled: bool) {
        self.validation.set(enabled);
    }

    /// Makes the next call on this fake (read or write) fail with `error` and change nothing:
    /// a way to test how code handles [`Error::Timeout`], [`Error::PermissionDenied`] and the
    /// like.
    pub fn fail_next(&self, error: Error) {
        self.lock().fail_next = Some(error);
    }

    /// Sets a service's counters and rates, as traffic would (the kernel's `ipvsadm -Z`
    /// clears them again: [`Ipvs::zero`]).
    pub fn set_service_stats(&self, key: &ServiceKey, stats: Stats) -> Result<()> {
        let mut state = self.lock();
        let entry = state.entry_mut(key).ok_or(Error::NoSuchService)?;
        entry.service.stats = stats;
        Ok(())
    }

    /// Copies the read-only fields of `dest` (counters, rates and connection counts) onto the
    /// destination with its address, port and family, as traffic would.
    pub fn set_destination_stats(&self, key: &ServiceKey, dest: &Destination) -> Result<()> {
        let mut state = self.lock();
        let entry = state.entry_mut(key).ok_or(Error::NoSuchService)?;
        let stored = entry
            .destination_mut(dest)
            .ok_or(Error::NoSuchDestination)?;
        stored.stats = dest.stats;
        stored.active_conns = dest.active_conns;
        stored.inactive_conns = dest.inactive_conns;
        stored.persist_conns = dest.persist_conns;
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The table, or the error [`FakeIpvs::fail_next`] set.
    fn begin(&self) -> Result<MutexGuard<'_, State>> {
        let mut state = self.lock();
        match state.fail_next.take() {
            Some(error) => Err(error),
            None => Ok(state),
        }
    }
}

impl Entry {
    fn destination_mut(&mut self, dest: &Destination) -> Option<&mut Destination> {
        self.destinations
            .iter_mut()
            .find(|d| same_destination(d, dest))
    }
}

/// The kernel finds a destination by family, address and port.
fn same_destination(a: &Destination, b: &Destination) -> bool {
    a.family == b.family && a.addr == b.addr && a.port == b.port
}

impl State {
    fn entry_mut(&mut self, key: &ServiceKey) -> Option<&mut Entry> {
        let key = rules::stored_key(key);
        self.services.iter_mut().find(|e| e.service.key == key)
    }

    fn entry(&self, key: &ServiceKey) -> Option<&Entry> {
        let key = rules::stored_key(key);
        self.services.iter().find(|e| e.service.key == key)
    }

    fn daemons_running(&self) -> bool {
        self.master.is_some() || self.backup.is_some()
    }

    fn mixed_families(&self) -> bool {
        self.services.iter().any(|e| {
            e.destinations
                .iter()
                .any(|d| d.family != e.service.key.family())
        })
    }

    fn execute(&mut self, request: &Request) -> Result<()> {
        match request {
            Request::AddService(svc) => self.add_service(svc),
            Request::UpdateService(svc) => self.update_service(svc),
            Request::DeleteService(key) => {
                let cmd = IpvsCmd::DelService;
                rules::check_family(cmd, key.family())?;
                let key = rules::stored_key(key);
                let before = self.services.len();
                self.services.retain(|e| e.service.key != key);
                if self.services.len() == before {
                    return Err(rules::kernel(cmd, libc::ESRCH));
                }
                Ok(())
            }
            Request::AddDestination(key, dest) => self.add_destination(key, dest),
            Request::UpdateDestination(key, dest) => self.update_destination(key, dest),
            Request::DeleteDestination(key, dest) => {
                let cmd = IpvsCmd::DelDest;
                let entry = self.service_for(cmd, key)?;
                rules::check_family(cmd, dest.family)?;
                let before = entry.destinations.len();
                entry.destinations.retain(|d| !same_destination(d, dest));
                if entry.destinations.len() == before {
                    return Err(rules::kernel(cmd, libc::ENOENT));
                }
                Ok(())
            }
            Request::Zero(Some(key)) => {
                let entry = self.service_for(IpvsCmd::Zero, key)?;
                zero(entry);
                Ok(())
            }
            Request::Zero(None) => {
                self.services.iter_mut().for_each(zero);
                Ok(())
            }
            Request::Flush => {
                self.services.clear();
                Ok(())
            }
            Request::SetTimeouts(t) => {
                if [t.tcp, t.tcp_fin, t.udp]
                    .iter()
                    .any(|&v| v > rules::MAX_TIMEOUT)
                {
                    return Err(rules::kernel(IpvsCmd::SetConfig, libc::EINVAL));
                }
                for (have, want) in [
                    (&mut self.timeouts.tcp, t.tcp),
                    (&mut self.timeouts.tcp_fin, t.tcp_fin),
                    (&mut self.timeouts.udp, t.udp),
                ] {
                    if want != 0 {
                        *have = want;
                    }
                }
                Ok(())
            }
            Request::StartDaemon(daemon) => self.start_daemon(daemon),
            Request::StopDaemon(daemon) => {
                let cmd = IpvsCmd::DelDaemon;
                let slot = match daemon.state {
                    DaemonState::MASTER => &mut self.master,
                    DaemonState::BACKUP => &mut self.backup,
                    _ => return Err(rules::kernel(cmd, libc::EINVAL)),
                };
                slot.take()
                    .map(drop)
                    .ok_or_else(|| rules::kernel(cmd, libc::ESRCH))
            }
            #[cfg(feature = "wire")]
            Request::Raw(msg) => Err(Error::Kernel {
                command: msg.cmd,
                errno: libc::EOPNOTSUPP,
                message: Some("FakeIpvs does not model raw requests".into()),
            }),
        }
    }

    /// The service a destination or zero request names, after the family check.
    fn service_for(&mut self, cmd: IpvsCmd, key: &ServiceKey) -> Result<&mut Entry> {
        rules::check_family(cmd, key.family())?;
        self.entry_mut(key)
            .ok_or_else(|| rules::kernel(cmd, libc::ESRCH))
    }

    fn add_service(&mut self, svc: &Service) -> Result<()> {
        let cmd = IpvsCmd::NewService;
        rules::check_family(cmd, svc.key.family())?;
        if self.entry(&svc.key).is_some() {
            return Err(rules::kernel(cmd, libc::EEXIST));
        }
        rules::check_service(cmd, svc)?;
        let key = rules::stored_key(&svc.key);
        self.services.push(Entry {
            service: rules::stored_service(key, svc),
            destinations: Vec::new(),
        });
        Ok(())
    }

    fn update_service(&mut self, svc: &Service) -> Result<()> {
        let cmd = IpvsCmd::SetService;
        let entry = self.service_for(cmd, &svc.key)?;
        rules::check_service(cmd, svc)?;
        let stats = entry.service.stats;
        entry.service = rules::stored_service(entry.service.key, svc);
        entry.service.stats = stats;
        Ok(())
    }

    fn add_destination(&mut self, key: &ServiceKey, dest: &Destination) -> Result<()> {
        let cmd = IpvsCmd::NewDest;
        let running = self.daemons_running();
        let entry = self.service_for(cmd, key)?;
        rules::check_destination(cmd, entry.service.key.family(), dest, running)?;
        if entry.destination_mut(dest).is_some() {
            return Err(rules::kernel(cmd, libc::EEXIST));
        }
        if !rules::usable_destination_address(dest.addr) {
            return Err(rules::kernel(cmd, libc::EINVAL));
        }
        entry
            .destinations
            .insert(0, rules::stored_destination(dest));
        Ok(())
    }

    fn update_destination(&mut self, key: &ServiceKey, dest: &Destination) -> Result<()> {
        let cmd = IpvsCmd::SetDest;
        let running = self.daemons_running();
        let entry = self.service_for(cmd, key)?;
        rules::check_destination(cmd, entry.service.key.family(), dest, running)?;
        let stored = entry
            .destination_mut(dest)
            .ok_or_else(|| rules::kernel(cmd, libc::ENOENT))?;
        let mut updated = rules::stored_destination(dest);
        updated.stats = stored.stats;
        updated.active_conns = stored.active_conns;
        updated.inactive_conns = stored.inactive_conns;
        updated.persist_conns = stored.persist_conns;
        *stored = updated;
        Ok(())
    }

    fn start_daemon(&mut self, daemon: &Daemon) -> Result<()> {
        let mtu = self
            .interfaces
            .iter()
            .find(|(name, _)| *name == daemon.interface)
            .map(|&(_, mtu)| mtu);
        let started = rules::started_daemon(daemon, self.mixed_families(), mtu)?;
        let slot = if started.state == DaemonState::MASTER {
            &mut self.master
        } else {
            &mut self.backup
        };
        if slot.is_some() {
            return Err(rules::kernel(IpvsCmd::NewDaemon, libc::EEXIST));
        }
        *slot = Some(started);
        Ok(())
    }
}

fn zero(entry: &mut Entry) {
    entry.service.stats = Stats::default();
    for dest in &mut entry.destinations {
        dest.stats = Stats::default();
    }
}

impl Ipvs for FakeIpvs {
    fn execute(&self, request: &Request) -> Result<()> {
        self.validation.check(request)?;
        self.begin()?.execute(request)
    }

    fn apply(&self, batch: &crate::Batch) -> Vec<Result<()>> {
        if let Some(refused) = self.validation.refuse(batch) {
            return refused;
        }
        batch
            .requests()
            .iter()
            .map(|r| self.begin().and_then(|mut state| state.execute(r)))
            .collect()
    }

    fn services(&self) -> Result<Vec<Service>> {
        Ok(self
            .begin()?
            .services
            .iter()
            .map(|e| e.service.clone())
            .collect())
    }

    fn service(&self, key: &ServiceKey) -> Result<Service> {
        let state = self.begin()?;
        rules::check_family(IpvsCmd::GetService, key.family())?;
        state
            .entry(key)
            .map(|e| e.service.clone())
            .ok_or(Error::NoSuchService)
    }

    fn destinations(&self, key: &ServiceKey) -> Result<Vec<Destination>> {
        let state = self.begin()?;
        rules::check_family(IpvsCmd::GetDest, key.family())?;
        Ok(state
            .entry(key)
            .map(|e| e.destinations.clone())
            .unwrap_or_default())
    }

    fn info(&self) -> Result<Info> {
        drop(self.begin()?);
        Ok(Info {
            version: Version {
                major: 1,
                minor: 2,
                patch: 1,
            },
            conn_table_size: 4096,
        })
    }

    fn timeouts(&self) -> Result<Timeouts> {
        Ok(self.begin()?.timeouts)
    }

    fn daemons(&self) -> Result<Vec<Daemon>> {
        let state = self.begin()?;
        Ok(state.master.iter().chain(&state.backup).cloned().collect())
    }
}

/// The same table, its futures ready at once: async code under test runs against the fake too.
impl crate::AsyncIpvs for FakeIpvs {
    fn execute(&self, request: &Request) -> impl std::future::Future<Output = Result<()>> + Send {
        std::future::ready(Ipvs::execute(self, request))
    }
    fn services(&self) -> impl std::future::Future<Output = Result<Vec<Service>>> + Send {
        std::future::ready(Ipvs::services(self))
    }
    fn service(
        &self,
        key: &ServiceKey,
    ) -> impl std::future::Future<Output = Result<Service>> + Send {
        std::future::ready(Ipvs::service(self, key))
    }
    fn destinations(
        &self,
        key: &ServiceKey,
    ) -> impl std::future::Future<Output = Result<Vec<Destination>>> + Send {
        std::future::ready(Ipvs::destinations(self, key))
    }
    fn service_count(&self) -> impl std::future::Future<Output = Result<u32>> + Send {
        std::future::ready(Ipvs::service_count(self))
    }
    fn info(&self) -> impl std::future::Future<Output = Result<Info>> + Send {
        std::future::ready(Ipvs::info(self))
    }
    fn timeouts(&self) -> impl std::future::Future<Output = Result<Timeouts>> + Send {
        std::future::ready(Ipvs::timeouts(self))
    }
    fn daemons(&self) -> impl std::future::Future<Output = Result<Vec<Daemon>>> + Send {
        std::future::ready(Ipvs::daemons(self))
    }
    fn apply(
        &self,
        batch: &crate::Batch,
    ) -> impl std::future::Future<Output = Vec<Result<()>>> + Send {
        std::future::ready(Ipvs::apply(self, batch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Destination;

    /// Counters set by a test behave as the kernel's: zeroing clears a service's and its
    /// destinations' (not another service's), an update keeps them.
    #[test]
    fn stats_set_by_a_test_are_zeroed_and_kept_like_the_kernels() {
        let ipvs = FakeIpvs::new();
        let traffic = Stats {
            conns: 3,
            in_pkts: 40,
            ..Stats::default()
        };
        let (a, b) = (
            ServiceKey::tcp([10, 0, 0, 1], 80),
            ServiceKey::tcp([10, 0, 0, 2], 80),
        );
        let mut dest = Destination::new([192, 168, 1, 1], 80);
        for key in [a, b] {
            ipvs.add_service(&Service::new(key)).unwrap();
            ipvs.add_destination(&key, &dest).unwrap();
            ipvs.set_service_stats(&key, traffic).unwrap();
            dest.stats = traffic;
            dest.active_conns = 2;
            ipvs.set_destination_stats(&key, &dest).unwrap();
        }
        ipvs.update_destination(&a, &Destination::new([192, 168, 1, 1], 80).with_weight(4))
            .unwrap();
        let read = &ipvs.destinations(&a).unwrap()[0];
        assert_eq!(
            (read.weight, read.stats, read.active_conns),
            (4, traffic, 2)
        );
        ipvs.zero(Some(&a)).unwrap();
        assert_eq!(ipvs.service(&a).unwrap().stats, Stats::default());
        let read = &ipvs.destinations(&a).unwrap()[0];
        assert_eq!((read.stats, read.active_conns), (Stats::default(), 2));
        assert_eq!(ipvs.service(&b).unwrap().stats, traffic);
        assert!(matches!(
            ipvs.set_service_stats(&ServiceKey::tcp([10, 0, 0, 9], 80), traffic),
            Err(Error::NoSuchService)
        ));
    }

    #[test]
    fn an_injected_error_fails_one_call_and_changes_nothing() {
        let ipvs = FakeIpvs::new();
        ipvs.fail_next(Error::PermissionDenied);
        let key = ServiceKey::tcp([10, 0, 0, 1], 80);
        assert!(matches!(
            ipvs.add_service(&Service::new(key)),
            Err(Error::PermissionDenied)
        ));
        assert!(ipvs.services().unwrap().is_empty());
        ipvs.add_service(&Service::new(key)).unwrap();
    }

    /// Backup sync lengths as measured on 6.1 (the conformance suite checks them on a
    /// 1500-byte veth): at least 1024 bytes, an IPv6 group's header is 48 bytes, the default
    /// follows the interface's MTU.
    #[test]
    fn backup_sync_lengths_follow_the_measured_rules() {
        let ipvs = FakeIpvs::new();
        ipvs.add_interface("dum0", 9000);
        let cases = [
            (Some(5), None, "lo", 1024),
            (None, Some("ff02::1:2"), "lo", 65487),
            (None, None, "dum0", 8972),
        ];
        for (maxlen, group, interface, want) in cases {
            let daemon = Daemon {
                sync_maxlen: maxlen,
                mcast_group: group.map(|g| g.parse().unwrap()),
                ..Daemon::new(DaemonState::BACKUP, interface)
            };
            ipvs.start_daemon(&daemon).unwrap();
            assert_eq!(ipvs.daemons().unwrap()[0].sync_maxlen, Some(want));
            ipvs.stop_daemon(DaemonState::BACKUP).unwrap();
        }
    }
}
