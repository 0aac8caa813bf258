//! `microsim sweep`: run a scenario over a grid of parameter values.

use super::progress::Progress;
use super::{AssertArgs, ChartArgs, CliError, ScenarioArgs};
use crate::metrics::catalog;
use crate::report::charts::Formats;
use crate::report::output as report_output;
use crate::scenario::{Override, Scenario};
use crate::sweep::point::{self, Base};
use crate::sweep::store::{self, Stored};
use crate::sweep::{
    exec, grid, output, param, spec, Param, Plan, PointResult, Seeding, SweepResult,
};
use clap::Args;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

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
    /// K-th. `microsim merge` combines the shards' directories (a
    /// shard's directory holds its points and CSVs; the merge draws the
    /// charts and report).
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

/// Set by Ctrl-C: no new run starts once it is.
static STOP: AtomicBool = AtomicBool::new(false);

/// Runs the sweep.
pub fn sweep(args: &SweepArgs) -> Result<(), CliError> {
    if args.find.is_some() {
        return super::find::find(args);
    }
    let input = CliError::Input;
    if args.jobs == Some(0) {
        return Err(input("-j/--jobs must be at least 1".into()));
    }
    if let Some(r) = args.replications {
        if r == 0 || r > spec::MAX_REPLICATIONS {
            return Err(input(format!(
                "-r/--replications {r}: must be from 1 to {}",
                spec::MAX_REPLICATIONS
            )));
        }
    }
    let shard = args
        .shard
        .as_deref()
        .map(store::parse_shard)
        .transpose()
        .map_err(input)?;
    if let Some(dir) = &args.out {
        super::check_writable_dir("--out", dir)?;
    }
    let charts = args.charts.formats()?;
    args.charts.need_out(args.out.as_deref())?;
    let sc = args.scenario.load()?;
    let file = sc.file.clone();

    // What to sweep: --param, else the scenario's [sweep] table.
    let params: Vec<Param> = if args.params.is_empty() {
        spec::params(&sc).map_err(|e| input(e.to_string()))?
    } else {
        if !args.quiet && sc.sweep.as_ref().is_some_and(|s| !s.params.is_empty()) {
            eprintln!("note: --param given: the scenario's [sweep.params] is not used");
        }
        args.params
            .iter()
            .map(|a| param::parse_arg(a).map_err(|e| input(format!("--param {a}: {e}"))))
            .collect::<Result<_, _>>()?
    };
    if params.is_empty() {
        return Err(input(format!(
            "{file}: nothing to sweep: give --param PATH=VALUES or a [sweep.params] table"
        )));
    }
    grid::check_distinct(&params).map_err(|e| input(format!("{file}: {e}")))?;
    let replications = match args.replications {
        Some(r) => r,
        None => spec::replications(&sc)
            .map_err(|e| input(e.to_string()))?
            .unwrap_or(1),
    };
    // `[sweep] zip` pairs the lists of `[sweep.params]`; parameters
    // given with --param make a grid unless --zip says otherwise.
    let zip = args.zip || (args.params.is_empty() && spec::zip(&sc));
    let grid = grid::expand(&params, zip).map_err(|e| input(format!("{file}: {e}")))?;
    let overrides = args
        .scenario
        .set
        .iter()
        .map(|s| Override::parse(s).expect("parsed when the scenario loaded"))
        .collect();
    let base = Base::new(&sc, overrides);
    let (pool, jobs) = super::thread_pool(args.jobs)?;

    // Every point validated before anything runs.
    let checked = pool
        .install(|| exec::check_points(&base, &params, &grid))
        .map_err(|e| input(e.to_string()))?;
    let plan = Plan {
        scenario: sc.model.name.clone(),
        scenario_file: file.clone(),
        source_hash: exec::source_hash(&sc.source),
        overrides: args.scenario.set.clone(),
        params,
        zip,
        replications,
        base_seed: sc.model.seed,
        seeding: if args.common_seeds {
            Seeding::Common
        } else {
            Seeding::Independent
        },
        metrics: checked.metrics.clone(),
    };
    let shown = match &args.metrics {
        None => plan.key_metrics(),
        Some(list) => list
            .split(',')
            .map(|n| {
                catalog::find(&plan.metrics, n.trim())
                    .map(|(_, d)| d.name.clone())
                    .map_err(|e| input(format!("--metrics {list}: {e}")))
            })
            .collect::<Result<_, _>>()?,
    };
    // Thresholds are judged at every point, on the mean over its
    // replications (or the confidence bound asked for).
    let checks = args.asserts.checks(
        &sc,
        &plan.metrics,
        crate::assertion::Runs::Replications(replications),
    )?;
    let indices = store::shard_indices(grid.len(), shard);
    let stored = Stored {
        plan: plan.clone(),
        shard,
    };

    // The output directory: a fresh start, or the points already done.
    let mut done: Vec<PointResult> = Vec::new();
    if let Some(dir) = &args.out {
        let fail = |e: std::io::Error| CliError::Failed(format!("writing {}: {e}", dir.display()));
        let saved = if args.resume {
            store::read(dir, true).map_err(input)?
        } else {
            None
        };
        match saved {
            Some(saved) => {
                if let Some(why) = store::difference(&saved.stored, &stored) {
                    return Err(input(format!(
                        "--resume: {} holds another sweep: {why}; run without --resume to start over there, or choose another --out",
                        dir.display()
                    )));
                }
                done = saved.points;
            }
            None => {
                if args.resume && !args.quiet {
                    eprintln!(
                        "note: nothing to resume in {}: starting the sweep",
                        dir.display()
                    );
                }
                store::start(dir, &stored).map_err(fail)?;
            }
        }
    }
    let todo: Vec<usize> = indices
        .iter()
        .copied()
        .filter(|i| done.binary_search_by_key(i, |p| p.index).is_err())
        .collect();

    warn(&sc, &plan, &checked, &grid, &indices, args.quiet);
    if !args.quiet && !done.is_empty() {
        eprintln!(
            "resuming: {} of {} points already done, {} to run",
            done.len(),
            indices.len(),
            todo.len()
        );
    }

    if let Err(e) = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            // A second Ctrl-C: stop now. Every saved file is whole.
            std::process::exit(130);
        }
        eprintln!("\nstopping: finishing the runs under way (Ctrl-C again to stop at once)");
    }) {
        if !args.quiet {
            eprintln!("note: Ctrl-C will not save finished points: {e}");
        }
    }
    let reps = replications as usize;
    let total_ns = todo.iter().map(|&i| checked.durations[i]).sum::<u64>() * reps as u64;
    let progress = Progress::for_sweep(
        total_ns,
        todo.len() * reps,
        indices.len(),
        done.len(),
        args.quiet,
    );
    let started = Instant::now();
    let ran = exec::run_points(
        &base,
        &plan,
        &todo,
        jobs,
        &STOP,
        &|ns, events| progress.add(ns, events),
        &|p| {
            if let Some(dir) = &args.out {
                store::save_point(dir, &plan, p)
                    .map_err(|e| format!("writing {}: {e}", dir.display()))?;
            }
            progress.point_done();
            Ok(())
        },
    );
    progress.finish();
    let ran = ran.map_err(|e| CliError::Failed(format!("{file}: {e}")))?;
    let wall = started.elapsed().as_secs_f64();
    let (new_points, events) = (
        ran.len(),
        ran.iter()
            .flat_map(|p| &p.runs)
            .map(|r| r.events)
            .sum::<u64>(),
    );
    done.extend(ran);
    done.sort_by_key(|p| p.index);
    if done.len() < indices.len() {
        return Err(CliError::Interrupted(match &args.out {
            Some(dir) => format!(
                "interrupted: {} of {} points saved in {}; run the same command with --resume to finish",
                done.len(),
                indices.len(),
                dir.display()
            ),
            None => format!(
                "interrupted: {} of {} points done; nothing saved (no --out)",
                done.len(),
                indices.len()
            ),
        }));
    }
    if !args.quiet {
        let earlier = if done.len() > new_points {
            format!("; {} done before", done.len() - new_points)
        } else {
            String::new()
        };
        eprintln!(
            "ran {} ({}{earlier}) in {wall:.3}s wall on {jobs} threads: {events} events ({:.2}M events/s)",
            count(new_points, "point"),
            count(new_points * reps, "run"),
            events as f64 / wall.max(1e-9) / 1e6
        );
    }
    let result = SweepResult {
        plan,
        shard,
        shown,
        points: done,
    };
    if let Some(dir) = &args.out {
        write(dir, &result, charts, args.quiet)?;
    }
    if args.json {
        super::print_stdout(&String::from_utf8_lossy(&store::json(&result)))?;
    } else {
        super::print_stdout(&output::table(&result))?;
    }
    conclude(&args.asserts, &checks, &result)
}

