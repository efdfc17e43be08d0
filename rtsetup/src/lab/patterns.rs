//! The built-in multi-director labs: `ha` (an active/backup pair) and `ecmp` (directors
//! behind a multipath route).
//!
//! Both share bridge `br0` for the directors `lb1`..`lbN` (192.168.0.2 upwards) and the real
//! servers `ap1`..`apN` (192.168.0.11 upwards, above the VIP 192.168.0.10). In `ha` the client
//! is on `br0` too (192.168.0.1); in `ecmp` it sits behind the `router` on `br1`
//! (client 192.168.1.1, router 192.168.1.254 and 192.168.0.254).

use std::net::Ipv4Addr;

use crate::error::{Error, Result};
use crate::ipnet::IpNet;
use crate::lab::topology::{Host, HostLink, Mode, Pattern, Role, Topology, MAX_DIRECTORS};

/// The most real servers a built-in `ha` or `ecmp` lab has.
pub const MAX_REAL_SERVERS: u8 = 20;

fn net(a: u8, b: u8) -> IpNet {
    IpNet::new(Ipv4Addr::new(192, 168, a, b).into(), 24).expect("a /24 is a valid IPv4 prefix")
}

fn host(name: String, role: Role, gateway: Option<Ipv4Addr>, links: &[(&str, IpNet)]) -> Host {
    Host {
        name,
        role,
        gateway,
        links: links
            .iter()
            .map(|(bridge, address)| HostLink {
                bridge: (*bridge).into(),
                address: *address,
            })
            .collect(),
    }
}

fn counts(pattern: Pattern, directors: u8, real_servers: u8) -> Result<()> {
    let low = if pattern == Pattern::Ha { 2 } else { 1 };
    if !(low..=MAX_DIRECTORS as u8).contains(&directors) {
        return Err(Error::Invalid {
            what: "number of directors",
            reason: format!("{directors}: a {pattern:?} lab has {low} to {MAX_DIRECTORS}"),
        });
    }
    if !(1..=MAX_REAL_SERVERS).contains(&real_servers) {
        return Err(Error::Invalid {
            what: "number of real servers",
            reason: format!("{real_servers}: a {pattern:?} lab has 1 to {MAX_REAL_SERVERS}"),
        });
    }
    Ok(())
}

fn directors_and_servers(directors: u8, real_servers: u8, gateway: Option<Ipv4Addr>) -> Vec<Host> {
    let mut hosts = Vec::new();
    for i in 1..=directors {
        // In ecmp, a route back to the client keeps a strict reverse-path filter (a host's
        // rp_filter=1 is inherited by new namespaces) from dropping the client's packets.
        hosts.push(host(
            format!("lb{i}"),
            Role::Director,
            gateway,
            &[("br0", net(0, 1 + i))],
        ));
    }
    for i in 1..=real_servers {
        hosts.push(host(
            format!("ap{i}"),
            Role::RealServer,
            gateway,
            &[("br0", net(0, 10 + i))],
        ));
    }
    hosts
}

impl Topology {
    /// The `ha` lab: `client`, directors `lb1`..`lbN` sharing the VIP by VRRP (keepalived),
    /// real servers `ap1`..`apN`, all on `br0`; Direct Routing; with `sync`, IPVS sync
    /// daemons on every director.
    ///
    /// ```
    /// let ha = rtsetup::lab::Topology::ha(2, 2, "rr", true)?;
    /// let names: Vec<&str> = ha.hosts.iter().map(|h| h.name.as_str()).collect();
    /// assert_eq!(names, ["client", "lb1", "lb2", "ap1", "ap2"]);
    /// # Ok::<(), rtsetup::Error>(())
    /// ```
    pub fn ha(directors: u8, real_servers: u8, scheduler: &str, sync: bool) -> Result<Topology> {
        counts(Pattern::Ha, directors, real_servers)?;
        let mut hosts = vec![host(
            "client".into(),
            Role::Client,
            None,
            &[("br0", net(0, 1))],
        )];
        hosts.extend(directors_and_servers(directors, real_servers, None));
        let topology = Topology {
            name: "ha".into(),
            mode: Mode::Route,
            scheduler: scheduler.into(),
            vip: Ipv4Addr::new(192, 168, 0, 10),
            port: 80,
            bridges: vec!["br0".into()],
            hosts,
            pattern: Pattern::Ha,
            sync,
        };
        topology.validate()?;
        Ok(topology)
    }

