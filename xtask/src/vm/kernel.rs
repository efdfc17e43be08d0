//! Debian kernels for the guest: finding the package, downloading and caching it.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::host;

/// A kernel series the lane can boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Series {
    /// Debian bookworm's own kernel, the one `linux-image-amd64` depends on.
    #[default]
    V6_1,
    /// The newest 6.12 kernel bookworm-security carries.
    V6_12,
}

impl Series {
    /// The meta-package that depends on the newest kernel package of this series; following
    /// it instead of naming an ABI keeps working when the archive drops old ABIs.
    fn meta_package(self) -> &'static str {
        match self {
            Series::V6_1 => "linux-image-amd64",
            Series::V6_12 => "linux-image-6.12-amd64",
        }
    }
}

impl fmt::Display for Series {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Series::V6_1 => "6.1",
            Series::V6_12 => "6.12",
        })
    }
}

impl FromStr for Series {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "6.1" => Ok(Series::V6_1),
            "6.12" => Ok(Series::V6_12),
            other => Err(Error::Usage(format!(
                "unknown kernel {other:?}: choose 6.1 or 6.12"
            ))),
        }
    }
}

/// An extracted, depmod-ed kernel package in the cache.
#[derive(Debug, Clone)]
pub struct Kernel {
    /// The cache directory the package was extracted into (it holds boot/ and lib/).
    pub dir: PathBuf,
    /// `uname -r` of the kernel.
    pub release: String,
    /// The kernel image.
    pub vmlinuz: PathBuf,
}

impl Kernel {
    /// The kernel's module tree, `lib/modules/<release>` in the cache.
    pub fn modules(&self) -> PathBuf {
        self.dir.join("lib/modules").join(&self.release)
    }
}

/// The cache root: `$XDG_CACHE_HOME/ipvs-rs-vm`, by default `~/.cache/ipvs-rs-vm`.
pub fn cache_root() -> Result<PathBuf> {
    let base = match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => std::env::var_os("HOME")
            .map(|home| PathBuf::from(home).join(".cache"))
            .ok_or_else(|| Error::Io {
                context: "finding the cache directory".into(),
                source: std::io::Error::other("neither XDG_CACHE_HOME nor HOME is set"),
            })?,
    };
    Ok(base.join("ipvs-rs-vm"))
}

/// Returns the newest kernel of `series`, downloading and extracting it on first use.
pub fn prepare(series: Series) -> Result<Kernel> {
    let root = cache_root()?;
    fs::create_dir_all(&root).map_err(Error::io(format!("creating {}", root.display())))?;
    let found = candidate(series).or_else(|_| {
        // Fresh machines often have no package lists yet.
        host::output(Command::new("apt-get").args(["update", "-q"]))?;
        candidate(series)
    });
    let (package, version) = match found {
        Ok(found) => found,
        Err(err) => {
            // Offline, or apt unusable: a kernel of this series from an earlier run will do.
            let dir = newest_cached(&root, series).ok_or(err)?;
            eprintln!(
                "xtask: apt cannot tell the current {series} kernel; using {}",
                dir.display()
            );
            return load(&dir);
        }
    };
    let dir = root.join(format!("{package}_{version}"));
    if !dir.exists() {
        eprintln!(
            "xtask: downloading {package} {version} into {}",
            root.display()
        );
        download(&package, &version, &root, &dir)?;
    }
    load(&dir)
}

/// The cached kernel of `series` with the greatest package name and version, if any.
fn newest_cached(root: &Path, series: Series) -> Option<PathBuf> {
    let prefix = format!("linux-image-{series}.");
    fs::read_dir(root)
        .ok()?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with(&prefix) && name.contains('_'))
        .max()
        .map(|name| root.join(name))
}

/// The kernel package of `series` apt would install now, and its version.
fn candidate(series: Series) -> Result<(String, String)> {
    let meta = series.meta_package();
    let depends = host::stdout(Command::new("apt-cache").args(["depends", meta]))?;
    let package = depends_target(&depends, series).ok_or_else(|| Error::Kernel {
        series: series.to_string(),
        reason: format!("`apt-cache depends {meta}` names no linux-image-{series}.* package"),
    })?;
    let show =
        host::stdout(Command::new("apt-cache").args(["show", "--no-all-versions", &package]))?;
    let version = field(&show, "Version").ok_or_else(|| Error::Kernel {
        series: series.to_string(),
        reason: format!("`apt-cache show {package}` gives no version"),
    })?;
    Ok((package, version))
}

/// The kernel package in `apt-cache depends` output, if it belongs to `series`.
fn depends_target(depends: &str, series: Series) -> Option<String> {
    let prefix = format!("linux-image-{series}.");
    depends
        .lines()
        .filter_map(|line| line.trim().strip_prefix("Depends:"))
        .map(str::trim)
        .find(|name| name.starts_with(&prefix) && !name.ends_with("-dbg"))
        .map(str::to_string)
}

/// The value of the first `name:` field of a Debian control stanza.
fn field(stanza: &str, name: &str) -> Option<String> {
    stanza.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key == name).then(|| value.trim().to_string())
    })
}

