//! The difference between the kernel's table and the desired one, as requests.

use std::fmt;

use super::{DestinationId, Scope, Table};
use crate::{Batch, Destination, Service, ServiceFlags, ServiceKey};

/// One change a reconcile makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Add a service that is desired and missing.
    AddService(Service),
    /// Replace the settings of a service whose scheduler, flags, timeout, netmask or
    /// persistence engine differ from the desired ones.
    UpdateService(Service),
    /// Delete a service in scope that is not desired (with its destinations).
    DeleteService(ServiceKey),
    /// Add a desired destination missing from its service.
    AddDestination(ServiceKey, Destination),
    /// Replace the forwarding, weight or thresholds of a destination that differ from the
    /// desired ones.
    UpdateDestination(ServiceKey, Destination),
    /// Delete a destination that its desired service does not have.
    DeleteDestination(ServiceKey, Destination),
}

impl Change {
    /// The service the change is about.
    pub fn service(&self) -> &ServiceKey {
        match self {
            Change::AddService(s) | Change::UpdateService(s) => &s.key,
            Change::DeleteService(key)
            | Change::AddDestination(key, _)
            | Change::UpdateDestination(key, _)
            | Change::DeleteDestination(key, _) => key,
        }
    }

    /// Whether the change deletes something.
    pub fn is_delete(&self) -> bool {
        matches!(
            self,
            Change::DeleteService(_) | Change::DeleteDestination(..)
        )
    }

    pub(crate) fn push_to(&self, batch: &mut Batch) {
        match self {
            Change::AddService(s) => batch.add_service(s.clone()),
            Change::UpdateService(s) => batch.update_service(s.clone()),
            Change::DeleteService(key) => batch.delete_service(*key),
            Change::AddDestination(key, d) => batch.add_destination(*key, d.clone()),
            Change::UpdateDestination(key, d) => batch.update_destination(*key, d.clone()),
            Change::DeleteDestination(key, d) => batch.delete_destination(*key, d.clone()),
        };
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = DestinationId::of;
        match self {
            Change::AddService(s) => write!(f, "add service {}", s.key),
            Change::UpdateService(s) => write!(f, "update service {}", s.key),
            Change::DeleteService(key) => write!(f, "delete service {key}"),
            Change::AddDestination(key, d) => write!(f, "add destination {} to {key}", id(d)),
            Change::UpdateDestination(key, d) => {
                write!(f, "update destination {} of {key}", id(d))
            }
            Change::DeleteDestination(key, d) => {
                write!(f, "delete destination {} of {key}", id(d))
            }
        }
    }
}

/// The minimal list of changes that turns the kernel's table into the desired one, within a
/// scope.
///
/// Computed by [`Plan::compute`] without touching the kernel, so it can be shown as a dry run.
/// Its order is the order of application: services are added and updated first (their
/// destinations need them), then destinations are deleted, updated and added, and services
/// are deleted last.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    changes: Vec<Change>,
}

impl Plan {
    /// Compares `current` (the kernel's table) with `desired`.
    ///
    /// - A desired service that is missing is added with all its destinations.
    /// - A desired service that exists is updated only if a field the caller controls differs
    ///   (scheduler, flags other than the kernel's own HASHED, timeout, netmask, persistence
    ///   engine); its destinations are added, updated (forwarding, weight, thresholds) or
    ///   deleted so that exactly the desired ones remain.
    /// - A current service that is not desired is deleted only if `scope` contains it.
    ///
    /// Counters, rates and connection counts are never compared.
    pub fn compute(current: &Table, desired: &Table, scope: &Scope) -> Plan {
        let mut services = Vec::new();
        let mut dest_deletes = Vec::new();
        let mut dest_updates = Vec::new();
        let mut dest_adds = Vec::new();
        for want in desired {
            let key = want.service.key;
            let Some(have) = current.get(&key) else {
                services.push(Change::AddService(want.service.clone()));
                dest_adds.extend(
                    want.destinations()
                        .iter()
                        .map(|d| Change::AddDestination(key, d.clone())),
                );
                continue;
            };
            if !same_service(&have.service, &want.service) {
                services.push(Change::UpdateService(want.service.clone()));
            }
            for dest in want.destinations() {
                match have.destination(&DestinationId::of(dest)) {
                    None => dest_adds.push(Change::AddDestination(key, dest.clone())),
                    Some(old) if !same_destination(old, dest) => {
                        dest_updates.push(Change::UpdateDestination(key, dest.clone()))
                    }
                    Some(_) => {}
                }
            }
            dest_deletes.extend(
                have.destinations()
                    .iter()
                    .filter(|d| want.destination(&DestinationId::of(d)).is_none())
                    .map(|d| Change::DeleteDestination(key, d.clone())),
            );
        }
        let service_deletes = current
            .iter()
            .map(|e| e.service.key)
            .filter(|key| !desired.contains(key) && scope.contains(key))
            .map(Change::DeleteService);
        let mut changes = services;
        changes.extend(dest_deletes);
        changes.extend(dest_updates);
        changes.extend(dest_adds);
        changes.extend(service_deletes);
        Plan { changes }
    }

