//! Finding test executables in cargo's JSON build messages.

use std::path::PathBuf;

use serde_json::Value;

use crate::error::{Error, Result};

/// An integration-test executable cargo built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestBinary {
    /// The test target's name, the file name of `tests/<name>.rs`.
    pub name: String,
    /// The executable.
    pub executable: PathBuf,
    /// The directory of the package's Cargo.toml, where cargo would run it.
    pub package_dir: PathBuf,
}

/// The integration-test executables in `messages` (one JSON object per line, from
/// `cargo test --no-run --message-format=json`) whose target name starts with `prefix`.
pub fn test_binaries(messages: &str, prefix: &str) -> Result<Vec<TestBinary>> {
    let mut found = Vec::new();
    for line in messages.lines().filter(|line| line.starts_with('{')) {
        let message: Value = serde_json::from_str(line).map_err(|e| Error::Output {
            what: "cargo --message-format=json".into(),
            reason: e.to_string(),
        })?;
        if message["reason"] != "compiler-artifact" {
            continue;
        }
        let target = &message["target"];
        let is_test = target["kind"]
            .as_array()
            .is_some_and(|kinds| kinds.iter().any(|kind| kind == "test"));
        let (Some(name), Some(executable), Some(manifest)) = (
            target["name"].as_str(),
            message["executable"].as_str(),
            message["manifest_path"].as_str(),
        ) else {
            continue;
        };
        if is_test && name.starts_with(prefix) {
            let package_dir = PathBuf::from(manifest)
                .parent()
                .map(PathBuf::from)
                .unwrap_or_default();
            found.push(TestBinary {
                name: name.to_string(),
                executable: PathBuf::from(executable),
                package_dir,
            });
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn artifact(kind: &str, name: &str, executable: &str) -> String {
        format!(
            r#"{{"reason":"compiler-artifact","manifest_path":"/w/ipvs-rs/Cargo.toml","target":{{"kind":["{kind}"],"name":"{name}","src_path":"/w/ipvs-rs/tests/{name}.rs"}},"executable":{executable}}}"#
        )
    }

    #[test]
    fn picks_test_targets_with_the_prefix() {
        let messages = [
            artifact("test", "kernel_service", r#""/t/deps/kernel_service-1""#),
            artifact("test", "wire", r#""/t/deps/wire-2""#),
            artifact("lib", "kernel_like_lib", r#""/t/deps/x-3""#),
            artifact("test", "kernel_nobin", "null"),
            r#"{"reason":"build-finished","success":true}"#.to_string(),
        ]
        .join("\n");
        let found = test_binaries(&messages, "kernel_").unwrap();
        assert_eq!(
            found,
            [TestBinary {
                name: "kernel_service".into(),
                executable: "/t/deps/kernel_service-1".into(),
                package_dir: "/w/ipvs-rs".into(),
            }]
        );
    }

    #[test]
    fn bad_json_is_an_error() {
        assert!(test_binaries("{not json", "kernel_").is_err());
    }
}
