//! `microsim sweep`: run a scenario over a grid of parameter values.

use super::{AssertArgs, ChartArgs, CliError, ScenarioArgs};
use clap::Args;
use std::path::PathBuf;

/// Arguments of `sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// The scenario, `--set` overrides applied to every point, and the
    /// base seed.
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// A parameter and its values: `PATH=LIST` or `PATH=LO..HI[:STEP]`,
    /// e.g. `services.payment.replicas=1..8`,
    /// `workloads.checkout.arrival.rate=100,200,400`,
    /// `services.payment.endpoints.charge.work.median=10ms,20ms`. PATH is
    /// any path `--set` takes. Repeatable; replaces the scenario's
    /// `[sweep.params]`.
    #[arg(long = "param", value_name = "PATH=VALUES")]
    pub params: Vec<String>,
    /// Pair the parameters' lists element by element instead of running
    /// every combination.
    #[arg(long)]
    pub zip: bool,
    /// Runs of each point, with seeds derived from the base seed, the
    /// point and the replication; results give mean and 95% confidence
    /// interval [default: the scenario's `[sweep] replications`, else 1].
    #[arg(long, short = 'r', value_name = "N")]
    pub replications: Option<u32>,
    /// Run every point with the same seeds (common random numbers), so
    /// points differ only by their parameters.
    #[arg(long)]
    pub common_seeds: bool,
    /// Runs simulated at once (default: one per core). The output does
    /// not depend on it.
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Write sweep.csv, sweep_summary.csv, sweep.json, charts/ and
    /// report.html into DIR, and each point as it completes under
    /// DIR/points/ (what --resume and merge read).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Skip the points already completed in --out DIR by an interrupted
    /// run of the same sweep.
    #[arg(long, requires = "out")]
    pub resume: bool,
    /// Run only shard K of N (1-based): every N-th point, starting at the
    /// K-th. `microsim merge` combines the shards' directories.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Search instead of sweeping: `max PATH where CONDITION` or
    /// `min PATH where CONDITION`, e.g. `max workloads.checkout.arrival.rate
    /// where checkout.p99 < 200ms and checkout.availability >= 99.9%`.
    /// The range is the `--param` of the same PATH (LO..HI), other
    /// `--param`s give points to search at.
    #[arg(long, value_name = "QUERY")]
    pub find: Option<String>,
    /// How close a --find answer must be: an absolute amount in the
    /// parameter's unit, or a percentage of the answer (`1%`)
    /// [default: 1 for whole numbers, 1% otherwise].
    #[arg(long, value_name = "TOL", requires = "find")]
    pub tolerance: Option<String>,
    /// The metrics printed and charted, comma-separated
    /// [default: each workload's p99 and availability, and
    /// cost.per_million when priced]. Files hold every metric.
    #[arg(long, value_name = "LIST")]
    pub metrics: Option<String>,
    /// Print the result as JSON on stdout instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Print nothing on stderr but errors, warnings and assertions.
    #[arg(long, short)]
    pub quiet: bool,
    /// Thresholds, checked at every point.
    #[command(flatten)]
    pub asserts: AssertArgs,
    /// Which charts to draw with `--out`.
    #[command(flatten)]
    pub charts: ChartArgs,
}

/// Runs the sweep.
pub fn sweep(args: &SweepArgs) -> Result<(), CliError> {
    if args.find.is_some() {
        return super::find::find(args);
    }
    Err(CliError::Input(format!(
        "{}: sweep is being built",
        args.scenario.scenario.display()
    )))
}
