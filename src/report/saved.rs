//! A run as saved in an output directory, and reading it back.
//!
//! `run --out DIR` writes the results as data files (`summary.json`, the
//! CSVs, `percentiles.csv`), the scenario's source (`scenario.toml`) and
//! how it was run (`run.json`). Charts and the HTML report are drawn from
//! what those files hold, parsed back, never from the live run: so
//! `microsim report DIR` redraws them byte for byte, and a chart can show
//! nothing the saved results lack.

use super::{compare::Comparison, csv as csv_out, json};
use crate::metrics::latency::PercentilePoint;
use crate::metrics::messaging::{CopyWindow, SubscriptionWindow};
use crate::metrics::{
    DiscoveryWindow, RunResult, ServiceWindow, Summary, TimeSeries, WorkloadWindow,
};
use anyhow::{anyhow, bail, Context, Result};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// How a run was made: what `run.json` holds besides the results.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunMeta {
    /// The scenario file as given on the command line.
    pub scenario_file: String,
    /// The overrides applied (`PATH=VALUE`: `--set`s, then a compare
    /// variant's own), in order.
    pub overrides: Vec<String>,
    /// With `compare`: the variant's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// Notes printed before the run (how a monolith unit was sized).
    pub notes: Vec<String>,
    /// Warnings printed before the run (unstable load, lints).
    pub warnings: Vec<String>,
    /// Width of a time-series window in seconds (`timeseries.csv` rows
    /// give each window's bounds, but the last may be shorter).
    pub window_seconds: f64,
}

/// Everything a run's charts and report are drawn from.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedRun {
    /// The results.
    pub result: RunResult,
    /// How the run was made.
    pub meta: RunMeta,
    /// The scenario file's text as written (before overrides).
    pub source: String,
}

/// A saved comparison: `compare.json` and each variant's saved run.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedCompare {
    /// The comparison's tables and every variant's summary.
    pub comparison: Comparison,
    /// Each variant's run, in variant order.
    pub variants: Vec<SavedRun>,
}

/// The data files of a run, named as in its output directory. Files of
/// features a scenario does not use are left out, so other runs'
/// directories hold what they always held.
pub fn data_files(run: &SavedRun) -> Result<Vec<(&'static str, Vec<u8>)>> {
    let r = &run.result;
    let s = &r.summary;
    let mut files = vec![
        ("summary.json", json::summary_json(s).into_bytes()),
        ("workloads.csv", csv_out::workloads_csv(s)?),
        ("services.csv", csv_out::services_csv(s)?),
        ("dependencies.csv", csv_out::dependencies_csv(s)?),
        ("faults.csv", csv_out::faults_csv(s)?),
        ("discovery.csv", csv_out::discovery_csv(s)?),
        ("timeseries.csv", csv_out::timeseries_csv(&r.timeseries)?),
        ("percentiles.csv", percentiles_csv(&r.percentiles)?),
    ];
    if let Some(bytes) = super::cost::cost_csv(s) {
        files.push(("cost.csv", bytes?));
    }
    if s.services.values().any(|r| r.scaling.is_some()) {
        files.push(("scaling.csv", super::scaling::scaling_csv(s)?));
    }
    if !s.deploys.is_empty() {
        files.push(("deploys.csv", super::scaling::deploys_csv(s)?));
    }
    for (name, bytes) in [
        ("topics.csv", csv_out::topics_csv(s)),
        ("subscriptions.csv", csv_out::subscriptions_csv(s)),
        ("copies.csv", csv_out::copies_csv(s)),
        ("sagas.csv", csv_out::sagas_csv(s)),
        ("executions.csv", csv_out::executions_csv(s)),
        ("attribution.csv", csv_out::attribution_csv(s)),
    ] {
        if let Some(bytes) = bytes {
            files.push((name, bytes?));
        }
    }
    files.push(("scenario.toml", run.source.clone().into_bytes()));
    let mut meta = serde_json::to_string_pretty(&run.meta)?;
    meta.push('\n');
    files.push(("run.json", meta.into_bytes()));
    Ok(files)
}

