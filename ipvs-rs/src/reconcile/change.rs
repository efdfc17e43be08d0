//! One change of a plan, carrying the old value next to the new.

use std::fmt;

use super::DestinationId;
use crate::{Batch, Destination, Forwarding, Service, ServiceFlags, ServiceKey};

/// One change a reconcile makes.
///
/// Updates carry what the kernel had next to what is sent, and `Display` names each field that
/// changes with both values: `update destination 10.1.0.2:80 of tcp:10.96.0.1:80 (weight 1 -> 5)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Add a service that is desired and missing.
    AddService(Service),
    /// Replace the settings of a service whose scheduler, flags, timeout, netmask or
    /// persistence engine differ from the desired ones.
    UpdateService {
        /// The service as the kernel had it.
        old: Service,
        /// The desired service, as sent.
        new: Service,
    },
    /// Delete a service in scope that is not desired (with its destinations).
    DeleteService(ServiceKey),
    /// Add a desired destination missing from its service.
    AddDestination(ServiceKey, Destination),
    /// Replace the forwarding, weight or thresholds of a destination that differ from the
    /// desired ones.
    UpdateDestination {
        /// The destination's service.
        service: ServiceKey,
        /// The destination as the kernel had it.
        old: Destination,
        /// The desired destination, as sent.
        new: Destination,
    },
    /// Set the weight of a destination that is no longer desired to 0, so that it gets no new
    /// connections while its current ones end ([`Removal::Drain`](super::Removal::Drain)).
    DrainDestination {
        /// The destination's service.
        service: ServiceKey,
        /// The destination as the kernel had it; it is sent with weight 0.
        old: Destination,
    },
    /// Delete a destination that its desired service does not have.
    DeleteDestination(ServiceKey, Destination),
}

impl Change {
    /// The service the change is about.
    pub fn service(&self) -> &ServiceKey {
        match self {
            Change::AddService(s) => &s.key,
            Change::UpdateService { new, .. } => &new.key,
            Change::DeleteService(key)
            | Change::AddDestination(key, _)
            | Change::UpdateDestination { service: key, .. }
            | Change::DrainDestination { service: key, .. }
            | Change::DeleteDestination(key, _) => key,
        }
    }

    /// The destination the change is about, if it is about one.
    pub fn destination(&self) -> Option<DestinationId> {
        match self {
            Change::AddDestination(_, d)
            | Change::UpdateDestination { new: d, .. }
            | Change::DrainDestination { old: d, .. }
            | Change::DeleteDestination(_, d) => Some(DestinationId::of(d)),
            _ => None,
        }
    }

    /// Whether the change deletes something (a drain does not: it only sets a weight).
    pub fn is_delete(&self) -> bool {
        matches!(
            self,
            Change::DeleteService(_) | Change::DeleteDestination(..)
        )
    }

    /// Whether the change adds or updates a destination of `key`'s service, so that it needs
    /// that service to exist.
    pub(crate) fn needs_service(&self, key: &ServiceKey) -> bool {
        self.service() == key
            && matches!(
                self,
                Change::AddDestination(..)
                    | Change::UpdateDestination { .. }
                    | Change::DrainDestination { .. }
                    | Change::DeleteDestination(..)
            )
    }

    pub(crate) fn push_to(&self, batch: &mut Batch) {
        match self {
            Change::AddService(s) => batch.add_service(s.clone()),
            Change::UpdateService { new, .. } => batch.update_service(new.clone()),
            Change::DeleteService(key) => batch.delete_service(*key),
            Change::AddDestination(key, d) => batch.add_destination(*key, d.clone()),
            Change::UpdateDestination { service, new, .. } => {
                batch.update_destination(*service, new.clone())
            }
            Change::DrainDestination { service, old } => {
                batch.update_destination(*service, old.clone().with_weight(0))
            }
            Change::DeleteDestination(key, d) => batch.delete_destination(*key, d.clone()),
        };
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = DestinationId::of;
        match self {
            Change::AddService(s) => write!(f, "add service {}", s.key),
            Change::UpdateService { old, new } => {
                write!(f, "update service {}", new.key)?;
                write_fields(f, &service_fields(old, new))
            }
            Change::DeleteService(key) => write!(f, "delete service {key}"),
            Change::AddDestination(key, d) => write!(f, "add destination {} to {key}", id(d)),
            Change::UpdateDestination { service, old, new } => {
                write!(f, "update destination {} of {service}", id(new))?;
                write_fields(f, &destination_fields(old, new))
            }
            Change::DrainDestination { service, old } => write!(
                f,
                "drain destination {} of {service} (weight {} -> 0)",
                id(old),
                old.weight
            ),
            Change::DeleteDestination(key, d) => {
                write!(f, "delete destination {} of {key}", id(d))
            }
        }
    }
}

