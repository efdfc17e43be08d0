//! Writing POSIX shell scripts.

/// `word` in single quotes, safe for any POSIX shell; a quoted word is never an assignment.
pub fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn quoted_words_reach_the_command_unchanged() {
        let words = ["it's", "two words", "$HOME", "a=b", "", "\\n", "`x`"];
        let script = std::iter::once("printf '[%s]'".to_string())
            .chain(words.iter().map(|word| quote(word)))
            .collect::<Vec<_>>()
            .join(" ");
        let out = Command::new("sh").arg("-c").arg(&script).output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "[it's][two words][$HOME][a=b][][\\n][`x`]"
        );
    }
}
