//! Declarative reconcile: make the kernel's table match a desired state, within a scope.
//!
//! The caller describes the services and destinations it wants ([`Table`]) and the part of the
//! kernel's table it owns ([`Scope`]); [`reconcile`] reads the kernel's table, computes the
//! minimal [`Plan`] of adds, edits and deletes, applies it in batches
//! ([`Ipvs::apply`]) and returns a typed [`Report`]. It runs against any [`Ipvs`]: the
//! kernel through a [`Handle`](crate::Handle), or an in-memory table in tests.
//!
//! ```no_run
//! use ipvs_rs::reconcile::{self, Scope, Table};
//! use ipvs_rs::{Destination, Handle, Scheduler, Service, ServiceKey};
//! use std::net::Ipv4Addr;
//!
//! let ipvs = Handle::new()?;
//! let mut desired = Table::new();
//! for port in [80, 443] {
//!     let svc = Service::new(ServiceKey::tcp(Ipv4Addr::new(10, 96, 0, 1), port))
//!         .with_scheduler(Scheduler::RoundRobin);
//!     let backends = (2..=4).map(|h| Destination::new(Ipv4Addr::new(10, 1, 0, h), port));
//!     desired.insert(svc, backends);
//! }
//! // Own 10.96.0.0/12: services there that are not desired get deleted; nothing else is touched.
//! let scope = Scope::prefix(Ipv4Addr::new(10, 96, 0, 0).into(), 12);
//! let report = reconcile::reconcile(&ipvs, &desired, &scope)?;
//! println!("{report}");
//! for failure in &report.failures {
//!     eprintln!("{}: {}", failure.change, failure.error);
//! }
//! # Ok::<(), ipvs_rs::Error>(())
//! ```
//!
//! # What is compared
//! Only what a caller sets: a service's scheduler, flags (not the kernel's own `HASHED`),
//! persistence timeout, netmask and persistence engine; a destination's forwarding method
//! (with its tunnel settings), weight and thresholds. A service or destination is edited only
//! when one of these differs, so a second reconcile of the same state sends nothing. Counters
//! and connection counts are ignored. Destinations are identified by address and port.
//! A field the kernel does not report (tunnel settings before Linux 5.2) or normalises is
//! seen as different on every run; the edit is harmless but shows up in every report.
//!
//! # Scope
//! Desired services are always owned. Beyond them, by default ([`Scope::desired`]) nothing
//! is: other tools share the table, and a service this caller did not ask for is never
//! deleted. Widen the scope ([`Scope::keys`], [`Scope::prefix`], [`Scope::fwmarks`],
//! [`Scope::matching`], [`Scope::all`]) to have services you dropped from the desired state
//! deleted. Only the destinations of owned services are read.
//!
//! # Consistency
//! IPVS dumps resume by index and carry no consistency flag (the kernel never sets
//! `NLM_F_DUMP_INTR`): a dump that races with another writer (in any namespace: the kernel's
//! service table is shared by all of them) can miss entries or show some twice.
//! [`Table::read`] uses [`Ipvs::services`] (on a [`Handle`](crate::Handle)), which checks the service list against the
//! kernel's count, but a writer in this namespace can still change things between the read and
//! the apply. A missed or stale entry only makes the plan try an add or edit the kernel refuses
//! or repeats, which the report attributes; a delete, though, must not rest on one read. So every delete is re-verified
//! just before the batch is sent: a service with a GET of that service, a destination with a
//! fresh dump of its service's destinations (one per service, not per destination). Only what
//! was present in both reads and is absent from the desired state is deleted; what the second
//! read no longer shows is listed in [`Report::vanished`] and not sent.
//!
//! There are no transactions in IPVS: a batch is applied request by request, and a failed
//! request does not undo the others. Each failure is reported with its own error in
//! [`Report::failures`]; running the reconcile again retries what is still different.

mod cache;
mod change;
mod plan;
mod policy;
mod report;
mod scope;
mod table;
mod verify;

pub use cache::{Reconciler, Resync, SyncReport};
pub use change::Change;
pub use plan::Plan;
pub use policy::{Policy, Removal};
pub use report::{Failure, Report};
pub use scope::Scope;
pub use table::{DestinationId, Entry, Table};

