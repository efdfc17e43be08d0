//! End to end: real TCP data through a director that ipvsadm-rs configures, in the three
//! forwarding modes (direct routing, NAT, IPIP tunnel), on the topology of the kernel's own
//! IPVS selftest (tools/testing/selftests/net/netfilter/ipvs.sh): a client, a director and a
//! real server, each in its own network namespace. With connections in the table, the
//! connection listing (`-c`) and the counters are also compared with the reference ipvsadm
//! in the director's namespace.
#![cfg(feature = "kernel-tests")]

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::time::Duration;

use workspace_tests::clone_binary;

const VIP: &str = "10.0.9.100";
const PORT: u16 = 8080;

/// Named namespaces for one test, deleted when dropped.
struct Lab {
    prefix: String,
    names: Vec<String>,
}

impl Lab {
    fn new(test: &str, roles: &[&str]) -> Lab {
        let prefix = format!("{test}-{}", std::process::id());
        let names: Vec<String> = roles.iter().map(|r| format!("{prefix}-{r}")).collect();
        for n in &names {
            sh(&format!("ip netns add {n}"));
            sh(&format!("ip -n {n} link set lo up"));
        }
        Lab { prefix, names }
    }

    fn ns(&self, role: &str) -> String {
        format!("{}-{role}", self.prefix)
    }

    /// Runs a shell command inside the namespace of `role`.
    fn exec(&self, role: &str, cmd: &str) {
        sh(&format!("ip netns exec {} {cmd}", self.ns(role)));
    }

    /// A veth pair between two roles, with an address on each end that has one.
    fn link(&self, a: &str, a_addr: &str, b: &str, b_addr: &str) {
        let (na, nb) = (self.ns(a), self.ns(b));
        sh(&format!(
            "ip link add {a}{b} netns {na} type veth peer name {b}{a} netns {nb}"
        ));
        sh(&format!("ip -n {na} addr add {a_addr} dev {a}{b}"));
        if !b_addr.is_empty() {
            sh(&format!("ip -n {nb} addr add {b_addr} dev {b}{a}"));
        }
        sh(&format!("ip -n {na} link set {a}{b} up"));
        sh(&format!("ip -n {nb} link set {b}{a} up"));
    }

    /// ipvsadm-rs with `--netns`, in the director's namespace; panics unless it succeeds.
    fn ipvsadm_rs(&self, args: &str) -> String {
        let out = Command::new(clone_binary())
            .arg("--netns")
            .arg(self.ns("director"))
            .args(args.split_whitespace())
            .output()
            .expect("run ipvsadm-rs");
        assert!(
            out.status.success(),
            "ipvsadm-rs {args}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The reference ipvsadm in the director's namespace.
    fn reference(&self, args: &str) -> String {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.ns("director"), "ipvsadm"])
            .args(args.split_whitespace())
            .output()
            .expect("run ipvsadm");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs `f` on a thread inside the namespace of `role`.
    fn within<T: Send>(&self, role: &str, f: impl FnOnce() -> T + Send) -> T {
        let path = format!("/run/netns/{}", self.ns(role));
        std::thread::scope(|s| {
            s.spawn(|| {
                let file = File::open(&path).expect("namespace file");
                // SAFETY: moves only this scoped thread into the namespace.
                assert_eq!(
                    unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) },
                    0,
                    "setns {path}"
                );
                f()
            })
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
        })
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for n in &self.names {
            let _ = Command::new("ip").args(["netns", "del", n]).status();
        }
    }
}

fn sh(cmd: &str) {
    let status = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .status()
        .expect("run sh");
    assert!(status.success(), "failed: {cmd}");
}

/// Serves `conns` connections on the real server: reads the request, answers with it
/// reversed, so the client can tell the data went through both ways.
fn serve(lab: &Lab, bind: &str, conns: usize) -> std::thread::JoinHandle<()> {
    let path = format!("/run/netns/{}", lab.ns("server"));
    let bind: SocketAddr = bind.parse().expect("bind address");
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        let file = File::open(&path).expect("namespace file");
        // SAFETY: moves only this server thread into the namespace.
        assert_eq!(
            unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) },
            0
        );
        let listener = TcpListener::bind(bind).expect("bind");
        ready_tx.send(()).expect("ready");
        for _ in 0..conns {
            let (mut s, _) = listener.accept().expect("accept");
            s.set_read_timeout(Some(Duration::from_secs(10)))
                .expect("timeout");
            let mut buf = [0u8; 64];
            let n = s.read(&mut buf).expect("read request");
            let mut reply: Vec<u8> = buf[..n].to_vec();
            reply.reverse();
            s.write_all(&reply).expect("write reply");
        }
    });
    ready_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("server ready");
    handle
}

