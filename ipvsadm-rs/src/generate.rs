//! `--generate man|bash|zsh|fish|elvish|powershell`: the man page and shell completions,
//! from a clap description of the option table, for installs via `cargo install`.

use std::io::Write;

use clap::{Arg, ArgAction, Command};
use clap_complete::Shell;

use crate::error::{Error, Result};
use crate::options::{ArgKind, Tag, GENERATE_LONG, NETNS_LONG, OPTIONS};

/// The clap description of ipvsadm-rs's command line (documentation only: parsing follows
/// popt's rules, see [`crate::popt`]).
pub fn command() -> Command {
    let mut cmd = Command::new("ipvsadm-rs")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Linux Virtual Server administration, a drop-in clone of ipvsadm 1.31")
        .long_about(
            "ipvsadm-rs sets up, maintains and inspects the IP Virtual Server table in the Linux \
             kernel. It accepts every command and option of ipvsadm 1.31 and prints the same \
             output, messages and exit statuses. The first option must be a command (-A, -E, -D, \
             -C, -R, -S, -a, -e, -d, -L, -Z, --set, --start-daemon, --stop-daemon, -h, -v).",
        )
        .disable_help_flag(true)
        .disable_version_flag(true)
        .after_help(
            "Exit status: 0 on success, 2 for an invalid argument, 255 for an unknown option or a \
             kernel error, 1 when a listing fails.",
        );
    for spec in OPTIONS
        .iter()
        .filter(|o| !(o.tag == Tag::List && o.short == Some('l')))
    {
        let mut arg = Arg::new(spec.long).long(spec.long).help(spec.help);
        if let Some(c) = spec.short {
            arg = arg.short(c);
        }
        if spec.tag == Tag::List {
            arg = arg.short_alias('l');
        }
        arg = match spec.kind {
            ArgKind::None => arg.action(ArgAction::SetTrue),
            ArgKind::Required => arg.num_args(1).value_name(spec.value_name),
            ArgKind::Optional => arg.num_args(0..=1).value_name(spec.value_name),
        };
        cmd = cmd.arg(arg);
    }
    cmd.arg(
        Arg::new(NETNS_LONG)
            .long(NETNS_LONG)
            .num_args(1)
            .value_name("NAME")
            .help("run in the network namespace NAME (/run/netns/NAME) or at a path (ipvsadm-rs only)"),
    )
    .arg(
        Arg::new(GENERATE_LONG)
            .long(GENERATE_LONG)
            .num_args(1)
            .value_name("WHAT")
            .hide(true)
            .help("print the man page (man) or a completion script (bash, zsh, fish, elvish, powershell)"),
    )
    .arg(Arg::new("values").num_args(0..=3).value_name("TIMEOUT").help("--set: tcp tcpfin udp timeouts"))
}

/// Prints the man page or a completion script.
pub fn run(what: Option<&str>, out: &mut dyn Write) -> Result<()> {
    let mut cmd = command();
    match what {
        Some("man") => clap_mangen::Man::new(cmd).section("8").render(out)?,
        Some(shell) => {
            let shell: Shell = shell.parse().map_err(|_| usage())?;
            clap_complete::generate(shell, &mut cmd, "ipvsadm-rs", out);
        }
        None => return Err(usage()),
    }
    Ok(())
}

fn usage() -> Error {
    Error::Invalid("--generate needs one of: man, bash, zsh, fish, elvish, powershell".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_description_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn man_page_and_completions() {
        let mut man = Vec::new();
        run(Some("man"), &mut man).unwrap();
        let man = String::from_utf8(man).unwrap();
        assert!(
            man.contains(".TH ipvsadm\\-rs 8") || man.contains(".TH ipvsadm-rs 8"),
            "{man}"
        );
        assert!(man.contains("add\\-service"));
        let mut bash = Vec::new();
        run(Some("bash"), &mut bash).unwrap();
        assert!(String::from_utf8(bash).unwrap().contains("--tcp-service"));
        assert!(run(Some("tcsh"), &mut Vec::new()).is_err());
    }
}
