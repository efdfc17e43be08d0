//! AsyncHandle against the real kernel: many tasks on one handle, dumps dropped halfway,
//! cancelled futures, and a one-thread runtime that keeps running while IPVS works.
#![cfg(feature = "kernel-tests")]

mod support;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use ipvs_rs::{
    AsyncHandle, Batch, Daemon, DaemonState, Destination, Error, Netns, Service, ServiceKey,
    Timeouts,
};
use support::v4;

fn key(n: u16) -> ServiceKey {
    ServiceKey::tcp(v4(10, 1, (n >> 8) as u8, n as u8), 80)
}

fn dest(n: u16) -> Destination {
    Destination::new(v4(192, 168, (n >> 8) as u8, n as u8), 80)
}

/// A multi-thread runtime in the test's own namespace (its worker threads are spawned after
/// `kernel_test()` moved this thread, so they share the namespace).
fn multi_thread() -> tokio::runtime::Runtime {
    testkit::kernel_test();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn one_thread() -> tokio::runtime::Runtime {
    testkit::kernel_test();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn many_tasks_share_one_handle() {
    multi_thread().block_on(async {
        let ipvs = Arc::new(AsyncHandle::new().await.unwrap());
        let mut tasks = Vec::new();
        for t in 0..8u16 {
            let ipvs = ipvs.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..10 {
                    let k = key(t * 10 + i);
                    ipvs.add_service(&Service::new(k)).await.unwrap();
                    for d in 0..3 {
                        ipvs.add_destination(&k, &dest(d)).await.unwrap();
                    }
                    assert_eq!(ipvs.destinations(&k).await.unwrap().len(), 3);
                    assert!(matches!(
                        ipvs.add_service(&Service::new(k)).await,
                        Err(Error::ServiceExists)
                    ));
                    // A dump of the whole table while the other tasks write.
                    let seen = ipvs.services().await.unwrap();
                    assert!(seen.iter().any(|s| s.key == k));
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let keys: BTreeSet<_> = ipvs
            .services()
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.key)
            .collect();
        assert_eq!(keys, (0..80).map(key).collect());
        assert_eq!(ipvs.service_count().await.unwrap(), 80);
    });
}

#[test]
fn a_dump_dropped_halfway_leaves_the_handle_ready() {
    multi_thread().block_on(async {
        let ipvs = AsyncHandle::new().await.unwrap();
        ipvs.add_service(&Service::new(key(1))).await.unwrap();
        // Several page-sized datagrams of destinations, and a service dump of several 32 KiB
        // datagrams.
        let mut batch = Batch::new();
        for d in 0..300 {
            batch.add_destination(key(1), dest(d));
        }
        for n in 2..1500 {
            batch.add_service(Service::new(key(n)));
        }
        assert!(ipvs.apply(&batch).await.iter().all(Result::is_ok));

        let mut dests = ipvs.destinations_iter(&key(1)).await.unwrap();
        for _ in 0..3 {
            dests.next().await.unwrap().unwrap();
        }
        drop(dests);
        assert_eq!(ipvs.destinations(&key(1)).await.unwrap().len(), 300);

        let mut services = ipvs.services_iter().await.unwrap();
        services.next().await.unwrap().unwrap();
        drop(services);
        ipvs.add_service(&Service::new(key(1500))).await.unwrap();
        assert_eq!(ipvs.services().await.unwrap().len(), 1500);

        // A future dropped in the middle of its dump (cancelled by a timeout that expires at
        // once), then more requests.
        let cancelled =
            tokio::time::timeout(Duration::from_nanos(1), ipvs.destinations(&key(1))).await;
        assert!(cancelled.is_err(), "the dump finished before its timeout");
        assert_eq!(ipvs.destinations(&key(1)).await.unwrap().len(), 300);
        let mut racing = 0;
        for _ in 0..5 {
            // Dropped wherever the select leaves it.
            tokio::select! {
                all = ipvs.services() => { all.unwrap(); }
                _ = tokio::task::yield_now() => racing += 1,
            }
            assert_eq!(ipvs.service_count().await.unwrap(), 1500);
            assert_eq!(ipvs.service(&key(7)).await.unwrap().key, key(7));
        }
        assert!(racing > 0, "no request was ever cancelled");
    });
}

#[test]
fn the_same_errors_and_values_as_handle() {
    multi_thread().block_on(async {
        let ipvs = AsyncHandle::new().await.unwrap();
        assert_eq!(ipvs.info().await.unwrap().version.to_string(), "1.2.1");
        assert!(matches!(
            ipvs.service(&key(1)).await,
            Err(Error::NoSuchService)
        ));
        ipvs.add_service(&Service::new(key(1))).await.unwrap();
        // Checked before sending, as Handle checks it; with the checks off, the kernel's answer.
        let negative = dest(1).with_weight(-1);
        let refused = ipvs.add_destination(&key(1), &negative).await.unwrap_err();
        assert_eq!(refused.errno(), Some(libc::ERANGE));
        assert!(matches!(refused, Error::Invalid(_)), "{refused}");
        ipvs.set_validation(false);
        assert!(matches!(
            ipvs.add_destination(&key(1), &negative).await,
            Err(Error::Kernel {
                errno: libc::ERANGE,
                ..
            })
        ));
        ipvs.set_validation(true);
        ipvs.set_timeouts(&Timeouts::new(0, 30, 0)).await.unwrap();
        assert_eq!(ipvs.timeouts().await.unwrap(), Timeouts::new(900, 30, 300));
        ipvs.zero(None).await.unwrap();
        ipvs.start_daemon(&Daemon::new(DaemonState::BACKUP, "lo"))
            .await
            .unwrap();
        assert_eq!(ipvs.daemons().await.unwrap().len(), 1);
        assert!(matches!(
            ipvs.start_daemon(&Daemon::new(DaemonState::BACKUP, "lo"))
                .await,
            Err(Error::DaemonRunning)
        ));
        ipvs.stop_daemon(DaemonState::BACKUP).await.unwrap();
        let mut count = 0;
        ipvs.for_each_service(|_| count += 1).await.unwrap();
        assert_eq!(count, 1);
        ipvs.flush().await.unwrap();
        assert!(ipvs.services().await.unwrap().is_empty());
        ipvs.set_timeout(Some(Duration::from_secs(5)))
            .await
            .unwrap();
        assert!(ipvs.services().await.unwrap().is_empty());
    });
}

#[test]
fn opened_in_another_namespace() {
    multi_thread().block_on(async {
        support::run("ip", &["netns", "add", "ipvsrs-async-other"]);
        let other = AsyncHandle::open_in_netns(&Netns::Named("ipvsrs-async-other".into()))
            .await
            .unwrap();
        let here = AsyncHandle::new().await.unwrap();
        other.add_service(&Service::new(key(1))).await.unwrap();
        assert!(here.services().await.unwrap().is_empty());
        assert_eq!(other.services().await.unwrap().len(), 1);
        drop(other);
        support::run("ip", &["netns", "delete", "ipvsrs-async-other"]);
    });
}

/// While a large batch and a large dump are under way, another task on the same single
/// thread keeps being scheduled.
#[test]
fn a_one_thread_runtime_keeps_running_other_tasks() {
    one_thread().block_on(async {
        let ipvs = AsyncHandle::new().await.unwrap();
        let ticks = Arc::new(AtomicU32::new(0));
        let ticker = tokio::spawn({
            let ticks = ticks.clone();
            async move {
                loop {
                    ticks.fetch_add(1, Ordering::Relaxed);
                    tokio::task::yield_now().await;
                }
            }
        });
        let batch: Batch = (0..2000)
            .map(|n| ipvs_rs::Request::AddService(Service::new(key(n))))
            .collect();
        let before = ticks.load(Ordering::Relaxed);
        assert!(ipvs.apply(&batch).await.iter().all(Result::is_ok));
        let during_apply = ticks.load(Ordering::Relaxed) - before;
        let before = ticks.load(Ordering::Relaxed);
        assert_eq!(ipvs.services().await.unwrap().len(), 2000);
        let during_dump = ticks.load(Ordering::Relaxed) - before;
        ticker.abort();
        assert!(
            during_apply > 0 && during_dump > 0,
            "the other task did not run: {during_apply} ticks during the batch, \
             {during_dump} during the dump"
        );
    });
}

/// The reconcile through an `AsyncHandle`, in a spawned task (so its future is `Send`).
#[test]
fn reconcile_in_a_task() {
    use ipvs_rs::reconcile::{self, Scope, Table};
    multi_thread().block_on(async {
        let ipvs = Arc::new(AsyncHandle::new().await.unwrap());
        ipvs.add_service(&Service::new(key(9))).await.unwrap();
        let mut desired = Table::new();
        for n in 1..=3 {
            desired.insert(Service::new(key(n)), (0..4).map(dest));
        }
        let scope = Scope::prefix(v4(10, 1, 0, 0), 16);
        let task = tokio::spawn({
            let ipvs = ipvs.clone();
            let desired = desired.clone();
            async move { reconcile::reconcile_async(&*ipvs, &desired, &scope).await }
        });
        let report = task.await.unwrap().unwrap();
        assert!(report.is_success(), "{report}");
        assert_eq!(report.applied(), 3 + 12 + 1);
        let mut keys: Vec<_> = ipvs
            .services()
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.key)
            .collect();
        keys.sort();
        assert_eq!(keys, [key(1), key(2), key(3)]);
        let again = reconcile::plan_async(&*ipvs, &desired, &Scope::all())
            .await
            .unwrap();
        assert!(again.is_empty(), "{again:?}");
    });
}

/// The cached reconciler on a task: its first sync reads the kernel's table, the next ones
/// work from the cache, re-reading only what they update or delete.
#[test]
fn the_cached_reconciler_syncs_in_a_task() {
    use ipvs_rs::reconcile::{Reconciler, Resync, Scope, Table};
    multi_thread().block_on(async {
        let ipvs = Arc::new(AsyncHandle::new().await.unwrap());
        ipvs.add_service(&Service::new(key(19))).await.unwrap();
        let mut desired = Table::new();
        for n in 11..=13 {
            desired.insert(Service::new(key(n)), (0..3).map(dest));
        }
        let task = tokio::spawn({
            let ipvs = ipvs.clone();
            async move {
                let mut reconciler = Reconciler::new(Scope::prefix(v4(10, 1, 0, 0), 16));
                let first = reconciler.sync_async(&*ipvs, &desired).await.unwrap();
                desired.insert(Service::new(key(12)), [dest(0).with_weight(7)]);
                let second = reconciler.sync_async(&*ipvs, &desired).await.unwrap();
                (first, second)
            }
        });
        let (first, second) = task.await.unwrap();
        assert_eq!(first.resync, Some(Resync::First));
        assert!(first.report.is_success(), "{}", first.report);
        assert_eq!(first.report.applied(), 3 + 9 + 1, "{}", first.report);
        assert_eq!(second.resync, None);
        assert_eq!(second.reverified, 1, "only the edited service is re-read");
        assert!(second.report.is_success(), "{}", second.report);
        let mut left: Vec<_> = ipvs
            .destinations(&key(12))
            .await
            .unwrap()
            .into_iter()
            .map(|d| (d.addr, d.weight))
            .collect();
        left.sort();
        assert_eq!(left, [(dest(0).addr, 7)]);
        assert!(matches!(
            ipvs.service(&key(19)).await,
            Err(Error::NoSuchService)
        ));
    });
}
