//! One ipvsadm command line, understood the way ipvsadm 1.31 understands it.
//!
//! The order of the checks is part of the interface: when a line has several problems,
//! ipvsadm reports the first one it meets, so this module meets them in the same order
//! (the first option must be a command; each option is checked as it is read; then popt
//! errors, `--set` values, stray arguments, scheduler flags, the option tables, and the
//! per-command rules).

use ipvs_rs::Violation;

use crate::address::{parse_netmask, parse_service, PARSED_ADDR, PARSED_PORT};
use crate::checks::{check_command_options, check_tunnel_options, opt, OPTION_NAMES};
use crate::entry::*;
use crate::error::{Error, Result};
use crate::help::{usage_text, version_text};
use crate::kernel;
use crate::numbers::{atoi, parse_fwmark, string_to_number};
use crate::options::Tag;
use crate::popt::{Scanned, Scanner};
use crate::resolve::{
    parse_ipv4_strict, parse_ipv6, AF_INET, AF_INET6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP,
};

/// Listing format bits.
pub mod fmt {
    /// `-n`
    pub const NUMERIC: u32 = 0x0001;
    /// `-S`
    pub const RULE: u32 = 0x0002;
    /// `--stats`
    pub const STATS: u32 = 0x0004;
    /// `--rate`
    pub const RATE: u32 = 0x0008;
    /// `--thresholds`
    pub const THRESHOLDS: u32 = 0x0010;
    /// `--persistent-conn`
    pub const PERSISTENTCONN: u32 = 0x0020;
    /// `--nosort`
    pub const NOSORT: u32 = 0x0040;
    /// `--exact`
    pub const EXACT: u32 = 0x0080;
    /// `--tun-info`
    pub const TUN_INFO: u32 = 0x0100;
}

/// The longest persistence or connection timeout ipvsadm accepts: 31 days.
pub const MAX_TIMEOUT: i64 = 86400 * 31;

/// A command line that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// What to do.
    pub entry: Entry,
    /// Which options were given (bits from [`crate::checks::opt`]).
    pub options: u64,
    /// Listing format bits ([`fmt`]).
    pub format: u32,
}

impl Parsed {
    /// Whether an option was given.
    pub fn has(&self, bit: u32) -> bool {
        self.options & (1u64 << bit) != 0
    }
}

/// How parsing a command line ended without stopping the program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Ready to run.
    Ready(Box<Parsed>),
    /// popt refused an option: the message goes to stderr and the line's result is -1,
    /// but the program (or `-R`) carries on.
    ScanFailed(String),
}

fn invalid(message: impl Into<String>) -> Error {
    Error::Invalid(message.into())
}

fn set_option(options: &mut u64, bit: u32) -> Result<()> {
    let mask = 1u64 << bit;
    if *options & mask != 0 {
        return Err(invalid(format!(
            "multiple '{}' options specified",
            OPTION_NAMES[bit as usize]
        )));
    }
    *options |= mask;
    Ok(())
}

fn set_command(cmd: &mut Command, new: Command) -> Result<()> {
    if *cmd != Command::None {
        return Err(invalid("multiple commands specified"));
    }
    *cmd = new;
    Ok(())
}

fn parse_timeout(text: Option<&str>, min: i64) -> Result<u32> {
    match text {
        None => Ok(DEFAULT_PERSISTENT_TIMEOUT),
        Some(t) => string_to_number(t, min, MAX_TIMEOUT)
            .map(|n| n as u32)
            .ok_or_else(|| invalid(format!("invalid timeout value `{t}' specified"))),
    }
}

