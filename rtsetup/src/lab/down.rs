//! `lab down`: removes everything `lab up` made, whatever state an earlier run left.

use crate::error::Result;
use crate::lab::topology::Pattern;
use crate::lab::{responder, Lab};
use crate::netns::Netns;
use crate::rtnl::Rtnl;

impl Lab {
    /// Stops the responders, deletes the veth pairs, the bridges and the namespaces (and with
    /// the director's namespace its IPVS table), then the state directory. Missing pieces are
    /// skipped, so it is idempotent and cleans up after a failed `up`. Every step is tried;
    /// the first error is returned at the end.
    pub fn down(&self) -> Result<()> {
        let mut first_error = None;
        let mut note = |result: Result<()>| {
            if let Err(e) = result {
                first_error.get_or_insert(e);
            }
        };
        if self.topology.pattern != Pattern::Single {
            self.down_directors(&mut note);
        }
        for host in self.topology.real_servers() {
            note(responder::stop(&self.state, &host.name).map(drop));
        }
        match Rtnl::open(&self.root) {
            Ok(mut root) => {
                for host in &self.topology.hosts {
                    for index in 0..host.links.len() {
                        note(root.delete_link(&host.bridge_link(index)).map(drop));
                    }
                }
                for bridge in &self.topology.bridges {
                    note(root.delete_link(bridge).map(drop));
                }
            }
            Err(e) => note(Err(e)),
        }
        for host in &self.topology.hosts {
            note(Netns::delete(&host.name).map(drop));
        }
        note(self.state.remove());
        first_error.map_or(Ok(()), Err)
    }
}
