//! A reconciler for control loops: it remembers the table it last read or wrote, so a sync
//! does not read the kernel's table.

use std::collections::BTreeSet;
use std::fmt;
use std::time::{Duration, Instant};

use super::{verify, Change, DestinationId, Plan, Policy, Report, Scope, Table};
use crate::async_ipvs::{now, Blocking};
use crate::{AsyncIpvs, Error, Ipvs, Result, ServiceKey};

/// Why a [`Reconciler::sync`] read the whole table instead of trusting its cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Resync {
    /// Nothing was read yet.
    First,
    /// The period set by [`Reconciler::with_resync_period`] has passed since the last read.
    Period,
    /// A request of an earlier sync failed, or its outcome is unknown ([`Error::Timeout`],
    /// [`Error::Io`]): what the kernel holds is no longer known.
    Failure,
    /// The caller asked for it ([`Reconciler::request_resync`]).
    Requested,
    /// The scope changed ([`Reconciler::set_scope`]): the cache knows only the old one.
    Scope,
}

impl fmt::Display for Resync {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Resync::First => "first sync",
            Resync::Period => "resync period passed",
            Resync::Failure => "an earlier request failed or has an unknown outcome",
            Resync::Requested => "resync requested",
            Resync::Scope => "the scope changed",
        })
    }
}

/// The outcome of one [`Reconciler::sync`].
#[derive(Debug, Default)]
pub struct SyncReport {
    /// Why the whole table was read, or `None` when the sync worked from the cache.
    pub resync: Option<Resync>,
    /// What someone else changed in the kernel since this reconciler last knew it, as the
    /// changes that lead from what it remembered to what it found (an object another writer
    /// deleted shows as a delete, one it edited as an update with the kernel's values).
    /// Found by a whole-table read, or by the re-read of the services a sync touches; the
    /// sync's [`report`](SyncReport::report) includes their repair when the desired state
    /// wants it.
    pub drift: Vec<Change>,
    /// How many services were re-read before their update or delete (a service with a real
    /// server draining is re-read at every sync, for fresh connection counts).
    pub reverified: usize,
    /// What this sync changed, and what it could not.
    pub report: Report,
}

/// A reconciler for control loops: each [`sync`](Reconciler::sync) applies only the
/// difference between the desired state and the table it remembers, without reading the
/// kernel's table.
///
/// [`reconcile`](super::reconcile) reads the whole table every time: one service dump plus one
/// destination dump per service, seconds for tens of thousands of services. A `Reconciler`
/// reads it only on a [`Resync`]: first, after a request failed or timed out, when its period
/// has passed, or when asked. In between, it plans against its cache (the table as last read,
/// with every change it applied since), and before sending an update or a delete it re-reads
/// the services that change touches (one GET and one destination dump per service), repairs
/// its cache from that read, reports any difference as [`SyncReport::drift`], and plans those
/// services again.
///
/// ```no_run
/// use ipvs_rs::reconcile::{Reconciler, Scope, Table};
/// use ipvs_rs::{Destination, Handle, Service, ServiceKey};
/// use std::net::Ipv4Addr;
/// use std::time::Duration;
///
/// let ipvs = Handle::new()?;
/// let scope = Scope::prefix(Ipv4Addr::new(10, 96, 0, 0).into(), 12);
/// let mut reconciler = Reconciler::new(scope).with_resync_period(Duration::from_secs(300));
/// loop {
///     let mut desired = Table::new();
///     let key = ServiceKey::tcp(Ipv4Addr::new(10, 96, 0, 1), 80);
///     desired.insert(Service::new(key), [Destination::new(Ipv4Addr::new(10, 1, 0, 2), 80)]);
///     let sync = reconciler.sync(&ipvs, &desired)?;
///     for change in &sync.drift {
///         eprintln!("drift repaired: {change}");
///     }
///     std::thread::sleep(Duration::from_secs(5));
/// }
/// # Ok::<(), ipvs_rs::Error>(())
/// ```
///
/// # When the cache is wrong, and what bounds the damage
/// The cache is wrong when another writer changed an object in scope since this reconciler
/// last read or wrote it (or a dump raced with writers, see [`Dump`](crate::Dump)). Then:
/// - **deletes and updates** never act on the cache alone: their services are re-read first,
///   so nothing is deleted that the kernel no longer has or the desired state wants, and an
///   update carries the desired values whatever the kernel held (a service to delete is
///   re-read with a GET only: its real servers go with it);
/// - **an add** of something another writer already added is refused by the kernel
///   ([`Error::ServiceExists`], [`Error::DestinationExists`]): the failure is reported and the
///   next sync reads the whole table;
/// - **an object nobody touches** that another writer changed or deleted stays wrong until
///   the next resync: at most the resync period (or until a sync touches its service). Set
///   the period to what such a wrong object may cost you, and call
///   [`request_resync`](Reconciler::request_resync) when you know the table was changed.
///
/// A failed or timed-out request leaves the cache as it was before that change, and forces a
/// resync at the next sync, so an unknown outcome is never trusted for longer than one sync.
/// If the reconciler is the only writer of its scope, the cache is exact.
///
/// # Draining and capped deletes
/// With a [`Policy`] ([`Reconciler::with_policy`]) a sync drains instead of deleting and
/// deletes at most so many objects, as [`reconcile_with`](super::reconcile_with) does. The
/// connection counts that decide when a drained real server may go are never taken from the
/// cache: a service with a destination to remove is re-read at each sync until that
/// destination is gone, so a drain costs one GET and one destination dump per sync and
/// draining service. What a cap holds back stays in the cache and is planned again next sync.
#[derive(Debug)]
pub struct Reconciler {
    scope: Scope,
    /// The scope the cache was last read with, while a new one waits for its resync.
    read_scope: Option<Scope>,
    policy: Policy,
    cache: Table,
    resync: Option<Resync>,
    period: Option<Duration>,
    last_read: Option<Instant>,
}

