//! `cargo xtask`: the project's developer tasks.
//!
//! `cargo xtask vm` runs a command as root in a throwaway VM with a real Debian kernel that has
//! IPVS; see docs/testing.md.

mod error;
mod host;
mod vm;

use std::process::ExitCode;

use error::{Error, Result};

/// The command-line summary printed with usage errors.
pub const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  vm [--kernel 6.1|6.12] [--timeout SECS] [--env NAME=VALUE]... [--] CMD [ARGS...]
      run CMD as root in a throwaway VM with a Debian kernel (default 6.1, timeout 600 s);
      exits with CMD's exit code (124: the VM timed out, 125: the VM itself failed)";

fn main() -> ExitCode {
    let args: Vec<String> = match std::env::args_os()
        .skip(1)
        .map(|arg| arg.into_string())
        .collect()
    {
        Ok(args) => args,
        Err(arg) => return fail(&Error::Usage(format!("argument {arg:?} is not UTF-8"))),
    };
    match dispatch(&args) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(err) => fail(&err),
    }
}

fn dispatch(args: &[String]) -> Result<i32> {
    match args.split_first() {
        Some((command, rest)) if command == "vm" => {
            let (options, command) = vm::parse_args(rest)?;
            vm::run(&options, &command)
        }
        Some((command, _)) if command == "help" || command == "--help" || command == "-h" => {
            println!("{USAGE}");
            Ok(0)
        }
        Some((command, _)) => Err(Error::Usage(format!("unknown command {command:?}"))),
        None => Err(Error::Usage("no command given".into())),
    }
}

fn fail(err: &Error) -> ExitCode {
    eprintln!("xtask: {err}");
    ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(1))
}
