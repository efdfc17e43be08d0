//! Why a string is not a model value.

use std::fmt;

/// A string that is not the text form of a model value (`ServiceKey`, `Forwarding`,
/// `Scheduler`, ...): says what was being parsed, the input, and what is wrong with it.
///
/// ```
/// use ipvs_rs::ServiceKey;
/// let err = "tpc:10.0.0.1:80".parse::<ServiceKey>().unwrap_err();
/// assert_eq!(err.to_string(), "invalid service key `tpc:10.0.0.1:80`: unknown protocol `tpc` (tcp, udp, sctp or a protocol number)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    what: &'static str,
    input: String,
    reason: String,
}

impl ParseError {
    pub(crate) fn new(what: &'static str, input: &str, reason: impl Into<String>) -> Self {
        ParseError {
            what,
            input: input.to_owned(),
            reason: reason.into(),
        }
    }

    /// What was being parsed: `"service key"`, `"scheduler"`, ...
    pub fn what(&self) -> &'static str {
        self.what
    }

    /// The text that did not parse.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// What is wrong with it.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {} `{}`: {}", self.what, self.input, self.reason)
    }
}

impl std::error::Error for ParseError {}

/// Parses a decimal number for `what`, or says why not.
pub(crate) fn number<T: std::str::FromStr>(
    what: &'static str,
    whole: &str,
    part: &str,
    name: &str,
) -> Result<T, ParseError> {
    if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError::new(
            what,
            whole,
            format!("{name} `{part}` is not a decimal number"),
        ));
    }
    part.parse()
        .map_err(|_| ParseError::new(what, whole, format!("{name} `{part}` is out of range")))
}
