//! ipvsadm-rs against the reference ipvsadm 1.31: every scenario runs through both, each in
//! a fresh network namespace, and every command's exit status, stdout and stderr must match.
#![cfg(feature = "kernel-tests")]

use workspace_tests::{assert_same, cmd, cmd_args, restore, Step};

fn steps(lines: &[&str]) -> Vec<Step> {
    lines.iter().map(|l| cmd(l)).collect()
}

/// The usual listings after a scenario's commands.
fn with_listings(lines: &[&str]) -> Vec<Step> {
    let mut all = steps(lines);
    all.extend(steps(&[
        "-Ln",
        "-L",
        "-Sn",
        "-Ln --stats",
        "-Ln --rate",
        "-Ln --thresholds",
    ]));
    all.extend(steps(&[
        "-Ln --persistent-conn",
        "-Ln --tun-info",
        "-Ln --exact --stats",
    ]));
    all
}

#[test]
fn listings_of_an_empty_table() {
    testkit::kernel_test();
    assert_same(&[(
        "empty",
        vec![
            cmd_args(&[]),
            cmd("-L"),
            cmd("-l"),
            cmd("-Ln"),
            cmd("--list --numeric"),
            cmd("-S"),
            cmd("--save -n"),
            cmd("-L --stats"),
            cmd("-L --rate --exact"),
            cmd("-L --timeout"),
            cmd("-L --daemon"),
            cmd("-Lc"),
            cmd("-L -c -n --persistent-conn"),
            cmd("-L --sort"),
            cmd("-h"),
            cmd("--help"),
        ],
    )]);
}

