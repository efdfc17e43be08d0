//! The program: ipvsadm's order of events, from IPVS initialisation to the exit status.

use std::io::{self, BufWriter, Write};

use crate::checks::opt;
use crate::cmdline::{self, Outcome, Parsed};
use crate::commands;
use crate::entry::Command;
use crate::error::{Error, Result};
use crate::generate;
use crate::kernel::{self, Kernel};
use crate::netns;
use crate::restore_input::RestoreReader;

/// Runs ipvsadm-rs with `args` (the program name first) and returns the exit status.
pub fn run(args: Vec<String>) -> i32 {
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let status = match run_with(args, &mut out) {
        Ok(status) => status,
        Err(e) => {
            let _ = out.flush();
            report(&e, &mut out)
        }
    };
    let _ = out.flush();
    status
}

fn report(e: &Error, out: &mut dyn Write) -> i32 {
    match e {
        Error::Help { text } => {
            let _ = out.write_all(text.as_bytes());
        }
        Error::Listing(m) if m.is_empty() => {}
        other => eprintln!("{other}"),
    }
    e.exit_code()
}

fn run_with(args: Vec<String>, out: &mut dyn Write) -> Result<i32> {
    if args.get(1).map(String::as_str) == Some("--generate") {
        return generate::run(args.get(2).map(String::as_str), out).map(|()| 0);
    }
    let (args, namespace) = netns::take_option(args)?;
    if let Some(name) = namespace {
        netns::enter(&name)?;
    }
    let k = kernel::init()?;
    if k.info.version.code() < 0x010104 {
        let v = k.info.version;
        eprint!(
            "Warning: IPVS version mismatch: \n  Kernel compiled with IPVS version {}.{}.{}\n  ipvsadm v1.31  requires minimum IPVS version 1.1.4\n\n",
            v.major, v.minor, v.patch
        );
    }
    if args.len() == 1 {
        let listed = cmdline::parse(&[args[0].clone(), "-L".into()])?;
        if let Outcome::Ready(p) = listed {
            commands::execute(&k, &p, out)?;
        }
        return Ok(0);
    }
    process(&k, &args, false, out)
}

/// ipvsadm's `process_options`: one command line, parsed and run; returns its result.
pub fn process(
    k: &Kernel,
    argv: &[String],
    reading_stdin: bool,
    out: &mut dyn Write,
) -> Result<i32> {
    let p = match cmdline::parse(argv)? {
        Outcome::ScanFailed(msg) => {
            let _ = out.flush();
            eprintln!("{msg}");
            return Ok(-1);
        }
        Outcome::Ready(p) => p,
    };
    if p.entry.cmd == Command::Restore {
        if reading_stdin {
            return Err(Error::TryHelp {
                program: argv[0].clone(),
            });
        }
        return restore(k, argv, &p, out);
    }
    commands::execute(k, &p, out)
}

fn read_all_lines() -> Vec<Vec<String>> {
    let stdin = io::stdin();
    let mut reader = RestoreReader::new(stdin.lock());
    let mut lines = Vec::new();
    while let Ok(Some(words)) = reader.next_line() {
        lines.push(words);
    }
    lines
}

fn with_program(program: &str, words: &[String]) -> Vec<String> {
    std::iter::once(program.to_string())
        .chain(words.iter().cloned())
        .collect()
}

fn restore(k: &Kernel, argv: &[String], p: &Parsed, out: &mut dyn Write) -> Result<i32> {
    let program = &argv[0];
    if p.has(opt::CHECK) {
        let lines = read_all_lines();
        check_lines(program, &lines)?;
        let mut result = 0;
        for words in lines.iter().filter(|w| !w.is_empty()) {
            result = process(k, &with_program(program, words), true, out)?;
        }
        return Ok(result);
    }
    let stdin = io::stdin();
    let mut reader = RestoreReader::new(stdin.lock());
    let mut result = 0;
    while let Ok(Some(words)) = reader.next_line() {
        if !words.is_empty() {
            result = process(k, &with_program(program, &words), true, out)?;
        }
    }
    Ok(result)
}

/// What is wrong with one restore line, if anything, without touching the kernel.
pub fn check_line(program: &str, words: &[String]) -> Option<String> {
    match cmdline::parse(&with_program(program, words)) {
        Ok(Outcome::Ready(p)) if p.entry.cmd == Command::Restore => {
            Some("-R cannot be used inside -R".into())
        }
        Ok(Outcome::Ready(_)) => None,
        Ok(Outcome::ScanFailed(msg)) => Some(msg),
        Err(Error::Help { .. }) => Some("-h and -v are not rules".into()),
        Err(e) => Some(e.to_string()),
    }
}

/// `-R --check`: every bad line is named on stderr; any bad line fails the whole input.
fn check_lines(program: &str, lines: &[Vec<String>]) -> Result<()> {
    let mut bad = 0;
    for (n, words) in lines.iter().enumerate() {
        if words.is_empty() {
            continue;
        }
        if let Some(problem) = check_line(program, words) {
            bad += 1;
            eprintln!("line {}: {}", n + 1, problem.trim_end());
        }
    }
    if bad > 0 {
        return Err(Error::CheckFailed { count: bad });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn check_line_names_the_problem() {
        assert_eq!(
            check_line("ipvsadm", &words("-A -t 10.0.0.1:80 -s rr")),
            None
        );
        assert_eq!(
            check_line("ipvsadm", &words("-A -t 10.0.0.1")).as_deref(),
            Some("Zero port specified for non-persistent service")
        );
        assert_eq!(
            check_line("ipvsadm", &words("-L --bogus")).as_deref(),
            Some("--bogus: unknown option")
        );
        assert_eq!(
            check_line("ipvsadm", &words("-R")).as_deref(),
            Some("-R cannot be used inside -R")
        );
        assert_eq!(
            check_line("ipvsadm", &words("# comment")).as_deref(),
            Some("Try `ipvsadm -h' or 'ipvsadm --help' for more information.")
        );
    }
}
