//! Which services a reconcile owns.

use std::fmt;
use std::net::IpAddr;
use std::ops::RangeInclusive;
use std::sync::Arc;

use crate::ServiceKey;

/// The services a caller owns: a reconcile may delete or change only these.
///
/// IPVS has one table per network namespace, shared by every tool that writes to it
/// (kube-proxy, keepalived, an operator's `ipvsadm`). A scope says which part of it is yours.
/// The services of the desired [`Table`](super::Table) are always in scope; a service outside
/// both is never read beyond the service dump, never changed and never deleted.
///
/// The default, [`Scope::desired`], owns only the desired services: their settings and
/// destinations are reconciled, but no other service is ever deleted. To let a reconcile delete
/// services you dropped from the desired state, widen the scope with rules, joined by
/// [`Scope::or`]:
///
/// ```
/// use ipvs_rs::reconcile::Scope;
/// use ipvs_rs::{AddressFamily, ServiceKey};
/// use std::net::Ipv4Addr;
///
/// // Every service on 10.96.0.0/12, and fwmarks 1000 to 1999.
/// let scope = Scope::prefix(Ipv4Addr::new(10, 96, 0, 0).into(), 12).or(Scope::fwmarks(1000..=1999));
/// assert!(scope.contains(&ServiceKey::tcp(Ipv4Addr::new(10, 100, 1, 2), 443)));
/// assert!(scope.contains(&ServiceKey::fwmark(1500, AddressFamily::Inet6)));
/// assert!(!scope.contains(&ServiceKey::tcp(Ipv4Addr::new(192, 168, 0, 10), 80)));
/// ```
#[derive(Clone, Default)]
pub struct Scope {
    rules: Vec<Rule>,
}

#[derive(Clone)]
enum Rule {
    All,
    Keys(Arc<[ServiceKey]>),
    Fwmarks(RangeInclusive<u32>),
    Prefix { addr: IpAddr, len: u8 },
    Matching(Arc<dyn Fn(&ServiceKey) -> bool + Send + Sync>),
}

impl Scope {
    /// Only the desired services (the default): nothing outside the desired state is deleted.
    pub fn desired() -> Self {
        Scope::default()
    }

    /// The whole table: the caller owns IPVS in this namespace, and every service that is not
    /// desired is deleted.
    pub fn all() -> Self {
        Scope::rule(Rule::All)
    }

    /// These services.
    pub fn keys(keys: impl IntoIterator<Item = ServiceKey>) -> Self {
        let mut keys: Vec<ServiceKey> = keys.into_iter().collect();
        keys.sort_unstable();
        keys.dedup();
        Scope::rule(Rule::Keys(keys.into()))
    }

    /// Firewall-mark services whose mark is in `marks`, of either address family.
    pub fn fwmarks(marks: RangeInclusive<u32>) -> Self {
        Scope::rule(Rule::Fwmarks(marks))
    }

    /// Address services (TCP, UDP, SCTP, any port) whose virtual address is in `addr/len`.
    ///
    /// A length beyond the address's width (32 or 128) is taken as the full width.
    pub fn prefix(addr: IpAddr, len: u8) -> Self {
        let len = len.min(match addr {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        });
        Scope::rule(Rule::Prefix { addr, len })
    }

    /// Services for which `owns` returns true.
    pub fn matching(owns: impl Fn(&ServiceKey) -> bool + Send + Sync + 'static) -> Self {
        Scope::rule(Rule::Matching(Arc::new(owns)))
    }

    /// The services of `self` and those of `other`.
    #[must_use = "a builder method returns the combined scope"]
    pub fn or(mut self, other: Scope) -> Self {
        self.rules.extend(other.rules);
        self
    }

    /// Whether the caller owns `key` beyond the desired state.
    pub fn contains(&self, key: &ServiceKey) -> bool {
        self.rules.iter().any(|rule| rule.contains(key))
    }

    fn rule(rule: Rule) -> Self {
        Scope { rules: vec![rule] }
    }
}

