//! IPVS settings against the real kernel: read, written, refused, and kept per namespace.
#![cfg(feature = "kernel-tests")]

use ipvs_rs::{Error, Handle, Netns, Sysctl};

#[test]
fn settings_are_read_written_and_kept_per_namespace() {
    testkit::kernel_test();
    // IPVS creates a namespace's settings with its first use there.
    Handle::new().unwrap();
    let here = Netns::Current;
    assert_eq!(Sysctl::CONNTRACK.read(&here).unwrap(), "0");
    for (setting, value) in [
        (Sysctl::CONNTRACK, "1"),
        (Sysctl::EXPIRE_NODEST_CONN, "1"),
        (Sysctl::EXPIRE_QUIESCENT_TEMPLATE, "1"),
        (Sysctl::CONN_REUSE_MODE, "0"),
        (Sysctl::SLOPPY_TCP, "1"),
    ] {
        setting.write(&here, value).unwrap();
        assert_eq!(setting.read(&here).unwrap(), value, "{setting}");
        // The file says the same: the library wrote where the kernel reads.
        let file = std::fs::read_to_string(setting.path()).unwrap();
        assert_eq!(file.trim_end(), value, "{setting}");
    }
    // Several numbers keep the kernel's separator.
    let threshold: Sysctl = "net.ipv4.vs.sync_threshold".parse().unwrap();
    assert_eq!(threshold.read(&here).unwrap(), "3\t50");

    // Another namespace has its own values, read from here without moving this thread.
    let other = std::thread::spawn(|| {
        testkit::isolate_netns().unwrap();
        Handle::new().unwrap();
        std::fs::File::open("/proc/thread-self/ns/net").unwrap()
    })
    .join()
    .unwrap();
    let other = Netns::Fd(std::os::fd::AsRawFd::as_raw_fd(&other));
    assert_eq!(Sysctl::CONNTRACK.read(&other).unwrap(), "0");
    Sysctl::CONN_REUSE_MODE.write(&other, "2").unwrap();
    assert_eq!(Sysctl::CONN_REUSE_MODE.read(&other).unwrap(), "2");
    assert_eq!(Sysctl::CONN_REUSE_MODE.read(&here).unwrap(), "0");
    assert_eq!(Sysctl::CONNTRACK.read(&here).unwrap(), "1");

    // Refusals name the setting and keep the kernel's errno.
    let refused = Sysctl::CONNTRACK.write(&here, "lots").unwrap_err();
    assert_eq!(refused.errno(), Some(libc::EINVAL), "{refused}");
    assert!(
        refused.to_string().contains("net.ipv4.vs.conntrack")
            && refused.to_string().contains("refused the value"),
        "{refused}"
    );
    assert_eq!(Sysctl::CONNTRACK.read(&here).unwrap(), "1");
    let unknown = Sysctl::named("no_such_setting").unwrap();
    match unknown.read(&here) {
        Err(Error::Sysctl { source, .. }) => {
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound)
        }
        other => panic!("expected Error::Sysctl, got {other:?}"),
    }
}
