//! The difference between the kernel's table and the desired one, as an editable list of
//! changes.

use std::collections::BTreeSet;

use super::change::{destination_fields, service_fields};
use super::{Change, DestinationId, Policy, Removal, Scope, Table};
use crate::{Destination, ServiceKey};

/// The minimal list of changes that turns the kernel's table into the desired one, within a
/// scope.
///
/// Computed by [`Plan::compute`] (or [`Plan::compute_with`] and a [`Policy`]) without touching
/// the kernel, so it can be shown as a dry run, and edited before it is applied
/// ([`apply`](super::apply)): [`Plan::retain`] and [`Plan::veto`] drop changes (with the
/// changes that need them), [`Plan::cap_deletes`] limits the deletes of one run. What an edit
/// drops is simply not done; the next reconcile plans it again.
///
/// Its order is the order of application: services are added and updated first (their
/// destinations need them), then destinations are deleted, drained, updated and added, and
/// services are deleted last.
///
/// ```
/// use ipvs_rs::reconcile::{Change, Plan, Policy, Removal, Scope, Table};
/// use ipvs_rs::{Destination, Service, ServiceKey};
/// use std::net::Ipv4Addr;
///
/// let key = ServiceKey::tcp(Ipv4Addr::new(10, 96, 0, 1), 80);
/// let backend = |h| Destination::new(Ipv4Addr::new(10, 1, 0, h), 80);
/// let current: Table = [(Service::new(key), vec![backend(2), backend(3)])].into_iter().collect();
/// let desired: Table = [(Service::new(key), vec![backend(4)])].into_iter().collect();
///
/// let policy = Policy::default().with_removal(Removal::Drain);
/// let mut plan = Plan::compute_with(&current, &desired, &Scope::desired(), &policy);
/// assert_eq!(plan.len(), 3); // drain .2 and .3, add .4
/// let vetoed = plan.veto(|c| c.to_string().contains("10.1.0.3"));
/// assert_eq!(vetoed.len(), 1);
/// assert_eq!(
///     plan.changes()[0].to_string(),
///     "drain destination 10.1.0.2:80 of tcp:10.96.0.1:80 (weight 1 -> 0)"
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    changes: Vec<Change>,
    removal: Removal,
    draining: Vec<(ServiceKey, Destination)>,
}

