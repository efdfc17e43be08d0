//! The program: ipvsadm's order of events, from IPVS initialisation to the exit status.

use std::io::{self, BufWriter, IsTerminal, Write};

use crate::checks::opt;
use crate::cmdline::{self, Outcome, Parsed};
use crate::commands;
use crate::entry::Command;
use crate::error::{Error, Result};
use crate::generate;
use crate::kernel::{self, Kernel, Op};
use crate::netns;
use crate::restore_input::RestoreReader;
use crate::text::{self, Restoring};
use ipvs_rs::Batch;

/// The C library's buffer for a stdout that is not a terminal.
const STDIO_BUFFER: usize = 4096;

/// Runs ipvsadm-rs with `args` (the program name first) and returns the exit status.
///
/// Standard output is buffered as C's stdio buffers it (by line on a terminal, in 4 KiB
/// blocks otherwise) and is written out at the end, while messages go to stderr at once.
pub fn run(mut args: Vec<String>) -> i32 {
    // execve allows an empty argv, and messages and usage need a program name.
    if args.is_empty() {
        args.push(env!("CARGO_PKG_NAME").into());
    }
    let stdout = io::stdout();
    let mut out: Box<dyn Write> = if stdout.is_terminal() {
        Box::new(Restoring(stdout.lock()))
    } else {
        Box::new(BufWriter::with_capacity(
            STDIO_BUFFER,
            Restoring(stdout.lock()),
        ))
    };
    let status = match run_with(args, &mut out) {
        Ok(status) => status,
        Err(Error::Crash) => crash(),
        Err(e) => report(&e, &mut out),
    };
    let _ = out.flush();
    status
}

/// Dies of SIGSEGV like ipvsadm 1.31, losing buffered output as it does.
fn crash() -> ! {
    // SAFETY: restoring the default action and raising a signal have no preconditions.
    unsafe {
        libc::signal(libc::SIGSEGV, libc::SIG_DFL);
        libc::raise(libc::SIGSEGV);
    }
    std::process::abort()
}

fn report(e: &Error, out: &mut dyn Write) -> i32 {
    match e {
        Error::Help { text } => {
            let _ = out.write_all(text.as_bytes());
        }
        Error::Listing(m) if m.is_empty() => {}
        other => text::eprintln(&other.to_string()),
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
        text::eprint(&format!(
            "Warning: IPVS version mismatch: \n  Kernel compiled with IPVS version {}.{}.{}\n  ipvsadm v1.31  requires minimum IPVS version 1.1.4\n\n",
            v.major, v.minor, v.patch
        ));
    }
    if args.len() == 1 {
        let listed = cmdline::parse(&[args[0].clone(), "-L".into()])?;
        if let Outcome::Ready(p) = listed {
            commands::execute(&k, &p, out)?;
        }
        return Ok(0);
    }
    process(&k, &args, out)
}

/// ipvsadm's `process_options` for the command line itself: parsed and run; returns its
/// result. (Lines read by `-R` are handled by the restore loop, in batches.)
pub fn process(k: &Kernel, argv: &[String], out: &mut dyn Write) -> Result<i32> {
    let p = match cmdline::parse(argv)? {
        Outcome::ScanFailed(msg) => {
            text::eprintln(&msg);
            return Ok(-1);
        }
        Outcome::Ready(p) => p,
    };
    if p.entry.cmd == Command::Restore {
        return restore(k, argv, &p, out);
    }
    commands::execute(k, &p, out)
}

fn read_all_lines() -> Vec<Vec<String>> {
    let stdin = io::stdin();
    let mut reader = RestoreReader::new(stdin.lock());
    let mut lines = Vec::new();
    while let Ok(Some(line)) = reader.next_line() {
        lines.push(line.words().map(String::from).collect());
    }
    lines
}

/// How many state-changing lines `-R` collects before sending them: as many as ipvs-rs
/// puts in one `sendmsg`, so a larger batch would save no system call, while every request
/// held costs memory (a batch of 1024 outgrew the allocator's heap and was mapped and
/// unmapped, page by page, every time).
const BATCH_LINES: usize = 256;

/// Consecutive state-changing `-R` lines, sent together in few `sendmsg` calls.
///
/// The kernel applies a batch's requests in order, each as if sent alone, and answers each;
/// the answers are reported in line order before anything a later line prints, so `-R`'s
/// output and final status are those of one request per line.
struct Pending {
    batch: Batch,
    ops: Vec<Op>,
}

impl Pending {
    fn new() -> Self {
        Pending {
            batch: Batch::new(),
            ops: Vec::new(),
        }
    }

