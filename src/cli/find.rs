//! `microsim sweep --find`: capacity search by bracketing and bisection
//! ([`crate::sweep::find`]), at every point of the other `--param`s.
//!
//! Every probe runs the scenario with the searched parameter set, once per
//! replication, with common random numbers (replication `r` of every probe
//! of an outer point has the same seed), so the judged metric is a smooth
//! function of the parameter and bisection is not misled by noise between
//! probes. The condition is judged on the mean over the replications
//! unless it names a statistic (`checkout.p99.ci_high < 200ms`).

use super::sweep::SweepArgs;
use super::CliError;
use crate::assertion::{Condition, Runs};
use crate::metrics::catalog::MetricDef;
use crate::scenario::{self, Override, Scenario};
use crate::sweep::find::{self, Goal, Kind, Probe, Range, Search, Status, Tolerance};
use crate::sweep::point::{self, Base};
use crate::sweep::stats::Estimate;
use crate::sweep::{grid, param, Param, Plan, Seeding};
use rayon::prelude::*;
use std::io::IsTerminal;

/// What a probe records: the value as run, the seeds, and the estimate of
/// each metric the condition names.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProbeRecord {
    /// The TOML literal the parameter was set to.
    pub text: String,
    /// The seed of each replication.
    pub seeds: Vec<u64>,
    /// Per metric of the condition (in [`FindResult::metrics`] order).
    pub metrics: Vec<Estimate>,
}

/// The search at one point of the other parameters.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PointSearch {
    /// The outer point's index in the grid of the other parameters.
    pub index: usize,
    /// The outer point (`services.payment.replicas=2`), empty without
    /// other parameters.
    pub point: String,
    /// The search, every probe in order.
    pub search: Search<ProbeRecord>,
}

/// A finished `--find`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FindResult {
    /// The query in normal form.
    pub query: String,
    /// `max` or `min`.
    pub goal: Goal,
    /// The searched parameter's path.
    pub path: String,
    /// What kind of number it is.
    pub kind: Kind,
    /// The condition in normal form.
    pub condition: String,
    /// The metrics the condition names, the order of each probe's
    /// `metrics`.
    pub metrics: Vec<String>,
    /// Where it searched: `[lo, hi]`, the listed values, or the
    /// scenario's value it bracketed from.
    pub range: RangeInfo,
    /// How close the answer is.
    pub tolerance: Tolerance,
    /// Runs per probe.
    pub replications: u32,
    /// The base seed of every probe's runs.
    pub base_seed: u64,
    /// The scenario file and its `--set` overrides.
    pub scenario_file: String,
    /// `--set` overrides.
    pub overrides: Vec<String>,
    /// The other parameters, whose grid the search runs at.
    pub params: Vec<Param>,
    /// One search per outer point, in grid order.
    pub points: Vec<PointSearch>,
}

/// The range as given.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RangeInfo {
    /// `LO..HI`.
    Between {
        /// Low end.
        lo: f64,
        /// High end.
        hi: f64,
    },
    /// A list of values.
    List {
        /// The values, sorted.
        values: Vec<f64>,
    },
    /// Bracketed from the scenario's current value.
    From {
        /// The scenario's value.
        value: f64,
    },
}

