//! ipvs-rs
