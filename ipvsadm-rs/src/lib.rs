//! ipvsadm-rs: a drop-in clone of ipvsadm 1.31 on the ipvs-rs library.
//!
//! Every command line is understood with popt's rules ([`popt`]) and ipvsadm's checks
//! ([`cmdline`]), run through ipvs-rs ([`commands`], [`kernel`]) and printed byte for byte
//! as ipvsadm prints it ([`listing`], [`conn`]). `-R` input is split as ipvsadm splits it
//! ([`restore_input`]). The opt-in extras are `--json` ([`json`]), `-R --check`
//! ([`run::check_line`]), `--netns` ([`netns`]) and `--generate` ([`generate`]).
//!
//! ```
//! use ipvsadm_rs::cmdline::{parse, Outcome};
//! let argv: Vec<String> = ["ipvsadm", "-At", "10.0.0.1:80", "-p"].iter().map(|s| s.to_string()).collect();
//! let Ok(Outcome::Ready(p)) = parse(&argv) else { panic!() };
//! assert_eq!(p.entry.svc.timeout, 360);
//! ```

#![deny(missing_docs)]

pub mod address;
pub mod checks;
pub mod cmdline;
pub mod columns;
pub mod commands;
pub mod conn;
pub mod entry;
pub mod error;
pub mod generate;
pub mod help;
pub mod json;
pub mod kernel;
pub mod listing;
pub mod names;
pub mod netns;
pub mod numbers;
pub mod options;
pub mod popt;
pub mod replace;
pub mod resolve;
pub mod restore_input;
pub mod run;
pub mod signals;
pub mod sort;
pub mod stdout;
pub mod text;
