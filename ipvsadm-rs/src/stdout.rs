//! Standard output: buffered as C's stdio buffers it, with write errors kept for the end.
//!
//! ipvsadm never checks its writes, so a listing to a full disk or to a closed pipe (with
//! SIGPIPE ignored) ends with status 0 and nothing said. ipvsadm-rs deliberately reports them,
//! the same way whatever the output's size: the run goes on as ipvsadm's does (a state change
//! is still made, later lines of `-R` still run), the first error is remembered, and at the
//! end one message names it and the status is 1 (see docs/ipvsadm-rs.md).

use std::io::{self, BufWriter, IsTerminal, Write};

use crate::text::Restoring;

/// The C library's buffer for a stdout that is not a terminal.
const STDIO_BUFFER: usize = 4096;

/// A writer that swallows its first error, and everything after it, for [`Output::finish`].
pub struct Sticky<W> {
    inner: W,
    error: Option<io::Error>,
}

impl<W: Write> Sticky<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        Sticky { inner, error: None }
    }

    fn keep(&mut self, result: io::Result<()>) {
        if let Err(e) = result {
            self.error.get_or_insert(e);
        }
    }
}

impl<W: Write> Write for Sticky<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        if self.error.is_none() {
            let result = self.inner.write_all(buf);
            self.keep(result);
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.error.is_none() {
            let result = self.inner.flush();
            self.keep(result);
        }
        Ok(())
    }
}

/// The process's standard output.
pub enum Output<W: Write> {
    /// A terminal: each write goes out at once (the standard library buffers by line).
    Terminal(Restoring<Sticky<W>>),
    /// Anything else: 4 KiB blocks.
    Blocks(BufWriter<Restoring<Sticky<W>>>),
}

impl Output<io::StdoutLock<'static>> {
    /// Standard output, buffered for what it is.
    pub fn stdout() -> Self {
        let stdout = io::stdout();
        let terminal = stdout.is_terminal();
        Output::new(stdout.lock(), terminal)
    }
}

impl<W: Write> Output<W> {
    /// `inner`, buffered by line (`terminal`) or in blocks.
    pub fn new(inner: W, terminal: bool) -> Self {
        let sticky = Restoring(Sticky::new(inner));
        if terminal {
            Output::Terminal(sticky)
        } else {
            Output::Blocks(BufWriter::with_capacity(STDIO_BUFFER, sticky))
        }
    }

    /// Writes out what is buffered; returns the first error of the whole run, if any.
    pub fn finish(mut self) -> Option<io::Error> {
        let _ = self.flush();
        let sticky = match &mut self {
            Output::Terminal(r) => &mut r.0,
            Output::Blocks(b) => &mut b.get_mut().0,
        };
        sticky.error.take()
    }
}

impl<W: Write> Write for Output<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::Terminal(w) => w.write(buf),
            Output::Blocks(w) => w.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Output::Terminal(w) => w.write_all(buf),
            Output::Blocks(w) => w.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Terminal(w) => w.flush(),
            Output::Blocks(w) => w.flush(),
        }
    }
}

/// The message for a write error: the program name, as ipvsadm starts its own, and the C
/// library's wording of the error.
pub fn write_error_message(program: &str, err: &io::Error) -> String {
    let reason = match err.raw_os_error() {
        // SAFETY: strerror returns a valid NUL-terminated string for any errno.
        Some(errno) => unsafe { std::ffi::CStr::from_ptr(libc::strerror(errno)) }
            .to_string_lossy()
            .into_owned(),
        None => err.to_string(),
    };
    format!("{program}: write error: {reason}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes `room` bytes, then fails every write and flush as a full disk does.
    struct Full {
        room: usize,
        written: Vec<u8>,
    }

    impl Write for Full {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(io::Error::from_raw_os_error(libc::ENOSPC));
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            self.written.extend_from_slice(&buf[..n]);
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn run(out_len: usize, terminal: bool) -> Option<io::Error> {
        let mut out = Output::new(
            Full {
                room: 100,
                written: Vec::new(),
            },
            terminal,
        );
        for _ in 0..out_len / 10 {
            out.write_all(b"123456789\n")
                .expect("errors are kept, not returned");
        }
        out.finish()
    }

    /// Small outputs fail only at the final flush, large ones on the way: the same error.
    #[test]
    fn the_first_error_is_kept_whatever_the_size() {
        for terminal in [false, true] {
            for size in [200, 100_000] {
                let err = run(size, terminal).expect("a full disk is reported");
                assert_eq!(err.raw_os_error(), Some(libc::ENOSPC), "{size} {terminal}");
            }
            assert!(run(100, terminal).is_none(), "what fits is no error");
        }
    }

    #[test]
    fn the_message_names_the_program_and_the_error() {
        assert_eq!(
            write_error_message("ipvsadm", &io::Error::from_raw_os_error(libc::EPIPE)),
            "ipvsadm: write error: Broken pipe"
        );
    }
}
