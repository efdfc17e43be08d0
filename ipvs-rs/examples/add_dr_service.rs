//! Adds a direct-routing service, as in the walkthrough's load balancer:
//! `ipvsadm -A -t VIP:PORT` then `ipvsadm -a -t VIP:PORT -r REAL -g` for each real server.
//!
//! Usage (as root): `add_dr_service [--netns NAME] VIP:PORT REAL...`, for example
//! `cargo run -p ipvs-rs --example add_dr_service -- --netns lb 192.168.0.10:80 192.168.0.3`.

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;

use ipvs_rs::{Batch, Destination, Forwarding, Handle, Netns, Request, Service, ServiceKey};

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let netns = match args.iter().position(|a| a == "--netns") {
        Some(i) if i + 1 < args.len() => {
            let name = args.remove(i + 1);
            args.remove(i);
            Netns::Named(name)
        }
        _ => Netns::Current,
    };
    let Some((vip, reals)) = args.split_first() else {
        eprintln!("usage: add_dr_service [--netns NAME] VIP:PORT REAL...");
        return ExitCode::from(2);
    };
    let vip: SocketAddr = match vip.parse() {
        Ok(v) => v,
        Err(e) => {
            eprintln!("bad VIP:PORT {vip:?}: {e}");
            return ExitCode::from(2);
        }
    };
    let reals: Result<Vec<IpAddr>, _> = reals.iter().map(|r| r.parse()).collect();
    let Ok(reals) = reals else {
        eprintln!("bad real server address");
        return ExitCode::from(2);
    };

    let ipvs = match Handle::open_or_load(&netns) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let key = ServiceKey::tcp(vip.ip(), vip.port());
    let mut batch = Batch::new();
    batch.add_service(Service::new(key));
    for real in &reals {
        // Direct routing cannot change the port: the real server gets the service's.
        let dest = Destination::new(*real, vip.port()).with_forwarding(Forwarding::Route);
        batch.add_destination(key, dest);
    }
    let mut failed = false;
    for (request, result) in batch.requests().iter().zip(ipvs.apply(&batch)) {
        if let Err(e) = result {
            eprintln!("{}: {e}", describe(request));
            failed = true;
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        println!("{key}: {} real server(s) by direct routing", reals.len());
        ExitCode::SUCCESS
    }
}

/// A request in words, for error messages.
fn describe(request: &Request) -> String {
    match request {
        Request::AddService(svc) => format!("add service {}", svc.key),
        Request::AddDestination(key, dest) => {
            format!("add real server {} to {key}", dest.socket_addr())
        }
        other => format!("{other:?}"),
    }
}
