//! Command-line syntax.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use rtsetup::lab::Topology;

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
        /// IPVS scheduler of the walkthrough lab.
        #[arg(long, default_value = Topology::WALKTHROUGH_SCHEDULER)]
        scheduler: String,
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
    /// Real servers of the walkthrough lab: ap alone, or ap1..apN from 192.168.0.3 upwards.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=7))]
    pub real_servers: u8,
    /// A TOML topology file describing another lab (see docs/dsr-walkthrough.md).
    #[arg(long, conflicts_with = "real_servers")]
    pub topology: Option<PathBuf>,
    /// Put PREFIX before the name of the lab, of every namespace and of every bridge (and
    /// so of every interface), e.g. `p-` for p-client, p-lb, p-ap on p-br0.
    #[arg(long)]
    pub prefix: Option<String>,
}
