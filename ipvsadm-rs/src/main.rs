//! ipvsadm-rs: see the library crate and docs/ipvsadm-rs.md.
//!
//! The program starts as a C program does, without the standard library's start-up, which
//! would ignore SIGPIPE: like ipvsadm it dies quietly of SIGPIPE when its reader goes away
//! (`| head`), and gets EPIPE (reported, see `stdout`) when its parent made it ignore SIGPIPE.

// The test harness brings its own `main`.
#![cfg_attr(not(test), no_main)]

#[cfg(not(test))]
use std::ffi::{c_char, c_int, CStr};

#[cfg(not(test))]
#[no_mangle]
extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    let args = (0..usize::try_from(argc).unwrap_or(0))
        .map(|i| {
            // SAFETY: the C runtime passes argc valid NUL-terminated strings in argv.
            let arg = unsafe { CStr::from_ptr(*argv.add(i)) };
            ipvsadm_rs::from_bytes(arg.to_bytes()).into_owned()
        })
        .collect();
    std::process::exit(ipvsadm_rs::run(args));
}
