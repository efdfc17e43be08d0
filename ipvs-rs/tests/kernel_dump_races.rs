//! Dumps while another namespace writes.
//!
//! The kernel's service dump resumes by position in a table that every namespace shares, so a
//! writer in another namespace makes it repeat or skip this namespace's entries. These tests
//! run alone in their binary: their writer would disturb other tests' dumps.
#![cfg(feature = "kernel-tests")]

mod support;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};

use ipvs_rs::{Handle, Service, ServiceKey};
use support::{handle, v4};

/// Stops the writer even when an assertion fails.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

#[test]
fn dumps_never_repeat_and_listings_stay_complete_while_another_namespace_writes() {
    let ipvs = handle();
    let keys: BTreeSet<_> = (1..=300)
        .map(|port| ServiceKey::tcp(v4(10, 7, 0, 1), port))
        .collect();
    for key in &keys {
        ipvs.add_service(&Service::new(*key)).unwrap();
    }
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            testkit::isolate_netns().unwrap();
            let writer = Handle::new().unwrap();
            while !stop.load(Ordering::Relaxed) {
                for port in 1..=200 {
                    writer
                        .add_service(&Service::new(ServiceKey::udp(v4(10, 8, 0, 1), port)))
                        .unwrap();
                }
                writer.flush().unwrap();
            }
        });
        let _stop = StopOnDrop(&stop);
        let mut incomplete = 0;
        for _ in 0..15 {
            let streamed: Vec<_> = ipvs
                .services_iter()
                .unwrap()
                .map(|s| s.unwrap().key)
                .collect();
            let unique: BTreeSet<_> = streamed.iter().copied().collect();
            assert_eq!(unique.len(), streamed.len(), "a service was streamed twice");
            assert!(
                unique.is_subset(&keys),
                "a service of another namespace was listed"
            );

            let listed: BTreeSet<_> = ipvs
                .services()
                .unwrap()
                .into_iter()
                .map(|s| s.key)
                .collect();
            assert!(listed.is_subset(&keys), "services() invented a service");
            if listed != keys {
                incomplete += 1;
            }
        }
        // Against a writer that never pauses, merging twenty passes almost always completes
        // the listing (about one call in 150 still missed a stretch in 6.1 under TCG): best
        // effort, as documented, but far from a single pass.
        assert!(
            incomplete <= 2,
            "{incomplete} of 15 services() calls were incomplete"
        );
    });
    assert_eq!(ipvs.service_count().unwrap(), 300);
}