impl Reconciler {
    /// A reconciler owning `scope` (as for [`reconcile`](super::reconcile)); its first sync
    /// reads the whole table, and later ones only after a failure or when asked.
    pub fn new(scope: Scope) -> Self {
        Reconciler {
            scope,
            read_scope: None,
            policy: Policy::default(),
            cache: Table::new(),
            resync: Some(Resync::First),
            period: None,
            last_read: None,
        }
    }

    /// Also reads the whole table once `period` has passed since the last read.
    pub fn with_resync_period(mut self, period: Duration) -> Self {
        self.period = Some(period);
        self
    }

    /// Removes what is no longer desired as `policy` says: drain real servers before deleting
    /// them, cap the deletes of one sync. The default deletes at once, without limit.
    ///
    /// ```
    /// use ipvs_rs::reconcile::{Policy, Reconciler, Removal, Scope};
    /// let reconciler = Reconciler::new(Scope::desired())
    ///     .with_policy(Policy::default().with_removal(Removal::Drain).with_max_deletes(10));
    /// ```
    #[must_use]
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// The services this reconciler owns.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// Owns `scope` from now on (a control plane that takes over services as its
    /// configuration names them). The next sync reads the whole table, since the cache holds
    /// only what the old scope covered.
    pub fn set_scope(&mut self, scope: Scope) {
        let old = std::mem::replace(&mut self.scope, scope);
        self.read_scope.get_or_insert(old);
        self.resync.get_or_insert(Resync::Scope);
    }

    /// Makes the next sync read the whole table.
    pub fn request_resync(&mut self) {
        self.resync.get_or_insert(Resync::Requested);
    }

    /// The table as this reconciler believes it is, within its scope and its last desired
    /// state.
    pub fn cached(&self) -> &Table {
        &self.cache
    }

    /// Makes the kernel's table match `desired` within the scope, and reports what changed.
    ///
    /// An `Err` means a read failed (the whole-table read, or the re-read of a service before
    /// its update or delete): nothing was sent, and the next sync reads the whole table.
    pub fn sync<I: Ipvs + ?Sized>(&mut self, handle: &I, desired: &Table) -> Result<SyncReport> {
        // The async code, its every read ready at once: one implementation for both.
        now(self.sync_async(&Blocking(handle), desired))
    }

    /// [`sync`](Reconciler::sync) through an [`AsyncIpvs`] (an `AsyncHandle`, or a
    /// [`FakeIpvs`](crate::fake::FakeIpvs) in tests): the same reads, plan and checks, awaited.
    pub async fn sync_async<I: AsyncIpvs + ?Sized>(
        &mut self,
        ipvs: &I,
        desired: &Table,
    ) -> Result<SyncReport> {
        let reason = self
            .resync
            .or_else(|| self.period_passed().then_some(Resync::Period));
        let mut out = SyncReport {
            resync: reason,
            ..SyncReport::default()
        };
        let changes = match reason {
            Some(reason) => self.resync(ipvs, desired, reason, &mut out).await?,
            None => match self.plan_from_cache(ipvs, desired, &mut out).await {
                Ok(changes) => changes,
                Err(e) => {
                    self.resync = Some(Resync::Failure);
                    return Err(e);
                }
            },
        };
        let cache = &mut self.cache;
        super::send(ipvs, changes, &mut out.report, &mut |change| {
            remember(cache, change)
        })
        .await;
        for gone in &out.report.vanished {
            remember(cache, gone);
        }
        if !out.report.failures.is_empty() {
            self.resync = Some(Resync::Failure);
        }
        Ok(out)
    }

    /// The policy without its cap: the cap applies once, to the whole plan of a sync.
    fn uncapped(&self) -> Policy {
        Policy {
            max_deletes: None,
            ..self.policy
        }
    }

