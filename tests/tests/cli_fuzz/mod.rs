//! A seeded generator of ipvsadm command sequences for the randomized differential test.
//!
//! Each sequence mixes the commands a keepalived or kube-proxy user and a sysadmin type
//! (services, real servers, edits, deletes, zeroing, timeouts, listings, save and restore)
//! with invalid input of every kind (unknown options, missing or bad arguments, options in
//! the wrong command, duplicates, deleting what does not exist, bad restore lines). The same
//! seed always yields the same sequence, so a failure is reproduced by its seed alone.
//!
//! Addresses come from small pools on purpose: services and real servers collide often
//! (duplicates, edits and deletes of what exists). ipvsadm sorts listings with wrapping
//! `int` subtractions, which are a total order only while addresses (and fwmarks) differ by
//! less than 2^31; with far-apart ones the sorted order follows the kernel's dump order, a
//! per-namespace hash, so the two namespaces being compared list the same table in
//! different orders. Most seeds therefore keep to nearby addresses; every third seed is
//! "wide" (far-apart addresses and fwmarks), and its steps are marked `unordered`, as are
//! `--nosort` listings: their output is compared across namespaces as a set of lines, and
//! a listing is also run by both programs in the reference's namespace and compared exactly.

use workspace_tests::{cmd_args, Step};

/// splitmix64: tiny, deterministic and good enough to pick test input.
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `percent` in 100.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// One element of `items`.
    pub fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[self.below(items.len())]
    }
}

/// What a generated step is, so the runner knows whether it can change the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only reads (listings, help): the table is not compared afterwards.
    Listing,
    /// May change the table (or should fail without changing it).
    Change,
    /// `-S` in both namespaces, then each save restored into a fresh namespace.
    SaveRestore,
}

/// One generated step.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The command line and its stdin.
    pub step: Step,
    /// What it does.
    pub kind: Kind,
    /// Whether its output's order may legitimately differ between two namespaces.
    pub unordered: bool,
}

const SCHEDULERS: &[&str] = &[
    "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos",
];

const SCHED_FLAGS: &[&str] = &[
    "sh-fallback",
    "sh-port",
    "mh-fallback",
    "mh-port",
    "flag-1",
    "flag-2",
    "flag-3",
];

/// Arguments that are wrong somewhere, for replacing a good argument.
const BAD_VALUES: &[&str] = &[
    "",
    "abc",
    "-1",
    "0",
    "99999",
    "4294967296",
    "1.2.3.4.5",
    "[::1",
    "10.0.0.1:",
    ":80",
    "10.0.0.1:http",
    "256.1.1.1",
    "2001:db8::1",
    "[2001:db8::1]:99999",
    "0x10",
    "1e3",
    " 5",
    "5 ",
    "+5",
    "007",
    "10.0.0.1:80:90",
    "[2001:db8::1]80",
    ":",
    "[]:80",
    "10.0.0.1/24:80",
    "averyveryveryveryverylongschedulername",
    "sh-port,",
    ",mh-port",
    "flag-4",
    "ipip,gre",
    "2147483648",
    "18446744073709551616",
];

/// Tokens that do not belong where they are inserted. `-v` is not among them: ipvsadm-rs
/// prints its own version there by design (docs/ipvsadm-rs.md, "Beyond ipvsadm"), and so are
/// none of its other opt-in options.
const STRAY_TOKENS: &[&str] = &[
    "--bogus",
    "-q",
    "-L",
    "-A",
    "-a",
    "-E",
    "-D",
    "-Z",
    "-C",
    "-R",
    "-S",
    "-h",
    "-w",
    "-r",
    "-s",
    "-p",
    "-M",
    "-b",
    "-x",
    "-y",
    "-t",
    "-u",
    "-f",
    "-6",
    "-o",
    "-n",
    "-c",
    "-g",
    "-i",
    "-m",
    "--pe",
    "--ops",
    "--stats",
    "--rate",
    "--exact",
    "--sort",
    "--timeout",
    "--daemon",
    "--tun-type",
    "--tun-port",
    "--tun-csum",
    "--thresholds",
    "--persistent-conn",
    "--tun-info",
    "--set",
    "--",
    "-",
    "extra",
    "10.0.0.9",
    "80",
    "rr",
    "--weight=3",
    "-w3",
    "-p=5",
    "--weight=",
    "--persist",
    "--sched",
    "--numeric=1",
    "-nn",
    "-LL",
    "--tun-nocsum",
    "--tun-remcsum",
    "--nosort",
    "-X",
    "--exact=1",
    "-6=1",
    "--mcast-interface",
    "--syncid",
    "--start-daemon",
    "--stop-daemon",
];

