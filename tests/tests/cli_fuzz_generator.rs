//! The random ipvsadm command generator of `kernel_differential_random` (host lane): a seed
//! always gives the same sequence, and sequences reach every command and kind of step.

mod cli_fuzz;

use cli_fuzz::{Generator, Kind};

fn sequence(seed: u64, length: usize) -> Vec<(Vec<String>, Option<String>, Kind)> {
    let mut generator = Generator::new(seed);
    (0..length)
        .map(|_| {
            let g = generator.step();
            (g.step.args, g.step.stdin, g.kind)
        })
        .collect()
}

#[test]
fn a_seed_always_gives_the_same_sequence() {
    assert_eq!(sequence(7, 200), sequence(7, 200));
    assert_ne!(sequence(7, 50), sequence(8, 50));
}

#[test]
fn sequences_reach_every_command() {
    let steps = sequence(1, 3000);
    let words: Vec<&str> = steps
        .iter()
        .flat_map(|(args, _, _)| args.iter().map(String::as_str))
        .collect();
    for command in [
        "-A",
        "-E",
        "-D",
        "-a",
        "-e",
        "-d",
        "-Z",
        "-C",
        "--set",
        "-R",
        "-S",
        "-Sn",
        "--start-daemon",
        "--stop-daemon",
        "--tun-type",
        "--pe",
        "-b",
        "-M",
        "--sctp-service",
        "-f",
        "-6",
    ] {
        assert!(words.contains(&command), "no {command} in 3000 steps");
    }
    for scheduler in [
        "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh",
        "twos",
    ] {
        assert!(
            words.contains(&scheduler),
            "scheduler {scheduler} never used"
        );
    }
    for kind in [Kind::Listing, Kind::Change, Kind::SaveRestore] {
        assert!(steps.iter().any(|(_, _, k)| *k == kind), "no {kind:?} step");
    }
    assert!(
        steps
            .iter()
            .any(|(_, stdin, _)| stdin.as_ref().is_some_and(|s| s.lines().count() > 256)),
        "no restore input longer than one batch of ipvsadm-rs"
    );
}