/// Judges every point of a finished sweep (or a merged one) and reports
/// as [`AssertArgs::conclude`] does: the same report whether the sweep
/// ran at once or in shards.
pub(super) fn conclude(
    args: &AssertArgs,
    checks: &crate::assertion::Checks,
    result: &SweepResult,
) -> Result<(), CliError> {
    let outcomes: Vec<_> = result
        .points
        .iter()
        .flat_map(|p| {
            let subject = point_label(&result.plan, &p.values);
            checks.point(Some(&subject), &result.plan, p)
        })
        .collect();
    let name = &result.plan.scenario;
    args.conclude(&outcomes, &format!("microsim sweep {name}"), name)
}

/// A point as assertion results name it: each parameter by its short
/// label (`payment.replicas=4, arrival.rate=200`).
fn point_label(plan: &Plan, values: &[usize]) -> String {
    plan.params
        .iter()
        .zip(values)
        .map(|(p, &i)| format!("{}={}", p.label(), p.values[i].text))
        .collect::<Vec<_>>()
        .join(", ")
}

/// "1 point", "3 points".
fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// Writes a finished sweep's files into `dir` (and removes the charts an
/// earlier write left that this one did not draw).
pub(super) fn write(
    dir: &Path,
    result: &SweepResult,
    charts: Option<Formats>,
    quiet: bool,
) -> Result<(), CliError> {
    let fail =
        |e: &dyn std::fmt::Display| CliError::Failed(format!("writing {}: {e}", dir.display()));
    let files = output::files(result, charts).map_err(|e| fail(&e))?;
    report_output::write_tree(dir, &files)
        .and_then(|()| report_output::remove_stale(dir, &files, true))
        .map_err(|e| fail(&e))?;
    if !quiet {
        let mut names: Vec<&str> = files
            .iter()
            .map(|(n, _)| n.as_str())
            .filter(|n| !n.contains('/'))
            .collect();
        names.push("points/");
        if files.iter().any(|(n, _)| n.starts_with("charts/")) {
            names.push("charts/");
        }
        eprintln!("wrote {} to {}", names.join(", "), dir.display());
    }
    Ok(())
}