/// Downloads and extracts the package into `dir`, via a private staging directory renamed at
/// the end, so that concurrent runs never see a half-extracted kernel.
fn download(package: &str, version: &str, root: &Path, dir: &Path) -> Result<()> {
    let staging = root.join(format!(".staging-{}", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging).map_err(Error::io(format!("creating {}", staging.display())))?;
    let result = (|| {
        let fetch = || {
            host::output(
                Command::new("apt-get")
                    .args(["download", "-q", &format!("{package}={version}")])
                    .current_dir(&staging),
            )
        };
        if fetch().is_err() {
            host::output(Command::new("apt-get").args(["update", "-q"]))?;
            fetch()?;
        }
        let deb = find_file(&staging, |name| name.ends_with(".deb"))?;
        let tree = staging.join("tree");
        host::output(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&tree))?;
        fs::remove_file(&deb).map_err(Error::io(format!("removing {}", deb.display())))?;
        let kernel = load(&tree)?;
        host::output(
            Command::new("/sbin/depmod")
                .arg("-b")
                .arg(&tree)
                .arg(&kernel.release),
        )?;
        match fs::rename(&tree, dir) {
            Ok(()) => Ok(()),
            // Another run finished the same download first; use its copy.
            Err(_) if dir.exists() => Ok(()),
            Err(e) => Err(Error::io(format!("moving the kernel to {}", dir.display()))(e)),
        }
    })();
    let _ = fs::remove_dir_all(&staging);
    result
}

/// The kernel extracted in `dir`.
fn load(dir: &Path) -> Result<Kernel> {
    let vmlinuz = find_file(&dir.join("boot"), |name| name.starts_with("vmlinuz-"))?;
    let release = vmlinuz
        .file_name()
        .and_then(|name| name.to_str())
        .and_then(|name| name.strip_prefix("vmlinuz-"))
        .map(str::to_string)
        .ok_or_else(|| Error::Io {
            context: format!("reading the kernel release from {}", vmlinuz.display()),
            source: std::io::ErrorKind::InvalidData.into(),
        })?;
    Ok(Kernel {
        dir: dir.to_path_buf(),
        release,
        vmlinuz,
    })
}

/// The first file in `dir` whose name matches.
fn find_file(dir: &Path, matches: impl Fn(&str) -> bool) -> Result<PathBuf> {
    let entries = fs::read_dir(dir).map_err(Error::io(format!("reading {}", dir.display())))?;
    for entry in entries {
        let entry = entry.map_err(Error::io(format!("reading {}", dir.display())))?;
        if entry.file_name().to_str().is_some_and(&matches) {
            return Ok(entry.path());
        }
    }
    Err(Error::Io {
        context: format!("looking for the expected file in {}", dir.display()),
        source: std::io::ErrorKind::NotFound.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_parse_and_display_round_trip() {
        for series in [Series::V6_1, Series::V6_12] {
            assert_eq!(series.to_string().parse::<Series>().unwrap(), series);
        }
        assert!("6.2".parse::<Series>().is_err());
    }

    #[test]
    fn depends_target_picks_the_series_package() {
        let depends = "linux-image-6.12-amd64\n  Depends: linux-image-6.12.117+deb12-amd64\n";
        assert_eq!(
            depends_target(depends, Series::V6_12).as_deref(),
            Some("linux-image-6.12.117+deb12-amd64")
        );
        // 6.12 must not be mistaken for 6.1, nor the other way round.
        assert_eq!(depends_target(depends, Series::V6_1), None);
        let depends = "linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n";
        assert_eq!(
            depends_target(depends, Series::V6_1).as_deref(),
            Some("linux-image-6.1.0-56-amd64")
        );
    }

    #[test]
    fn newest_cached_matches_the_series_only() {
        let root = std::env::temp_dir().join(format!("xtask-cache-{}", std::process::id()));
        for dir in [
            "linux-image-6.1.0-55-amd64_6.1.180-1",
            "linux-image-6.1.0-56-amd64_6.1.192-2",
            "linux-image-6.12.117+deb12-amd64_6.12.117-1~deb12u1",
            ".staging-42",
        ] {
            fs::create_dir_all(root.join(dir)).unwrap();
        }
        let newest =
            |series| newest_cached(&root, series).map(|p| p.file_name().unwrap().to_owned());
        assert_eq!(
            newest(Series::V6_1).unwrap(),
            "linux-image-6.1.0-56-amd64_6.1.192-2"
        );
        assert_eq!(
            newest(Series::V6_12).unwrap(),
            "linux-image-6.12.117+deb12-amd64_6.12.117-1~deb12u1"
        );
        fs::remove_dir_all(&root).unwrap();
        assert_eq!(newest(Series::V6_1), None);
    }

    #[test]
    fn field_reads_a_control_stanza() {
        let stanza = "Package: linux-image-6.1.0-56-amd64\nVersion: 6.1.192-2\nSize: 1\n";
        assert_eq!(field(stanza, "Version").as_deref(), Some("6.1.192-2"));
        assert_eq!(field(stanza, "Depends"), None);
    }
}
