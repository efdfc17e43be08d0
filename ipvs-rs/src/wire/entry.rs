//! Decoding dump entries straight from a message's bytes.
//!
//! Listings of large tables decode hundreds of thousands of attributes. These decoders walk
//! each message once and fill the model directly: no attribute enums, no nested vectors for the
//! statistics. They must agree with [`ServiceAttr::to_service`] and
//! [`DestAttr::to_destination`] on every input (the tests below hold them to that), including
//! their error messages; attributes the model has no place for are skipped, as there.

use netlink_packet_core::{DecodeError, NlasIterator, Parseable, NLA_TYPE_MASK};

use super::dest_attr::DestFields;
use super::nested::{fixed, nul_string};
use super::service_attr::ServiceFields;
use super::{dest_attr as dest, service_attr as svc, stats_attr as stats, DaemonAttr};
use crate::{
    AddressFamily, Daemon, Destination, Protocol, Scheduler, Service, Stats, TunnelFlags,
    TunnelType,
};

const GENL_HDRLEN: usize = 4;
const NLA_HDRLEN: usize = 4;
const CMD_ATTR_SERVICE: u16 = 1;
const CMD_ATTR_DEST: u16 = 2;
const CMD_ATTR_DAEMON: u16 = 3;

/// The attributes of a payload as `(kind, value)` pairs, checked like [`NlasIterator`] checks
/// them (a header that does not fit, or a length outside the payload, is an error).
struct Attrs<'a> {
    rest: &'a [u8],
}