impl Plan {
    /// Compares `current` (the kernel's table) with `desired`, deleting what is not desired
    /// at once and without limit ([`Policy::default`]).
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
        Plan::compute_with(current, desired, scope, &Policy::default())
    }

    /// Like [`Plan::compute`], with `policy`'s removal mode and cap on deletes.
    ///
    /// With [`Removal::Drain`], a destination a desired service no longer has is drained
    /// (weight set to 0) while its weight is not 0, deleted once it has weight 0 and the
    /// kernel counts no active and no inactive connections on it, and otherwise left alone
    /// and listed in [`Plan::draining`].
    pub fn compute_with(current: &Table, desired: &Table, scope: &Scope, policy: &Policy) -> Plan {
        let mut services = Vec::new();
        let mut dest_deletes = Vec::new();
        let mut dest_drains = Vec::new();
        let mut dest_updates = Vec::new();
        let mut dest_adds = Vec::new();
        let mut draining = Vec::new();
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
            if !service_fields(&have.service, &want.service).is_empty() {
                services.push(Change::UpdateService {
                    old: have.service.clone(),
                    new: want.service.clone(),
                });
            }
            for dest in want.destinations() {
                match have.destination(&DestinationId::of(dest)) {
                    None => dest_adds.push(Change::AddDestination(key, dest.clone())),
                    Some(old) if !destination_fields(old, dest).is_empty() => {
                        dest_updates.push(Change::UpdateDestination {
                            service: key,
                            old: old.clone(),
                            new: dest.clone(),
                        })
                    }
                    Some(_) => {}
                }
            }
            let unwanted = have
                .destinations()
                .iter()
                .filter(|d| want.destination(&DestinationId::of(d)).is_none());
            for old in unwanted {
                match policy.removal {
                    Removal::Delete => {
                        dest_deletes.push(Change::DeleteDestination(key, old.clone()))
                    }
                    Removal::Drain if old.weight != 0 => {
                        dest_drains.push(Change::DrainDestination {
                            service: key,
                            old: old.clone(),
                        })
                    }
                    Removal::Drain if is_idle(old) => {
                        dest_deletes.push(Change::DeleteDestination(key, old.clone()))
                    }
                    Removal::Drain => draining.push((key, old.clone())),
                }
            }
        }
        let service_deletes = current
            .iter()
            .map(|e| e.service.key)
            .filter(|key| !desired.contains(key) && scope.contains(key))
            .map(Change::DeleteService);
        let mut changes = services;
        changes.extend(dest_deletes);
        changes.extend(dest_drains);
        changes.extend(dest_updates);
        changes.extend(dest_adds);
        changes.extend(service_deletes);
        Plan::assemble(changes, draining, policy)
    }

    /// The changes, in the order they are applied.
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    /// Whether the kernel already matches the desired state (destinations still draining
    /// aside).
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The number of changes.
    pub fn len(&self) -> usize {
        self.changes.len()
    }

    /// How the plan removes destinations, from the [`Policy`] it was computed with.
    pub fn removal(&self) -> Removal {
        self.removal
    }

    /// Destinations that are drained (weight 0, not desired) but still have connections: no
    /// change is planned for them; a later reconcile deletes them once they have none.
    pub fn draining(&self) -> &[(ServiceKey, Destination)] {
        &self.draining
    }

    /// Keeps the changes `keep` accepts, and returns the others together with the changes
    /// that cannot work without them (the destination changes of a service whose add is
    /// dropped), in plan order.
    pub fn retain(&mut self, mut keep: impl FnMut(&Change) -> bool) -> Vec<Change> {
        let mut dropped_adds = BTreeSet::new();
        let (kept, dropped): (Vec<_>, Vec<_>) = std::mem::take(&mut self.changes)
            .into_iter()
            .partition(|change| {
                let needed = !dropped_adds.iter().any(|key| change.needs_service(key));
                let keep = needed && keep(change);
                if let (false, Change::AddService(s)) = (keep, change) {
                    dropped_adds.insert(s.key);
                }
                keep
            });
        self.changes = kept;
        dropped
    }

    /// Drops the changes `reject` refuses (and those that need them, as [`Plan::retain`]
    /// does), and returns them.
    pub fn veto(&mut self, mut reject: impl FnMut(&Change) -> bool) -> Vec<Change> {
        self.retain(|change| !reject(change))
    }

    /// Keeps the first `max` deletes (of services and destinations, in plan order) and drops
    /// the others, which are returned: a run never deletes more than `max` things, the rest
    /// waits for later runs. Drains are not deletes.
    pub fn cap_deletes(&mut self, max: usize) -> Vec<Change> {
        let mut deletes = 0;
        self.retain(|change| {
            if !change.is_delete() {
                return true;
            }
            deletes += 1;
            deletes <= max
        })
    }

    pub(crate) fn into_changes(self) -> Vec<Change> {
        self.changes
    }

    /// A plan of `changes` already in plan order, computed elsewhere with `policy`'s
    /// removal (the cached [`Reconciler`](super::Reconciler) merges plans of two sources),
    /// capped as `policy` says.
    pub(crate) fn assemble(
        changes: Vec<Change>,
        draining: Vec<(ServiceKey, Destination)>,
        policy: &Policy,
    ) -> Plan {
        let mut plan = Plan {
            changes,
            removal: policy.removal,
            draining,
        };
        if let Some(max) = policy.max_deletes {
            plan.cap_deletes(max);
        }
        plan
    }

    pub(crate) fn into_parts(self) -> (Vec<Change>, Vec<(ServiceKey, Destination)>) {
        (self.changes, self.draining)
    }
}

