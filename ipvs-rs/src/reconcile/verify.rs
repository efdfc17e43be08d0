//! Re-reading what a plan deletes, just before deleting it.

use std::collections::BTreeMap;

use super::plan::is_idle;
use super::{Change, DestinationId, Removal, Report};
use crate::{Destination, Error, Ipvs, ServiceKey};

/// What the fresh read shows of a destination a plan deletes.
enum Fresh {
    Present,
    Gone,
    /// Drained when planned, with connections (or a weight) again now.
    Busy,
}

/// Keeps the changes that are not deletes, and the deletes whose object a fresh read still
/// shows (with [`Removal::Drain`], a destination only while it still has weight 0 and no
/// connections); the others go to the report as vanished, deferred or failed.
///
/// A service is re-read with a GET; the destinations of a service are dumped again, once per
/// service however many of them are deleted.
pub(crate) fn reverify<I: Ipvs + ?Sized>(
    handle: &I,
    changes: Vec<Change>,
    removal: Removal,
    report: &mut Report,
) -> Vec<Change> {
    let mut fresh: BTreeMap<ServiceKey, Vec<Destination>> = BTreeMap::new();
    let mut kept = Vec::with_capacity(changes.len());
    for change in changes {
        let state = match &change {
            Change::DeleteService(key) => match handle.service(key) {
                Ok(_) => Ok(Fresh::Present),
                Err(Error::NoSuchService) => Ok(Fresh::Gone),
                Err(e) => Err(e),
            },
            Change::DeleteDestination(key, dest) => {
                // A failed re-read is not cached: each delete of that service gets its own
                // attempt and its own error.
                let read = match fresh.get(key) {
                    Some(ds) => Ok(ds),
                    None => handle
                        .destinations(key)
                        .map(|ds| &*fresh.entry(*key).or_insert(ds)),
                };
                read.map(|ds| {
                    let id = DestinationId::of(dest);
                    match ds.iter().find(|d| DestinationId::of(d) == id) {
                        None => Fresh::Gone,
                        Some(d) if removal == Removal::Drain && (d.weight != 0 || !is_idle(d)) => {
                            Fresh::Busy
                        }
                        Some(_) => Fresh::Present,
                    }
                })
            }
            _ => Ok(Fresh::Present),
        };
        match state {
            Ok(Fresh::Present) => kept.push(change),
            Ok(Fresh::Gone) => report.vanished.push(change),
            Ok(Fresh::Busy) => report.deferred.push(change),
            Err(e) => report.fail(change, e),
        }
    }
    kept
}
