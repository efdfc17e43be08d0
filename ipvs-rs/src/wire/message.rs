//! The IPVS generic-netlink message.

use netlink_packet_core::{DecodeError, Emitable, NlasIterator, Parseable, ParseableParametrized};
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