/// The generator of one sequence.
pub struct Generator {
    rng: Rng,
    /// Service specifications used so far, so later commands often name an existing one.
    services: Vec<Vec<String>>,
    /// Real server addresses used so far, with the service they were added to.
    servers: Vec<(Vec<String>, String)>,
    /// Whether far-apart addresses and fwmarks are used too.
    wide: bool,
}

impl Generator {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Generator {
            rng: Rng::new(seed),
            services: Vec::new(),
            servers: Vec::new(),
            wide: seed % 3 == 0,
        }
    }

    /// The next step of the sequence.
    pub fn step(&mut self) -> Generated {
        let mut g = self.next_step();
        g.unordered = self.wide || g.step.args.iter().any(|a| a == "--nosort");
        g
    }

    fn next_step(&mut self) -> Generated {
        let r = self.rng.below(100);
        let (args, kind) = match r {
            0..=17 => (self.add_service(), Kind::Change),
            18..=23 => (self.edit_service(), Kind::Change),
            24..=28 => (self.delete_service(), Kind::Change),
            29..=46 => (self.add_server(), Kind::Change),
            47..=52 => (self.edit_server(), Kind::Change),
            53..=56 => (self.delete_server(), Kind::Change),
            57..=59 => (self.zero(), Kind::Change),
            60 => (vec!["-C".to_string()], Kind::Change),
            61..=63 => (self.set_timeouts(), Kind::Change),
            64..=78 => (self.listing(), Kind::Listing),
            79..=81 => {
                let save = if self.rng.chance(50) { "-Sn" } else { "-S" };
                (vec![save.to_string()], Kind::SaveRestore)
            }
            82..=85 => return self.restore(),
            86 => return self.big_restore(),
            87..=95 => return self.mutated(),
            98 => (self.sync_daemon(), Kind::Change),
            _ => (self.junk(), Kind::Change),
        };
        let args = if self.rng.chance(30) {
            self.respell(args)
        } else {
            args
        };
        Generated {
            step: step_of(args),
            kind,
            unordered: false,
        }
    }

    /// The same command in other spellings ipvsadm accepts (or should refuse alike):
    /// arguments attached to their option (`-w5`, `-w=5`, `--weight=5`), short flags run
    /// together (`-Ln`, `-at`), and numbers with a sign, leading zeros, hex or a space.
    fn respell(&mut self, args: Vec<String>) -> Vec<String> {
        const SHORT_WITH_VALUE: &[&str] =
            &["-t", "-u", "-f", "-s", "-p", "-M", "-r", "-w", "-x", "-y"];
        const SHORT_FLAGS: &[&str] = &[
            "-A", "-E", "-D", "-C", "-L", "-l", "-Z", "-a", "-e", "-d", "-R", "-S", "-n", "-c",
            "-g", "-i", "-m", "-6", "-o",
        ];
        let mut out: Vec<String> = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let arg = self.respell_number(&args[i]);
            let next = args.get(i + 1).cloned();
            match next {
                Some(value)
                    if SHORT_WITH_VALUE.contains(&arg.as_str())
                        && !value.starts_with('-')
                        && self.rng.chance(40) =>
                {
                    let glue = if self.rng.chance(25) { "=" } else { "" };
                    out.push(format!("{arg}{glue}{}", self.respell_number(&value)));
                    i += 2;
                }
                Some(value)
                    if arg.starts_with("--")
                        && arg.len() > 2
                        && !value.starts_with('-')
                        && i > 0
                        && self.rng.chance(30) =>
                {
                    out.push(format!("{arg}={}", self.respell_number(&value)));
                    i += 2;
                }
                Some(value)
                    if SHORT_FLAGS.contains(&arg.as_str())
                        && value.len() == 2
                        && value.starts_with('-')
                        && value != "--"
                        && self.rng.chance(50) =>
                {
                    out.push(format!("{arg}{}", &value[1..]));
                    i += 2;
                }
                _ => {
                    out.push(arg);
                    i += 1;
                }
            }
        }
        out
    }

    /// A number (or an address's port) sometimes written another way.
    fn respell_number(&mut self, arg: &str) -> String {
        let (head, digits) = match arg.rsplit_once(':') {
            Some((head, port)) if !head.ends_with(':') => (format!("{head}:"), port),
            _ => (String::new(), arg),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || !self.rng.chance(15)
        {
            return arg.to_string();
        }
        let n: u64 = digits.parse().unwrap_or(0);
        let other = match self.rng.below(6) {
            0 => format!("0{digits}"),
            1 => format!("+{digits}"),
            2 => format!("0x{n:x}"),
            3 => format!("{digits} "),
            4 => format!("{digits}x"),
            _ => format!("{}", n + 4294967296),
        };
        format!("{head}{other}")
    }

    /// A changing command of the sequence (for restore input and mutation).
    fn changing_command(&mut self) -> Vec<String> {
        match self.rng.below(10) {
            0..=2 => self.add_service(),
            3 => self.edit_service(),
            4 => self.delete_service(),
            5..=7 => self.add_server(),
            8 => self.edit_server(),
            _ => self.delete_server(),
        }
    }

    fn new_service(&mut self) -> Vec<String> {
        let rng = &mut self.rng;
        // `10.2` is inet_aton's spelling of 10.0.0.2.
        // inet_aton reads `010.0.0.1` as 8.0.0.1; `10.0.0.01` is 10.0.0.1.
        let v4 = [
            "10.0.0.1",
            "10.0.0.2",
            "10.0.3.4",
            "10.0.0.1",
            "10.2",
            "010.0.0.1",
            "10.0.0.01",
        ];
        let v6 = [
            "[2001:db8::1]",
            "[2001:db8::2]",
            "[2001:db8::1:0]",
            "[2001:DB8::1]",
            "[2001:db8:0:0:0:0:0:2]",
            "[::ffff:10.0.0.1]",
        ];
        let ports = [":80", ":443", ":0", "", ":8080", ":53", ":65535"];
        let far_v4 = ["200.0.0.1", "128.0.0.1", "1.2.3.4", "255.255.255.254"];
        let far_v6 = ["[fe80::1]", "[ff00::1]", "[8000::1]", "[::1]"];
        let far = self.wide && rng.chance(40);
        let mut spec = match rng.below(10) {
            0..=1 => {
                let mark = if far {
                    rng.pick(&["2147483648", "4294967295", "2147483647"])
                        .to_string()
                } else {
                    (1 + rng.below(3)).to_string()
                };
                let mut spec = vec!["-f".to_string(), mark];
                if rng.chance(30) {
                    spec.push("-6".to_string());
                }
                return spec;
            }
            2..=7 => {
                let pool: &[&str] = if far { &far_v4 } else { &v4 };
                vec![
                    String::new(),
                    format!("{}{}", rng.pick(pool), rng.pick(&ports)),
                ]
            }
            _ => {
                let pool: &[&str] = if far { &far_v6 } else { &v6 };
                vec![
                    String::new(),
                    format!("{}{}", rng.pick(pool), rng.pick(&ports)),
                ]
            }
        };
        spec[0] = rng
            .pick(&[
                "-t",
                "-t",
                "-t",
                "-u",
                "-u",
                "--sctp-service",
                "--tcp-service",
                "--udp-service",
            ])
            .to_string();
        spec
    }

    /// A service specification: usually one seen before.
    fn service(&mut self) -> Vec<String> {
        if !self.services.is_empty() && self.rng.chance(70) {
            let i = self.rng.below(self.services.len());
            return self.services[i].clone();
        }
        let spec = self.new_service();
        self.services.push(spec.clone());
        spec
    }

    fn is_v6(spec: &[String]) -> bool {
        spec.iter().any(|a| a.starts_with('[') || a == "-6")
    }

    fn service_options(&mut self, spec: &[String], args: &mut Vec<String>) {
        let rng = &mut self.rng;
        if rng.chance(60) {
            args.push(rng.pick(&["-s", "--scheduler"]).to_string());
            if rng.chance(95) {
                args.push(rng.pick(SCHEDULERS).to_string());
            } else {
                args.push(rng.pick(&["bogus", "RR", ""]).to_string());
            }
        }
        if rng.chance(35) {
            args.push(rng.pick(&["-p", "--persistent"]).to_string());
            if rng.chance(70) {
                args.push(
                    rng.pick(&["1", "60", "300", "0", "2678400", "3600", "120", "2678401"])
                        .to_string(),
                );
            }
            if rng.chance(50) {
                args.push(rng.pick(&["-M", "--netmask"]).to_string());
                let mask = if Self::is_v6(spec) {
                    rng.pick(&["64", "128", "48", "129", "0", "255.255.255.0"])
                } else {
                    rng.pick(&[
                        "255.255.255.0",
                        "255.255.0.0",
                        "255.255.255.255",
                        "255.0.255.0",
                        "24",
                        "bad",
                    ])
                };
                args.push(mask.to_string());
            }
        }
        if rng.chance(20) {
            let n = 1 + rng.below(2);
            let flags: Vec<&str> = (0..n).map(|_| rng.pick(SCHED_FLAGS)).collect();
            args.push("-b".to_string());
            args.push(if rng.chance(5) {
                "bogus".to_string()
            } else {
                flags.join(",")
            });
        }
        if rng.chance(12) {
            args.push(rng.pick(&["-o", "--ops"]).to_string());
        }
        if rng.chance(8) {
            args.push("--pe".to_string());
            args.push(rng.pick(&["sip", "sip", "nosuch"]).to_string());
        }
    }

    fn add_service(&mut self) -> Vec<String> {
        let spec = self.service();
        let mut args = vec![self.rng.pick(&["-A", "-A", "--add-service"]).to_string()];
        args.extend(spec.iter().cloned());
        self.service_options(&spec, &mut args);
        args
    }

    fn edit_service(&mut self) -> Vec<String> {
        let spec = self.service();
        let mut args = vec![self.rng.pick(&["-E", "--edit-service"]).to_string()];
        args.extend(spec.iter().cloned());
        self.service_options(&spec, &mut args);
        args
    }

    fn delete_service(&mut self) -> Vec<String> {
        let mut args = vec![self.rng.pick(&["-D", "--delete-service"]).to_string()];
        args.extend(self.service());
        args
    }

    fn real_server(&mut self) -> String {
        if !self.servers.is_empty() && self.rng.chance(40) {
            let i = self.rng.below(self.servers.len());
            return self.servers[i].1.clone();
        }
        if self.wide && self.rng.chance(30) {
            return self
                .rng
                .pick(&[
                    "200.1.1.1:80",
                    "1.1.1.1",
                    "[ff00::5]",
                    "[::5]:80",
                    "128.0.0.9",
                ])
                .to_string();
        }
        let rip = self
            .rng
            .pick(&[
                "10.0.1.1",
                "10.0.1.2:8080",
                "10.0.1.3:80",
                "10.0.1.1:0",
                "[2001:db8::10]",
                "[2001:db8::11]:80",
                "127.0.0.1:80",
                "10.0.2.9:443",
                "10.0.1.4",
                "[2001:DB8::10]:8080",
                "10.0.1.01:80",
            ])
            .to_string();
        rip
    }

    fn server_options(&mut self, args: &mut Vec<String>) {
        let rng = &mut self.rng;
        let tunnel = match rng.below(10) {
            0..=2 => {
                args.push(rng.pick(&["-m", "--masquerading"]).to_string());
                false
            }
            3..=4 => {
                args.push(rng.pick(&["-g", "--gatewaying"]).to_string());
                false
            }
            5..=6 => {
                args.push(rng.pick(&["-i", "--ipip"]).to_string());
                true
            }
            _ => false,
        };
        if rng.chance(40) {
            args.push(rng.pick(&["-w", "--weight"]).to_string());
            args.push(
                rng.pick(&[
                    "0",
                    "1",
                    "5",
                    "100",
                    "65535",
                    "65536",
                    "2147483647",
                    "3",
                    "-1",
                ])
                .to_string(),
            );
        }
        if rng.chance(15) {
            args.push(rng.pick(&["-x", "--u-threshold"]).to_string());
            args.push(rng.pick(&["0", "10", "100", "-1", "65536"]).to_string());
        }
        if rng.chance(15) {
            args.push(rng.pick(&["-y", "--l-threshold"]).to_string());
            args.push(rng.pick(&["0", "5", "200", "x"]).to_string());
        }
        if (tunnel || rng.chance(5)) && rng.chance(60) {
            args.push("--tun-type".to_string());
            let ty = rng.pick(&["ipip", "gue", "gue", "gre", "vxlan"]);
            args.push(ty.to_string());
            if (ty == "gue" || rng.chance(10)) && rng.chance(85) {
                args.push("--tun-port".to_string());
                args.push(rng.pick(&["6080", "6081", "0", "65536", "1"]).to_string());
            }
            if rng.chance(40) {
                args.push(
                    rng.pick(&["--tun-nocsum", "--tun-csum", "--tun-remcsum"])
                        .to_string(),
                );
            }
        }
    }

    /// A service of a real server command, and the server.
    fn server_target(&mut self) -> (Vec<String>, String) {
        if !self.servers.is_empty() && self.rng.chance(50) {
            let i = self.rng.below(self.servers.len());
            return self.servers[i].clone();
        }
        let spec = self.service();
        let rip = self.real_server();
        self.servers.push((spec.clone(), rip.clone()));
        (spec, rip)
    }

    fn add_server(&mut self) -> Vec<String> {
        let (spec, rip) = self.server_target();
        let mut args = vec![self.rng.pick(&["-a", "-a", "--add-server"]).to_string()];
        args.extend(spec);
        args.push(self.rng.pick(&["-r", "--real-server"]).to_string());
        args.push(rip);
        self.server_options(&mut args);
        args
    }

    fn edit_server(&mut self) -> Vec<String> {
        let (spec, rip) = self.server_target();
        let mut args = vec![self.rng.pick(&["-e", "--edit-server"]).to_string()];
        args.extend(spec);
        args.push("-r".to_string());
        args.push(rip);
        self.server_options(&mut args);
        args
    }

    fn delete_server(&mut self) -> Vec<String> {
        let (spec, rip) = self.server_target();
        let mut args = vec![self.rng.pick(&["-d", "--delete-server"]).to_string()];
        args.extend(spec);
        args.push("-r".to_string());
        args.push(rip);
        args
    }

    fn zero(&mut self) -> Vec<String> {
        let mut args = vec![self.rng.pick(&["-Z", "--zero"]).to_string()];
        if self.rng.chance(50) {
            args.extend(self.service());
        }
        args
    }

    fn set_timeouts(&mut self) -> Vec<String> {
        let mut args = vec!["--set".to_string()];
        for _ in 0..3 {
            args.push(
                self.rng
                    .pick(&["0", "1", "30", "120", "900", "7200", "2678400", "abc", "-1"])
                    .to_string(),
            );
        }
        args
    }

    /// A listing.
    fn listing(&mut self) -> Vec<String> {
        let rng = &mut self.rng;
        let mut args = vec![rng
            .pick(&["-L", "-L", "-l", "--list", "-Ln", "-Ln", "-S", "-Sn"])
            .to_string()];
        match rng.below(10) {
            0 => args.push("--timeout".to_string()),
            1 => args.push("--daemon".to_string()),
            2 => {
                args.push("-c".to_string());
                if rng.chance(30) {
                    args.push("--persistent-conn".to_string());
                }
            }
            _ => {
                for option in [
                    "--stats",
                    "--rate",
                    "--thresholds",
                    "--persistent-conn",
                    "--tun-info",
                    "--exact",
                    "--sort",
                    "--nosort",
                ] {
                    if rng.chance(15) {
                        args.push(option.to_string());
                    }
                }
            }
        }
        if !args[0].ends_with('n') && self.rng.chance(70) {
            args.push("-n".to_string());
        }
        if self.rng.chance(25) {
            args.extend(self.service());
        }
        args
    }

    /// Starting or stopping a connection synchronization daemon on `lo`.
    fn sync_daemon(&mut self) -> Vec<String> {
        let rng = &mut self.rng;
        let state = rng.pick(&["master", "backup", "master", "backup", "primary"]);
        if rng.chance(40) {
            let mut args = vec!["--stop-daemon".to_string(), state.to_string()];
            if rng.chance(20) {
                args.extend(["--syncid".to_string(), "5".to_string()]);
            }
            return args;
        }
        let mut args = vec!["--start-daemon".to_string(), state.to_string()];
        if rng.chance(90) {
            args.extend(["--mcast-interface".to_string(), "lo".to_string()]);
        }
        for (option, values) in [
            ("--syncid", &["0", "5", "255", "256"][..]),
            (
                "--mcast-group",
                &["239.1.1.1", "ff02::1:2", "10.0.0.1", "x"][..],
            ),
            ("--mcast-port", &["8848", "9000", "0", "65536"][..]),
            ("--mcast-ttl", &["1", "3", "255", "256"][..]),
            ("--sync-maxlen", &["1000", "1500", "65507", "65508"][..]),
        ] {
            if rng.chance(20) {
                args.push(option.to_string());
                args.push(rng.pick(values).to_string());
            }
        }
        args
    }

    /// `-R` with a few lines: changes, the odd listing, blank lines, comments and junk.
    fn restore(&mut self) -> Generated {
        let mut input = String::new();
        for _ in 0..1 + self.rng.below(6) {
            let line = match self.rng.below(13) {
                12 => self.long_word_line(),
                0 => String::new(),
                1 => "# comment".to_string(),
                2 => self.junk().join(" "),
                3 => self.listing().join(" "),
                4 => format!("ipvsadm {}", self.changing_command().join(" ")),
                _ => self.changing_command().join(" "),
            };
            let line = match self.rng.below(12) {
                0 => format!("  {line}"),
                1 => line.replace(' ', "\t"),
                2 => format!("{line}\r"),
                3 => format!("{line}   "),
                4 => line.replace(' ', "  "),
                _ => line,
            };
            input.push_str(&line);
            input.push('\n');
        }
        if self.rng.chance(10) {
            input.pop();
        }
        let args = if self.rng.chance(85) {
            vec!["-R".to_string()]
        } else {
            vec!["--restore".to_string()]
        };
        Generated {
            step: Step {
                stdin: Some(input),
                ..cmd_args(&args.iter().map(String::as_str).collect::<Vec<_>>())
            },
            kind: Kind::Change,
            unordered: false,
        }
    }

    /// A line with a word around ipvsadm's 4096-byte word limit (`config_stream_read`
    /// splits longer words), after a command. Never first on a line: whether ipvsadm ends
    /// the line after the first 4096 bytes of such a word depends on its `tail` buffer,
    /// which each call reads uninitialized, holding what the previous line left on the
    /// stack (a reported difference, not something a clone can promise).
    fn long_word_line(&mut self) -> String {
        let n = *self
            .rng
            .pick(&[&4095usize, &4096, &4097, &5000, &8192, &8193]);
        match self.rng.below(3) {
            0 => format!("-A -t 10.0.0.5:80 -s {}", "r".repeat(n)),
            1 => format!("-L -n {}-Sn", "x".repeat(n)),
            _ => format!("-A -t 10.0.0.6:80 -s rr -p {}", "1".repeat(n)),
        }
    }

    /// `-R` with hundreds of lines, as a configuration management tool feeds it: mostly new
    /// services and real servers, with a few kernel errors (duplicates, deleting what does
    /// not exist), listings, unknown options and sometimes one invalid line (which ends the
    /// restore) among them. ipvsadm-rs sends such input in batches; the output and the table
    /// must still be those of one command per line.
    fn big_restore(&mut self) -> Generated {
        let lines = 100 + self.rng.below(600);
        let net = 100 + self.rng.below(4);
        let fatal_at = if self.rng.chance(30) {
            Some(self.rng.below(lines))
        } else {
            None
        };
        let service = |i: usize| format!("-t 10.{net}.{}.{}:80", i / 250, i % 250 + 1);
        let mut added = 0;
        let mut input = String::new();
        for i in 0..lines {
            let line = if Some(i) == fatal_at {
                format!("-A -t 10.{net}.9.9")
            } else {
                match self.rng.below(100) {
                    0..=69 => {
                        added += 1;
                        let scheduler = if self.rng.chance(30) { " -s rr" } else { "" };
                        format!("-A {}{scheduler}", service(added - 1))
                    }
                    70..=84 if added > 0 => format!(
                        "-a {} -r 10.9.{}.{}:8080 -m -w {}",
                        service(self.rng.below(added)),
                        i / 250,
                        i % 250 + 1,
                        self.rng.below(10)
                    ),
                    85..=89 if added > 0 => format!("-A {}", service(self.rng.below(added))),
                    90..=92 => format!("-D {}", service(added + 5)),
                    93..=94 => self.rng.pick(&["-Ln", "-Sn", "-L -n --stats"]).to_string(),
                    95 if added > 0 => format!("-Ln {}", service(self.rng.below(added))),
                    96..=97 => format!("-A {} --bogus", service(added + 7)),
                    98 if added > 0 => format!("-e {} -r 10.9.0.1:8080 -w 3", service(0)),
                    _ => String::new(),
                }
            };
            input.push_str(&line);
            input.push('\n');
        }
        Generated {
            step: Step {
                stdin: Some(input),
                ..cmd_args(&["-R"])
            },
            kind: Kind::Change,
            unordered: false,
        }
    }

    /// A changing command spoiled in one place.
    fn mutated(&mut self) -> Generated {
        let mut args = self.changing_command();
        match self.rng.below(4) {
            0 => {
                let at = self.rng.below(args.len() + 1);
                args.insert(at, self.rng.pick(STRAY_TOKENS).to_string());
            }
            1 if args.len() > 1 => {
                let at = 1 + self.rng.below(args.len() - 1);
                args.remove(at);
            }
            2 => {
                let at = self.rng.below(args.len());
                let copy: Vec<String> = args[at..(at + 2).min(args.len())].to_vec();
                args.extend(copy);
            }
            _ => {
                let at = self.rng.below(args.len());
                args[at] = self.rng.pick(BAD_VALUES).to_string();
            }
        }
        Generated {
            step: step_of(args),
            kind: Kind::Change,
            unordered: false,
        }
    }

    /// A few stray tokens.
    fn junk(&mut self) -> Vec<String> {
        (0..1 + self.rng.below(3))
            .map(|_| {
                if self.rng.chance(80) {
                    self.rng.pick(STRAY_TOKENS).to_string()
                } else {
                    self.rng.pick(BAD_VALUES).to_string()
                }
            })
            .collect()
    }
}

fn step_of(args: Vec<String>) -> Step {
    Step {
        args,
        stdin: None,
        as_user: None,
    }
}
