//! The `microsim` command line: one file per subcommand. Errors carry the
//! exit status they deserve: 2 for bad input or usage, 1 for a failed run.

pub mod check;
pub mod compare;
pub mod find;
pub mod merge;
pub mod progress;
pub mod report;
pub mod run;
pub mod sweep;
pub mod thresholds;
pub mod trace_path;

use crate::model::capacity::{capacity, CapacityRow};
use crate::report::charts::Formats;
use crate::scenario::{self, Override, Scenario};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Deterministic discrete-event simulator of microservice systems.
#[derive(Debug, Parser)]
#[command(name = "microsim", version, about, long_about = None)]
pub struct Cli {
    /// The subcommand to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate a scenario and report latency, availability and utilisation.
    Run(run::RunArgs),
    /// Validate a scenario and print its capacity table, without simulating.
    Check(check::CheckArgs),
    /// Run variants of a system with common random numbers and compare
    /// them side by side.
    Compare(compare::CompareArgs),
    /// Redraw the charts and report.html of a saved run or comparison
    /// (a directory written with --out) without simulating again.
    Report(report::ReportArgs),
    /// Run a scenario over a grid of parameter values (with replications
    /// and confidence intervals), or search for the largest or smallest
    /// value that meets a condition (--find).
    Sweep(sweep::SweepArgs),
    /// Combine the output directories of a sweep's shards (--shard K/N)
    /// into the result of the whole sweep.
    Merge(merge::MergeArgs),
}

/// Arguments every subcommand that reads a scenario takes.
#[derive(Debug, Args)]
pub struct ScenarioArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// Override a scenario value before validation, e.g.
    /// `--set services.payment.replicas=4` or
    /// `--set workloads.checkout.arrival.rate=300`. Repeatable.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Master seed (overrides `simulation.seed`).
    #[arg(long)]
    pub seed: Option<u64>,
}

impl ScenarioArgs {
    /// Reads and validates the scenario with the overrides applied.
    pub fn load(&self) -> Result<Scenario, CliError> {
        let mut overrides = Vec::with_capacity(self.set.len());
        for s in &self.set {
            overrides.push(Override::parse(s).map_err(|e| {
                CliError::Input(format!("{}: in --set {s}: {e}", self.scenario.display()))
            })?);
        }
        let mut sc = scenario::load(&self.scenario, &overrides)
            .map_err(|e| CliError::Input(e.to_string()))?;
        if let Some(seed) = self.seed {
            sc.model.seed = seed;
        }
        Ok(sc)
    }
}

/// Which charts to draw with the outputs (`run`, `compare`, `report`).
#[derive(Debug, Args)]
pub struct ChartArgs {
    /// Chart image formats to write under DIR/charts/: a comma-separated
    /// list of png and svg [default: png,svg].
    #[arg(long, value_name = "FORMATS")]
    pub charts: Option<String>,
    /// Draw no charts (report.html then holds only the tables).
    #[arg(long, conflicts_with = "charts")]
    pub no_charts: bool,
}

impl ChartArgs {
    /// The formats asked for, or `None` for no charts.
    pub fn formats(&self) -> Result<Option<Formats>, CliError> {
        if self.no_charts {
            return Ok(None);
        }
        match &self.charts {
            None => Ok(Some(Formats::default())),
            Some(list) => Formats::parse(list)
                .map(Some)
                .map_err(|e| CliError::Input(format!("--charts {list}: {e}"))),
        }
    }

    /// Refuses chart options where nothing is written (`run` or
    /// `compare` without `--out`), rather than ignoring them.
    pub fn need_out(&self, out: Option<&std::path::Path>) -> Result<(), CliError> {
        if out.is_none() && (self.charts.is_some() || self.no_charts) {
            let flag = if self.no_charts {
                "--no-charts"
            } else {
                "--charts"
            };
            return Err(CliError::Input(format!(
                "{flag} applies to the files written with --out DIR, and there is no --out"
            )));
        }
        Ok(())
    }
}

