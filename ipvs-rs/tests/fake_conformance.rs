//! The conformance suite against `FakeIpvs`, on the host (`kernel_conformance.rs` runs the
//! same suite against the kernel).

#[macro_use]
mod conformance;

/// A fake told about the sync interface the kernel side creates.
fn fake() -> ipvs_rs::fake::FakeIpvs {
    let ipvs = ipvs_rs::fake::FakeIpvs::new();
    ipvs.add_interface(conformance::SYNC_IF, 1500);
    // The suite holds the kernel's own rules, not the library's checks before sending.
    ipvs.set_validation(false);
    ipvs
}

conformance_tests!(fake());
