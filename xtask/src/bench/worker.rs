//! The library's side of the benchmark, each run as its own measured process:
//! `xtask bench-worker apply-batched|apply-single|reconcile SERVICES`.

use std::net::Ipv4Addr;
use std::time::Instant;

use ipvs_rs::reconcile::{self, Plan, Scope, Table};
use ipvs_rs::Handle;

use super::workload;
use crate::error::{Error, Result};

/// A library workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Workload {
    /// Add the table with [`Handle::apply`]: many requests per sendmsg.
    ApplyBatched,
    /// Add the table one request and ack at a time on one socket (the moby/ipvs pattern).
    ApplySingle,
    /// Reconcile the table (already in the kernel) to its 1 % change.
    Reconcile,
}

impl Workload {
    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Workload::ApplyBatched => "apply-batched",
            Workload::ApplySingle => "apply-single",
            Workload::Reconcile => "reconcile",
        }
    }

    fn parse(name: &str) -> Result<Self> {
        [
            Workload::ApplyBatched,
            Workload::ApplySingle,
            Workload::Reconcile,
        ]
        .into_iter()
        .find(|w| w.name() == name)
        .ok_or_else(|| Error::Usage(format!("unknown bench workload {name:?}")))
    }
}

/// Runs `bench-worker WORKLOAD SERVICES`; prints one line about what it did.
pub fn run(args: &[String]) -> Result<i32> {
    let [workload, services] = args else {
        return Err(Error::Usage("bench-worker wants WORKLOAD SERVICES".into()));
    };
    let workload = Workload::parse(workload)?;
    let services: u32 = services
        .parse()
        .map_err(|_| Error::Usage(format!("bad service count {services:?}")))?;
    let ipvs = Handle::new().map_err(ipvs_error)?;
    match workload {
        Workload::ApplyBatched => {
            let results = ipvs.apply(&workload::batch(services));
            let failed = results.iter().filter(|r| r.is_err()).count();
            if let Some(Err(first)) = results.iter().find(|r| r.is_err()) {
                return Err(Error::Failed(format!(
                    "{failed} of {} batched requests failed, the first with: {first}",
                    results.len()
                )));
            }
            println!("applied {} requests in batches", results.len());
        }
        Workload::ApplySingle => {
            let batch = workload::batch(services);
            for request in batch.requests() {
                ipvs.execute(request).map_err(ipvs_error)?;
            }
            println!("applied {} requests one at a time", batch.len());
        }
        Workload::Reconcile => reconcile(&ipvs, services)?,
    }
    Ok(0)
}

fn reconcile(ipvs: &Handle, services: u32) -> Result<()> {
    let change = workload::Change::one_percent(services);
    let started = Instant::now();
    let mut desired = workload::table(services);
    change.apply_to(&mut desired, services);
    let built = started.elapsed();
    let scope = Scope::prefix(Ipv4Addr::new(10, 0, 0, 0).into(), 8);
    let current = Table::read(ipvs, &scope, &desired).map_err(ipvs_error)?;
    let read = started.elapsed();
    let plan = Plan::compute(&current, &desired, &scope);
    let planned = started.elapsed();
    let requests = plan.len();
    let report = reconcile::apply(ipvs, plan);
    let applied = started.elapsed();
    change.check(&report).map_err(Error::Failed)?;
    println!(
        "{report}; {requests} requests; desired state built in {:.3} s, table read in {:.3} s, \
         plan in {:.3} s, re-verify and apply in {:.3} s",
        built.as_secs_f64(),
        (read - built).as_secs_f64(),
        (planned - read).as_secs_f64(),
        (applied - planned).as_secs_f64()
    );
    Ok(())
}

fn ipvs_error(e: ipvs_rs::Error) -> Error {
    Error::Failed(format!("ipvs-rs: {e}"))
}
