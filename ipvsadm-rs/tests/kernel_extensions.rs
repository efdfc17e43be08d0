//! ipvsadm-rs's opt-in additions against the real kernel: `--json`, `-R --check`,
//! `--netns`, and its own `-v`.
#![cfg(feature = "kernel-tests")]

use std::io::Write;
use std::process::{Command, Output, Stdio};

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

fn ok(args: &[&str]) -> String {
    let out = ipvsadm_rs(args, "");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf8")
}

#[test]
fn json_listing_describes_the_table() {
    testkit::kernel_test();
    ok(&[
        "-A",
        "-t",
        "10.0.0.1:80",
        "-s",
        "sh",
        "-b",
        "sh-port",
        "-p",
        "60",
    ]);
    ok(&[
        "-a",
        "-t",
        "10.0.0.1:80",
        "-r",
        "10.0.1.1:8080",
        "-m",
        "-w",
        "3",
        "-x",
        "50",
        "-y",
        "5",
    ]);
    ok(&[
        "-a",
        "-t",
        "10.0.0.1:80",
        "-r",
        "10.0.1.2",
        "-i",
        "--tun-type",
        "gue",
        "--tun-port",
        "6080",
        "--tun-csum",
    ]);
    ok(&["-A", "-f", "7", "-6", "-s", "rr"]);
    let doc: serde_json::Value = serde_json::from_str(&ok(&["-L", "--json"])).expect("valid JSON");
    assert_eq!(doc["version"], "1.2.1");
    let services = doc["services"].as_array().expect("services");
    assert_eq!(services.len(), 2);
    let tcp = &services[0];
    assert_eq!(tcp["key"], "tcp:10.0.0.1:80");
    assert_eq!(tcp["scheduler"], "sh");
    assert_eq!(tcp["flags"], serde_json::json!(["persistent", "sh-port"]));
    assert_eq!(tcp["timeout"], 60);
    let dests = tcp["destinations"].as_array().expect("destinations");
    assert_eq!(dests[0]["forwarding"], "masq");
    assert_eq!(
        (
            dests[0]["weight"].as_i64(),
            dests[0]["upper_threshold"].as_u64()
        ),
        (Some(3), Some(50))
    );
    assert_eq!(dests[1]["forwarding"], "tunnel:gue:6080+csum");
    assert_eq!(services[1]["key"], "fwmark6:7");

    // The services read back with ipvs-rs's own serde forms, no mirror types.
    let table: ipvs_rs::reconcile::Table =
        serde_json::from_value(doc["services"].clone()).expect("ipvs-rs reads the services");
    let key: ipvs_rs::ServiceKey = "tcp:10.0.0.1:80".parse().expect("key");
    let entry = table.get(&key).expect("the tcp service");
    assert_eq!(entry.service.scheduler, ipvs_rs::Scheduler::SourceHashing);
    assert_eq!(entry.destinations().len(), 2);

    let one: serde_json::Value =
        serde_json::from_str(&ok(&["-L", "--json", "-f", "7", "-6"])).expect("valid JSON");
    assert_eq!(one["services"].as_array().map(Vec::len), Some(1));
    let missing = ipvsadm_rs(&["-L", "--json", "-t", "10.9.9.9:80"], "");
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&missing.stderr),
        "No such service\n"
    );
}

#[test]
fn restore_check_applies_nothing_when_a_line_is_bad() {
    testkit::kernel_test();
    let bad = "-A -t 10.0.0.1:80\n\n-A -t 10.0.0.2\n-a -t 10.0.0.1:80 -r 10.0.1.1 -w -3\n-A -t 10.0.0.3:80 --bogus\n";
    let out = ipvsadm_rs(&["-R", "--check"], bad);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "line 3: Zero port specified for non-persistent service\n\
         line 4: illegal weight specified\n\
         line 5: --bogus: unknown option\n\
         3 bad line(s) in the restore input; nothing was applied\n"
    );
    assert_eq!(ok(&["-Sn"]), "", "nothing may be applied");

    let good = "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.1 -m\n";
    let out = ipvsadm_rs(&["-R", "--check"], good);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        ok(&["-Sn"]),
        "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 1\n"
    );
}

#[test]
fn netns_acts_in_the_named_namespace() {
    testkit::kernel_test();
    let name = format!("ipvsadm-rs-ext-{}", std::process::id());
    let status = Command::new("ip")
        .args(["netns", "add", &name])
        .status()
        .expect("ip netns add");
    assert!(status.success());
    let added = ipvsadm_rs(
        &["--netns", &name, "-A", "-u", "10.0.0.5:53", "-s", "rr"],
        "",
    );
    let there = Command::new("ip")
        .args(["netns", "exec", &name, "ipvsadm", "-Sn"])
        .output()
        .expect("ipvsadm");
    let here = ok(&["-Sn"]);
    let listed = ipvsadm_rs(&[&format!("--netns={name}"), "-Sn"], "");
    let _ = Command::new("ip").args(["netns", "del", &name]).status();
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&there.stdout),
        "-A -u 10.0.0.5:53 -s rr\n"
    );
    assert_eq!(
        String::from_utf8_lossy(&listed.stdout),
        "-A -u 10.0.0.5:53 -s rr\n"
    );
    assert_eq!(here, "", "the caller's namespace is untouched");
    let missing = ipvsadm_rs(&["--netns", "no-such-ns-here", "-Ln"], "");
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no-such-ns-here"));
}

#[test]
fn version_names_ipvsadm_rs_and_the_ipvsadm_it_mirrors() {
    testkit::kernel_test();
    let v = ok(&["-v"]);
    assert!(v.starts_with("ipvsadm-rs v"), "{v}");
    assert!(v.contains("ipvsadm v1.31 2019/12/24"), "{v}");
    assert_eq!(ok(&["--version"]), v);
}

/// A daemon stopped right after it started: the kernel stops it without answering when its
/// thread had not run yet (ipvsadm 1.31 then waits forever); ipvsadm-rs finishes, exit 0.
#[test]
fn restore_stops_daemons_it_just_started() {
    testkit::kernel_test();
    for args in [
        &[
            "link", "add", "sync0", "type", "veth", "peer", "name", "sync0p",
        ][..],
        &["link", "set", "sync0", "up"],
    ] {
        let out = Command::new("ip").args(args).output().expect("run ip");
        assert!(out.status.success(), "ip {args:?}");
    }
    let input = "--start-daemon backup --mcast-interface sync0\n--stop-daemon backup\n\
                 --start-daemon master --mcast-interface sync0\n--stop-daemon master\n"
        .repeat(30);
    let out = ipvsadm_rs(&["-R"], &input);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(ok(&["-L", "--daemon"]), "");
}
