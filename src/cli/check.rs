//! `microsim check`: validate only, print the capacity table.

use super::{capacity_report, CliError, ScenarioArgs};
use crate::engine::time::fmt_ns;
use crate::report::table::capacity_table;
use clap::Args;

/// Arguments of `check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The scenario to check and its overrides.
    #[command(flatten)]
    pub scenario: ScenarioArgs,
}

/// Validates the scenario and prints what it would run and its capacity.
pub fn check(args: &CheckArgs) -> Result<(), CliError> {
    let sc = args.scenario.load()?;
    let m = &sc.model;
    let mut out = format!(
        "{}: ok ({} services, {} endpoints, {} workloads; {} simulated, {} warm-up, seed {})",
        sc.file,
        m.services.len(),
        m.endpoints.len(),
        m.workloads.len(),
        fmt_ns(m.duration),
        fmt_ns(m.warmup),
        m.seed
    );
    let (rows, warnings) = capacity_report(&sc);
    out.push_str("\n\ncapacity (peak offered load vs. workers; hold time excludes queueing):\n");
    out.push_str(&capacity_table(&rows));
    out.push('\n');
    for n in &sc.notes {
        eprintln!("{n}");
    }
    for w in warnings {
        eprintln!("{w}");
    }
    super::print_stdout(&out)
}
