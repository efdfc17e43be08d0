//! What a reconcile changed, and what it could not.

use std::fmt;

use super::{Change, DestinationId};
use crate::{Error, ServiceKey};

/// A change the kernel refused, or whose outcome is unknown, with the error it caused.
#[derive(Debug)]
pub struct Failure {
    /// The change attempted.
    pub change: Change,
    /// Why it failed ([`Error::Timeout`] and [`Error::Io`] mean its outcome is unknown).
    pub error: Error,
}

/// The outcome of [`reconcile`](super::reconcile) or [`apply`](super::apply).
///
/// Every change of the plan ends in exactly one place: one of the six lists of what was done,
/// [`Report::vanished`] (a delete whose object was already gone when re-verified), or
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
    /// Destinations deleted.
    pub deleted_destinations: Vec<(ServiceKey, DestinationId)>,
    /// Deletes not sent: a fresh read just before applying no longer found their object
    /// (someone else removed it meanwhile, or the first dump showed it wrongly).
    pub vanished: Vec<Change>,
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
            + self.deleted_destinations.len()
    }

    pub(crate) fn record(&mut self, change: Change) {
        let dest = |key: ServiceKey, d: &crate::Destination| (key, DestinationId::of(d));
        match &change {
            Change::AddService(s) => self.added_services.push(s.key),
            Change::UpdateService(s) => self.updated_services.push(s.key),
            Change::DeleteService(key) => self.deleted_services.push(*key),
            Change::AddDestination(key, d) => self.added_destinations.push(dest(*key, d)),
            Change::UpdateDestination(key, d) => self.updated_destinations.push(dest(*key, d)),
            Change::DeleteDestination(key, d) => self.deleted_destinations.push(dest(*key, d)),
        }
    }

    pub(crate) fn fail(&mut self, change: Change, error: Error) {
        self.failures.push(Failure { change, error });
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "services: {} added, {} updated, {} deleted; destinations: {} added, {} updated, \
             {} deleted; {} vanished, {} failed",
            self.added_services.len(),
            self.updated_services.len(),
            self.deleted_services.len(),
            self.added_destinations.len(),
            self.updated_destinations.len(),
            self.deleted_destinations.len(),
            self.vanished.len(),
            self.failures.len()
        )
    }
}
