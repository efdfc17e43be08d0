//! What a lab is made of: bridges, hosts (each in its own namespace), the virtual service and
//! the forwarding mode. The walkthrough's DSR lab is [`Topology::walkthrough`]; other labs
//! come from TOML files.

use std::collections::HashSet;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ipnet::IpNet;

/// A whole lab.
///
/// ```
/// let lab = rtsetup::lab::Topology::from_toml(r#"
///     name = "nat"
///     mode = "masq"
///     scheduler = "rr"
///     vip = "192.168.0.10"
///     port = 80
///     bridges = ["br0", "br1"]
///
///     [[hosts]]
///     name = "client"
///     role = "client"
///     links = [{ bridge = "br0", address = "192.168.0.1/24" }]
///
///     [[hosts]]
///     name = "lb"
///     role = "director"
///     links = [{ bridge = "br0", address = "192.168.0.2/24" },
///              { bridge = "br1", address = "10.0.0.1/24" }]
///
///     [[hosts]]
///     name = "ap"
///     role = "real-server"
///     gateway = "10.0.0.1"
///     links = [{ bridge = "br1", address = "10.0.0.3/24" }]
/// "#)?;
/// assert_eq!(lab.real_servers().count(), 1);
/// # Ok::<(), rtsetup::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topology {
    /// The lab's name; its state lives in `/run/rtsetup/NAME`.
    pub name: String,
    /// How the director forwards to the real servers.
    pub mode: Mode,
    /// IPVS scheduler name ("rr", "wlc", ...).
    pub scheduler: String,
    /// The virtual IP address clients connect to.
    pub vip: Ipv4Addr,
    /// The TCP port of the virtual service and of every real server.
    pub port: u16,
    /// Bridges, created in the caller's namespace.
    pub bridges: Vec<String>,
    /// Hosts, each in a namespace of its own name.
    pub hosts: Vec<Host>,
    /// One director, an HA pair, or directors behind an ECMP router.
    #[serde(default, skip_serializing_if = "Pattern::is_single")]
    pub pattern: Pattern,
    /// Whether the directors of an `ha` lab run IPVS connection sync daemons; `false` is the
    /// control run that shows established connections break in a failover without them.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub sync: bool,
}

fn yes() -> bool {
    true
}

fn is_true(value: &bool) -> bool {
    *value
}

/// How many directors a lab has and how clients reach them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pattern {
    /// One director holds the VIP on its link (the walkthrough).
    #[default]
    Single,
    /// Active/backup directors: keepalived's VRRP moves the VIP, IPVS sync daemons copy
    /// the connection table to the standby.
    Ha,
    /// A router spreads flows for the VIP over stateless directors with an ECMP route; each
    /// holds the VIP on `lo` and schedules with `mh`, so every director picks the same real
    /// server for a flow.
    Ecmp,
}

impl Pattern {
    fn is_single(&self) -> bool {
        *self == Pattern::Single
    }
}

/// IPVS forwarding modes a lab can be built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Direct routing (`ipvsadm -g`): real servers share the director's link and hold the
    /// VIP on `lo`; replies go straight to the client.
    Route,
    /// NAT (`ipvsadm -m`): real servers route replies back through the director.
    Masq,
    /// IP-in-IP tunnelling (`ipvsadm -i`): real servers decapsulate and reply directly.
    Tunnel,
}

impl Mode {
    /// ipvsadm's name for the mode.
    pub fn ipvsadm_flag(self) -> &'static str {
        match self {
            Mode::Route => "-g",
            Mode::Masq => "-m",
            Mode::Tunnel => "-i",
        }
    }
}

/// One host of the lab: a namespace named after it, with one veth per link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Host {
    /// Host and namespace name. Interfaces are `NAME-vethI` inside and `NAME-brI` on the
    /// bridge, so the name must leave room for them (at most 9 bytes).
    pub name: String,
    /// What the host does.
    pub role: Role,
    /// Default gateway, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<Ipv4Addr>,
    /// The host's links, in order: link I is `NAME-vethI`.
    pub links: Vec<HostLink>,
}

/// A host's link to a bridge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostLink {
    /// The bridge the link is a port of.
    pub bridge: String,
    /// The host's address on it.
    pub address: IpNet,
}

/// What a host does in the lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Sends the requests.
    Client,
    /// Runs IPVS; its first link holds the VIP.
    Director,
    /// Serves HTTP behind the VIP.
    RealServer,
    /// Routes the client's packets for the VIP over the directors (`ecmp` labs only).
    Router,
}

