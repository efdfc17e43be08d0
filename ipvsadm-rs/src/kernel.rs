//! Talking to IPVS through ipvs-rs, and saying what went wrong in ipvsadm's words.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::process::Command as Process;

use ipvs_rs::{
    AddressFamily, Daemon as KDaemon, DaemonState, Destination, Forwarding, Handle, Info, Netmask,
    Protocol, Scheduler, Service as KService, ServiceFlags, ServiceKey, Timeouts as KTimeouts,
    Tunnel, TunnelFlags, TunnelType,
};

use crate::entry::{Daemon, Dest, Service, Timeouts, FWD_LOCAL, FWD_MASK, FWD_MASQ, FWD_TUNNEL};
use crate::error::{Error, Result};
use crate::listing::{Counters, DestRow, ServiceRow};
use crate::resolve::{AF_INET, AF_INET6};

/// Which ipvsadm library call failed: its error wording depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Initialisation and anything without specific wording.
    Other,
    /// `-A`
    AddService,
    /// `-E`
    UpdateService,
    /// `-D`
    DeleteService,
    /// `-Z`
    Zero,
    /// `-a`
    AddDest,
    /// `-e`
    UpdateDest,
    /// `-d`
    DeleteDest,
    /// `--start-daemon`
    StartDaemon,
    /// `--stop-daemon`
    StopDaemon,
    /// Listing every service.
    GetServices,
    /// Listing a service's real servers.
    GetDests,
    /// Listing one service.
    GetService,
}

/// ipvsadm's `ipvs_strerror`: its own wording for the errors it knows, per call, and the C
/// library's `strerror` otherwise.
pub fn ipvs_strerror(op: Op, errno: i32) -> String {
    use Op::*;
    let specific = match (op, errno) {
        (AddService, libc::EEXIST) => Some("Service already exists"),
        (AddService | UpdateService, libc::ENOENT) => {
            Some("Scheduler or persistence engine not found")
        }
        (
            UpdateService | DeleteService | Zero | GetServices | GetDests | GetService,
            libc::ESRCH,
        ) => Some("No such service"),
        (AddDest | UpdateDest | DeleteDest, libc::ESRCH) => Some("Service not defined"),
        (AddDest, libc::EEXIST) => Some("Destination already exists"),
        (UpdateDest | DeleteDest, libc::ENOENT) => Some("No such destination"),
        (StartDaemon, libc::EEXIST) => Some("Daemon has already run"),
        (StopDaemon, libc::ESRCH) => Some("No daemon is running"),
        _ => None,
    };
    let generic = match errno {
        libc::EPERM => Some("Permission denied (you must be root)"),
        libc::EINVAL => {
            Some("Invalid operation.  Possibly wrong module version, address not unicast, ...")
        }
        libc::ENOPROTOOPT => Some("Protocol not available"),
        libc::ENOMEM => Some("Memory allocation problem"),
        libc::EOPNOTSUPP => Some("Operation not supported with IPv6"),
        libc::EAFNOSUPPORT => Some("Operation not supported with specified address family"),
        libc::EMSGSIZE => Some("Module is wrong version"),
        _ => None,
    };
    match specific.or(generic) {
        Some(s) => s.to_string(),
        // SAFETY: strerror returns a valid NUL-terminated string for any errno.
        None => unsafe { std::ffi::CStr::from_ptr(libc::strerror(errno)) }
            .to_string_lossy()
            .into_owned(),
    }
}

/// The errno ipvsadm would have seen for a library error: the kernel's when it answered,
/// EINVAL (libipvs's catch-all) otherwise.
pub fn errno_of(err: &ipvs_rs::Error) -> i32 {
    match err {
        ipvs_rs::Error::Io(e) => e.raw_os_error().unwrap_or(libc::EINVAL),
        other => other.errno().unwrap_or(libc::EINVAL),
    }
}

/// ipvsadm's message for a failed call.
pub fn message(op: Op, err: &ipvs_rs::Error) -> String {
    if matches!(err, ipvs_rs::Error::Timeout) {
        return err.to_string();
    }
    ipvs_strerror(op, errno_of(err))
}

