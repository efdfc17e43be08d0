//! The lab's IPVS part, through ipvs-rs: the virtual service in the director's namespace and
//! one destination per real server, with the lab's forwarding method.

use ipvs_rs::{
    Destination, Forwarding, Handle, Scheduler, Service, ServiceFlags, ServiceKey, Tunnel,
};

use crate::error::{Error, Result};
use crate::lab::topology::{Mode, Pattern, Topology};
use crate::netns::{Netns, NetnsExt};

/// The forwarding method IPVS uses for `mode`.
pub fn forwarding(mode: Mode) -> Forwarding {
    match mode {
        Mode::Route => Forwarding::Route,
        Mode::Masq => Forwarding::Masq,
        Mode::Tunnel => Forwarding::Tunnel(Tunnel::ipip()),
    }
}

/// The lab's service key: TCP VIP:port.
pub fn service_key(topology: &Topology) -> ServiceKey {
    ServiceKey::tcp(topology.vip, topology.port)
}

/// Opens IPVS in `netns`, loading the ip_vs module first if the kernel lacks it, as ipvsadm does.
pub fn open(netns: &Netns) -> Result<Handle> {
    Handle::open_or_load(netns).map_err(|source| Error::Ipvs {
        action: match source {
            ipvs_rs::Error::ModuleLoad(_) => "first use",
            _ => "opening a connection",
        }
        .into(),
        place: netns.place(),
        source,
    })
}

/// Programs the service and its destinations, like `ipvsadm -A -t VIP:PORT -s SCHED` and
/// one `ipvsadm -a -t VIP:PORT -r RS:PORT -g|-m|-i` per real server. What exists already is
/// updated to the topology's values.
pub fn program(topology: &Topology, director: &Netns) -> Result<()> {
    let ipvs = open(director)?;
    let key = service_key(topology);
    let wrap = |action: String, source| Error::Ipvs {
        action,
        place: director.place(),
        source,
    };
    let mut service = Service::new(key).with_scheduler(Scheduler::from_name(&topology.scheduler));
    // Directors behind ECMP must pick the same real server for a flow whatever its port.
    if topology.pattern == Pattern::Ecmp && topology.scheduler == "mh" {
        service = service.with_flags(ServiceFlags::MH_PORT);
    }
    match ipvs.add_service(&service) {
        Err(ipvs_rs::Error::ServiceExists) => ipvs.update_service(&service),
        other => other,
    }
    .map_err(|e| {
        wrap(
            format!("adding service {key} (scheduler {})", topology.scheduler),
            e,
        )
    })?;
    for rs in topology.real_servers() {
        let dest = Destination::new(rs.address(), topology.port)
            .with_forwarding(forwarding(topology.mode));
        match ipvs.add_destination(&key, &dest) {
            Err(ipvs_rs::Error::DestinationExists) => ipvs.update_destination(&key, &dest),
            other => other,
        }
        .map_err(|e| {
            wrap(
                format!(
                    "add real server {}:{} to {key}",
                    rs.address(),
                    topology.port
                ),
                e,
            )
        })?;
    }
    Ok(())
}

/// The service and its destinations as the kernel has them now.
pub fn inspect(
    topology: &Topology,
    director: &Netns,
) -> Result<Option<(Service, Vec<Destination>)>> {
    let ipvs = open(director)?;
    let key = service_key(topology);
    let wrap = |action: &str, source| Error::Ipvs {
        action: action.into(),
        place: director.place(),
        source,
    };
    let service = match ipvs.service(&key) {
        Ok(service) => service,
        Err(ipvs_rs::Error::NoSuchService) => return Ok(None),
        Err(e) => return Err(wrap("reading the service", e)),
    };
    let destinations = ipvs
        .destinations(&key)
        .map_err(|e| wrap("listing the real servers", e))?;
    Ok(Some((service, destinations)))
}
