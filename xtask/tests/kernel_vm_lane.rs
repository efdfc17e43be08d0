//! The VM lane's guarantees, checked from inside the guest (`cargo xtask test` runs this in
//! the VM; see docs/testing.md).
#![cfg(feature = "kernel-tests")]

use std::fs;
use std::path::Path;
use std::process::Command;

fn run(program: &Path, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{} {args:?} failed: {}",
        program.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn ip_vs_loads_and_the_kernel_loads_schedulers_on_demand() {
    testkit::kernel_test();
    // kernel_test() preloads every scheduler; unload rr so the kernel itself must load it.
    let unload = Command::new("modprobe")
        .args(["-r", "ip_vs_rr"])
        .status()
        .unwrap();
    assert!(
        unload.success(),
        "cannot unload ip_vs_rr to test on-demand loading"
    );
    let ipvsadm = testkit::reference_ipvsadm();
    run(ipvsadm, &["-A", "-t", "192.168.0.10:80", "-s", "rr"]);
    run(
        ipvsadm,
        &["-a", "-t", "192.168.0.10:80", "-r", "192.168.0.3", "-g"],
    );
    let modules = fs::read_to_string("/proc/modules").unwrap();
    assert!(
        modules.lines().any(|line| line.starts_with("ip_vs_rr ")),
        "ip_vs_rr is not loaded:\n{modules}"
    );
    let listing = run(ipvsadm, &["-Ln"]);
    assert!(
        listing.contains("TCP  192.168.0.10:80 rr") && listing.contains("192.168.0.3:80"),
        "unexpected listing:\n{listing}"
    );
    assert!(listing.contains("Route"), "unexpected listing:\n{listing}");
}

#[test]
fn the_kernel_module_helper_is_the_hosts_modprobe() {
    testkit::kernel_test();
    let helper = fs::read_to_string("/proc/sys/kernel/modprobe").unwrap();
    assert_eq!(helper.trim(), "/sbin/modprobe");
    let release = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let modules = Path::new("/lib/modules").join(release.trim());
    assert!(
        modules.join("modules.dep").exists(),
        "no module tree at {}",
        modules.display()
    );
}

#[test]
fn tmp_is_writable_and_the_host_filesystem_is_not() {
    testkit::kernel_test();
    let scratch = std::env::temp_dir().join(format!("vm-lane-{}", std::process::id()));
    fs::write(&scratch, b"x").unwrap();
    assert_eq!(fs::read(&scratch).unwrap(), b"x");
    fs::remove_file(&scratch).unwrap();
    // The host's root, read-only over 9p (unlike /tmp, which has a writable layer).
    let host_file = Path::new("/vm-lane-write-probe");
    let err = fs::write(host_file, b"x").unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EROFS), "{err}");
}

#[test]
fn lo_is_up_in_the_initial_namespace_and_ip_netns_works() {
    testkit::kernel_test();
    // sysfs was mounted in the initial namespace, so it shows that namespace's lo.
    let flags = fs::read_to_string("/sys/class/net/lo/flags").unwrap();
    let flags = u32::from_str_radix(flags.trim().trim_start_matches("0x"), 16).unwrap();
    assert_eq!(flags & 1, 1, "lo is down (flags {flags:#x})");
    let name = format!("vm-lane-{}", std::process::id());
    let ip = Path::new("/sbin/ip");
    run(ip, &["netns", "add", &name]);
    let listed = run(ip, &["netns", "list"]);
    run(ip, &["netns", "delete", &name]);
    assert!(listed.contains(&name), "{name} missing from:\n{listed}");
}
