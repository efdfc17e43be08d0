//! Write requests, as sent one by one or in a [`Batch`](crate::Batch).

use netlink_packet_core::NLA_F_NESTED;

use crate::wire::cmd_attr::{DEST, SERVICE};
use crate::wire::message::{write_framed, write_leaf, write_nest};
use crate::wire::{CmdAttr, DaemonAttr, DestAttr, IpvsCmd, IpvsMessage, ServiceAttr};
use crate::{Daemon, Destination, Service, ServiceKey, Timeouts};

/// One state-changing IPVS request.
///
/// Each sends the attribute set ipvsadm 1.31 sends for the same command, byte for byte: edits
/// are full replacements, and requests naming an existing service (destination, delete and zero
/// requests) send its key with ipvsadm's placeholder settings
/// (`ServiceAttr::from_reference`). With the `wire` feature, `Request::Raw` sends any message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Request {
    /// Add a service (`ipvsadm -A`).
    AddService(Service),
    /// Replace a service's settings (`ipvsadm -E`).
    UpdateService(Service),
    /// Delete a service and its destinations (`ipvsadm -D`).
    DeleteService(ServiceKey),
    /// Add a destination to a service (`ipvsadm -a`).
    AddDestination(ServiceKey, Destination),
    /// Replace a destination's settings (`ipvsadm -e`).
    UpdateDestination(ServiceKey, Destination),
    /// Delete a destination (`ipvsadm -d`).
    DeleteDestination(ServiceKey, Destination),
    /// Zero the counters of one service, or of every service (`ipvsadm -Z`).
    Zero(Option<ServiceKey>),
    /// Delete every service (`ipvsadm -C`).
    Flush,
    /// Set timeouts; 0 leaves one unchanged (`ipvsadm --set`).
    SetTimeouts(Timeouts),
    /// Start a sync daemon (`ipvsadm --start-daemon`).
    StartDaemon(Daemon),
    /// Stop the sync daemon of the given daemon's state (`ipvsadm --stop-daemon`).
    StopDaemon(Daemon),
    /// Any message, sent as is (feature `wire`).
    #[cfg(feature = "wire")]
    Raw(IpvsMessage),
}

impl Request {
    /// The command this request sends.
    pub fn command(&self) -> IpvsCmd {
        match self {
            Request::AddService(_) => IpvsCmd::NewService,
            Request::UpdateService(_) => IpvsCmd::SetService,
            Request::DeleteService(_) => IpvsCmd::DelService,
            Request::AddDestination(..) => IpvsCmd::NewDest,
            Request::UpdateDestination(..) => IpvsCmd::SetDest,
            Request::DeleteDestination(..) => IpvsCmd::DelDest,
            Request::Zero(_) => IpvsCmd::Zero,
            Request::Flush => IpvsCmd::Flush,
            Request::SetTimeouts(_) => IpvsCmd::SetConfig,
            Request::StartDaemon(_) => IpvsCmd::NewDaemon,
            Request::StopDaemon(_) => IpvsCmd::DelDaemon,
            #[cfg(feature = "wire")]
            Request::Raw(m) => m.cmd,
        }
    }

    /// The message this request sends (feature `wire`).
    #[cfg(feature = "wire")]
    pub fn to_message(&self) -> IpvsMessage {
        self.message()
    }