use crate::{Batch, Error, Ipvs, Result};

/// Makes the kernel's table match `desired` within `scope`, and reports what changed.
///
/// It reads the kernel's table ([`Table::read`]), computes the [`Plan`], then [`apply`]s it.
/// An `Err` means the first read failed and nothing was changed; errors of single changes
/// are in the report.
pub fn reconcile<I: Ipvs + ?Sized>(handle: &I, desired: &Table, scope: &Scope) -> Result<Report> {
    reconcile_with(handle, desired, scope, &Policy::default())
}

/// [`reconcile`] with a [`Policy`]: drain instead of delete, cap the deletes of a run.
///
/// To filter or veto single changes, split it: [`plan_with`], edit the [`Plan`], [`apply`].
pub fn reconcile_with<I: Ipvs + ?Sized>(
    handle: &I,
    desired: &Table,
    scope: &Scope,
    policy: &Policy,
) -> Result<Report> {
    Ok(apply(handle, plan_with(handle, desired, scope, policy)?))
}

/// The plan [`reconcile`] would apply now, without applying it (a dry run).
pub fn plan<I: Ipvs + ?Sized>(handle: &I, desired: &Table, scope: &Scope) -> Result<Plan> {
    plan_with(handle, desired, scope, &Policy::default())
}

/// The plan [`reconcile_with`] would apply now, to inspect or edit before [`apply`].
pub fn plan_with<I: Ipvs + ?Sized>(
    handle: &I,
    desired: &Table,
    scope: &Scope,
    policy: &Policy,
) -> Result<Plan> {
    let current = Table::read(handle, scope, desired)?;
    Ok(Plan::compute_with(&current, desired, scope, policy))
}

/// Re-verifies the plan's deletes, then sends its changes in batches and reports the outcome
/// of each.
pub fn apply<I: Ipvs + ?Sized>(handle: &I, plan: Plan) -> Report {
    let mut report = Report {
        draining: plan
            .draining()
            .iter()
            .map(|(key, d)| (*key, DestinationId::of(d)))
            .collect(),
        ..Report::default()
    };
    let removal = plan.removal();
    let changes = verify::reverify(handle, plan.into_changes(), removal, &mut report);
    send(handle, changes, &mut report, &mut |_| {});
    report
}

/// Makes the kernel's whole table equal to `rules` (a parsed rule set, such as an
/// `ipvsadm -S` save): a [`reconcile`] with [`Scope::all`], so services not in `rules` are
/// deleted, and nothing is flushed.
///
/// Unlike `ipvsadm -C` followed by `ipvsadm -R`, a service in both the old and the new table
/// stays in the kernel throughout, with its unchanged destinations, and no destination passes
/// through the kernel's destination trash unless it is really removed.
pub fn replace<I: Ipvs + ?Sized>(handle: &I, rules: &Table) -> Result<Report> {
    reconcile(handle, rules, &Scope::all())
}

/// Sends `changes` in batches, records each outcome in `report`, and calls `applied` with
/// every change the kernel accepted.
pub(crate) fn send<I: Ipvs + ?Sized>(
    handle: &I,
    changes: Vec<Change>,
    report: &mut Report,
    applied: &mut dyn FnMut(&Change),
) {
    // An invalid change fails alone, in its place in the report; the others are sent.
    let checks: Vec<_> = changes.iter().map(Change::validate).collect();
    let mut batch = Batch::new();
    for (change, _) in changes.iter().zip(&checks).filter(|(_, c)| c.is_ok()) {
        change.push_to(&mut batch);
    }
    let mut sent = handle.apply(&batch).into_iter();
    for (change, check) in changes.into_iter().zip(checks) {
        let result = match check {
            Ok(()) => sent.next().unwrap_or(Err(Error::Timeout)),
            Err(invalid) => Err(Error::Invalid(Box::new(invalid))),
        };
        match result {
            Ok(()) => {
                applied(&change);
                report.record(change);
            }
            Err(error) => report.fail(change, error),
        }
    }
}
