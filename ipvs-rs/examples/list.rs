//! Lists every service and its destinations with their counters, like `ipvsadm -Ln --stats`.
//!
//! Run as root: `cargo run -p ipvs-rs --example list`.

use ipvs_rs::{Forwarding, Handle, Netns};

fn main() -> Result<(), ipvs_rs::Error> {
    let ipvs = Handle::open_or_load(&Netns::Current)?;
    let info = ipvs.info()?;
    println!(
        "IP Virtual Server version {} (size={})",
        info.version, info.conn_table_size
    );
    for svc in ipvs.services()? {
        let persistence = if svc.timeout > 0 {
            format!(" persistent {}", svc.timeout)
        } else {
            String::new()
        };
        println!(
            "{} {}{} conns {} inpkts {}",
            svc.key, svc.scheduler, persistence, svc.stats.conns, svc.stats.in_pkts
        );
        for dest in ipvs.destinations(&svc.key)? {
            let method = match dest.forwarding {
                Forwarding::Route => "Route",
                Forwarding::Tunnel(_) => "Tunnel",
                Forwarding::Masq => "Masq",
                Forwarding::Local => "Local",
                Forwarding::Bypass => "Bypass",
            };
            println!(
                "  -> {}:{} {method} weight {} active {} inactive {}",
                dest.addr, dest.port, dest.weight, dest.active_conns, dest.inactive_conns
            );
        }
    }
    Ok(())
}
