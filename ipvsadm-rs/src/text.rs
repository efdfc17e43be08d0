//! Arguments and input as ipvsadm sees them: bytes.
//!
//! ipvsadm echoes its arguments and `-R` words into messages byte for byte, whatever they are;
//! Rust strings hold UTF-8. So a byte that is not part of valid UTF-8 travels as a code point
//! of a private-use block (U+F700 plus the byte) and becomes that byte again on output. A
//! genuine code point of that block travels byte by byte the same way, so the mapping is
//! lossless both ways.

use std::borrow::Cow;
use std::io::{self, Write};

const BASE: u32 = 0xF700;

fn escaped(byte: u8) -> char {
    char::from_u32(BASE + u32::from(byte)).expect("U+F700..U+F7FF are scalar values")
}

fn is_escape(c: char) -> bool {
    (BASE..BASE + 0x100).contains(&u32::from(c))
}

/// `bytes` as a string that `text::to_bytes` turns back into exactly `bytes` (the program writes
/// its output through it).
pub fn from_bytes(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        if !text.chars().any(is_escape) {
            return Cow::Borrowed(text);
        }
    }
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if is_escape(c) {
                let mut utf8 = [0; 4];
                out.extend(c.encode_utf8(&mut utf8).bytes().map(escaped));
            } else {
                out.push(c);
            }
        }
        out.extend(chunk.invalid().iter().copied().map(escaped));
    }
    Cow::Owned(out)
}

/// The bytes `text` stands for (see [`from_bytes`]).
pub fn to_bytes(text: &str) -> Cow<'_, [u8]> {
    if !text.chars().any(is_escape) {
        return Cow::Borrowed(text.as_bytes());
    }
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        if is_escape(c) {
            out.push((u32::from(c) - BASE) as u8);
        } else {
            let mut utf8 = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
        }
    }
    Cow::Owned(out)
}

/// Writes `text` and a newline to stderr, with its bytes restored.
pub fn eprintln(text: &str) {
    let mut err = io::stderr().lock();
    let _ = err.write_all(&to_bytes(text));
    let _ = err.write_all(b"\n");
}

/// Writes `text` to stderr, with its bytes restored.
pub fn eprint(text: &str) {
    let _ = io::stderr().lock().write_all(&to_bytes(text));
}

/// A writer that restores the bytes of what is written to it (each write a whole string).
pub struct Restoring<W>(pub W);

impl<W: Write> Write for Restoring<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match std::str::from_utf8(buf) {
            Ok(text) => self.0.write_all(&to_bytes(text)),
            Err(_) => self.0.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn invalid_bytes_and_the_escape_block_survive_the_round_trip() {
        let bytes = b"-L \xff\xfe caf\xc3\xa9 \xef\x9c\x80 \xe2\x82".to_vec();
        let text = from_bytes(&bytes);
        assert!(text.contains("café"));
        assert_eq!(to_bytes(&text), &bytes[..]);
        assert!(matches!(from_bytes(b"plain"), Cow::Borrowed("plain")));
        assert!(matches!(to_bytes("plain"), Cow::Borrowed(b"plain")));
    }

    proptest! {
        #[test]
        fn any_bytes_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let text = from_bytes(&bytes);
            prop_assert_eq!(to_bytes(&text).into_owned(), bytes);
        }
    }
}
