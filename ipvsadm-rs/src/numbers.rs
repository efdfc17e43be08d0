//! Number parsing with C's `strtol` rules, which ipvsadm's validation inherits.
//!
//! `strtol` skips leading white space, takes a sign, and saturates (with ERANGE) outside
//! `long`; ipvsadm then demands that the whole string was used. So `" 80"` and `"+80"` are
//! valid ports and `"80 "` is not.

/// What C's `strtol(s, &end, 10)` does: the value, whether it overflowed, and how many
/// bytes it used (0 when there were no digits).
pub fn strtol(s: &str) -> (i64, bool, usize) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let mut negative = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        negative = b[i] == b'-';
        i += 1;
    }
    let digits_start = i;
    let mut value: i128 = 0;
    let mut overflow = false;
    while i < b.len() && b[i].is_ascii_digit() {
        if !overflow {
            value = value * 10 + i128::from(b[i] - b'0');
            if value > i128::from(i64::MAX) + 1 {
                overflow = true;
            }
        }
        i += 1;
    }
    if i == digits_start {
        return (0, false, 0);
    }
    let signed = if negative { -value } else { value };
    if overflow || signed > i128::from(i64::MAX) || signed < i128::from(i64::MIN) {
        let saturated = if negative { i64::MIN } else { i64::MAX };
        return (saturated, true, i);
    }
    (signed as i64, false, i)
}

/// ipvsadm's `string_to_number`: the whole string must be a number within `min..=max`.
pub fn string_to_number(s: &str, min: i64, max: i64) -> Option<i64> {
    let (n, overflow, used) = strtol(s);
    (used != 0 && used == s.len() && !overflow && (min..=max).contains(&n)).then_some(n)
}

/// C's `atoi`: `strtol` truncated to `int`, garbage after the digits ignored.
pub fn atoi(s: &str) -> i32 {
    strtol(s).0 as i32
}

/// ipvsadm's fwmark rule: a whole number in 1..=4294967295.
pub fn parse_fwmark(s: &str) -> Option<u32> {
    let (n, overflow, used) = strtol(s);
    if used == 0 || used != s.len() || overflow {
        return None;
    }
    // ipvsadm stores strtol's result in an unsigned long, so negatives become huge.
    let unsigned = n as u64;
    (unsigned != 0 && unsigned <= u64::from(u32::MAX)).then_some(unsigned as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtol_rules() {
        assert_eq!(strtol(" +42x"), (42, false, 4));
        assert_eq!(strtol("-0"), (0, false, 2));
        assert_eq!(strtol("x"), (0, false, 0));
        assert_eq!(strtol("-"), (0, false, 0));
        assert_eq!(strtol("99999999999999999999"), (i64::MAX, true, 20));
        assert_eq!(strtol("-99999999999999999999"), (i64::MIN, true, 21));
    }

    #[test]
    fn string_to_number_needs_the_whole_string() {
        assert_eq!(string_to_number(" 80", 0, 65535), Some(80));
        assert_eq!(string_to_number("80 ", 0, 65535), None);
        assert_eq!(string_to_number("", 0, 65535), None);
        assert_eq!(string_to_number("65536", 0, 65535), None);
        assert_eq!(string_to_number("-0", 0, 65535), Some(0));
        assert_eq!(
            string_to_number("2147483647", 0, i64::from(i32::MAX)),
            Some(2147483647)
        );
    }

    #[test]
    fn fwmark_range() {
        assert_eq!(parse_fwmark("1"), Some(1));
        assert_eq!(parse_fwmark("4294967295"), Some(u32::MAX));
        assert_eq!(parse_fwmark("4294967296"), None);
        assert_eq!(parse_fwmark("0"), None);
        assert_eq!(parse_fwmark("-1"), None);
        assert_eq!(parse_fwmark("1x"), None);
    }

    #[test]
    fn atoi_truncates() {
        assert_eq!(atoi("64abc"), 64);
        assert_eq!(atoi("abc"), 0);
        assert_eq!(atoi("4294967360"), 64);
    }
}
