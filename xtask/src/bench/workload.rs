//! The generated tables: N services of 4 direct-routing real servers each, as ipvsadm restore
//! input and as ipvs-rs values, and the 1 % change the reconcile benchmark applies.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use ipvs_rs::reconcile::{DestinationId, Report, Table};
use ipvs_rs::{Batch, Destination, Service, ServiceKey};

/// Real servers per service.
pub const DESTS: u32 = 4;

/// The services' virtual addresses start after 10.0.0.0 (so the table is in 10.0.0.0/8).
const VIP_BASE: u32 = 0x0a00_0000;
/// Real servers are numbered after 172.16.0.0.
const RIP_BASE: u32 = 0xac10_0000;
/// Real servers that replace others in the 1 % change come from 172.20.0.0 up.
const NEW_RIP_BASE: u32 = 0xac14_0000;
/// Every service and real server listens on this port.
const PORT: u16 = 80;

/// The key of service `i`.
pub fn service_key(i: u32) -> ServiceKey {
    ServiceKey::tcp(Ipv4Addr::from(VIP_BASE + i + 1), PORT)
}

/// Real server `j` of service `i`.
pub fn destination(i: u32, j: u32) -> Destination {
    Destination::new(Ipv4Addr::from(RIP_BASE + i * DESTS + j + 1), PORT)
}

/// The ipvsadm restore input of `services` services, in the form `ipvsadm -Sn` writes.
pub fn restore_input(services: u32) -> String {
    let mut text = String::with_capacity(services as usize * 200);
    for i in 0..services {
        let vip = Ipv4Addr::from(VIP_BASE + i + 1);
        let _ = writeln!(text, "-A -t {vip}:{PORT} -s wlc");
        for j in 0..DESTS {
            let rip = Ipv4Addr::from(RIP_BASE + i * DESTS + j + 1);
            let _ = writeln!(text, "-a -t {vip}:{PORT} -r {rip}:{PORT} -g -w 1");
        }
    }
    text
}

/// The lines `ipvsadm -Sn` prints for the table of `services` services.
pub fn save_lines(services: u32) -> usize {
    services as usize * (1 + DESTS as usize)
}

/// The lines `ipvsadm -Ln` prints: a three-line header, then services and real servers.
pub fn list_lines(services: u32) -> usize {
    3 + save_lines(services)
}

/// The table of `services` services as one batch: each service, then its real servers.
pub fn batch(services: u32) -> Batch {
    let mut batch = Batch::new();
    for i in 0..services {
        batch.add_service(Service::new(service_key(i)));
        for j in 0..DESTS {
            batch.add_destination(service_key(i), destination(i, j));
        }
    }
    batch
}

/// The table of `services` services as a desired state.
pub fn table(services: u32) -> Table {
    (0..services)
        .map(|i| {
            let dests = (0..DESTS).map(|j| destination(i, j)).collect();
            (Service::new(service_key(i)), dests)
        })
        .collect()
}

/// A change of about 1 % of a table's services, a quarter of it of each kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// Services of each kind of change.
    pub quarter: u32,
}

impl Change {
    /// The 1 % change of a table of `services` services (at least one service of each kind).
    pub fn one_percent(services: u32) -> Self {
        Change {
            quarter: (services / 400).max(1),
        }
    }

    /// `table` (the table of `services` services) after the change: the last `quarter`
    /// services removed, `quarter` new services added, the first real server of the first
    /// `quarter` services reweighted, and the last real server of the next `quarter` replaced.
    pub fn apply_to(&self, table: &mut Table, services: u32) {
        let q = self.quarter;
        for i in services - q..services {
            table.remove(&service_key(i));
        }
        for i in services..services + q {
            let dests = (0..DESTS).map(|j| destination(i, j));
            table.insert(Service::new(service_key(i)), dests);
        }
        for i in 0..q {
            table.insert_destination(&service_key(i), destination(i, 0).with_weight(2));
        }
        for i in q..2 * q {
            if let Some(entry) = table.get_mut(&service_key(i)) {
                entry.remove_destination(&DestinationId::of(&destination(i, DESTS - 1)));
                entry.insert_destination(Destination::new(Ipv4Addr::from(NEW_RIP_BASE + i), PORT));
            }
        }
    }

    /// Whether `report` made exactly this change and nothing else.
    pub fn check(&self, report: &Report) -> Result<(), String> {
        let q = self.quarter as usize;
        let d = DESTS as usize;
        let got = [
            report.added_services.len(),
            report.updated_services.len(),
            report.deleted_services.len(),
            report.added_destinations.len(),
            report.updated_destinations.len(),
            report.deleted_destinations.len(),
            report.vanished.len(),
            report.failures.len(),
        ];
        let want = [q, 0, q, q * d + q, q, q, 0, 0];
        if got == want {
            Ok(())
        } else {
            Err(format!(
                "the reconcile did not make exactly the 1 % change: {report} (expected: \
                 services {q} added, 0 updated, {q} deleted; destinations {} added, {q} updated, \
                 {q} deleted; 0 vanished, 0 failed)",
                q * d + q
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipvs_rs::reconcile::{Plan, Scope};

    #[test]
    fn restore_input_and_values_describe_the_same_table() {
        let text = restore_input(3);
        assert_eq!(text.lines().count(), save_lines(3));
        assert_eq!(text.lines().next(), Some("-A -t 10.0.0.1:80 -s wlc"));
        assert_eq!(
            text.lines().nth(4),
            Some("-a -t 10.0.0.1:80 -r 172.16.0.4:80 -g -w 1")
        );
        assert_eq!(batch(3).len(), save_lines(3));
        assert_eq!(table(3).len(), 3);
        assert_eq!(destination(0, 3).addr.to_string(), "172.16.0.4");
    }

    #[test]
    fn the_one_percent_change_plans_exactly_its_requests() {
        let services = 1000;
        let change = Change::one_percent(services);
        assert_eq!(change.quarter, 2);
        let current = table(services);
        let mut desired = current.clone();
        change.apply_to(&mut desired, services);
        let plan = Plan::compute(&current, &desired, &Scope::all());
        // Per quarter: a service deleted, a service and its real servers added, a real
        // server reweighted, a real server replaced (one delete, one add).
        assert_eq!(plan.len(), 2 * (1 + 1 + DESTS as usize + 1 + 2));
        assert!(Plan::compute(&desired, &desired, &Scope::all()).is_empty());
    }
}
