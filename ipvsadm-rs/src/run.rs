//! The program: ipvsadm's order of events, from IPVS initialisation to the exit status.

use std::io::Write;

use crate::checks::opt;
use crate::cmdline::{self, Outcome, Parsed};
use crate::commands;
use crate::entry::Command;
use crate::error::{Error, Result};
use crate::generate;
use crate::kernel::{self, Kernel, Op};
use crate::netns;
use crate::restore_input::{Fd, Input, Line, RestoreReader};
use crate::signals;
use crate::stdout::{write_error_message, Output};
use crate::text;
use ipvs_rs::Batch;

/// Runs ipvsadm-rs with `args` (the program name first) and returns the exit status.
///
/// Standard output is buffered as C's stdio buffers it (by line on a terminal, in 4 KiB
/// blocks otherwise) and is written out at the end, while messages go to stderr at once. A
/// failed write to stdout is reported at the end, and the status is then 1 if it was 0.
pub fn run(mut args: Vec<String>) -> i32 {
    // execve allows an empty argv, and messages and usage need a program name.
    if args.is_empty() {
        args.push(env!("CARGO_PKG_NAME").into());
    }
    let program = args[0].clone();
    let mut out = Output::stdout();
    let status = match run_with(args, &mut out) {
        Ok(status) => status,
        Err(Error::Crash) => crash(),
        Err(e) => report(&e, &mut out),
    };
    match out.finish() {
        Some(err) => {
            text::eprintln(&write_error_message(&program, &err));
            if status == 0 {
                1
            } else {
                status
            }
        }
        None => status,
    }
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
    process(k, &args, out)
}

/// ipvsadm's `process_options` for the command line itself: parsed and run; returns its
/// result. (Lines read by `-R` are handled by the restore loop, in batches.)
pub fn process(k: Kernel, argv: &[String], out: &mut dyn Write) -> Result<i32> {
    let p = match cmdline::parse(argv)? {
        Outcome::ScanFailed(msg) => {
            text::eprintln(&msg);
            return Ok(-1);
        }
        Outcome::Ready(p) => p,
    };
    if p.entry.cmd == Command::Restore {
        return restore(&k, argv, &p, out);
    }
    if commands::lists_connections(&p) {
        // ipvsadm holds no socket while it reads the connection table: with one descriptor
        // to spare (`ulimit -n 4`), the file must get it.
        drop(k);
        return commands::connections(&p, out).map(|()| 0);
    }
    commands::execute(&k, &p, out)
}

fn read_all_lines() -> Vec<Vec<String>> {
    let mut reader = RestoreReader::new(Fd::stdin());
    let mut lines = Vec::new();
    while let Ok(Some(line)) = reader.next_line(&mut || {}) {
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
/// output and final status are those of one request per line. Lines are held only while
/// more input is at hand: the batch is sent before a read that would wait, and before the
/// process dies of SIGINT or SIGTERM ([`signals`]).
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
        signals::holding(false);
        last
    }

    fn push(&mut self, op: Op, request: ipvs_rs::Request) {
        if self.ops.is_empty() {
            signals::holding(true);
        }
        self.batch.push(request);
        self.ops.push(op);
    }
}

fn restore(k: &Kernel, argv: &[String], p: &Parsed, out: &mut dyn Write) -> Result<i32> {
    let program = argv[0].as_str();
    if p.has(opt::REPLACE) {
        return crate::replace::run(k, program, &read_all_lines(), out);
    }
    signals::install();
    let mut restore = Restore::new(k, program);
    if p.has(opt::CHECK) {
        let lines = read_all_lines();
        check_lines(program, &lines)?;
        for words in &lines {
            restore.line(words.iter().map(String::as_str), out)?;
        }
        return Ok(restore.finish());
    }
    let mut reader = RestoreReader::new(Fd::stdin());
    while let Ok(Some(line)) = restore.next_line(&mut reader) {
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
                self.pending.push(op, request);
                if self.pending.ops.len() >= BATCH_LINES || signals::caught() {
                    self.send_pending();
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

    /// The next input line; what is held is sent first if the read has to wait for it.
    fn next_line<'r, R: Input>(
        &mut self,
        reader: &'r mut RestoreReader<R>,
    ) -> std::io::Result<Option<Line<'r>>> {
        reader.next_line(&mut || self.send_pending())
    }

    /// Sends the lines held, if any.
    fn send_pending(&mut self) {
        if let Some(r) = self.pending.send(self.k) {
            self.result = r;
        }
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