impl Rule {
    fn contains(&self, key: &ServiceKey) -> bool {
        match (self, key) {
            (Rule::All, _) => true,
            (Rule::Keys(keys), key) => keys.binary_search(key).is_ok(),
            (Rule::Fwmarks(marks), ServiceKey::Fwmark { mark, .. }) => marks.contains(mark),
            (Rule::Prefix { addr, len }, ServiceKey::Inet { addr: vip, .. }) => {
                in_prefix(vip, addr, *len)
            }
            (Rule::Matching(owns), key) => owns(key),
            _ => false,
        }
    }
}

fn in_prefix(addr: &IpAddr, net: &IpAddr, len: u8) -> bool {
    match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            u32::from(*a) & mask == u32::from(*n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            u128::from(*a) & mask == u128::from(*n) & mask
        }
        _ => false,
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for rule in &self.rules {
            match rule {
                Rule::All => list.entry(&"all"),
                Rule::Keys(keys) => list.entry(keys),
                Rule::Fwmarks(marks) => list.entry(marks),
                Rule::Prefix { addr, len } => list.entry(&format_args!("{addr}/{len}")),
                Rule::Matching(_) => list.entry(&"matching(..)"),
            };
        }
        list.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AddressFamily;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn tcp(a: [u8; 4], port: u16) -> ServiceKey {
        ServiceKey::tcp(Ipv4Addr::from(a), port)
    }

    #[test]
    fn desired_scope_owns_nothing_else() {
        assert!(!Scope::desired().contains(&tcp([10, 0, 0, 1], 80)));
        assert!(Scope::all().contains(&tcp([10, 0, 0, 1], 80)));
    }

    #[test]
    fn keys_match_exactly() {
        let scope = Scope::keys([tcp([10, 0, 0, 1], 80), tcp([10, 0, 0, 2], 80)]);
        assert!(scope.contains(&tcp([10, 0, 0, 2], 80)));
        assert!(!scope.contains(&tcp([10, 0, 0, 2], 81)));
        assert!(!scope.contains(&ServiceKey::udp(Ipv4Addr::new(10, 0, 0, 1), 80)));
    }

    #[test]
    fn prefixes_match_by_family_and_bits() {
        let v4 = Scope::prefix(Ipv4Addr::new(10, 96, 0, 0).into(), 12);
        assert!(v4.contains(&tcp([10, 111, 255, 255], 1)));
        assert!(!v4.contains(&tcp([10, 112, 0, 0], 1)));
        assert!(!v4.contains(&ServiceKey::fwmark(1, AddressFamily::Inet)));
        let v6 = Scope::prefix("fd00::".parse::<Ipv6Addr>().unwrap().into(), 8);
        assert!(v6.contains(&ServiceKey::udp("fd12::1".parse::<Ipv6Addr>().unwrap(), 53)));
        assert!(!v6.contains(&tcp([10, 0, 0, 1], 80)));
        let everything = Scope::prefix(Ipv4Addr::UNSPECIFIED.into(), 0);
        assert!(everything.contains(&tcp([255, 1, 2, 3], 9)));
        let host = Scope::prefix(Ipv4Addr::new(10, 0, 0, 1).into(), 99);
        assert!(host.contains(&tcp([10, 0, 0, 1], 9)));
        assert!(!host.contains(&tcp([10, 0, 0, 0], 9)));
    }

    #[test]
    fn fwmarks_predicates_and_unions() {
        let scope = Scope::fwmarks(10..=20).or(Scope::matching(|k| {
            matches!(k, ServiceKey::Inet { port: 8080, .. })
        }));
        assert!(scope.contains(&ServiceKey::fwmark(10, AddressFamily::Inet6)));
        assert!(!scope.contains(&ServiceKey::fwmark(21, AddressFamily::Inet)));
        assert!(scope.contains(&tcp([1, 2, 3, 4], 8080)));
        assert!(!scope.contains(&tcp([1, 2, 3, 4], 80)));
        assert!(format!("{scope:?}").contains("10..=20"));
    }
}
