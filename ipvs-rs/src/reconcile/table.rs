//! A set of services with their destinations: the desired state, or what the kernel holds.

use std::collections::btree_map::{self, BTreeMap};
use std::fmt;
use std::net::IpAddr;

use super::Scope;
use crate::{Destination, Handle, Result, Service, ServiceKey};

/// What identifies a destination within its service: its address and port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DestinationId {
    /// The real server's address.
    pub addr: IpAddr,
    /// The real server's port.
    pub port: u16,
}

impl DestinationId {
    /// The identity of `dest`.
    pub fn of(dest: &Destination) -> Self {
        DestinationId {
            addr: dest.addr,
            port: dest.port,
        }
    }
}

impl fmt::Display for DestinationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.addr {
            IpAddr::V6(a) => write!(f, "[{a}]:{}", self.port),
            IpAddr::V4(a) => write!(f, "{a}:{}", self.port),
        }
    }
}

/// One service and its destinations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The service.
    pub service: Service,
    /// Its destinations, by identity.
    pub destinations: BTreeMap<DestinationId, Destination>,
}

/// Services with their destinations, keyed by service: the desired state a caller hands to
/// [`reconcile`](super::reconcile), or the kernel's table as [`Table::read`] found it.
///
/// Inserting a service or destination that is already there replaces it, so a table never
/// holds duplicates.
///
/// ```
/// use ipvs_rs::reconcile::Table;
/// use ipvs_rs::{Destination, Service, ServiceKey};
/// use std::net::Ipv4Addr;
///
/// let key = ServiceKey::tcp(Ipv4Addr::new(192, 168, 0, 10), 80);
/// let mut desired = Table::new();
/// desired.insert(
///     Service::new(key),
///     (3..=5).map(|host| Destination::new(Ipv4Addr::new(192, 168, 0, host), 80)),
/// );
/// assert_eq!(desired.get(&key).unwrap().destinations.len(), 3);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    services: BTreeMap<ServiceKey, Entry>,
}

impl Table {
    /// An empty table.
    pub fn new() -> Self {
        Table::default()
    }

    /// Inserts a service with exactly these destinations, replacing any entry of its key.
    pub fn insert(
        &mut self,
        service: Service,
        destinations: impl IntoIterator<Item = Destination>,
    ) -> &mut Self {
        let destinations = destinations
            .into_iter()
            .map(|d| (DestinationId::of(&d), d))
            .collect();
        self.services.insert(
            service.key,
            Entry {
                service,
                destinations,
            },
        );
        self
    }

    /// Adds or replaces one destination of a service already in the table; returns false
    /// (and changes nothing) when the service is not.
    pub fn insert_destination(&mut self, key: &ServiceKey, dest: Destination) -> bool {
        match self.services.get_mut(key) {
            Some(entry) => {
                entry.destinations.insert(DestinationId::of(&dest), dest);
                true
            }
            None => false,
        }
    }

    /// Removes a service and its destinations.
    pub fn remove(&mut self, key: &ServiceKey) -> Option<Entry> {
        self.services.remove(key)
    }

    /// The entry of one service.
    pub fn get(&self, key: &ServiceKey) -> Option<&Entry> {
        self.services.get(key)
    }

    /// The entry of one service, to change it in place.
    pub fn get_mut(&mut self, key: &ServiceKey) -> Option<&mut Entry> {
        self.services.get_mut(key)
    }

    /// Whether the table holds a service of this key.
    pub fn contains(&self, key: &ServiceKey) -> bool {
        self.services.contains_key(key)
    }

    /// The number of services.
    pub fn len(&self) -> usize {
        self.services.len()
    }

    /// Whether the table has no service.
    pub fn is_empty(&self) -> bool {
        self.services.is_empty()
    }

    /// The entries, in key order.
    pub fn iter(&self) -> btree_map::Values<'_, ServiceKey, Entry> {
        self.services.values()
    }

    /// Reads the kernel's services that are in `scope` or in `desired`, with their
    /// destinations: the services checked complete ([`Handle::services`]), then one destination
    /// dump per service kept.
    ///
    /// Services outside both are dropped and their destinations never read. Writers in this
    /// namespace can still change entries meanwhile; [`reconcile`](super::reconcile)
    /// re-verifies before deleting.
    pub fn read(handle: &Handle, scope: &Scope, desired: &Table) -> Result<Table> {
        let services: Vec<_> = handle
            .services()?
            .into_iter()
            .filter(|s| desired.contains(&s.key) || scope.contains(&s.key))
            .collect();
        let mut table = Table::new();
        for service in services {
            let destinations = handle.destinations(&service.key)?;
            table.insert(service, destinations);
        }
        Ok(table)
    }
}

impl<'t> IntoIterator for &'t Table {
    type Item = &'t Entry;
    type IntoIter = btree_map::Values<'t, ServiceKey, Entry>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl FromIterator<(Service, Vec<Destination>)> for Table {
    fn from_iter<I: IntoIterator<Item = (Service, Vec<Destination>)>>(iter: I) -> Self {
        let mut table = Table::new();
        for (service, destinations) in iter {
            table.insert(service, destinations);
        }
        table
    }
}