    /// The `ecmp` lab: `client` on `br1` behind `router`, whose multipath route for the VIP
    /// spreads flows over directors `lb1`..`lbN` on `br0`; real servers `ap1`..`apN` on
    /// `br0` answer the client through the router. Direct Routing.
    ///
    /// ```
    /// let ecmp = rtsetup::lab::Topology::ecmp(3, 3, "mh")?;
    /// assert_eq!(ecmp.directors().count(), 3);
    /// assert_eq!(ecmp.router().unwrap().name, "router");
    /// # Ok::<(), rtsetup::Error>(())
    /// ```
    pub fn ecmp(directors: u8, real_servers: u8, scheduler: &str) -> Result<Topology> {
        counts(Pattern::Ecmp, directors, real_servers)?;
        let router_address = Ipv4Addr::new(192, 168, 0, 254);
        let mut hosts = vec![
            host(
                "client".into(),
                Role::Client,
                Some(Ipv4Addr::new(192, 168, 1, 254)),
                &[("br1", net(1, 1))],
            ),
            host(
                "router".into(),
                Role::Router,
                None,
                &[("br0", net(0, 254)), ("br1", net(1, 254))],
            ),
        ];
        hosts.extend(directors_and_servers(
            directors,
            real_servers,
            Some(router_address),
        ));
        let topology = Topology {
            name: "ecmp".into(),
            mode: Mode::Route,
            scheduler: scheduler.into(),
            vip: Ipv4Addr::new(192, 168, 0, 10),
            port: 80,
            bridges: vec!["br0".into(), "br1".into()],
            hosts,
            pattern: Pattern::Ecmp,
            sync: false,
        };
        topology.validate()?;
        Ok(topology)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_labs_round_trip_and_have_the_documented_names() {
        let ha = Topology::ha(2, 2, "rr", true).unwrap();
        assert_eq!(Topology::from_toml(&ha.to_toml()).unwrap(), ha);
        let ecmp = Topology::ecmp(3, 3, "mh").unwrap();
        assert_eq!(Topology::from_toml(&ecmp.to_toml()).unwrap(), ecmp);
        let names: Vec<&str> = ecmp.hosts.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(
            names,
            ["client", "router", "lb1", "lb2", "lb3", "ap1", "ap2", "ap3"]
        );
        assert_eq!(
            ecmp.host("ap1").unwrap().address(),
            Ipv4Addr::new(192, 168, 0, 11)
        );
        let control = Topology::ha(2, 2, "rr", false).unwrap();
        assert!(control.to_toml().contains("sync = false"));
        assert!(!ha.to_toml().contains("sync"));
    }

    #[test]
    fn the_shipped_lab_files_are_the_built_in_labs() {
        let ha = Topology::from_toml(include_str!("../../labs/ha.toml")).unwrap();
        assert_eq!(ha, Topology::ha(2, 2, "rr", true).unwrap());
        let ecmp = Topology::from_toml(include_str!("../../labs/ecmp.toml")).unwrap();
        assert_eq!(ecmp, Topology::ecmp(3, 3, "mh").unwrap());
    }

    #[test]
    fn counts_outside_the_lab_are_refused() {
        assert!(Topology::ha(1, 2, "rr", true).is_err());
        assert!(Topology::ecmp(9, 2, "mh").is_err());
        assert!(Topology::ecmp(2, 0, "mh").is_err());
        let mut two_routers = Topology::ecmp(2, 2, "mh").unwrap();
        two_routers.hosts[0].role = Role::Router;
        let err = two_routers.validate().unwrap_err().to_string();
        assert!(err.contains("Client"), "{err}");
        let mut nat = Topology::ha(2, 2, "rr", true).unwrap();
        nat.mode = Mode::Masq;
        assert!(nat
            .validate()
            .unwrap_err()
            .to_string()
            .contains("direct routing"));
    }
}