/// The searched parameter: its kind and range, from its `--param` or the
/// scenario's value.
fn search_range(
    sc: &Scenario,
    overrides: &[Override],
    path: &str,
    spec: Option<&str>,
) -> Result<(Kind, Range), String> {
    let current = current_value(sc, overrides, path);
    let Some(spec) = spec else {
        let v = current?;
        let Some((kind, x)) = Kind::of(&v) else {
            return Err(format!(
                "`{path}` is {} in the scenario, not a number or a duration: --find searches numeric parameters",
                v
            ));
        };
        if x <= 0.0 {
            return Err(format!(
                "`{path}` is {v} in the scenario, and doubling or halving it goes nowhere: give the range with --param {path}=LO..HI"
            ));
        }
        return Ok((kind, Range::From(x)));
    };
    let spec = spec.trim();
    if let Some((lo, hi)) = spec.split_once("..").filter(|_| !spec.contains(':')) {
        // `LO..=HI` reads as `LO..HI`, as `sweep --param` takes it.
        let (lo, hi) = (lo.trim(), hi.trim_start_matches('=').trim());
        let end = |s: &str| -> Result<(Kind, f64), String> {
            match param::num(s).map_err(|e| format!("--param {path}={spec}: {e}"))? {
                param::Num::Int(i) => Ok((Kind::Integer, i as f64)),
                param::Num::Float(f) => Ok((Kind::Number, f)),
                param::Num::Dur(ns) => Ok((Kind::Duration, ns as f64 / 1e6)),
            }
        };
        let ((kl, l), (kh, h)) = (end(lo)?, end(hi)?);
        let kind = match (kl, kh) {
            (Kind::Duration, Kind::Duration) => Kind::Duration,
            (Kind::Duration, _) | (_, Kind::Duration) => {
                return Err(format!(
                    "--param {path}={spec} mixes durations and numbers; write both ends with a unit"
                ))
            }
            // Whole ends bisect over whole numbers unless the scenario
            // writes the value as a real number (`rate = 80.0`).
            (Kind::Integer, Kind::Integer) if !matches!(current, Ok(toml::Value::Float(_))) => {
                Kind::Integer
            }
            _ => Kind::Number,
        };
        if h <= l {
            return Err(format!(
                "--param {path}={spec}: the range is inverted or empty ({hi} <= {lo}); write LO..HI with LO < HI"
            ));
        }
        return Ok((kind, Range::Between(l, h)));
    }
    let values = param::parse_spec(spec).map_err(|e| format!("--param {path}={spec}: {e}"))?;
    let mut nums = Vec::with_capacity(values.len());
    for v in &values {
        nums.push(v.number.ok_or_else(|| {
            format!("--param {path}={spec}: `{}` is not a number or a duration: --find searches numeric parameters", v.text)
        })?);
    }
    let kind = if values.iter().any(|v| v.text.starts_with('"')) {
        Kind::Duration
    } else if values.iter().all(|v| v.text.parse::<i64>().is_ok()) {
        Kind::Integer
    } else {
        Kind::Number
    };
    Ok((kind, Range::List(nums)))
}

/// The value at `path` in the scenario's text with the `--set`
/// overrides applied.
fn current_value(sc: &Scenario, overrides: &[Override], path: &str) -> Result<toml::Value, String> {
    let mut root: toml::Table = toml::from_str(&sc.source).map_err(|e| e.to_string())?;
    scenario::overrides::apply_all(&mut root, overrides)
        .map_err(|(a, e)| format!("--set {a}: {e}"))?;
    scenario::overrides::get(&root, path).cloned().ok_or_else(|| {
        format!(
            "the scenario does not write `{path}`, so there is no value to start from: give the range with --param {path}=LO..HI"
        )
    })
}

/// A scenario that is invalid with the searched parameter at `text`
/// (`replicas = 0`), said as the probe it is rather than as a `--set`.
fn probe_error(mut e: scenario::ScenarioError, path: &str, text: &str, outer: &str) -> String {
    let arg = format!("{path}={text}");
    if e.set_arg.as_deref() == Some(arg.as_str()) {
        e.set_arg = None;
    }
    let at = if outer.is_empty() {
        String::new()
    } else {
        format!(" (at {outer})")
    };
    format!("--find: the scenario with {arg}{at} is invalid: {e}")
}

