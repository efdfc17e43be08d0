//! The guest's initramfs: busybox, the modules needed to mount the host root, and init.sh.

use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::kernel::Kernel;
use crate::error::{Error, Result};
use crate::host;

/// The guest's PID 1.
const INIT: &str = include_str!("init.sh");

/// Modules init.sh needs before the host root is mounted (their dependencies come along).
const BOOT_MODULES: &[&str] = &[
    "virtio_pci",
    "9pnet_virtio",
    "9p",
    "virtio_console",
    "overlay",
];

/// busybox-static's binary; the dynamically linked busybox would not run in the initramfs.
const BUSYBOX: &str = "/bin/busybox";

/// Returns the initramfs for `kernel`, building it into the kernel's cache directory when
/// init.sh or the module set changed.
pub fn prepare(kernel: &Kernel) -> Result<PathBuf> {
    let listing = host::stdout(
        Command::new("/sbin/modprobe")
            .arg("-d")
            .arg(&kernel.dir)
            .args(["-S", &kernel.release, "--show-depends", "-a"])
            .args(BOOT_MODULES),
    )?;
    let modules = load_order(&listing);
    let mut hasher = DefaultHasher::new();
    (INIT, &modules).hash(&mut hasher);
    let path = kernel
        .dir
        .join(format!("initramfs-{:016x}.cpio", hasher.finish()));
    if !path.exists() {
        build(&modules, &path)?;
    }
    Ok(path)
}

/// The module files to insmod, in order, from `modprobe --show-depends` output.
///
/// Built-in modules are skipped and each file appears once, at its first position, which
/// already comes after its own dependencies.
fn load_order(listing: &str) -> Vec<PathBuf> {
    let mut order: Vec<PathBuf> = Vec::new();
    for line in listing.lines() {
        if let Some(path) = line.trim().strip_prefix("insmod ") {
            let path = PathBuf::from(path.trim());
            if !order.contains(&path) {
                order.push(path);
            }
        }
    }
    order
}

fn build(modules: &[PathBuf], path: &Path) -> Result<()> {
    let staging = path.with_extension(format!("staging-{}", std::process::id()));
    // Private to this process: concurrent runs may build the same initramfs.
    let partial = PathBuf::from(format!("{}.cpio", staging.display()));
    let _ = fs::remove_dir_all(&staging);
    let result = (|| {
        for dir in ["bin", "modules", "proc", "sys", "dev", "newroot"] {
            let dir = staging.join(dir);
            fs::create_dir_all(&dir).map_err(Error::io(format!("creating {}", dir.display())))?;
        }
        copy(Path::new(BUSYBOX), &staging.join("bin/busybox"))?;
        write(&staging.join("init"), INIT.as_bytes())?;
        set_executable(&staging.join("init"))?;
        let mut order = String::new();
        for module in modules {
            let name = install_module(module, &staging.join("modules"))?;
            order.push_str(&name);
            order.push('\n');
        }
        write(&staging.join("modules/order"), order.as_bytes())?;
        archive(&staging, &partial)?;
        fs::rename(&partial, path).map_err(Error::io(format!("creating {}", path.display())))
    })();
    let _ = fs::remove_dir_all(&staging);
    let _ = fs::remove_file(&partial);
    result
}

/// Copies a module into `dir` uncompressed (busybox insmod may not decompress) and returns
/// its file name there.
fn install_module(module: &Path, dir: &Path) -> Result<String> {
    let name = module
        .file_name()
        .and_then(|name| name.to_str())
        .ok_or_else(|| Error::Io {
            context: format!("reading the module name of {}", module.display()),
            source: std::io::ErrorKind::InvalidData.into(),
        })?;
    let (plain, decompressor) = match name.rsplit_once('.') {
        Some((stem, "xz")) => (stem, Some("xz")),
        Some((stem, "zst")) => (stem, Some("zstd")),
        Some((stem, "gz")) => (stem, Some("gzip")),
        _ => (name, None),
    };
    let target = dir.join(plain);
    match decompressor {
        None => copy(module, &target)?,
        Some(program) => {
            let out = host::output(Command::new(program).arg("-dc").arg(module))?;
            write(&target, &out.stdout)?;
        }
    }
    Ok(plain.to_string())
}

/// Packs `dir` into a newc cpio archive at `path`.
fn archive(dir: &Path, path: &Path) -> Result<()> {
    let listing = host::stdout(Command::new("find").arg(".").current_dir(dir))?;
    let file = fs::File::create(path).map_err(Error::io(format!("creating {}", path.display())))?;
    let mut cpio = Command::new("cpio");
    cpio.args(["-o", "-H", "newc", "--quiet"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(file);
    let mut child = cpio.spawn().map_err(|e| host::spawn_error(&cpio, e))?;
    let mut stdin = child.stdin.take().expect("stdin was piped");
    stdin
        .write_all(listing.as_bytes())
        .map_err(Error::io("feeding cpio"))?;
    drop(stdin);
    let status = child.wait().map_err(Error::io("waiting for cpio"))?;
    if !status.success() {
        return Err(Error::Command {
            command: host::describe(&cpio),
            status,
            details: String::new(),
        });
    }
    Ok(())
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    fs::copy(from, to).map(drop).map_err(Error::io(format!(
        "copying {} to {}",
        from.display(),
        to.display()
    )))
}

fn write(path: &Path, contents: &[u8]) -> Result<()> {
    fs::write(path, contents).map_err(Error::io(format!("writing {}", path.display())))
}

fn set_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))
        .map_err(Error::io(format!("making {} executable", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_order_skips_builtins_and_repeats() {
        let listing = "builtin virtio_pci\n\
            insmod /m/netfs.ko.xz \n\
            insmod /m/9pnet.ko.xz \n\
            insmod /m/9pnet_virtio.ko.xz \n\
            insmod /m/netfs.ko.xz \n\
            insmod /m/9pnet.ko.xz \n\
            insmod /m/9p.ko.xz \n";
        let order: Vec<_> = load_order(listing)
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        assert_eq!(
            order,
            [
                "/m/netfs.ko.xz",
                "/m/9pnet.ko.xz",
                "/m/9pnet_virtio.ko.xz",
                "/m/9p.ko.xz"
            ]
        );
    }
}
