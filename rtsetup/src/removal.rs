//! The outcome of an identity-checked delete.

/// What an identity-checked delete did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removal {
    /// The object was the recorded one and is gone now.
    Removed,
    /// Nothing of that name is there (any more).
    Missing,
    /// Something else has the name now; it was left alone. Says how it differs.
    Different(String),
}
