//! `cargo xtask`: the project's developer tasks.
//!
//! - `bench`: ipvsadm against ipvsadm-rs and the library, in the VM (docs/performance.md).
//! - `demo`: the project's main job, end to end.
//! - `test`: everything a contributor must pass, host lane and kernel lane.
//! - `vm`: runs a command as root in a throwaway VM with a real Debian kernel that has IPVS.
//!
//! See docs/testing.md.

mod bench;
mod demo;
mod error;
mod flags;
mod host;
mod shell;
mod test;
mod vm;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use error::{Error, Result};

/// The command-line summary printed with usage errors.
pub const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  demo [--topology dsr|ha|ecmp] [--kernel 6.1|6.12]
      the project's main job end to end: on the host if its kernel has IPVS and you are root,
      else in the VM
  vm [--kernel 6.1|6.12] [--timeout SECS] [--env NAME=VALUE]... [--] CMD [ARGS...]
      run CMD as root in a throwaway VM with a Debian kernel (default 6.1, timeout 600 s);
      exits with CMD's exit code (124: the VM timed out, 125: the VM itself failed)
  test [--kernel 6.1|6.12] [--timeout SECS] [--no-vm | --vm-only]
      fmt, clippy and host tests, then the kernel tests (tests/kernel_*.rs) in one VM boot and
      the VM lane's own tests (tests/vm_*.rs); ends with a `N passed, N failed` line
  bench [--sizes N,N,...] [--runs N] [--reconcile N] [--no-cli] [--kernel 6.1|6.12] [--timeout SECS]
      ipvsadm 1.31 against ipvsadm-rs, and ipvs-rs's batched apply and reconcile, in the VM
      (default: 1000,10000,50000 services x 4, 3 runs); see docs/performance.md";

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
            let cwd =
                std::env::current_dir().map_err(Error::io("reading the working directory"))?;
            vm::run(&options, &cwd, &command, None)
        }
        Some((command, rest)) if command == "test" => test::run(&test::parse_args(rest)?),
        Some((command, rest)) if command == "demo" => {
            demo::run(&demo::parse_args(rest)?, &workspace_root())
        }
        Some((command, rest)) if command == "bench" => {
            bench::run(&bench::parse_args(rest)?, &workspace_root())
        }
        Some((command, rest)) if command == "bench-guest" || command == "bench-worker" => {
            bench::run_in_guest(command, rest)
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

/// The workspace root, the parent of xtask's own directory.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}
