//! Helpers shared by the attribute sets: nested lists, fixed-size values, strings.

use netlink_packet_core::{DecodeError, Emitable, NlaBuffer, NlasIterator, Parseable};

/// Parses every attribute of a nested attribute's payload.
pub(crate) fn parse_nested<T>(payload: &[u8]) -> Result<Vec<T>, DecodeError>
where
    T: for<'a> Parseable<NlaBuffer<&'a [u8]>>,
{
    NlasIterator::new(payload)
        .map(|nla| T::parse(&nla?))
        .collect()
}

/// The payload length of a nested attribute holding `nlas`.
pub(crate) fn nested_len<T: netlink_packet_core::Nla>(nlas: &[T]) -> usize {
    nlas.buffer_len()
}

/// Writes `nlas` into a nested attribute's payload.
pub(crate) fn emit_nested<T: netlink_packet_core::Nla>(nlas: &[T], buffer: &mut [u8]) {
    nlas.emit(buffer)
}

/// The payload as an array of exactly `N` bytes.
pub(crate) fn fixed<const N: usize>(payload: &[u8], what: &str) -> Result<[u8; N], DecodeError> {
    payload.try_into().map_err(|_| {
        DecodeError::from(format!("{what}: expected {N} bytes, got {}", payload.len()))
    })
}

/// The payload as a string, without its terminating NUL (and anything after one).
pub(crate) fn nul_string(payload: &[u8], what: &str) -> Result<String, DecodeError> {
    let end = payload
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(payload.len());
    String::from_utf8(payload[..end].to_vec())
        .map_err(|e| DecodeError::from(format!("{what}: invalid UTF-8: {e}")))
}

/// Writes `s` followed by a NUL, as the kernel's `NLA_NUL_STRING` policy requires.
pub(crate) fn emit_nul_string(s: &str, buffer: &mut [u8]) {
    buffer[..s.len()].copy_from_slice(s.as_bytes());
    buffer[s.len()] = 0;
}
