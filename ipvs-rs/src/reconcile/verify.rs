//! Re-reading what a plan deletes, just before deleting it.

use std::collections::{BTreeMap, BTreeSet};

use super::{Change, DestinationId, Report};
use crate::{AsyncIpvs, Error, ServiceKey};

/// Keeps the changes that are not deletes, and the deletes whose object a fresh read still
/// shows; the others go to the report as vanished or failed.
///
/// A service is re-read with a GET; the destinations of a service are dumped again, once per
/// service however many of them are deleted.
pub(crate) async fn reverify<I: AsyncIpvs + ?Sized>(
    handle: &I,
    changes: Vec<Change>,
    report: &mut Report,
) -> Vec<Change> {
    let mut fresh: BTreeMap<ServiceKey, BTreeSet<DestinationId>> = BTreeMap::new();
    let mut kept = Vec::with_capacity(changes.len());
    for change in changes {
        let present = match &change {
            Change::DeleteService(key) => match handle.service(key).await {
                Ok(_) => Ok(true),
                Err(Error::NoSuchService) => Ok(false),
                Err(e) => Err(e),
            },
            Change::DeleteDestination(key, dest) => match fresh.get(key) {
                Some(ids) => Ok(ids.contains(&DestinationId::of(dest))),
                // A failed re-read is not cached: each delete of that service gets its own
                // attempt and its own error.
                None => handle.destinations(key).await.map(|ds| {
                    let ids: BTreeSet<_> = ds.iter().map(DestinationId::of).collect();
                    fresh
                        .entry(*key)
                        .or_insert(ids)
                        .contains(&DestinationId::of(dest))
                }),
            },
            _ => Ok(true),
        };
        match present {
            Ok(true) => kept.push(change),
            Ok(false) => report.vanished.push(change),
            Err(e) => report.fail(change, e),
        }
    }
    kept
}
