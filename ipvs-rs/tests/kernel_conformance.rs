//! The conformance suite against the kernel, through a `Handle` in a fresh namespace per test
//! (`fake_conformance.rs` runs the same suite against `FakeIpvs` on the host).
#![cfg(feature = "kernel-tests")]

#[macro_use]
mod conformance;
mod support;

/// A handle with a patient timeout: stopping a sync daemon releases its multicast socket
/// under the global RTNL lock, which the teardown of other tests' namespaces holds for long
/// stretches under TCG (a 30 s wait ran out there).
fn patient_handle() -> ipvs_rs::Handle {
    let ipvs = support::handle();
    // The sync interface the suite's daemons use (in the test's own namespace).
    let peer = format!("{}p", conformance::SYNC_IF);
    support::run(
        "ip",
        &[
            "link",
            "add",
            conformance::SYNC_IF,
            "type",
            "veth",
            "peer",
            "name",
            &peer,
        ],
    );
    support::run("ip", &["link", "set", conformance::SYNC_IF, "up"]);
    ipvs.set_timeout(Some(std::time::Duration::from_secs(300)))
        .unwrap();
    // The suite holds the kernel's own rules, not the library's checks before sending.
    ipvs.set_validation(false);
    ipvs
}

conformance_tests!(patient_handle());
