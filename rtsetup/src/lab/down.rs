//! `lab down`: undoes what the lab's record says `lab up` made, and nothing else.

use crate::error::Result;
use crate::lab::ledger::{self, Ledger, Teardown};
use crate::lab::Lab;

impl Lab {
    /// Removes what `lab up` recorded (see [`Ledger::teardown`]): stops the responders,
    /// restores the sysctls, deletes the interfaces and namespaces whose identity is the
    /// recorded one (the director's IPVS table goes with its namespace), then the state
    /// directory. Something else that took a recorded name is left alone and reported.
    ///
    /// Without a record it removes nothing and returns `None`. It cleans up after an `up`
    /// that failed or was killed, and a second `down` finds no record.
    pub fn down(&self) -> Result<Option<Teardown>> {
        down(&self.topology.name)
    }
}

/// Takes down the lab recorded under `name` (its state directory's name), whatever its
/// topology; `None` when there is no record of it.
pub fn down(name: &str) -> Result<Option<Teardown>> {
    ledger::require_admin("take down", name)?;
    match Ledger::existing(name)? {
        Some(ledger) => ledger.teardown().map(Some),
        None => Ok(None),
    }
}
