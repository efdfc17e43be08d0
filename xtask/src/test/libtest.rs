//! Reading libtest's output: how many tests passed, failed or were ignored.

use std::ops::AddAssign;

/// Test counts of one or more libtest runs.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Tests that passed.
    pub passed: u64,
    /// Tests that failed, plus test binaries that ended without reporting.
    pub failed: u64,
    /// Tests marked `#[ignore]`.
    pub ignored: u64,
}

impl Counts {
    /// The tests that ran.
    pub fn ran(&self) -> u64 {
        self.passed + self.failed
    }

    /// The counts of one `test result: ok. 3 passed; 0 failed; 1 ignored; ...` line.
    pub fn from_summary(line: &str) -> Option<Counts> {
        let (_, fields) = line
            .trim()
            .strip_prefix("test result: ")?
            .split_once(". ")?;
        let mut counts = Counts::default();
        for field in fields.split(';') {
            let Some((number, what)) = field.trim().split_once(' ') else {
                continue;
            };
            let Ok(number) = number.parse() else {
                continue;
            };
            match what {
                "passed" => counts.passed = number,
                "failed" => counts.failed = number,
                "ignored" => counts.ignored = number,
                _ => {}
            }
        }
        Some(counts)
    }

    /// The sum of every summary line in `output`.
    pub fn tally(output: &str) -> Counts {
        let mut total = Counts::default();
        for counts in output.lines().filter_map(Counts::from_summary) {
            total += counts;
        }
        total
    }
}

impl AddAssign for Counts {
    fn add_assign(&mut self, other: Counts) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.ignored += other.ignored;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_summary_line() {
        let line = "test result: FAILED. 3 passed; 2 failed; 1 ignored; 0 measured; \
                    4 filtered out; finished in 0.01s";
        assert_eq!(
            Counts::from_summary(line),
            Some(Counts {
                passed: 3,
                failed: 2,
                ignored: 1
            })
        );
        assert_eq!(Counts::from_summary("test foo ... ok"), None);
    }

    #[test]
    fn tally_sums_every_binary() {
        let output = "running 1 test\ntest a ... ok\n\n\
            test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out\n\
            running 2 tests\n\
            test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out\n";
        let counts = Counts::tally(output);
        assert_eq!((counts.passed, counts.failed, counts.ran()), (2, 1, 3));
    }
}
