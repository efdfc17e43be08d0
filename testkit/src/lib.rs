//! Support for the workspace's kernel tests.
//!
//! Kernel tests need root and a kernel with IPVS. They are compiled only with each crate's
//! `kernel-tests` feature, and `cargo xtask test` runs them inside the real-kernel VM lane.
//! Run anywhere else they fail loudly with instructions instead of passing or skipping silently.

#![deny(missing_docs)]

use std::io;
use std::path::Path;
use std::process::Command;
use std::sync::Once;

/// How to run kernel tests, repeated in every failure message so nobody has to guess.
pub const HOW_TO_RUN: &str = "run the kernel tests with `cargo xtask test` (all lanes) or \
`cargo xtask vm -- <test binary>` (one binary in the VM lane); see docs/testing.md";

/// Every scheduler and persistence engine module the tests may ask the kernel for.
pub const IPVS_MODULES: &[&str] = &[
    "ip_vs",
    "ip_vs_rr",
    "ip_vs_wrr",
    "ip_vs_lc",
    "ip_vs_wlc",
    "ip_vs_lblc",
    "ip_vs_lblcr",
    "ip_vs_dh",
    "ip_vs_sh",
    "ip_vs_sed",
    "ip_vs_nq",
    "ip_vs_fo",
    "ip_vs_ovf",
    "ip_vs_mh",
    "ip_vs_pe_sip",
];

/// Panics with an actionable message unless this process is root on a kernel with IPVS.
///
/// Loads `ip_vs` and every scheduler up front, once per process. The kernel loads a missing
/// scheduler with request_module while holding the IPVS mutex; a module that registers
/// per-namespace state (lblc, lblcr) then waits for the namespace lock, which another test's
/// namespace teardown holds while it waits for the IPVS mutex: a deadlock seen on 6.1 with
/// parallel tests. With every module loaded first, request_module never runs.
pub fn require_ipvs() {
    static PRELOAD: Once = Once::new();
    require_root();
    PRELOAD.call_once(|| {
        let loaded = Command::new("modprobe")
            .arg("-a")
            .args(IPVS_MODULES)
            .status()
            .is_ok_and(|status| status.success());
        // A kernel with IPVS built in has no modules to load; one without IPVS fails below.
        if !loaded && ipvs_loaded() && !ipvs_built_in() {
            panic!("modprobe could not load every IPVS module of {IPVS_MODULES:?}: {HOW_TO_RUN}");
        }
    });
    if !ipvs_loaded() {
        panic!("this test needs a kernel with IPVS (ip_vs could not be loaded): {HOW_TO_RUN}");
    }
}

/// Whether IPVS is part of the kernel image rather than a module.
fn ipvs_built_in() -> bool {
    std::fs::read_to_string("/proc/modules")
        .is_ok_and(|modules| !modules.lines().any(|l| l.starts_with("ip_vs ")))
}

/// Panics with an actionable message unless this process runs as root.
pub fn require_root() {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        panic!("this test needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN): {HOW_TO_RUN}");
    }
}

fn ipvs_loaded() -> bool {
    Path::new("/proc/net/ip_vs").exists()
}

/// Moves the calling thread into a fresh, empty network namespace with `lo` up.
///
/// Each test thread gets its own namespace, so tests run in parallel without seeing each
/// other's IPVS tables, and everything a test created vanishes with its thread.
/// `lo` must be up: IPVS refuses real servers with EINVAL ("address not unicast") otherwise.
pub fn isolate_netns() -> io::Result<()> {
    // SAFETY: unshare only changes the calling thread's namespace membership.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        return Err(io::Error::last_os_error());
    }
    set_link_up("lo")
}

/// Sets the IFF_UP flag of the interface `name` in the calling thread's namespace.
pub fn set_link_up(name: &str) -> io::Result<()> {
    // SAFETY: a plain datagram socket used only for interface ioctls, closed below.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let result = (|| {
        // SAFETY: ifreq is plain old data; all-zero is a valid value.
        let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
        if name.len() >= req.ifr_name.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "interface name too long",
            ));
        }
        for (dst, src) in req.ifr_name.iter_mut().zip(name.bytes()) {
            *dst = src as libc::c_char;
        }
        // SAFETY: fd is a valid socket and req a valid ifreq for these requests.
        if unsafe { libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut req) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: SIOCGIFFLAGS filled the flags member of the union.
        unsafe { req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short };
        // SAFETY: as above.
        if unsafe { libc::ioctl(fd, libc::SIOCSIFFLAGS, &req) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    })();
    // SAFETY: fd was opened above and is not used after this.
    unsafe { libc::close(fd) };
    result
}

/// Prepares a kernel test: checks the lane, then isolates the thread in a new namespace.
///
/// Call it first in every kernel test.
pub fn kernel_test() {
    require_ipvs();
    isolate_netns().unwrap_or_else(|e| panic!("cannot create a test network namespace: {e}"));
}

/// The reference ipvsadm 1.31 binary, or a panic saying how to get it.
pub fn reference_ipvsadm() -> &'static Path {
    let path = Path::new("/usr/sbin/ipvsadm");
    if !path.exists() {
        panic!("the reference ipvsadm is missing (apt-get install ipvsadm): {HOW_TO_RUN}");
    }
    path
}
