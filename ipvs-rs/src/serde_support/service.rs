//! Services and destinations as objects; fields a configuration leaves out get the defaults of
//! [`Service::new`] and [`Destination::new`].

use std::net::IpAddr;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

use super::ServiceFlagNames;
use crate::{
    AddressFamily, Destination, Forwarding, Netmask, Scheduler, Service, ServiceFlags, ServiceKey,
    Stats,
};

#[derive(Serialize)]
struct ServiceOut<'a> {
    key: &'a ServiceKey,
    scheduler: &'a Scheduler,
    flags: ServiceFlagNames<'a>,
    timeout: u32,
    netmask: Netmask,
    pe_name: &'a Option<String>,
    stats: &'a Stats,
}

impl Serialize for Service {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ServiceOut {
            key: &self.key,
            scheduler: &self.scheduler,
            flags: ServiceFlagNames(self.flags, &self.scheduler),
            timeout: self.timeout,
            netmask: self.netmask,
            pe_name: &self.pe_name,
            stats: &self.stats,
        }
        .serialize(serializer)
    }
}

/// A service as read, with the destinations a table entry may carry.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ServiceIn {
    key: ServiceKey,
    #[serde(default)]
    scheduler: Scheduler,
    #[serde(default)]
    flags: ServiceFlags,
    #[serde(default)]
    timeout: u32,
    #[serde(default)]
    netmask: Option<Netmask>,
    #[serde(default)]
    pe_name: Option<String>,
    #[serde(default)]
    stats: Stats,
    #[serde(default)]
    pub(super) destinations: Option<Vec<Destination>>,
}

impl ServiceIn {
    pub(super) fn service(&self) -> Service {
        Service {
            key: self.key,
            scheduler: self.scheduler.clone(),
            flags: self.flags,
            timeout: self.timeout,
            netmask: self
                .netmask
                .unwrap_or_else(|| Netmask::host(self.key.family())),
            pe_name: self.pe_name.clone(),
            stats: self.stats,
        }
    }
}

impl<'de> Deserialize<'de> for Service {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let svc = ServiceIn::deserialize(deserializer)?;
        if svc.destinations.is_some() {
            return Err(de::Error::custom(
                "a service has no `destinations` field (a reconcile table entry has)",
            ));
        }
        Ok(svc.service())
    }
}

#[derive(Serialize)]
struct DestinationOut<'a> {
    address: IpAddr,
    port: u16,
    family: AddressFamily,
    forwarding: Forwarding,
    weight: i32,
    upper_threshold: u32,
    lower_threshold: u32,
    active_conns: u32,
    inactive_conns: u32,
    persist_conns: u32,
    stats: &'a Stats,
}

impl Serialize for Destination {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        DestinationOut {
            address: self.addr,
            port: self.port,
            family: self.family,
            forwarding: self.forwarding,
            weight: self.weight,
            upper_threshold: self.upper_threshold,
            lower_threshold: self.lower_threshold,
            active_conns: self.active_conns,
            inactive_conns: self.inactive_conns,
            persist_conns: self.persist_conns,
            stats: &self.stats,
        }
        .serialize(serializer)
    }
}

fn one() -> i32 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DestinationIn {
    address: IpAddr,
    port: u16,
    #[serde(default)]
    family: Option<AddressFamily>,
    #[serde(default)]
    forwarding: Forwarding,
    #[serde(default = "one")]
    weight: i32,
    #[serde(default)]
    upper_threshold: u32,
    #[serde(default)]
    lower_threshold: u32,
    #[serde(default)]
    active_conns: u32,
    #[serde(default)]
    inactive_conns: u32,
    #[serde(default)]
    persist_conns: u32,
    #[serde(default)]
    stats: Stats,
}

impl<'de> Deserialize<'de> for Destination {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let d = DestinationIn::deserialize(deserializer)?;
        Ok(Destination {
            family: d.family.unwrap_or(AddressFamily::of(&d.address)),
            addr: d.address,
            port: d.port,
            forwarding: d.forwarding,
            weight: d.weight,
            upper_threshold: d.upper_threshold,
            lower_threshold: d.lower_threshold,
            active_conns: d.active_conns,
            inactive_conns: d.inactive_conns,
            persist_conns: d.persist_conns,
            stats: d.stats,
        })
    }
}
