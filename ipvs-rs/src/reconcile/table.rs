//! A set of services with their destinations: the desired state, or what the kernel holds.

use std::collections::btree_map::{self, BTreeMap};
use std::fmt;
use std::net::IpAddr;

use super::Scope;
use crate::async_ipvs::{now, Blocking};
use crate::{AsyncIpvs, Destination, Ipvs, Result, Service, ServiceKey};

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
///
/// The destinations are kept sorted by [`DestinationId`], one per identity, in a plain vector:
/// a table of 50,000 services holds one small allocation per service, not a map node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The service.
    pub service: Service,
    destinations: Vec<Destination>,
}

impl Entry {
    /// A service with these destinations; of two with the same identity the last one wins.
    pub fn new(service: Service, destinations: impl IntoIterator<Item = Destination>) -> Self {
        let mut destinations: Vec<Destination> = destinations.into_iter().collect();
        // A stable sort keeps equal identities in input order, so the last one can win.
        destinations.sort_by_key(DestinationId::of);
        let mut unique: Vec<Destination> = Vec::with_capacity(destinations.len());
        for dest in destinations {
            match unique.last_mut() {
                Some(last) if DestinationId::of(last) == DestinationId::of(&dest) => *last = dest,
                _ => unique.push(dest),
            }
        }
        Entry {
            service,
            destinations: unique,
        }
    }

    /// The destinations, sorted by identity.
    pub fn destinations(&self) -> &[Destination] {
        &self.destinations
    }

    /// The destination of this identity.
    pub fn destination(&self, id: &DestinationId) -> Option<&Destination> {
        self.position(id).ok().map(|i| &self.destinations[i])
    }

    /// Adds a destination, or replaces the one of the same identity.
    pub fn insert_destination(&mut self, dest: Destination) {
        match self.position(&DestinationId::of(&dest)) {
            Ok(i) => self.destinations[i] = dest,
            Err(i) => self.destinations.insert(i, dest),
        }
    }

    /// Removes the destination of this identity.
    pub fn remove_destination(&mut self, id: &DestinationId) -> Option<Destination> {
        self.position(id).ok().map(|i| self.destinations.remove(i))
    }

    fn position(&self, id: &DestinationId) -> std::result::Result<usize, usize> {
        self.destinations
            .binary_search_by(|d| DestinationId::of(d).cmp(id))
    }
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
/// assert_eq!(desired.get(&key).unwrap().destinations().len(), 3);
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
        self.services
            .insert(service.key, Entry::new(service, destinations));
        self
    }

    /// Adds or replaces one destination of a service already in the table; returns false
    /// (and changes nothing) when the service is not.
    pub fn insert_destination(&mut self, key: &ServiceKey, dest: Destination) -> bool {
        match self.services.get_mut(key) {
            Some(entry) => {
                entry.insert_destination(dest);
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
    /// destinations: the services checked complete ([`Ipvs::services`]), then one destination
    /// dump per service kept ([`WithDestinations`](crate::WithDestinations)).
    ///
    /// Services outside both are dropped and their destinations never read. Writers in this
    /// namespace can still change entries meanwhile; [`reconcile`](super::reconcile)
    /// re-verifies before deleting.
    pub fn read<I: Ipvs + ?Sized>(handle: &I, scope: &Scope, desired: &Table) -> Result<Table> {
        now(Table::read_async(&Blocking(handle), scope, desired))
    }

    /// [`Table::read`] through an [`AsyncIpvs`]: the same reads, awaited.
    pub async fn read_async<I: AsyncIpvs + ?Sized>(
        ipvs: &I,
        scope: &Scope,
        desired: &Table,
    ) -> Result<Table> {
        let services: Vec<_> = ipvs
            .services()
            .await?
            .into_iter()
            .filter(|s| desired.contains(&s.key) || scope.contains(&s.key))
            .collect();
        let mut table = Table::new();
        for service in services {
            let destinations = ipvs.destinations(&service.key).await?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn dest(n: u8) -> Destination {
        Destination::new(Ipv4Addr::new(192, 168, 1, n), 80)
    }

    #[test]
    fn destinations_stay_sorted_and_unique_with_the_last_one_winning() {
        let key = ServiceKey::tcp(Ipv4Addr::new(10, 0, 0, 1), 80);
        let mut entry = Entry::new(
            Service::new(key),
            [dest(3), dest(1), dest(3).with_weight(7), dest(2)],
        );
        let weights: Vec<(u8, i32)> = entry
            .destinations()
            .iter()
            .map(|d| {
                (
                    d.addr
                        .to_string()
                        .rsplit('.')
                        .next()
                        .unwrap()
                        .parse()
                        .unwrap(),
                    d.weight,
                )
            })
            .collect();
        assert_eq!(weights, [(1, 1), (2, 1), (3, 7)]);
        entry.insert_destination(dest(0));
        entry.insert_destination(dest(2).with_weight(4));
        assert_eq!(
            entry
                .destination(&DestinationId::of(&dest(2)))
                .unwrap()
                .weight,
            4
        );
        assert_eq!(entry.destinations().len(), 4);
        assert!(entry
            .remove_destination(&DestinationId::of(&dest(1)))
            .is_some());
        assert!(entry
            .remove_destination(&DestinationId::of(&dest(1)))
            .is_none());
        let ids: Vec<DestinationId> = entry.destinations().iter().map(DestinationId::of).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        assert_eq!(ids.len(), 3);
    }
}