    /// The changes, in the order they are applied.
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    /// Whether the kernel already matches the desired state.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The number of changes.
    pub fn len(&self) -> usize {
        self.changes.len()
    }

    pub(crate) fn into_changes(self) -> Vec<Change> {
        self.changes
    }
}

/// Whether two services agree on every field a caller sets.
fn same_service(have: &Service, want: &Service) -> bool {
    let settable = |f: ServiceFlags| f.difference(ServiceFlags::HASHED);
    have.scheduler.name() == want.scheduler.name()
        && settable(have.flags) == settable(want.flags)
        && have.timeout == want.timeout
        && have.netmask == want.netmask
        && have.pe_name == want.pe_name
}

/// Whether two destinations agree on every field a caller sets.
fn same_destination(have: &Destination, want: &Destination) -> bool {
    have.forwarding == want.forwarding
        && have.weight == want.weight
        && have.upper_threshold == want.upper_threshold
        && have.lower_threshold == want.lower_threshold
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Forwarding, Netmask, Scheduler, Stats, Tunnel};
    use std::net::Ipv4Addr;

    fn key(n: u8) -> ServiceKey {
        ServiceKey::tcp(Ipv4Addr::new(10, 0, 0, n), 80)
    }

    fn dest(n: u8) -> Destination {
        Destination::new(Ipv4Addr::new(192, 168, 1, n), 80)
    }

    fn table(entries: &[(Service, &[Destination])]) -> Table {
        entries
            .iter()
            .map(|(s, d)| (s.clone(), d.to_vec()))
            .collect()
    }

    /// What the kernel reports for a service written as `svc`: HASHED set, counters running.
    fn as_read(svc: &Service) -> Service {
        let mut read = svc.clone().with_flags(ServiceFlags::HASHED);
        read.stats = Stats {
            conns: 7,
            ..Stats::default()
        };
        read
    }

    fn as_read_dest(d: &Destination) -> Destination {
        let mut read = d.clone();
        read.active_conns = 3;
        read.stats.in_pkts = 99;
        read
    }

    #[test]
    fn equal_tables_need_nothing_even_with_counters_and_hashed() {
        let svc = Service::new(key(1)).with_persistence(300);
        let desired = table(&[(svc.clone(), &[dest(1), dest(2)])]);
        let current = table(&[(
            as_read(&svc),
            &[as_read_dest(&dest(1)), as_read_dest(&dest(2))],
        )]);
        assert!(Plan::compute(&current, &desired, &Scope::all()).is_empty());
    }

    #[test]
    fn missing_services_are_added_before_their_destinations() {
        let desired = table(&[(Service::new(key(1)), &[dest(1), dest(2)])]);
        let plan = Plan::compute(&Table::new(), &desired, &Scope::desired());
        assert_eq!(
            plan.changes(),
            [
                Change::AddService(Service::new(key(1))),
                Change::AddDestination(key(1), dest(1)),
                Change::AddDestination(key(1), dest(2)),
            ]
        );
    }

    #[test]
    fn each_controlled_service_field_triggers_one_update() {
        let base = Service::new(key(1));
        let variants = [
            base.clone().with_scheduler(Scheduler::RoundRobin),
            base.clone().with_flags(ServiceFlags::ONE_PACKET),
            base.clone().with_persistence(0),
            Service {
                timeout: 60,
                ..base.clone()
            },
            base.clone()
                .with_netmask(Netmask::V4(Ipv4Addr::new(255, 255, 255, 0))),
            base.clone().with_pe("sip"),
        ];
        let current = table(&[(as_read(&base), &[])]);
        for want in variants {
            let plan = Plan::compute(&current, &table(&[(want.clone(), &[])]), &Scope::all());
            assert_eq!(plan.changes(), [Change::UpdateService(want)]);
        }
    }

    #[test]
    fn destinations_are_updated_only_where_a_field_differs() {
        let svc = Service::new(key(1));
        let current = table(&[(
            as_read(&svc),
            &[
                as_read_dest(&dest(1)),
                as_read_dest(&dest(2)),
                dest(3),
                dest(4),
            ],
        )]);
        let desired = table(&[(
            svc,
            &[
                dest(1),
                dest(2).with_weight(5),
                dest(3).with_forwarding(Forwarding::Tunnel(Tunnel::gue(6080))),
                dest(4).with_thresholds(100, 10),
            ],
        )]);
        let plan = Plan::compute(&current, &desired, &Scope::desired());
        assert_eq!(
            plan.changes(),
            [
                Change::UpdateDestination(key(1), dest(2).with_weight(5)),
                Change::UpdateDestination(
                    key(1),
                    dest(3).with_forwarding(Forwarding::Tunnel(Tunnel::gue(6080)))
                ),
                Change::UpdateDestination(key(1), dest(4).with_thresholds(100, 10)),
            ]
        );
    }

    #[test]
    fn undesired_destinations_of_desired_services_are_deleted() {
        let svc = Service::new(key(1));
        let current = table(&[(svc.clone(), &[dest(1), dest(2)])]);
        let desired = table(&[(svc, &[dest(2), dest(3)])]);
        let plan = Plan::compute(&current, &desired, &Scope::desired());
        assert_eq!(
            plan.changes(),
            [
                Change::DeleteDestination(key(1), dest(1)),
                Change::AddDestination(key(1), dest(3)),
            ]
        );
    }

    #[test]
    fn services_outside_the_scope_are_never_deleted() {
        let current = table(&[
            (Service::new(key(1)), &[dest(1)]),
            (Service::new(key(2)), &[dest(1)]),
            (Service::new(key(3)), &[dest(1)]),
        ]);
        let desired = table(&[(Service::new(key(1)), &[dest(1)])]);
        assert!(Plan::compute(&current, &desired, &Scope::desired()).is_empty());
        let plan = Plan::compute(&current, &desired, &Scope::keys([key(2)]));
        assert_eq!(plan.changes(), [Change::DeleteService(key(2))]);
        let plan = Plan::compute(&current, &desired, &Scope::all());
        assert_eq!(
            plan.changes(),
            [Change::DeleteService(key(2)), Change::DeleteService(key(3))]
        );
    }

    #[test]
    fn the_order_is_services_then_destinations_then_service_deletes() {
        let current = table(&[
            (Service::new(key(1)), &[dest(1), dest(2)]),
            (Service::new(key(9)), &[]),
        ]);
        let desired = table(&[
            (
                Service::new(key(1)).with_scheduler(Scheduler::RoundRobin),
                &[dest(1).with_weight(2), dest(3)],
            ),
            (Service::new(key(2)), &[dest(1)]),
        ]);
        let plan = Plan::compute(&current, &desired, &Scope::all());
        let kinds: Vec<String> = plan.changes().iter().map(|c| c.to_string()).collect();
        assert_eq!(
            kinds,
            [
                "update service tcp:10.0.0.1:80",
                "add service tcp:10.0.0.2:80",
                "delete destination 192.168.1.2:80 of tcp:10.0.0.1:80",
                "update destination 192.168.1.1:80 of tcp:10.0.0.1:80",
                "add destination 192.168.1.3:80 to tcp:10.0.0.1:80",
                "add destination 192.168.1.1:80 to tcp:10.0.0.2:80",
                "delete service tcp:10.0.0.9:80",
            ]
        );
        assert_eq!(plan.changes().iter().filter(|c| c.is_delete()).count(), 2);
    }
}