/// Thresholds the results must meet (`run`, `compare`, `sweep`).
#[derive(Debug, Clone, Default, Args)]
pub struct AssertArgs {
    /// A threshold, e.g. `--assert 'checkout.p99 < 250ms'`,
    /// `--assert 'checkout.availability >= 99.9%'`,
    /// `--assert 'cost.per_million < 40'`. Each is printed pass or fail
    /// with the measured value; any failure makes the exit status 1.
    /// Added to the scenario's `[[assert]]` tables. Repeatable.
    #[arg(long = "assert", value_name = "EXPR")]
    pub asserts: Vec<String>,
    /// Write the assertions' results as a JUnit XML report to FILE, for
    /// CI systems to show.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

/// A failure of the command, with its exit status.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The user's input is wrong (exit 2).
    #[error("{0}")]
    Input(String),
    /// The run itself failed (exit 1).
    #[error("{0}")]
    Failed(String),
    /// Stopped by Ctrl-C after saving what was finished (exit 130, the
    /// shell's status for a SIGINT).
    #[error("{0}")]
    Interrupted(String),
}

impl CliError {
    /// The process exit status for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Input(_) => 2,
            CliError::Failed(_) => 1,
            CliError::Interrupted(_) => 130,
        }
    }
}

/// Runs the parsed command line.
pub fn main(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Check(args) => check::check(&args),
        Command::Compare(args) => compare::compare(&args),
        Command::Report(args) => report::report(&args),
        Command::Sweep(args) => sweep::sweep(&args),
        Command::Merge(args) => merge::merge(&args),
    }
}

/// The capacity table, one warning line per overloaded service, and the
/// model's other warnings ([`crate::model::lint`], then those only the
/// scenario's text shows, [`Scenario::warnings`]).
pub fn capacity_report(sc: &Scenario) -> (Vec<CapacityRow>, Vec<String>) {
    let model = &sc.model;
    let rows = capacity(model);
    let mut warnings: Vec<String> = rows
        .iter()
        .filter(|r| r.utilization >= 1.0)
        .map(|r| {
            format!(
                "warning: service `{}` is overloaded: offered load needs {:.1} busy workers but it has {} (utilisation {:.0}% >= 100%): its queues grow without bound under open workloads, and response times grow with the users of closed ones",
                r.service, r.busy_workers, r.workers, r.utilization * 100.0
            )
        })
        .collect();
    warnings.extend(
        crate::model::capacity::subscription_loads(model)
            .into_iter()
            .filter(|l| l.in_flight >= f64::from(l.concurrency))
            .map(|l| {
                format!(
                    "warning: subscription {} is overloaded: {:.1} events/s with a {:.2} ms handler need {:.1} handlers in flight but its concurrency is {}: its lag grows without bound; raise its concurrency or make the handler faster",
                    l.name, l.events_per_s, l.handler_ms, l.in_flight, l.concurrency
                )
            }),
    );
    warnings.extend(crate::model::lint::lint(model));
    warnings.extend(sc.warnings.iter().cloned());
    (rows, warnings)
}

/// Refuses an output path no file can be written under, before anything
/// runs (rather than with an I/O error and exit 1 once the runs are
/// done): one that exists and is not a directory, or one below a file
/// (`results.json/out`). `flag` names the option in the message.
pub fn check_writable_dir(flag: &str, dir: &std::path::Path) -> Result<(), CliError> {
    if dir.exists() && !dir.is_dir() {
        return Err(CliError::Input(format!(
            "{flag} {}: exists and is not a directory",
            dir.display()
        )));
    }
    check_parents(flag, dir)
}

/// Refuses a path below an existing file (`results.json/junit.xml`).
pub fn check_parents(flag: &str, path: &std::path::Path) -> Result<(), CliError> {
    if let Some(file) = path
        .ancestors()
        .skip(1)
        .find(|a| !a.as_os_str().is_empty() && a.exists() && !a.is_dir())
    {
        return Err(CliError::Input(format!(
            "{flag} {}: `{}` is a file, not a directory",
            path.display(),
            file.display()
        )));
    }
    Ok(())
}

/// The worker threads of `compare`, `sweep` and `--find`: `-j N`, or one
/// per core. Their results never depend on the count (they are collected
/// in order), only the wall time does.
pub fn thread_pool(jobs: Option<usize>) -> Result<(rayon::ThreadPool, usize), CliError> {
    if jobs == Some(0) {
        return Err(CliError::Input("-j/--jobs must be at least 1".into()));
    }
    let n = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .map_err(|e| CliError::Failed(format!("starting worker threads: {e}")))?;
    Ok((pool, n))
}

/// Writes `text` to stdout. A closed pipe (`microsim check x | head`) ends
/// the command quietly; any other write failure is reported.
pub fn print_stdout(text: &str) -> Result<(), CliError> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::Failed(format!("writing to stdout: {e}"))),
    }
}