/// Runs the search.
pub fn find(args: &SweepArgs) -> Result<(), CliError> {
    let input = CliError::Input;
    let text = args.find.as_deref().expect("dispatched on --find");
    let file = args.scenario.scenario.display().to_string();
    let query = find::parse_query(text).map_err(|e| input(format!("--find '{text}': {e}")))?;
    for (flag, set) in [
        ("--shard", args.shard.is_some()),
        ("--resume", args.resume),
        ("--zip", args.zip),
        ("--metrics", args.metrics.is_some()),
        ("--assert", !args.asserts.asserts.is_empty()),
        ("--junit", args.asserts.junit.is_some()),
        ("--charts", args.charts.charts.is_some()),
        ("--no-charts", args.charts.no_charts),
        ("--common-seeds", args.common_seeds),
    ] {
        if set {
            return Err(input(format!(
                "{flag} does not apply to --find (a search runs common seeds and writes find.json and find.csv)"
            )));
        }
    }
    if args.jobs == Some(0) {
        return Err(input("-j/--jobs must be at least 1".into()));
    }
    if let Some(dir) = &args.out {
        super::check_writable_dir("--out", dir)?;
    }
    let sc = args.scenario.load()?;
    if !args.quiet && !sc.asserts.is_empty() {
        eprintln!(
            "note: a search does not judge the scenario's [[assert]] tables: its condition decides each probe"
        );
    }
    let overrides: Vec<Override> = args
        .scenario
        .set
        .iter()
        .map(|s| Override::parse(s).expect("checked by load"))
        .collect();

    // The searched parameter's --param gives its range; the others are
    // the grid the search runs at.
    let mut spec = None;
    let mut outer: Vec<Param> = Vec::new();
    if args.params.is_empty() {
        // Read as `sweep` reads it: a quoted key or unquoted dotted keys
        // (nested tables) are both one path.
        for p in crate::sweep::spec::params(&sc).map_err(|e| input(e.to_string()))? {
            if p.path == query.path {
                return Err(input(format!(
                    "{file}: [sweep.params] sweeps `{}`, the parameter --find searches: give its range with --param {}=LO..HI",
                    query.path, query.path
                )));
            }
            outer.push(p);
        }
    }
    for a in &args.params {
        match a.split_once('=') {
            Some((p, s)) if p.trim() == query.path => {
                if spec.replace(s.to_string()).is_some() {
                    return Err(input(format!("--param {}: given twice", query.path)));
                }
            }
            _ => outer.push(param::parse_arg(a).map_err(|e| input(format!("--param {a}: {e}")))?),
        }
    }
    grid::check_distinct(&outer).map_err(input)?;
    let grid = grid::expand(&outer, false).map_err(input)?;
    let (kind, range) = search_range(&sc, &overrides, &query.path, spec.as_deref())
        .map_err(|e| input(format!("{file}: {e}")))?;
    let tolerance = match &args.tolerance {
        Some(t) => Tolerance::parse(t, kind).map_err(input)?,
        None if matches!(range, Range::List(_)) => Tolerance::Absolute(0.0),
        None => Tolerance::default_for(kind),
    };
    let replications = match args.replications {
        Some(r) => r,
        None => crate::sweep::spec::replications(&sc)
            .map_err(|e| input(e.to_string()))?
            .unwrap_or(1),
    };
    if replications == 0 || replications > crate::sweep::spec::MAX_REPLICATIONS {
        return Err(input(format!(
            "-r/--replications {replications}: must be from 1 to {}",
            crate::sweep::spec::MAX_REPLICATIONS
        )));
    }

    // Every outer point must be valid at both ends of the range before
    // anything runs.
    let base = Base::new(&sc, overrides.clone());
    let ends: Vec<f64> = match &range {
        Range::Between(l, h) => vec![*l, *h],
        Range::List(v) => {
            let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            vec![lo, hi]
        }
        Range::From(v) => vec![*v],
    };
    let at = |values: &[usize], text: &str| -> Result<Scenario, scenario::ScenarioError> {
        let probe = Override::parse(&format!("{}={text}", query.path)).expect("PATH=TOML");
        base.scenario_with(&outer, values, Some(probe))
    };
    let mut models = Vec::new();
    for values in &grid {
        for &e in &ends {
            let text = kind.write(e);
            let sc = at(values, &text).map_err(|e| {
                input(probe_error(
                    e,
                    &query.path,
                    &text,
                    &point::describe(&outer, values),
                ))
            })?;
            models.push(sc.model);
        }
    }
    let metrics_defs: Vec<MetricDef> = point::union_metrics(&models);
    let condition = Condition::parse(
        &query.condition,
        &metrics_defs,
        Runs::Replications(replications),
    )
    .map_err(|e| input(format!("--find '{text}': {e}")))?;
    let metric_idx: Vec<usize> = condition
        .metrics()
        .iter()
        .map(|m| {
            metrics_defs
                .iter()
                .position(|d| &d.name == m)
                .expect("parsed against defs")
        })
        .collect();
    let plan = Plan {
        scenario: sc.model.name.clone(),
        scenario_file: sc.file.clone(),
        source_hash: crate::sweep::exec::source_hash(&sc.source),
        overrides: args.scenario.set.clone(),
        params: outer.clone(),
        zip: false,
        replications,
        base_seed: sc.model.seed,
        seeding: Seeding::Common,
        metrics: metrics_defs.clone(),
    };
    let goal_word = match query.goal {
        Goal::Max => "max",
        Goal::Min => "min",
    };
    let query_text = format!("{goal_word} {} where {}", query.path, condition.text());
    if !args.quiet {
        for n in &sc.notes {
            eprintln!("{n}");
        }
        eprintln!(
            "searching {query_text}: {} point(s), {replications} replication(s) per probe, common seeds from {}",
            grid.len(),
            plan.base_seed
        );
    }

    let (pool, _) = super::thread_pool(args.jobs)?;
    let bar =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::hidden());
    if !args.quiet && std::io::stderr().is_terminal() {
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} --find: {pos} probes done, {elapsed}",
            )
            .expect("static template is valid"),
        );
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    }
    let started = std::time::Instant::now();
    // Searches at the outer points in parallel, collected in grid order.
    let results: Vec<Result<PointSearch, CliError>> = pool.install(|| {
        grid.par_iter()
            .enumerate()
            .map(|(index, values)| {
                let desc = point::describe(&outer, values);
                let search = find::search(query.goal, kind, &range, tolerance, |_, text| {
                    let sc = at(values, text)
                        .map_err(|e| CliError::Input(probe_error(e, &query.path, text, &desc)))?;
                    let runs: Vec<_> = (0..replications)
                        .into_par_iter()
                        .map(|rep| {
                            point::run_replication(&sc.model, &plan, index, rep, &mut |_, _| {})
                        })
                        .collect::<Result<_, _>>()
                        .map_err(|e| {
                            CliError::Failed(format!("{}: {}={text}: {e}", sc.file, query.path))
                        })?;
                    bar.inc(1);
                    let est = point::estimates(&plan, &runs);
                    let passed = condition
                        .judge(&plan.metrics, &est)
                        .iter()
                        .all(|o| o.passed);
                    Ok((
                        passed,
                        ProbeRecord {
                            text: text.to_string(),
                            seeds: runs.iter().map(|r| r.seed).collect(),
                            metrics: metric_idx.iter().map(|&i| est[i]).collect(),
                        },
                    ))
                })?;
                Ok(PointSearch {
                    index,
                    point: desc,
                    search,
                })
            })
            .collect()
    });
    bar.finish_and_clear();
    let points: Vec<PointSearch> = results.into_iter().collect::<Result<_, _>>()?;
    // An answer whose run overloads a service is suspect: requests still
    // queued at the end count in neither availability nor latency, so a
    // condition on those alone can pass far past saturation.
    for p in &points {
        let Some(i) = p.search.passing else { continue };
        let text = &p.search.probes[i].data.text;
        let Ok(at_answer) = at(&grid[p.index], text) else {
            continue;
        };
        for row in crate::model::capacity::capacity(&at_answer.model) {
            if row.utilization >= 1.0 {
                let place = if p.point.is_empty() {
                    String::new()
                } else {
                    format!(" (at {})", p.point)
                };
                eprintln!(
                    "warning: the answer {}={text}{place} overloads service `{}` (utilisation {:.0}% >= 100%): requests still queued when the run ends count in neither availability nor latency, so the condition may hold only because they never finished; add a latency condition or bound the queue",
                    query.path,
                    row.service,
                    row.utilization * 100.0
                );
            }
        }
    }
    if !args.quiet {
        let probes: usize = points.iter().map(|p| p.search.probes.len()).sum();
        eprintln!(
            "ran {probes} probes x {replications} replication(s) in {:.3}s wall on {} threads",
            started.elapsed().as_secs_f64(),
            pool.current_num_threads()
        );
    }
    let result = FindResult {
        query: query_text,
        goal: query.goal,
        path: query.path.clone(),
        kind,
        condition: condition.text(),
        metrics: condition.metrics(),
        range: match &range {
            Range::Between(lo, hi) => RangeInfo::Between { lo: *lo, hi: *hi },
            Range::List(v) => {
                let mut values: Vec<f64> = v.iter().map(|x| kind.round(*x)).collect();
                values.sort_by(f64::total_cmp);
                values.dedup();
                RangeInfo::List { values }
            }
            Range::From(v) => RangeInfo::From { value: *v },
        },
        tolerance,
        replications,
        base_seed: plan.base_seed,
        scenario_file: sc.file.clone(),
        overrides: args.scenario.set.clone(),
        params: outer,
        points,
    };

    if let Some(dir) = &args.out {
        let fail =
            |e: &dyn std::fmt::Display| CliError::Failed(format!("writing {}: {e}", dir.display()));
        let files = vec![
            ("find.json".to_string(), to_json(&result).into_bytes()),
            (
                "find.csv".to_string(),
                to_csv(&result).map_err(|e| fail(&e))?,
            ),
        ];
        crate::report::output::write_tree(dir, &files).map_err(|e| fail(&e))?;
        if !args.quiet {
            eprintln!("wrote find.json, find.csv to {}", dir.display());
        }
    }
    if args.json {
        super::print_stdout(&to_json(&result))
    } else {
        super::print_stdout(&to_table(&result))
    }
}

