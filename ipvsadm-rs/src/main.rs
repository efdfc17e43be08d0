//! ipvsadm-rs: see the library crate and docs/ipvsadm-rs.md.

fn main() {
    // Like a C program, die quietly of SIGPIPE when the reader goes away (`| head`),
    // instead of reporting a write error.
    // SAFETY: setting a signal's disposition to the default has no preconditions.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    use std::os::unix::ffi::OsStrExt;
    let args = std::env::args_os()
        .map(|a| ipvsadm_rs::from_bytes(a.as_bytes()).into_owned())
        .collect();
    std::process::exit(ipvsadm_rs::run(args));
}