/// Connects from the client to the VIP, sends a request and checks the answer.
fn request(lab: &Lab, payload: &str) {
    let reply = lab.within("client", || {
        let addr: SocketAddr = format!("{VIP}:{PORT}").parse().expect("vip");
        let mut s =
            TcpStream::connect_timeout(&addr, Duration::from_secs(10)).expect("connect to the VIP");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        s.write_all(payload.as_bytes()).expect("send");
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).expect("receive");
        String::from_utf8(buf).expect("utf8")
    });
    assert_eq!(reply, payload.chars().rev().collect::<String>());
}

/// The connection listing and counters of ipvsadm-rs equal ipvsadm's in the same namespace.
/// Entries expire while we read, so a few attempts are allowed, and the expiry column (which
/// ticks every second) may differ by a few seconds between two readings.
fn compare_listings(lab: &Lab) {
    for args in [
        "-Lnc",
        "-Lc",
        "-Ln --stats",
        "-Ln --stats --exact",
        "-Ln",
        "-Lnc --persistent-conn",
    ] {
        let mut last = String::new();
        let matched = (0..5).any(|_| {
            let theirs = lab.reference(args);
            let ours = lab.ipvsadm_rs(args);
            last = format!("ipvsadm-rs {args}:\n{ours}\nipvsadm:\n{theirs}");
            same_but_expiry(&ours, &theirs)
        });
        assert!(matched, "{last}");
    }
}

fn seconds(expire: &str) -> Option<i64> {
    let (m, s) = expire.split_once(':')?;
    Some(m.parse::<i64>().ok()? * 60 + s.parse::<i64>().ok()?)
}

/// Equal text, except that the expiry of a connection line may be up to 5 s apart.
fn same_but_expiry(a: &str, b: &str) -> bool {
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    la.len() == lb.len()
        && a.ends_with('\n') == b.ends_with('\n')
        && la.iter().zip(&lb).all(|(x, y)| {
            if x == y {
                return true;
            }
            // "PRO MM:SS  STATE ...": the expiry is the second column, 6 wide.
            let (Some(ex), Some(ey)) = (x.get(4..10), y.get(4..10)) else {
                return false;
            };
            let close = matches!((seconds(ex.trim()), seconds(ey.trim())), (Some(p), Some(q)) if (p - q).abs() <= 5);
            close && x[..4] == y[..4] && x[10..] == y[10..]
        })
}

