//! `lab verify`: static checks of the lab's configuration, then the live check
//! ([`live`](super::live)) that follows HTTP requests through the director.

use std::net::IpAddr;

use crate::error::Result;
use crate::lab::check::{check_real_server, Check};
use crate::lab::report::Report;
use crate::lab::topology::{Mode, Pattern};
use crate::lab::{ipvs, Lab};
use crate::netns::{Netns, NetnsExt};
use crate::rtnl::Rtnl;

impl Lab {
    /// Runs every check; fails only when the lab cannot be inspected at all (a missing
    /// namespace, for instance). Whether the lab works is in [`Report::ok`].
    ///
    /// The live check removes the client's neighbour entry for the VIP first, so the
    /// captures show who answers the client's ARP request for it.
    pub fn verify(&self) -> Result<Report> {
        let t = &self.topology;
        let mut report = Report {
            lab: t.name.clone(),
            mode: t.mode,
            checks: Vec::new(),
            requests: Vec::new(),
            path: Vec::new(),
            ipvs: None,
            streams: Vec::new(),
            failover: None,
            timeline: None,
        };
        if t.pattern != Pattern::Single {
            self.verify_directors(&mut report)?;
            return Ok(report);
        }
        self.static_checks(&mut report)?;
        let macs = self.macs()?;
        self.live_checks(&mut report, &macs)?;
        Ok(report)
    }

    fn static_checks(&self, report: &mut Report) -> Result<()> {
        let t = &self.topology;
        let director = self.director();
        let director_ns = Netns::open(&director.name)?;
        let vip = IpAddr::V4(t.vip);
        let mut lb = Rtnl::open(&director_ns)?;
        let link = director.inner_link(0);
        let on_director = lb
            .addresses(Some(&link))?
            .iter()
            .any(|a| a.net.addr() == vip);
        report.checks.push(Check::new(
            "vip-on-director",
            on_director,
            if on_director {
                format!("{} holds the VIP {vip} on {link}, so it answers ARP for it", director.name)
            } else {
                format!("{} does not hold the VIP {vip} on {link}: nobody draws the clients' packets to IPVS; `ip addr add {vip}/32 dev {link}` in {}", director.name, director.name)
            },
        ));
        if t.mode != Mode::Masq {
            for rs in t.real_servers() {
                report
                    .checks
                    .extend(check_real_server(&Netns::open(&rs.name)?, &rs.name, t.vip)?);
            }
        }
        self.ipvs_checks(report, &director_ns);
        Ok(())
    }

    fn ipvs_checks(&self, report: &mut Report, director_ns: &Netns) {
        let t = &self.topology;
        let key = ipvs::service_key(t);
        let director = &self.director().name;
        let (service, destinations) = match ipvs::inspect(t, director_ns) {
            Ok(Some(found)) => found,
            Ok(None) => {
                report.checks.push(Check::new(
                    "ipvs-service",
                    false,
                    format!("{director} has no IPVS service {key}: `ipvsadm -A -t {}:{} -s {}` in {director}", t.vip, t.port, t.scheduler),
                ));
                return;
            }
            Err(e) => {
                report
                    .checks
                    .push(Check::new("ipvs-service", false, e.to_string()));
                return;
            }
        };
        report.checks.push(Check::new(
            "ipvs-service",
            true,
            format!(
                "{director} has IPVS service {key} with scheduler {}",
                service.scheduler
            ),
        ));
        let want = ipvs::forwarding(t.mode);
        for rs in t.real_servers() {
            let found = destinations
                .iter()
                .find(|d| d.addr == IpAddr::V4(rs.address()) && d.port == t.port);
            let (ok, detail) = match found {
                Some(d) if d.forwarding.method() == want.method() => (
                    true,
                    format!("{} {}:{} is a real server of {key}, forwarded by {:?} ({})", rs.name, d.addr, d.port, d.forwarding, t.mode.ipvsadm_flag()),
                ),
                Some(d) => (
                    false,
                    format!(
                        "{} {}:{} is forwarded by {:?}, not {want:?}: the {} lab needs `ipvsadm -e -t {}:{} -r {}:{} {}`",
                        rs.name, d.addr, d.port, d.forwarding, format!("{:?}", t.mode).to_lowercase(),
                        t.vip, t.port, d.addr, d.port, t.mode.ipvsadm_flag()
                    ),
                ),
                None => (
                    false,
                    format!("{} {}:{} is not a real server of {key}: `ipvsadm -a -t {}:{} -r {}:{} {}`", rs.name, rs.address(), t.port, t.vip, t.port, rs.address(), t.port, t.mode.ipvsadm_flag()),
                ),
            };
            report.checks.push(Check::new(
                format!("ipvs-destination:{}", rs.name),
                ok,
                detail,
            ));
        }
    }
}