/// The result as pretty JSON with a final newline.
pub fn to_json(r: &FindResult) -> String {
    let mut s = serde_json::to_string_pretty(r).expect("plain data serialises");
    s.push('\n');
    s
}

/// A row per probe: the outer point, the probe's order, the value,
/// whether the condition held, each condition metric's mean and 95%
/// half-width, and the seeds.
pub fn to_csv(r: &FindResult) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec![
        "point".to_string(),
        "probe".into(),
        r.path.clone(),
        "passed".into(),
    ];
    for m in &r.metrics {
        header.push(format!("{m}.mean"));
        header.push(format!("{m}.half_width"));
    }
    header.push("seeds".into());
    w.write_record(&header)?;
    let num = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v}"));
    for p in &r.points {
        for (i, probe) in p.search.probes.iter().enumerate() {
            let mut row = vec![
                p.point.clone(),
                i.to_string(),
                format!("{}", probe.value),
                probe.passed.to_string(),
            ];
            for e in &probe.data.metrics {
                row.push(num(e.mean));
                row.push(num(e.half_width));
            }
            row.push(
                probe
                    .data
                    .seeds
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(" "),
            );
            w.write_record(&row)?;
        }
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// A probe for people: `79.5: requests.mean 48.10 ms`.
fn describe_probe(
    r: &FindResult,
    units: &[crate::metrics::catalog::Unit],
    p: &Probe<ProbeRecord>,
) -> String {
    let ms: Vec<String> = r
        .metrics
        .iter()
        .zip(units)
        .zip(&p.data.metrics)
        .map(|((m, u), e)| {
            format!(
                "{m} {}",
                e.mean.map_or_else(|| "no value".into(), |v| u.show(v))
            )
        })
        .collect();
    format!("{}: {}", show_value(r.kind, p.value), ms.join(", "))
}

fn show_value(kind: Kind, v: f64) -> String {
    kind.write(v).trim_matches('"').to_string()
}

/// The answers as a table, with how each search ended.
pub fn to_table(r: &FindResult) -> String {
    use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};
    let units: Vec<crate::metrics::catalog::Unit> = r
        .metrics
        .iter()
        .map(|m| {
            crate::metrics::catalog::WORKLOAD_METRICS
                .iter()
                .chain(crate::metrics::catalog::SERVICE_METRICS)
                .chain(crate::metrics::catalog::COST_METRICS)
                .chain(crate::metrics::catalog::TOPIC_METRICS)
                .chain(crate::metrics::catalog::SUBSCRIPTION_METRICS)
                .chain(crate::metrics::catalog::COPY_METRICS)
                .chain(crate::metrics::catalog::SAGA_METRICS)
                .chain(crate::metrics::catalog::EXECUTION_METRICS)
                .chain(crate::metrics::catalog::ATTRIBUTION_SERVICE_METRICS)
                .chain(crate::metrics::catalog::ATTRIBUTION_METRICS)
                .find(|(s, _, _)| m.rsplit_once('.').is_some_and(|(_, x)| x == *s))
                .map_or(crate::metrics::catalog::Unit::Number, |(_, u, _)| *u)
        })
        .collect();
    let mut out = format!(
        "{}\n({} replication(s) per probe, common seeds from {}; tolerance {})\n",
        r.query,
        r.replications,
        r.base_seed,
        match r.tolerance {
            Tolerance::Absolute(0.0) => "adjacent values".to_string(),
            Tolerance::Absolute(w) if r.kind == Kind::Duration => format!("{w}ms"),
            Tolerance::Absolute(w) => format!("{w}"),
            Tolerance::Relative(f) => format!("{}%", f * 100.0),
        }
    );
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    let with_points = !r.params.is_empty();
    let mut header = Vec::new();
    if with_points {
        header.push("point");
    }
    header.extend(["answer", "probes", "last passing", "first failing"]);
    t.set_header(header);
    let mut notes = Vec::new();
    for p in &r.points {
        let s = &p.search;
        let (lo, hi) = (
            show_value(r.kind, s.bracket.0),
            show_value(r.kind, s.bracket.1),
        );
        let answer = match s.status {
            Status::Found => show_value(r.kind, s.answer.expect("found")),
            Status::NoneMeets => "none".into(),
            Status::HoldsThroughout => match r.goal {
                Goal::Max => format!(">= {}", show_value(r.kind, s.answer.expect("passed"))),
                Goal::Min => format!("<= {}", show_value(r.kind, s.answer.expect("passed"))),
            },
        };
        let at = if with_points {
            format!("{}: ", p.point)
        } else {
            String::new()
        };
        match s.status {
            Status::NoneMeets => notes.push(format!("{at}no value in [{lo}, {hi}] meets it")),
            Status::HoldsThroughout => notes.push(match r.goal {
                Goal::Max => format!("{at}it holds up to {hi}; widen the range"),
                Goal::Min if r.kind == Kind::Integer && s.bracket.0 == 1.0 => {
                    format!("{at}it holds down to 1, the least whole number searched")
                }
                Goal::Min => format!("{at}it holds down to {lo}; widen the range"),
            }),
            Status::Found if !s.note.is_empty() => notes.push(format!("{at}{}", s.note)),
            Status::Found => {}
        }
        let probe = |i: Option<usize>| {
            i.map_or_else(|| "-".into(), |i| describe_probe(r, &units, &s.probes[i]))
        };
        let mut row = Vec::new();
        if with_points {
            row.push(p.point.clone());
        }
        row.extend([
            answer,
            s.probes.len().to_string(),
            probe(s.passing),
            probe(s.failing),
        ]);
        t.add_row(row);
    }
    out.push_str(&t.to_string());
    out.push('\n');
    for n in notes {
        out.push_str(&n);
        out.push('\n');
    }
    out
}
