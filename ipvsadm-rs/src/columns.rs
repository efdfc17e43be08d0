//! Numbers and padded columns written straight into listing text, as C's `printf` writes
//! `%s`, `%-10s` and `%8s` in ipvsadm, without a temporary string per field.

/// A number's decimal digits, on the stack.
pub struct Decimal {
    buf: [u8; 20],
    start: usize,
}

impl Decimal {
    /// `n` in decimal.
    pub fn unsigned(mut n: u64) -> Self {
        let mut d = Decimal {
            buf: [0; 20],
            start: 20,
        };
        loop {
            d.start -= 1;
            d.buf[d.start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                return d;
            }
        }
    }

    /// `n` in decimal, with a `-` when negative.
    pub fn signed(n: i64) -> Self {
        let mut d = Decimal::unsigned(n.unsigned_abs());
        if n < 0 {
            // 19 digits at most, so there is room for the sign.
            d.start -= 1;
            d.buf[d.start] = b'-';
        }
        d
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        // SAFETY: only ASCII digits and `-` are ever written to the buffer.
        unsafe { std::str::from_utf8_unchecked(&self.buf[self.start..]) }
    }
}

/// Blanks `text` needs to fill `width` columns. `printf` counts bytes, not characters, so a
/// host name from /etc/hosts with non-ASCII letters gets fewer blanks than it has letters less
/// than `width`, in ipvsadm and here alike.
fn blanks(text: &str, width: usize) -> usize {
    width.saturating_sub(text.len())
}

fn spaces(out: &mut String, mut n: usize) {
    const SPACES: &str = "                                ";
    while n > 0 {
        let chunk = n.min(SPACES.len());
        out.push_str(&SPACES[..chunk]);
        n -= chunk;
    }
}

/// `text` left-aligned in `width` columns (`{:<width}`).
pub fn left(out: &mut String, text: &str, width: usize) {
    out.push_str(text);
    spaces(out, blanks(text, width));
}

/// `text` right-aligned in `width` columns (`{:>width}`).
pub fn right(out: &mut String, text: &str, width: usize) {
    spaces(out, blanks(text, width));
    out.push_str(text);
}

/// An unsigned number left-aligned in `width` columns.
pub fn left_number(out: &mut String, n: u64, width: usize) {
    let digits = Decimal::unsigned(n);
    out.push_str(digits.as_str());
    spaces(out, width.saturating_sub(digits.as_str().len()));
}

/// A signed number left-aligned in `width` columns.
pub fn left_signed(out: &mut String, n: i64, width: usize) {
    let digits = Decimal::signed(n);
    out.push_str(digits.as_str());
    spaces(out, width.saturating_sub(digits.as_str().len()));
}

/// An unsigned number right-aligned in `width` columns.
pub fn right_number(out: &mut String, n: u64, width: usize) {
    let digits = Decimal::unsigned(n);
    spaces(out, width.saturating_sub(digits.as_str().len()));
    out.push_str(digits.as_str());
}

/// An unsigned number, unpadded.
pub fn number(out: &mut String, n: u64) {
    out.push_str(Decimal::unsigned(n).as_str());
}

/// A signed number, unpadded.
pub fn signed(out: &mut String, n: i64) {
    out.push_str(Decimal::signed(n).as_str());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_match_display() {
        let unsigned = [0, 1, 9, 10, 99, 100, 65535, u64::from(u32::MAX), u64::MAX];
        for n in unsigned {
            assert_eq!(Decimal::unsigned(n).as_str(), n.to_string());
        }
        let signed = [0, -1, 1, -10, i64::from(i32::MIN), i64::MIN, i64::MAX];
        for n in signed {
            assert_eq!(Decimal::signed(n).as_str(), n.to_string());
        }
    }

    #[test]
    fn columns_match_format() {
        let wide = "w".repeat(70);
        let cases = [
            ("ab", 5),
            ("abcdef", 3),
            ("", 2),
            ("é", 3),
            ("x", 0),
            ("y", 80),
            (&wide, 100),
        ];
        for (text, width) in cases {
            // format! pads by characters, printf by bytes: the same for ASCII.
            let chars: usize = width;
            let chars = chars.saturating_sub(text.len() - text.chars().count());
            let mut l = String::from(">");
            left(&mut l, text, width);
            assert_eq!(l, format!(">{text:<chars$}"));
            let mut r = String::from(">");
            right(&mut r, text, width);
            assert_eq!(r, format!(">{text:>chars$}"));
        }
        let mut l = String::new();
        left(&mut l, "café", 6);
        assert_eq!(l, "café ", "five bytes, one blank, as printf(\"%-6s\")");
        let mut s = String::new();
        left_number(&mut s, 42, 6);
        left_signed(&mut s, -7, 4);
        right_number(&mut s, 12345, 8);
        left_number(&mut s, 1, 40);
        right_number(&mut s, 2, 40);
        left_signed(&mut s, i64::MIN, 3);
        number(&mut s, 5);
        signed(&mut s, -5);
        assert_eq!(
            s,
            format!(
                "{:<6}{:<4}{:>8}{:<40}{:>40}{:<3}5-5",
                42,
                -7,
                12345,
                1,
                2,
                i64::MIN
            )
        );
    }
}
