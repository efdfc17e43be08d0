//! Running every kernel test binary in one VM boot and reading back each one's results.

use std::time::Duration;

use super::artifacts::TestBinary;
use super::libtest::Counts;
use crate::shell::quote;

/// Printed by the guest script before each binary runs.
const RUN_MARKER: &str = "@@xtask-run ";
/// Printed by the guest script after each binary, with its exit code and run time in ms.
const EXIT_MARKER: &str = "@@xtask-exit ";

/// The guest script: runs each binary from its package directory, as cargo would, and
/// brackets its output with marker lines.
pub fn script(binaries: &[TestBinary]) -> String {
    let mut script = String::new();
    for binary in binaries {
        let dir = quote(&binary.package_dir.to_string_lossy());
        script.push_str(&format!(
            "echo {run}\nstarted=$(date +%s%N)\n\
             (cd {dir} && CARGO_MANIFEST_DIR={dir} exec {exe})\n\
             echo {exit}\"$? $((($(date +%s%N) - started) / 1000000))\"\n",
            run = quote(&format!("{RUN_MARKER}{}", binary.name)),
            exe = quote(&binary.executable.to_string_lossy()),
            exit = quote(&format!("{EXIT_MARKER}{} ", binary.name)),
        ));
    }
    script
}

/// One binary's results.
#[derive(Debug, PartialEq, Eq)]
pub struct BinaryResult {
    /// The test target's name.
    pub name: String,
    /// Its libtest counts.
    pub counts: Counts,
    /// Its exit code; `None` if the guest never reported one.
    pub code: Option<i32>,
    /// How long it ran in the guest, if it finished.
    pub time: Option<Duration>,
}

impl BinaryResult {
    /// The counts, with a binary that failed without a failing test (a crash, an abort, a
    /// VM that died) counted as one failure.
    pub fn effective_counts(&self) -> Counts {
        let mut counts = self.counts;
        if self.code != Some(0) && counts.failed == 0 {
            counts.failed += 1;
        }
        counts
    }
}

/// Each binary's results, read from the guest's stdout.
pub fn results(binaries: &[TestBinary], output: &str) -> Vec<BinaryResult> {
    binaries
        .iter()
        .map(|binary| {
            let start = format!("{RUN_MARKER}{}", binary.name);
            let end = format!("{EXIT_MARKER}{} ", binary.name);
            let mut counts = Counts::default();
            let mut code = None;
            let mut time = None;
            let mut inside = false;
            for line in output.lines() {
                if line == start {
                    inside = true;
                } else if let Some(text) = line.strip_prefix(&end) {
                    let mut fields = text.split_whitespace();
                    code = fields.next().and_then(|code| code.parse().ok());
                    time = fields
                        .next()
                        .and_then(|ms| ms.parse().ok())
                        .map(Duration::from_millis);
                    break;
                } else if inside {
                    if let Some(summary) = Counts::from_summary(line) {
                        counts += summary;
                    }
                }
            }
            BinaryResult {
                name: binary.name.clone(),
                counts,
                code,
                time,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn binary(name: &str, executable: &str) -> TestBinary {
        TestBinary {
            name: name.into(),
            executable: executable.into(),
            package_dir: "/".into(),
        }
    }

    #[test]
    fn script_output_yields_each_binarys_results() {
        // Stand-ins for test binaries: shells printing libtest summaries and exiting.
        let dir = std::env::temp_dir().join(format!("xtask-lane-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let passing = dir.join("passing");
        let crashing = dir.join("crashing");
        std::fs::write(
            &passing,
            "#!/bin/sh\necho 'test result: ok. 2 passed; 0 failed; 1 ignored; 0 measured'\n",
        )
        .unwrap();
        std::fs::write(&crashing, "#!/bin/sh\nkill -ABRT $$\n").unwrap();
        for file in [&passing, &crashing] {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let binaries = [
            binary("kernel_a", passing.to_str().unwrap()),
            binary("kernel_b", crashing.to_str().unwrap()),
            binary("kernel_c", "/nonexistent"),
        ];
        let out = Command::new("sh")
            .arg("-c")
            .arg(script(&binaries[..2]))
            .output()
            .unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let results = results(&binaries, &String::from_utf8_lossy(&out.stdout));
        assert_eq!(results[0].code, Some(0));
        assert!(results[0].time.is_some_and(|t| t < Duration::from_secs(60)));
        assert_eq!(
            results[0].effective_counts(),
            Counts {
                passed: 2,
                failed: 0,
                ignored: 1
            }
        );
        assert_eq!(results[1].code, Some(134));
        assert_eq!(results[1].effective_counts().failed, 1);
        // Never started (the VM died first): a failure too.
        assert_eq!(results[2].code, None);
        assert_eq!(results[2].time, None);
        assert_eq!(results[2].effective_counts().failed, 1);
    }
}