/// Reads a run back from its data files (name, contents), as
/// [`data_files`] made them or as found in a directory.
pub fn parse_run(files: &[(&str, Vec<u8>)]) -> Result<SavedRun> {
    let get = |name: &str| -> Result<&[u8]> {
        files
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| b.as_slice())
            .ok_or_else(|| anyhow!("{name} is missing"))
    };
    let summary: Summary =
        serde_json::from_slice(get("summary.json")?).context("reading summary.json")?;
    let sim = summary.simulated_seconds;
    if !(sim.is_finite() && sim > 0.0) {
        bail!("reading summary.json: `simulated_seconds` is {sim}, not a positive duration");
    }
    let meta: RunMeta = serde_json::from_slice(get("run.json")?).context("reading run.json")?;
    let source = String::from_utf8(get("scenario.toml")?.to_vec())
        .context("reading scenario.toml: not UTF-8")?;
    let mut timeseries =
        parse_timeseries(get("timeseries.csv")?, &summary).context("reading timeseries.csv")?;
    timeseries.window_seconds = meta.window_seconds;
    let percentiles =
        parse_percentiles(get("percentiles.csv")?, &summary).context("reading percentiles.csv")?;
    Ok(SavedRun {
        result: RunResult {
            summary,
            timeseries,
            percentiles,
        },
        meta,
        source,
    })
}

/// The files [`parse_run`] reads.
const RUN_INPUTS: [&str; 5] = [
    "summary.json",
    "run.json",
    "scenario.toml",
    "timeseries.csv",
    "percentiles.csv",
];

/// Reads a run saved in `dir` by `run --out` (or a compare variant's
/// directory).
pub fn load_run(dir: &Path) -> Result<SavedRun> {
    let mut files = Vec::new();
    for name in RUN_INPUTS {
        let path = dir.join(name);
        if !path.is_file() {
            bail!(
                "{} is missing: is {} a directory written by `microsim run --out`?",
                path.display(),
                dir.display()
            );
        }
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        files.push((name, bytes));
    }
    parse_run(&files).with_context(|| format!("in {}", dir.display()))
}

/// Reads a comparison saved in `dir` by `compare --out`.
pub fn load_compare(dir: &Path) -> Result<SavedCompare> {
    let path = dir.join("compare.json");
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let comparison: Comparison =
        serde_json::from_slice(&bytes).with_context(|| format!("reading {}", path.display()))?;
    // A variant's name is its directory under DIR: one that is not a
    // plain name (`../x`, `/x`) would read and write outside DIR.
    for v in &comparison.variants {
        let plain = !v.name.is_empty()
            && v.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !plain {
            bail!(
                "reading {}: variant name `{}` is not letters, digits, `-` or `_` (it names a directory in {})",
                path.display(),
                v.name,
                dir.display()
            );
        }
    }
    let variants = comparison
        .variants
        .iter()
        .map(|v| load_run(&dir.join(&v.name)))
        .collect::<Result<_>>()?;
    Ok(SavedCompare {
        comparison,
        variants,
    })
}

/// `percentiles.csv`: per workload, its latency percentile distribution
/// (HdrHistogram's percentile plot: `percentile` of the successful
/// requests took at most `latency_ms`).
pub fn percentiles_csv(p: &IndexMap<String, Vec<PercentilePoint>>) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["workload", "percentile", "latency_ms"])?;
    for (name, points) in p {
        for pt in points {
            w.write_record([
                name.clone(),
                pt.percentile.to_string(),
                pt.latency_ms.to_string(),
            ])?;
        }
    }
    w.into_inner().map_err(|e| anyhow!("{e}"))
}

/// Parses `percentiles.csv`, checking that it belongs with `summary`
/// (its workloads) and holds plottable numbers; points are put in
/// percentile order.
fn parse_percentiles(
    bytes: &[u8],
    summary: &Summary,
) -> Result<IndexMap<String, Vec<PercentilePoint>>> {
    let mut out: IndexMap<String, Vec<PercentilePoint>> = IndexMap::new();
    let mut r = csv::Reader::from_reader(bytes);
    let cols = Columns::new(r.headers()?)?;
    cols.require(&["workload", "percentile", "latency_ms"])?;
    for (i, rec) in r.records().enumerate() {
        let rec = rec?;
        let row = Row {
            rec: &rec,
            cols: &cols,
            line: i + 2,
        };
        let workload = row.text("workload")?;
        if !summary.workloads.contains_key(workload) {
            bail!(
                "line {}: workload `{workload}` is not in summary.json (results of another run?)",
                row.line
            );
        }
        let percentile: f64 = row.value("percentile")?;
        if percentile > 100.0 {
            bail!(
                "line {}: column `percentile`: `{}` is not between 0 and 100",
                row.line,
                row.raw("percentile")
            );
        }
        out.entry(workload.to_string())
            .or_default()
            .push(PercentilePoint {
                percentile,
                latency_ms: row.value("latency_ms")?,
            });
    }
    for points in out.values_mut() {
        points.sort_by(|a, b| a.percentile.total_cmp(&b.percentile));
    }
    Ok(out)
}

/// Column positions by header name.
struct Columns(Vec<String>);

