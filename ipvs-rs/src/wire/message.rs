//! The IPVS generic-netlink message.

use netlink_packet_core::{
    DecodeError, Emitable, Nla, NlasIterator, Parseable, ParseableParametrized, NLA_F_NESTED,
    NLA_F_NET_BYTEORDER, NLA_HEADER_SIZE, NLA_TYPE_MASK,
};
use netlink_packet_generic::{GenlFamily, GenlHeader};

use super::{CmdAttr, InfoAttr, IpvsCmd};

/// The generic-netlink family name.
pub const FAMILY_NAME: &str = "IPVS";
/// The family's protocol version.
pub const FAMILY_VERSION: u8 = 1;

/// The top-level attributes of a message: the info reply uses its own attribute numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IpvsAttrs {
    /// Command attributes (every command but [`IpvsCmd::SetInfo`]).
    Cmd(Vec<CmdAttr>),
    /// Info attributes (the [`IpvsCmd::SetInfo`] reply to [`IpvsCmd::GetInfo`]).
    Info(Vec<InfoAttr>),
}

/// A message of the IPVS family: a command and its attributes.
///
/// Wrap it in [`netlink_packet_generic::GenlMessage`] to send it;
/// [`Handle`](crate::Handle) does this for you.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpvsMessage {
    /// The command.
    pub cmd: IpvsCmd,
    /// Its attributes.
    pub attrs: IpvsAttrs,
}

impl IpvsMessage {
    /// A message with command attributes.
    pub fn new(cmd: IpvsCmd, attrs: Vec<CmdAttr>) -> Self {
        IpvsMessage {
            cmd,
            attrs: IpvsAttrs::Cmd(attrs),
        }
    }

    /// The command attributes (empty for an info reply).
    pub fn cmd_attrs(&self) -> &[CmdAttr] {
        match &self.attrs {
            IpvsAttrs::Cmd(a) => a,
            IpvsAttrs::Info(_) => &[],
        }
    }
}

/// The netlink header (`struct nlmsghdr`) and the generic-netlink header (`struct genlmsghdr`).
const HEADERS_LEN: usize = 16 + 4;

impl IpvsMessage {
    /// Appends the attributes to `out`: the bytes [`Emitable::emit`] writes, in one pass.
    ///
    /// `Emitable` measures a message before writing it, and measuring a nested set walks it
    /// again at every level; this writes the nested sets of the top level in place and fills in
    /// their lengths afterwards, which is what a batch of thousands of requests wants.
    pub fn write_attrs(&self, out: &mut Vec<u8>) {
        match &self.attrs {
            IpvsAttrs::Cmd(attrs) => {
                for attr in attrs {
                    match attr {
                        CmdAttr::Service(nested) => write_nested(attr.kind(), nested, out),
                        CmdAttr::Dest(nested) => write_nested(attr.kind(), nested, out),
                        CmdAttr::Daemon(nested) => write_nested(attr.kind(), nested, out),
                        leaf => write_leaf(leaf, out),
                    }
                }
            }
            IpvsAttrs::Info(attrs) => attrs.iter().for_each(|a| write_leaf(a, out)),
        }
    }

    /// Appends the whole netlink message to `out`: the netlink header (of the family id
    /// `family`, with `flags` and sequence number `seq`), the generic-netlink header and the
    /// attributes. Returns the message's length.
    ///
    /// ```
    /// use ipvs_rs::wire::{IpvsCmd, IpvsMessage};
    /// let mut out = Vec::new();
    /// let len = IpvsMessage::new(IpvsCmd::Flush, vec![]).write_frame(0x22, 0x5, 7, &mut out);
    /// assert_eq!((len, out.len()), (20, 20));
    /// assert_eq!(out[16], 17); // IPVS_CMD_FLUSH
    /// ```
    pub fn write_frame(&self, family: u16, flags: u16, seq: u32, out: &mut Vec<u8>) -> usize {
        write_framed(self.cmd, family, flags, seq, out, |out| {
            self.write_attrs(out)
        })
    }
}

