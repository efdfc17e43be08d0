//! The kernel's rules, as measured on Debian's Linux 6.1 in the VM lane: what it refuses, in
//! which order, and what it fills in.

use std::net::{IpAddr, Ipv4Addr};

use crate::wire::IpvsCmd;
use crate::{
    AddressFamily, Daemon, DaemonState, Destination, Error, Forwarding, Netmask, Protocol,
    Scheduler, Service, ServiceFlags, ServiceKey, TunnelType,
};

/// The kernel's clock rate on Debian kernels: timeouts are kept in jiffies.
const HZ: u32 = 250;
/// The largest timeout `IPVS_CMD_SET_CONFIG` accepts (`INT_MAX / HZ` seconds).
pub(super) const MAX_TIMEOUT: u32 = i32::MAX as u32 / HZ;
/// Interface names are shorter than `IFNAMSIZ` (16) bytes.
const IFNAMSIZ: usize = 16;
/// The sync daemons' default multicast group, port and TTL.
const SYNC_GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 81);
const SYNC_PORT: u16 = 8848;
/// IPv4 and IPv6 header plus UDP header: what a sync message cannot use of the MTU.
const SYNC_HLEN_V4: u16 = 20 + 8;
const SYNC_HLEN_V6: u16 = 40 + 8;

/// The error the kernel returns for `errno` on `cmd`.
pub(super) fn kernel(cmd: IpvsCmd, errno: i32) -> Error {
    Error::from_kernel(cmd, errno, None, None)
}

/// The key the kernel stores: a fwmark service of mark 0 is an address service (TCP, the
/// unspecified address, port 0), since the kernel takes mark 0 for "no mark".
pub(super) fn stored_key(key: &ServiceKey) -> ServiceKey {
    match *key {
        ServiceKey::Fwmark { mark: 0, family } => ServiceKey::Inet {
            protocol: Protocol::Tcp,
            addr: match family {
                AddressFamily::Inet6 => IpAddr::from([0u16; 8]),
                _ => IpAddr::from([0u8; 4]),
            },
            port: 0,
        },
        key => key,
    }
}

/// `EAFNOSUPPORT` for a family IPVS does not know.
pub(super) fn check_family(cmd: IpvsCmd, family: AddressFamily) -> Result<(), Error> {
    match family {
        AddressFamily::Inet | AddressFamily::Inet6 => Ok(()),
        AddressFamily::Other(_) => Err(kernel(cmd, libc::EAFNOSUPPORT)),
    }
}

/// The scheduler, persistence engine and netmask checks of an add or edit, in the kernel's
/// order (the existence checks come before them).
pub(super) fn check_service(cmd: IpvsCmd, svc: &Service) -> Result<(), Error> {
    let scheduler = svc.scheduler.name();
    let pe = svc.pe_name.as_deref().filter(|pe| !pe.is_empty());
    let known = scheduler == "none" || Scheduler::known().any(|s| s.name() == scheduler);
    if !known || pe.is_some_and(|pe| pe != "sip") {
        return Err(Error::from_kernel(
            cmd,
            libc::ENOENT,
            None,
            Some((scheduler, pe)),
        ));
    }
    if svc.key.family() == AddressFamily::Inet6 && !(1..=128).contains(&svc.netmask.to_raw()) {
        return Err(kernel(cmd, libc::EINVAL));
    }
    Ok(())
}

/// The service as the kernel reports it after storing `svc` under `key`.
pub(super) fn stored_service(key: ServiceKey, svc: &Service) -> Service {
    Service {
        key,
        scheduler: svc.scheduler.clone(),
        flags: svc.flags | ServiceFlags::HASHED,
        // Kept in jiffies in an unsigned int: large values wrap.
        timeout: svc.timeout.wrapping_mul(HZ) / HZ,
        netmask: Netmask::from_raw(svc.netmask.to_raw(), key.family()),
        pe_name: svc.pe_name.clone().filter(|pe| !pe.is_empty()),
        stats: Default::default(),
    }
}

