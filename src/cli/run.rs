//! `microsim run`: simulate and report.

use super::progress::Progress;
use super::{capacity_report, ChartArgs, CliError, ScenarioArgs};
use crate::report::saved::{RunMeta, SavedRun};
use crate::report::{json, output, table};
use crate::simulation;
use crate::trace::file::{Format, TraceFile};
use crate::trace::recorder::Recorder;
use crate::trace::TraceConfig;
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
    /// Write simulated request traces to FILE: a head sample of the
    /// measured requests (`--trace-sample`) plus, per workload, up to
    /// `--trace-keep` failed and as many slowest requests. Written to a
    /// temporary file beside FILE while the run goes, renamed at the end.
    #[arg(long, value_name = "FILE")]
    pub traces: Option<PathBuf>,
    /// Fraction of measured requests traced, 0 to 1 [default: 0.001].
    /// Decided from the trace id: the same seed gives the same traces, and
    /// a lower rate's traces are a subset of a higher rate's.
    #[arg(long, value_name = "RATE", requires = "traces", value_parser = parse_rate, allow_hyphen_values = true)]
    pub trace_sample: Option<f64>,
    /// Format of the `--traces` file: OpenTelemetry OTLP/JSON, or Chrome
    /// trace-event JSON (opens in ui.perfetto.dev) [default: otlp].
    #[arg(long, value_enum, value_name = "FORMAT", requires = "traces")]
    pub trace_format: Option<Format>,
    /// Per workload, how many failed requests and how many of the slowest
    /// successful ones are traced besides the sample (each; 0: only the
    /// sample) [default: 10].
    #[arg(long, value_name = "N", requires = "traces")]
    pub trace_keep: Option<usize>,
}

/// Default `--trace-sample`: one request in a thousand, a few hundred
/// traces for a typical run of a few minutes at a few hundred requests per
/// second, without making the file the run's main output.
pub const DEFAULT_TRACE_SAMPLE: f64 = 0.001;

/// Default `--trace-keep`.
pub const DEFAULT_TRACE_KEEP: usize = 10;

/// Parses `--trace-sample`: a number from 0 to 1.
fn parse_rate(s: &str) -> Result<f64, String> {
    let r: f64 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a number (expected a fraction from 0 to 1)"))?;
    if !(0.0..=1.0).contains(&r) {
        return Err(format!("{s} is not between 0 and 1"));
    }
    Ok(r)
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
    // Where the traces go: FILE, or the file its links name; refused
    // before simulating if no regular file can be written there or another
    // output of this run writes it.
    let trace_target = match &args.traces {
        Some(file) => Some(super::trace_path::target(
            file,
            &super::trace_path::Others {
                scenario: std::path::Path::new(&sc.file),
                out: args.out.as_deref(),
                junit: args.asserts.junit.as_deref(),
            },
        )?),
        None => None,
    };
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

    // The trace file is created before running: an unwritable place is
    // refused before spending time simulating.
    let recorder = match (&args.traces, &trace_target) {
        (Some(file), Some(target)) => {
            let format = args.trace_format.unwrap_or(Format::Otlp);
            // Like --out, a missing directory is created (so that
            // `--out results --traces results/traces.json` works on a
            // fresh checkout).
            if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| {
                    CliError::Input(format!(
                        "--traces {}: cannot create the directory {}: {e}",
                        file.display(),
                        parent.display()
                    ))
                })?;
            }
            let sink = TraceFile::create(target, format, model).map_err(|e| {
                CliError::Input(format!(
                    "--traces {}: cannot create the file: {e}",
                    file.display()
                ))
            })?;
            // Ctrl-C (or a SIGTERM or SIGHUP: a CI job's timeout, a
            // closed terminal) mid-run would otherwise leave the streamed,
            // possibly huge, temporary file behind: remove it and stop with
            // the shell's status for a SIGINT.
            if let Some(tmp) = crate::trace::file::temp_path(target) {
                let quiet = args.quiet;
                let _ = ctrlc::set_handler(move || {
                    let _ = std::fs::remove_file(&tmp);
                    if !quiet {
                        eprintln!("\ninterrupted");
                    }
                    std::process::exit(130);
                });
            }
            let config = TraceConfig {
                sample: args.trace_sample.unwrap_or(DEFAULT_TRACE_SAMPLE),
                keep: args.trace_keep.unwrap_or(DEFAULT_TRACE_KEEP),
            };
            Some(Recorder::new(model, config, Box::new(sink)))
        }
        _ => None,
    };

    let started = Instant::now();
    let progress = Progress::new(model.duration, 1, args.quiet);
    let result = simulation::run_traced(model, &mut progress.tracker(), recorder);
    progress.finish();
    let (result, recorder) = result.map_err(|e| CliError::Failed(format!("{}: {e}", sc.file)))?;
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
    if let (Some(recorder), Some(file)) = (recorder, &args.traces) {
        let written = recorder
            .finish(model)
            .map_err(|e| CliError::Failed(format!("writing traces to {}: {e}", file.display())))?;
        if !args.quiet {
            eprintln!(
                "wrote {} traces ({} sampled, {} failed, {} slowest) to {}",
                written.total(),
                written.sampled,
                written.failed,
                written.slowest,
                file.display()
            );
        }
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
