//! Decoding dump entries straight from a message's bytes.
//!
//! Dumps of large tables decode thousands of messages; these walk the attributes once and fill
//! the model without building the intermediate attribute lists.

use netlink_packet_core::{DecodeError, NlaBuffer, NlasIterator, Parseable, NLA_HEADER_SIZE};

use super::{DaemonAttr, DestAttr, ServiceAttr};
use crate::{AddressFamily, Daemon, Destination, Service};

const GENL_HDRLEN: usize = 4;
const CMD_ATTR_SERVICE: u16 = 1;
const CMD_ATTR_DEST: u16 = 2;
const CMD_ATTR_DAEMON: u16 = 3;

/// The payload of the first top-level attribute of `kind` in a generic-netlink message
/// (`genl` starts at the generic-netlink header).
fn top_level(genl: &[u8], kind: u16) -> Result<&[u8], DecodeError> {
    let attrs = genl
        .get(GENL_HDRLEN..)
        .ok_or_else(|| DecodeError::from("truncated message"))?;
    for nla in NlasIterator::new(attrs) {
        let nla: NlaBuffer<&[u8]> = nla?;
        if nla.kind() == kind {
            // NlasIterator checked that the length fits the buffer and covers the header.
            let len = usize::from(nla.length());
            return Ok(&nla.into_inner()[NLA_HEADER_SIZE..len]);
        }
    }
    Err(DecodeError::from(format!(
        "message without attribute {kind}"
    )))
}

/// The service in a message (`genl` starts at the generic-netlink header).
pub(crate) fn service_entry(genl: &[u8]) -> Result<Service, DecodeError> {
    let nested = top_level(genl, CMD_ATTR_SERVICE)?;
    ServiceAttr::service_from(NlasIterator::new(nested).map(|n| ServiceAttr::parse(&n?)))
}

/// The destination in a message of a service of `family`.
pub(crate) fn destination_entry(
    genl: &[u8],
    family: AddressFamily,
) -> Result<Destination, DecodeError> {
    let nested = top_level(genl, CMD_ATTR_DEST)?;
    DestAttr::destination_from(
        NlasIterator::new(nested).map(|n| DestAttr::parse(&n?)),
        family,
    )
}

/// The sync daemon in a message.
pub(crate) fn daemon_entry(genl: &[u8]) -> Result<Daemon, DecodeError> {
    let nested = top_level(genl, CMD_ATTR_DAEMON)?;
    let attrs = NlasIterator::new(nested)
        .map(|n| DaemonAttr::parse(&n?))
        .collect::<Result<Vec<_>, _>>()?;
    DaemonAttr::to_daemon(&attrs)
}

#[cfg(test)]
mod tests {
    use netlink_packet_core::ParseableParametrized;
    use netlink_packet_generic::GenlHeader;

    use super::*;
    use crate::wire::{CmdAttr, IpvsCmd, IpvsMessage};

    /// The direct decoders agree with the attribute lists on every entry the kernel sent in
    /// the captured listing.
    #[test]
    fn entries_decode_like_the_attribute_lists() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/list.hex");
        let text = std::fs::read_to_string(path).unwrap();
        let mut checked = 0;
        for line in text.lines().filter(|l| l.starts_with("< ")) {
            let bytes: Vec<u8> = (2..line.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&line[i..i + 2], 16).unwrap())
                .collect();
            if u16::from_ne_bytes([bytes[4], bytes[5]]) <= 0x10 {
                continue;
            }
            let genl = &bytes[16..];
            let header = GenlHeader::parse(genl).unwrap();
            let msg = IpvsMessage::parse_with_param(&genl[GENL_HDRLEN..], header).unwrap();
            for attr in msg.cmd_attrs() {
                match (msg.cmd, attr) {
                    (IpvsCmd::NewService, CmdAttr::Service(a)) => {
                        assert_eq!(
                            service_entry(genl).unwrap(),
                            ServiceAttr::to_service(a).unwrap()
                        );
                        checked += 1;
                    }
                    (IpvsCmd::NewDest, CmdAttr::Dest(a)) => {
                        let family = AddressFamily::Inet6;
                        assert_eq!(
                            destination_entry(genl, family).unwrap(),
                            DestAttr::to_destination(a, family).unwrap()
                        );
                        checked += 1;
                    }
                    _ => {}
                }
            }
        }
        assert!(checked >= 10, "only {checked} entries checked");
        assert!(service_entry(&[1, 1, 0, 0]).is_err());
        assert!(destination_entry(&[], AddressFamily::Inet).is_err());
    }
}