impl Columns {
    fn new(h: &csv::StringRecord) -> Result<Columns> {
        Ok(Columns(h.iter().map(str::to_string).collect()))
    }
    fn at(&self, name: &str) -> Option<usize> {
        self.0.iter().position(|c| c == name)
    }
    /// Fails naming the first of `names` the header lacks.
    fn require(&self, names: &[&str]) -> Result<()> {
        match names.iter().find(|n| self.at(n).is_none()) {
            Some(n) => bail!("line 1: no column `{n}`"),
            None => Ok(()),
        }
    }
}

/// One CSV record with typed access by column name and errors that say
/// where.
struct Row<'a> {
    rec: &'a csv::StringRecord,
    cols: &'a Columns,
    line: usize,
}

impl Row<'_> {
    /// The raw text of a column; "" when the file has no such column.
    fn raw(&self, col: &str) -> &str {
        self.cols
            .at(col)
            .and_then(|i| self.rec.get(i))
            .unwrap_or("")
    }
    fn text(&self, col: &str) -> Result<&str> {
        match self.cols.at(col) {
            Some(i) => Ok(self.rec.get(i).unwrap_or("")),
            None => bail!("line {}: no column `{col}`", self.line),
        }
    }
    fn parse<T: std::str::FromStr>(&self, col: &str) -> Result<Option<T>> {
        let t = self.raw(col);
        if t.is_empty() {
            return Ok(None);
        }
        t.parse().map(Some).map_err(|_| {
            anyhow!(
                "line {}: column `{col}`: `{t}` is not a valid number",
                self.line
            )
        })
    }
    fn num<T: std::str::FromStr>(&self, col: &str) -> Result<T> {
        self.parse(col)?
            .ok_or_else(|| anyhow!("line {}: column `{col}` is empty", self.line))
    }
    /// A measured value: `None` when empty, else a finite number, not
    /// negative (Rust parses `NaN`, `inf` and `-1` as numbers, which no
    /// chart can place).
    fn opt_value(&self, col: &str) -> Result<Option<f64>> {
        let v: Option<f64> = self.parse(col)?;
        match v {
            Some(x) if !(x.is_finite() && x >= 0.0) => bail!(
                "line {}: column `{col}`: `{}` is not a finite number of at least 0",
                self.line,
                self.raw(col)
            ),
            v => Ok(v),
        }
    }
    /// Like [`Row::opt_value`], but the value must be there.
    fn value(&self, col: &str) -> Result<f64> {
        self.opt_value(col)?
            .ok_or_else(|| anyhow!("line {}: column `{col}` is empty", self.line))
    }
}

