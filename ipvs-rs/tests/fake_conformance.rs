//! The conformance suite against `FakeIpvs`, on the host (`kernel_conformance.rs` runs the
//! same suite against the kernel).

#[macro_use]
mod conformance;

conformance_tests!(ipvs_rs::fake::FakeIpvs::new());
