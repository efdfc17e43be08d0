//! `rtsetup`: the command-line face of the rtsetup library.

mod args;
mod commands;
mod output;

use clap::Parser;

fn main() {
    let cli = args::Cli::parse();
    match commands::run(cli.command) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("rtsetup: {e}");
            std::process::exit(1);
        }
    }
}
