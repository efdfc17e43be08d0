//! `lab up` and `lab down` on a machine that already has the lab's names, on a kernel with
//! IPVS (the VM lane), where `up` completes: responders run, so the record's processes,
//! a second `up` and `up` killed at random points (responders included) are covered. Each
//! test runs in a private world (see `world::private_world`); the host lane's
//! lab_ownership.rs covers the rest.

#![cfg(feature = "kernel-tests")]

mod world;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use world::{populate_with_the_walkthrough_names, private_world, rtsetup, text, World};

fn up(args: &[&str]) {
    let out = rtsetup(args);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn a_complete_lab_beside_the_users_objects_comes_up_twice_and_goes_down_alone() {
    testkit::require_ipvs();
    private_world(|| {
        populate_with_the_walkthrough_names();
        let before = World::now();
        let refused = rtsetup(&["lab", "up"]);
        assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
        assert_eq!(World::now(), before);

        up(&["lab", "up", "--prefix", "p-", "--scheduler", "rr"]);
        let verify = rtsetup(&["lab", "verify", "--prefix", "p-"]);
        assert_eq!(verify.status.code(), Some(0), "{}", text(&verify));
        let responders = world::responders_named("p-");
        assert_eq!(responders.len(), 1, "one responder, in p-ap");
        let lab = World::now();
        for (name, ns) in &before.namespaces {
            assert_eq!(
                lab.namespaces.get(name),
                Some(ns),
                "namespace {name} changed"
            );
        }
        for (name, link) in &before.root {
            assert_eq!(lab.root.get(name), Some(link), "{name} changed");
        }

        up(&["lab", "up", "--prefix", "p-", "--scheduler", "rr"]);
        assert_eq!(World::now(), lab, "a second up changed the lab");
        assert_eq!(
            world::responders_named("p-"),
            responders,
            "a second responder"
        );

        let down = rtsetup(&["lab", "down", "--prefix", "p-"]);
        assert!(down.status.success(), "{}", text(&down));
        assert!(
            String::from_utf8_lossy(&down.stdout).contains("process serve-http in p-ap"),
            "{}",
            text(&down)
        );
        assert_eq!(World::now(), before);
        assert_eq!(world::responders_named("p-"), Vec::<i32>::new());
    });
}

#[test]
fn up_killed_at_random_points_then_down_leaves_no_process_and_the_host_as_it_was() {
    testkit::require_ipvs();
    private_world(|| {
        populate_with_the_walkthrough_names();
        let before = World::now();
        let started = Instant::now();
        up(&["lab", "up", "--prefix", "k-", "--real-servers", "2"]);
        let full = started.elapsed();
        assert_eq!(world::responders_named("k-").len(), 2);
        assert!(rtsetup(&["lab", "down", "--prefix", "k-"]).status.success());
        assert_eq!(World::now(), before);

        let mut kills = Vec::new();
        for round in 0..6 {
            for _ in 0..1 + round % 2 {
                let delay = Duration::from_micros(world::random_below(full.as_micros() as u64));
                let mut child = Command::new(world::RTSETUP)
                    .args(["lab", "up", "--prefix", "k-", "--real-servers", "2"])
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
            assert_eq!(
                world::responders_named("k-"),
                Vec::<i32>::new(),
                "a responder outlived down after kills at {kills:?}"
            );
            assert_eq!(
                World::now(),
                before,
                "after kills at {kills:?} (a full up takes {full:?})"
            );
        }
    });
}
