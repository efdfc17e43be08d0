//! Splitting `-R` input into argument lists, as ipvsadm's `config_stream_read` does.
//!
//! Words are separated by spaces, tabs and carriage returns; a newline ends a line; a word
//! `ipvsadm` is dropped (so `ipvsadm -A ...` lines work); `#` has no special meaning; a
//! word longer than 4096 bytes is split; a NUL byte ends a word's value (the rest of the word
//! up to the next separator is ignored), as it ends the C string ipvsadm keeps. Two of ipvsadm's edge cases are kept because they
//! change which lines run: whitespace runs into the end of input without a newline lose
//! the line they end, and input ending after only dropped words ends the restore.
//!
//! Input is read in large blocks and each line's words are handed out as slices of the
//! block, so a restore of many lines allocates nothing per line or word. Before a read that
//! would wait for more input, the caller is told (see [`RestoreReader::next_line`]), so that
//! it can apply what it holds: a producer that streams lines sees each one applied.

use std::borrow::Cow;
use std::io::{self, Read};
use std::ops::Range;
use std::os::fd::{AsRawFd, BorrowedFd};

use crate::text;

const MAX_WORD: usize = 4096;

/// How much input is read at a time (a line longer than this grows the buffer).
const BLOCK: usize = 64 * 1024;

fn is_separator(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Input that can tell whether a read would wait.
pub trait Input: Read {
    /// Whether a read now returns at once (with data, the end of input or an error).
    fn ready(&self) -> bool;
}

impl Input for &[u8] {
    fn ready(&self) -> bool {
        true
    }
}

/// A file descriptor read directly, without the standard library's stdin buffer (which
/// would hide input from [`Input::ready`]).
pub struct Fd<'a>(pub BorrowedFd<'a>);

impl Fd<'static> {
    /// Standard input.
    pub fn stdin() -> Self {
        // SAFETY: descriptor 0 stays open for the life of the process.
        Fd(unsafe { BorrowedFd::borrow_raw(0) })
    }
}

impl Read for Fd<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // SAFETY: buf is writable for its length.
        let n = unsafe { libc::read(self.0.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n as usize)
    }
}

impl Input for Fd<'_> {
    fn ready(&self) -> bool {
        let mut pfd = libc::pollfd {
            fd: self.0.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // A file is always ready; a pipe or terminal when it has data or is closed. When
        // poll fails, assume a wait: the caller's flush is then merely early.
        // SAFETY: pfd is one valid pollfd.
        unsafe { libc::poll(&mut pfd, 1, 0) == 1 }
    }
}

/// Reads ipvsadm restore lines one at a time.
pub struct RestoreReader<R> {
    input: R,
    buf: Vec<u8>,
    /// Where the unread input starts and ends in `buf`.
    start: usize,
    end: usize,
    eof: bool,
    /// The current line's words, as ranges of `text` (after the UTF-8 repair, if any).
    words: Vec<Range<usize>>,
    /// The current line's words with invalid UTF-8 replaced, when the line needed that.
    repaired: String,
}

/// One line's words, borrowed from the reader until the next line is read.
#[derive(Debug)]
pub struct Line<'a> {
    text: &'a str,
    words: &'a [Range<usize>],
}

impl<'a> Line<'a> {
    /// The words, in order.
    pub fn words(&self) -> impl ExactSizeIterator<Item = &'a str> + '_ {
        self.words.iter().map(|r| &self.text[r.clone()])
    }
}

/// What [`split_line`] found.
struct Split {
    /// The line's length, without its newline.
    len: usize,
    /// Whether a newline ends it (otherwise it runs to the end of what was given).
    newline: bool,
}

/// Splits the line at the start of `input` into the ranges of its words (cut at
/// [`MAX_WORD`] bytes; `ipvsadm` left out), in the same pass that looks for its end.
fn split_line(input: &[u8], words: &mut Vec<Range<usize>>) -> Split {
    words.clear();
    let mut i = 0;
    loop {
        while i < input.len() && matches!(input[i], b' ' | b'\t' | b'\r') {
            i += 1;
        }
        if i == input.len() || input[i] == b'\n' {
            return Split {
                len: i,
                newline: i < input.len(),
            };
        }
        let start = i;
        while i < input.len() && !is_separator(input[i]) {
            i += 1;
        }
        let mut piece = start;
        while piece < i {
            let piece_end = (piece + MAX_WORD).min(i);
            // ipvsadm keeps each word as a C string: a NUL ends it (an empty word stays).
            let value_end = input[piece..piece_end]
                .iter()
                .position(|&b| b == 0)
                .map_or(piece_end, |nul| piece + nul);
            if &input[piece..value_end] != b"ipvsadm" {
                words.push(piece..value_end);
            }
            piece = piece_end;
        }
    }
}

impl<R: Input> RestoreReader<R> {
    /// Wraps a reader.
    pub fn new(input: R) -> Self {
        RestoreReader {
            input,
            buf: vec![0; BLOCK],
            start: 0,
            end: 0,
            eof: false,
            words: Vec::new(),
            repaired: String::new(),
        }
    }

