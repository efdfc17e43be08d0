//! An async agent: keeps the real servers of one service equal to a list, checking every few
//! seconds, on a tokio runtime where other tasks (here a heartbeat) keep running while IPVS
//! is read and written.
//!
//! Usage (as root): `async_agent [--netns NAME] [--once] VIP:PORT REAL:PORT...`, for example
//! `cargo run -p ipvs-rs --features tokio --example async_agent -- --once 10.0.0.1:80 192.168.1.2:80`.
//! The service is added (scheduler `wlc`) if missing; real servers not listed are deleted.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use ipvs_rs::{AsyncHandle, Batch, Destination, Error, Forwarding, Netns, Service, ServiceKey};

/// One round: the batch that makes the service's real servers equal to `reals`.
async fn converge(ipvs: &AsyncHandle, key: ServiceKey, reals: &[SocketAddr]) -> Result<(), Error> {
    match ipvs.service(&key).await {
        Ok(_) => {}
        Err(Error::NoSuchService) => ipvs.add_service(&Service::new(key)).await?,
        Err(e) => return Err(e),
    }
    let current = ipvs.destinations(&key).await?;
    let wanted: Vec<Destination> = reals
        .iter()
        .map(|r| Destination::new(r.ip(), r.port()).with_forwarding(Forwarding::Masq))
        .collect();
    let mut batch = Batch::new();
    for dest in &current {
        if !wanted
            .iter()
            .any(|w| w.addr == dest.addr && w.port == dest.port)
        {
            batch.delete_destination(key, dest.clone());
        }
    }
    for dest in &wanted {
        if !current
            .iter()
            .any(|c| c.addr == dest.addr && c.port == dest.port)
        {
            batch.add_destination(key, dest.clone());
        }
    }
    for (request, result) in batch.requests().iter().zip(ipvs.apply(&batch).await) {
        match result {
            Ok(()) => println!("{request:?}: done"),
            Err(e) => eprintln!("{request:?}: {e}"),
        }
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let once = args.iter().any(|a| a == "--once");
    args.retain(|a| a != "--once");
    let netns = match args.iter().position(|a| a == "--netns") {
        Some(i) if i + 1 < args.len() => {
            let name = args.remove(i + 1);
            args.remove(i);
            Some(Netns::Named(name))
        }
        _ => None,
    };
    let parsed: Result<Vec<SocketAddr>, _> = args.iter().map(|a| a.parse()).collect();
    let (vip, reals) = match parsed.as_deref() {
        Ok([vip, reals @ ..]) => (*vip, reals.to_vec()),
        Ok([]) => {
            eprintln!("usage: async_agent [--netns NAME] [--once] VIP:PORT REAL:PORT...");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("bad address: {e}");
            return ExitCode::from(2);
        }
    };
    let opened = match &netns {
        Some(netns) => AsyncHandle::open_in_netns(netns).await,
        None => AsyncHandle::new().await,
    };
    let ipvs = match opened {
        Ok(ipvs) => ipvs,
        Err(e) => {
            eprintln!("cannot open IPVS: {e}");
            return ExitCode::FAILURE;
        }
    };
    let heartbeat = tokio::spawn(async {
        let mut beat = tokio::time::interval(Duration::from_secs(1));
        loop {
            beat.tick().await;
            eprintln!("agent alive");
        }
    });
    let key = ServiceKey::tcp(vip.ip(), vip.port());
    let mut rounds = tokio::time::interval(Duration::from_secs(5));
    let status = loop {
        rounds.tick().await;
        if let Err(e) = converge(&ipvs, key, &reals).await {
            eprintln!("{key}: {e}");
            break ExitCode::FAILURE;
        }
        if once {
            break ExitCode::SUCCESS;
        }
    };
    heartbeat.abort();
    status
}
