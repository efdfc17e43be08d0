//! Handles in other namespaces, from several threads, and without CAP_NET_ADMIN.
#![cfg(feature = "kernel-tests")]

mod support;

use std::path::PathBuf;
use std::process::Command;

use ipvs_rs::{Error, Handle, Netns, Service, ServiceKey};
use support::{handle, run, v4};

fn own_netns() -> PathBuf {
    std::fs::read_link("/proc/thread-self/ns/net").unwrap()
}

/// A named namespace (`ip netns add`), deleted on drop.
struct NamedNs(String);

impl NamedNs {
    fn new(tag: &str) -> Self {
        let name = format!("ipvsrs-{}-{tag}", std::process::id());
        run("ip", &["netns", "add", &name]);
        NamedNs(name)
    }
}

impl Drop for NamedNs {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

#[test]
fn handles_in_named_path_and_pid_namespaces() {
    let own = handle();
    let before = own_netns();
    let ns = NamedNs::new("lb");
    let lb = Handle::open_in_netns(&Netns::Named(ns.0.clone())).unwrap();
    assert_eq!(own_netns(), before, "the calling thread moved");

    let key = ServiceKey::tcp(v4(192, 168, 0, 10), 80);
    lb.add_service(&Service::new(key)).unwrap();
    assert!(
        own.services().unwrap().is_empty(),
        "the service leaked into the caller's namespace"
    );
    assert_eq!(lb.services().unwrap().len(), 1);

    let by_path =
        Handle::open_in_netns(&Netns::Path(format!("/run/netns/{}", ns.0).into())).unwrap();
    assert_eq!(by_path.service(&key).unwrap().key, key);

    // A namespace the caller holds open as a file descriptor.
    let file = std::fs::File::open(format!("/run/netns/{}", ns.0)).unwrap();
    let by_fd = Handle::open_in_netns(&Netns::Fd(std::os::fd::AsRawFd::as_raw_fd(&file))).unwrap();
    drop(file);
    assert_eq!(by_fd.service(&key).unwrap().key, key);
    assert_eq!(own_netns(), before, "the calling thread moved");

    // The caller's own namespace, with the module already loaded: open_or_load just opens.
    let current = Handle::open_or_load(&Netns::Current).unwrap();
    assert!(current.services().unwrap().is_empty());
    let loaded = Handle::open_or_load(&Netns::Named(ns.0.clone())).unwrap();
    assert_eq!(loaded.service(&key).unwrap().key, key);

    let mut sleeper = Command::new("ip")
        .args(["netns", "exec", &ns.0, "sleep", "30"])
        .spawn()
        .unwrap();
    // `ip netns exec` enters the namespace before it execs sleep; wait until it has.
    let pid = sleeper.id();
    let target = std::fs::read_link(format!("/run/netns/{}", ns.0)).ok();
    let ns_of_pid = || {
        std::fs::metadata(format!("/proc/{pid}/ns/net"))
            .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
    };
    let want = std::fs::metadata(format!("/run/netns/{}", ns.0))
        .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
        .unwrap();
    for _ in 0..100 {
        if ns_of_pid().ok() == Some(want) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let by_pid = Handle::open_in_netns(&Netns::Pid(pid)).unwrap();
    assert_eq!(by_pid.services().unwrap().len(), 1, "{target:?}");
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();
    assert_eq!(own_netns(), before);

    match Handle::open_in_netns(&Netns::Named("ipvsrs-no-such-namespace".into())) {
        Err(Error::Netns { path, .. }) => {
            assert_eq!(path, PathBuf::from("/run/netns/ipvsrs-no-such-namespace"))
        }
        other => panic!("unexpected {:?}", other.map(|_| ())),
    }
}

#[test]
fn threads_share_a_handle_without_mixing_replies() {
    let ipvs = handle();
    std::thread::scope(|scope| {
        for t in 0..4u8 {
            let ipvs = &ipvs;
            scope.spawn(move || {
                for port in 1..=150 {
                    let key = ServiceKey::tcp(v4(10, 30, 0, t), port);
                    ipvs.add_service(&Service::new(key)).unwrap();
                    assert_eq!(ipvs.service(&key).unwrap().key, key);
                }
            });
        }
        scope.spawn(|| {
            for _ in 0..20 {
                for svc in ipvs.services_iter().unwrap() {
                    let key = svc.unwrap().key;
                    assert!(matches!(key, ServiceKey::Inet { .. }));
                }
            }
        });
    });
    assert_eq!(ipvs.services().unwrap().len(), 600);
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Default, Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Drops every capability of the calling thread only (the raw syscall is per thread).
fn drop_thread_capabilities() {
    let header = CapHeader {
        version: 0x2008_0522,
        pid: 0,
    };
    let data = [CapData::default(); 2];
    // SAFETY: header and data are valid capset arguments for version 3.
    let rc = unsafe { libc::syscall(libc::SYS_capset, &header, data.as_ptr()) };
    assert_eq!(rc, 0, "capset: {}", std::io::Error::last_os_error());
}

#[test]
fn without_cap_net_admin_permission_is_denied() {
    let _ = handle();
    std::thread::spawn(|| {
        drop_thread_capabilities();
        let ipvs = Handle::new().expect("the family lookup needs no capability");
        assert!(matches!(ipvs.services(), Err(Error::PermissionDenied)));
        let err = ipvs
            .add_service(&Service::new(ServiceKey::tcp(v4(10, 0, 0, 1), 80)))
            .unwrap_err();
        assert!(matches!(err, Error::PermissionDenied));
        assert!(err.to_string().contains("CAP_NET_ADMIN"), "{err}");
    })
    .join()
    .unwrap();
}
