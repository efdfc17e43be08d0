//! Scratch namespaces for host tests: unique names, deleted on drop.

use rtsetup::{Netns, NetnsExt, Rtnl};

/// Named namespaces that belong to one test and vanish with it (their veths with them).
pub struct Scratch {
    names: Vec<String>,
}

impl Scratch {
    /// Requires root, then creates `rt<pid>-<test>-<label>` for each label.
    pub fn new(test: &str, labels: &[&str]) -> (Scratch, Vec<Netns>) {
        testkit::require_root();
        let mut scratch = Scratch { names: Vec::new() };
        let namespaces = labels
            .iter()
            .map(|label| {
                let name = format!("rt{}-{test}-{label}", std::process::id());
                let netns = Netns::create(&name).expect("create a scratch namespace");
                scratch.names.push(name);
                netns
            })
            .collect();
        (scratch, namespaces)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        for name in &self.names {
            let _ = Netns::delete(name);
        }
    }
}

/// Connects two namespaces with a veth pair `a`/`b` (`a` in `left`, `b` in `right`),
/// assigns the addresses and brings both ends and `lo` up.
pub fn wire(left: &Netns, a: &str, a_addr: &str, right: &Netns, b: &str, b_addr: &str) {
    let mut l = Rtnl::open(left).unwrap();
    l.add_veth(a, b, Some(right)).unwrap();
    l.add_address(a, a_addr.parse().unwrap()).unwrap();
    l.set_up(a).unwrap();
    l.set_up("lo").unwrap();
    let mut r = Rtnl::open(right).unwrap();
    r.add_address(b, b_addr.parse().unwrap()).unwrap();
    r.set_up(b).unwrap();
    r.set_up("lo").unwrap();
}
