//! Prints every service's connection and packet rates once a second, like a tiny `top`.
//!
//! Usage (as root): `watch_stats [SECONDS]` (default: run until interrupted).

use std::time::Duration;

use ipvs_rs::{Handle, Netns};

fn main() -> Result<(), ipvs_rs::Error> {
    let rounds: Option<u64> = std::env::args().nth(1).and_then(|s| s.parse().ok());
    let ipvs = Handle::open_or_load(&Netns::Current)?;
    let mut round = 0;
    loop {
        println!(
            "{:<44} {:>8} {:>10} {:>10} {:>12}",
            "service", "conns", "cps", "in pps", "in bps"
        );
        // Streamed: each service is printed as the kernel's dump arrives.
        for svc in ipvs.services_iter()? {
            let svc = svc?;
            let s = svc.stats;
            println!(
                "{:<44} {:>8} {:>10} {:>10} {:>12}",
                svc.key.to_string(),
                s.conns,
                s.cps,
                s.in_pps,
                s.in_bps
            );
        }
        round += 1;
        if rounds.is_some_and(|n| round >= n) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_secs(1));
        println!();
    }
}
