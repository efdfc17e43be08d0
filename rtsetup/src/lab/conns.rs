//! The IPVS connection table of a lab's namespace, through ipvs-rs's reader.

use ipvs_rs::Connection;

use crate::error::{Error, Result};
use crate::netns::{within, Netns, NetnsExt};

/// The connection entries in `netns`.
///
/// ```no_run
/// use rtsetup::NetnsExt;
/// let lb1 = rtsetup::Netns::open("lb1")?;
/// for c in rtsetup::lab::conns::connections(&lb1)? {
///     println!("{} -> {} {}", c.client, c.destination, c.state);
/// }
/// # Ok::<(), rtsetup::Error>(())
/// ```
pub fn connections(netns: &Netns) -> Result<Vec<Connection>> {
    // Entered here, so a namespace that is not there is rtsetup's NotFound like everywhere.
    within(netns, || ipvs_rs::connections(&Netns::Current))?.map_err(|source| Error::Ipvs {
        action: "reading the connection table".into(),
        place: netns.place(),
        source,
    })
}
