//! The [`Ipvs`](crate::Ipvs) operations as futures, for async code that runs against the
//! kernel or a fake.

use std::future::{ready, Future, Ready};
use std::task::{Context, Poll, Waker};

use crate::{
    Batch, Daemon, Destination, Info, Ipvs, Request, Result, Service, ServiceKey, Timeouts,
};

/// What can be done with an IPVS table, asynchronously: implemented by
/// `AsyncHandle` (feature `tokio`) and by
/// [`FakeIpvs`](crate::fake::FakeIpvs), whose futures are ready at once.
///
/// Each method means what the [`Ipvs`] method of the same name means; writes go through
/// [`execute`](AsyncIpvs::execute) with a [`Request`]. Every future is `Send`, so generic code
/// can run in spawned tasks. [`reconcile_async`](crate::reconcile::reconcile_async) takes any
/// `AsyncIpvs`.
///
/// ```
/// use ipvs_rs::fake::FakeIpvs;
/// use ipvs_rs::{AsyncIpvs, Request, Result, Service, ServiceKey};
///
/// async fn ensure(ipvs: &impl AsyncIpvs, key: ServiceKey) -> Result<()> {
///     if ipvs.services().await?.iter().all(|s| s.key != key) {
///         ipvs.execute(&Request::AddService(Service::new(key))).await?;
///     }
///     Ok(())
/// }
///
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// let fake = FakeIpvs::new();
/// ensure(&fake, ServiceKey::tcp([10, 0, 0, 1], 80)).await?;
/// ensure(&fake, ServiceKey::tcp([10, 0, 0, 1], 80)).await?;
/// assert_eq!(AsyncIpvs::services(&fake).await?.len(), 1);
/// # Ok::<(), ipvs_rs::Error>(())
/// # }).unwrap();
/// ```
pub trait AsyncIpvs {
    /// Sends one write request.
    fn execute(&self, request: &Request) -> impl Future<Output = Result<()>> + Send;
    /// Every service (checked complete on the kernel).
    fn services(&self) -> impl Future<Output = Result<Vec<Service>>> + Send;
    /// One service, or [`Error::NoSuchService`](crate::Error::NoSuchService).
    fn service(&self, key: &ServiceKey) -> impl Future<Output = Result<Service>> + Send;
    /// The destinations of a service; an unknown service has none.
    fn destinations(
        &self,
        key: &ServiceKey,
    ) -> impl Future<Output = Result<Vec<Destination>>> + Send;
    /// The number of services.
    fn service_count(&self) -> impl Future<Output = Result<u32>> + Send;
    /// The IPVS version and connection table size.
    fn info(&self) -> impl Future<Output = Result<Info>> + Send;
    /// The TCP, TCP FIN and UDP timeouts.
    fn timeouts(&self) -> impl Future<Output = Result<Timeouts>> + Send;
    /// The running sync daemons.
    fn daemons(&self) -> impl Future<Output = Result<Vec<Daemon>>> + Send;
    /// Runs every request of `batch` in order, one result per request; **not atomic**.
    fn apply(&self, batch: &Batch) -> impl Future<Output = Vec<Result<()>>> + Send;
}

/// A blocking [`Ipvs`] seen as an [`AsyncIpvs`] whose futures are ready at once: how the
/// blocking reconcile runs the same code as the async one.
pub(crate) struct Blocking<'a, I: ?Sized>(pub(crate) &'a I);

// Refined to `Ready`: nothing outside the crate sees this impl.
#[allow(refining_impl_trait)]
impl<I: Ipvs + ?Sized> AsyncIpvs for Blocking<'_, I> {
    fn execute(&self, request: &Request) -> Ready<Result<()>> {
        ready(self.0.execute(request))
    }
    fn services(&self) -> Ready<Result<Vec<Service>>> {
        ready(self.0.services())
    }
    fn service(&self, key: &ServiceKey) -> Ready<Result<Service>> {
        ready(self.0.service(key))
    }
    fn destinations(&self, key: &ServiceKey) -> Ready<Result<Vec<Destination>>> {
        ready(self.0.destinations(key))
    }
    fn service_count(&self) -> Ready<Result<u32>> {
        ready(self.0.service_count())
    }
    fn info(&self) -> Ready<Result<Info>> {
        ready(self.0.info())
    }
    fn timeouts(&self) -> Ready<Result<Timeouts>> {
        ready(self.0.timeouts())
    }
    fn daemons(&self) -> Ready<Result<Vec<Daemon>>> {
        ready(self.0.daemons())
    }
    fn apply(&self, batch: &Batch) -> Ready<Vec<Result<()>>> {
        ready(self.0.apply(batch))
    }
}

/// The output of a future that only ever awaits ready futures ([`Blocking`]'s).
pub(crate) fn now<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => unreachable!("a future awaiting only ready futures was pending"),
    }
}
