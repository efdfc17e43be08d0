//! What a reconcile changed, and what it could not.

use std::fmt;

use super::{Change, DestinationId};
use crate::{Error, ServiceKey};

/// A change the kernel refused, or whose outcome is unknown, with the error it caused.
///
/// `Display` shows the change and the error; [`Report::describe`] adds the earlier failure
/// that caused it, if any.
#[derive(Debug)]
pub struct Failure {
    /// The change attempted.
    pub change: Change,
    /// Why it failed ([`Error::Timeout`] and [`Error::Io`] mean its outcome is unknown).
    pub error: Error,
    /// The index in [`Report::failures`] of the earlier failure that caused this one (a
    /// destination change failing with "no such service" after the add of its service
    /// failed): fix that one, and this one goes away.
    pub caused_by: Option<usize>,
}

/// The outcome of [`reconcile`](super::reconcile) or [`apply`](super::apply).
///
/// Every change of the plan ends in exactly one place: one of the seven lists of what was done,
/// [`Report::vanished`] (a delete whose object was already gone when re-verified),
/// [`Report::deferred`] (a drained destination that had connections again), or
/// [`Report::failures`].
#[derive(Debug, Default)]
pub struct Report {
    /// Services added.
    pub added_services: Vec<ServiceKey>,
    /// Services whose settings were replaced.
    pub updated_services: Vec<ServiceKey>,
    /// Services deleted, with their destinations.
    pub deleted_services: Vec<ServiceKey>,
    /// Destinations added.
    pub added_destinations: Vec<(ServiceKey, DestinationId)>,
    /// Destinations whose settings were replaced.
    pub updated_destinations: Vec<(ServiceKey, DestinationId)>,
    /// Destinations whose weight was set to 0, to be deleted once their connections end
    /// ([`Removal::Drain`](super::Removal::Drain)).
    pub drained_destinations: Vec<(ServiceKey, DestinationId)>,
    /// Destinations deleted.
    pub deleted_destinations: Vec<(ServiceKey, DestinationId)>,
    /// Drained destinations that still have connections, left for a later run (from
    /// [`Plan::draining`](super::Plan::draining)).
    pub draining: Vec<(ServiceKey, DestinationId)>,
    /// Deletes not sent: a fresh read just before applying no longer found their object
    /// (someone else removed it meanwhile, or the first dump showed it wrongly).
    pub vanished: Vec<Change>,
    /// Deletes of drained destinations not sent: the fresh read just before applying showed
    /// connections on them again, or a weight; a later run deletes them once drained.
    pub deferred: Vec<Change>,
    /// Changes that failed, each with its own error.
    pub failures: Vec<Failure>,
}

impl Report {
    /// Whether every planned change was applied or had become unnecessary.
    pub fn is_success(&self) -> bool {
        self.failures.is_empty()
    }

    /// How many changes were applied.
    pub fn applied(&self) -> usize {
        self.added_services.len()
            + self.updated_services.len()
            + self.deleted_services.len()
            + self.added_destinations.len()
            + self.updated_destinations.len()
            + self.drained_destinations.len()
            + self.deleted_destinations.len()
    }

    /// The earlier failure that caused `failure`, if any.
    pub fn cause_of(&self, failure: &Failure) -> Option<&Failure> {
        failure.caused_by.and_then(|i| self.failures.get(i))
    }

    /// `failure` and, when an earlier failure caused it, that cause:
    /// `add destination 10.1.0.2:80 to tcp:10.96.0.1:80: no such service (caused by: add
    /// service tcp:10.96.0.1:80: ...)`.
    pub fn describe(&self, failure: &Failure) -> String {
        match self.cause_of(failure) {
            Some(cause) => format!("{failure} (caused by: {cause})"),
            None => failure.to_string(),
        }
    }

    /// The failures that no earlier failure explains: the ones to look at first.
    pub fn root_failures(&self) -> impl Iterator<Item = &Failure> {
        self.failures.iter().filter(|f| f.caused_by.is_none())
    }

    pub(crate) fn record(&mut self, change: Change) {
        let dest = |key: ServiceKey, d: &crate::Destination| (key, DestinationId::of(d));
        match &change {
            Change::AddService(s) => self.added_services.push(s.key),
            Change::UpdateService { new, .. } => self.updated_services.push(new.key),
            Change::DeleteService(key) => self.deleted_services.push(*key),
            Change::AddDestination(key, d) => self.added_destinations.push(dest(*key, d)),
            Change::UpdateDestination { service, new, .. } => {
                self.updated_destinations.push(dest(*service, new))
            }
            Change::DrainDestination { service, old } => {
                self.drained_destinations.push(dest(*service, old))
            }
            Change::DeleteDestination(key, d) => self.deleted_destinations.push(dest(*key, d)),
        }
    }

    /// Records a failure, tied to the earlier failure that explains it: a destination change
    /// that found no service, after the add of that service failed.
    pub(crate) fn fail(&mut self, change: Change, error: Error) {
        let caused_by = match error {
            Error::NoSuchService => self.failures.iter().position(|earlier| {
                matches!(&earlier.change, Change::AddService(s) if change.needs_service(&s.key))
            }),
            _ => None,
        };
        self.failures.push(Failure {
            change,
            error,
            caused_by,
        });
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.change, self.error)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "services: {} added, {} updated, {} deleted; destinations: {} added, {} updated, \
             {} drained, {} deleted, {} draining; {} vanished, {} deferred, {} failed",
            self.added_services.len(),
            self.updated_services.len(),
            self.deleted_services.len(),
            self.added_destinations.len(),
            self.updated_destinations.len(),
            self.drained_destinations.len(),
            self.deleted_destinations.len(),
            self.draining.len(),
            self.vanished.len(),
            self.deferred.len(),
            self.failures.len()
        )
    }
}
