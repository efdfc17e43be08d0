//! Host lane: opening a handle tells whether the kernel has IPVS, and says so usefully.
//!
//! The host kernels this project's CI runs on have no IPVS, so this asserts
//! [`Error::NotAvailable`] there; on a kernel with ip_vs loaded it asserts the handle opens.

use std::path::Path;

use ipvs_rs::{Error, Handle};

#[test]
fn handle_reports_whether_ipvs_is_available() {
    let loaded = Path::new("/proc/net/ip_vs").exists();
    match Handle::new() {
        Err(Error::NotAvailable) => {
            assert!(
                !loaded,
                "/proc/net/ip_vs exists but the IPVS family was not found"
            );
            let message = Error::NotAvailable.to_string();
            assert!(
                message.contains("ip_vs") && message.contains("modprobe"),
                "{message}"
            );
        }
        Ok(_) => assert!(loaded, "a handle opened without the ip_vs module"),
        Err(other) => panic!("unexpected error: {other}"),
    }
}