/// The checks of an add or edit destination that come before its lookup, in the kernel's
/// order: the family, mixed families (tunnels only, and not while a sync daemon runs), the
/// weight and thresholds, a GUE tunnel's port.
pub(super) fn check_destination(
    cmd: IpvsCmd,
    service_family: AddressFamily,
    dest: &Destination,
    daemons_running: bool,
) -> Result<(), Error> {
    check_family(cmd, dest.family)?;
    if dest.family != service_family
        && (daemons_running || !matches!(dest.forwarding, Forwarding::Tunnel(_)))
    {
        return Err(kernel(cmd, libc::EINVAL));
    }
    if dest.weight < 0 || dest.lower_threshold > dest.upper_threshold {
        return Err(kernel(cmd, libc::ERANGE));
    }
    let gue_without_port = matches!(
        dest.forwarding,
        Forwarding::Tunnel(t) if t.kind == TunnelType::Gue && t.port.unwrap_or(0) == 0
    );
    if dest.upper_threshold > i32::MAX as u32 || gue_without_port {
        return Err(kernel(cmd, libc::EINVAL));
    }
    Ok(())
}

/// Whether the kernel takes `addr` as a real server's address in a namespace whose only
/// interface is `lo`: unicast or local, and for IPv6 not link-local.
pub(super) fn usable_destination_address(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => {
            !(a.is_unspecified()
                || a.is_broadcast()
                || a.is_multicast()
                || a == Ipv4Addr::new(127, 255, 255, 255))
        }
        IpAddr::V6(a) => {
            let link_local = a.segments()[0] & 0xffc0 == 0xfe80;
            !(a.is_unspecified() || a.is_multicast() || link_local || a.to_ipv4_mapped().is_some())
        }
    }
}

/// The destination as the kernel reports it: the settings written, counters at zero.
pub(super) fn stored_destination(dest: &Destination) -> Destination {
    let mut stored = Destination::new(dest.addr, dest.port);
    stored.family = dest.family;
    stored.forwarding = match dest.forwarding {
        Forwarding::Tunnel(mut t) => {
            t.port = t.port.filter(|&p| p != 0);
            Forwarding::Tunnel(t)
        }
        other => other,
    };
    stored.weight = dest.weight;
    stored.upper_threshold = dest.upper_threshold;
    stored.lower_threshold = dest.lower_threshold;
    stored
}

/// Checks a sync daemon start up to the point where only its role's slot matters, and
/// returns the configuration the kernel reports for it; `mtu` is the interface's, `None` if
/// it does not exist.
pub(super) fn started_daemon(
    daemon: &Daemon,
    mixed_families: bool,
    mtu: Option<u32>,
) -> Result<Daemon, Error> {
    let cmd = IpvsCmd::NewDaemon;
    if daemon.interface.len() >= IFNAMSIZ {
        return Err(Error::InvalidArgument {
            command: cmd,
            message: Some("Attribute failed policy validation".into()),
        });
    }
    if mixed_families {
        return Err(kernel(cmd, libc::EINVAL));
    }
    let mtu = mtu.ok_or_else(|| kernel(cmd, libc::ENODEV))?;
    let backup = match daemon.state {
        DaemonState::MASTER => false,
        DaemonState::BACKUP => true,
        _ => return Err(kernel(cmd, libc::EINVAL)),
    };
    let group = daemon.mcast_group.unwrap_or(IpAddr::V4(SYNC_GROUP));
    if !group.is_multicast() {
        return Err(kernel(cmd, libc::EINVAL));
    }
    let hlen = if group.is_ipv6() {
        SYNC_HLEN_V6
    } else {
        SYNC_HLEN_V4
    };
    let sync_maxlen = match daemon.sync_maxlen.filter(|&m| m != 0) {
        Some(m) => m.clamp(if backup { 1024 } else { 1 }, u16::MAX - hlen),
        None if backup => mtu.clamp(1500, 65535) as u16 - hlen,
        None => 1500 - hlen,
    };
    Ok(Daemon {
        state: daemon.state,
        interface: daemon.interface.clone(),
        sync_id: daemon.sync_id,
        sync_maxlen: Some(sync_maxlen),
        mcast_group: Some(group),
        mcast_port: Some(daemon.mcast_port.filter(|&p| p != 0).unwrap_or(SYNC_PORT)),
        mcast_ttl: Some(daemon.mcast_ttl.filter(|&t| t != 0).unwrap_or(1)),
    })
}
