//! Command-line syntax.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Network namespaces and the walkthrough's IPVS Direct Routing lab, in one command.
#[derive(Debug, Parser)]
#[command(name = "rtsetup", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build, prove and remove a lab.
    #[command(subcommand)]
    Lab(LabCommand),
    /// The DSR doctor: check one real server's VIP and ARP sysctls.
    #[command(name = "check-realserver")]
    CheckRealServer {
        /// The real server's network namespace.
        #[arg(long)]
        netns: String,
        /// The virtual IP address it serves.
        #[arg(long)]
        vip: Ipv4Addr,
        /// Print the evidence as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Hold long-lived connections to TARGET and log them (the ha and ecmp labs' client).
    #[command(name = "stream-client", hide = true)]
    StreamClient {
        /// The VIP and port.
        #[arg(long)]
        target: SocketAddr,
        /// How many connections.
        #[arg(long)]
        connections: usize,
        /// The log file.
        #[arg(long)]
        log: PathBuf,
    },
    /// Serve HTTP 200 with NAME as the body (the lab's real servers run this).
    #[command(name = "serve-http", hide = true)]
    ServeHttp {
        /// The body.
        #[arg(long)]
        name: String,
        /// Address and port to listen on.
        #[arg(long)]
        listen: SocketAddr,
    },
}

#[derive(Debug, Subcommand)]
pub enum LabCommand {
    /// Build the lab (the walkthrough's DSR lab unless --topology says otherwise). It
    /// records what it creates under /run/rtsetup/NAME and refuses names it did not create.
    Up {
        #[command(flatten)]
        lab: LabChoice,
        /// IPVS scheduler of a built-in lab (default: wlc for dsr, rr for ha, mh for ecmp).
        #[arg(long)]
        scheduler: Option<String>,
        /// Directors of the ha (default 2) or ecmp (default 3) lab: lb1..lbN.
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=8))]
        directors: Option<u8>,
        /// The ha lab without IPVS sync daemons: the control run whose failover breaks
        /// connections.
        #[arg(long)]
        no_sync: bool,
    },
    /// Prove the lab works as its mode says, exiting non-zero with the cause when not.
    Verify {
        #[command(flatten)]
        lab: LabChoice,
        /// The recorded lab to verify, by name (see `rtsetup lab list`).
        #[arg(long = "lab", value_name = "NAME", conflicts_with_all = ["topology", "prefix"])]
        lab_name: Option<String>,
        /// Print the evidence as JSON.
        #[arg(long)]
        json: bool,
        /// Write the failover's captures (pcap, per interface) and timeline (SVG) into DIR.
        #[arg(long, value_name = "DIR")]
        pcap: Option<PathBuf>,
    },
    /// Fail a director of the ha or ecmp lab that is up, recording the failover.
    Fail {
        /// The director (lb1, lb2, ...).
        director: String,
        /// Take its link down (the default; in ecmp after withdrawing its next hop).
        #[arg(long, conflicts_with = "graceful")]
        hard: bool,
        /// Stop its keepalived, which announces priority 0 (ha only).
        #[arg(long)]
        graceful: bool,
        /// The recorded lab, by name (default: the one lab that is up).
        #[arg(long = "lab", value_name = "NAME")]
        lab_name: Option<String>,
        /// Print the record as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Undo `lab fail`: link up, keepalived or the next hop back.
    Restore {
        /// The director.
        director: String,
        /// The recorded lab, by name (default: the one lab that is up).
        #[arg(long = "lab", value_name = "NAME")]
        lab_name: Option<String>,
    },
    /// Remove what `lab up` recorded, and nothing else.
    Down {
        #[command(flatten)]
        lab: LabChoice,
        /// The recorded lab to remove, by name (see `rtsetup lab list`).
        #[arg(long = "lab", value_name = "NAME", conflicts_with_all = ["topology", "prefix"])]
        lab_name: Option<String>,
    },
    /// List the labs that have a record under /run/rtsetup.
    List,
}

#[derive(Debug, Args)]
pub struct LabChoice {
    /// Real servers of a built-in lab: dsr 1 (ap alone) to 7, ha (default 2) and ecmp
    /// (default 3) 1 to 20 (ap1..apN).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=20))]
    pub real_servers: Option<u8>,
    /// A built-in lab (dsr, ha, ecmp) or a TOML topology file (see docs/dsr-walkthrough.md).
    /// Without it, verify and down act on the one lab that is up.
    #[arg(long)]
    pub topology: Option<String>,
    /// Put PREFIX before the name of the lab, of every namespace and of every bridge (and
    /// so of every interface), e.g. `p-` for p-client, p-lb, p-ap on p-br0.
    #[arg(long)]
    pub prefix: Option<String>,
}