/// C's `strncpy` into a fixed buffer: at most `max` bytes, cut on a character boundary.
fn truncated(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

fn parse_sched_flags(sched: &str, text: &str) -> Result<u32> {
    let sched = if sched.is_empty() {
        DEFAULT_SCHEDULER
    } else {
        sched
    };
    let mut flags = 0;
    let mut any = false;
    for flag in text.split(',').filter(|f| !f.is_empty()) {
        any = true;
        let (bit, needs) = match flag {
            "flag-1" => (SVC_F_SCHED1, None),
            "flag-2" => (SVC_F_SCHED2, None),
            "flag-3" => (SVC_F_SCHED3, None),
            "sh-fallback" => (SVC_F_SCHED1, Some("sh")),
            "sh-port" => (SVC_F_SCHED2, Some("sh")),
            "mh-fallback" => (SVC_F_SCHED1, Some("mh")),
            "mh-port" => (SVC_F_SCHED2, Some("mh")),
            _ => return Err(invalid(format!("invalid scheduler flag `{flag}'"))),
        };
        flags |= bit;
        if needs.is_some_and(|n| n != sched) {
            return Err(invalid(format!("incompatible scheduler flag `{flag}'")));
        }
    }
    if !any {
        return Err(Error::Crash);
    }
    Ok(flags)
}

fn protocol_of(tag: Tag) -> u16 {
    match tag {
        Tag::TcpService => IPPROTO_TCP,
        Tag::UdpService => IPPROTO_UDP,
        _ => IPPROTO_SCTP,
    }
}

fn daemon_state(arg: Option<&str>) -> Option<u32> {
    match arg {
        Some("master") => Some(DAEMON_MASTER),
        Some("backup") => Some(DAEMON_BACKUP),
        _ => None,
    }
}

/// Parses and checks one command line (`argv[0]` is the program name).
pub fn parse<S: AsRef<str>>(argv: &[S]) -> Result<Outcome> {
    let program = argv.first().map_or("", AsRef::as_ref);
    let mut scanner = Scanner::new(argv);
    // Built in place: the entry is a few hundred bytes, and moving it into a box at the
    // end would copy it on every line of a restore.
    let mut parsed = Box::new(Parsed {
        entry: Entry::default(),
        options: 0,
        format: 0,
    });
    let Parsed {
        entry: e,
        options,
        format,
    } = &mut *parsed;
    let mut sched_flags_arg = String::new();

    let try_help = || Error::TryHelp {
        program: program.to_string(),
    };
    let (first, first_arg) = match scanner.next_opt() {
        Ok(Scanned::Opt(spec, arg)) => (spec.tag, arg),
        _ => return Err(try_help()),
    };
    let command = match first {
        Tag::AddService => Command::Add,
        Tag::EditService => Command::Edit,
        Tag::DeleteService => Command::Delete,
        Tag::AddServer => Command::AddDest,
        Tag::EditServer => Command::EditDest,
        Tag::DeleteServer => Command::DeleteDest,
        Tag::Clear => Command::Flush,
        Tag::List => Command::List,
        Tag::Zero => Command::Zero,
        Tag::Set => Command::Timeout,
        Tag::Restore => Command::Restore,
        Tag::Save => Command::Save,
        Tag::StartDaemon => {
            e.daemon.state = daemon_state(first_arg.as_deref())
                .ok_or_else(|| invalid("illegal start-daemon parameter specified"))?;
            Command::StartDaemon
        }
        Tag::StopDaemon => {
            e.daemon.state = daemon_state(first_arg.as_deref())
                .ok_or_else(|| invalid("illegal start_daemon specified"))?;
            Command::StopDaemon
        }
        Tag::Help => {
            return Err(Error::Help {
                text: usage_text(program),
            })
        }
        Tag::Version => {
            return Err(Error::Help {
                text: version_text(),
            })
        }
        _ => return Err(try_help()),
    };
    set_command(&mut e.cmd, command)?;

    let scan_error = loop {
        let (tag, arg) = match scanner.next_opt() {
            Ok(Scanned::Opt(spec, arg)) => (spec.tag, arg),
            Ok(Scanned::End) => break None,
            Err(err) => break Some(err),
        };
        let a = arg.as_deref().unwrap_or("");
        match tag {
            Tag::TcpService | Tag::UdpService | Tag::SctpService => {
                set_option(options, opt::SERVICE)?;
                e.svc.protocol = protocol_of(tag);
                if parse_service(a, &mut e.svc) & PARSED_ADDR == 0 {
                    return Err(invalid("illegal virtual server address[:port] specified"));
                }
            }
            Tag::FwmarkService => {
                set_option(options, opt::SERVICE)?;
                let mark = parse_fwmark(a)
                    .ok_or_else(|| invalid(format!("invalid fwmark value `{a}' specified")))?;
                e.svc.set_fwmark(mark);
            }
            Tag::Scheduler => {
                set_option(options, opt::SCHEDULER)?;
                e.svc.sched_name = truncated(a, 15);
            }
            Tag::Persistent => {
                set_option(options, opt::PERSISTENT)?;
                e.svc.flags |= SVC_F_PERSISTENT;
                e.svc.timeout = parse_timeout(arg.as_deref(), 1)?;
            }
            Tag::Netmask => {
                set_option(options, opt::NETMASK)?;
                if e.svc.af != AF_INET6 {
                    e.svc.netmask = parse_netmask(a).ok_or_else(|| {
                        invalid("illegal virtual server persistent mask specified")
                    })?;
                } else {
                    e.svc.netmask = atoi(a) as u32;
                    if !(1..=128).contains(&e.svc.netmask) {
                        return Err(invalid("illegal ipv6 netmask specified"));
                    }
                }
            }
            Tag::RealServer => {
                set_option(options, opt::SERVER)?;
                // parse_service reads only the protocol and writes what it parses.
                let mut target = Service {
                    protocol: e.svc.protocol,
                    af: e.svc.af,
                    addr: e.svc.addr,
                    port: e.svc.port,
                    ..Service::default()
                };
                let parsed = parse_service(a, &mut target);
                e.dest.af = target.af;
                e.dest.addr = target.addr;
                e.dest.port = target.port;
                if parsed & PARSED_ADDR == 0 {
                    return Err(invalid("illegal real server address[:port] specified"));
                }
                if parsed & PARSED_PORT == 0 {
                    e.dest.port = e.svc.port;
                }
            }
            Tag::Ipip | Tag::Gatewaying | Tag::Masquerading => {
                set_option(options, opt::FORWARD)?;
                e.dest.fwd = match tag {
                    Tag::Ipip => FWD_TUNNEL,
                    Tag::Gatewaying => FWD_ROUTE,
                    _ => FWD_MASQ,
                };
            }
            Tag::Weight => {
                set_option(options, opt::WEIGHT)?;
                e.dest.weight = string_to_number(a, 0, i64::from(i32::MAX))
                    .ok_or_else(|| invalid("illegal weight specified"))?
                    as i32;
            }
            Tag::UThreshold => {
                set_option(options, opt::UTHRESHOLD)?;
                e.dest.u_threshold = string_to_number(a, 0, i64::from(i32::MAX))
                    .ok_or_else(|| invalid("illegal u_threshold specified"))?
                    as u32;
            }
            Tag::LThreshold => {
                set_option(options, opt::LTHRESHOLD)?;
                e.dest.l_threshold = string_to_number(a, 0, i64::from(i32::MAX))
                    .ok_or_else(|| invalid("illegal l_threshold specified"))?
                    as u32;
            }
            Tag::Connection => set_option(options, opt::CONNECTION)?,
            Tag::Numeric => {
                set_option(options, opt::NUMERIC)?;
                *format |= fmt::NUMERIC;
            }
            Tag::McastInterface => {
                set_option(options, opt::MCAST)?;
                e.daemon.mcast_ifn = truncated(a, 15);
            }
            Tag::SyncId => {
                set_option(options, opt::SYNCID)?;
                e.daemon.syncid = string_to_number(a, 0, 255)
                    .ok_or_else(|| invalid("illegal syncid specified"))?
                    as u32;
            }
            Tag::Timeout => set_option(options, opt::TIMEOUT)?,
            Tag::Daemon => set_option(options, opt::DAEMON)?,
            Tag::Stats => {
                set_option(options, opt::STATS)?;
                *format |= fmt::STATS;
            }
            Tag::Rate => {
                set_option(options, opt::RATE)?;
                *format |= fmt::RATE;
            }
            Tag::Thresholds => {
                set_option(options, opt::THRESHOLDS)?;
                *format |= fmt::THRESHOLDS;
            }
            Tag::PersistentConn => {
                set_option(options, opt::PERSISTENTCONN)?;
                *format |= fmt::PERSISTENTCONN;
            }
            Tag::NoSort => {
                set_option(options, opt::NOSORT)?;
                *format |= fmt::NOSORT;
            }
            Tag::Sort => {}
            Tag::Exact => {
                set_option(options, opt::EXACT)?;
                *format |= fmt::EXACT;
            }
            Tag::Ipv6 => {
                if e.svc.fwmark == 0 {
                    return Err(invalid("-6 used before -f\n"));
                }
                e.svc.af = AF_INET6;
                e.svc.netmask = 128;
            }
            Tag::Ops => {
                set_option(options, opt::ONEPACKET)?;
                e.svc.flags |= SVC_F_ONEPACKET;
            }
            Tag::Pe => {
                set_option(options, opt::PERSISTENCE_ENGINE)?;
                e.svc.pe_name = truncated(a, 16);
            }
            Tag::SchedFlags => {
                set_option(options, opt::SCHED_FLAGS)?;
                sched_flags_arg = truncated(a, 127);
            }
            Tag::McastGroup => {
                set_option(options, opt::MCAST_GROUP)?;
                if a.contains(':') {
                    let group = parse_ipv6(a).filter(|g| g[0] == 0xff);
                    e.daemon.mcast_group =
                        group.ok_or_else(|| invalid(format!("invalid IPv6 mcast-group `{a}'")))?;
                    e.daemon.mcast_af = AF_INET6;
                } else {
                    let group = parse_ipv4_strict(a).filter(|g| g[0] & 0xf0 == 0xe0);
                    let group =
                        group.ok_or_else(|| invalid(format!("invalid IPv4 mcast-group `{a}'")))?;
                    e.daemon.mcast_group[..4].copy_from_slice(&group);
                    e.daemon.mcast_af = AF_INET;
                }
            }
            Tag::McastPort => {
                set_option(options, opt::MCAST_PORT)?;
                e.daemon.mcast_port = string_to_number(a, 1, 65535)
                    .ok_or_else(|| invalid("illegal mcast-port specified"))?
                    as u16;
            }
            Tag::McastTtl => {
                set_option(options, opt::MCAST_TTL)?;
                e.daemon.mcast_ttl = string_to_number(a, 1, 255)
                    .ok_or_else(|| invalid("illegal mcast-ttl specified"))?
                    as u8;
            }
            Tag::SyncMaxlen => {
                set_option(options, opt::SYNC_MAXLEN)?;
                e.daemon.sync_maxlen = string_to_number(a, 1, 65535 - 20 - 8)
                    .ok_or_else(|| invalid("illegal sync-maxlen specified"))?
                    as u16;
            }
            Tag::TunInfo => {
                set_option(options, opt::TUN_INFO)?;
                *format |= fmt::TUN_INFO;
            }
            Tag::TunType => {
                set_option(options, opt::TUN_TYPE)?;
                e.dest.tun_type = match a {
                    "ipip" => 0,
                    "gue" => 1,
                    "gre" => 2,
                    _ => return Err(invalid("illegal tunnel type specified")),
                };
            }
            Tag::TunPort => {
                set_option(options, opt::TUN_PORT)?;
                e.dest.tun_port = string_to_number(a, 1, 65535)
                    .ok_or_else(|| invalid("illegal tunnel port specified"))?
                    as u16;
            }
            Tag::TunNocsum => set_option(options, opt::TUN_NOCSUM)?,
            Tag::TunCsum => {
                set_option(options, opt::TUN_CSUM)?;
                e.dest.tun_flags |= 1;
            }
            Tag::TunRemcsum => {
                set_option(options, opt::TUN_REMCSUM)?;
                e.dest.tun_flags |= 2;
            }
            Tag::Json => set_option(options, opt::JSON)?,
            Tag::Check => set_option(options, opt::CHECK)?,
            Tag::Replace => set_option(options, opt::REPLACE)?,
            _ => {
                return Err(invalid(format!(
                    "invalid option `{}'",
                    scanner.bad_option()
                )))
            }
        }
    };

    if let Some(err) = scan_error {
        return Ok(Outcome::ScanFailed(format!(
            "{}: {}",
            err.bad_option,
            err.kind.message()
        )));
    }

    if e.cmd == Command::Timeout {
        let (Some(tcp), Some(fin), Some(udp)) = (
            scanner.next_leftover(),
            scanner.next_leftover(),
            scanner.next_leftover(),
        ) else {
            return Err(invalid("--set option requires 3 timeout values"));
        };
        e.timeouts = Timeouts {
            tcp: parse_timeout(Some(tcp), 0)?,
            tcp_fin: parse_timeout(Some(fin), 0)?,
            udp: parse_timeout(Some(udp), 0)?,
        };
    }
    if let Some(extra) = scanner.next_leftover() {
        return Err(invalid(format!("unexpected argument {extra}")));
    }
    if !sched_flags_arg.is_empty() {
        e.svc.flags &= !SVC_F_SCHED_ALL;
        e.svc.flags |= parse_sched_flags(&e.svc.sched_name, &sched_flags_arg)?;
    }

    finish(&mut parsed)?;
    Ok(Outcome::Ready(parsed))
}

/// The checks ipvsadm makes once the whole line is read, and the defaults it fills in.
fn finish(p: &mut Parsed) -> Result<()> {
    check_command_options(p.entry.cmd, p.options)?;
    check_extensions(p)?;
    let e = &mut p.entry;
    if matches!(e.cmd, Command::Add | Command::Edit) {
        // ipvs-rs holds the rules; ipvsadm's order and wording are kept here.
        let broken = kernel::to_kernel_service(&e.svc).violations();
        if broken.contains(&Violation::ZeroPort) {
            return Err(invalid("Zero port specified for non-persistent service"));
        }
        if broken
            .iter()
            .any(|v| matches!(v, Violation::OnePacketNotUdp { .. }))
        {
            return Err(invalid(
                "One-Packet Scheduling is only for UDP virtual services",
            ));
        }
        if e.svc.sched_name.is_empty() {
            e.svc.sched_name = DEFAULT_SCHEDULER.to_string();
        }
    }
    if e.cmd == Command::StartDaemon && e.daemon.mcast_ifn.is_empty() {
        e.daemon.mcast_ifn = DEFAULT_MCAST_IFN.to_string();
    }
    if matches!(e.cmd, Command::AddDest | Command::EditDest) {
        let fwd = e.dest.fwd & FWD_MASK;
        let key = kernel::key_of(&e.svc);
        let mut dest = kernel::to_kernel_dest(&e.dest);
        // ipvsadm replaces the port where ipvs-rs would refuse it.
        if let Some(port) = key.forced_port(&dest.forwarding) {
            e.dest.port = port;
            dest.port = port;
        }
        if dest
            .violations(&key)
            .iter()
            .any(|v| matches!(v, Violation::MixedFamily { .. }))
        {
            return Err(invalid(
                "Different address family is allowed only for tunneling servers",
            ));
        }
        let tunnel_bits = [
            opt::TUN_TYPE,
            opt::TUN_PORT,
            opt::TUN_NOCSUM,
            opt::TUN_CSUM,
            opt::TUN_REMCSUM,
        ];
        if tunnel_bits.iter().any(|b| p.options & (1u64 << b) != 0) && fwd != FWD_TUNNEL {
            return Err(invalid("Tunnel options conflict with forward method"));
        }
        check_tunnel_options(e.dest.tun_type, p.options)?;
    }
    if e.cmd == Command::List {
        let any = |bits: &[u32]| bits.iter().any(|b| p.options & (1u64 << b) != 0);
        if (any(&[opt::CONNECTION, opt::TIMEOUT, opt::DAEMON])
            && any(&[opt::STATS, opt::RATE, opt::THRESHOLDS]))
            || (any(&[opt::TIMEOUT, opt::DAEMON]) && any(&[opt::PERSISTENTCONN]))
        {
            return Err(invalid("options conflicts in the list command"));
        }
    }
    Ok(())
}

/// Where ipvsadm-rs's own options may appear.
fn check_extensions(p: &Parsed) -> Result<()> {
    let name = p.entry.cmd.name();
    if p.has(opt::JSON) {
        if p.entry.cmd != Command::List {
            return Err(invalid(format!(
                "Illegal 'json' option with the '{name}' command"
            )));
        }
        for other in [opt::CONNECTION, opt::TIMEOUT, opt::DAEMON] {
            if p.has(other) {
                let other = OPTION_NAMES[other as usize];
                return Err(invalid(format!(
                    "The option 'json' conflicts with the '{other}' option in the 'list' command"
                )));
            }
        }
    }
    for (bit, option) in [(opt::CHECK, "check"), (opt::REPLACE, "replace")] {
        if p.has(bit) && p.entry.cmd != Command::Restore {
            return Err(invalid(format!(
                "Illegal '{option}' option with the '{name}' command"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(words: &[&str]) -> Result<Outcome> {
        let argv: Vec<String> = std::iter::once("ipvsadm")
            .chain(words.iter().copied())
            .map(String::from)
            .collect();
        parse(&argv)
    }

    fn ready(words: &[&str]) -> Parsed {
        match run(words) {
            Ok(Outcome::Ready(p)) => *p,
            other => panic!("{words:?}: {other:?}"),
        }
    }

    fn message(words: &[&str]) -> String {
        match run(words) {
            Err(e) => e.to_string(),
            Ok(Outcome::ScanFailed(m)) => m,
            Ok(other) => panic!("{words:?} parsed: {other:?}"),
        }
    }

    #[test]
    fn add_service_defaults() {
        let p = ready(&["-A", "-t", "10.0.0.1:80"]);
        assert_eq!(p.entry.cmd, Command::Add);
        assert_eq!(p.entry.svc.sched_name, "wlc");
        assert_eq!(p.entry.svc.netmask, 0xffff_ffff);
        let p = ready(&["-A", "-t", "10.0.0.1:80", "-p"]);
        assert_eq!(
            (p.entry.svc.flags, p.entry.svc.timeout),
            (SVC_F_PERSISTENT, 360)
        );
        let p = ready(&[
            "-At10.0.0.1:0",
            "-p60",
            "-M255.255.0.0",
            "-s",
            "sh",
            "-b",
            "sh-port,sh-fallback",
        ]);
        assert_eq!(
            p.entry.svc.flags,
            SVC_F_PERSISTENT | SVC_F_SCHED1 | SVC_F_SCHED2
        );
        assert_eq!(p.entry.svc.netmask.to_ne_bytes(), [255, 255, 0, 0]);
    }

    #[test]
    fn first_option_must_be_a_command() {
        assert!(matches!(run(&["-n", "-L"]), Err(Error::TryHelp { .. })));
        assert!(matches!(run(&["--nope"]), Err(Error::TryHelp { .. })));
        assert!(matches!(run(&["foo"]), Err(Error::TryHelp { .. })));
        assert_eq!(message(&["-A", "-L"]), "invalid option `-L'");
        assert_eq!(
            message(&["-L", "--start-daemon", "master"]),
            "invalid option `master'"
        );
        assert!(matches!(run(&["-h", "--bogus"]), Err(Error::Help { .. })));
    }

    #[test]
    fn scan_errors_do_not_stop_the_program() {
        assert_eq!(message(&["-A", "-t"]), "-t: missing argument");
        assert_eq!(message(&["-L", "--bogus"]), "--bogus: unknown option");
        assert!(matches!(
            run(&["-L", "--bogus"]),
            Ok(Outcome::ScanFailed(_))
        ));
    }

    #[test]
    fn validation_messages() {
        assert_eq!(
            message(&["-A", "-t", "10.0.0.1"]),
            "Zero port specified for non-persistent service"
        );
        assert_eq!(
            message(&["-A", "-t", "10.0.0.1:80", "-o"]),
            "One-Packet Scheduling is only for UDP virtual services"
        );
        assert_eq!(
            message(&["-A", "-t", "1.2.3.4.5:80"]),
            "illegal virtual server address[:port] specified"
        );
        assert_eq!(
            message(&["-A", "-f", "0"]),
            "invalid fwmark value `0' specified"
        );
        assert_eq!(message(&["-A", "-6", "-f", "1"]), "-6 used before -f\n");
        assert_eq!(
            message(&["-A", "-t", "10.0.0.1:80", "-s", "rr", "-s", "rr"]),
            "multiple 'scheduler' options specified"
        );
        assert_eq!(
            message(&["-A", "-t", "10.0.0.1:80", "-p", "0"]),
            "invalid timeout value `0' specified"
        );
        assert_eq!(
            message(&["-a", "-t", "10.0.0.1:80", "-r", "10.0.0.2", "-w", "-1"]),
            "illegal weight specified"
        );
        assert_eq!(
            message(&["--set", "1", "2"]),
            "--set option requires 3 timeout values"
        );
        assert_eq!(message(&["-C", "extra"]), "unexpected argument extra");
        assert_eq!(
            message(&["-A", "-t", "10.0.0.1:80", "-b", "sh-port"]),
            "incompatible scheduler flag `sh-port'"
        );
        assert_eq!(
            message(&["-A", "-t", "10.0.0.1:80", "-b", "nope"]),
            "invalid scheduler flag `nope'"
        );
        assert_eq!(
            message(&["-L", "-c", "--stats"]),
            "options conflicts in the list command"
        );
        assert_eq!(
            message(&["--start-daemon", "primary"]),
            "illegal start-daemon parameter specified"
        );
        assert_eq!(
            message(&["-C", "--json"]),
            "Illegal 'json' option with the 'flush' command"
        );
    }

    #[test]
    fn real_server_rules() {
        let p = ready(&["-a", "-t", "10.0.0.1:80", "-r", "10.0.0.2:8080"]);
        assert_eq!(
            p.entry.dest.port, 80,
            "direct routing keeps the service port"
        );
        let p = ready(&[
            "-a",
            "-t",
            "10.0.0.1:80",
            "-r",
            "10.0.0.2:8080",
            "-m",
            "-w",
            "0",
        ]);
        assert_eq!(
            (p.entry.dest.port, p.entry.dest.weight, p.entry.dest.fwd),
            (8080, 0, FWD_MASQ)
        );
        let p = ready(&["-a", "-t", "10.0.0.1:80", "-r", "10.0.0.2", "-m"]);
        assert_eq!(p.entry.dest.port, 80);
        assert_eq!(
            message(&["-a", "-t", "10.0.0.1:80", "-r", "[2001:db8::2]:80", "-m"]),
            "Different address family is allowed only for tunneling servers"
        );
        assert_eq!(
            message(&[
                "-a",
                "-t",
                "10.0.0.1:80",
                "-r",
                "10.0.0.2",
                "--tun-type",
                "gre"
            ]),
            "Tunnel options conflict with forward method"
        );
        let p = ready(&[
            "-a",
            "-t",
            "10.0.0.1:80",
            "-r",
            "10.0.0.2",
            "-i",
            "--tun-type",
            "gue",
            "--tun-port",
            "6080",
            "--tun-remcsum",
        ]);
        assert_eq!(
            (
                p.entry.dest.tun_type,
                p.entry.dest.tun_port,
                p.entry.dest.tun_flags
            ),
            (1, 6080, 2)
        );
    }

    #[test]
    fn timeouts_and_daemons() {
        let p = ready(&["--set", "10", "0", "30"]);
        assert_eq!(
            p.entry.timeouts,
            Timeouts {
                tcp: 10,
                tcp_fin: 0,
                udp: 30
            }
        );
        let p = ready(&[
            "--start-daemon",
            "backup",
            "--mcast-group",
            "239.1.2.3",
            "--syncid",
            "7",
        ]);
        assert_eq!(p.entry.daemon.mcast_ifn, "eth0");
        assert_eq!(
            (
                p.entry.daemon.state,
                p.entry.daemon.syncid,
                p.entry.daemon.mcast_af
            ),
            (DAEMON_BACKUP, 7, AF_INET)
        );
        assert_eq!(
            message(&["--start-daemon", "master", "--mcast-group", "10.0.0.1"]),
            "invalid IPv4 mcast-group `10.0.0.1'"
        );
    }

    #[test]
    fn fwmark_ipv6() {
        let p = ready(&["-A", "-f", "4294967295", "-6", "-M", "64"]);
        assert_eq!(
            (p.entry.svc.af, p.entry.svc.netmask, p.entry.svc.fwmark),
            (AF_INET6, 64, u32::MAX)
        );
        assert_eq!(
            message(&["-A", "-f", "1", "-6", "-M", "129"]),
            "illegal ipv6 netmask specified"
        );
    }
}
