//! The shell script the guest runs: working directory, environment and command.

use std::path::Path;

use crate::shell::quote;

/// The PATH a command gets in the guest.
const GUEST_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Host variables handed to the guest command when they are set.
pub const PASSED_THROUGH: &[&str] = &["RUST_BACKTRACE", "RUST_TEST_THREADS", "RUST_LOG"];

/// The guest script running `command` in `cwd` with a clean environment of PATH, HOME=/tmp
/// and `env`, in that order so that `env` can override the defaults.
pub fn script(cwd: &Path, env: &[(String, String)], command: &[String]) -> String {
    let mut script = format!("cd {} || exit 125\n", quote(&cwd.to_string_lossy()));
    let defaults = [("PATH", GUEST_PATH), ("HOME", "/tmp"), ("USER", "root")];
    let vars = defaults
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .chain(env.iter().cloned());
    for (name, value) in vars {
        script.push_str(&format!("export {}\n", quote(&format!("{name}={value}"))));
    }
    script.push_str("exec");
    for word in command {
        script.push(' ');
        script.push_str(&quote(word));
    }
    script.push('\n');
    script
}

/// Whether `name` can be exported by a POSIX shell.
pub fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn script_sets_cwd_and_env_and_passes_arguments() {
        let env = [
            ("X_TEST".to_string(), "v'al ue".to_string()),
            ("HOME".to_string(), "/override".to_string()),
        ];
        let command =
            ["sh", "-c", "echo \"$HOME|$X_TEST|$(pwd)|$1\"", "-", "a b"].map(String::from);
        let script = script(Path::new("/"), &env, &command);
        let out = Command::new("sh").arg("-c").arg(&script).output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "/override|v'al ue|/|a b\n"
        );
    }

    #[test]
    fn a_missing_directory_exits_125() {
        let script = script(Path::new("/nonexistent/dir"), &[], &["true".to_string()]);
        let status = Command::new("sh").arg("-c").arg(&script).status().unwrap();
        assert_eq!(status.code(), Some(125));
    }

    #[test]
    fn variable_names() {
        assert!(is_variable_name("RUST_LOG"));
        assert!(is_variable_name("_x1"));
        assert!(!is_variable_name("1X"));
        assert!(!is_variable_name("A-B"));
        assert!(!is_variable_name(""));
    }
}
