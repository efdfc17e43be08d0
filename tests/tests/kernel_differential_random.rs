//! ipvsadm-rs against the reference ipvsadm 1.31 on random command sequences.
//!
//! Each seed yields a sequence of command lines (see `cli_fuzz`). Every command runs with
//! both programs, each in its own network namespace that has seen the same earlier commands;
//! exit status, stdout and stderr must match byte for byte, and after every command that may
//! change the table so must both tables (`-Sn`). A save step also restores each program's
//! save into a fresh namespace with that program and compares the tables read back.
//!
//! A difference is minimized (the failing command alone, or on top of the table restored from
//! the reference's save, then with arguments and restore lines removed while it persists) and
//! reported with its seed.
//!
//! Size: `DIFF_FUZZ_CASES` sequences (default 3) of `DIFF_FUZZ_STEPS` commands (default 30),
//! from seed `DIFF_FUZZ_SEED` (default 1) on; `DIFF_FUZZ_MINIMIZE` (default 3) caps how many
//! differences are minimized; `DIFF_FUZZ_VERBOSE` set prints every command. For example:
//! `cargo xtask vm --timeout 1200 --env DIFF_FUZZ_CASES=40 -- target/debug/deps/kernel_differential_random-HASH --nocapture`.
#![cfg(feature = "kernel-tests")]

mod cli_fuzz;

use std::path::PathBuf;
use std::process::Command;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::Instant;

use cli_fuzz::{Generated, Generator, Kind};
use workspace_tests::{cmd, difference, restore, run_step, Outcome, Step};

/// One program running commands in a network namespace of its own, on a thread of its own.
struct Lane {
    /// Steps, each with the program to run it with if not the lane's own.
    steps: Option<Sender<(Option<PathBuf>, Step)>>,
    outcomes: Receiver<Outcome>,
    thread: Option<JoinHandle<()>>,
}

impl Lane {
    fn new(binary: PathBuf) -> Lane {
        let (steps, step_rx) = channel::<(Option<PathBuf>, Step)>();
        let (outcome_tx, outcomes) = channel();
        let thread = std::thread::spawn(move || {
            testkit::isolate_netns()
                .unwrap_or_else(|e| panic!("cannot create a network namespace: {e}"));
            for (program, step) in step_rx {
                let program = program.as_ref().unwrap_or(&binary);
                if outcome_tx.send(run_step(program, &step)).is_err() {
                    break;
                }
            }
            // Other namespaces' dumps walk the same service table: leave it as found,
            // and stop the sync daemons a sequence may have started.
            for args in [
                &["-C"][..],
                &["--stop-daemon", "master"],
                &["--stop-daemon", "backup"],
            ] {
                let _ = Command::new(workspace_tests::reference())
                    .args(args)
                    .output();
            }
        });
        Lane {
            steps: Some(steps),
            outcomes,
            thread: Some(thread),
        }
    }

    fn run(&self, step: &Step) -> Outcome {
        self.run_with(None, step)
    }

    /// Runs `step` in this lane's namespace with `program` instead of the lane's own.
    fn run_with(&self, program: Option<PathBuf>, step: &Step) -> Outcome {
        self.steps
            .as_ref()
            .expect("lane is open")
            .send((program, step.clone()))
            .expect("lane thread alive");
        self.outcomes.recv().expect("lane thread alive")
    }
}

