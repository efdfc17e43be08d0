//! What `lab up` leaves for `lab verify` and `lab down` under `/run/rtsetup/NAME`: the
//! topology it built, the responders' logs, and the ownership record (see
//! [`Ledger`](crate::lab::Ledger)).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::error::{Error, Object, Place, Result};
use crate::lab::topology::Topology;

/// Where every lab keeps its state.
pub const STATE_ROOT: &str = "/run/rtsetup";

/// One lab's state directory.
#[derive(Debug, Clone)]
pub(crate) struct StateDir {
    path: PathBuf,
}

impl StateDir {
    pub(crate) fn for_lab(name: &str) -> StateDir {
        StateDir {
            path: Path::new(STATE_ROOT).join(name),
        }
    }

    pub(crate) fn save_topology(&self, topology: &Topology) -> Result<()> {
        fs::create_dir_all(&self.path).map_err(|e| self.error("create", &self.path, e))?;
        let file = self.topology_file();
        fs::write(&file, topology.to_toml()).map_err(|e| self.error("write", &file, e))
    }

    pub(crate) fn load_topology(&self) -> Result<Option<Topology>> {
        let file = self.topology_file();
        match fs::read_to_string(&file) {
            Ok(text) => Topology::from_toml(&text).map(Some),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.error("read", &file, e)),
        }
    }

    pub(crate) fn log_file(&self, host: &str) -> PathBuf {
        self.path.join(format!("{host}.http.log"))
    }

    /// A file of the lab's own under its state directory.
    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    pub(crate) fn error(&self, action: &'static str, path: &Path, e: io::Error) -> Error {
        Error::from_io(
            action,
            Object::File(path.to_path_buf()),
            Place::Filesystem,
            e,
        )
    }

    fn topology_file(&self) -> PathBuf {
        self.path.join("topology.toml")
    }
}
