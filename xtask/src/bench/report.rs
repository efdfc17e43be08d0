//! The benchmark's samples, and their medians as Markdown tables.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::time::Duration;

use super::measure::{median, Sample};
use super::worker::Workload;

/// Which side of a CLI comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Side {
    /// The reference ipvsadm.
    Reference,
    /// ipvsadm-rs.
    Target,
}

impl Side {
    /// Its name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Side::Reference => "ipvsadm",
            Side::Target => "ipvsadm-rs",
        }
    }
}

/// What a sample measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key {
    /// A CLI operation on a table of this many services, by one side.
    Cli(u32, &'static str, Side),
    /// A library workload on a table of this many services.
    Library(u32, Workload),
}

/// Everything measured in one benchmark.
#[derive(Debug, Default)]
pub struct Results {
    /// The machine the samples were taken on.
    pub environment: String,
    /// What the last reconcile run printed.
    pub reconcile_outcome: String,
    /// The peak RSS `wait4` reports for `true`: what every child inherits from the driver.
    pub rss_floor_kib: u64,
    samples: BTreeMap<Key, Vec<Sample>>,
}

/// The CLI operations, in the order they run.
const OPERATIONS: [&str; 4] = ["restore (-R)", "list (-Ln)", "save (-Sn)", "clear (-C)"];

impl Results {
    /// Records one sample.
    pub fn add(&mut self, key: Key, sample: Sample) {
        self.samples.entry(key).or_default().push(sample);
    }

    fn median(&self, key: Key) -> Option<Sample> {
        self.samples.get(&key).and_then(|s| median(s))
    }

    fn sizes(&self) -> BTreeSet<u32> {
        self.samples
            .keys()
            .map(|k| match k {
                Key::Cli(size, ..) | Key::Library(size, _) => *size,
            })
            .collect()
    }

    /// The report: medians of `runs` runs per side, and the ratios.
    pub fn markdown(&self, runs: u32) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Environment: {}\n", self.environment);
        let _ = writeln!(
            out,
            "Medians of {runs} run(s) per side; times in seconds, RSS in MiB; a ratio is \
             the reference's value divided by the other's (higher is better for the other). \
             Peak RSS is what wait4 reports, which includes what a child inherits from the \
             driver at fork: `true` reports {} MiB.\n",
            mib(self.rss_floor_kib)
        );
        let mut cli = String::new();
        for size in self.sizes() {
            for op in OPERATIONS {
                let (Some(r), Some(t)) = (
                    self.median(Key::Cli(size, op, Side::Reference)),
                    self.median(Key::Cli(size, op, Side::Target)),
                ) else {
                    continue;
                };
                let _ = writeln!(
                    cli,
                    "| {size} | {op} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    secs(r.wall),
                    secs(t.wall),
                    ratio(r.wall, t.wall),
                    secs(r.user),
                    secs(t.user),
                    ratio(r.user, t.user),
                    secs(r.sys),
                    secs(t.sys),
                    mib(r.max_rss_kib),
                    mib(t.max_rss_kib),
                );
            }
        }
        if !cli.is_empty() {
            out.push_str("### ipvsadm 1.31 against ipvsadm-rs\n\n");
            out.push_str(
                "| services x4 | operation | ipvsadm wall | ipvsadm-rs wall | wall ratio \
                 | ipvsadm user | ipvsadm-rs user | user ratio | ipvsadm sys | ipvsadm-rs sys \
                 | ipvsadm RSS | ipvsadm-rs RSS |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n",
            );
            out.push_str(&cli);
            out.push('\n');
        }
        out.push_str("### ipvs-rs: batched apply against one request at a time on one socket\n\n");
        out.push_str(
            "| services x4 | one-at-a-time wall | batched wall | wall ratio | one-at-a-time user \
             | batched user | one-at-a-time sys | batched sys | one-at-a-time RSS | batched RSS |\n\
             |---|---|---|---|---|---|---|---|---|---|\n",
        );
        for size in self.sizes() {
            let (Some(single), Some(batched)) = (
                self.median(Key::Library(size, Workload::ApplySingle)),
                self.median(Key::Library(size, Workload::ApplyBatched)),
            ) else {
                continue;
            };
            let _ = writeln!(
                out,
                "| {size} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                secs(single.wall),
                secs(batched.wall),
                ratio(single.wall, batched.wall),
                secs(single.user),
                secs(batched.user),
                secs(single.sys),
                secs(batched.sys),
                mib(single.max_rss_kib),
                mib(batched.max_rss_kib),
            );
        }
        out.push_str("\n### ipvs-rs: reconcile of a 1 % change\n\n");
        out.push_str("| services x4 | wall | user | sys | RSS |\n|---|---|---|---|---|\n");
        for size in self.sizes() {
            if let Some(s) = self.median(Key::Library(size, Workload::Reconcile)) {
                let _ = writeln!(
                    out,
                    "| {size} | {} | {} | {} | {} |",
                    secs(s.wall),
                    secs(s.user),
                    secs(s.sys),
                    mib(s.max_rss_kib)
                );
            }
        }
        let _ = writeln!(out, "\nLast reconcile run: {}", self.reconcile_outcome);
        out
    }
}

fn secs(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

/// `reference / other`, or "-" when the other took no measurable time.
fn ratio(reference: Duration, other: Duration) -> String {
    if other.is_zero() {
        "-".into()
    } else {
        format!("{:.1}x", reference.as_secs_f64() / other.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(wall_ms: u64) -> Sample {
        Sample {
            wall: Duration::from_millis(wall_ms),
            user: Duration::from_millis(wall_ms / 4),
            sys: Duration::from_millis(wall_ms / 2),
            max_rss_kib: 2048,
        }
    }

    #[test]
    fn tables_show_medians_and_ratios() {
        let mut results = Results::default();
        for ms in [1000, 1200, 900] {
            results.add(Key::Cli(10, "restore (-R)", Side::Reference), sample(ms));
        }
        for ms in [100, 200, 150] {
            results.add(Key::Cli(10, "restore (-R)", Side::Target), sample(ms));
        }
        results.add(Key::Library(10, Workload::ApplySingle), sample(300));
        results.add(Key::Library(10, Workload::ApplyBatched), sample(100));
        results.add(Key::Library(10, Workload::Reconcile), sample(50));
        let text = results.markdown(3);
        assert!(
            text.contains("| 10 | restore (-R) | 1.000 | 0.150 | 6.7x | 0.250 | 0.037 | 6.8x |"),
            "{text}"
        );
        assert!(text.contains("| 10 | 0.300 | 0.100 | 3.0x |"), "{text}");
        assert!(
            text.contains("| 10 | 0.050 | 0.012 | 0.025 | 2.0 |"),
            "{text}"
        );
        assert!(!text.contains("list (-Ln)"));
    }
}
