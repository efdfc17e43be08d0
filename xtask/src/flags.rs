//! Walking a subcommand's flags: the value after a flag, the VM flags every VM-booting command
//! shares, and the error for a flag a command does not know.

use std::slice::Iter;

use crate::error::{Error, Result};
use crate::vm;

/// The arguments of one subcommand, read flag by flag.
pub struct Flags<'a> {
    rest: Iter<'a, String>,
    command: &'static str,
}

impl<'a> Flags<'a> {
    /// The flags of `command` (named in errors).
    pub fn new(args: &'a [String], command: &'static str) -> Self {
        Flags {
            rest: args.iter(),
            command,
        }
    }

    /// The next argument, if any.
    pub fn next_arg(&mut self) -> Option<&'a str> {
        self.rest.next().map(String::as_str)
    }

    /// The arguments not read yet.
    pub fn rest(self) -> Vec<String> {
        self.rest.cloned().collect()
    }

    /// The value that follows `flag`.
    pub fn value(&mut self, flag: &str) -> Result<&'a str> {
        self.next_arg()
            .ok_or_else(|| Error::Usage(format!("{flag} needs a value")))
    }

    /// Applies `flag` to `options` if it is one of the VM flags (`--kernel 6.1|6.12`,
    /// `--timeout SECS`); false if it is not.
    pub fn vm_flag(&mut self, flag: &str, options: &mut vm::Options) -> Result<bool> {
        match flag {
            "--kernel" => options.kernel = self.value(flag)?.parse()?,
            "--timeout" => options.timeout = vm::parse_timeout(self.value(flag)?)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The error for a flag this command does not know.
    pub fn unknown(&self, flag: &str) -> Error {
        Error::Usage(format!("unknown option {flag} for `{}`", self.command))
    }
}
