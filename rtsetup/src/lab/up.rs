//! `lab up`: builds a topology step by step through the lab's [`Ledger`], which records
//! each object before it exists and refuses names the lab did not create, so running it
//! again finishes what an interrupted run started and never takes over anyone else's.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use crate::error::{Error, Result};
use crate::ipnet::IpNet;
use crate::lab::ledger::{self, Ledger, Name};
use crate::lab::topology::{Host, Mode, Pattern, Role};
use crate::lab::{ipvs, responder, Lab};
use crate::netns::{Netns, NetnsExt};
use crate::rtnl::Rtnl;
use crate::sysctl::Key;

impl Lab {
    /// Builds the lab: bridges in the caller's namespace; per host a namespace, veth pairs
    /// on the bridges, addresses, `lo` up, the gateway; the director's VIP and IPVS service;
    /// the real servers' VIP, sysctls and HTTP responders (`responder_exe serve-http`, usually
    /// the `rtsetup` binary itself).
    ///
    /// Every object is recorded under the lab's state directory before it is created (see
    /// [`Ledger`]), so [`Lab::down`] can undo a run that failed or was killed halfway, and
    /// removes nothing else. A namespace or interface name that exists and that this lab did
    /// not create is [`Error::Taken`], checked before anything is created; a lab of the same
    /// name that is up with another topology is an error too (take it down first).
    pub fn up(&self, responder_exe: &Path) -> Result<()> {
        ledger::require_admin("bring up", &self.topology.name)?;
        if self.topology.pattern == Pattern::Ha {
            // Before anything is created: the ha lab is nothing without keepalived.
            crate::lab::keepalived::binary()?;
        }
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
        let mut ledger = Ledger::open(&self.topology.name)?;
        if let Err(e) = ledger.claim(&self.names()) {
            if ledger.entries().is_empty() {
                // Nothing was created: leave no trace either.
                let _ = ledger.teardown();
            }
            return Err(e);
        }
        self.state.save_topology(&self.topology)?;
        let mut root = Rtnl::open(&self.root)?;
        for bridge in &self.topology.bridges {
            ledger.add_bridge(&mut root, bridge)?;
            root.set_up(bridge)?;
        }
        for host in &self.topology.hosts {
            self.wire_host(&mut ledger, &mut root, host)?;
        }
        let vip = IpNet::host(IpAddr::V4(self.topology.vip));
        for host in self.topology.real_servers() {
            self.prepare_real_server(&mut ledger, host, vip)?;
        }
        if self.topology.pattern == Pattern::Single {
            let director = self.director();
            let director_ns = Netns::open(&director.name)?;
            let mut lb = Rtnl::open(&director_ns)?;
            ledger.add_address(&mut lb, &director.inner_link(0), vip)?;
            if self.topology.mode == Mode::Masq {
                ledger.set_sysctl(&director_ns, &Key::ip_forward(), "1")?;
            }
            ipvs::program(&self.topology, &director_ns)?;
        } else {
            self.up_directors(&mut ledger, vip)?;
        }
        for host in self.topology.real_servers() {
            let listen = SocketAddr::new(IpAddr::V4(host.address()), self.topology.port);
            responder::start(
                &mut ledger,
                &Netns::open(&host.name)?,
                &host.name,
                listen,
                responder_exe,
                &self.state,
            )?;
        }
        if self.topology.pattern != Pattern::Single {
            self.start_streams(&mut ledger, responder_exe)?;
        }
        Ok(())
    }

    /// Every name the lab creates outside its own namespaces' insides.
    fn names(&self) -> Vec<Name> {
        let mut names: Vec<Name> = self
            .topology
            .bridges
            .iter()
            .map(|b| Name::Link(self.root.clone(), b.clone()))
            .collect();
        for host in &self.topology.hosts {
            names.push(Name::Netns(host.name.clone()));
            for index in 0..host.links.len() {
                names.push(Name::Link(self.root.clone(), host.bridge_link(index)));
            }
        }
        names
    }

    fn wire_host(&self, ledger: &mut Ledger, root: &mut Rtnl, host: &Host) -> Result<()> {
        let netns = ledger.create_netns(&host.name)?;
        let mut inside = Rtnl::open(&netns)?;
        inside.set_up("lo")?;
        for (index, link) in host.links.iter().enumerate() {
            let (outer, inner) = (host.bridge_link(index), host.inner_link(index));
            ledger.add_veth(root, &outer, &inner, &netns)?;
            root.set_controller(&outer, &link.bridge)?;
            root.set_up(&outer)?;
            ledger.add_address(&mut inside, &inner, link.address)?;
            inside.set_up(&inner)?;
        }
        if let Some(gateway) = host.gateway {
            ledger.add_route(
                &mut inside,
                "0.0.0.0/0".parse()?,
                Some(IpAddr::V4(gateway)),
                None,
            )?;
        }
        Ok(())
    }

    /// The real server side of each mode. Sysctls come before the VIP, so the VIP is never
    /// on `lo` of a host that would still answer ARP for it.
    pub(crate) fn prepare_real_server(
        &self,
        ledger: &mut Ledger,
        host: &Host,
        vip: IpNet,
    ) -> Result<()> {
        let hides_vip = host.role == Role::RealServer
            || (host.role == Role::Director && self.topology.pattern == Pattern::Ecmp);
        if !hides_vip || self.topology.mode == Mode::Masq {
            return Ok(());
        }
        let netns = Netns::open(&host.name)?;
        let mut inside = Rtnl::open(&netns)?;
        for iface in ["all".to_string(), host.inner_link(0)] {
            ledger.set_sysctl(&netns, &Key::ipv4_conf(&iface, "arp_ignore"), "1")?;
            ledger.set_sysctl(&netns, &Key::ipv4_conf(&iface, "arp_announce"), "2")?;
        }
        if self.topology.mode == Mode::Tunnel {
            // tunl0 comes with the ipip module in every namespace, this one included: it
            // goes with the namespace, so it is not recorded on its own.
            let tunnel = inside.add_ipip_fallback()?;
            inside.set_up(&tunnel.name)?;
            // Decapsulated packets arrive on the tunnel from a client routed via the veth:
            // a strict reverse-path filter would drop them.
            for iface in ["all", tunnel.name.as_str()] {
                ledger.set_sysctl(&netns, &Key::ipv4_conf(iface, "rp_filter"), "0")?;
            }
        }
        ledger.add_address(&mut inside, "lo", vip)
    }
}
