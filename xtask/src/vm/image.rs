//! The kernel image QEMU boots.
//!
//! Under TCG a guest spends seconds decompressing an xz-compressed bzImage (Debian's 6.1). An
//! uncompressed ELF `vmlinux` boots through its PVH entry point and skips that work, so it is
//! extracted once into the cache when the kernel supports PVH.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::kernel::Kernel;
use crate::error::{Error, Result};
use crate::host;

/// The start of an xz stream.
const XZ_MAGIC: &[u8] = b"\xfd7zXZ\x00";

/// The image to boot: the cached uncompressed vmlinux when one can be made, else vmlinuz.
pub fn bootable(kernel: &Kernel) -> Result<PathBuf> {
    let vmlinux = kernel.dir.join("boot/vmlinux");
    if vmlinux.exists() {
        return Ok(vmlinux);
    }
    let config = kernel.dir.join(format!("boot/config-{}", kernel.release));
    let config = fs::read_to_string(&config).unwrap_or_default();
    if !config.lines().any(|line| line == "CONFIG_PVH=y") {
        return Ok(kernel.vmlinuz.clone());
    }
    let image = fs::read(&kernel.vmlinuz)
        .map_err(Error::io(format!("reading {}", kernel.vmlinuz.display())))?;
    match find(&image, XZ_MAGIC) {
        Some(start) => {
            decompress_xz(&image[start..], &vmlinux)?;
            Ok(vmlinux)
        }
        None => Ok(kernel.vmlinuz.clone()),
    }
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Decompresses the xz stream at the start of `data` (data after it is ignored) into `path`.
fn decompress_xz(data: &[u8], path: &Path) -> Result<()> {
    let partial = path.with_extension(format!("partial-{}", std::process::id()));
    let file =
        fs::File::create(&partial).map_err(Error::io(format!("creating {}", partial.display())))?;
    let mut xz = Command::new("xz");
    xz.args(["-dc", "--single-stream"])
        .stdin(Stdio::piped())
        .stdout(file);
    let mut child = xz.spawn().map_err(|e| host::spawn_error(&xz, e))?;
    let fed = child
        .stdin
        .take()
        .map_or(Ok(()), |mut stdin| stdin.write_all(data))
        // xz stops reading at the end of the stream; the bytes after it are not needed.
        .or_else(|e| match e.kind() {
            std::io::ErrorKind::BrokenPipe => Ok(()),
            _ => Err(e),
        });
    let status = child.wait().map_err(Error::io("waiting for xz"))?;
    let result = match fed {
        Err(e) => Err(Error::io("feeding xz")(e)),
        Ok(()) if !status.success() => Err(Error::Command {
            command: host::describe(&xz),
            status,
            details: String::new(),
        }),
        Ok(()) => {
            fs::rename(&partial, path).map_err(Error::io(format!("creating {}", path.display())))
        }
    };
    if result.is_err() {
        let _ = fs::remove_file(&partial);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_stream_after_a_header() {
        assert_eq!(find(b"header\xfd7zXZ\x00rest", XZ_MAGIC), Some(6));
        assert_eq!(find(b"no stream here", XZ_MAGIC), None);
    }

    #[test]
    fn decompresses_a_stream_followed_by_other_bytes() {
        let compressed = host::output(
            Command::new("sh")
                .arg("-c")
                .arg("printf 'kernel bytes' | xz -c"),
        )
        .unwrap()
        .stdout;
        // More trailing bytes than a pipe buffers, as after a kernel's xz stream.
        let mut data = compressed;
        data.extend(std::iter::repeat_n(b'x', 1 << 20));
        let path = std::env::temp_dir().join(format!("xtask-vmlinux-{}", std::process::id()));
        decompress_xz(&data, &path).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"kernel bytes");
        fs::remove_file(&path).unwrap();
    }
}