#[test]
fn every_scheduler_and_flag() {
    testkit::kernel_test();
    let mut lines: Vec<String> = [
        "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh",
    ]
    .iter()
    .enumerate()
    .map(|(i, s)| format!("-A -t 10.1.0.{}:80 -s {s}", i + 1))
    .collect();
    lines.extend(
        [
            "-A -t 10.2.0.1:80 -s sh -b sh-fallback",
            "-A -t 10.2.0.2:80 -s sh -b sh-port,sh-fallback",
            "-A -t 10.2.0.3:80 -s mh -b mh-port",
            "-A -t 10.2.0.4:80 -s mh -b mh-fallback,mh-port",
            "-A -t 10.2.0.5:80 -b flag-1,flag-2,flag-3",
            "-A -t 10.2.0.6:80 -s rr -b flag-3",
            "-A -t 10.2.0.7:80 -b sh-port",
            "-A -t 10.2.0.8:80 -s mh -b sh-port",
            "-A -t 10.2.0.9:80 -b nope",
            "-A -t 10.2.0.10:80 -s nosuchsched",
            "-A -t 10.2.0.11:80 -s averyveryverylongschedulername",
            "-A -u 10.2.0.12:53 -o",
            "-A -t 10.2.0.13:53 -o",
            "-A -f 7 -o -s rr",
            "-A -u 10.2.0.14:53 -o -s sh -b sh-port -p 10",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    assert_same(&[("schedulers", with_listings(&refs))]);
}

#[test]
fn scheduler_flags_of_only_commas_crash_like_ipvsadm() {
    testkit::kernel_test();
    assert_same(&[(
        "segv",
        steps(&["-A -t 10.0.0.1:80 -b ,", "-A -t 10.0.0.1:80 -b ,,", "-Ln"]),
    )]);
}

#[test]
fn persistence_and_netmasks() {
    testkit::kernel_test();
    assert_same(&[(
        "persistence",
        with_listings(&[
            "-A -t 10.0.0.1:80 -p",
            "-A -t 10.0.0.2:80 -p 60",
            "-A -t 10.0.0.3:0 -p 1",
            "-A -t 10.0.0.4:80 -p 0",
            "-A -t 10.0.0.5:80 -p 2678400",
            "-A -t 10.0.0.6:80 -p 2678401",
            "-A -t 10.0.0.7:80 -p 30 -M 255.255.255.0",
            "-A -t 10.0.0.8:80 -M 255.255.0.0",
            "-A -t 10.0.0.9:80 -M 255.255.0.x",
            "-A -t 10.0.0.10:80 -p abc",
            "-A -t 10.0.0.11:80 -p -s rr",
            "-A -t 10.0.0.12:80 -s rr -p",
            "-A -u 10.0.0.13:5060 -p 100 --pe sip",
            "-A -u 10.0.0.14:5060 --pe sip",
            "-A -u 10.0.0.15:5060 -p --pe nosuch",
            "-A -t 10.0.0.16:0",
            "-A -t 10.0.0.17",
            "-A -t [2001:db8::1]:80 -p 50 -M 64",
            "-A -t [2001:db8::2]:80 -p 50 -M 129",
            "-A -t [2001:db8::3]:80 -p 50 -M 0",
            "-A -t [2001:db8::4]:80 -p 50 -M 64abc",
            "-A -f 9 -6 -p -M 48",
            "-A -t 10.0.0.18:80 -p=45",
            "-A -t 10.0.0.19:80 --persistent=46",
            "-A -t 10.0.0.20:80 -p45",
        ]),
    )]);
}

#[test]
fn forwarding_methods_and_tunnels() {
    testkit::kernel_test();
    assert_same(&[(
        "forwarding",
        with_listings(&[
            "-A -t 10.0.0.1:80",
            "-a -t 10.0.0.1:80 -r 10.0.1.1",
            "-a -t 10.0.0.1:80 -r 10.0.1.2:8080 -g",
            "-a -t 10.0.0.1:80 -r 10.0.1.3:8080 -m -w 5",
            "-a -t 10.0.0.1:80 -r 10.0.1.4 -m",
            "-a -t 10.0.0.1:80 -r 10.0.1.5 -i",
            "-a -t 10.0.0.1:80 -r 10.0.1.6 -i --tun-type ipip",
            "-a -t 10.0.0.1:80 -r 10.0.1.7 -i --tun-type gue --tun-port 6080",
            "-a -t 10.0.0.1:80 -r 10.0.1.8 -i --tun-type gue --tun-port 6081 --tun-csum",
            "-a -t 10.0.0.1:80 -r 10.0.1.9 -i --tun-type gue --tun-port 6082 --tun-remcsum",
            "-a -t 10.0.0.1:80 -r 10.0.1.10 -i --tun-type gue --tun-port 6083 --tun-nocsum",
            "-a -t 10.0.0.1:80 -r 10.0.1.11 -i --tun-type gre",
            "-a -t 10.0.0.1:80 -r 10.0.1.12 -i --tun-type gre --tun-csum",
            "-a -t 10.0.0.1:80 -r 10.0.1.13 -i --tun-type gre --tun-remcsum",
            "-a -t 10.0.0.1:80 -r 10.0.1.14 -i --tun-type gue",
            "-a -t 10.0.0.1:80 -r 10.0.1.15 -i --tun-type ipip --tun-port 1",
            "-a -t 10.0.0.1:80 -r 10.0.1.16 -i --tun-type gue --tun-port 1 --tun-csum --tun-remcsum",
            "-a -t 10.0.0.1:80 -r 10.0.1.17 -m --tun-type gre",
            "-a -t 10.0.0.1:80 -r 10.0.1.18 -i --tun-type vxlan",
            "-a -t 10.0.0.1:80 -r 10.0.1.19 -i --tun-type gue --tun-port 0",
            "-a -t 10.0.0.1:80 -r 10.0.1.20 -i --tun-type gue --tun-port 65536",
            "-a -t 10.0.0.1:80 -r 10.0.1.21 -g -m",
            "-a -t 10.0.0.1:80 -r [2001:db8::9]:80 -i",
            "-a -t 10.0.0.1:80 -r [2001:db8::10]:80 -m",
            "-a -t 10.0.0.1:80 -r 10.0.1.1",
            "-a -t 10.0.0.1:80 -r 127.0.0.1 -w 3",
            "-a -t 10.0.0.1:80 -r 0.0.0.0",
            "-a -t 10.0.0.2:80 -r 10.0.1.1",
            "-a -t 10.0.0.1:80",
            "-a -r 10.0.1.30 -t 10.0.0.1:80 -m",
            "-a -t 10.0.0.1:80 -r 10.0.1.31:http -m",
            "-a -t 10.0.0.1:80 -r 10.0.1.32:nosuchservice -m",
        ]),
    )]);
}

#[test]
fn weights_and_thresholds() {
    testkit::kernel_test();
    assert_same(&[(
        "weights",
        with_listings(&[
            "-A -t 10.0.0.1:80 -s wrr",
            "-a -t 10.0.0.1:80 -r 10.0.1.1 -w 0",
            "-a -t 10.0.0.1:80 -r 10.0.1.2 -w 2147483647",
            "-a -t 10.0.0.1:80 -r 10.0.1.3 -w 2147483648",
            "-a -t 10.0.0.1:80 -r 10.0.1.4 -w -1",
            "-a -t 10.0.0.1:80 -r 10.0.1.5 -w 65536",
            "-a -t 10.0.0.1:80 -r 10.0.1.7 -x 100 -y 10",
            "-a -t 10.0.0.1:80 -r 10.0.1.8 -x 5 -y 10",
            "-a -t 10.0.0.1:80 -r 10.0.1.9 -x 2147483647 -y 0",
            "-a -t 10.0.0.1:80 -r 10.0.1.10 -x -1",
            "-a -t 10.0.0.1:80 -r 10.0.1.11 -y abc",
            "-a -t 10.0.0.1:80 -r 10.0.1.12 --weight=9 --u-threshold=8 --l-threshold=1",
            "-a -t 10.0.0.1:80 -r 10.0.1.13 -w 1 -w 2",
        ]),
    )]);
}

#[test]
fn ipv6_fwmark_and_sctp() {
    testkit::kernel_test();
    assert_same(&[(
        "families",
        with_listings(&[
            "-A -t [2001:db8::1]:80 -s rr",
            "-a -t [2001:db8::1]:80 -r [2001:db8::100]:8080 -m",
            "-a -t [2001:db8::1]:80 -r [2001:db8::101] -g",
            "-a -t [2001:db8::1]:80 -r 10.0.0.5 -i",
            "-a -t [2001:db8::1]:80 -r 10.0.0.6 -m",
            "-A -u [2001:db8::2]:53",
            "-A -t 2001:db8::3:80 -p",
            "-A -t [2001:db8::4]",
            "-A -t [2001:db8::5",
            "-A -t [10.0.0.9]:80",
            "-A -f 1",
            "-A -f 2 -6",
            "-A -f 4294967295",
            "-A -f 2147483648 -s rr",
            "-A -f 0",
            "-A -f -1",
            "-A -f 4294967296",
            "-A -f 12abc",
            "-A -6 -f 3",
            "-a -f 1 -r 10.0.0.7:8080 -m",
            "-a -f 1 -r 10.0.0.8 -g",
            "-a -f 2 -6 -r [2001:db8::200]",
            "-A --sctp-service 10.0.0.20:3868 -s rr",
            "-a --sctp-service 10.0.0.20:3868 -r 10.0.0.21",
            "-A --sctp-service [2001:db8::20]:5060 --pe sip -p 100",
            "-A -t ::ffff:10.0.0.30:80",
            "-A -t [::ffff:10.0.0.31]:80",
            "-A -t 0x0a000020:80",
            "-A -t 10.33:80",
        ]),
    )]);
}

#[test]
fn edit_and_delete_paths() {
    testkit::kernel_test();
    assert_same(&[(
        "edit-delete",
        with_listings(&[
            "-A -t 10.0.0.1:80 -s rr -p 60 -M 255.255.255.0",
            "-a -t 10.0.0.1:80 -r 10.0.1.1 -m -w 5 -x 10 -y 2",
            "-a -t 10.0.0.1:80 -r 10.0.1.2 -i --tun-type gue --tun-port 6080",
            "-E -t 10.0.0.1:80",
            "-Ln",
            "-E -t 10.0.0.1:80 -s sh -b sh-port -p",
            "-e -t 10.0.0.1:80 -r 10.0.1.1 -m",
            "-Ln --thresholds",
            "-e -t 10.0.0.1:80 -r 10.0.1.2 -g",
            "-Ln --tun-info",
            "-e -t 10.0.0.1:80 -r 10.0.1.99",
            "-e -t 10.0.0.2:80 -r 10.0.1.1",
            "-E -t 10.0.0.2:80",
            "-d -t 10.0.0.1:80 -r 10.0.1.1:8080",
            "-d -t 10.0.0.1:80 -r 10.0.1.1",
            "-d -t 10.0.0.1:80 -r 10.0.1.1",
            "-d -t 10.0.0.2:80 -r 10.0.1.1",
            "-d -t 10.0.0.1:80 -r 10.0.1.2 -w 3",
            "-D -t 10.0.0.2:80",
            "-D -t 10.0.0.1:80 -s rr",
            "-A -t 10.0.0.3:80",
            "-A -t 10.0.0.3:80",
            "-D -t 10.0.0.3:80",
            "-D -t 10.0.0.3:80",
            "-A -f 5",
            "-E -f 5 -s rr",
            "-D -f 5",
            "-D -f 6",
        ]),
    )]);
}

/// A table with far-apart addresses, fwmarks of 2^31 and above, and many real servers.
fn wrapping_table() -> String {
    let mut input = String::new();
    for a in [
        "10.0.0.9",
        "200.0.0.1",
        "10.0.0.10",
        "1.2.3.4",
        "128.0.0.1",
        "127.0.0.1",
        "255.255.255.254",
        "0.0.0.1",
    ] {
        for port in [80, 8080, 1, 65535] {
            input.push_str(&format!("-A -t {a}:{port}\n-A -u {a}:{port}\n"));
        }
        input.push_str(&format!("-A --sctp-service {a}:99\n"));
    }
    for mark in [1u64, 2, 100, 2147483647, 2147483648, 2147483649, 4294967295] {
        input.push_str(&format!("-A -f {mark}\n-A -f {mark} -6\n"));
    }
    for a in [
        "2001:db8::1",
        "::1",
        "fe80::1",
        "ff00::1",
        "8000::1",
        "7fff::1",
        "2001:db8:0:1::1",
    ] {
        input.push_str(&format!("-A -t [{a}]:443\n"));
    }
    for a in [
        "10.0.0.9",
        "200.0.0.1",
        "10.0.0.10",
        "1.2.3.4",
        "128.0.0.1",
        "127.0.0.5",
        "64.0.0.1",
        "192.0.2.1",
    ] {
        for port in [80, 8080, 443] {
            input.push_str(&format!("-a -t 10.0.0.9:80 -r {a}:{port} -m\n"));
        }
    }
    for a in ["2001:db8::5", "::5", "ff00::5", "8000::5"] {
        input.push_str(&format!("-a -t [2001:db8::1]:443 -r [{a}]:443 -m\n"));
    }
    input
}

#[test]
fn sort_order_with_wrapping_comparisons() {
    testkit::kernel_test();
    let checks = steps(&[
        "-Ln",
        "-L",
        "-Sn",
        "-Ln --stats",
        "-Ln --rate",
        "-Ln -t 10.0.0.9:80",
        "-Ln --tun-info",
        "-Ln --nosort",
        "-Sn --nosort",
        "-Ln --nosort -t 10.0.0.9:80",
    ]);
    let report = workspace_tests::compare_in_one_namespace(
        "sort-wrapping",
        &[restore(&wrapping_table())],
        &checks,
    );
    assert!(
        report.is_none(),
        "ipvsadm-rs differs from ipvsadm:{}",
        report.unwrap_or_default()
    );
}

#[test]
fn sort_order_of_many_services_and_servers() {
    testkit::kernel_test();
    let mut input = String::new();
    for a in [
        "10.0.0.9",
        "10.0.0.10",
        "10.1.2.3",
        "10.0.0.1",
        "10.255.0.1",
        "10.0.1.0",
    ] {
        for port in [80, 8080, 1, 65535, 443] {
            input.push_str(&format!("-A -t {a}:{port}\n-A -u {a}:{port}\n"));
        }
        input.push_str(&format!("-A --sctp-service {a}:99\n"));
    }
    for mark in [1u64, 2, 100, 2147483647, 77] {
        input.push_str(&format!("-A -f {mark}\n-A -f {mark} -6\n"));
    }
    for a in [
        "2001:db8::1",
        "2001:db8::2:1",
        "2001:db8:1::1",
        "2001:db8::1:0:0:1",
    ] {
        input.push_str(&format!("-A -t [{a}]:443\n-A -t [{a}]:80\n"));
    }
    for a in [
        "10.0.0.9",
        "10.200.0.1",
        "10.0.0.10",
        "10.2.3.4",
        "10.128.0.1",
        "10.0.0.5",
    ] {
        for port in [80, 8080, 443] {
            input.push_str(&format!("-a -t 10.0.0.9:80 -r {a}:{port} -m\n"));
        }
    }
    let mut all = vec![restore(&input)];
    all.extend(steps(&[
        "-Ln",
        "-Sn",
        "-Ln --stats",
        "-Ln --rate",
        "-Ln -t 10.0.0.9:80",
    ]));
    assert_same(&[("sort", all)]);
}

#[test]
fn names_versus_numbers() {
    testkit::kernel_test();
    assert_same(&[(
        "names",
        with_listings(&[
            "-A -t 127.0.0.1:80",
            "-A -t localhost:https",
            "-A -u localhost:domain",
            "-A -t 127.0.0.2:ssh",
            "-A -t 127.0.0.3:nosuchservice",
            "-A -t nosuchhost.invalid:80",
            "-A --sctp-service localhost:80",
            "-a -t 127.0.0.1:80 -r localhost:http-alt -m",
            "-a -t 127.0.0.1:80 -r 127.0.0.9:65000 -m",
            "-a -t 127.0.0.1:80 -r 127.0.0.10 -m",
            "-A -t [::1]:80",
            "-a -t [::1]:80 -r [::1]:8080 -m",
            "-A -t 127.0.0.1:8080 -p 10 -M localhost",
            "-Ln -t localhost:http",
            "-L -t 127.0.0.1:80",
            "-L -t 127.0.0.1:81",
            "-L -u 127.0.0.1:80",
        ]),
    )]);
}

#[test]
fn timeouts() {
    testkit::kernel_test();
    assert_same(&[(
        "timeouts",
        steps(&[
            "-L --timeout",
            "--set 10 20 30",
            "-L --timeout",
            "--set 0 0 0",
            "-L --timeout",
            "--set 2678400 1 1",
            "-L --timeout",
            "--set 2678401 1 1",
            "--set 1 x 1",
            "--set 1 2",
            "--set 1 2 3 4",
            "--set",
            "--set 1 -5 3",
            "--set 5 6 -- 7",
            "-L --timeout",
            "-L --timeout --stats",
            "-L --timeout --persistent-conn",
            "-L --timeout -n",
            "--set 1 2 3 -n",
        ]),
    )]);
}

#[test]
fn sync_daemons() {
    testkit::kernel_test();
    assert_same(&[(
        "daemons",
        steps(&[
            "-L --daemon",
            "--start-daemon master --mcast-interface lo",
            "--start-daemon master --mcast-interface lo",
            "-L --daemon",
            "--start-daemon backup --mcast-interface lo --syncid 5 --mcast-group 239.1.1.1 --mcast-port 9000 --mcast-ttl 3 --sync-maxlen 1000",
            "-L --daemon",
            "--stop-daemon master",
            "--stop-daemon master",
            "--stop-daemon backup --syncid 5",
            "-L --daemon",
            "--start-daemon master --mcast-interface nosuch0",
            "--start-daemon master",
            "--start-daemon primary",
            "--stop-daemon primary",
            "--start-daemon",
            "--start-daemon master --mcast-interface lo --syncid 256",
            "--start-daemon master --mcast-interface lo --mcast-group 10.0.0.1",
            "--start-daemon master --mcast-interface lo --mcast-group ff02::1:2",
            "-L --daemon",
            "--stop-daemon master",
            "--start-daemon master --mcast-interface lo --mcast-group 2001:db8::1",
            "--start-daemon master --mcast-interface lo --mcast-port 0",
            "--start-daemon master --mcast-interface lo --mcast-ttl 256",
            "--start-daemon master --mcast-interface lo --sync-maxlen 65508",
            "--start-daemon master --mcast-interface lo --sync-maxlen 65507",
            "-L --daemon",
            "--stop-daemon master --mcast-interface lo",
            "--start-daemon master --mcast-interface averyveryverylongifname",
            "-L --daemon --stats",
            "-L --daemon -c",
        ]),
    )]);
}

#[test]
fn zero_and_clear() {
    testkit::kernel_test();
    assert_same(&[(
        "zero-clear",
        steps(&[
            "-Z",
            "-A -t 10.0.0.1:80",
            "-A -f 3",
            "-Z",
            "-Z -t 10.0.0.1:80",
            "-Z -t 10.0.0.2:80",
            "-Z -f 3",
            "-Z -f 4",
            "-Z -t 0.0.0.0:0",
            "-Z -n",
            "-Ln --stats",
            "-C",
            "-C",
            "-C -n",
            "-C extra",
            "--clear",
            "-Ln",
        ]),
    )]);
}

#[test]
fn command_line_errors() {
    testkit::kernel_test();
    assert_same(&[(
        "errors",
        vec![
            cmd("foo"),
            cmd("-n -L"),
            cmd("-t 10.0.0.1:80"),
            cmd("--bogus"),
            cmd("-L --bogus"),
            cmd("-Lq"),
            cmd("-L -q"),
            cmd("--list=1"),
            cmd("-L=1"),
            cmd("-A"),
            cmd("-A -t"),
            cmd("-At"),
            cmd("-A -t 10.0.0.1:80 -L"),
            cmd("-A -D -t 10.0.0.1:80"),
            cmd("-L -h"),
            cmd("-L -v"),
            cmd("-L --start-daemon master"),
            cmd("-A -t 10.0.0.1:80 -t 10.0.0.2:80"),
            cmd("-A -t 10.0.0.1:80 -f 1"),
            cmd("-A -t 10.0.0.1:80 -w 1"),
            cmd("-A -t 10.0.0.1:80 -r 10.0.0.2"),
            cmd("-D -t 10.0.0.1:80 -s rr"),
            cmd("-a -t 10.0.0.1:80"),
            cmd("-d -t 10.0.0.1:80 -r 10.0.0.2 -m"),
            cmd("-L -c -t 10.0.0.1:80"),
            cmd("-L --timeout --daemon"),
            cmd("-L -c --stats"),
            cmd("-L --daemon --persistent-conn"),
            cmd("-L --tun-info --stats"),
            cmd("-L -s rr"),
            cmd("-S -c"),
            cmd("-R -n"),
            cmd("-C unexpected"),
            cmd("-L extra words"),
            cmd("-A -t 1.2.3.4.5:80"),
            cmd("-A -t 10.0.0.1:99999"),
            cmd("-A -t 10.0.0.1:"),
            cmd("-A -t 8080"),
            cmd_args(&["-A", "-t", ""]),
            cmd("-a -t 10.0.0.1:80 -r 8080"),
            cmd("-A -t 10.0.0.1:80 --nosort"),
            cmd("-Ln --nosort --nosort"),
            cmd("-Ln -n"),
            cmd("--"),
            cmd("-- -L"),
            cmd("-L --"),
            cmd("-L -- -n"),
            cmd("-"),
            cmd("-L -"),
            cmd("-lnt 10.0.0.1:80"),
            cmd("-A --tcp-service=10.0.0.1:80 --scheduler=rr"),
            cmd("-A -t 10.0.0.5:!#:+ 80 -s rr"),
            cmd("-A -t 10.0.0.6:!#:+ -s rr 81"),
            cmd("-A -t 10.0.0.7:!#:+ -s !#:+ 82 sh"),
            cmd("-A -t 10.0.0.8:80 -s !#:+"),
            cmd("-Ln"),
            cmd("-L -6"),
        ],
    )]);
}

#[test]
fn restore_input_handling() {
    testkit::kernel_test();
    let scenarios = [
        (
            "restore-basic",
            vec![
                restore("-A -t 1.1.1.1:80\n-A -t 1.1.1.1:80\n\n   \nipvsadm -a -t 1.1.1.1:80 -r 2.2.2.2\n-L --bogus\n-Ln\n"),
                cmd("-Ln"),
            ],
        ),
        ("restore-comment", vec![restore("-A -t 1.1.1.2:80\n# comment\n-A -t 1.1.1.3:80\n"), cmd("-Ln")]),
        ("restore-invalid", vec![restore("-A -t 1.1.1.4:80\n-A -t 1.1.1.4\n-A -t 1.1.1.5:80\n"), cmd("-Ln")]),
        ("restore-help", vec![restore("-A -t 1.1.1.6:80\n-h\n-A -t 1.1.1.7:80\n"), cmd("-Ln")]),
        ("restore-nested", vec![restore("-A -t 1.1.1.8:80\n-R\n-A -t 1.1.1.9:80\n"), cmd("-Ln")]),
        ("restore-last-fails", vec![restore("-A -t 1.1.1.10:80\n-A -t 1.1.1.10:80\n")]),
        ("restore-last-ok", vec![restore("-A -t 1.1.1.11:80\n-A -t 1.1.1.11:80\n-C\n")]),
        ("restore-no-newline", vec![restore("-A -t 1.1.1.12:80\n-A -t 1.1.1.13:80"), cmd("-Ln")]),
        ("restore-trailing-space", vec![restore("-A -t 1.1.1.14:80\n-A -t 1.1.1.15:80 "), cmd("-Ln")]),
        ("restore-trailing-spaces", vec![restore("-A -t 1.1.1.16:80\n-A -t 1.1.1.17:80  "), cmd("-Ln")]),
        ("restore-crlf", vec![restore("-A -t 1.1.1.18:80\r\n\t-A\t-t 1.1.1.19:80 \r\n"), cmd("-Ln")]),
        ("restore-only-ipvsadm", vec![restore("ipvsadm\n-A -t 1.1.1.20:80\nipvsadm"), cmd("-Ln")]),
        ("restore-list-inside", vec![restore("-A -t 1.1.1.21:80\n-Ln\n-Sn\n-L --timeout\n")]),
        ("restore-empty", vec![restore(""), restore("\n\n"), cmd("-Ln")]),
        ("restore-extra-args", vec![restore("-C\n"), with_stdin_args("-R -n", "-C\n")]),
        ("restore-segv", vec![restore("-A -t 1.1.1.23:80\n-A -t 1.1.1.24:80 -b ,\n"), cmd("-Ln")]),
        (
            "restore-segv-loses-buffered-output",
            vec![restore("-A -t 1.1.1.26:80\n-Ln\n-A -t 1.1.1.26:80\n-A -t 1.1.1.27:80 -b ,\n"), cmd("-Ln")],
        ),
        ("restore-kernel-errors", vec![restore("-a -t 9.9.9.9:80 -r 1.1.1.1\n-D -t 9.9.9.9:80\n-A -t 1.1.1.25:80\n")]),
        (
            "restore-nul-bytes",
            vec![
                restore("-A -t 1.1.1.28:80\0junk -s rr\n-A\0x -t 1.1.1.29:80\nipvsadm\0x -A -t 1.1.1.30:80\n-A \0x -t 1.1.1.31:80\n"),
                cmd("-Ln"),
            ],
        ),
    ];
    assert_same(&scenarios);
}

fn with_stdin_args(line: &str, input: &str) -> Step {
    workspace_tests::with_stdin(line, input)
}

#[test]
fn save_and_restore_round_trips() {
    testkit::kernel_test();
    let table = "-A -t 10.0.0.1:80 -s rr -p 60 -M 255.255.255.0\n\
        -a -t 10.0.0.1:80 -r 10.0.1.1:8080 -m -w 5 -x 10 -y 2\n\
        -a -t 10.0.0.1:80 -r 10.0.1.2 -i --tun-type gue --tun-port 6080 --tun-remcsum\n\
        -a -t 10.0.0.1:80 -r 10.0.1.3 -i --tun-type gre --tun-csum\n\
        -a -t 10.0.0.1:80 -r 10.0.1.4 -i\n\
        -a -t 10.0.0.1:80 -r 10.0.1.5 -w 0\n\
        -A -u 10.0.0.2:53 -s sh -b sh-port -o\n\
        -A -f 5 -6 -s mh -b mh-fallback -p 30 -M 64\n\
        -a -f 5 -6 -r [2001:db8::5] -i\n\
        -A --sctp-service [2001:db8::1]:5060 --pe sip -p 100\n\
        -A -t 127.0.0.1:80\n\
        -a -t 127.0.0.1:80 -r 127.0.0.2:8080 -m\n";
    let (ref_save, clone_save) = cross_saves(table);
    assert_eq!(
        ref_save.0, clone_save.0,
        "-Sn after restoring the same table"
    );
    let reference = workspace_tests::reference();
    let clone = workspace_tests::clone_binary();
    for (writer, saved) in [("ipvsadm", &ref_save.0), ("ipvsadm-rs", &clone_save.0)] {
        for (reader, bin) in [("ipvsadm", &reference), ("ipvsadm-rs", &clone)] {
            let out = workspace_tests::run_scenario(bin, &[restore(saved), cmd("-Sn")]);
            assert_eq!(
                out[0].status, "exit 0",
                "{reader} -R of {writer} -Sn: {}",
                out[0].stderr
            );
            assert_eq!(
                &out[1].stdout, saved,
                "{reader} -R then -Sn of what {writer} -Sn wrote"
            );
        }
    }
    assert_same(&[(
        "round-trip-names",
        vec![
            restore(table),
            cmd("-S"),
            cmd("-C"),
            restore(&ref_save.1),
            cmd("-Sn"),
        ],
    )]);
}

/// Restores `table` with each program and returns each one's (-Sn, -S) output.
fn cross_saves(table: &str) -> ((String, String), (String, String)) {
    let steps = [restore(table), cmd("-Sn"), cmd("-S")];
    let r = workspace_tests::run_scenario(&workspace_tests::reference(), &steps);
    let c = workspace_tests::run_scenario(&workspace_tests::clone_binary(), &steps);
    (
        (r[1].stdout.clone(), r[2].stdout.clone()),
        (c[1].stdout.clone(), c[2].stdout.clone()),
    )
}

#[test]
fn clustered_and_long_spellings() {
    testkit::kernel_test();
    assert_same(&[(
        "spellings",
        with_listings(&[
            "-At10.0.0.1:80",
            "--add-service --tcp-service 10.0.0.2:80 --scheduler rr --persistent 20 --netmask 255.255.255.0",
            "--add-service --udp-service=10.0.0.3:53 --ops",
            "--add-service --fwmark-service 8 --ipv6",
            "--add-server -t 10.0.0.2:80 --real-server 10.0.1.1 --masquerading --weight 4",
            "--add-server -t 10.0.0.2:80 --real-server 10.0.1.2 --ipip",
            "--add-server -t 10.0.0.2:80 --real-server 10.0.1.3 --gatewaying",
            "-at10.0.0.2:80 -r10.0.1.4 -mw7",
            "-et10.0.0.2:80 -r10.0.1.4 -mw8",
            "--edit-server -t 10.0.0.2:80 -r 10.0.1.4 -m -w 9",
            "--delete-server -t 10.0.0.2:80 -r 10.0.1.3",
            "--edit-service -t 10.0.0.2:80 -s wrr",
            "--delete-service -t 10.0.0.1:80",
            "--zero",
            "--list --numeric --exact --stats",
            "-lnc",
            "-Lnt10.0.0.2:80",
            "-L -n --tcp-service 10.0.0.2:80",
            "-Snn",
            "-nL",
        ]),
    )]);
}

const HOSTS: &str = "127.0.0.1 localhost\n\
10.0.0.1 a-very-long-host-name-for-the-virtual-service.example.org vs1\n\
10.0.0.2 a-very-long-host-name-for-the-real-server-number-two.example.org\n\
10.0.0.3 short\n\
10.0.0.4 x123456789012345678901234567890123456789012345678901234567890123456789.example\n\
2001:db8::1 a-very-long-ipv6-host-name-that-is-never-cut-by-the-listing.example.org\n\
2001:db8::2 six\n";

const SERVICES: &str = "http 80/tcp www\n\
domain 53/tcp\n\
domain 53/udp\n\
a-rather-long-service-name-for-port-8080 8080/tcp\n\
sctponly 3868/sctp\n";

#[test]
fn host_and_service_names_and_their_truncation() {
    testkit::kernel_test();
    let steps = with_listings(&[
        "-A -t vs1:http",
        "-A -t a-very-long-host-name-for-the-virtual-service.example.org:8080",
        "-a -t 10.0.0.1:80 -r a-very-long-host-name-for-the-real-server-number-two.example.org:8080 -m",
        "-a -t 10.0.0.1:80 -r short:http -m",
        "-a -t 10.0.0.1:80 -r 10.0.0.4:53 -m",
        "-A -u short:domain",
        "-A -t [2001:db8::1]:http",
        "-a -t [2001:db8::1]:80 -r [2001:db8::2]:8080 -m",
        "-A --sctp-service short:sctponly",
        "-A --sctp-service short:http",
        "-A -t 10.0.0.4:www",
        "-Lc",
        "-L -t vs1:80",
    ]);
    let files = [("/etc/hosts", HOSTS), ("/etc/services", SERVICES)];
    let report = workspace_tests::compare_with_files("long-names", &files, &steps);
    assert!(
        report.is_none(),
        "ipvsadm-rs differs from ipvsadm:{}",
        report.unwrap_or_default()
    );
    let listed = workspace_tests::in_fresh_netns(|| {
        workspace_tests::private_files(&files).expect("private files");
        let reference = workspace_tests::reference();
        workspace_tests::run_step(&reference, &steps[0]);
        workspace_tests::run_step(&reference, &cmd("-L")).stdout
    });
    assert!(
        listed.contains("\nTCP  a-very-long-host-name-for-th wlc\n"),
        "the private /etc/hosts is in use:\n{listed}"
    );
}

#[test]
fn unprivileged_callers() {
    testkit::kernel_test();
    assert_same(&[(
        "non-root",
        vec![
            workspace_tests::as_nobody("-Ln"),
            workspace_tests::as_nobody("-A -t 10.0.0.1:80"),
            workspace_tests::as_nobody("-h"),
            workspace_tests::as_nobody("--bogus"),
            workspace_tests::as_nobody(""),
        ],
    )]);
    // The steps above really run unprivileged: the reference refuses them.
    let refused = workspace_tests::in_fresh_netns(|| {
        let reference = workspace_tests::reference();
        workspace_tests::run_step(&reference, &workspace_tests::as_nobody("-Ln"))
    });
    assert!(
        refused.status != "exit 0" && refused.stderr.contains("root"),
        "ipvsadm as nobody was not refused: {refused:?}"
    );
}

/// Host names with non-ASCII letters: ipvsadm pads its columns with printf, by bytes.
#[test]
fn non_ascii_host_names_are_padded_by_bytes() {
    testkit::kernel_test();
    let hosts = "127.0.0.1 localhost\n10.1.2.3 café-über.example\n10.1.2.4 ñ\n";
    let steps = with_listings(&[
        "-A -t 10.1.2.3:80 -s rr",
        "-a -t 10.1.2.3:80 -r 10.1.2.4:80 -m",
        "-A -u 10.1.2.4:53",
    ]);
    let report = workspace_tests::compare_with_files("non-ascii", &[("/etc/hosts", hosts)], &steps);
    assert!(
        report.is_none(),
        "ipvsadm-rs differs from ipvsadm:{}",
        report.unwrap_or_default()
    );
}

/// Arguments and `-R` input that are not UTF-8 reach ipvsadm's messages byte for byte, so
/// they must reach ipvsadm-rs's the same way: compared as raw bytes here, since the shared
/// harness compares text (where every invalid byte reads as U+FFFD on both sides).
#[test]
fn bytes_that_are_not_utf8_are_echoed_raw() {
    use std::ffi::OsStr;
    use std::io::Write;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};

    testkit::kernel_test();
    let run = |binary: &std::path::Path, args: &[&[u8]], input: Option<&[u8]>| {
        workspace_tests::in_fresh_netns(|| {
            let mut child = Command::new(binary)
                .arg0("ipvsadm")
                .args(args.iter().map(|a| OsStr::from_bytes(a)))
                .stdin(if input.is_some() {
                    Stdio::piped()
                } else {
                    Stdio::null()
                })
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            if let Some(input) = input {
                let mut stdin = child.stdin.take().unwrap();
                stdin.write_all(input).unwrap();
            }
            let out = child.wait_with_output().unwrap();
            (out.status.code(), out.stdout, out.stderr)
        })
    };
    /// Arguments, and stdin if any.
    type Case<'a> = (&'a [&'a [u8]], Option<&'a [u8]>);
    let cases: &[Case] = &[
        (&[b"--x\xff"], None),
        (&[b"-A", b"-t", b"10.0.0.1:80", b"--bo\xfe\xffgus"], None),
        (&[b"-A", b"-t", b"10.0.0.1:80", b"-s", b"r\xffr"], None),
        (&[b"-A", b"-t", b"1\xff.0.0.1:80"], None),
        (&[b"--\xc3\xa9t\xc3"], None),
        // A genuine code point of the block ipvsadm-rs uses to carry raw bytes.
        (&[b"--\xef\x9f\xbf"], None),
        (&[b"-R"], Some(b"-A -t 10.0.0.1:80 --x\xff\n")),
        (
            &[b"-R"],
            Some(b"-A -t 10.0.0.1:80 -s \xfe\xfe\n-a -t 10.0.0.1:80 -r 1\xff\n"),
        ),
    ];
    let reference = workspace_tests::reference();
    let clone = workspace_tests::clone_binary();
    let mut differences = Vec::new();
    let mut raw_echoes = 0;
    for (args, input) in cases {
        let want = run(&reference, args, *input);
        let got = run(&clone, args, *input);
        if std::str::from_utf8(&want.1).is_err() || std::str::from_utf8(&want.2).is_err() {
            raw_echoes += 1;
        }
        if want != got {
            differences.push(format!(
                "{args:?} (stdin {input:?}):\n  ipvsadm:    {:?} {:?} {:?}\n  ipvsadm-rs: {:?} {:?} {:?}",
                want.0,
                want.1.escape_ascii().to_string(),
                want.2.escape_ascii().to_string(),
                got.0,
                got.1.escape_ascii().to_string(),
                got.2.escape_ascii().to_string(),
            ));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    // Otherwise the cases would not test what they are for.
    assert!(
        raw_echoes >= 2,
        "ipvsadm echoed bytes that are not UTF-8 in {raw_echoes} cases only"
    );
}
