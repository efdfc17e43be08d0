//! Serde forms of the model (the `serde` feature); the shape is documented in docs/library.md
//! and is part of the crate's stable interface.
//!
//! Value types are written as their text form (`FromStr`/`Display`), records as objects whose
//! optional fields may be left out when reading, and flag sets as lists of names.

mod flags;
pub(crate) mod seconds;
mod service;
mod table;
mod text;

pub(crate) use flags::ServiceFlagNames;