/// An open connection to IPVS and what it said when asked for its version.
pub struct Kernel {
    /// The ipvs-rs handle.
    pub handle: Handle,
    /// Version and connection table size, read once at start as ipvsadm does.
    pub info: Info,
}

fn open() -> std::result::Result<Kernel, ipvs_rs::Error> {
    let handle = Handle::new()?;
    // ipvsadm leaves every refusal past its own checks to the kernel, and so must its clone:
    // its messages and their order are the kernel's.
    handle.set_validation(false);
    let info = handle.info()?;
    Ok(Kernel { handle, info })
}

/// What ipvsadm reports when the IPVS family is missing: it falls back to the old socket
/// option interface, whose failure (normally ENOPROTOOPT) becomes the message.
fn sockopt_errno() -> i32 {
    const IP_VS_SO_GET_INFO: libc::c_int = 64 + 1024 + 64 + 1;
    // SAFETY: a raw socket used for one getsockopt and closed; buffers are local.
    unsafe {
        let fd = libc::socket(
            libc::AF_INET,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::IPPROTO_RAW,
        );
        if fd < 0 {
            return std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EINVAL);
        }
        let mut buf = [0u8; 64];
        let mut len = buf.len() as libc::socklen_t;
        let rc = libc::getsockopt(
            fd,
            libc::IPPROTO_IP,
            IP_VS_SO_GET_INFO,
            buf.as_mut_ptr().cast(),
            &mut len,
        );
        let errno = if rc == 0 {
            0
        } else {
            std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EINVAL)
        };
        libc::close(fd);
        errno
    }
}

fn init_errno(err: &ipvs_rs::Error) -> i32 {
    match err {
        ipvs_rs::Error::NotAvailable => sockopt_errno(),
        other => errno_of(other),
    }
}

/// Connects to IPVS like ipvsadm: try, and on failure run `/sbin/modprobe -- ip_vs` (its
/// messages go straight to stderr) and try once more.
pub fn init() -> Result<Kernel> {
    let first = match open() {
        Ok(k) => return Ok(k),
        Err(e) => e,
    };
    let first_errno = init_errno(&first);
    let loaded = Process::new("/sbin/modprobe")
        .args(["--", "ip_vs"])
        .status()
        .is_ok_and(|s| s.success());
    if !loaded {
        return Err(Error::Init {
            reason: ipvs_strerror(Op::Other, first_errno),
        });
    }
    open().map_err(|e| Error::Init {
        reason: ipvs_strerror(Op::Other, init_errno(&e)),
    })
}

fn family(af: u16) -> AddressFamily {
    if af == AF_INET6 {
        AddressFamily::Inet6
    } else {
        AddressFamily::Inet
    }
}

fn ip(af: u16, addr: &[u8; 16]) -> IpAddr {
    if af == AF_INET6 {
        IpAddr::V6(Ipv6Addr::from(*addr))
    } else {
        IpAddr::V4(Ipv4Addr::new(addr[0], addr[1], addr[2], addr[3]))
    }
}

fn raw_addr(addr: &IpAddr) -> [u8; 16] {
    match addr {
        IpAddr::V6(a) => a.octets(),
        IpAddr::V4(a) => {
            let mut out = [0; 16];
            out[..4].copy_from_slice(&a.octets());
            out
        }
    }
}

fn af_of(family: AddressFamily) -> u16 {
    match family {
        AddressFamily::Inet6 => AF_INET6,
        _ => AF_INET,
    }
}

/// The key of the service a command line names.
pub fn key_of(svc: &Service) -> ServiceKey {
    if svc.fwmark != 0 {
        return ServiceKey::fwmark(svc.fwmark, family(svc.af));
    }
    ServiceKey::Inet {
        protocol: Protocol::from(svc.protocol),
        addr: ip(svc.af, &svc.addr),
        port: svc.port,
    }
}

/// Whether `-Z` names a service (ipvsadm zeroes everything when it does not).
pub fn names_a_service(svc: &Service) -> bool {
    svc.fwmark != 0 || svc.addr != [0; 16] || svc.port != 0
}