impl Host {
    /// The name of link `index` inside the host's namespace.
    pub fn inner_link(&self, index: usize) -> String {
        format!("{}-veth{index}", self.name)
    }

    /// The name of link `index`'s bridge-side end.
    pub fn bridge_link(&self, index: usize) -> String {
        format!("{}-br{index}", self.name)
    }

    /// The host's first address, the one IPVS and the checks use (0.0.0.0 for a host
    /// without an IPv4 link, which [`Topology::validate`] rejects).
    pub fn address(&self) -> Ipv4Addr {
        match self.links.first().map(|link| link.address.addr()) {
            Some(std::net::IpAddr::V4(v4)) => v4,
            _ => Ipv4Addr::UNSPECIFIED,
        }
    }
}

/// The most directors an `ha` or `ecmp` lab can have.
pub const MAX_DIRECTORS: usize = 8;

impl Topology {
    /// The scheduler the walkthrough's `ipvsadm -A -t 192.168.0.10:80` gets: ipvsadm's default.
    pub const WALKTHROUGH_SCHEDULER: &'static str = "wlc";

    /// The walkthrough's lab: bridge `br0`; `client` 192.168.0.1/24, `lb` 192.168.0.2/24,
    /// and real servers from 192.168.0.3/24 upwards (`ap` alone, or `ap1`..`apN`); VIP
    /// 192.168.0.10:80, Direct Routing.
    pub fn walkthrough(real_servers: u8, scheduler: &str) -> Result<Topology> {
        if real_servers == 0 || real_servers > 7 {
            return Err(Error::Invalid {
                what: "number of real servers",
                reason: format!("{real_servers}: the walkthrough's subnet fits 1 to 7 (192.168.0.3 to .9, below the VIP .10)"),
            });
        }
        let host = |name: String, role, last: u8| Host {
            name,
            role,
            gateway: None,
            links: vec![HostLink {
                bridge: "br0".into(),
                address: IpNet::new(Ipv4Addr::new(192, 168, 0, last).into(), 24)
                    .expect("a /24 is a valid IPv4 prefix"),
            }],
        };
        let mut hosts = vec![
            host("client".into(), Role::Client, 1),
            host("lb".into(), Role::Director, 2),
        ];
        for i in 0..real_servers {
            let name = if real_servers == 1 {
                "ap".to_string()
            } else {
                format!("ap{}", i + 1)
            };
            hosts.push(host(name, Role::RealServer, 3 + i));
        }
        let topology = Topology {
            name: "dsr".into(),
            mode: Mode::Route,
            scheduler: scheduler.into(),
            vip: Ipv4Addr::new(192, 168, 0, 10),
            port: 80,
            bridges: vec!["br0".into()],
            hosts,
            pattern: Pattern::Single,
            sync: true,
        };
        topology.validate()?;
        Ok(topology)
    }

