//! The conformance suite against the kernel, through a `Handle` in a fresh namespace per test
//! (`fake_conformance.rs` runs the same suite against `FakeIpvs` on the host).
#![cfg(feature = "kernel-tests")]

#[macro_use]
mod conformance;
mod support;

/// A handle in the test's own namespace, with the veth its sync daemons use.
fn handle_with_sync_interface() -> ipvs_rs::Handle {
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
    // The suite holds the kernel's own rules, not the library's checks before sending.
    ipvs.set_validation(false);
    ipvs
}

conformance_tests!(handle_with_sync_interface());
