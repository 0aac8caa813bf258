//! `microsim run`: simulate and report.

use super::progress::Progress;
use super::{capacity_report, ChartArgs, CliError, ScenarioArgs};
use crate::report::saved::{RunMeta, SavedRun};
use crate::report::{json, output, table};
use crate::simulation;
use clap::Args;
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario to run and its overrides.
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Print the summary as JSON on stdout instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Write summary.json, workloads.csv, services.csv, dependencies.csv,
    /// faults.csv, discovery.csv, timeseries.csv, percentiles.csv,
    /// scenario.toml and run.json into this directory (and cost.csv when
    /// the scenario prices something, scaling.csv when replica counts can
    /// change, deploys.csv with deploys), with charts/ and report.html.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Which charts to draw with `--out`.
    #[command(flatten)]
    pub charts: ChartArgs,
    /// Print nothing on stderr but errors and warnings.
    #[arg(long, short)]
    pub quiet: bool,
    /// Thresholds the results must meet.
    #[command(flatten)]
    pub asserts: super::AssertArgs,
}

/// Runs the scenario and writes the requested outputs.
pub fn run(args: &RunArgs) -> Result<(), CliError> {
    let sc = args.scenario.load()?;
    let charts = args.charts.formats()?;
    args.charts.need_out(args.out.as_deref())?;
    if let Some(dir) = &args.out {
        // Refuse an unusable output path before spending time simulating.
        super::check_writable_dir("--out", dir)?;
    }
    let model = &sc.model;
    // Thresholds are checked against the model's metrics before running.
    let checks = args.asserts.checks(
        &sc,
        &crate::metrics::catalog::catalog(model),
        crate::assertion::Runs::Single,
    )?;
    let (rows, warnings) = capacity_report(&sc);
    if !args.quiet {
        for n in &sc.notes {
            eprintln!("{n}");
        }
        eprintln!("capacity (peak offered load vs. workers; hold time excludes queueing):");
        eprintln!("{}", table::capacity_table(&rows));
    }
    for w in &warnings {
        eprintln!("{w}");
    }

    let started = Instant::now();
    let progress = Progress::new(model.duration, 1, args.quiet);
    let result = simulation::run_with_progress(model, &mut progress.tracker());
    progress.finish();
    let result = result.map_err(|e| CliError::Failed(format!("{}: {e}", sc.file)))?;
    let wall = started.elapsed().as_secs_f64();
    let saved = SavedRun {
        meta: RunMeta {
            scenario_file: sc.file.clone(),
            overrides: args.scenario.set.clone(),
            variant: None,
            notes: sc.notes.clone(),
            warnings,
            window_seconds: result.timeseries.window_seconds,
        },
        source: sc.source.clone(),
        result,
    };
    let s = &saved.result.summary;
    if !args.quiet {
        eprintln!(
            "simulated {:.0}s in {:.3}s wall: {} events ({:.2}M events/s)",
            s.simulated_seconds,
            wall,
            s.events,
            s.events as f64 / wall.max(1e-9) / 1e6
        );
    }

    if let Some(dir) = &args.out {
        let fail =
            |e: &dyn std::fmt::Display| CliError::Failed(format!("writing {}: {e}", dir.display()));
        let files = output::run_files(&saved, charts).map_err(|e| fail(&e))?;
        output::write_tree(dir, &files)
            .and_then(|()| output::remove_stale(dir, &files, true))
            .map_err(|e| fail(&e))?;
        if !args.quiet {
            eprintln!(
                "wrote {} to {}",
                files
                    .iter()
                    .filter(|(n, _)| !n.starts_with("charts/"))
                    .map(|(n, _)| n.as_str())
                    .chain(
                        files
                            .iter()
                            .any(|(n, _)| n.starts_with("charts/"))
                            .then_some("charts/")
                    )
                    .collect::<Vec<_>>()
                    .join(", "),
                dir.display()
            );
        }
    }
    if args.json {
        super::print_stdout(&json::summary_json(s))?;
    } else {
        super::print_stdout(&table::summary_tables(s))?;
    }
    // Last, once every output is written: a failed threshold exits 1.
    args.asserts.conclude(
        &checks.run(None, s),
        &format!("microsim run {}", s.name),
        &s.name,
    )
}
