//! A user's machine for the ownership tests: a private world to populate with the names a
//! lab uses (so tests never meet the real host's objects, each other's, or other labs'), a
//! snapshot of everything in it, and the `rtsetup` binary run inside.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::process::{Command, Output};

use rtsetup::{Netns, NetnsExt, NsIdentity, Rtnl};

pub const RTSETUP: &str = env!("CARGO_BIN_EXE_rtsetup");

/// Set in the re-executed test process that runs inside the private world.
const INSIDE: &str = "RTSETUP_TEST_PRIVATE_WORLD";

/// Runs `body` in a private world: a new mount namespace with a fresh tmpfs on `/run` (so
/// `/run/netns` and `/run/rtsetup` are empty and private) and a new network namespace. The
/// test binary runs itself again for just the calling test under `unshare(1)`, because a
/// thread of a multi-threaded process cannot take a mount namespace of its own.
pub fn private_world(body: impl FnOnce()) {
    if std::env::var_os(INSIDE).is_some() {
        body();
        return;
    }
    testkit::require_root();
    let thread = std::thread::current();
    let test = thread.name().expect("libtest names each test's thread");
    let out = Command::new("unshare")
        .args([
            "--mount",
            "--net",
            "--propagation",
            "private",
            "--",
            "sh",
            "-c",
        ])
        .arg(r#"mount -t tmpfs rtsetup-test /run && ip link set lo up 2>/dev/null; exec "$@""#)
        .arg("sh")
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(INSIDE, "1")
        .output()
        .expect("run unshare (util-linux)");
    let text = text(&out);
    assert!(
        out.status.success() && text.contains("1 passed"),
        "{test} inside a private world:\n{text}"
    );
}

/// Runs `rtsetup ARGS`.
pub fn rtsetup(args: &[&str]) -> Output {
    Command::new(RTSETUP)
        .args(args)
        .output()
        .expect("run rtsetup")
}

/// Exit status, stdout and stderr, for messages.
pub fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// What a user sees of one interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkView {
    pub index: u32,
    pub kind: Option<String>,
    pub up: bool,
    /// The name of the bridge it is a port of.
    pub controller: Option<String>,
    /// Its addresses, IPv6 link-local ones aside (the kernel adds them on its own time).
    pub addresses: Vec<String>,
}

/// Everything in the world: the interfaces of the current namespace, every named
/// namespace with its identity and interfaces, and the labs' state directories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct World {
    pub root: BTreeMap<String, LinkView>,
    pub namespaces: BTreeMap<String, (NsIdentity, BTreeMap<String, LinkView>)>,
    pub labs: Vec<String>,
    /// Every file in /run/netns, mounted or not (`ip netns list` shows them all).
    pub netns_files: Vec<String>,
}

impl World {
    pub fn now() -> World {
        let mut namespaces = BTreeMap::new();
        for name in Netns::list().unwrap() {
            let netns = Netns::open(&name).unwrap();
            namespaces.insert(name, (netns.identity().unwrap(), links(&netns)));
        }
        World {
            root: links(&Netns::Current),
            namespaces,
            labs: files(rtsetup::lab::STATE_ROOT),
            netns_files: files(rtsetup::netns::NETNS_RUN_DIR),
        }
    }

    /// Every namespace and root interface whose name starts with `prefix`.
    pub fn named(&self, prefix: &str) -> Vec<String> {
        self.root
            .keys()
            .chain(self.namespaces.keys())
            .filter(|n| n.starts_with(prefix))
            .cloned()
            .collect()
    }
}

fn files(dir: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn links(netns: &Netns) -> BTreeMap<String, LinkView> {
    let mut rtnl = Rtnl::open(netns).unwrap();
    let links = rtnl.links().unwrap();
    let addresses = rtnl.addresses(None).unwrap();
    let name_of = |index: u32| {
        links
            .iter()
            .find(|l| l.index == index)
            .map(|l| l.name.clone())
    };
    links
        .iter()
        .map(|link| {
            let mut on_link: Vec<String> = addresses
                .iter()
                .filter(|a| a.link_index == link.index && a.scope != "link")
                .map(|a| a.net.to_string())
                .collect();
            on_link.sort();
            let view = LinkView {
                index: link.index,
                kind: link.kind.clone(),
                up: link.up,
                controller: link.controller.and_then(name_of),
                addresses: on_link,
            };
            (link.name.clone(), view)
        })
        .collect()
}

/// The machine of a user who has the walkthrough's names already: bridge `br0` with an
/// address and a port, namespaces `lb`, `client` and `ap` with interfaces and addresses
/// inside (made with the library's name-based calls, as a user's tools would).
pub fn populate_with_the_walkthrough_names() {
    let mut here = Rtnl::open(&Netns::Current).unwrap();
    here.add_bridge("br0").unwrap();
    here.add_address("br0", "10.99.0.1/24".parse().unwrap())
        .unwrap();
    here.set_up("br0").unwrap();
    for (i, name) in ["lb", "client", "ap"].into_iter().enumerate() {
        let netns = Netns::create(name).unwrap();
        let port = format!("user{i}");
        here.add_veth(&port, "eth0", Some(&netns)).unwrap();
        here.set_controller(&port, "br0").unwrap();
        here.set_up(&port).unwrap();
        let mut inside = Rtnl::open(&netns).unwrap();
        inside
            .add_address("eth0", format!("10.99.0.{}/24", 10 + i).parse().unwrap())
            .unwrap();
        inside.set_up("eth0").unwrap();
        inside.set_up("lo").unwrap();
    }
    // The walkthrough's own interface names, inside the user's namespaces.
    let mut ap = Rtnl::open(&Netns::open("ap").unwrap()).unwrap();
    ap.add_veth("ap-veth0", "ap-peer", None).unwrap();
    ap.add_address("ap-veth0", "192.168.0.3/24".parse().unwrap())
        .unwrap();
    here.add_veth("lb-br0", "lb-peer", None).unwrap();
}

/// The pids of the running `serve-http` processes of hosts whose names start with
/// `prefix` (other tests' labs run in other worlds but share the process table).
pub fn responders_named(prefix: &str) -> Vec<i32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        let serves = args.contains(&rtsetup::lab::SERVE_HTTP.as_bytes());
        let ours = args
            .windows(2)
            .any(|w| w[0] == b"--name" && w[1].starts_with(prefix.as_bytes()));
        let zombie = std::fs::read_to_string(entry.path().join("stat"))
            .ok()
            .and_then(|stat| Some(stat.rsplit_once(')')?.1.trim_start().starts_with('Z')))
            .unwrap_or(true);
        if serves && ours && !zombie {
            found.push(pid);
        }
    }
    found.sort();
    found
}

/// A random number in `0..bound`, different on every call and every run.
pub fn random_below(bound: u64) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    hasher.finish() % bound.max(1)
}