    /// Sends what is pending; returns the last line's result, if any line was pending.
    fn send(&mut self, k: &Kernel) -> Option<i32> {
        if self.ops.is_empty() {
            return None;
        }
        let results = k.handle.apply(&self.batch);
        let mut last = None;
        for (op, r) in self.ops.iter().zip(&results) {
            last = Some(commands::report(*op, r));
        }
        *self = Pending::new();
        last
    }
}

fn restore(k: &Kernel, argv: &[String], p: &Parsed, out: &mut dyn Write) -> Result<i32> {
    let program = argv[0].as_str();
    if p.has(opt::REPLACE) {
        return crate::replace::run(k, program, &read_all_lines(), out);
    }
    let mut restore = Restore::new(k, program);
    if p.has(opt::CHECK) {
        let lines = read_all_lines();
        check_lines(program, &lines)?;
        for words in &lines {
            restore.line(words.iter().map(String::as_str), out)?;
        }
        return Ok(restore.finish());
    }
    let stdin = io::stdin();
    let mut reader = RestoreReader::new(stdin.lock());
    while let Ok(Some(line)) = reader.next_line() {
        restore.line(line.words(), out)?;
    }
    Ok(restore.finish())
}

/// Calls `f` with the argument vector `program words...`; rule lines are short, so theirs
/// lives on the stack.
fn with_argv<'w, T>(
    program: &str,
    words: impl ExactSizeIterator<Item = &'w str>,
    f: impl FnOnce(&[&str]) -> T,
) -> T {
    const SHORT: usize = 16;
    let mut short = [""; SHORT];
    let mut long = Vec::new();
    let argv: &mut [&str] = if words.len() < SHORT {
        &mut short[..words.len() + 1]
    } else {
        long.resize(words.len() + 1, "");
        &mut long
    };
    argv[0] = program;
    for (slot, w) in argv[1..].iter_mut().zip(words) {
        *slot = w;
    }
    f(argv)
}

/// ipvsadm's `restore_table`: each non-empty line is a command line; the result is the last
/// line's.
struct Restore<'k> {
    k: &'k Kernel,
    program: &'k str,
    pending: Pending,
    result: i32,
}

impl<'k> Restore<'k> {
    fn new(k: &'k Kernel, program: &'k str) -> Self {
        Restore {
            k,
            program,
            pending: Pending::new(),
            result: 0,
        }
    }

    /// Runs (or queues) one line.
    fn line<'w>(
        &mut self,
        words: impl ExactSizeIterator<Item = &'w str>,
        out: &mut dyn Write,
    ) -> Result<()> {
        if words.len() == 0 {
            return Ok(());
        }
        let k = self.k;
        let parsed = with_argv(self.program, words, |argv| cmdline::parse(argv));
        if !matches!(parsed, Ok(Outcome::Ready(_))) {
            self.pending.send(k);
        }
        let parsed = match parsed? {
            Outcome::Ready(p) => p,
            Outcome::ScanFailed(msg) => {
                text::eprintln(&msg);
                self.result = -1;
                return Ok(());
            }
        };
        match commands::request_for(&parsed) {
            Some((op, request)) => {
                self.pending.batch.push(request);
                self.pending.ops.push(op);
                if self.pending.ops.len() >= BATCH_LINES {
                    if let Some(r) = self.pending.send(k) {
                        self.result = r;
                    }
                }
            }
            None => {
                self.pending.send(k);
                if parsed.entry.cmd == Command::Restore {
                    return Err(Error::TryHelp {
                        program: self.program.to_string(),
                    });
                }
                self.result = commands::execute(k, &parsed, out)?;
            }
        }
        Ok(())
    }

    /// Sends what is left; returns the restore's result.
    fn finish(mut self) -> i32 {
        self.pending.send(self.k).unwrap_or(self.result)
    }
}

/// What is wrong with one restore line, if anything, without touching the kernel.
pub fn check_line(program: &str, words: &[String]) -> Option<String> {
    match with_argv(program, words.iter().map(String::as_str), |argv| {
        cmdline::parse(argv)
    }) {
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
pub fn check_lines(program: &str, lines: &[Vec<String>]) -> Result<()> {
    let mut bad = 0;
    for (n, words) in lines.iter().enumerate() {
        if words.is_empty() {
            continue;
        }
        if let Some(problem) = check_line(program, words) {
            bad += 1;
            text::eprintln(&format!("line {}: {}", n + 1, problem.trim_end()));
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
    fn argument_vectors_short_and_long() {
        for n in [0, 1, 14, 15, 16, 17, 40] {
            let words: Vec<String> = (0..n).map(|i| format!("w{i}")).collect();
            let got = with_argv("prog", words.iter().map(String::as_str), |argv| {
                argv.iter().map(|w| w.to_string()).collect::<Vec<_>>()
            });
            let want: Vec<String> = std::iter::once("prog".to_string()).chain(words).collect();
            assert_eq!(got, want, "{n} words");
        }
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
