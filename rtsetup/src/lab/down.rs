//! `lab down`: undoes what the lab's record says `lab up` made, and nothing else.

use crate::error::{Error, Object, Place, Result};
use crate::lab::ledger::{self, Ledger, Teardown};
use crate::lab::state::STATE_ROOT;
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

/// The names of the labs that have a record under [`STATE_ROOT`], sorted.
pub fn recorded() -> Result<Vec<String>> {
    let entries = match std::fs::read_dir(STATE_ROOT) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(Error::from_io(
                "list",
                Object::File(STATE_ROOT.into()),
                Place::Filesystem,
                e,
            ))
        }
    };
    let mut names: Vec<String> = entries
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().join(ledger::RECORD_FILE).exists())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .collect();
    names.sort();
    Ok(names)
}