/// The complete service a command line describes.
pub fn to_kernel_service(svc: &Service) -> KService {
    let mut out = KService::new(key_of(svc));
    out.scheduler = Scheduler::from_name(&svc.sched_name);
    out.flags = ServiceFlags::from_bits_retain(svc.flags);
    out.timeout = svc.timeout;
    out.netmask = if svc.af == AF_INET6 {
        Netmask::V6(svc.netmask)
    } else {
        Netmask::V4(Ipv4Addr::from(svc.netmask.to_ne_bytes()))
    };
    out.pe_name = (!svc.pe_name.is_empty()).then(|| svc.pe_name.clone());
    out
}

/// The complete real server a command line describes.
pub fn to_kernel_dest(d: &Dest) -> Destination {
    let forwarding = match d.fwd & FWD_MASK {
        FWD_MASQ => Forwarding::Masq,
        FWD_LOCAL => Forwarding::Local,
        FWD_TUNNEL => Forwarding::Tunnel(Tunnel::new(
            match d.tun_type {
                1 => TunnelType::Gue,
                2 => TunnelType::Gre,
                _ => TunnelType::Ipip,
            },
            (d.tun_port != 0).then_some(d.tun_port),
            TunnelFlags::from_bits_retain(d.tun_flags),
        )),
        _ => Forwarding::Route,
    };
    let mut out = Destination::new(ip(d.af, &d.addr), d.port);
    out.family = family(d.af);
    out.forwarding = forwarding;
    out.weight = d.weight;
    out.upper_threshold = d.u_threshold;
    out.lower_threshold = d.l_threshold;
    out
}

/// `--set` values for the kernel.
pub fn to_kernel_timeouts(t: &Timeouts) -> KTimeouts {
    KTimeouts::new(t.tcp, t.tcp_fin, t.udp)
}

/// A sync daemon request for the kernel.
pub fn to_kernel_daemon(d: &Daemon) -> KDaemon {
    let mut out = KDaemon::new(DaemonState::from_bits_retain(d.state), d.mcast_ifn.clone());
    out.sync_id = d.syncid as u8;
    out.sync_maxlen = (d.sync_maxlen != 0).then_some(d.sync_maxlen);
    out.mcast_port = (d.mcast_port != 0).then_some(d.mcast_port);
    out.mcast_ttl = (d.mcast_ttl != 0).then_some(d.mcast_ttl);
    out.mcast_group = match d.mcast_af {
        0 => None,
        af => Some(ip(af, &d.mcast_group)),
    };
    out
}

fn counters(s: &ipvs_rs::Stats) -> Counters {
    Counters {
        conns: s.conns,
        in_pkts: s.in_pkts,
        out_pkts: s.out_pkts,
        in_bytes: s.in_bytes,
        out_bytes: s.out_bytes,
        cps: s.cps,
        in_pps: s.in_pps,
        out_pps: s.out_pps,
        in_bps: s.in_bps,
        out_bps: s.out_bps,
    }
}

/// A kernel service as ipvsadm holds it for listing.
pub fn service_row(k: &KService) -> ServiceRow {
    let mut svc = Service::default();
    match k.key {
        ServiceKey::Inet {
            protocol,
            addr,
            port,
        } => {
            svc.af = af_of(AddressFamily::of(&addr));
            svc.protocol = protocol.number();
            svc.addr = raw_addr(&addr);
            svc.port = port;
        }
        ServiceKey::Fwmark { mark, family } => {
            svc.af = af_of(family);
            svc.fwmark = mark;
        }
    }
    svc.sched_name = k.scheduler.name().to_string();
    svc.pe_name = k.pe_name.clone().unwrap_or_default();
    svc.flags = k.flags.bits();
    svc.timeout = k.timeout;
    svc.netmask = match k.netmask {
        Netmask::V4(m) => u32::from_ne_bytes(m.octets()),
        Netmask::V6(p) => p,
    };
    ServiceRow {
        svc,
        stats: counters(&k.stats),
    }
}

