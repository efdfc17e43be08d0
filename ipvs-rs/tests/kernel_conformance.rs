//! The conformance suite against the kernel, through a `Handle` in a fresh namespace per test
//! (`fake_conformance.rs` runs the same suite against `FakeIpvs` on the host).
#![cfg(feature = "kernel-tests")]

#[macro_use]
mod conformance;
mod support;

conformance_tests!(support::handle());
