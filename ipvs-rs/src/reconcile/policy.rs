//! How a reconcile removes what is no longer desired, and how much it may remove at once.

/// What happens to a real server (destination) that a desired service no longer has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Removal {
    /// Delete it at once; its connections are cut.
    #[default]
    Delete,
    /// Drain it first, as kube-proxy's graceful termination does: its weight becomes 0, so the
    /// scheduler sends it no new connections, and a later reconcile deletes it once the kernel
    /// counts no active and no inactive connections on it. Nothing is remembered between
    /// reconciles: a destination that is not desired, has weight 0 and no connections is
    /// deleted; one with weight 0 and connections is left alone (see
    /// [`Plan::draining`](super::Plan::draining)).
    ///
    /// Services that are no longer desired are still deleted at once (with their
    /// destinations); drain their destinations first by keeping the service desired with no
    /// destinations.
    Drain,
}

/// The rules a plan is computed with: [`Policy::default`] deletes at once, without limit.
///
/// ```
/// use ipvs_rs::reconcile::{Policy, Removal};
/// let policy = Policy::default().with_removal(Removal::Drain).with_max_deletes(5);
/// assert_eq!(policy.max_deletes, Some(5));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    /// What happens to destinations that are no longer desired.
    pub removal: Removal,
    /// At most this many deletes (of services and destinations) per run; the rest wait for a
    /// later run ([`Plan::cap_deletes`](super::Plan::cap_deletes)).
    pub max_deletes: Option<usize>,
}

impl Policy {
    /// Sets how undesired destinations are removed.
    #[must_use]
    pub fn with_removal(mut self, removal: Removal) -> Self {
        self.removal = removal;
        self
    }

    /// Caps the deletes of one run.
    #[must_use]
    pub fn with_max_deletes(mut self, max: usize) -> Self {
        self.max_deletes = Some(max);
        self
    }
}