/// Parses `timeseries.csv` (see [`csv_out::timeseries_csv`]) back into
/// its series, checking that it belongs with `summary` (its workloads
/// and services, windows within the simulated duration) and holds
/// plottable numbers; windows are put in time order. `window_seconds` is
/// left 0 for the caller to set.
fn parse_timeseries(bytes: &[u8], summary: &Summary) -> Result<TimeSeries> {
    let mut t = TimeSeries::default();
    let mut r = csv::Reader::from_reader(bytes);
    let cols = Columns::new(r.headers()?)?;
    cols.require(&["window_start_s", "window_end_s", "kind", "name"])?;
    let sim = summary.simulated_seconds;
    for (i, rec) in r.records().enumerate() {
        let rec = rec?;
        let row = Row {
            rec: &rec,
            cols: &cols,
            line: i + 2,
        };
        let (start_s, end_s) = (row.value("window_start_s")?, row.value("window_end_s")?);
        if start_s > end_s || end_s > sim * (1.0 + 1e-9) {
            bail!(
                "line {}: window {start_s}..{end_s} s is not within the simulated 0..{sim} s of summary.json (results of another run?)",
                row.line
            );
        }
        let name = row.text("name")?.to_string();
        let kind = row.text("kind")?;
        let known = match kind {
            "workload" => summary.workloads.contains_key(&name),
            "service" => summary.services.contains_key(&name),
            "subscription" => subscription_of(summary, &name).is_some(),
            "copy" => summary
                .messaging
                .as_ref()
                .is_some_and(|m| m.copies.contains_key(&name)),
            _ => true,
        };
        if !known {
            bail!(
                "line {}: {kind} `{name}` is not in summary.json (results of another run?)",
                row.line
            );
        }
        match kind {
            "workload" => t.workloads.push(WorkloadWindow {
                start_s,
                end_s,
                workload: name,
                requests: row.num("requests")?,
                ok: row.num("ok")?,
                degraded: row.num("degraded")?,
                failed: row.num("failed")?,
                throughput_rps: row.value("throughput_rps")?,
                p50_ms: row.opt_value("p50_ms")?,
                p95_ms: row.opt_value("p95_ms")?,
                p99_ms: row.opt_value("p99_ms")?,
            }),
            "service" => t.services.push(ServiceWindow {
                start_s,
                end_s,
                service: name,
                utilization: row.value("utilization")?,
                queue_length: row.value("queue_length")?,
                replicas: row.num("replicas")?,
                available_replicas: row.value("available_replicas")?,
                requests: row.num("requests")?,
                registered: row.parse("registered")?,
                stale_registered: row.parse("stale_registered")?,
                mean_replicas: row.opt_value("mean_replicas")?,
                cost: row.opt_value("cost")?,
            }),
            "discovery" => {
                let Some((caller, callee)) = name.split_once("->") else {
                    bail!(
                        "line {}: discovery row `{name}` is not caller->callee",
                        row.line
                    );
                };
                t.discovery.push(DiscoveryWindow {
                    start_s,
                    end_s,
                    caller: caller.to_string(),
                    callee: callee.to_string(),
                    lookups: row.num("lookups")?,
                    routed_to_dead: row.num("routed_to_dead")?,
                    no_instance: row.num("no_instance")?,
                });
            }
            "subscription" => {
                let (topic, subscriber) =
                    subscription_of(summary, &name).expect("checked as known");
                t.subscriptions.push(SubscriptionWindow {
                    start_s,
                    end_s,
                    topic,
                    subscriber,
                    published: row.num("published")?,
                    delivered: row.num("delivered")?,
                    redelivered: row.num("redelivered")?,
                    dead_lettered: row.num("dead_lettered")?,
                    lag: row.num("lag")?,
                    max_lag: row.num("max_lag")?,
                    in_outboxes: row.num("in_outboxes")?,
                });
            }
            "copy" => t.copies.push(CopyWindow {
                start_s,
                end_s,
                copy: name,
                converged: row.num("converged")?,
                window_p50_ms: row.opt_value("window_p50_ms")?,
                window_p99_ms: row.opt_value("window_p99_ms")?,
                window_max_ms: row.opt_value("window_max_ms")?,
                reads: row.num("reads")?,
                stale_reads: row.num("stale_reads")?,
            }),
            other => bail!("line {}: unknown kind `{other}`", row.line),
        }
    }
    // Charts join a series' windows in file order: a hand-reordered file
    // would zigzag.
    t.workloads.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    t.services.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    t.discovery.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    t.subscriptions
        .sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    t.copies.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    Ok(t)
}

/// The topic and subscriber of a `TOPIC->SERVICE` row name, when
/// `summary` has that subscription.
fn subscription_of(summary: &Summary, name: &str) -> Option<(String, String)> {
    let (topic, subscriber) = name.split_once("->")?;
    let t = summary.messaging.as_ref()?.topics.get(topic)?;
    t.subscriptions
        .contains_key(subscriber)
        .then(|| (topic.to_string(), subscriber.to_string()))
}

/// Reads a sweep saved in `dir` by `sweep --out` (or `merge --out`): its
/// `sweep.json`, checked so that drawing it cannot go out of bounds (a
/// point's values index its parameters' values; every point has an
/// estimate per metric).
pub fn load_sweep(dir: &Path) -> Result<crate::sweep::SweepResult> {
    let path = dir.join("sweep.json");
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let r: crate::sweep::SweepResult =
        serde_json::from_slice(&bytes).with_context(|| format!("reading {}", path.display()))?;
    check_sweep(&r).with_context(|| format!("reading {}", path.display()))?;
    Ok(r)
}

/// Checks that a sweep's points fit its plan (see [`load_sweep`]).
pub fn check_sweep(r: &crate::sweep::SweepResult) -> Result<()> {
    let plan = &r.plan;
    if let Some((k, n)) = r.shard {
        if k == 0 || k > n {
            bail!("`shard` is [{k}, {n}]: expected 1 <= K <= N");
        }
    }
    for (i, p) in r.points.iter().enumerate() {
        if p.values.len() != plan.params.len() {
            bail!(
                "points[{i}] has {} parameter values for {} parameters",
                p.values.len(),
                plan.params.len()
            );
        }
        for (param, &v) in plan.params.iter().zip(&p.values) {
            if v >= param.values.len() {
                bail!(
                    "points[{i}]: value {v} of `{}` does not exist (it has {})",
                    param.path,
                    param.values.len()
                );
            }
        }
        if p.estimates.len() != plan.metrics.len() {
            bail!(
                "points[{i}] has {} estimates for {} metrics",
                p.estimates.len(),
                plan.metrics.len()
            );
        }
    }
    Ok(())
}