/// IPVS folds its per-CPU counters into the totals every two seconds: waits until the
/// real server's line of `-Ln --stats --exact` shows `conns` connections.
fn wait_for_conns(lab: &Lab, server: &str, conns: u64) -> String {
    let want = format!("  -> {server:<28}{conns:>9}");
    let mut stats = String::new();
    for _ in 0..40 {
        stats = lab.ipvsadm_rs("-Ln --stats --exact");
        if stats.contains(&want) {
            return stats;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("the counters never showed {conns} connections to {server}:\n{stats}");
}

/// Client, director and real server on one Ethernet segment (a bridge in a fourth
/// namespace), the VIP on the director and on the real server's `vip_dev`; the client
/// reaches the VIP through the director, the real server answers it directly.
fn switched_lab(name: &str, net: &str, vip_dev: &str) -> Lab {
    let lab = Lab::new(name, &["client", "director", "server", "switch"]);
    lab.exec("switch", "ip link add br0 type bridge");
    lab.exec("switch", "ip link set br0 up");
    for (role, host) in [("client", 2), ("director", 1), ("server", 3)] {
        lab.link(role, &format!("{net}.{host}/24"), "switch", "");
        lab.exec("switch", &format!("ip link set switch{role} master br0"));
    }
    lab.exec(
        "director",
        &format!("ip addr add {VIP}/32 dev directorswitch"),
    );
    lab.exec("client", &format!("ip route add {VIP}/32 via {net}.1"));
    if vip_dev == "tunl0" {
        lab.exec("server", "ip link set tunl0 up");
        lab.exec(
            "server",
            "sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.tunl0.rp_filter=0",
        );
    }
    lab.exec("server", &format!("ip addr add {VIP}/32 dev {vip_dev}"));
    lab.exec(
        "server",
        "sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2",
    );
    lab
}

fn enable_forwarding(lab: &Lab, role: &str) {
    lab.exec(role, "sysctl -qw net.ipv4.ip_forward=1");
}

#[test]
fn nat_mode_carries_tcp() {
    testkit::require_ipvs();
    let lab = Lab::new("nat", &["client", "director", "server"]);
    lab.link("client", "10.0.1.2/24", "director", "10.0.1.1/24");
    lab.link("director", "10.0.2.1/24", "server", "10.0.2.2/24");
    lab.exec("director", &format!("ip addr add {VIP}/32 dev lo"));
    lab.exec("client", "ip route add default via 10.0.1.1");
    lab.exec("server", "ip route add default via 10.0.2.1");
    enable_forwarding(&lab, "director");
    lab.ipvsadm_rs(&format!("-A -t {VIP}:{PORT} -s rr"));
    lab.ipvsadm_rs(&format!("-a -t {VIP}:{PORT} -r 10.0.2.2:9090 -m"));
    let server = serve(&lab, "10.0.2.2:9090", 3);
    for payload in ["hello through NAT", "second", "third"] {
        request(&lab, payload);
    }
    server.join().expect("server");
    wait_for_conns(&lab, "10.0.2.2:9090", 3);
    sip_through_nat(&lab);
    compare_listings(&lab);
}

/// A UDP SIP service with the sip persistence engine: the connection listing then has
/// persistence templates with the engine's name and data (the Call-ID), the eleven-column
/// form of `-c --persistent-conn`.
fn sip_through_nat(lab: &Lab) {
    lab.ipvsadm_rs(&format!("-A -u {VIP}:5060 -s rr -p 60 --pe sip"));
    lab.ipvsadm_rs(&format!("-a -u {VIP}:5060 -r 10.0.2.2:5060 -m"));
    let server_ns = format!("/run/netns/{}", lab.ns("server"));
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let server = std::thread::spawn(move || {
        let file = File::open(&server_ns).expect("namespace file");
        // SAFETY: moves only this server thread into the namespace.
        assert_eq!(
            unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) },
            0
        );
        let socket = UdpSocket::bind("10.0.2.2:5060").expect("bind");
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        ready_tx.send(()).expect("ready");
        let mut buf = [0u8; 512];
        let (n, from) = socket.recv_from(&mut buf).expect("receive SIP");
        socket.send_to(&buf[..n], from).expect("answer SIP");
    });
    ready_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("SIP server ready");
    let echoed = lab.within("client", || {
        let socket = UdpSocket::bind("0.0.0.0:0").expect("bind");
        socket.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        let invite = "OPTIONS sip:lb@10.0.9.100 SIP/2.0\r\nCall-ID: call-4711@client\r\nCSeq: 1 OPTIONS\r\n\r\n";
        socket.send_to(invite.as_bytes(), format!("{VIP}:5060")).expect("send SIP");
        let mut buf = [0u8; 512];
        let (n, _) = socket.recv_from(&mut buf).expect("SIP answer");
        String::from_utf8_lossy(&buf[..n]).contains("call-4711@client")
    });
    server.join().expect("SIP server");
    assert!(echoed, "the SIP request came back through the director");
    let conns = lab.ipvsadm_rs("-Lnc --persistent-conn");
    assert!(
        conns.contains("sip ") && conns.contains("call-4711@client"),
        "{conns}"
    );
}

#[test]
fn direct_routing_carries_tcp() {
    testkit::require_ipvs();
    let lab = switched_lab("dr", "10.0.3", "lo");
    lab.ipvsadm_rs(&format!("-A -t {VIP}:{PORT}"));
    lab.ipvsadm_rs(&format!("-a -t {VIP}:{PORT} -r 10.0.3.3 -g"));
    let server = serve(&lab, &format!("0.0.0.0:{PORT}"), 2);
    request(&lab, "hello by direct routing");
    request(&lab, "again");
    server.join().expect("server");
    wait_for_conns(&lab, "10.0.3.3:8080", 2);
    compare_listings(&lab);
}

#[test]
fn ipip_tunnel_carries_tcp() {
    testkit::require_ipvs();
    sh("modprobe ipip");
    let lab = switched_lab("tun", "10.0.5", "tunl0");
    lab.ipvsadm_rs(&format!("-A -t {VIP}:{PORT} -s wrr"));
    lab.ipvsadm_rs(&format!(
        "-a -t {VIP}:{PORT} -r 10.0.5.3 -i --tun-type ipip -w 2"
    ));
    let server = serve(&lab, &format!("0.0.0.0:{PORT}"), 2);
    request(&lab, "hello through the tunnel");
    request(&lab, "and back");
    server.join().expect("server");
    wait_for_conns(&lab, "10.0.5.3:8080", 2);
    let tun = lab.ipvsadm_rs("-Ln --tun-info");
    assert!(
        tun.contains(&format!(
            "  -> {:<28} {:<7} {:<13} {:<6}",
            "10.0.5.3:8080", "Tunnel", "ipip", 2
        )),
        "{tun}"
    );
    compare_listings(&lab);
}
