//! The whole table: every service with its destinations, streamed.

use std::vec;

use crate::{Destination, Handle, Ipvs, Result, Service};

/// Services with their destinations, one service at a time: made by [`Ipvs::table`] or
/// [`Ipvs::with_destinations`] (for a [`Handle`], by its methods of the same names).
///
/// The services are read first (checked complete, as [`Handle::services`] does); each
/// service's destinations are then dumped when the iterator reaches it, so only one service's
/// destinations are held at a time. IPVS has no dump of all destinations: this is one service
/// dump plus one destination dump per service, the same kernel work as `ipvsadm -Ln`.
///
/// A service deleted by someone else after the service dump comes with no destinations (the
/// kernel's dump of an unknown service is empty).
pub struct WithDestinations<'h, I: Ipvs + ?Sized = Handle> {
    handle: &'h I,
    services: vec::IntoIter<Service>,
}

impl<'h, I: Ipvs + ?Sized> WithDestinations<'h, I> {
    pub(crate) fn new(handle: &'h I, services: Vec<Service>) -> Self {
        WithDestinations {
            handle,
            services: services.into_iter(),
        }
    }
}

impl<I: Ipvs + ?Sized> Iterator for WithDestinations<'_, I> {
    type Item = Result<(Service, Vec<Destination>)>;

    fn next(&mut self) -> Option<Self::Item> {
        let service = self.services.next()?;
        Some(
            self.handle
                .destinations(&service.key)
                .map(|dests| (service, dests)),
        )
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.services.size_hint()
    }
}

impl<I: Ipvs + ?Sized> ExactSizeIterator for WithDestinations<'_, I> {}

impl Handle {
    /// Every service with its destinations, streamed: the one read to use for a whole table.
    ///
    /// ```no_run
    /// let ipvs = ipvs_rs::Handle::new()?;
    /// for entry in ipvs.table()? {
    ///     let (service, destinations) = entry?;
    ///     println!("{}: {} real servers", service.key, destinations.len());
    /// }
    /// # Ok::<(), ipvs_rs::Error>(())
    /// ```
    pub fn table(&self) -> Result<WithDestinations<'_>> {
        Ok(self.with_destinations(self.services()?))
    }

    /// These services, each with its destinations as the iterator reaches it: for a caller
    /// that filters or sorts the services first (a listing in its own order, a reconcile that
    /// reads only its scope).
    pub fn with_destinations(&self, services: Vec<Service>) -> WithDestinations<'_> {
        WithDestinations::new(self, services)
    }
}