    /// Reads more input after what is unread; false at the end of input. Calls `before_wait`
    /// first when the read would wait.
    fn fill(&mut self, before_wait: &mut dyn FnMut()) -> io::Result<bool> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        loop {
            if !self.input.ready() {
                before_wait();
            }
            match self.input.read(&mut self.buf[self.end..]) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads until the unread input holds a newline, or to the end of input.
    fn read_to_newline(&mut self, before_wait: &mut dyn FnMut()) -> io::Result<()> {
        loop {
            let scanned = self.end - self.start;
            if !self.fill(before_wait)? {
                self.eof = true;
                return Ok(());
            }
            if self.buf[self.start + scanned..self.end].contains(&b'\n') {
                return Ok(());
            }
        }
    }

    /// The next line's words (possibly none, for a blank line), or `None` at the end.
    ///
    /// `before_wait` is called before any read that would wait for more input (every time:
    /// it must be cheap when there is nothing to do). Lines already read are never held back
    /// behind such a read.
    pub fn next_line(&mut self, before_wait: &mut dyn FnMut()) -> io::Result<Option<Line<'_>>> {
        let mut split = split_line(&self.buf[self.start..self.end], &mut self.words);
        if !split.newline && !self.eof {
            self.read_to_newline(before_wait)?;
            split = split_line(&self.buf[self.start..self.end], &mut self.words);
        }
        let line_start = self.start;
        let line = line_start..line_start + split.len;
        if split.newline {
            self.start = line.end + 1;
        } else {
            self.start = self.end;
            let trailing = self.buf[line.clone()]
                .iter()
                .rev()
                .take_while(|b| is_separator(**b))
                .count();
            if trailing >= 2 || self.words.is_empty() {
                return Ok(None);
            }
        }
        let line = &self.buf[line];
        let text = if line.is_ascii() {
            // SAFETY: every byte of the line is below 0x80, so it is UTF-8.
            unsafe { std::str::from_utf8_unchecked(line) }
        } else {
            match std::str::from_utf8(line)
                .ok()
                .filter(|t| self.words.iter().all(|r| t.is_char_boundary(r.end)))
                .filter(|t| matches!(text::from_bytes(t.as_bytes()), Cow::Borrowed(_)))
            {
                Some(text) => text,
                None => {
                    // ipvsadm passes bytes through; Rust strings need valid UTF-8, so each
                    // word is carried as `text` carries bytes, on its own, as it was cut.
                    self.repaired.clear();
                    for r in self.words.iter_mut() {
                        let start = self.repaired.len();
                        match text::from_bytes(&line[r.clone()]) {
                            Cow::Borrowed(s) => self.repaired.push_str(s),
                            Cow::Owned(s) => self.repaired.push_str(&s),
                        }
                        *r = start..self.repaired.len();
                    }
                    &self.repaired
                }
            }
        };
        Ok(Some(Line {
            text,
            words: &self.words,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out its input a few bytes at a time, as a pipe may.
    struct Trickle<'a>(&'a [u8], usize);

    impl Input for Trickle<'_> {
        fn ready(&self) -> bool {
            true
        }
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn read_all(mut r: RestoreReader<impl Input>) -> Vec<Vec<String>> {
        let mut all = Vec::new();
        while let Some(l) = r.next_line(&mut || {}).unwrap() {
            all.push(l.words().map(String::from).collect());
        }
        all
    }

    fn lines(input: &str) -> Vec<Vec<String>> {
        let whole = read_all(RestoreReader::new(input.as_bytes()));
        for step in [1, 3, 7] {
            let trickled = read_all(RestoreReader::new(Trickle(input.as_bytes(), step)));
            assert_eq!(trickled, whole, "read {step} bytes at a time");
        }
        whole
    }

    /// Input arriving in pieces, with a wait before each piece but the first.
    struct Stalling {
        pieces: Vec<&'static [u8]>,
        fresh: bool,
    }

    impl Input for Stalling {
        fn ready(&self) -> bool {
            self.fresh || self.pieces.is_empty()
        }
    }

    impl Read for Stalling {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.pieces.is_empty() {
                return Ok(0);
            }
            let piece = self.pieces.remove(0);
            buf[..piece.len()].copy_from_slice(piece);
            self.fresh = false;
            Ok(piece.len())
        }
    }

    /// The caller hears of each wait after it has had every complete line read before it.
    #[test]
    fn the_caller_is_told_before_each_wait() {
        let mut r = RestoreReader::new(Stalling {
            pieces: vec![b"-A one\n-A two\n-A th", b"ree\n", b"-A four\n"],
            fresh: true,
        });
        let mut seen = Vec::new();
        let mut lines_at_wait = Vec::new();
        loop {
            let count = seen.len();
            let line = r.next_line(&mut || lines_at_wait.push(count)).unwrap();
            let Some(line) = line else { break };
            seen.push(line.words().collect::<Vec<_>>().join(" "));
        }
        assert_eq!(seen, ["-A one", "-A two", "-A three", "-A four"]);
        assert_eq!(lines_at_wait, [2, 3]);
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

    /// A NUL ends a word's value, as it ends ipvsadm's C string: the rest of the word is
    /// ignored, a word that starts with one is empty, and `ipvsadm\0x` is the program name.
    #[test]
    fn a_nul_byte_ends_a_word() {
        assert_eq!(
            lines("-A -t 10.0.0.1:80\0junk -s rr\n-A\0 -t 10.0.0.2:80\n\0x ipvsadm\0x -C\n"),
            vec![
                vec!["-A", "-t", "10.0.0.1:80", "-s", "rr"],
                vec!["-A", "-t", "10.0.0.2:80"],
                vec!["", "-C"],
            ]
        );
    }

    #[test]
    fn blank_and_whitespace_lines_are_empty_lines() {
        assert_eq!(
            lines("\n \t\r\n-C\n\n"),
            vec![vec![], vec![], vec!["-C".to_string()], vec![]]
        );
        assert_eq!(lines("ipvsadm\n"), vec![Vec::<String>::new()]);
        assert!(lines("").is_empty());
    }

    #[test]
    fn trailing_whitespace_at_end_of_input_loses_the_line() {
        assert_eq!(lines("-C\n-L  "), vec![vec!["-C".to_string()]]);
        assert_eq!(lines("-C\n-L \t"), vec![vec!["-C".to_string()]]);
        assert_eq!(
            lines("-C\n-L "),
            vec![vec!["-C".to_string()], vec!["-L".to_string()]]
        );
        assert_eq!(
            lines("-C\n -L  -n"),
            vec![
                vec!["-C".to_string()],
                vec!["-L".to_string(), "-n".to_string()]
            ]
        );
        assert_eq!(lines("-C\n "), vec![vec!["-C".to_string()]]);
    }

    #[test]
    fn trailing_whitespace_before_a_newline_is_harmless() {
        assert_eq!(
            lines("-C  \t\r\n-L"),
            vec![vec!["-C".to_string()], vec!["-L".to_string()]]
        );
    }

    #[test]
    fn only_dropped_words_end_the_input() {
        assert!(lines("ipvsadm").is_empty());
        assert!(lines("-C\nipvsadm ipvsadm").len() == 1);
        assert_eq!(lines("ipvsadm\n-C\n").len(), 2);
        assert_eq!(lines("-C ipvsadm"), vec![vec!["-C".to_string()]]);
    }

    #[test]
    fn long_words_are_split() {
        let long = "a".repeat(5000);
        let got = lines(&format!("{long}\n"));
        assert_eq!(got[0].len(), 2);
        assert_eq!(got[0][0].len(), 4096);
        assert_eq!(got[0][1].len(), 904);
        let exact = "b".repeat(2 * MAX_WORD);
        assert_eq!(lines(&format!("{exact} -n\n"))[0].len(), 3);
    }

    #[test]
    fn a_piece_of_a_long_word_can_be_the_program_name() {
        let word = format!("{}ipvsadm", "a".repeat(MAX_WORD));
        assert_eq!(
            lines(&format!("{word} -C\n")),
            vec![vec!["a".repeat(MAX_WORD), "-C".to_string()]]
        );
    }

    #[test]
    fn lines_longer_than_a_block_arrive_whole() {
        let words: Vec<String> = (0..20_000).map(|i| format!("w{i}")).collect();
        let input = format!("-C\n{}\n-L", words.join(" "));
        let got = read_all(RestoreReader::new(input.as_bytes()));
        assert!(input.len() > BLOCK);
        assert_eq!(got.len(), 3);
        assert_eq!(got[1], words);
        assert_eq!(got[2], vec!["-L"]);
    }

    /// Bytes that are not UTF-8 travel through unchanged (see `text`), word by word.
    #[test]
    fn invalid_utf8_is_carried_word_by_word() {
        let mut r = RestoreReader::new(&b"-s r\xffr -n\n-C\n"[..]);
        let l = r.next_line(&mut || {}).unwrap().unwrap();
        let words: Vec<_> = l.words().collect();
        assert_eq!((words[0], words[2]), ("-s", "-n"));
        assert_eq!(&*text::to_bytes(words[1]), b"r\xffr");
        let l = r.next_line(&mut || {}).unwrap().unwrap();
        assert_eq!(l.words().collect::<Vec<_>>(), vec!["-C"]);
        assert!(r.next_line(&mut || {}).unwrap().is_none());
    }

    /// A character cut by the word limit leaves each piece its own bytes.
    #[test]
    fn a_character_cut_by_the_word_limit_keeps_its_bytes() {
        let word = format!("{}é", "a".repeat(MAX_WORD - 1));
        let got = lines(&format!("{word}\n"));
        let bytes: Vec<Vec<u8>> = got[0]
            .iter()
            .map(|w| text::to_bytes(w).into_owned())
            .collect();
        assert_eq!(
            bytes,
            vec![
                word.as_bytes()[..MAX_WORD].to_vec(),
                word.as_bytes()[MAX_WORD..].to_vec()
            ]
        );
    }
}
