//! `-R --replace` against the real kernel: from random starting tables it ends in exactly the
//! table `-C` then `-R` gives, and a service in both the old and the new rules never leaves
//! the kernel meanwhile.
#![cfg(feature = "kernel-tests")]

use std::io::Write;
use std::net::Ipv4Addr;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};

use ipvs_rs::{Error, Handle, ServiceKey};

fn ipvsadm_rs(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ipvsadm-rs"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run ipvsadm-rs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

fn ok(args: &[&str], stdin: &str) -> String {
    let out = ipvsadm_rs(args, stdin);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf8")
}

/// xorshift64: reproducible rule sets from a seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A random rule set in `-S` form over a pool of `pool` services: TCP and UDP virtual
/// services and firewall marks, three schedulers, persistence, up to five real servers with
/// random methods and weights.
fn rules(rng: &mut Rng, pool: u16) -> (String, Vec<ServiceKey>) {
    let mut text = String::new();
    let mut keys = Vec::new();
    for n in 0..pool {
        if rng.below(10) < 4 {
            continue;
        }
        let (spec, key, port) = match n % 5 {
            4 => (
                format!("-f {}", n + 1),
                ServiceKey::fwmark(u32::from(n) + 1, ipvs_rs::AddressFamily::Inet),
                "",
            ),
            3 => {
                let addr = Ipv4Addr::new(10, 1, (n >> 8) as u8, n as u8);
                (format!("-u {addr}:53"), ServiceKey::udp(addr, 53), ":53")
            }
            _ => {
                let addr = Ipv4Addr::new(10, 0, (n >> 8) as u8, n as u8);
                (format!("-t {addr}:80"), ServiceKey::tcp(addr, 80), ":80")
            }
        };
        keys.push(key);
        let scheduler = ["rr", "wlc", "sh"][rng.below(3) as usize];
        let persistent = if rng.below(4) == 0 { " -p 300" } else { "" };
        text.push_str(&format!("-A {spec} -s {scheduler}{persistent}\n"));
        for host in 1..=5 {
            if rng.below(2) == 0 {
                continue;
            }
            let method = ["-g", "-m", "-i"][rng.below(3) as usize];
            let weight = rng.below(4);
            text.push_str(&format!(
                "-a {spec} -r 172.16.0.{host}{port} {method} -w {weight}\n"
            ));
        }
    }
    (text, keys)
}

#[test]
fn replace_ends_in_the_table_clear_then_restore_gives() {
    testkit::kernel_test();
    for seed in 1..=6u64 {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ seed.wrapping_mul(0x2545_f491_4f6c_dd1d));
        let (start, _) = rules(&mut rng, 40);
        let (target, _) = rules(&mut rng, 40);
        ok(&["-C"], "");
        ok(&["-R"], &start);
        let report = ok(&["-R", "--replace"], &target);
        let replaced = ok(&["-Sn"], "");
        ok(&["-C"], "");
        ok(&["-R"], &target);
        let restored = ok(&["-Sn"], "");
        assert_eq!(replaced, restored, "seed {seed}: report was\n{report}");
        // The same input again changes nothing.
        let again = ok(&["-R", "--replace"], &target);
        assert_eq!(
            again,
            "services: 0 added, 0 updated, 0 deleted; destinations: 0 added, 0 updated, \
             0 deleted; 0 vanished, 0 failed\n",
            "seed {seed}"
        );
    }
}

/// Stops the lister even when an assertion fails.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

#[test]
fn a_lister_never_misses_a_service_in_both_the_old_and_the_new_rules() {
    testkit::kernel_test();
    let mut rng = Rng(0x5eed);
    let (start, old) = rules(&mut rng, 400);
    let (target, new) = rules(&mut rng, 400);
    let both: Vec<ServiceKey> = old.iter().filter(|k| new.contains(k)).copied().collect();
    assert!(both.len() > 50, "the rule sets share too little");
    ok(&["-R"], &start);
    let ipvs = Handle::new().unwrap();
    let done = AtomicBool::new(false);
    let (passes, output) = std::thread::scope(|scope| {
        let lister = scope.spawn(|| {
            let mut passes = 0;
            loop {
                let last = done.load(Ordering::Relaxed);
                for key in &both {
                    match ipvs.service(key) {
                        Ok(_) => {}
                        Err(Error::NoSuchService) => panic!("{key} was missing meanwhile"),
                        Err(e) => panic!("{key}: {e}"),
                    }
                }
                passes += 1;
                if last {
                    break passes;
                }
            }
        });
        let _stop = StopOnDrop(&done);
        let output = ipvsadm_rs(&["-R", "--replace"], &target);
        done.store(true, Ordering::Relaxed);
        (lister.join().unwrap(), output)
    });
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(passes >= 2, "the lister did not run during the replace");
    let listed = ok(&["-Sn"], "");
    ok(&["-C"], "");
    ok(&["-R"], &target);
    assert_eq!(listed, ok(&["-Sn"], ""));
}