/// Whether the kernel counts no connection on `dest` that a delete would cut.
pub(crate) fn is_idle(dest: &Destination) -> bool {
    dest.active_conns == 0 && dest.inactive_conns == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Forwarding, Netmask, Scheduler, Service, ServiceFlags, Stats, Tunnel};
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
            assert_eq!(
                plan.changes(),
                [Change::UpdateService {
                    old: as_read(&base),
                    new: want
                }]
            );
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
        let update = |old: Destination, new: Destination| Change::UpdateDestination {
            service: key(1),
            old,
            new,
        };
        assert_eq!(
            plan.changes(),
            [
                update(as_read_dest(&dest(2)), dest(2).with_weight(5)),
                update(
                    dest(3),
                    dest(3).with_forwarding(Forwarding::Tunnel(Tunnel::gue(6080)))
                ),
                update(dest(4), dest(4).with_thresholds(100, 10)),
            ]
        );
        assert_eq!(
            plan.changes()[0].to_string(),
            "update destination 192.168.1.2:80 of tcp:10.0.0.1:80 (weight 1 -> 5)"
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
                "update service tcp:10.0.0.1:80 (scheduler wlc -> rr)",
                "add service tcp:10.0.0.2:80",
                "delete destination 192.168.1.2:80 of tcp:10.0.0.1:80",
                "update destination 192.168.1.1:80 of tcp:10.0.0.1:80 (weight 1 -> 2)",
                "add destination 192.168.1.3:80 to tcp:10.0.0.1:80",
                "add destination 192.168.1.1:80 to tcp:10.0.0.2:80",
                "delete service tcp:10.0.0.9:80",
            ]
        );
        assert_eq!(plan.changes().iter().filter(|c| c.is_delete()).count(), 2);
    }

    fn with_conns(d: Destination, weight: i32, active: u32, inactive: u32) -> Destination {
        let mut d = d.with_weight(weight);
        d.active_conns = active;
        d.inactive_conns = inactive;
        d
    }

    /// Weight first, then, once the kernel counts no connection, the delete.
    #[test]
    fn drain_sets_weight_zero_then_deletes_when_idle() {
        let drain = Policy::default().with_removal(Removal::Drain);
        let svc = Service::new(key(1));
        let desired = table(&[(svc.clone(), &[dest(1)])]);
        let plan_for = |old: Destination| {
            let current = table(&[(svc.clone(), &[dest(1), old])]);
            Plan::compute_with(&current, &desired, &Scope::desired(), &drain)
        };
        let busy = with_conns(dest(2), 3, 1, 0);
        let plan = plan_for(busy.clone());
        assert_eq!(
            plan.changes(),
            [Change::DrainDestination {
                service: key(1),
                old: busy
            }]
        );
        let plan = plan_for(with_conns(dest(2), 0, 0, 2));
        assert!(plan.is_empty());
        assert_eq!(plan.draining(), [(key(1), with_conns(dest(2), 0, 0, 2))]);
        let idle = with_conns(dest(2), 0, 0, 0);
        let plan = plan_for(idle.clone());
        assert_eq!(plan.changes(), [Change::DeleteDestination(key(1), idle)]);
        assert!(plan.draining().is_empty());
        // An idle destination with a weight is drained first all the same.
        let plan = plan_for(with_conns(dest(2), 1, 0, 0));
        assert!(matches!(plan.changes(), [Change::DrainDestination { .. }]));
    }

    #[test]
    fn vetoing_a_service_add_drops_its_destinations_too() {
        let desired = table(&[
            (Service::new(key(1)), &[dest(1), dest(2)]),
            (Service::new(key(2)), &[dest(1)]),
        ]);
        let mut plan = Plan::compute(&Table::new(), &desired, &Scope::desired());
        let vetoed = plan.veto(|c| matches!(c, Change::AddService(s) if s.key == key(1)));
        assert_eq!(
            vetoed,
            [
                Change::AddService(Service::new(key(1))),
                Change::AddDestination(key(1), dest(1)),
                Change::AddDestination(key(1), dest(2)),
            ]
        );
        assert_eq!(
            plan.changes(),
            [
                Change::AddService(Service::new(key(2))),
                Change::AddDestination(key(2), dest(1)),
            ]
        );
        let dropped = plan.retain(|c| !matches!(c, Change::AddDestination(..)));
        assert_eq!(dropped, [Change::AddDestination(key(2), dest(1))]);
        assert_eq!(plan.len(), 1);
    }

    #[test]
    fn deletes_are_capped_in_plan_order() {
        let current = table(&[
            (Service::new(key(1)), &[dest(1), dest(2), dest(3)]),
            (Service::new(key(2)), &[]),
        ]);
        let desired = table(&[(Service::new(key(1)), &[dest(4)])]);
        let policy = Policy::default().with_max_deletes(2);
        let plan = Plan::compute_with(&current, &desired, &Scope::all(), &policy);
        assert_eq!(
            plan.changes(),
            [
                Change::DeleteDestination(key(1), dest(1)),
                Change::DeleteDestination(key(1), dest(2)),
                Change::AddDestination(key(1), dest(4)),
            ]
        );
        let mut uncapped = Plan::compute(&current, &desired, &Scope::all());
        assert_eq!(uncapped.cap_deletes(0).len(), 4);
        assert_eq!(
            uncapped.changes(),
            [Change::AddDestination(key(1), dest(4))]
        );
    }
}
