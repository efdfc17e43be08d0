//! Verdicts with their evidence, and the DSR doctor for one real server.

use std::net::{IpAddr, Ipv4Addr};

use serde::Serialize;

use crate::error::Result;
use crate::netns::Netns;
use crate::rtnl::Rtnl;
use crate::sysctl::{self, Key};

/// One verdict: what was checked, whether it holds, and what was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// A short stable name, such as `arp_ignore:ap` or `path:director-to-client`.
    pub name: String,
    /// Whether it holds.
    pub ok: bool,
    /// What was seen; for a failure, the cause and what to change.
    pub detail: String,
}

impl Check {
    pub(crate) fn new(name: impl Into<String>, ok: bool, detail: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            ok,
            detail: detail.into(),
        }
    }
}

/// arp_ignore values that keep a host from answering ARP for an address on `lo`.
const SILENT_ARP_IGNORE: [u32; 3] = [1, 2, 8];

/// The DSR doctor: checks that the real server in `netns` (called `label` in messages) can
/// serve `vip` by direct routing or tunnelling without disturbing ARP:
///
/// - the VIP is on `lo` as a host address, and on no other interface;
/// - `lo` is up;
/// - on every other interface with an IPv4 address, the effective `arp_ignore` (the larger
///   of `all` and the interface's) keeps it silent for the VIP, and the effective
///   `arp_announce` is 2, so its ARP requests never carry the VIP as sender.
///
/// ```no_run
/// use rtsetup::NetnsExt;
/// let ap = rtsetup::Netns::open("ap")?;
/// for check in rtsetup::lab::check_real_server(&ap, "ap", "192.168.0.10".parse().unwrap())? {
///     println!("{} {}: {}", if check.ok { "ok" } else { "FAIL" }, check.name, check.detail);
/// }
/// # Ok::<(), rtsetup::Error>(())
/// ```
pub fn check_real_server(netns: &Netns, label: &str, vip: Ipv4Addr) -> Result<Vec<Check>> {
    let mut rtnl = Rtnl::open(netns)?;
    let links = rtnl.links()?;
    let addresses = rtnl.addresses(None)?;
    let name_of = |index: u32| {
        links
            .iter()
            .find(|l| l.index == index)
            .map_or_else(|| index.to_string(), |l| l.name.clone())
    };
    let vip_ip = IpAddr::V4(vip);
    let holders: Vec<String> = addresses
        .iter()
        .filter(|a| a.net.addr() == vip_ip)
        .map(|a| format!("{} on {}", a.net, name_of(a.link_index)))
        .collect();
    let lo = links.iter().find(|l| l.name == "lo");
    let on_lo = addresses.iter().any(|a| {
        a.net.addr() == vip_ip
            && a.net.prefix_len() == 32
            && Some(a.link_index) == lo.map(|l| l.index)
    });
    let mut checks = vec![Check::new(
        format!("vip-on-lo:{label}"),
        on_lo,
        if on_lo {
            format!(
                "{label} holds the VIP {vip}/32 on lo, so it accepts packets addressed to the VIP"
            )
        } else {
            format!(
                "{label} does not hold the VIP {vip}/32 on lo (it has {}): it drops the packets \
                 the director forwards to it; add it with `ip addr add {vip}/32 dev lo`",
                if holders.is_empty() {
                    "no VIP".to_string()
                } else {
                    holders.join(", ")
                }
            )
        },
    )];
    let elsewhere: Vec<&String> = holders.iter().filter(|h| !h.ends_with(" on lo")).collect();
    checks.push(Check::new(
        format!("vip-only-on-lo:{label}"),
        elsewhere.is_empty(),
        if elsewhere.is_empty() {
            format!("{label} holds the VIP on no other interface")
        } else {
            format!(
                "{label} holds the VIP as {}: arp_ignore cannot hide an address on the interface \
                 ARP arrives on, so it answers ARP for the VIP; remove it from there",
                elsewhere
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
    ));
    let lo_up = lo.is_some_and(|l| l.up);
    checks.push(Check::new(
        format!("lo-up:{label}"),
        lo_up,
        if lo_up {
            format!("lo is up in {label}")
        } else {
            format!("lo is down in {label}: the VIP on it is not usable; `ip link set lo up`")
        },
    ));

    let read = |key: &Key| -> Result<u32> { Ok(sysctl::read(netns, key)?.parse().unwrap_or(0)) };
    let all_ignore = read(&Key::ipv4_conf("all", "arp_ignore"))?;
    let all_announce = read(&Key::ipv4_conf("all", "arp_announce"))?;
    let mut interfaces: Vec<&str> = links
        .iter()
        .filter(|l| l.name != "lo")
        .filter(|l| {
            addresses
                .iter()
                .any(|a| a.link_index == l.index && a.net.addr().is_ipv4())
        })
        .map(|l| l.name.as_str())
        .collect();
    interfaces.dedup();
    for iface in interfaces {
        let ignore = read(&Key::ipv4_conf(iface, "arp_ignore"))?;
        let effective = all_ignore.max(ignore);
        let ok = SILENT_ARP_IGNORE.contains(&effective);
        checks.push(Check::new(
            format!("arp_ignore:{label}:{iface}"),
            ok,
            if ok {
                format!(
                    "{label}: net.ipv4.conf.all.arp_ignore={all_ignore}, net.ipv4.conf.{iface}.arp_ignore={ignore}: \
                     it does not answer ARP on {iface} for the VIP on lo"
                )
            } else {
                format!(
                    "{label}: net.ipv4.conf.all.arp_ignore={all_ignore} and net.ipv4.conf.{iface}.arp_ignore={ignore} \
                     (the kernel uses the larger, {effective}): {label} answers ARP for the VIP {vip} on {iface} \
                     and clients may send to it instead of the director; set \
                     `sysctl -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.{iface}.arp_ignore=1`"
                )
            },
        ));
        let announce = read(&Key::ipv4_conf(iface, "arp_announce"))?;
        let effective = all_announce.max(announce);
        let ok = effective == 2;
        checks.push(Check::new(
            format!("arp_announce:{label}:{iface}"),
            ok,
            if ok {
                format!(
                    "{label}: net.ipv4.conf.all.arp_announce={all_announce}, net.ipv4.conf.{iface}.arp_announce={announce}: \
                     its ARP requests on {iface} carry {iface}'s own address"
                )
            } else {
                format!(
                    "{label}: net.ipv4.conf.all.arp_announce={all_announce} and net.ipv4.conf.{iface}.arp_announce={announce} \
                     (the kernel uses the larger, {effective}): replies from the VIP make {label} send ARP requests \
                     with the VIP {vip} as sender, which points neighbours' caches for the VIP at {label}; set \
                     `sysctl -w net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.{iface}.arp_announce=2`"
                )
            },
        ));
    }
    Ok(checks)
}
