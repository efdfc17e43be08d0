//! A command-line scanner with popt 1.19's rules, the library ipvsadm 1.31 parses with.
//!
//! ipvsadm interleaves scanning and checking (an option's value is checked as soon as the
//! option is seen, before later options are looked at), so the scanner is pulled one option
//! at a time. Rules kept from popt: short options cluster (`-Ln`) and take the rest of the
//! cluster as their argument (`-t10.0.0.1:80`, `-p=60`); long options take `--name=value`
//! or the next word; a required argument is the next word whatever it looks like; an
//! optional one only when that word does not start with `-`; `--` ends the options; words
//! that are not options are kept as leftovers, in order; no abbreviations and no
//! single-dash long options; `!#:+` inside an option's argument is replaced by the next word
//! that does not start with `-`, which is then skipped.

use std::borrow::Cow;

use crate::options::{self, ArgKind, OptSpec};

/// popt's error codes, with popt's wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanErrorKind {
    /// POPT_ERROR_NOARG
    MissingArgument,
    /// POPT_ERROR_UNWANTEDARG
    UnwantedArgument,
    /// POPT_ERROR_BADOPT
    UnknownOption,
}

impl ScanErrorKind {
    /// What `poptStrerror` says.
    pub fn message(self) -> &'static str {
        match self {
            Self::MissingArgument => "missing argument",
            Self::UnwantedArgument => "option does not take an argument",
            Self::UnknownOption => "unknown option",
        }
    }
}

/// A scanning error and the word popt blames (`poptBadOption`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanError {
    /// What went wrong.
    pub kind: ScanErrorKind,
    /// The last word consumed when it went wrong.
    pub bad_option: String,
}

/// One step of the scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scanned<'a> {
    /// An option and its argument, if it took one (borrowed from the argument vector unless
    /// a `!#:+` expansion made a new one).
    Opt(&'static OptSpec, Option<Cow<'a, str>>),
    /// No more options.
    End,
}

/// Pulls options out of an argument vector whose first element is the program name.
#[derive(Debug)]
pub struct Scanner<'a, S> {
    argv: &'a [S],
    next: usize,
    /// The unscanned tail of a short-option cluster: (word index, byte offset).
    cluster: Option<(usize, usize)>,
    rest_are_leftovers: bool,
    leftovers: Vec<&'a str>,
    next_leftover: usize,
    /// Words consumed by a `!#:+` expansion (empty until the first expansion).
    taken: Vec<bool>,
}

impl<'a, S: AsRef<str>> Scanner<'a, S> {
    /// Starts scanning after `argv[0]`.
    pub fn new(argv: &'a [S]) -> Self {
        Scanner {
            argv,
            next: 1,
            cluster: None,
            rest_are_leftovers: false,
            leftovers: Vec::new(),
            next_leftover: 0,
            taken: Vec::new(),
        }
    }