    fn period_passed(&self) -> bool {
        match (self.period, self.last_read) {
            (Some(period), Some(last)) => last.elapsed() >= period,
            _ => false,
        }
    }

    /// Reads the table, reports how it differs from the cache, and plans against it; the
    /// deletes are re-verified as [`reconcile`](super::reconcile) does.
    async fn resync<I: AsyncIpvs + ?Sized>(
        &mut self,
        ipvs: &I,
        desired: &Table,
        reason: Resync,
        out: &mut SyncReport,
    ) -> Result<Vec<Change>> {
        let started = Instant::now();
        let fresh = Table::read_async(ipvs, &self.scope, desired).await?;
        if reason != Resync::First {
            // Services newly desired outside the scope were never in the cache: finding them
            // is not drift.
            // Nor are the services a new scope brings in: this reconciler never knew them.
            let known_scope = self.read_scope.as_ref().unwrap_or(&self.scope);
            let known = subset(&fresh, |key| {
                known_scope.contains(key) || self.cache.contains(key)
            });
            prune(&mut self.cache, &self.scope, desired);
            out.drift = Plan::compute(&self.cache, &known, &Scope::all()).into_changes();
        }
        self.cache = fresh;
        self.resync = None;
        self.read_scope = None;
        self.last_read = Some(started);
        // Planned once, uncapped. What the kernel holds in the settings the caller controls
        // is cached as the caller wrote it, so the next sync finds those entries equal
        // without planning them; a service with anything to change, even held back
        // (draining, over the cap of deletes), keeps the kernel's entry, so the next sync
        // plans it again.
        let (changes, draining) =
            Plan::compute_with(&self.cache, desired, &self.scope, &self.uncapped()).into_parts();
        let changed: BTreeSet<ServiceKey> = changes
            .iter()
            .map(|c| *c.service())
            .chain(draining.iter().map(|(key, _)| *key))
            .collect();
        for entry in desired {
            if self.cache.contains(&entry.service.key) && !changed.contains(&entry.service.key) {
                copy(&mut self.cache, entry);
            }
        }
        let (changes, draining) = Plan::assemble(changes, draining, &self.policy).into_parts();
        note_draining(&mut out.report, draining);
        Ok(verify::reverify(ipvs, changes, self.policy.removal, &mut out.report).await)
    }

    /// Plans against the cache, then re-reads the services whose updates or deletes the plan
    /// holds (and services to add that the cache cannot know about), and plans those again
    /// if the kernel differs.
    async fn plan_from_cache<I: AsyncIpvs + ?Sized>(
        &mut self,
        ipvs: &I,
        desired: &Table,
        out: &mut SyncReport,
    ) -> Result<Vec<Change>> {
        let plan = self.plan_differences(desired);
        let touched: BTreeSet<ServiceKey> = plan
            .iter()
            .filter(|c| match c {
                Change::AddService(s) => !self.scope.contains(&s.key),
                Change::AddDestination(..) => false,
                _ => true,
            })
            .map(|c| *c.service())
            .collect();
        if touched.is_empty() {
            return Ok(plan);
        }
        let deleting: BTreeSet<ServiceKey> = plan
            .iter()
            .filter_map(|c| match c {
                Change::DeleteService(key) => Some(*key),
                _ => None,
            })
            .collect();
        let mut remembered = Table::new();
        let mut found = Table::new();
        for key in &touched {
            if let Some(entry) = self.cache.remove(key) {
                remembered.insert(entry.service.clone(), entry.destinations().to_vec());
            }
            match ipvs.service(key).await {
                Ok(service) => {
                    // A service to delete takes its real servers with it: what they are no
                    // longer matters, so the remembered ones stand in for a dump.
                    let destinations = match remembered.get(key) {
                        Some(entry) if deleting.contains(key) => entry.destinations().to_vec(),
                        _ => ipvs.destinations(key).await?,
                    };
                    found.insert(service, destinations);
                }
                Err(Error::NoSuchService) => {}
                Err(e) => return Err(e),
            }
        }
        out.reverified = touched.len();
        for entry in &found {
            self.cache
                .insert(entry.service.clone(), entry.destinations().to_vec());
        }
        // A service to add that the cache could not know about is not drift when present.
        let known = subset(&found, |key| {
            self.scope.contains(key) || remembered.contains(key)
        });
        out.drift = Plan::compute(&remembered, &known, &Scope::all()).into_changes();
        let wanted = subset(desired, |key| touched.contains(key));
        let mut changes: Vec<Change> = plan
            .into_iter()
            .filter(|c| !touched.contains(c.service()))
            .collect();
        // The re-read services are planned with the policy, on fresh connection counts.
        let (fresh, draining) =
            Plan::compute_with(&found, &wanted, &self.scope, &self.uncapped()).into_parts();
        changes.extend(fresh);
        changes.sort_by_key(phase);
        let (changes, draining) = Plan::assemble(changes, draining, &self.policy).into_parts();
        note_draining(&mut out.report, draining);
        Ok(changes)
    }
}