impl Drop for Lane {
    fn drop(&mut self) {
        self.steps.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The reference's and the clone's lanes, fed the same steps one at a time (never two
/// commands at once: a dump racing another namespace's change can repeat entries).
struct Pair {
    reference: Lane,
    clone: Lane,
}

impl Pair {
    fn new() -> Pair {
        Pair {
            reference: Lane::new(workspace_tests::reference()),
            clone: Lane::new(workspace_tests::clone_binary()),
        }
    }

    fn both(&self, step: &Step) -> (Outcome, Outcome) {
        (self.reference.run(step), self.clone.run(step))
    }

    /// Runs one generated step with both programs and compares what they did.
    ///
    /// An `unordered` step's output is compared across the namespaces as a set of lines
    /// (its order follows each namespace's hash); a listing among them is also run by the
    /// clone in the reference's namespace, where the order must match exactly.
    fn check(&self, g: &Generated) -> Checked {
        let (want, got) = self.both(&g.step);
        let compare = |what: &str, want: &[Outcome], got: &[Outcome]| {
            if g.unordered {
                let lines = |o: &[Outcome]| o.iter().map(unordered).collect::<Vec<_>>();
                difference(what, &lines(want), &lines(got))
            } else {
                difference(what, want, got)
            }
        };
        let mut checked = Checked {
            difference: compare(
                "command",
                std::slice::from_ref(&want),
                std::slice::from_ref(&got),
            ),
            table: None,
            status: want.status.clone(),
        };
        if checked.difference.is_some() {
            return checked;
        }
        if g.unordered && g.kind != Kind::Change {
            let here = self
                .reference
                .run_with(Some(workspace_tests::clone_binary()), &g.step);
            checked.difference = difference(
                "listing in the reference's namespace",
                std::slice::from_ref(&want),
                &[here],
            );
            if checked.difference.is_some() {
                return checked;
            }
        }
        match g.kind {
            Kind::Listing => {}
            Kind::Change => {
                let (want, got) = self.both(&cmd("-Sn"));
                checked.table = Some(want.stdout.clone());
                checked.difference = compare("table afterwards", &[want], &[got]);
            }
            Kind::SaveRestore => {
                let read_back = |lane: Lane, saved: &str| {
                    vec![lane.run(&restore(saved)), lane.run(&cmd("-Sn"))]
                };
                let want_back = read_back(Lane::new(workspace_tests::reference()), &want.stdout);
                let got_back = read_back(Lane::new(workspace_tests::clone_binary()), &got.stdout);
                checked.difference =
                    compare("save restored in a fresh namespace", &want_back, &got_back);
            }
        }
        checked
    }
}

/// `o` with its stdout lines sorted, for output whose order depends on the namespace.
fn unordered(o: &Outcome) -> Outcome {
    let mut lines: Vec<&str> = o.stdout.split_inclusive('\n').collect();
    lines.sort_unstable();
    Outcome {
        stdout: lines.concat(),
        ..o.clone()
    }
}

/// What one step did, as far as the comparison goes.
struct Checked {
    /// How the two programs differed, if they did.
    difference: Option<String>,
    /// The reference's table afterwards, when the step may have changed it.
    table: Option<String>,
    /// The reference's exit status.
    status: String,
}

/// Replays `steps` in fresh namespaces and describes the first difference.
fn replay_differs(steps: &[Generated]) -> Option<String> {
    let pair = Pair::new();
    steps.iter().find_map(|g| pair.check(g).difference)
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name}={v} is not a number"))
        })
        .unwrap_or(default)
}

/// A sequence with a difference at its last step.
struct Found {
    seed: u64,
    index: usize,
    steps: Vec<Generated>,
    report: String,
    /// The reference's table before the last step.
    table_before: String,
}

/// Runs the sequence of `seed`; returns where it first differs.
fn run_seed(seed: u64, length: u64, verbose: bool) -> Option<Found> {
    let mut generator = Generator::new(seed);
    let pair = Pair::new();
    let mut steps = Vec::new();
    let mut table = String::new();
    for index in 0..length as usize {
        let g = generator.step();
        let checked = pair.check(&g);
        if verbose {
            eprint!(
                "seed {seed} #{index} ({}):\n{}",
                checked.status,
                describe_briefly(&g)
            );
        }
        steps.push(g);
        if let Some(report) = checked.difference {
            return Some(Found {
                seed,
                index,
                steps,
                report,
                table_before: table,
            });
        }
        if let Some(t) = checked.table {
            table = t;
        }
    }
    None
}

/// Replays candidates while a budget lasts (each replay costs two fresh namespaces and a
/// few seconds under TCG).
struct Shrinker {
    replays_left: usize,
}

impl Shrinker {
    fn differs(&mut self, steps: &[Generated]) -> bool {
        if self.replays_left == 0 {
            return false;
        }
        self.replays_left -= 1;
        replay_differs(steps).is_some()
    }

    /// Removes chunks of `items` (halves, then quarters, and so on) while `still_fails`
    /// holds without them.
    fn remove_chunks<T: Clone>(
        &mut self,
        items: &mut Vec<T>,
        keep_last: bool,
        mut still_fails: impl FnMut(&mut Self, &[T]) -> bool,
    ) {
        let mut chunk = items.len().div_ceil(2);
        while chunk >= 1 && self.replays_left > 0 {
            let mut start = 0;
            while start < items.len() {
                let end = (start + chunk).min(items.len());
                if keep_last && end == items.len() {
                    break;
                }
                let mut fewer = items.clone();
                fewer.drain(start..end);
                if !fewer.is_empty() && still_fails(self, &fewer) {
                    *items = fewer;
                } else {
                    start = end;
                }
            }
            if chunk == 1 {
                break;
            }
            chunk = chunk.div_ceil(2);
        }
    }
}

