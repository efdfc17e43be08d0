//! `FakeIpvs` checks requests as `Handle` does before sending them, so code tested against the
//! fake meets the same `Error::Invalid` it meets in production; with the checks off it answers
//! as the kernel does.

use std::net::Ipv4Addr;

use ipvs_rs::fake::FakeIpvs;
use ipvs_rs::{Batch, Destination, Error, Forwarding, Ipvs, Service, ServiceKey, Violation};

fn vip() -> ServiceKey {
    ServiceKey::tcp(Ipv4Addr::new(10, 0, 0, 1), 80)
}

/// Direct routing cannot change the port: ipvsadm forces the service's, the library refuses.
fn routed_elsewhere() -> Destination {
    Destination::new(Ipv4Addr::new(192, 168, 1, 1), 9999).with_forwarding(Forwarding::Route)
}

#[test]
fn an_invalid_request_is_refused_and_changes_nothing() {
    let ipvs = FakeIpvs::new();
    ipvs.add_service(&Service::new(vip())).unwrap();
    let err = ipvs
        .add_destination(&vip(), &routed_elsewhere())
        .unwrap_err();
    let invalid = err.invalid().expect("Error::Invalid");
    assert!(matches!(
        invalid.violation,
        Violation::ForwardedPort {
            service_port: 80,
            ..
        }
    ));
    assert!(ipvs.destinations(&vip()).unwrap().is_empty());
}

#[test]
fn a_batch_with_an_invalid_request_sends_nothing() {
    let ipvs = FakeIpvs::new();
    let mut batch = Batch::new();
    batch
        .add_service(Service::new(vip()))
        .add_destination(vip(), routed_elsewhere());
    let results = ipvs.apply(&batch);
    assert!(matches!(results[0], Err(Error::NotSent { index: 1 })));
    assert!(matches!(results[1], Err(Error::Invalid(_))));
    assert!(ipvs.services().unwrap().is_empty());
}

#[test]
fn with_checks_off_the_fake_stores_what_the_kernel_stores() {
    let ipvs = FakeIpvs::new();
    ipvs.set_validation(false);
    ipvs.add_service(&Service::new(vip())).unwrap();
    ipvs.add_destination(&vip(), &routed_elsewhere()).unwrap();
    assert_eq!(ipvs.destinations(&vip()).unwrap()[0].port, 9999);
}
