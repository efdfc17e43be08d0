//! `lab up` and `lab down` on a machine that already has the lab's names (host lane: root,
//! no IPVS needed). Each test runs in a private world (its own `/run` and network
//! namespace, see `world::private_world`), so the walkthrough's real names br0, lb, client
//! and ap are used without meeting the host's objects, other tests' or other labs'.
//!
//! On this kernel without IPVS, `lab up` stops at the IPVS step, after every namespace,
//! interface, address, route and sysctl is made: these tests cover all of that, the
//! refusals and `down`. The responders and a complete `up` are covered with the same
//! checks in the VM lane (kernel_ownership.rs).

mod world;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rtsetup::lab::{Lab, Topology};
use rtsetup::{Netns, NetnsExt, Rtnl};
use world::{populate_with_the_walkthrough_names, private_world, rtsetup, text, World};

/// `lab up` as far as this kernel lets it go: to the end, or to the IPVS step.
fn up_to_ipvs(args: &[&str]) {
    let out = rtsetup(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() || stderr.contains("IPVS in namespace"),
        "lab up failed before IPVS:\n{}",
        text(&out)
    );
}

#[test]
fn down_without_up_removes_nothing_and_says_so() {
    private_world(|| {
        populate_with_the_walkthrough_names();
        let before = World::now();
        for args in [
            &["lab", "down"][..],
            &["lab", "down", "--lab", "dsr"],
            &["lab", "down", "--real-servers", "3"],
        ] {
            let out = rtsetup(args);
            assert_eq!(out.status.code(), Some(0), "{}", text(&out));
            assert!(
                String::from_utf8_lossy(&out.stdout).contains("no record of lab dsr"),
                "{}",
                text(&out)
            );
            assert_eq!(World::now(), before, "{args:?} changed the host");
        }
    });
}

#[test]
fn up_refuses_every_name_it_did_not_create_and_creates_nothing() {
    private_world(|| {
        populate_with_the_walkthrough_names();
        let before = World::now();
        let out = rtsetup(&["lab", "up"]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        for named in [
            "bridge br0",
            "namespace lb",
            "namespace client",
            "namespace ap",
            "veth lb-br0",
            "--prefix",
        ] {
            assert!(stderr.contains(named), "no {named:?} in:\n{}", text(&out));
        }
        assert_eq!(World::now(), before, "a refused up changed the host");
        let out = rtsetup(&["lab", "down"]);
        assert!(out.status.success(), "{}", text(&out));
        assert_eq!(
            World::now(),
            before,
            "down after a refused up changed the host"
        );
    });
}

#[test]
fn a_link_planted_under_a_lab_name_is_refused_and_never_followed() {
    private_world(|| {
        let theirs = Netns::create("theirs").unwrap();
        let identity = theirs.identity().unwrap();
        let planted = std::path::Path::new(rtsetup::netns::NETNS_RUN_DIR).join("lb");
        std::os::unix::fs::symlink("/run/netns/theirs", &planted).unwrap();
        let before = World::now();
        let out = rtsetup(&["lab", "up"]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("namespace name lb (a link to /run/netns/theirs)"),
            "{}",
            text(&out)
        );
        assert_eq!(World::now(), before, "a refused up changed the host");
        let out = rtsetup(&["lab", "down"]);
        assert!(out.status.success(), "{}", text(&out));
        assert!(planted.symlink_metadata().is_ok(), "down removed the link");
        assert!(theirs.identity().unwrap().same(&identity));
    });
}

#[test]
fn a_state_directory_that_is_a_link_is_refused_before_anything_is_made() {
    private_world(|| {
        std::fs::create_dir("/run/elsewhere").unwrap();
        std::os::unix::fs::symlink("/run/elsewhere", rtsetup::lab::STATE_ROOT).unwrap();
        let before = World::now();
        let refused = |args: &[&str]| {
            let out = rtsetup(args);
            assert_eq!(out.status.code(), Some(1), "{args:?}: {}", text(&out));
            assert!(
                String::from_utf8_lossy(&out.stderr)
                    .contains(&format!("{} is a link", rtsetup::lab::STATE_ROOT)),
                "{}",
                text(&out)
            );
        };
        refused(&["lab", "up"]);
        assert_eq!(World::now(), before, "a refused up changed the host");
        assert_eq!(std::fs::read_dir("/run/elsewhere").unwrap().count(), 0);
        // A record found through the link is not acted on either.
        std::fs::create_dir("/run/elsewhere/dsr").unwrap();
        std::fs::write("/run/elsewhere/dsr/record.json", "[]").unwrap();
        let planted = World::now();
        refused(&["lab", "down"]);
        assert_eq!(World::now(), planted, "a refused down changed the host");
        assert!(std::path::Path::new("/run/elsewhere/dsr/record.json").exists());
    });
}

#[test]
fn an_interface_named_as_the_bridge_is_refused_and_outlives_down() {
    private_world(|| {
        let mut here = Rtnl::open(&Netns::Current).unwrap();
        here.add_veth("br0", "br0-peer", None).unwrap();
        here.add_address("br0", "10.98.0.1/24".parse().unwrap())
            .unwrap();
        let before = World::now();
        let out = rtsetup(&["lab", "up"]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("veth br0"),
            "{}",
            text(&out)
        );
        assert_eq!(World::now(), before);
        for _ in 0..2 {
            assert!(rtsetup(&["lab", "down"]).status.success());
            assert_eq!(World::now(), before);
        }
    });
}

#[test]
fn a_prefixed_lab_comes_up_twice_beside_the_users_objects_and_down_removes_only_it() {
    private_world(|| {
        populate_with_the_walkthrough_names();
        let before = World::now();
        up_to_ipvs(&["lab", "up", "--prefix", "p-"]);
        let up = World::now();
        let made = up.named("p-");
        for name in ["p-br0", "p-client", "p-lb", "p-ap", "p-ap-br0"] {
            assert!(made.contains(&name.to_string()), "{name} missing: {made:?}");
        }
        assert_eq!(up.labs, ["p-dsr"]);
        // The user's objects are as they were, the lab's ports are on the lab's bridge.
        for (name, link) in &before.root {
            assert_eq!(up.root.get(name), Some(link), "{name} changed");
        }
        for (name, ns) in &before.namespaces {
            assert_eq!(
                up.namespaces.get(name),
                Some(ns),
                "namespace {name} changed"
            );
        }
        assert_eq!(up.root["p-ap-br0"].controller.as_deref(), Some("p-br0"));

        // A second up completes the same lab: nothing refused, nothing new.
        up_to_ipvs(&["lab", "up", "--prefix", "p-"]);
        assert_eq!(World::now(), up, "a second up changed the lab");

        let out = rtsetup(&["lab", "down", "--prefix", "p-"]);
        assert!(out.status.success(), "{}", text(&out));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("namespace p-lb") && stdout.contains("bridge p-br0"),
            "{}",
            text(&out)
        );
        assert_eq!(World::now(), before, "down did not restore the host");
        let again = rtsetup(&["lab", "down", "--prefix", "p-"]);
        assert!(
            String::from_utf8_lossy(&again.stdout).contains("no record of lab p-dsr"),
            "{}",
            text(&again)
        );
    });
}

