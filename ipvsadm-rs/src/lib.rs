//! ipvsadm-rs: a drop-in clone of ipvsadm 1.31 on the ipvs-rs library.
//!
//! Every command line is understood with popt's rules (module `popt`) and ipvsadm's checks
//! (`cmdline`), run through ipvs-rs (`commands`, `kernel`) and printed byte for byte as
//! ipvsadm prints it (`listing`, `conn`). `-R` input is split as ipvsadm splits it
//! (`restore_input`). The opt-in extras are `--json` (`json`), `-R --check`
//! (`run::check_line`), `--netns` (`netns`) and `--generate` (`generate`).
//!
//! The crate is the `ipvsadm-rs` program; its modules are private, and the library exists for
//! the binary: [`run`] runs one invocation and returns the exit status, [`from_bytes`] carries
//! an argument that is not UTF-8 byte for byte.

#![deny(missing_docs)]

pub use run::run;
pub use text::from_bytes;

mod address;
mod checks;
mod cmdline;
mod columns;
mod commands;
mod conn;
mod entry;
mod error;
mod generate;
mod help;
mod json;
mod kernel;
mod listing;
mod names;
mod netns;
mod numbers;
mod options;
mod popt;
mod replace;
mod resolve;
mod restore_input;
mod run;
mod signals;
mod sort;
mod stdout;
mod text;
