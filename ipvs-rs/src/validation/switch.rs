//! Whether an implementation of IPVS checks requests before handling them: one switch shared by
//! `Handle`, `AsyncHandle` and `FakeIpvs`, so all three refuse the same requests the same way.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::{Batch, Error, Request, Result};

/// On unless turned off; see `Handle::set_validation`.
#[derive(Debug)]
pub(crate) struct Validation(AtomicBool);

impl Default for Validation {
    fn default() -> Self {
        Validation(AtomicBool::new(true))
    }
}

impl Validation {
    pub(crate) fn set(&self, enabled: bool) {
        self.0.store(enabled, Ordering::Relaxed);
    }

    /// [`Error::Invalid`] for a request that breaks a rule, when checking is on.
    pub(crate) fn check(&self, request: &Request) -> Result<()> {
        if self.0.load(Ordering::Relaxed) {
            request
                .validate()
                .map_err(|invalid| Error::Invalid(Box::new(invalid)))?;
        }
        Ok(())
    }

    /// The results of a batch that must not be sent: `None` when every request passes; else
    /// each invalid request's error and [`Error::NotSent`] (naming the first invalid one) for
    /// the others, since a batch with an invalid request sends nothing.
    pub(crate) fn refuse(&self, batch: &Batch) -> Option<Vec<Result<()>>> {
        let checks: Vec<Result<()>> = batch.requests().iter().map(|r| self.check(r)).collect();
        let index = checks.iter().position(Result::is_err)?;
        Some(
            checks
                .into_iter()
                .map(|c| c.and(Err(Error::NotSent { index })))
                .collect(),
        )
    }
}
