//! Helpers shared by the kernel tests.

// Every test binary includes this module and uses a different part of it.
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, TcpStream};
use std::os::fd::AsRawFd;
use std::process::Command;

use ipvs_rs::Handle;

/// A handle in the test's own namespace, after `testkit::kernel_test()`.
pub fn handle() -> Handle {
    testkit::kernel_test();
    Handle::new().expect("open an IPVS handle")
}

pub fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

pub fn v6(last: u16) -> IpAddr {
    IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, last))
}

/// Runs the reference ipvsadm in the calling thread's namespace; returns its stdout.
pub fn ipvsadm(args: &[&str]) -> String {
    let out = Command::new(testkit::reference_ipvsadm())
        .args(args)
        .output()
        .expect("run ipvsadm");
    assert!(
        out.status.success(),
        "ipvsadm {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Runs a command (such as `ip`) in the calling thread's namespace and checks it succeeds.
pub fn run(cmd: &str, args: &[&str]) {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Ends a connection with a reset, which IPVS expires in seconds (a FIN would leave it in
/// TIME_WAIT for two minutes).
pub fn reset(conn: TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: linger is a valid struct of the size passed.
    let rc = unsafe {
        libc::setsockopt(
            conn.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0);
    drop(conn);
}