#[test]
fn two_labs_under_two_prefixes_coexist_and_go_down_one_by_one() {
    private_world(|| {
        let empty = World::now();
        up_to_ipvs(&["lab", "up", "--prefix", "a-"]);
        let only_a = World::now();
        // Another lab may not take lab a-dsr's objects either.
        let mut thief = Topology::walkthrough(1, "rr")
            .unwrap()
            .with_prefix("a-")
            .unwrap();
        thief.name = "thief".into();
        std::fs::write("/run/thief.toml", thief.to_toml()).unwrap();
        let out = rtsetup(&["lab", "up", "--topology", "/run/thief.toml"]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("lab thief will not touch") && stderr.contains("bridge a-br0"),
            "{}",
            text(&out)
        );
        assert_eq!(World::now(), only_a, "a refused lab changed another");
        up_to_ipvs(&["lab", "up", "--prefix", "b-", "--real-servers", "2"]);
        assert_eq!(World::now().labs, ["a-dsr", "b-dsr"]);
        let list = rtsetup(&["lab", "list"]);
        assert_eq!(String::from_utf8_lossy(&list.stdout), "a-dsr\nb-dsr\n");
        assert!(rtsetup(&["lab", "down", "--lab", "b-dsr"]).status.success());
        assert_eq!(World::now(), only_a, "taking b down touched a");
        assert!(rtsetup(&["lab", "down", "--prefix", "a-"]).status.success());
        assert_eq!(World::now(), empty);
    });
}

#[test]
fn a_prefix_that_makes_names_too_long_is_refused_before_anything_is_made() {
    private_world(|| {
        let before = World::now();
        let out = rtsetup(&["lab", "up", "--prefix", "lab1-"]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("\"lab1-client\"") && stderr.contains("shorter prefix"),
            "{}",
            text(&out)
        );
        let out = rtsetup(&["lab", "up", "--prefix", "a/b"]);
        assert!(!out.status.success(), "{}", text(&out));
        assert_eq!(World::now(), before);
    });
}