impl<'a> Attrs<'a> {
    fn new(payload: &'a [u8]) -> Self {
        Attrs { rest: payload }
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Result<(u16, &'a [u8]), DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.rest;
        if rest.is_empty() {
            return None;
        }
        let (len, kind) = match rest {
            [l0, l1, k0, k1, ..] => (
                usize::from(u16::from_ne_bytes([*l0, *l1])),
                u16::from_ne_bytes([*k0, *k1]) & NLA_TYPE_MASK,
            ),
            _ => {
                self.rest = &[];
                return Some(Err(DecodeError::from("truncated attribute header")));
            }
        };
        if len < NLA_HDRLEN || len > rest.len() {
            self.rest = &[];
            return Some(Err(DecodeError::from(format!(
                "attribute length {len} outside a payload of {}",
                rest.len()
            ))));
        }
        self.rest = rest.get((len + 3) & !3..).unwrap_or(&[]);
        Some(Ok((kind, &rest[NLA_HDRLEN..len])))
    }
}

/// The payload of the first top-level attribute of `kind` in a generic-netlink message
/// (`genl` starts at the generic-netlink header).
fn top_level(genl: &[u8], kind: u16) -> Result<&[u8], DecodeError> {
    let attrs = genl
        .get(GENL_HDRLEN..)
        .ok_or_else(|| DecodeError::from("truncated message"))?;
    for attr in Attrs::new(attrs) {
        let (k, value) = attr?;
        if k == kind {
            return Ok(value);
        }
    }
    Err(DecodeError::from(format!(
        "message without attribute {kind}"
    )))
}

/// A nested statistics set, 32- or 64-bit counters alike.
fn stats_entry(payload: &[u8]) -> Result<Stats, DecodeError> {
    let mut s = Stats::default();
    for attr in Attrs::new(payload) {
        let (kind, value) = attr?;
        let field = match kind {
            stats::CONNS => &mut s.conns,
            stats::INPKTS => &mut s.in_pkts,
            stats::OUTPKTS => &mut s.out_pkts,
            stats::INBYTES => &mut s.in_bytes,
            stats::OUTBYTES => &mut s.out_bytes,
            stats::CPS => &mut s.cps,
            stats::INPPS => &mut s.in_pps,
            stats::OUTPPS => &mut s.out_pps,
            stats::INBPS => &mut s.in_bps,
            stats::OUTBPS => &mut s.out_bps,
            _ => continue,
        };
        *field = match value.len() {
            4 => u64::from(u32::from_ne_bytes(fixed(value, "stats counter")?)),
            _ => u64::from_ne_bytes(fixed(value, "stats counter")?),
        };
    }
    Ok(s)
}

/// The service in a message (`genl` starts at the generic-netlink header).
pub(crate) fn service_entry(genl: &[u8]) -> Result<Service, DecodeError> {
    let mut f = ServiceFields::default();
    for attr in Attrs::new(top_level(genl, CMD_ATTR_SERVICE)?) {
        let (kind, p) = attr?;
        let u16_of = |what| fixed(p, what).map(u16::from_ne_bytes);
        let u32_of = |what| fixed(p, what).map(u32::from_ne_bytes);
        match kind {
            svc::AF => f.af = Some(AddressFamily::from(u16_of("service family")?)),
            svc::PROTOCOL => f.protocol = Some(Protocol::from(u16_of("service protocol")?)),
            svc::ADDR => f.addr = Some(fixed(p, "service address")?),
            svc::PORT => f.port = Some(u16::from_be_bytes(fixed(p, "service port")?)),
            svc::FWMARK => f.fwmark = Some(u32_of("service fwmark")?),
            svc::SCHED_NAME => {
                f.scheduler = Some(Scheduler::from_name(&nul_string(p, "scheduler name")?))
            }
            svc::FLAGS => {
                let raw: [u8; 8] = fixed(p, "service flags")?;
                let flags = u32::from_ne_bytes(fixed(&raw[..4], "service flags")?);
                let mask = u32::from_ne_bytes(fixed(&raw[4..], "service flag mask")?);
                f.flags = flags & mask;
            }
            svc::TIMEOUT => f.timeout = u32_of("service timeout")?,
            svc::NETMASK => f.netmask = Some(u32_of("service netmask")?),
            svc::STATS => f.stats32 = Some(stats_entry(p)?),
            svc::PE_NAME => f.pe_name = Some(nul_string(p, "persistence engine name")?),
            svc::STATS64 => f.stats64 = Some(stats_entry(p)?),
            _ => {}
        }
    }
    f.finish()
}

/// The destination in a message of a service of `family`.
pub(crate) fn destination_entry(
    genl: &[u8],
    service_family: AddressFamily,
) -> Result<Destination, DecodeError> {
    let mut f = DestFields::new(service_family);
    for attr in Attrs::new(top_level(genl, CMD_ATTR_DEST)?) {
        let (kind, p) = attr?;
        let u32_of = |what| fixed(p, what).map(u32::from_ne_bytes);
        let d = &mut f.dest;
        match kind {
            dest::ADDR => f.addr = Some(fixed(p, "destination address")?),
            dest::PORT => f.port = Some(u16::from_be_bytes(fixed(p, "destination port")?)),
            dest::FWD_METHOD => f.method = Some(u32_of("forwarding method")?),
            dest::WEIGHT => d.weight = i32::from_ne_bytes(fixed(p, "weight")?),
            dest::U_THRESH => d.upper_threshold = u32_of("upper threshold")?,
            dest::L_THRESH => d.lower_threshold = u32_of("lower threshold")?,
            dest::ACTIVE_CONNS => d.active_conns = u32_of("active connections")?,
            dest::INACT_CONNS => d.inactive_conns = u32_of("inactive connections")?,
            dest::PERSIST_CONNS => d.persist_conns = u32_of("persistent connections")?,
            dest::STATS => f.stats32 = Some(stats_entry(p)?),
            dest::ADDR_FAMILY => {
                f.family = AddressFamily::from(u16::from_ne_bytes(fixed(p, "family")?))
            }
            dest::STATS64 => f.stats64 = Some(stats_entry(p)?),
            dest::TUN_TYPE => f.tunnel.kind = TunnelType::from(fixed::<1>(p, "tunnel type")?[0]),
            dest::TUN_PORT => {
                let v = u16::from_be_bytes(fixed(p, "tunnel port")?);
                f.tunnel.port = (v != 0).then_some(v);
            }
            dest::TUN_FLAGS => {
                let v = u16::from_ne_bytes(fixed(p, "tunnel flags")?);
                f.tunnel.flags = TunnelFlags::from_bits_retain(v);
            }
            _ => {}
        }
    }
    f.finish()
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

    use proptest::prelude::*;

    use super::*;
    use crate::wire::{CmdAttr, DestAttr, IpvsCmd, IpvsMessage, ServiceAttr};

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

    /// Raw attribute bytes: a header with `kind` and a value of `value.len()` bytes, padded.
    fn nla(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut out = ((value.len() + 4) as u16).to_ne_bytes().to_vec();
        out.extend_from_slice(&kind.to_ne_bytes());
        out.extend_from_slice(value);
        out.resize((out.len() + 3) & !3, 0);
        out
    }

    /// How a generated attribute of one kind looks: its size on the wire, and whether it is a
    /// family or a small enumeration (whose random values would nearly always be invalid).
    #[derive(Clone, Copy)]
    enum Shape {
        Bytes(usize),
        Family,
        Small(usize),
        Stats,
    }

    fn shaped(shape: Shape) -> BoxedStrategy<Vec<u8>> {
        match shape {
            Shape::Bytes(n) => bytes(n).boxed(),
            Shape::Family => af().boxed(),
            Shape::Small(n) => (0u32..6)
                .prop_map(move |v| v.to_ne_bytes()[..n].to_vec())
                .boxed(),
            Shape::Stats => stats_set().boxed(),
        }
    }

    fn stats_set() -> impl Strategy<Value = Vec<u8>> {
        let one = (0u16..13, prop_oneof![bytes(4), bytes(8)], bytes(0)).prop_map(|(k, v, pad)| {
            if k == 11 {
                nla(k, &pad)
            } else {
                nla(k, &v)
            }
        });
        proptest::collection::vec(one, 0..12).prop_map(|attrs| attrs.concat())
    }

    /// A nested set: the attributes `required` (kind and value), then up to 12 attributes of
    /// the kinds in `shapes` (index = kind; mostly well-formed, sometimes of a random size, and
    /// some of kinds it does not list), in a random order.
    fn attr_set(
        required: Vec<(u16, Vec<u8>)>,
        shapes: &'static [Shape],
    ) -> impl Strategy<Value = Vec<u8>> {
        let kinds = shapes.len() as u16;
        let one = (0..kinds + 2).prop_flat_map(move |k| {
            let good = shapes
                .get(usize::from(k))
                .map_or_else(|| bytes(3).boxed(), |s| shaped(*s));
            prop_oneof![9 => good, 1 => proptest::collection::vec(any::<u8>(), 0..20)]
                .prop_map(move |v| nla(k, &v))
        });
        proptest::collection::vec(one, 0..12)
            .prop_map(move |mut attrs| {
                attrs.extend(required.iter().map(|(k, v)| nla(*k, v)));
                attrs
            })
            .prop_shuffle()
            .prop_map(|attrs| attrs.concat())
    }

    /// An address family attribute's value: IPv4 or IPv6.
    fn af() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![Just(2u16), Just(10u16)].prop_map(|f| f.to_ne_bytes().to_vec())
    }

