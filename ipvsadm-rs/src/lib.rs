//! ipvsadm-rs: a drop-in clone of ipvsadm 1.31 on the ipvs-rs library.

pub mod address;
pub mod checks;
pub mod cmdline;
pub mod entry;
pub mod error;
pub mod help;
pub mod numbers;
pub mod options;
pub mod popt;
pub mod resolve;
pub mod conn;
pub mod listing;
pub mod names;
pub mod restore_input;
pub mod sort;