/// The shortest reproduction found for `found`, as text.
fn minimize(found: &Found) -> String {
    let mut shrinker = Shrinker { replays_left: 80 };
    let last = found.steps.last().expect("a failing step").clone();
    let mut candidates = vec![vec![last.clone()]];
    if !found.table_before.is_empty() {
        let setup = Generated {
            step: restore(&found.table_before),
            kind: Kind::Change,
            unordered: last.unordered,
        };
        candidates.push(vec![setup, last.clone()]);
    }
    candidates.push(found.steps.clone());
    let Some(mut best) = candidates.into_iter().find(|steps| shrinker.differs(steps)) else {
        return format!("(does not reproduce on replay)\n{}", describe(&found.steps));
    };
    let end = best.len() - 1;
    shrinker.remove_chunks(&mut best, true, |s, fewer| s.differs(fewer));
    let end = end.min(best.len() - 1);
    let mut args = best[end].step.args.clone();
    shrinker.remove_chunks(&mut args, false, |s, fewer| {
        let mut trial = best.clone();
        trial[end].step.args = fewer.to_vec();
        s.differs(&trial)
    });
    best[end].step.args = args;
    if let Some(input) = best[end].step.stdin.clone() {
        let mut lines: Vec<String> = input.lines().map(|l| format!("{l}\n")).collect();
        shrinker.remove_chunks(&mut lines, false, |s, fewer| {
            let mut trial = best.clone();
            trial[end].step.stdin = Some(fewer.concat());
            s.differs(&trial)
        });
        best[end].step.stdin = Some(lines.concat());
    }
    let report = replay_differs(&best).unwrap_or_default();
    format!("{}{report}", describe(&best))
}

/// Steps as command lines, stdin lines quoted below them (runs of one character shortened).
fn describe(steps: &[Generated]) -> String {
    let mut text = String::new();
    for g in steps {
        text.push_str(&format!(
            "  ipvsadm {}\n",
            compress(&shell_words(&g.step.args))
        ));
        if let Some(input) = &g.step.stdin {
            for line in input.split_inclusive('\n') {
                text.push_str(&format!("    < {}\n", compress(&format!("{line:?}"))));
            }
        }
    }
    text
}

/// A step for the progress log: a long restore input is only counted.
fn describe_briefly(g: &Generated) -> String {
    match &g.step.stdin {
        Some(input) if input.lines().count() > 10 => format!(
            "  ipvsadm {} < ({} lines)\n",
            shell_words(&g.step.args),
            input.lines().count()
        ),
        _ => describe(std::slice::from_ref(g)),
    }
}

/// `text` with every run of more than 16 equal characters written `{c}x{n}`.
fn compress(text: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let run = chars[i..].iter().take_while(|&&c| c == chars[i]).count();
        if run > 16 {
            out.push_str(&format!("{{{}x{run}}}", chars[i]));
        } else {
            out.extend(&chars[i..i + run]);
        }
        i += run;
    }
    out
}

fn shell_words(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || "'\"\\$!#".contains(c)) {
                format!("'{a}'")
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn random_command_sequences_match_ipvsadm() {
    testkit::kernel_test();
    let cases = env_number("DIFF_FUZZ_CASES", 3);
    let length = env_number("DIFF_FUZZ_STEPS", 30);
    let first = env_number("DIFF_FUZZ_SEED", 1);
    let mut minimize_left = env_number("DIFF_FUZZ_MINIMIZE", 3);
    let verbose = std::env::var_os("DIFF_FUZZ_VERBOSE").is_some();
    let started = Instant::now();
    let mut failures = String::new();
    for seed in first..first + cases {
        let Some(found) = run_seed(seed, length, verbose) else {
            eprintln!(
                "seed {seed}: {length} commands agree ({:.0?})",
                started.elapsed()
            );
            continue;
        };
        eprintln!(
            "seed {seed}: differs at command {} ({:.0?})",
            found.index,
            started.elapsed()
        );
        let reproduction = if minimize_left > 0 {
            minimize_left -= 1;
            minimize(&found)
        } else {
            describe(&found.steps[found.steps.len() - 1..])
        };
        let text = format!(
            "\nseed {} command {}:{}\nminimal:\n{reproduction}",
            found.seed, found.index, found.report
        );
        eprintln!("{text}");
        failures.push_str(&text);
    }
    assert!(
        failures.is_empty(),
        "ipvsadm-rs differs from ipvsadm:{failures}"
    );
}