/// A kernel real server as ipvsadm holds it for listing.
///
/// ipvsadm 1.31 reads a real server's 64-bit counters with 32-bit reads (all but the byte
/// counters), so they are cut to their low 32 bits here, exactly as it prints them.
pub fn dest_row(k: &Destination) -> DestRow {
    let (fwd, tun_type, tun_port, tun_flags) = match k.forwarding {
        Forwarding::Tunnel(t) => (
            FWD_TUNNEL,
            t.kind.number(),
            t.port.unwrap_or(0),
            t.flags.bits(),
        ),
        other => (other.method(), 0, 0, 0),
    };
    let dest = Dest {
        af: af_of(k.family),
        addr: raw_addr(&k.addr),
        port: k.port,
        fwd,
        weight: k.weight,
        u_threshold: k.upper_threshold,
        l_threshold: k.lower_threshold,
        tun_type,
        tun_port,
        tun_flags,
    };
    let low = |v: u64| v & 0xffff_ffff;
    let s = counters(&k.stats);
    let stats = Counters {
        conns: low(s.conns),
        in_pkts: low(s.in_pkts),
        out_pkts: low(s.out_pkts),
        cps: low(s.cps),
        in_pps: low(s.in_pps),
        out_pps: low(s.out_pps),
        in_bps: low(s.in_bps),
        out_bps: low(s.out_bps),
        ..s
    };
    DestRow {
        dest,
        active: k.active_conns,
        inactive: k.inactive_conns,
        persistent: k.persist_conns,
        stats,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{FWD_ROUTE, SVC_F_PERSISTENT};
    use crate::resolve::IPPROTO_UDP;

    #[test]
    fn error_wording_depends_on_the_call() {
        assert_eq!(
            ipvs_strerror(Op::AddService, libc::EEXIST),
            "Service already exists"
        );
        assert_eq!(
            ipvs_strerror(Op::AddDest, libc::ESRCH),
            "Service not defined"
        );
        assert_eq!(
            ipvs_strerror(Op::DeleteService, libc::ESRCH),
            "No such service"
        );
        assert_eq!(
            ipvs_strerror(Op::AddDest, libc::ERANGE),
            "Numerical result out of range"
        );
        assert_eq!(
            ipvs_strerror(Op::StartDaemon, libc::ENODEV),
            "No such device"
        );
        assert_eq!(
            ipvs_strerror(Op::Other, libc::ENOPROTOOPT),
            "Protocol not available"
        );
    }

    #[test]
    fn service_round_trip() {
        let mut svc = Service {
            af: AF_INET,
            protocol: IPPROTO_UDP,
            port: 53,
            ..Service::default()
        };
        svc.addr[..4].copy_from_slice(&[10, 0, 0, 9]);
        svc.sched_name = "sh".into();
        svc.flags = SVC_F_PERSISTENT;
        svc.timeout = 60;
        svc.netmask = u32::from_ne_bytes([255, 255, 255, 0]);
        let row = service_row(&to_kernel_service(&svc));
        assert_eq!(row.svc, svc);
    }

    #[test]
    fn dest_round_trip_and_truncated_counters() {
        let mut d = Dest {
            af: AF_INET,
            port: 80,
            fwd: FWD_TUNNEL,
            weight: 3,
            tun_type: 1,
            tun_port: 6080,
            tun_flags: 2,
            ..Dest::default()
        };
        d.addr[..4].copy_from_slice(&[10, 0, 0, 2]);
        let mut k = to_kernel_dest(&d);
        k.stats.conns = (1 << 32) + 5;
        k.stats.in_bytes = (1 << 32) + 5;
        let row = dest_row(&k);
        assert_eq!(row.dest, d);
        assert_eq!((row.stats.conns, row.stats.in_bytes), (5, (1 << 32) + 5));
        let plain = Dest {
            fwd: FWD_ROUTE,
            ..d.clone()
        };
        assert_eq!(dest_row(&to_kernel_dest(&plain)).dest.tun_port, 0);
    }
}