    fn bytes(n: usize) -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(any::<u8>(), n)
    }

    /// Services: a family, protocol, address and port, and anything else.
    fn service_attrs() -> impl Strategy<Value = Vec<u8>> {
        use Shape::*;
        const SHAPES: &[Shape] = &[
            Bytes(4),
            Family,
            Bytes(2),
            Bytes(16),
            Bytes(2),
            Bytes(4),
            Bytes(4),
            Bytes(8),
            Bytes(4),
            Bytes(4),
            Stats,
            Bytes(4),
            Stats,
        ];
        (af(), bytes(2), bytes(16), bytes(2)).prop_flat_map(|(af, proto, addr, port)| {
            attr_set(vec![(1, af), (2, proto), (3, addr), (4, port)], SHAPES)
        })
    }

    /// Destinations: an address and a port, and anything else.
    fn dest_attrs() -> impl Strategy<Value = Vec<u8>> {
        use Shape::*;
        const SHAPES: &[Shape] = &[
            Bytes(4),
            Bytes(16),
            Bytes(2),
            Small(4),
            Bytes(4),
            Bytes(4),
            Bytes(4),
            Bytes(4),
            Bytes(4),
            Bytes(4),
            Stats,
            Family,
            Stats,
            Small(1),
            Bytes(2),
            Bytes(2),
        ];
        (bytes(16), bytes(2))
            .prop_flat_map(|(addr, port)| attr_set(vec![(1, addr), (2, port)], SHAPES))
    }

    /// A generic-netlink message (from its header on) with one top-level attribute.
    fn message(top: u16, nested: &[u8]) -> Vec<u8> {
        let mut genl = vec![1, 1, 0, 0];
        genl.extend(nla(top, nested));
        genl
    }

    proptest! {
        /// On any attribute bytes, the direct service decoder and the attribute list agree:
        /// the same service, or both an error.
        #[test]
        fn service_entry_agrees_with_the_attribute_list(
            nested in service_attrs(),
        ) {
            let direct = service_entry(&message(CMD_ATTR_SERVICE, &nested));
            let listed = NlasIterator::new(&nested[..])
                .map(|n| ServiceAttr::parse(&n?))
                .collect::<Result<Vec<_>, _>>()
                .and_then(|attrs| ServiceAttr::to_service(&attrs));
            match (direct, listed) {
                (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
                (Err(_), Err(_)) => {}
                (a, b) => prop_assert!(false, "direct {:?} but listed {:?}", a, b),
            }
        }

        /// The same for destinations, for either service family.
        #[test]
        fn destination_entry_agrees_with_the_attribute_list(
            nested in dest_attrs(),
            inet6 in any::<bool>(),
        ) {
            let family = if inet6 { AddressFamily::Inet6 } else { AddressFamily::Inet };
            let direct = destination_entry(&message(CMD_ATTR_DEST, &nested), family);
            let listed = NlasIterator::new(&nested[..])
                .map(|n| DestAttr::parse(&n?))
                .collect::<Result<Vec<_>, _>>()
                .and_then(|attrs| DestAttr::to_destination(&attrs, family));
            match (direct, listed) {
                (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
                (Err(_), Err(_)) => {}
                (a, b) => prop_assert!(false, "direct {:?} but listed {:?}", a, b),
            }
        }
    }
}