/// ` (name old -> new, ...)`, or nothing when no field differs.
fn write_fields(f: &mut fmt::Formatter<'_>, fields: &[FieldChange]) -> fmt::Result {
    for (i, field) in fields.iter().enumerate() {
        let sep = if i == 0 { " (" } else { ", " };
        write!(f, "{sep}{} {} -> {}", field.name, field.old, field.new)?;
    }
    if !fields.is_empty() {
        f.write_str(")")?;
    }
    Ok(())
}

/// One field a change sets, with its value before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldChange {
    name: &'static str,
    old: String,
    new: String,
}

fn field<T: PartialEq>(
    out: &mut Vec<FieldChange>,
    name: &'static str,
    old: &T,
    new: &T,
    show: impl Fn(&T) -> String,
) {
    if old != new {
        out.push(FieldChange {
            name,
            old: show(old),
            new: show(new),
        });
    }
}

/// The service fields a caller sets, where `old` and `new` differ (HASHED is the kernel's).
pub(crate) fn service_fields(old: &Service, new: &Service) -> Vec<FieldChange> {
    let settable = |s: &Service| s.flags.difference(ServiceFlags::HASHED);
    let mut out = Vec::new();
    field(
        &mut out,
        "scheduler",
        &old.scheduler.name(),
        &new.scheduler.name(),
        |s| s.to_string(),
    );
    field(&mut out, "flags", &settable(old), &settable(new), |f| {
        format!("{:#x}", f.bits())
    });
    field(
        &mut out,
        "timeout",
        &old.timeout,
        &new.timeout,
        u32::to_string,
    );
    field(&mut out, "netmask", &old.netmask, &new.netmask, |m| {
        m.to_string()
    });
    field(&mut out, "pe", &old.pe_name, &new.pe_name, |p| {
        p.clone().unwrap_or_else(|| "none".into())
    });
    out
}

/// The destination fields a caller sets, where `old` and `new` differ.
pub(crate) fn destination_fields(old: &Destination, new: &Destination) -> Vec<FieldChange> {
    let mut out = Vec::new();
    field(
        &mut out,
        "forwarding",
        &old.forwarding,
        &new.forwarding,
        forwarding_name,
    );
    field(&mut out, "weight", &old.weight, &new.weight, i32::to_string);
    field(
        &mut out,
        "upper threshold",
        &old.upper_threshold,
        &new.upper_threshold,
        u32::to_string,
    );
    field(
        &mut out,
        "lower threshold",
        &old.lower_threshold,
        &new.lower_threshold,
        u32::to_string,
    );
    out
}

fn forwarding_name(f: &Forwarding) -> String {
    match f {
        Forwarding::Route => "route".into(),
        Forwarding::Tunnel(t) => format!("tunnel {t:?}"),
        Forwarding::Masq => "masq".into(),
        Forwarding::Local => "local".into(),
        Forwarding::Bypass => "bypass".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scheduler;
    use std::net::Ipv4Addr;

    fn key() -> ServiceKey {
        ServiceKey::tcp(Ipv4Addr::new(10, 0, 0, 1), 80)
    }

    fn dest() -> Destination {
        Destination::new(Ipv4Addr::new(192, 168, 1, 2), 80)
    }

    #[test]
    fn updates_show_each_changed_field_old_and_new() {
        let change = Change::UpdateDestination {
            service: key(),
            old: dest(),
            new: dest().with_weight(5).with_thresholds(100, 10),
        };
        assert_eq!(
            change.to_string(),
            "update destination 192.168.1.2:80 of tcp:10.0.0.1:80 \
             (weight 1 -> 5, upper threshold 0 -> 100, lower threshold 0 -> 10)"
        );
        let old = Service::new(key());
        let change = Change::UpdateService {
            old: old.clone().with_flags(ServiceFlags::HASHED),
            new: old
                .with_scheduler(Scheduler::RoundRobin)
                .with_persistence(300),
        };
        assert_eq!(
            change.to_string(),
            "update service tcp:10.0.0.1:80 (scheduler wlc -> rr, flags 0x0 -> 0x1, timeout 0 -> 300)"
        );
        let change = Change::DrainDestination {
            service: key(),
            old: dest().with_weight(3),
        };
        assert_eq!(
            change.to_string(),
            "drain destination 192.168.1.2:80 of tcp:10.0.0.1:80 (weight 3 -> 0)"
        );
    }
}
