//! The library's side of the benchmark, each run as its own measured process:
//! `xtask bench-worker apply-batched|apply-single|reconcile SERVICES`.

use std::net::Ipv4Addr;
use std::time::Instant;

use ipvs_rs::reconcile::{self, Plan, Reconciler, Scope, Table};
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
    /// Full reconcile and cached sync of a 1 % change, and a resync after drift, timed inside.
    Sync,
    /// Read the whole table with `Handle::table`.
    Read,
}

impl Workload {
    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Workload::ApplyBatched => "apply-batched",
            Workload::ApplySingle => "apply-single",
            Workload::Reconcile => "reconcile",
            Workload::Sync => "sync",
            Workload::Read => "read",
        }
    }

    fn parse(name: &str) -> Result<Self> {
        [
            Workload::ApplyBatched,
            Workload::ApplySingle,
            Workload::Reconcile,
            Workload::Sync,
            Workload::Read,
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
        Workload::Sync => sync(&ipvs, services)?,
        Workload::Read => read(&ipvs, services)?,
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

/// With the original table in the kernel: a full reconcile to the 1 % change, a first sync of
/// a `Reconciler` (its whole-table read), its cached sync of the change back, an idle cached
/// sync, and a resync after another writer changed ten objects. Prints one row of the
/// report's table (without its size).
fn sync(ipvs: &Handle, services: u32) -> Result<()> {
    let change = workload::Change::one_percent(services);
    let original = workload::table(services);
    let mut changed = original.clone();
    change.apply_to(&mut changed, services);
    let scope = Scope::prefix(Ipv4Addr::new(10, 0, 0, 0).into(), 8);
    let timed = |f: &mut dyn FnMut() -> Result<()>| {
        let started = Instant::now();
        f().map(|()| started.elapsed().as_secs_f64())
    };
    let full = timed(&mut || {
        let report = reconcile::reconcile(ipvs, &changed, &scope).map_err(ipvs_error)?;
        change.check(&report).map_err(Error::Failed)
    })?;
    let mut reconciler = Reconciler::new(scope);
    let first = timed(&mut || {
        let sync = reconciler.sync(ipvs, &changed).map_err(ipvs_error)?;
        expect(
            sync.report.applied() == 0,
            "the first sync changed something",
        )
    })?;
    // Back from the change: the same number of requests of each kind.
    let cached = timed(&mut || {
        let sync = reconciler.sync(ipvs, &original).map_err(ipvs_error)?;
        expect(sync.resync.is_none(), "the cached sync read the table")?;
        change.check(&sync.report).map_err(Error::Failed)
    })?;
    let idle = timed(&mut || {
        let sync = reconciler.sync(ipvs, &original).map_err(ipvs_error)?;
        expect(sync.report.applied() == 0, "an idle sync changed something")
    })?;
    let other = Handle::new().map_err(ipvs_error)?;
    let drifted = another_writer(&other, services)?;
    reconciler.request_resync();
    let mut found = 0;
    let mut repaired = 0;
    let resync = timed(&mut || {
        let sync = reconciler.sync(ipvs, &original).map_err(ipvs_error)?;
        found = sync.drift.len();
        repaired = sync.report.applied();
        expect(sync.report.is_success(), "the resync failed")
    })?;
    expect(
        found == drifted && repaired == drifted,
        &format!("{drifted} objects drifted, the resync found {found} and repaired {repaired}"),
    )?;
    println!(
        "{full:.3} | {first:.3} | {cached:.3} | {:.1}x | {idle:.3} | {resync:.3} | {found} of {drifted} | {repaired}",
        full / cached
    );
    Ok(())
}

/// Another writer's ten changes in the scope: four reweights, three real servers deleted,
/// two added, one scheduler changed.
fn another_writer(other: &Handle, services: u32) -> Result<usize> {
    let key = |i: u32| workload::service_key(services / 2 + i);
    let dest = |i: u32, j: u32| workload::destination(services / 2 + i, j);
    let mut batch = ipvs_rs::Batch::new();
    for i in 0..4 {
        batch.update_destination(key(i), dest(i, 1).with_weight(7));
    }
    for i in 4..7 {
        batch.delete_destination(key(i), dest(i, 2));
    }
    for i in 7..9 {
        batch.add_destination(
            key(i),
            ipvs_rs::Destination::new(Ipv4Addr::new(172, 31, 0, i as u8), 80),
        );
    }
    batch.update_service(
        ipvs_rs::Service::new(key(9)).with_scheduler(ipvs_rs::Scheduler::RoundRobin),
    );
    for result in other.apply(&batch) {
        result.map_err(ipvs_error)?;
    }
    Ok(batch.len())
}

/// Reads the whole table; prints its size.
fn read(ipvs: &Handle, services: u32) -> Result<()> {
    let mut count = (0, 0);
    for entry in ipvs.table().map_err(ipvs_error)? {
        let (_, dests) = entry.map_err(ipvs_error)?;
        count.0 += 1;
        count.1 += dests.len();
    }
    let want = (
        services as usize,
        services as usize * workload::DESTS as usize,
    );
    expect(count == want, &format!("read {count:?}, expected {want:?}"))?;
    println!("{} services, {} destinations", count.0, count.1);
    Ok(())
}

fn expect(ok: bool, what: &str) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::Failed(what.to_string()))
    }
}

fn ipvs_error(e: ipvs_rs::Error) -> Error {
    Error::Failed(format!("ipvs-rs: {e}"))
}
