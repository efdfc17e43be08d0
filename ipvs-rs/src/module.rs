//! Loading the ip_vs kernel module.

use std::path::Path;
use std::process::Command;

use crate::{Error, Result};

/// Loads the `ip_vs` kernel module with modprobe, as ipvsadm does when IPVS is missing.
///
/// Call it after [`Error::NotAvailable`], then open the handle again. Needs root.
pub fn load_module() -> Result<()> {
    let modprobe = ["/sbin/modprobe", "/usr/sbin/modprobe"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or("modprobe");
    let out = Command::new(modprobe)
        .args(["--", "ip_vs"])
        .output()
        .map_err(|e| Error::ModuleLoad(format!("cannot run {modprobe}: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Error::ModuleLoad(format!(
            "{modprobe} ip_vs failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}