#[test]
fn up_killed_at_random_points_then_down_leaves_the_host_as_it_was() {
    private_world(|| {
        populate_with_the_walkthrough_names();
        let before = World::now();
        let started = Instant::now();
        up_to_ipvs(&["lab", "up", "--prefix", "k-", "--real-servers", "3"]);
        let full = started.elapsed();
        assert!(rtsetup(&["lab", "down", "--prefix", "k-"]).status.success());
        assert_eq!(World::now(), before);

        let mut kills = Vec::new();
        for round in 0..10 {
            // Some rounds kill two runs in a row: the second resumes the first's record.
            for _ in 0..1 + round % 2 {
                let delay = Duration::from_micros(world::random_below(full.as_micros() as u64));
                let mut child = Command::new(world::RTSETUP)
                    .args(["lab", "up", "--prefix", "k-", "--real-servers", "3"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap();
                std::thread::sleep(delay);
                child.kill().unwrap();
                child.wait().unwrap();
                kills.push(delay);
            }
            let out = rtsetup(&["lab", "down", "--prefix", "k-"]);
            assert!(
                out.status.success(),
                "after kills at {kills:?}:\n{}",
                text(&out)
            );
            let after = World::now();
            assert_eq!(
                after, before,
                "after kills at {kills:?} (a full up takes {full:?})"
            );
        }
    });
}

#[test]
fn a_user_without_privileges_gets_a_clear_error_and_nothing_is_created() {
    private_world(|| {
        populate_with_the_walkthrough_names();
        // A copy any user may run, wherever the checkout is (/root is 0700 on many machines).
        let exe = std::path::Path::new("/run/unprivileged/rtsetup");
        std::fs::create_dir(exe.parent().unwrap()).unwrap();
        std::fs::copy(world::RTSETUP, exe).unwrap();
        let before = World::now();
        for (args, says) in [
            (&["lab", "up", "--prefix", "u-"][..], "bring up lab u-dsr"),
            (&["lab", "down"][..], "take down lab dsr"),
        ] {
            let out = Command::new("setpriv")
                .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
                .arg(exe)
                .args(args)
                .output()
                .expect("run setpriv (util-linux)");
            assert_eq!(out.status.code(), Some(1), "{}", text(&out));
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.contains(&format!("permission denied to {says}"))
                    && stderr.contains("run as root"),
                "{}",
                text(&out)
            );
            assert_eq!(World::now(), before);
        }
        assert!(!std::path::Path::new(rtsetup::lab::STATE_ROOT).exists());
    });
}

#[test]
fn an_ha_lab_without_keepalived_says_how_to_install_it_and_creates_nothing() {
    private_world(|| {
        // Hide every keepalived rtsetup looks for, in this private mount namespace only.
        for path in rtsetup::lab::keepalived::CANDIDATES {
            if std::path::Path::new(path).is_file() {
                let status = Command::new("mount")
                    .args(["--bind", "/dev/null", path])
                    .status()
                    .expect("run mount (util-linux)");
                assert!(status.success(), "cannot hide {path}");
            }
        }
        let before = World::now();
        let out = rtsetup(&["lab", "up", "--topology", "ha"]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("keepalived")
                && stderr.contains("not installed")
                && stderr.contains("apt-get install keepalived"),
            "{}",
            text(&out)
        );
        assert_eq!(World::now(), before, "a refused ha lab changed the host");
        assert!(!std::path::Path::new(rtsetup::lab::STATE_ROOT).exists());
    });
}

#[test]
fn down_leaves_alone_what_took_a_recorded_name_since() {
    private_world(|| {
        let topology = Topology::walkthrough(1, "rr")
            .unwrap()
            .with_prefix("r-")
            .unwrap();
        let lab = Lab::new(topology).unwrap();
        match lab.up(std::path::Path::new(world::RTSETUP)) {
            Ok(()) | Err(rtsetup::Error::Ipvs { .. }) => {}
            Err(e) => panic!("up failed before IPVS: {e}"),
        }
        // The user replaces the lab's client namespace and bridge with their own.
        Netns::delete("r-client").unwrap();
        let theirs = Netns::create("r-client").unwrap();
        Rtnl::open(&theirs)
            .unwrap()
            .add_veth("r-client-veth0", "x", None)
            .unwrap();
        let mut here = Rtnl::open(&Netns::Current).unwrap();
        here.delete_link("r-br0").unwrap();
        here.add_bridge("r-br0").unwrap();
        let before = World::now();

        let teardown = lab.down().unwrap().expect("a record");
        let left = teardown.left.join("\n");
        assert!(
            left.contains("namespace r-client") && left.contains("bridge r-br0"),
            "{teardown:?}"
        );
        let after = World::now();
        assert_eq!(after.named("r-"), ["r-br0", "r-client"]);
        assert_eq!(after.root["r-br0"], before.root["r-br0"]);
        assert_eq!(after.namespaces["r-client"], before.namespaces["r-client"]);
        assert!(lab.down().unwrap().is_none(), "the record outlived down");
    });
}

/// The record's other kinds, in a namespace the lab does not own (as a router namespace of
/// another topology may be): sysctls come back to their old values unless changed since, a
/// rerun records nothing twice (nor the lab's own value as the old one), addresses and routes
/// go alone, the process stops.
#[test]
fn the_record_undoes_its_changes_in_a_namespace_it_does_not_own() {
    use rtsetup::lab::Ledger;
    use rtsetup::sysctl::{self, Key};
    private_world(|| {
        let user = Netns::create("user").unwrap();
        let mut inside = Rtnl::open(&user).unwrap();
        inside.add_veth("eth0", "eth1", None).unwrap();
        inside
            .add_address("eth0", "10.1.0.1/24".parse().unwrap())
            .unwrap();
        inside.set_up("eth0").unwrap();
        inside.set_up("eth1").unwrap();
        let ignore = Key::ipv4_conf("all", "arp_ignore");
        let announce = Key::ipv4_conf("all", "arp_announce");
        sysctl::write(&user, &ignore, "0").unwrap();
        sysctl::write(&user, &announce, "0").unwrap();
        let before = World::now();

        let pid = {
            let mut ledger = Ledger::open("kinds").unwrap();
            ledger.set_sysctl(&user, &ignore, "1").unwrap();
            ledger.set_sysctl(&user, &announce, "2").unwrap();
            ledger
                .add_address(&mut inside, "eth0", "10.1.0.2/24".parse().unwrap())
                .unwrap();
            ledger
                .add_route(
                    &mut inside,
                    "10.2.0.0/16".parse().unwrap(),
                    Some("10.1.0.254".parse().unwrap()),
                    None,
                )
                .unwrap();
            let mut sleep = user.command("sleep").unwrap();
            sleep.arg("60");
            ledger.spawn(&user, "sleeper", sleep).unwrap()
        };
        // A rerun: the sysctl's old value stays the user's, the process is not started twice.
        let mut ledger = Ledger::open("kinds").unwrap();
        // The same namespace by file: teardown could not find it again, so it is refused
        // before anything changes.
        let by_path = Netns::Path("/run/netns/user".into());
        let refused = ledger.set_sysctl(&by_path, &announce, "1").unwrap_err();
        assert!(
            matches!(
                refused,
                rtsetup::Error::Invalid {
                    what: "namespace",
                    ..
                }
            ),
            "{refused}"
        );
        assert_eq!(sysctl::read(&user, &announce).unwrap(), "2");
        ledger.set_sysctl(&user, &ignore, "1").unwrap();
        let mut sleep = user.command("sleep").unwrap();
        sleep.arg("60");
        assert_eq!(ledger.spawn(&user, "sleeper", sleep).unwrap(), pid);
        assert_eq!(ledger.entries().len(), 5, "{:#?}", ledger.entries());
        // The user changes one sysctl the lab set: the lab must not undo that.
        sysctl::write(&user, &announce, "1").unwrap();

        let teardown = ledger.teardown().unwrap();
        assert_eq!(teardown.removed.len(), 4, "{teardown:?}");
        assert!(
            teardown.left.len() == 1 && teardown.left[0].contains("arp_announce"),
            "{teardown:?}"
        );
        assert_eq!(sysctl::read(&user, &ignore).unwrap(), "0");
        assert_eq!(sysctl::read(&user, &announce).unwrap(), "1");
        sysctl::write(&user, &announce, "0").unwrap();
        assert_eq!(World::now(), before);
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists()
                || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .unwrap_or_default()
                    .contains(") Z"),
            "the recorded process still runs"
        );
        assert!(!Rtnl::open(&user)
            .unwrap()
            .routes()
            .unwrap()
            .iter()
            .any(|r| r.destination.to_string() == "10.2.0.0/16"));
    });
}

#[test]
fn down_from_another_namespace_than_up_removes_nothing() {
    private_world(|| {
        let empty = World::now();
        up_to_ipvs(&["lab", "up", "--prefix", "w-"]);
        let up = World::now();
        let out = Command::new("unshare")
            .args([
                "--net",
                "--",
                world::RTSETUP,
                "lab",
                "down",
                "--prefix",
                "w-",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("another network namespace"),
            "{}",
            text(&out)
        );
        assert_eq!(
            World::now(),
            up,
            "a down in the wrong namespace removed something"
        );
        assert!(rtsetup(&["lab", "down", "--prefix", "w-"]).status.success());
        assert_eq!(World::now(), empty);
    });
}
