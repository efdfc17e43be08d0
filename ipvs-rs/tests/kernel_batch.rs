//! Batched writes against the real kernel.
#![cfg(feature = "kernel-tests")]

mod support;

use ipvs_rs::{Batch, Destination, Error, Request, Scheduler, Service, ServiceKey};
use support::{handle, v4};

#[test]
fn each_error_is_attributed_to_its_request_and_the_rest_applies() {
    let ipvs = handle();
    let a = ServiceKey::tcp(v4(10, 40, 0, 1), 80);
    let missing = ServiceKey::tcp(v4(10, 40, 0, 2), 80);
    let c = ServiceKey::udp(v4(10, 40, 0, 3), 53);
    let mut batch = Batch::new();
    batch
        .add_service(Service::new(a))
        .add_service(Service::new(a))
        .add_destination(a, Destination::new(v4(10, 40, 1, 1), 80))
        .add_destination(missing, Destination::new(v4(10, 40, 1, 1), 80))
        .add_service(Service::new(missing).with_scheduler(Scheduler::Other("nosuchsched".into())))
        .add_service(Service::new(c))
        .delete_destination(a, Destination::new(v4(10, 40, 1, 9), 80));
    let results = ipvs.apply(&batch);
    assert_eq!(results.len(), 7);
    assert!(results[0].is_ok(), "{:?}", results[0]);
    assert!(
        matches!(results[1], Err(Error::ServiceExists)),
        "{:?}",
        results[1]
    );
    assert!(results[2].is_ok(), "{:?}", results[2]);
    assert!(
        matches!(results[3], Err(Error::NoSuchService)),
        "{:?}",
        results[3]
    );
    assert!(
        matches!(results[4], Err(Error::SchedulerNotFound { .. })),
        "{:?}",
        results[4]
    );
    assert!(results[5].is_ok(), "{:?}", results[5]);
    assert!(
        matches!(results[6], Err(Error::NoSuchDestination)),
        "{:?}",
        results[6]
    );
    // Not atomic: what succeeded is in the table despite the failures around it.
    let mut keys: Vec<_> = ipvs
        .services()
        .unwrap()
        .into_iter()
        .map(|s| s.key)
        .collect();
    keys.sort();
    assert_eq!(keys, vec![a, c]);
    assert_eq!(ipvs.destinations(&a).unwrap().len(), 1);
}

#[test]
fn large_batches_span_many_sendmsg_calls() {
    let ipvs = handle();
    let keys: Vec<_> = (0..2000u16)
        .map(|i| ServiceKey::tcp(v4(10, 50, (i / 250) as u8, (i % 250) as u8 + 1), 80))
        .collect();
    let mut batch = Batch::new();
    for key in &keys {
        batch.add_service(Service::new(*key));
        for host in 1..=4 {
            batch.add_destination(*key, Destination::new(v4(10, 60, 0, host), 80));
        }
    }
    let results = ipvs.apply(&batch);
    assert_eq!(results.len(), 10_000);
    assert!(
        results.iter().all(Result::is_ok),
        "{:?}",
        results.iter().find(|r| r.is_err())
    );
    assert_eq!(ipvs.services().unwrap().len(), 2000);
    assert_eq!(ipvs.destinations(&keys[1999]).unwrap().len(), 4);

    let deletes: Batch = keys.iter().map(|k| Request::DeleteService(*k)).collect();
    assert!(ipvs.apply(&deletes).into_iter().all(|r| r.is_ok()));
    assert!(ipvs.services().unwrap().is_empty());
    assert!(ipvs.apply(&Batch::new()).is_empty());
}
