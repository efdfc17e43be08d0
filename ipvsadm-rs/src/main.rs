//! ipvsadm-rs: see the library crate and docs/ipvsadm-rs.md.

fn main() {
    let args = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    std::process::exit(ipvsadm_rs::run::run(args));
}
