//! Merging repeated service dumps until they add up to the kernel's count.

use std::collections::HashMap;
use std::time::Duration;

use crate::{Service, ServiceKey};

/// How many dumps a checked service listing merges at most.
pub(crate) const ATTEMPTS: u64 = 20;

/// The pause before dump `attempt` (from 0): a busy writer elsewhere tends to shift the same
/// stretch of the table in every pass; waiting a little longer each time moves the passes
/// against its rhythm.
pub(crate) fn pause(attempt: u64) -> Duration {
    Duration::from_millis(attempt)
}

/// The services of every dump so far (by key, the newest copy winning), reset whenever the
/// kernel's count changes.
#[derive(Default)]
pub(crate) struct ServiceMerge {
    merged: Vec<Service>,
    index: HashMap<ServiceKey, usize>,
    count: Option<u32>,
}

impl ServiceMerge {
    /// Adds one dump, taken between two reads of the kernel's count; the merged list once it
    /// holds exactly as many services as the kernel counts, with the count unchanged.
    pub(crate) fn add(
        &mut self,
        before: u32,
        dump: &[Service],
        after: u32,
    ) -> Option<Vec<Service>> {
        if before != after || self.count != Some(after) {
            self.merged.clear();
            self.index.clear();
            self.count = Some(after);
        }
        for svc in dump {
            match self.index.get(&svc.key) {
                Some(&i) => self.merged[i] = svc.clone(),
                None => {
                    self.index.insert(svc.key, self.merged.len());
                    self.merged.push(svc.clone());
                }
            }
        }
        (before == after && self.merged.len() == after as usize)
            .then(|| std::mem::take(&mut self.merged))
    }
}
