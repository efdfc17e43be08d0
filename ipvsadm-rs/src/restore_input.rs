//! Splitting `-R` input into argument lists, as ipvsadm's `config_stream_read` does.
//!
//! Words are separated by spaces, tabs and carriage returns; a newline ends a line; a word
//! `ipvsadm` is dropped (so `ipvsadm -A ...` lines work); `#` has no special meaning; a
//! word longer than 4096 bytes is split. Two of ipvsadm's edge cases are kept because they
//! change which lines run: whitespace runs into the end of input without a newline lose
//! the line they end, and input ending after only dropped words ends the restore.

use std::io::{self, BufRead};

const MAX_WORD: usize = 4096;

fn is_separator(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Reads ipvsadm restore lines one at a time.
pub struct RestoreReader<R> {
    input: R,
}

impl<R: BufRead> RestoreReader<R> {
    /// Wraps a reader.
    pub fn new(input: R) -> Self {
        RestoreReader { input }
    }

    fn peek(&mut self) -> io::Result<Option<u8>> {
        Ok(self.input.fill_buf()?.first().copied())
    }

    fn bump(&mut self) {
        self.input.consume(1);
    }

    /// The next line's words (possibly none, for a blank line), or `None` at the end.
    pub fn next_line(&mut self) -> io::Result<Option<Vec<String>>> {
        let mut words = Vec::new();
        loop {
            let Some(first) = self.peek()? else {
                return Ok((!words.is_empty()).then_some(words));
            };
            if is_separator(first) {
                loop {
                    match self.peek()? {
                        None => return Ok(None),
                        Some(b'\n') => {
                            self.bump();
                            return Ok(Some(words));
                        }
                        Some(b' ' | b'\t' | b'\r') => self.bump(),
                        Some(_) => break,
                    }
                }
                continue;
            }
            let mut word = Vec::new();
            while word.len() < MAX_WORD {
                match self.peek()? {
                    Some(b) if !is_separator(b) => {
                        word.push(b);
                        self.bump();
                    }
                    _ => break,
                }
            }
            let mut ends_line = false;
            if let Some(b) = self.peek()? {
                if is_separator(b) {
                    self.bump();
                    ends_line = b == b'\n';
                }
            }
            let word = String::from_utf8_lossy(&word).into_owned();
            if word != "ipvsadm" {
                words.push(word);
            }
            if ends_line {
                return Ok(Some(words));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &str) -> Vec<Vec<String>> {
        let mut r = RestoreReader::new(input.as_bytes());
        let mut all = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            all.push(l);
        }
        all
    }

    #[test]
    fn words_lines_and_the_program_name() {
        let got = lines("-A -t 1.1.1.1:80\n\n  ipvsadm\t-C \r\n# x\n-L");
        assert_eq!(
            got,
            vec![
                vec!["-A", "-t", "1.1.1.1:80"],
                vec![],
                vec!["-C"],
                vec!["#", "x"],
                vec!["-L"],
            ]
        );
    }

    #[test]
    fn trailing_whitespace_at_end_of_input_loses_the_line() {
        assert_eq!(lines("-C\n-L  "), vec![vec!["-C".to_string()]]);
        assert_eq!(
            lines("-C\n-L "),
            vec![vec!["-C".to_string()], vec!["-L".to_string()]]
        );
    }

    #[test]
    fn only_dropped_words_end_the_input() {
        assert!(lines("ipvsadm").is_empty());
        assert_eq!(lines("ipvsadm\n-C\n").len(), 2);
    }

    #[test]
    fn long_words_are_split() {
        let long = "a".repeat(5000);
        let got = lines(&format!("{long}\n"));
        assert_eq!(got[0].len(), 2);
        assert_eq!(got[0][0].len(), 4096);
    }
}