/// Prints the scenario's notes and warnings, then one line per service
/// that some points overload, naming those points (the first few).
fn warn(
    sc: &Scenario,
    plan: &Plan,
    checked: &exec::Checked,
    grid: &[Vec<usize>],
    indices: &[usize],
    quiet: bool,
) {
    const SHOW: usize = 4;
    if !quiet {
        for n in &sc.notes {
            eprintln!("{n}");
        }
    }
    for w in crate::model::lint::lint(&sc.model)
        .into_iter()
        .chain(sc.warnings.iter().cloned())
    {
        eprintln!("{w}");
    }
    let mut services: Vec<(&str, Vec<usize>)> = Vec::new();
    for &i in indices {
        for s in &checked.overloaded[i] {
            match services.iter_mut().find(|(n, _)| n == s) {
                Some((_, pts)) => pts.push(i),
                None => services.push((s, vec![i])),
            }
        }
    }
    for (service, pts) in services {
        let mut named: Vec<String> = pts
            .iter()
            .take(SHOW)
            .map(|&i| format!("{} ({})", i, point::describe(&plan.params, &grid[i])))
            .collect();
        if pts.len() > SHOW {
            named.push(format!("and {} more", pts.len() - SHOW));
        }
        eprintln!(
            "warning: service `{service}` is overloaded (offered load >= its workers, utilisation >= 100%: queues grow without bound) at {} of {} points: {}",
            pts.len(),
            indices.len(),
            named.join(", ")
        );
    }
}