/// Appends a netlink message of command `cmd` whose attributes `attrs` writes; returns its
/// length.
pub(crate) fn write_framed(
    cmd: IpvsCmd,
    family: u16,
    flags: u16,
    seq: u32,
    out: &mut Vec<u8>,
    attrs: impl FnOnce(&mut Vec<u8>),
) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&family.to_ne_bytes());
    out.extend_from_slice(&flags.to_ne_bytes());
    out.extend_from_slice(&seq.to_ne_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&[cmd.into(), FAMILY_VERSION, 0, 0]);
    debug_assert_eq!(out.len() - start, HEADERS_LEN);
    attrs(out);
    let len = out.len() - start;
    out[start..start + 4].copy_from_slice(&(len as u32).to_ne_bytes());
    len
}

/// Appends one attribute as `Emitable` writes it, padding included.
pub(crate) fn write_leaf<T: Nla>(nla: &T, out: &mut Vec<u8>) {
    let len = nla.value_len();
    let mut kind = nla.kind() & NLA_TYPE_MASK;
    if nla.is_network_byteorder() {
        kind |= NLA_F_NET_BYTEORDER;
    }
    if nla.is_nested() {
        kind |= NLA_F_NESTED;
    }
    let start = out.len();
    out.resize(start + NLA_HEADER_SIZE + ((len + 3) & !3), 0);
    out[start..start + 2].copy_from_slice(&((len + NLA_HEADER_SIZE) as u16).to_ne_bytes());
    out[start + 2..start + 4].copy_from_slice(&kind.to_ne_bytes());
    nla.emit_value(&mut out[start + NLA_HEADER_SIZE..start + NLA_HEADER_SIZE + len]);
}

/// Appends a nested attribute of `kind` holding `attrs`.
fn write_nested<T: Nla>(kind: u16, attrs: &[T], out: &mut Vec<u8>) {
    write_nest(kind, out, |out| {
        attrs.iter().for_each(|a| write_leaf(a, out))
    });
}

/// Appends a nested attribute of `kind` whose content `fill` writes; its length is known once
/// that is written (every attribute is padded, so the nest needs no padding of its own).
pub(crate) fn write_nest(kind: u16, out: &mut Vec<u8>, fill: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.extend_from_slice(&[0; NLA_HEADER_SIZE]);
    fill(out);
    let len = (out.len() - start) as u16;
    out[start..start + 2].copy_from_slice(&len.to_ne_bytes());
    out[start + 2..start + 4].copy_from_slice(&kind.to_ne_bytes());
}

impl GenlFamily for IpvsMessage {
    fn family_name() -> &'static str {
        FAMILY_NAME
    }

    fn command(&self) -> u8 {
        self.cmd.into()
    }

    fn version(&self) -> u8 {
        FAMILY_VERSION
    }
}

impl Emitable for IpvsMessage {
    fn buffer_len(&self) -> usize {
        match &self.attrs {
            IpvsAttrs::Cmd(a) => a.as_slice().buffer_len(),
            IpvsAttrs::Info(a) => a.as_slice().buffer_len(),
        }
    }

    fn emit(&self, buffer: &mut [u8]) {
        match &self.attrs {
            IpvsAttrs::Cmd(a) => a.as_slice().emit(buffer),
            IpvsAttrs::Info(a) => a.as_slice().emit(buffer),
        }
    }
}

impl ParseableParametrized<[u8], GenlHeader> for IpvsMessage {
    fn parse_with_param(buf: &[u8], header: GenlHeader) -> Result<Self, DecodeError> {
        let cmd = IpvsCmd::from(header.cmd);
        let attrs = if cmd == IpvsCmd::SetInfo {
            IpvsAttrs::Info(
                NlasIterator::new(buf)
                    .map(|n| InfoAttr::parse(&n?))
                    .collect::<Result<_, _>>()?,
            )
        } else {
            IpvsAttrs::Cmd(
                NlasIterator::new(buf)
                    .map(|n| CmdAttr::parse(&n?))
                    .collect::<Result<_, _>>()?,
            )
        };
        Ok(IpvsMessage { cmd, attrs })
    }
}