impl Reconciler {
    /// The plan from the cache to `desired`, computed only for the services whose entries
    /// differ: both tables are walked in key order and compared entry by entry, which costs
    /// far less than planning every service. An entry equal in settings but not in every
    /// field (the kernel's HASHED flag, counters) is replaced by the desired one, so the next
    /// sync finds it equal at once. Cached services neither desired nor in scope are dropped.
    fn plan_differences(&mut self, desired: &Table) -> Vec<Change> {
        let mut before = Table::new();
        let mut after = Table::new();
        let mut stray = Vec::new();
        let mut cached = self.cache.iter().peekable();
        let mut wanted = desired.iter().peekable();
        loop {
            let order = match (cached.peek(), wanted.peek()) {
                (None, None) => break,
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (Some(c), Some(w)) => c.service.key.cmp(&w.service.key),
            };
            match order {
                std::cmp::Ordering::Less => {
                    let c = cached.next().expect("peeked");
                    if self.scope.contains(&c.service.key) {
                        copy(&mut before, c);
                    } else {
                        stray.push(c.service.key);
                    }
                }
                std::cmp::Ordering::Greater => copy(&mut after, wanted.next().expect("peeked")),
                std::cmp::Ordering::Equal => {
                    let (c, w) = (
                        cached.next().expect("peeked"),
                        wanted.next().expect("peeked"),
                    );
                    if c != w {
                        copy(&mut before, c);
                        copy(&mut after, w);
                    }
                }
            }
        }
        for key in stray {
            self.cache.remove(&key);
        }
        // Planned without the policy on purpose: every destination to remove shows as a
        // delete, so its service is re-read and the policy decides on fresh counts.
        let changes = Plan::compute(&before, &after, &self.scope).into_changes();
        let changed: BTreeSet<ServiceKey> = changes.iter().map(|c| *c.service()).collect();
        for entry in after.iter().filter(|e| !changed.contains(&e.service.key)) {
            self.cache
                .insert(entry.service.clone(), entry.destinations().to_vec());
        }
        changes
    }
}

/// Lists in the report the destinations a drain leaves alone for now.
fn note_draining(report: &mut Report, draining: Vec<(ServiceKey, crate::Destination)>) {
    report
        .draining
        .extend(draining.iter().map(|(key, d)| (*key, DestinationId::of(d))));
}

fn copy(table: &mut Table, entry: &super::Entry) {
    table.insert(entry.service.clone(), entry.destinations().to_vec());
}

/// The entries of `table` whose key `keep` accepts.
fn subset(table: &Table, keep: impl Fn(&ServiceKey) -> bool) -> Table {
    table
        .iter()
        .filter(|e| keep(&e.service.key))
        .map(|e| (e.service.clone(), e.destinations().to_vec()))
        .collect()
}

/// Forgets the services neither in `scope` nor desired: not this reconciler's business.
fn prune(cache: &mut Table, scope: &Scope, desired: &Table) {
    let stray: Vec<ServiceKey> = cache
        .iter()
        .map(|e| e.service.key)
        .filter(|key| !scope.contains(key) && !desired.contains(key))
        .collect();
    for key in stray {
        cache.remove(&key);
    }
}

/// A change's place in the order of application ([`Plan`]'s order).
fn phase(change: &Change) -> u8 {
    match change {
        Change::AddService(_) | Change::UpdateService { .. } => 0,
        Change::DeleteDestination(..) => 1,
        Change::UpdateDestination { .. } | Change::DrainDestination { .. } => 2,
        Change::AddDestination(..) => 3,
        Change::DeleteService(_) => 4,
    }
}

/// Records in the cache a change the kernel made (or an object found gone).
fn remember(cache: &mut Table, change: &Change) {
    match change {
        Change::AddService(s) => {
            cache.insert(s.clone(), Vec::new());
        }
        Change::UpdateService { new: s, .. } => match cache.get_mut(&s.key) {
            Some(entry) => entry.service = s.clone(),
            None => {
                cache.insert(s.clone(), Vec::new());
            }
        },
        Change::DeleteService(key) => {
            cache.remove(key);
        }
        Change::AddDestination(key, d)
        | Change::UpdateDestination {
            service: key,
            new: d,
            ..
        } => {
            cache.insert_destination(key, d.clone());
        }
        Change::DrainDestination { service, old } => {
            cache.insert_destination(service, old.clone().with_weight(0));
        }
        Change::DeleteDestination(key, d) => {
            if let Some(entry) = cache.get_mut(key) {
                entry.remove_destination(&DestinationId::of(d));
            }
        }
    }
}