    fn word(&self, i: usize) -> &'a str {
        self.argv[i].as_ref()
    }

    fn is_taken(&self, i: usize) -> bool {
        self.taken.get(i).copied().unwrap_or(false)
    }

    fn error(&self, kind: ScanErrorKind) -> ScanError {
        let bad_option = self
            .argv
            .get(self.next.wrapping_sub(1))
            .map(|w| w.as_ref().to_string())
            .unwrap_or_default();
        ScanError { kind, bad_option }
    }

    /// The next option, or the end, or popt's error.
    pub fn next_opt(&mut self) -> Result<Scanned<'a>, ScanError> {
        loop {
            let mut long_arg: Option<&'a str> = None;
            let spec: &'static OptSpec;
            if let Some((word, offset)) = self.cluster.take() {
                let rest = &self.word(word)[offset..];
                let c = rest.chars().next().unwrap_or('\0');
                spec =
                    options::by_short(c).ok_or_else(|| self.error(ScanErrorKind::UnknownOption))?;
                let after = offset + c.len_utf8();
                if after < self.word(word).len() {
                    self.cluster = Some((word, after));
                }
            } else {
                if self.next >= self.argv.len() {
                    return Ok(Scanned::End);
                }
                let word_index = self.next;
                let word = self.word(word_index);
                self.next += 1;
                if self.is_taken(word_index) {
                    continue;
                }
                if self.rest_are_leftovers || !word.starts_with('-') || word == "-" {
                    self.leftovers.push(word);
                    continue;
                }
                if word == "--" {
                    self.rest_are_leftovers = true;
                    continue;
                }
                if let Some(long) = word.strip_prefix("--") {
                    let (name, value) = match long.split_once('=') {
                        Some((n, v)) => (n, Some(v)),
                        None => (long, None),
                    };
                    spec = options::by_long(name)
                        .ok_or_else(|| self.error(ScanErrorKind::UnknownOption))?;
                    long_arg = value;
                } else {
                    self.cluster = Some((word_index, 1));
                    continue;
                }
            }
            let arg = self.finish(spec, long_arg)?;
            return Ok(Scanned::Opt(spec, arg.map(|a| self.expand(a))));
        }
    }

    fn finish(
        &mut self,
        spec: &'static OptSpec,
        long_arg: Option<&'a str>,
    ) -> Result<Option<&'a str>, ScanError> {
        if spec.kind == ArgKind::None {
            let cluster_has_equals = self
                .cluster
                .is_some_and(|(w, o)| self.word(w)[o..].starts_with('='));
            if long_arg.is_some() || cluster_has_equals {
                return Err(self.error(ScanErrorKind::UnwantedArgument));
            }
            return Ok(None);
        }
        if long_arg.is_some() {
            return Ok(long_arg);
        }
        if let Some((w, o)) = self.cluster.take() {
            let rest = &self.word(w)[o..];
            return Ok(Some(rest.strip_prefix('=').unwrap_or(rest)));
        }
        match self.argv.get(self.next).map(AsRef::as_ref) {
            None if spec.kind == ArgKind::Optional => Ok(None),
            None => Err(self.error(ScanErrorKind::MissingArgument)),
            Some(w) if spec.kind == ArgKind::Optional && w.starts_with('-') => Ok(None),
            Some(w) => {
                self.next += 1;
                Ok(Some(w))
            }
        }
    }

    /// popt's `expandNextArg`: every `!#:+` becomes the next word that does not start with
    /// `-` (and that word is not scanned again); left as is when there is none.
    fn expand(&mut self, arg: &'a str) -> Cow<'a, str> {
        const MARK: &str = "!#:+";
        // Nearly every argument has no `!` at all; a byte scan says so cheaply.
        if !arg.bytes().any(|b| b == b'!') || !arg.contains(MARK) {
            return Cow::Borrowed(arg);
        }
        let found = (self.next..self.argv.len())
            .find(|&i| !self.is_taken(i) && !self.word(i).starts_with('-'));
        match found {
            Some(i) => {
                if self.taken.is_empty() {
                    self.taken = vec![false; self.argv.len()];
                }
                self.taken[i] = true;
                Cow::Owned(arg.replace(MARK, self.word(i)))
            }
            None => Cow::Borrowed(arg),
        }
    }

    /// The word popt would blame now (`poptBadOption`): the last word consumed.
    pub fn bad_option(&self) -> String {
        self.error(ScanErrorKind::UnknownOption).bad_option
    }

    /// The next word that was not an option (`poptGetArg`).
    pub fn next_leftover(&mut self) -> Option<&'a str> {
        let word = self.leftovers.get(self.next_leftover).copied();
        if word.is_some() {
            self.next_leftover += 1;
        }
        word
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Tag;

    fn argv(words: &[&str]) -> Vec<String> {
        std::iter::once("ipvsadm")
            .chain(words.iter().copied())
            .map(String::from)
            .collect()
    }

    type Scan = (Vec<(Tag, Option<String>)>, Option<ScanError>, Vec<String>);

    fn scan_all(words: &[&str]) -> Scan {
        let argv = argv(words);
        let mut s = Scanner::new(&argv);
        let mut got = Vec::new();
        let err = loop {
            match s.next_opt() {
                Ok(Scanned::Opt(spec, arg)) => got.push((spec.tag, arg.map(Cow::into_owned))),
                Ok(Scanned::End) => break None,
                Err(e) => break Some(e),
            }
        };
        let mut left = Vec::new();
        while let Some(w) = s.next_leftover() {
            left.push(w.to_string());
        }
        (got, err, left)
    }

    #[test]
    fn clustered_short_options() {
        let (got, err, _) = scan_all(&["-Ln"]);
        assert_eq!(got, vec![(Tag::List, None), (Tag::Numeric, None)]);
        assert!(err.is_none());
    }

    #[test]
    fn attached_and_separate_arguments() {
        let (got, _, _) = scan_all(&["-At10.0.0.1:80", "-s", "rr", "--scheduler=wrr", "-p=30"]);
        assert_eq!(
            got,
            vec![
                (Tag::AddService, None),
                (Tag::TcpService, Some("10.0.0.1:80".into())),
                (Tag::Scheduler, Some("rr".into())),
                (Tag::Scheduler, Some("wrr".into())),
                (Tag::Persistent, Some("30".into())),
            ]
        );
    }

    #[test]
    fn optional_argument_skips_dash_words() {
        let (got, _, _) = scan_all(&["-A", "-p", "-t", "1.2.3.4:80", "-p", "60", "-p"]);
        assert_eq!(got[1], (Tag::Persistent, None));
        assert_eq!(got[3], (Tag::Persistent, Some("60".into())));
        assert_eq!(got[4], (Tag::Persistent, None));
    }

    #[test]
    fn required_argument_takes_a_dash_word() {
        let (got, _, _) = scan_all(&["-w", "-5"]);
        assert_eq!(got, vec![(Tag::Weight, Some("-5".into()))]);
    }

    #[test]
    fn errors_blame_the_last_consumed_word() {
        let (_, err, _) = scan_all(&["-A", "-t"]);
        assert_eq!(
            err,
            Some(ScanError {
                kind: ScanErrorKind::MissingArgument,
                bad_option: "-t".into()
            })
        );
        let (_, err, _) = scan_all(&["-Lq"]);
        assert_eq!(err.unwrap().bad_option, "-Lq");
        let (_, err, _) = scan_all(&["-L", "--nope"]);
        assert_eq!(err.unwrap().kind, ScanErrorKind::UnknownOption);
        let (_, err, _) = scan_all(&["--list=3"]);
        assert_eq!(err.unwrap().kind, ScanErrorKind::UnwantedArgument);
        let (_, err, _) = scan_all(&["-L=3"]);
        assert_eq!(err.unwrap().kind, ScanErrorKind::UnwantedArgument);
    }

    #[test]
    fn no_abbreviations_and_no_single_dash_long_names() {
        let (_, err, _) = scan_all(&["--lis"]);
        assert_eq!(err.unwrap().kind, ScanErrorKind::UnknownOption);
        let (got, err, _) = scan_all(&["-list"]);
        assert_eq!(
            got,
            vec![
                (Tag::List, None),
                (Tag::Ipip, None),
                (Tag::Scheduler, Some("t".into()))
            ]
        );
        assert!(err.is_none());
    }

    #[test]
    fn next_word_expansion() {
        let (got, err, left) = scan_all(&["-s", "x!#:+y", "-n", "rr", "tail"]);
        assert!(err.is_none());
        assert_eq!(
            got,
            vec![(Tag::Scheduler, Some("xrry".into())), (Tag::Numeric, None)]
        );
        assert_eq!(left, vec!["tail"]);
        let (got, _, _) = scan_all(&["-s", "!#:+"]);
        assert_eq!(got, vec![(Tag::Scheduler, Some("!#:+".into()))]);
    }

    #[test]
    fn leftovers_and_double_dash() {
        let (got, err, left) = scan_all(&["--set", "1", "-", "2", "--", "-3", "-L"]);
        assert_eq!(got, vec![(Tag::Set, None)]);
        assert!(err.is_none());
        assert_eq!(left, vec!["1", "-", "2", "-3", "-L"]);
    }
}