    pub(crate) fn message(&self) -> IpvsMessage {
        let svc = |s: &Service| CmdAttr::Service(ServiceAttr::from_service(s));
        let reference = |k: &ServiceKey| CmdAttr::Service(ServiceAttr::from_reference(k));
        let dest = |k: &ServiceKey, d: &Destination| {
            vec![reference(k), CmdAttr::Dest(DestAttr::from_destination(d))]
        };
        let daemon = |d: &Daemon| vec![CmdAttr::Daemon(DaemonAttr::from_daemon(d))];
        match self {
            Request::AddService(s) => IpvsMessage::new(IpvsCmd::NewService, vec![svc(s)]),
            Request::UpdateService(s) => IpvsMessage::new(IpvsCmd::SetService, vec![svc(s)]),
            Request::DeleteService(s) => IpvsMessage::new(IpvsCmd::DelService, vec![reference(s)]),
            Request::AddDestination(k, d) => IpvsMessage::new(IpvsCmd::NewDest, dest(k, d)),
            Request::UpdateDestination(k, d) => IpvsMessage::new(IpvsCmd::SetDest, dest(k, d)),
            Request::DeleteDestination(k, d) => IpvsMessage::new(IpvsCmd::DelDest, dest(k, d)),
            Request::Zero(s) => IpvsMessage::new(IpvsCmd::Zero, s.iter().map(reference).collect()),
            Request::Flush => IpvsMessage::new(IpvsCmd::Flush, vec![]),
            Request::SetTimeouts(t) => IpvsMessage::new(
                IpvsCmd::SetConfig,
                vec![
                    CmdAttr::TimeoutTcp(t.tcp),
                    CmdAttr::TimeoutTcpFin(t.tcp_fin),
                    CmdAttr::TimeoutUdp(t.udp),
                ],
            ),
            Request::StartDaemon(d) => IpvsMessage::new(IpvsCmd::NewDaemon, daemon(d)),
            Request::StopDaemon(d) => IpvsMessage::new(IpvsCmd::DelDaemon, daemon(d)),
            #[cfg(feature = "wire")]
            Request::Raw(m) => m.clone(),
        }
    }

    /// Appends this request as a complete netlink message (family id `family`, `flags`,
    /// sequence number `seq`) and returns its length: the bytes of
    /// [`IpvsMessage::write_frame`] on [`Request::to_message`], without building the attribute
    /// lists in between (feature `wire`).
    ///
    /// ```
    /// use ipvs_rs::{Request, ServiceKey};
    /// let request = Request::DeleteService(ServiceKey::tcp([10, 0, 0, 1], 80));
    /// let (mut direct, mut listed) = (Vec::new(), Vec::new());
    /// request.write_frame(0x22, 5, 1, &mut direct);
    /// request.to_message().write_frame(0x22, 5, 1, &mut listed);
    /// assert_eq!(direct, listed);
    /// ```
    #[cfg(feature = "wire")]
    pub fn write_frame(&self, family: u16, flags: u16, seq: u32, out: &mut Vec<u8>) -> usize {
        self.encode(family, flags, seq, out)
    }

    pub(crate) fn encode(&self, family: u16, flags: u16, seq: u32, out: &mut Vec<u8>) -> usize {
        let service = SERVICE | NLA_F_NESTED;
        let dest = |cmd, k: &ServiceKey, d: &Destination, out: &mut Vec<u8>| {
            write_framed(cmd, family, flags, seq, out, |out| {
                write_nest(service, out, |out| {
                    ServiceAttr::each_of_reference(k, &mut |a| write_leaf(&a, out))
                });
                write_nest(DEST | NLA_F_NESTED, out, |out| {
                    DestAttr::each_of_destination(d, &mut |a| write_leaf(&a, out))
                });
            })
        };
        let svc = |cmd, s: &Service, out: &mut Vec<u8>| {
            write_framed(cmd, family, flags, seq, out, |out| {
                write_nest(service, out, |out| {
                    ServiceAttr::each_of_service(s, &mut |a| write_leaf(&a, out))
                })
            })
        };
        match self {
            Request::AddService(s) => svc(IpvsCmd::NewService, s, out),
            Request::UpdateService(s) => svc(IpvsCmd::SetService, s, out),
            Request::AddDestination(k, d) => dest(IpvsCmd::NewDest, k, d, out),
            Request::UpdateDestination(k, d) => dest(IpvsCmd::SetDest, k, d, out),
            Request::DeleteDestination(k, d) => dest(IpvsCmd::DelDest, k, d, out),
            other => other.message().write_frame(family, flags, seq, out),
        }
    }

    /// The scheduler and persistence engine named, to explain an `ENOENT`.
    pub(crate) fn names(&self) -> Option<(&str, Option<&str>)> {
        match self {
            Request::AddService(s) | Request::UpdateService(s) => {
                Some((s.scheduler.name(), s.pe_name.as_deref()))
            }
            _ => None,
        }
    }
}