    /// The same lab under other names: `prefix` before the lab's name (so its state
    /// directory), each bridge's and each host's (so each namespace and interface). Two
    /// labs, or a lab and a user's own `br0` or `lb`, then coexist.
    ///
    /// ```
    /// use rtsetup::lab::Topology;
    /// let lab = Topology::walkthrough(1, "rr")?.with_prefix("p-")?;
    /// assert_eq!((lab.name.as_str(), lab.bridges[0].as_str()), ("p-dsr", "p-br0"));
    /// assert_eq!(lab.hosts[0].bridge_link(0), "p-client-br0");
    /// assert!(Topology::walkthrough(1, "rr")?.with_prefix("long-").is_err());
    /// # Ok::<(), rtsetup::Error>(())
    /// ```
    pub fn with_prefix(&self, prefix: &str) -> Result<Topology> {
        let invalid = |reason: String| Error::Invalid {
            what: "prefix",
            reason,
        };
        if prefix.is_empty()
            || !prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(invalid(format!(
                "{prefix:?}: use letters, digits, '-' and '_' (names of interfaces and namespaces are made from it)"
            )));
        }
        let mut renamed = self.clone();
        renamed.name = format!("{prefix}{}", self.name);
        for bridge in &mut renamed.bridges {
            *bridge = format!("{prefix}{bridge}");
            if bridge.len() > 15 {
                return Err(invalid(format!(
                    "{prefix:?} makes bridge name {bridge:?} {} bytes long; interface names have at most 15: use a shorter prefix",
                    bridge.len()
                )));
            }
        }
        for host in &mut renamed.hosts {
            host.name = format!("{prefix}{}", host.name);
            if host.name.len() > 9 {
                return Err(invalid(format!(
                    "{prefix:?} makes host name {:?} {} bytes long; host names have at most 9 (its interfaces are NAME-vethN and NAME-brN, at most 15): use a shorter prefix",
                    host.name,
                    host.name.len()
                )));
            }
            for link in &mut host.links {
                link.bridge = format!("{prefix}{}", link.bridge);
            }
        }
        renamed.validate()?;
        Ok(renamed)
    }

    /// Parses and validates a TOML topology.
    pub fn from_toml(text: &str) -> Result<Topology> {
        let topology: Topology = toml::from_str(text).map_err(|e| Error::Invalid {
            what: "topology",
            reason: e.to_string(),
        })?;
        topology.validate()?;
        Ok(topology)
    }

    /// The topology as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a topology always serializes")
    }

    /// The client (`None` until the topology has one; see [`Topology::validate`]).
    pub fn client(&self) -> Option<&Host> {
        self.hosts.iter().find(|h| h.role == Role::Client)
    }

    /// The (first) director (`None` until the topology has one; see [`Topology::validate`]).
    pub fn director(&self) -> Option<&Host> {
        self.hosts.iter().find(|h| h.role == Role::Director)
    }

    /// The directors, in order.
    pub fn directors(&self) -> impl Iterator<Item = &Host> {
        self.hosts.iter().filter(|h| h.role == Role::Director)
    }

    /// The router of an `ecmp` lab.
    pub fn router(&self) -> Option<&Host> {
        self.hosts.iter().find(|h| h.role == Role::Router)
    }

    /// The host called `name`.
    pub fn host(&self, name: &str) -> Option<&Host> {
        self.hosts.iter().find(|h| h.name == name)
    }

    /// The real servers, in order.
    pub fn real_servers(&self) -> impl Iterator<Item = &Host> {
        self.hosts.iter().filter(|h| h.role == Role::RealServer)
    }

    /// Checks what the engine relies on, with a reason a person can act on.
    pub fn validate(&self) -> Result<()> {
        let invalid = |reason: String| {
            Err(Error::Invalid {
                what: "topology",
                reason,
            })
        };
        if self.name.is_empty() || self.name.contains('/') || self.name.starts_with('.') {
            return invalid(format!(
                "lab name {:?} must be a plain file name",
                self.name
            ));
        }
        let count = |role| self.hosts.iter().filter(|h| h.role == role).count();
        if count(Role::Client) != 1 {
            return invalid(format!(
                "needs exactly one Client host, has {}",
                count(Role::Client)
            ));
        }
        let (directors, routers) = (count(Role::Director), count(Role::Router));
        let (wanted, routers_wanted) = match self.pattern {
            Pattern::Single => (1..=1, 0),
            Pattern::Ha => (2..=MAX_DIRECTORS, 0),
            Pattern::Ecmp => (1..=MAX_DIRECTORS, 1),
        };
        if !wanted.contains(&directors) {
            return invalid(if wanted.start() == wanted.end() {
                format!("needs exactly one Director host, has {directors}")
            } else {
                format!(
                    "a {:?} lab needs {} to {} Director hosts, has {directors}",
                    self.pattern,
                    wanted.start(),
                    wanted.end()
                )
            });
        }
        if routers != routers_wanted {
            return invalid(format!(
                "a {:?} lab needs {routers_wanted} Router hosts, has {routers}",
                self.pattern
            ));
        }
        if self.pattern != Pattern::Single && self.mode != Mode::Route {
            return invalid(format!(
                "a {:?} lab forwards by direct routing (mode = \"route\"), not {:?}",
                self.pattern, self.mode
            ));
        }
        if self.real_servers().count() == 0 {
            return invalid("needs at least one real server".into());
        }
        let mut names = HashSet::new();
        for bridge in &self.bridges {
            if bridge.is_empty() || bridge.len() > 15 || !names.insert(bridge.clone()) {
                return invalid(format!(
                    "bridge name {bridge:?} is empty, too long (15 bytes) or repeated"
                ));
            }
        }
        for host in &self.hosts {
            if host.name.is_empty() || host.name.len() > 9 || host.name.contains('/') {
                return invalid(format!(
                    "host name {:?} must be 1 to 9 bytes (interfaces are NAME-vethN, at most 15 bytes) without '/'",
                    host.name
                ));
            }
            if !names.insert(host.name.clone()) {
                return invalid(format!("name {:?} is used twice", host.name));
            }
            if host.links.is_empty() {
                return invalid(format!("host {} has no links", host.name));
            }
            for link in &host.links {
                if !self.bridges.contains(&link.bridge) {
                    return invalid(format!(
                        "host {} uses undeclared bridge {}",
                        host.name, link.bridge
                    ));
                }
                if !link.address.addr().is_ipv4() {
                    return invalid(format!(
                        "host {}: labs are IPv4 only, not {}",
                        host.name, link.address
                    ));
                }
            }
        }
        if let Some(host) = self
            .hosts
            .iter()
            .find(|h| h.links.iter().any(|l| l.address.addr() == self.vip))
        {
            return invalid(format!(
                "the VIP {} is also the address of host {}",
                self.vip, host.name
            ));
        }
        if self.port == 0 {
            return invalid("port 0 is not a TCP port a client can connect to".into());
        }
        for director in self.directors().filter(|_| self.mode == Mode::Route) {
            let director = director.links[0].address;
            for rs in self.real_servers() {
                if !director.contains(rs.address().into()) {
                    return invalid(format!(
                        "direct routing needs real server {} ({}) on the director's first link ({director})",
                        rs.name,
                        rs.address()
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-built topology without a client or a director is refused with a reason, not a
    /// panic, whichever way it is used.
    #[test]
    fn missing_roles_are_errors_not_panics() {
        let mut lab = Topology::walkthrough(1, "rr").unwrap();
        lab.hosts.retain(|h| h.role != Role::Director);
        assert!(lab.director().is_none());
        assert_eq!(lab.client().map(|h| h.name.as_str()), Some("client"));
        let err = crate::lab::Lab::new(lab.clone()).unwrap_err().to_string();
        assert!(err.contains("Director"), "{err}");
        lab.hosts.clear();
        assert!(lab.client().is_none() && lab.validate().is_err());
    }

    #[test]
    fn the_walkthrough_lab() {
        let lab = Topology::walkthrough(1, "rr").unwrap();
        let names: Vec<&str> = lab.hosts.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["client", "lb", "ap"]);
        let ap = lab.real_servers().next().unwrap();
        assert_eq!(ap.address(), Ipv4Addr::new(192, 168, 0, 3));
        assert_eq!(
            (ap.inner_link(0), ap.bridge_link(0)),
            ("ap-veth0".into(), "ap-br0".into())
        );
        let three = Topology::walkthrough(3, "rr").unwrap();
        let servers: Vec<(String, Ipv4Addr)> = three
            .real_servers()
            .map(|h| (h.name.clone(), h.address()))
            .collect();
        assert_eq!(
            servers,
            [
                ("ap1".to_string(), Ipv4Addr::new(192, 168, 0, 3)),
                ("ap2".to_string(), Ipv4Addr::new(192, 168, 0, 4)),
                ("ap3".to_string(), Ipv4Addr::new(192, 168, 0, 5)),
            ]
        );
        assert!(Topology::walkthrough(0, "rr").is_err());
        assert!(Topology::walkthrough(8, "rr").is_err());
    }

    #[test]
    fn the_shipped_lab_files_parse() {
        let dsr = Topology::from_toml(include_str!("../../labs/dsr.toml")).unwrap();
        assert_eq!(dsr, Topology::walkthrough(1, "rr").unwrap());
        let nat = Topology::from_toml(include_str!("../../labs/nat.toml")).unwrap();
        assert_eq!((nat.mode, nat.real_servers().count()), (Mode::Masq, 2));
        let tun = Topology::from_toml(include_str!("../../labs/tunnel.toml")).unwrap();
        assert_eq!((tun.mode, tun.real_servers().count()), (Mode::Tunnel, 2));
    }

    #[test]
    fn toml_round_trips_and_is_validated() {
        let lab = Topology::walkthrough(2, "wlc").unwrap();
        assert_eq!(Topology::from_toml(&lab.to_toml()).unwrap(), lab);
        let mut bad = lab.clone();
        bad.hosts[2].links[0].address = "10.0.0.3/24".parse().unwrap();
        let err = Topology::from_toml(&bad.to_toml()).unwrap_err().to_string();
        assert!(
            err.contains("direct routing needs real server ap1"),
            "{err}"
        );
        let mut long = lab.clone();
        long.hosts[0].name = "a-very-long-name".into();
        assert!(long.validate().is_err());
        let mut clash = lab;
        clash.hosts[1].links[0].address = "192.168.0.10/24".parse().unwrap();
        let err = clash.validate().unwrap_err().to_string();
        assert!(err.contains("also the address of host lb"), "{err}");
        assert!(Topology::from_toml("name = 1").is_err());
    }
}
