//! `lab up`: builds a topology step by step, each step idempotent, so running it again
//! finishes what an interrupted run started.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use crate::error::{Error, Result};
use crate::ipnet::IpNet;
use crate::lab::topology::{Host, Mode, Pattern, Role};
use crate::lab::{ipvs, responder, Lab};
use crate::netns::Netns;
use crate::rtnl::Rtnl;
use crate::sysctl::{self, Key};

impl Lab {
    /// Builds the lab: bridges in the caller's namespace; per host a namespace, veth pairs
    /// on the bridges, addresses, `lo` up, the gateway; the director's VIP and IPVS service;
    /// the real servers' VIP, sysctls and HTTP responders (`responder_exe serve-http`, usually
    /// the `rtsetup` binary itself).
    ///
    /// The topology is saved first, so [`Lab::down`] can undo a run that failed halfway.
    /// A lab of the same name that is up with another topology is an error: take it down
    /// first, so nothing of it is left behind.
    pub fn up(&self, responder_exe: &Path) -> Result<()> {
        if let Some(saved) = self.state.load_topology()? {
            if saved != self.topology {
                return Err(Error::Invalid {
                    what: "lab",
                    reason: format!(
                        "lab {} is already up with another topology; run `rtsetup lab down` first",
                        self.topology.name
                    ),
                });
            }
        }
        self.state.save_topology(&self.topology)?;
        let mut root = Rtnl::open(&self.root)?;
        for bridge in &self.topology.bridges {
            root.add_bridge(bridge)?;
            root.set_up(bridge)?;
        }
        for host in &self.topology.hosts {
            self.wire_host(&mut root, host)?;
        }
        let vip = IpNet::host(IpAddr::V4(self.topology.vip));
        for host in self.topology.real_servers() {
            self.prepare_real_server(host, vip)?;
        }
        if self.topology.pattern == Pattern::Single {
            let director = self.director();
            let director_ns = Netns::open(&director.name)?;
            let mut lb = Rtnl::open(&director_ns)?;
            lb.add_address(&director.inner_link(0), vip)?;
            if self.topology.mode == Mode::Masq {
                sysctl::write(&director_ns, &Key::ip_forward(), "1")?;
            }
            ipvs::program(&self.topology, &director_ns)?;
        } else {
            self.up_directors(vip)?;
        }
        for host in self.topology.real_servers() {
            let listen = SocketAddr::new(IpAddr::V4(host.address()), self.topology.port);
            responder::start(
                &Netns::open(&host.name)?,
                &host.name,
                listen,
                responder_exe,
                &self.state,
            )?;
        }
        if self.topology.pattern != Pattern::Single {
            self.start_streams(responder_exe)?;
        }
        Ok(())
    }

    fn wire_host(&self, root: &mut Rtnl, host: &Host) -> Result<()> {
        let netns = Netns::create(&host.name)?;
        let mut inside = Rtnl::open(&netns)?;
        inside.set_up("lo")?;
        for (index, link) in host.links.iter().enumerate() {
            let (outer, inner) = (host.bridge_link(index), host.inner_link(index));
            root.add_veth(&outer, &inner, Some(&netns))?;
            root.set_controller(&outer, &link.bridge)?;
            root.set_up(&outer)?;
            inside.add_address(&inner, link.address)?;
            inside.set_up(&inner)?;
        }
        if let Some(gateway) = host.gateway {
            inside.add_route("0.0.0.0/0".parse()?, Some(IpAddr::V4(gateway)), None)?;
        }
        Ok(())
    }

    /// The real server side of each mode. Sysctls come before the VIP, so the VIP is never
    /// on `lo` of a host that would still answer ARP for it.
    pub(crate) fn prepare_real_server(&self, host: &Host, vip: IpNet) -> Result<()> {
        let hides_vip = host.role == Role::RealServer
            || (host.role == Role::Director && self.topology.pattern == Pattern::Ecmp);
        if !hides_vip || self.topology.mode == Mode::Masq {
            return Ok(());
        }
        let netns = Netns::open(&host.name)?;
        let mut inside = Rtnl::open(&netns)?;
        for iface in ["all".to_string(), host.inner_link(0)] {
            sysctl::write(&netns, &Key::ipv4_conf(&iface, "arp_ignore"), "1")?;
            sysctl::write(&netns, &Key::ipv4_conf(&iface, "arp_announce"), "2")?;
        }
        if self.topology.mode == Mode::Tunnel {
            let tunnel = inside.add_ipip_fallback()?;
            inside.set_up(&tunnel.name)?;
            // Decapsulated packets arrive on the tunnel from a client routed via the veth:
            // a strict reverse-path filter would drop them.
            for iface in ["all", tunnel.name.as_str()] {
                sysctl::write(&netns, &Key::ipv4_conf(iface, "rp_filter"), "0")?;
            }
        }
        inside.add_address("lo", vip)
    }
}
