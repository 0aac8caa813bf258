//! `microsim compare`: the same metrics of several runs side by side, with
//! each variant's difference to the first.
//!
//! A comparison is driven by lists of [`Metric`]s: a name, a unit, an
//! extractor from a run's [`Summary`] and which direction is better. Every
//! output (the table, `compare.json`, `compare.csv`) is a pure function of
//! the [`Comparison`] built from them, so adding a metric is one line in
//! [`WORKLOAD_METRICS`], [`SERVICE_METRICS`] or [`OVERALL_METRICS`].

use crate::metrics::Summary;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};
use indexmap::IndexSet;
use serde::{Deserialize, Serialize};

/// What a metric measures, which decides how its values and differences
/// are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A count of things (requests, replicas, rejections).
    Count,
    /// A fraction in [0, 1] (availability, utilisation): printed as a
    /// percentage, its differences in percentage points.
    Fraction,
    /// Milliseconds.
    Ms,
    /// Per second of measured time.
    PerSecond,
    /// A plain number (a mean queue length).
    Number,
    /// Money, in the scenario's currency unit (cost metrics).
    Money,
}

impl Unit {
    /// The unit's short name in tables and CSV (`""` for counts and plain
    /// numbers; fractions are printed as percentages in tables, so the
    /// tables leave their name out).
    pub fn name(self) -> &'static str {
        match self {
            Unit::Count | Unit::Number => "",
            Unit::Fraction => "fraction",
            Unit::Ms => "ms",
            Unit::PerSecond => "/s",
            Unit::Money => "money",
        }
    }

    /// A value as the table prints it.
    pub fn format(self, v: f64) -> String {
        match self {
            Unit::Count => format!("{v:.0}"),
            Unit::Fraction => format!("{:.3}%", v * 100.0),
            Unit::Ms if v.abs() >= 100.0 => format!("{v:.1}"),
            Unit::Ms => format!("{v:.2}"),
            Unit::PerSecond => format!("{v:.1}"),
            Unit::Number => format!("{v:.2}"),
            // Costs of short runs are small: keep four decimals.
            Unit::Money if v.abs() >= 100.0 => format!("{v:.2}"),
            Unit::Money => format!("{v:.4}"),
        }
    }

    /// An absolute difference as the table prints it: with its sign, and
    /// for fractions in percentage points.
    pub fn format_diff(self, d: f64) -> String {
        let sign = if d > 0.0 {
            "+"
        } else if d < 0.0 {
            "-"
        } else {
            "±"
        };
        let a = d.abs();
        match self {
            Unit::Fraction => format!("{sign}{:.3} pp", a * 100.0),
            _ => format!("{sign}{}", self.format(a)),
        }
    }
}

/// What a row is about: one workload, one service, or the whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// A workload, by name.
    Workload,
    /// A service, by name.
    Service,
    /// The run as a whole (subject `""`).
    Overall,
    /// A topic, by name (counts summed over its subscriptions).
    Topic,
    /// A data copy, `DATA@HOLDER`.
    Copy,
    /// A saga endpoint, `service.endpoint`.
    Saga,
    /// A tracked endpoint (executions per logical call),
    /// `service.endpoint`.
    Endpoint,
}

impl Scope {
    /// The scope's name in CSV.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Workload => "workload",
            Scope::Service => "service",
            Scope::Overall => "overall",
            Scope::Topic => "topic",
            Scope::Copy => "copy",
            Scope::Saga => "saga",
            Scope::Endpoint => "endpoint",
        }
    }
}

/// Which direction of a difference is an improvement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    /// More is better (availability, throughput).
    Higher,
    /// Less is better (latency, queue length, cost).
    Lower,
    /// Neither: the number describes the variant (requests offered,
    /// replicas, utilisation), it does not judge it.
    Neutral,
}

/// One comparable quantity: `get` reads it for one subject (a workload or
/// service name; `""` for [`Scope::Overall`]) from a run's summary, `None`
/// when the run has no such value (no successful request, so no latency;
/// or a subject the variant does not have).
#[derive(Debug, Clone, Copy)]
pub struct Metric {
    /// The metric's name in tables, JSON and CSV.
    pub name: &'static str,
    /// How it is printed.
    pub unit: Unit,
    /// Which direction is an improvement.
    pub better: Better,
    /// Reads the value from a run's summary.
    pub get: fn(&Summary, &str) -> Option<f64>,
}

fn latency(
    s: &Summary,
    w: &str,
    f: fn(&crate::metrics::latency::LatencySummary) -> f64,
) -> Option<f64> {
    s.workloads.get(w)?.latency_ms.as_ref().map(f)
}

/// The per-workload rows, in table order.
pub const WORKLOAD_METRICS: &[Metric] = &[
    Metric {
        name: "requests",
        unit: Unit::Count,
        better: Better::Neutral,
        get: |s, w| s.workloads.get(w).map(|r| r.requests as f64),
    },
    Metric {
        name: "availability",
        unit: Unit::Fraction,
        better: Better::Higher,
        get: |s, w| s.workloads.get(w)?.availability,
    },
    Metric {
        name: "throughput",
        unit: Unit::PerSecond,
        better: Better::Higher,
        get: |s, w| s.workloads.get(w).map(|r| r.throughput_rps),
    },
    Metric {
        name: "p50",
        unit: Unit::Ms,
        better: Better::Lower,
        get: |s, w| latency(s, w, |l| l.p50),
    },
    Metric {
        name: "p99",
        unit: Unit::Ms,
        better: Better::Lower,
        get: |s, w| latency(s, w, |l| l.p99),
    },
    Metric {
        name: "p99.9",
        unit: Unit::Ms,
        better: Better::Lower,
        get: |s, w| latency(s, w, |l| l.p999),
    },
];

/// The per-service rows, in table order.
pub const SERVICE_METRICS: &[Metric] = &[
    Metric {
        name: "replicas",
        unit: Unit::Count,
        better: Better::Neutral,
        get: |s, v| s.services.get(v).map(|r| f64::from(r.replicas)),
    },
    Metric {
        name: "utilization",
        unit: Unit::Fraction,
        better: Better::Neutral,
        get: |s, v| s.services.get(v).map(|r| r.utilization),
    },
    Metric {
        name: "mean queue",
        unit: Unit::Number,
        better: Better::Lower,
        get: |s, v| s.services.get(v).map(|r| r.mean_queue_length),
    },
    Metric {
        name: "rejected",
        unit: Unit::Count,
        better: Better::Lower,
        get: |s, v| s.services.get(v).map(|r| r.rejected as f64),
    },
    Metric {
        name: "mean replicas",
        unit: Unit::Number,
        better: Better::Neutral,
        get: |s, v| {
            let r = s.services.get(v)?;
            Some(
                r.scaling
                    .as_ref()
                    .map_or(f64::from(r.replicas), |x| x.mean_replicas),
            )
        },
    },
    Metric {
        name: "cost/hour",
        unit: Unit::Money,
        better: Better::Lower,
        get: |s, v| s.cost.as_ref()?.services.get(v).map(|c| c.per_hour),
    },
];

/// Rows about the run as a whole: every workload's requests pooled, and
/// the cost model's totals when the scenario prices something.
pub const OVERALL_METRICS: &[Metric] = &[
    Metric {
        name: "requests",
        unit: Unit::Count,
        better: Better::Neutral,
        get: |s, _| Some(s.workloads.values().map(|r| r.requests as f64).sum()),
    },
    Metric {
        name: "availability",
        unit: Unit::Fraction,
        better: Better::Higher,
        get: |s, _| {
            let good: u64 = s.workloads.values().map(|r| r.ok + r.degraded).sum();
            let failed: u64 = s.workloads.values().map(|r| r.failed).sum();
            (good + failed > 0).then(|| good as f64 / (good + failed) as f64)
        },
    },
    Metric {
        name: "throughput",
        unit: Unit::PerSecond,
        better: Better::Higher,
        get: |s, _| Some(s.workloads.values().map(|r| r.throughput_rps).sum()),
    },
    Metric {
        name: "cost",
        unit: Unit::Money,
        better: Better::Lower,
        get: |s, _| s.cost.as_ref().map(|c| c.total),
    },
    Metric {
        name: "cost/hour",
        unit: Unit::Money,
        better: Better::Lower,
        get: |s, _| s.cost.as_ref().map(|c| c.per_hour),
    },
    Metric {
        name: "cost/1M ok",
        unit: Unit::Money,
        better: Better::Lower,
        get: |s, _| s.cost.as_ref()?.per_million_ok,
    },
];

fn topic<'a>(s: &'a Summary, t: &str) -> Option<&'a crate::metrics::messaging::TopicSummary> {
    s.messaging.as_ref()?.topics.get(t)
}

/// `f` summed over topic `t`'s subscriptions.
fn delivery(
    s: &Summary,
    t: &str,
    f: fn(&crate::metrics::messaging::SubscriptionSummary) -> u64,
) -> Option<f64> {
    Some(topic(s, t)?.subscriptions.values().map(f).sum::<u64>() as f64)
}

/// The per-topic rows (with brokers): what a publisher's outbox or a
/// consumer's retries change.
pub const TOPIC_METRICS: &[Metric] = &[
    Metric {
        name: "published",
        unit: Unit::Count,
        better: Better::Neutral,
        get: |s, t| topic(s, t).map(|x| x.published as f64),
    },
    Metric {
        name: "lost",
        unit: Unit::Count,
        better: Better::Lower,
        get: |s, t| topic(s, t).map(|x| x.lost as f64),
    },
    Metric {
        name: "in outbox",
        unit: Unit::Count,
        better: Better::Neutral,
        get: |s, t| topic(s, t).map(|x| x.in_outbox as f64),
    },
    Metric {
        name: "delivered",
        unit: Unit::Count,
        better: Better::Higher,
        get: |s, t| delivery(s, t, |r| r.delivered),
    },
    Metric {
        name: "redelivered",
        unit: Unit::Count,
        better: Better::Lower,
        get: |s, t| delivery(s, t, |r| r.redelivered),
    },
    Metric {
        name: "dead-lettered",
        unit: Unit::Count,
        better: Better::Lower,
        get: |s, t| delivery(s, t, |r| r.dead_lettered),
    },
    Metric {
        name: "max lag",
        unit: Unit::Count,
        better: Better::Lower,
        get: |s, t| {
            let x = topic(s, t)?;
            Some(
                x.subscriptions
                    .values()
                    .map(|r| r.max_lag)
                    .max()
                    .unwrap_or(0) as f64,
            )
        },
    },
];

fn copy<'a>(s: &'a Summary, c: &str) -> Option<&'a crate::metrics::messaging::ConsistencyPeriod> {
    Some(&s.messaging.as_ref()?.copies.get(c)?.all)
}

/// The per-copy rows (with `[data]`): how stale the copy was.
pub const COPY_METRICS: &[Metric] = &[
    Metric {
        name: "unconverged",
        unit: Unit::Count,
        better: Better::Lower,
        get: |s, c| copy(s, c).map(|p| p.unconverged as f64),
    },
    Metric {
        name: "window p50",
        unit: Unit::Ms,
        better: Better::Lower,
        get: |s, c| copy(s, c)?.window_ms.as_ref().map(|l| l.p50),
    },
    Metric {
        name: "window p99",
        unit: Unit::Ms,
        better: Better::Lower,
        get: |s, c| copy(s, c)?.window_ms.as_ref().map(|l| l.p99),
    },
    Metric {
        name: "stale rate",
        unit: Unit::Fraction,
        better: Better::Lower,
        get: |s, c| copy(s, c)?.stale_read_rate,
    },
];

/// The per-saga-endpoint rows: how its sagas ended.
pub const SAGA_METRICS: &[Metric] = &[
    Metric {
        name: "started",
        unit: Unit::Count,
        better: Better::Neutral,
        get: |s, g| s.sagas.get(g).map(|x| x.started as f64),
    },
    Metric {
        name: "completed",
        unit: Unit::Count,
        better: Better::Higher,
        get: |s, g| s.sagas.get(g).map(|x| x.completed as f64),
    },
    Metric {
        name: "compensated",
        unit: Unit::Count,
        better: Better::Neutral,
        get: |s, g| s.sagas.get(g).map(|x| x.compensated as f64),
    },
    Metric {
        name: "inconsistent",
        unit: Unit::Count,
        better: Better::Lower,
        get: |s, g| s.sagas.get(g).map(|x| x.inconsistent as f64),
    },
    Metric {
        name: "p99",
        unit: Unit::Ms,
        better: Better::Lower,
        get: |s, g| s.sagas.get(g)?.duration_ms.as_ref().map(|l| l.p99),
    },
];

/// The per-tracked-endpoint rows: duplicate side effects, and what
/// idempotency keys absorbed.
pub const EXECUTION_METRICS: &[Metric] = &[
    Metric {
        name: "logical calls",
        unit: Unit::Count,
        better: Better::Neutral,
        get: |s, e| s.executions.get(e).map(|x| x.logical_calls as f64),
    },
    Metric {
        name: "duplicates",
        unit: Unit::Count,
        better: Better::Lower,
        get: |s, e| s.executions.get(e).map(|x| x.duplicates as f64),
    },
    Metric {
        name: "deduplicated",
        unit: Unit::Count,
        better: Better::Neutral,
        get: |s, e| s.executions.get(e).map(|x| x.deduplicated as f64),
    },
];

/// One compared variant: what ran and what it produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantResult {
    /// The variant's name (a column header, a directory under `--out`).
    pub name: String,
    /// The scenario file it ran.
    pub file: String,
    /// Its own overrides (`PATH=VALUE`), after the common `--set`s.
    pub overrides: Vec<String>,
    /// The seed it ran with.
    pub seed: u64,
    /// Its full summary.
    pub summary: Summary,
}

/// One variant's value of a metric and its difference to the first
/// variant's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantCell {
    /// The variant's name.
    pub variant: String,
    /// Its value; `null` when it has none.
    pub value: Option<f64>,
    /// value minus the first variant's value; `null` for the first variant
    /// and when either value is missing.
    pub diff: Option<f64>,
    /// `diff` relative to the first variant's value (-0.25 is 25% less);
    /// `null` where `diff` is, and when the first value is 0 and the
    /// difference is not.
    pub rel_diff: Option<f64>,
    /// "better", "worse" or "same" (a difference of exactly 0); `null` for
    /// the first variant, missing values and changes of neutral metrics.
    pub verdict: Option<String>,
}

/// One metric of one subject across all variants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// What the row is about.
    pub scope: Scope,
    /// The workload or service name; `""` for the whole run.
    pub subject: String,
    /// The metric's name.
    pub metric: String,
    /// Its unit.
    pub unit: Unit,
    /// Which direction is an improvement.
    pub better: Better,
    /// One cell per variant, in variant order.
    pub cells: Vec<VariantCell>,
}

/// A whole comparison (`compare.json`, `--json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The seed every variant shared (common random numbers), when they
    /// all did.
    pub seed: Option<u64>,
    /// The variants in order; the first is the one the others are
    /// compared with.
    pub variants: Vec<VariantResult>,
    /// Workload rows (per workload, in order of first appearance), then
    /// service rows, then whole-run rows.
    pub rows: Vec<Row>,
}

/// The difference of `value` to `base` under `metric`'s direction.
fn cell(
    variant: &str,
    value: Option<f64>,
    base: Option<f64>,
    better: Better,
    first: bool,
) -> VariantCell {
    let diff = match (first, value, base) {
        (false, Some(v), Some(b)) => Some(v - b),
        _ => None,
    };
    let rel_diff = match (diff, base) {
        (Some(0.0), _) => Some(0.0),
        (Some(d), Some(b)) if b != 0.0 => Some(d / b.abs()),
        _ => None,
    };
    let verdict = diff.and_then(|d| {
        if d == 0.0 {
            return Some("same".to_string());
        }
        let up_is_good = match better {
            Better::Higher => true,
            Better::Lower => false,
            Better::Neutral => return None,
        };
        Some(
            if (d > 0.0) == up_is_good {
                "better"
            } else {
                "worse"
            }
            .to_string(),
        )
    });
    VariantCell {
        variant: variant.to_string(),
        value,
        diff,
        rel_diff,
        verdict,
    }
}

/// Rows for `subjects` of one scope.
fn rows_for(
    variants: &[VariantResult],
    scope: Scope,
    subjects: &IndexSet<String>,
    metrics: &[Metric],
) -> Vec<Row> {
    let mut rows = Vec::new();
    for subject in subjects {
        for m in metrics {
            let values: Vec<Option<f64>> = variants
                .iter()
                .map(|v| (m.get)(&v.summary, subject).filter(|x| x.is_finite()))
                .collect();
            if m.unit == Unit::Money && values.iter().all(Option::is_none) {
                continue; // Nothing priced in any variant: no cost rows.
            }
            let base = values.first().copied().flatten();
            let cells = variants
                .iter()
                .zip(&values)
                .enumerate()
                .map(|(i, (v, value))| cell(&v.name, *value, base, m.better, i == 0))
                .collect();
            rows.push(Row {
                scope,
                subject: subject.clone(),
                metric: m.name.to_string(),
                unit: m.unit,
                better: m.better,
                cells,
            });
        }
    }
    rows
}

/// Components named in a workload's attribution rows: at most this many,
/// each at least [`ATTRIBUTION_MIN_SHARE`] of some variant's slowest 1%.
pub const ATTRIBUTION_TOP: usize = 5;
/// See [`ATTRIBUTION_TOP`].
pub const ATTRIBUTION_MIN_SHARE: f64 = 0.05;

/// Where a workload's tail went between variants: the mean latency of
/// its slowest 1% (`slowest 1%: mean`, lower better) and the part of it
/// from each of the top components (`slowest 1%: payment queue`), in ms,
/// without a verdict: each variant's slowest 1% is a different set of
/// requests, so a component growing there is often the bottleneck moving
/// (a third Payment replica empties its queue, and the tail becomes
/// Payment's long work), not that component getting worse.
/// Milliseconds rather than shares: the components' differences add up
/// to the difference of the mean, while a share also moves when another
/// component grows. The components are those with at least
/// [`ATTRIBUTION_MIN_SHARE`] of the slowest 1% in some variant, the
/// [`ATTRIBUTION_TOP`] largest by their largest share (ties in the
/// order first met); a variant without that component has 0 ms of it,
/// one without a slowest 1% no value. No rows when no variant has
/// attribution for the workload.
fn attribution_rows(variants: &[VariantResult], workload: &str) -> Vec<Row> {
    use super::attribution::Key;
    let tails: Vec<Option<&crate::metrics::attribution::Breakdown>> = variants
        .iter()
        .map(|v| {
            v.summary
                .attribution
                .get(workload)
                .and_then(|a| a.slowest.as_ref())
                .filter(|b| b.requests > 0)
        })
        .collect();
    if tails.iter().all(Option::is_none) {
        return Vec::new();
    }
    let mut top: Vec<(Key, f64)> = Vec::new();
    for c in tails.iter().flatten().flat_map(|b| &b.components) {
        let key = Key::of(c);
        match top.iter_mut().find(|(k, _)| *k == key) {
            Some((_, s)) => *s = s.max(c.share),
            None => top.push((key, c.share)),
        }
    }
    top.retain(|(_, s)| *s >= ATTRIBUTION_MIN_SHARE);
    top.sort_by(|a, b| b.1.total_cmp(&a.1));
    top.truncate(ATTRIBUTION_TOP);
    let row = |metric: String, better: Better, values: Vec<Option<f64>>| {
        let base = values.first().copied().flatten();
        Row {
            scope: Scope::Workload,
            subject: workload.to_string(),
            metric,
            unit: Unit::Ms,
            better,
            cells: variants
                .iter()
                .zip(&values)
                .enumerate()
                .map(|(i, (v, value))| cell(&v.name, *value, base, better, i == 0))
                .collect(),
        }
    };
    let mut rows = vec![row(
        "slowest 1%: mean".to_string(),
        Better::Lower,
        tails.iter().map(|t| t.map(|b| b.mean_ms)).collect(),
    )];
    for (key, _) in top {
        let values = tails
            .iter()
            .map(|t| {
                t.map(|b| {
                    b.components
                        .iter()
                        .find(|c| Key::of(c) == key)
                        .map_or(0.0, |c| c.mean_ms)
                })
            })
            .collect();
        rows.push(row(
            format!("slowest 1%: {}", key.label()),
            Better::Neutral,
            values,
        ));
    }
    rows
}

/// Compares `variants` (at least one; the first is the reference).
/// Workloads and services are those of any variant, in order of first
/// appearance.
pub fn compare(variants: Vec<VariantResult>) -> Comparison {
    let workloads: IndexSet<String> = variants
        .iter()
        .flat_map(|v| v.summary.workloads.keys().cloned())
        .collect();
    let services: IndexSet<String> = variants
        .iter()
        .flat_map(|v| v.summary.services.keys().cloned())
        .collect();
    let overall: IndexSet<String> = std::iter::once(String::new()).collect();
    let mut rows = Vec::new();
    for w in &workloads {
        let one: IndexSet<String> = std::iter::once(w.clone()).collect();
        rows.extend(rows_for(&variants, Scope::Workload, &one, WORKLOAD_METRICS));
        rows.extend(attribution_rows(&variants, w));
    }
    rows.extend(rows_for(
        &variants,
        Scope::Service,
        &services,
        SERVICE_METRICS,
    ));
    // Messaging, copies, sagas and executions only when some variant has
    // them, so other comparisons read as before.
    let subjects = |f: fn(&Summary) -> Vec<String>| -> IndexSet<String> {
        variants.iter().flat_map(|v| f(&v.summary)).collect()
    };
    let topics = subjects(|s| {
        s.messaging
            .iter()
            .flat_map(|m| m.topics.keys().cloned())
            .collect()
    });
    let copies = subjects(|s| {
        s.messaging
            .iter()
            .flat_map(|m| m.copies.keys().cloned())
            .collect()
    });
    let sagas = subjects(|s| s.sagas.keys().cloned().collect());
    let endpoints = subjects(|s| s.executions.keys().cloned().collect());
    rows.extend(rows_for(&variants, Scope::Topic, &topics, TOPIC_METRICS));
    rows.extend(rows_for(&variants, Scope::Copy, &copies, COPY_METRICS));
    rows.extend(rows_for(&variants, Scope::Saga, &sagas, SAGA_METRICS));
    rows.extend(rows_for(
        &variants,
        Scope::Endpoint,
        &endpoints,
        EXECUTION_METRICS,
    ));
    rows.extend(rows_for(
        &variants,
        Scope::Overall,
        &overall,
        OVERALL_METRICS,
    ));
    let seed = variants
        .first()
        .map(|v| v.seed)
        .filter(|s| variants.iter().all(|v| v.seed == *s));
    Comparison {
        seed,
        variants,
        rows,
    }
}

/// `compare.json`: pretty JSON with a trailing newline, byte-stable like
/// `summary.json`.
pub fn comparison_json(c: &Comparison) -> String {
    let mut s = serde_json::to_string_pretty(c).expect("a comparison is plain data");
    s.push('\n');
    s
}

fn num(v: Option<f64>) -> String {
    v.map_or_else(String::new, |v| v.to_string())
}

/// `compare.csv`, long format: a line per row and variant with
/// `scope, subject, metric, unit, variant, value, diff, rel_diff, verdict`
/// (empty fields where the JSON has `null`).
pub fn comparison_csv(c: &Comparison) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "scope", "subject", "metric", "unit", "variant", "value", "diff", "rel_diff", "verdict",
    ])?;
    for r in &c.rows {
        for cell in &r.cells {
            w.write_record([
                r.scope.name(),
                &r.subject,
                &r.metric,
                r.unit.name(),
                &cell.variant,
                &num(cell.value),
                &num(cell.diff),
                &num(cell.rel_diff),
                cell.verdict.as_deref().unwrap_or(""),
            ])?;
        }
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// The currency of the variants' costs (the first priced one's).
pub fn currency(c: &Comparison) -> String {
    c.variants
        .iter()
        .find_map(|v| v.summary.cost.as_ref().map(|x| x.currency.clone()))
        .unwrap_or_else(|| Unit::Money.name().to_string())
}

/// Warnings about variants whose costs cannot be compared: priced in
/// different currencies.
pub fn currency_warnings(c: &Comparison) -> Vec<String> {
    let first = currency(c);
    c.variants
        .iter()
        .filter_map(|v| {
            let cur = &v.summary.cost.as_ref()?.currency;
            (*cur != first).then(|| {
                format!(
                    "warning: variant `{}` prices in {cur}, the first priced variant in {first}: their costs are compared as plain numbers",
                    v.name
                )
            })
        })
        .collect()
}

/// A difference cell: `-12.30 (-45.1%) better`; fractions in percentage
/// points only; `-` when there is no difference to show.
pub(super) fn diff_text(r: &Row, c: &VariantCell) -> String {
    let Some(d) = c.diff else {
        return "-".to_string();
    };
    let mut s = r.unit.format_diff(d);
    if r.unit != Unit::Fraction && d != 0.0 {
        match c.rel_diff {
            Some(rel) => s.push_str(&format!(" ({:+.1}%)", rel * 100.0)),
            None => s.push_str(" (new)"),
        }
    }
    if let Some(v) = &c.verdict {
        s.push(' ');
        s.push_str(v);
    }
    s
}

fn table(header: Vec<String>) -> Table {
    let n = header.len();
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(header.into_iter().map(Cell::new));
    for i in 1..n {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    t
}

/// A table of `rows` (all of one subject unless `subject_column`): a
/// column per variant's value and, after the first, its difference to it.
fn rows_table(c: &Comparison, rows: &[&Row], subject_column: Option<&str>) -> String {
    let first = c.variants.first().map_or("", |v| v.name.as_str());
    let mut header: Vec<String> = subject_column.map(String::from).into_iter().collect();
    header.push("metric".into());
    for (i, v) in c.variants.iter().enumerate() {
        header.push(v.name.clone());
        if i > 0 {
            header.push(format!("vs {first}"));
        }
    }
    let mut t = table(header);
    // Money is in the scenarios' currency (they all share one; see
    // `currency`).
    let currency = currency(c);
    for r in rows {
        let mut line: Vec<String> = subject_column
            .map(|_| r.subject.clone())
            .into_iter()
            .collect();
        let unit = if r.unit == Unit::Money {
            currency.as_str()
        } else {
            r.unit.name()
        };
        line.push(if unit.is_empty() || r.unit == Unit::Fraction {
            r.metric.clone()
        } else {
            format!("{} {unit}", r.metric)
        });
        for (i, cell) in r.cells.iter().enumerate() {
            line.push(cell.value.map_or_else(|| "-".into(), |v| r.unit.format(v)));
            if i > 0 {
                line.push(diff_text(r, cell));
            }
        }
        t.add_row(line);
    }
    t.to_string()
}

/// What a group of comparison rows is about, as the tables head it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section<'a> {
    /// One workload's rows: its name and entry endpoint.
    Workload {
        /// The workload's name.
        name: &'a str,
        /// Its entry endpoint (`service.endpoint`), `""` if unknown.
        target: &'a str,
    },
    /// Every service's rows.
    Services,
    /// Every topic's, copy's, saga endpoint's or tracked endpoint's
    /// rows: the heading, and the name of the subject column.
    Group {
        /// The heading (`topics`).
        title: &'static str,
        /// The subject column's name (`topic`).
        subject: &'static str,
    },
    /// The whole-run rows.
    Overall,
}

/// The rows as the tables show them (text and HTML alike): per workload
/// in order of first appearance, then the services, the topics, data
/// copies, sagas and tracked endpoints, then the whole run; groups
/// without rows are left out.
pub fn sections(c: &Comparison) -> Vec<(Section<'_>, Vec<&Row>)> {
    let of = |scope: Scope, subject: Option<&str>| -> Vec<&Row> {
        c.rows
            .iter()
            .filter(|r| r.scope == scope && subject.is_none_or(|s| r.subject == s))
            .collect()
    };
    let mut workloads: IndexSet<&str> = IndexSet::new();
    for r in c.rows.iter().filter(|r| r.scope == Scope::Workload) {
        workloads.insert(&r.subject);
    }
    let mut out: Vec<(Section<'_>, Vec<&Row>)> = workloads
        .into_iter()
        .map(|name| {
            let target = c
                .variants
                .iter()
                .find_map(|v| v.summary.workloads.get(name))
                .map_or("", |r| r.target.as_str());
            (
                Section::Workload { name, target },
                of(Scope::Workload, Some(name)),
            )
        })
        .collect();
    let group = |title, subject| Section::Group { title, subject };
    for (section, scope) in [
        (Section::Services, Scope::Service),
        (group("topics", "topic"), Scope::Topic),
        (group("data copies", "copy"), Scope::Copy),
        (group("sagas", "saga"), Scope::Saga),
        (group("executions", "endpoint"), Scope::Endpoint),
        (Section::Overall, Scope::Overall),
    ] {
        let rows = of(scope, None);
        if !rows.is_empty() {
            out.push((section, rows));
        }
    }
    out
}

/// The side-by-side tables: one per workload, one for the services and
/// one for the whole run.
pub fn comparison_tables(c: &Comparison) -> String {
    let names: Vec<&str> = c.variants.iter().map(|v| v.name.as_str()).collect();
    let mut out = match c.seed {
        Some(seed) => format!(
            "compare {} (seed {seed} for all: common random numbers)\n\n",
            names.join(" vs ")
        ),
        None => format!("compare {} (different seeds)\n\n", names.join(" vs ")),
    };
    for (section, rows) in sections(c) {
        match section {
            Section::Workload { name, target } => {
                out.push_str(&format!("workload {name} ({target})\n"));
                out.push_str(&rows_table(c, &rows, None));
                out.push_str("\n\n");
            }
            Section::Services => {
                out.push_str("services\n");
                out.push_str(&rows_table(c, &rows, Some("service")));
                out.push_str("\n\n");
            }
            Section::Group { title, subject } => {
                out.push_str(&format!("{title}\n"));
                out.push_str(&rows_table(c, &rows, Some(subject)));
                out.push_str("\n\n");
            }
            Section::Overall => {
                out.push_str("all workloads\n");
                out.push_str(&rows_table(c, &rows, None));
                out.push('\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::latency::LatencySummary;

    /// A real (tiny) run's summary with the compared fields set, so the
    /// test does not depend on every field of the summary types.
    fn summary(p99: f64, availability: f64, replicas: u32) -> Summary {
        let model = crate::scenario::test_model(
            r#"
            [simulation]
            duration = "1s"
            seed = 1
            [services.api.endpoints.get]
            work = "1ms"
            [[workloads]]
            name = "w"
            target = "api.get"
            arrival = { process = "constant", rate = 10 }
            "#,
        );
        let mut s = crate::simulation::run(&model).unwrap().summary;
        let w = s.workloads.get_mut("w").unwrap();
        w.requests = 1000;
        w.ok = (availability * 1000.0) as u64;
        w.degraded = 0;
        w.failed = 1000 - w.ok;
        w.availability = Some(availability);
        w.throughput_rps = 100.0;
        w.latency_ms = Some(LatencySummary {
            mean: 1.0,
            p50: 1.0,
            p90: 2.0,
            p99,
            p999: p99 * 2.0,
            max: p99 * 3.0,
        });
        let a = s.services.get_mut("api").unwrap();
        a.replicas = replicas;
        a.utilization = 0.5;
        a.mean_queue_length = 0.1;
        a.rejected = 0;
        s
    }

    fn variant(name: &str, s: Summary) -> VariantResult {
        VariantResult {
            name: name.into(),
            file: "t.toml".into(),
            overrides: Vec::new(),
            seed: s.seed,
            summary: s,
        }
    }

    fn plain_summary() -> Summary {
        let mut s = summary(1.0, 1.0, 1);
        s.attribution.clear();
        s
    }

    #[test]
    fn attribution_rows_show_where_the_tail_went_in_ms() {
        use crate::report::attribution::tests::{attribution_with, model};
        let m = model();
        let mut a = summary(120.0, 1.0, 1);
        let mut b = summary(60.0, 1.0, 2);
        a.attribution
            .insert("w".into(), attribution_with(&m, 90_000_000));
        // Payment queueing of the slow requests down from 90 ms to 10 ms.
        b.attribution
            .insert("w".into(), attribution_with(&m, 10_000_000));
        let plain = plain_summary();
        let c = compare(vec![variant("a", a), variant("b", b), variant("c", plain)]);
        let metrics: Vec<&str> = c
            .rows
            .iter()
            .filter(|r| r.metric.starts_with("slowest 1%"))
            .map(|r| r.metric.as_str())
            .collect();
        // Shares in a: queue 75%, work 16.7%, network 6.7%, the rest
        // under 5%; in b (40 ms): work 50%, queue 25%, network 20%.
        assert_eq!(
            metrics,
            [
                "slowest 1%: mean",
                "slowest 1%: payment queue",
                "slowest 1%: payment work",
                "slowest 1%: network"
            ]
        );
        let q = row(&c, Scope::Workload, "slowest 1%: payment queue");
        assert_eq!(q.unit, Unit::Ms);
        assert_eq!(q.cells[0].value, Some(90.0));
        assert_eq!(q.cells[1].diff, Some(-80.0));
        // Components of a different set of requests: no verdict.
        assert_eq!(q.cells[1].verdict, None);
        // A variant without attribution has no value, not 0.
        assert_eq!(q.cells[2].value, None);
        let mean = row(&c, Scope::Workload, "slowest 1%: mean");
        assert_eq!(mean.cells[1].diff, Some(-80.0));
        assert_eq!(mean.cells[1].verdict.as_deref(), Some("better"));
        // They follow the workload's own rows.
        let at = |m: &str| c.rows.iter().position(|r| r.metric == m).unwrap();
        assert_eq!(at("slowest 1%: mean"), at("p99.9") + 1);
        // Without attribution anywhere, no such rows.
        let c = compare(vec![variant("a", plain_summary())]);
        assert!(c.rows.iter().all(|r| !r.metric.starts_with("slowest")));
    }

    fn row<'a>(c: &'a Comparison, scope: Scope, metric: &str) -> &'a Row {
        c.rows
            .iter()
            .find(|r| r.scope == scope && r.metric == metric)
            .unwrap()
    }

    #[test]
    fn differences_have_sign_relative_size_and_direction() {
        let c = compare(vec![
            variant("a", summary(40.0, 0.99, 1)),
            variant("b", summary(10.0, 0.995, 3)),
        ]);
        let p99 = &row(&c, Scope::Workload, "p99").cells[1];
        assert_eq!(p99.diff, Some(-30.0));
        assert_eq!(p99.rel_diff, Some(-0.75));
        assert_eq!(p99.verdict.as_deref(), Some("better"));
        let avail = &row(&c, Scope::Workload, "availability").cells[1];
        assert!((avail.diff.unwrap() - 0.005).abs() < 1e-12);
        assert_eq!(avail.verdict.as_deref(), Some("better"));
        // Neutral metrics change without a verdict.
        let replicas = &row(&c, Scope::Service, "replicas").cells[1];
        assert_eq!(
            (replicas.diff, replicas.verdict.as_deref()),
            (Some(2.0), None)
        );
        // The reference column has no difference.
        assert_eq!(row(&c, Scope::Workload, "p99").cells[0].diff, None);
        // Worse is worse.
        let c = compare(vec![
            variant("a", summary(10.0, 0.99, 1)),
            variant("b", summary(20.0, 0.9, 1)),
        ]);
        assert_eq!(
            row(&c, Scope::Workload, "p99").cells[1].verdict.as_deref(),
            Some("worse")
        );
        assert_eq!(
            row(&c, Scope::Workload, "availability").cells[1]
                .verdict
                .as_deref(),
            Some("worse")
        );
        let t = comparison_tables(&c);
        assert!(t.contains("+10.00 (+100.0%) worse"), "{t}");
        assert!(t.contains("-9.000 pp worse"), "{t}");
    }

    #[test]
    fn identical_variants_differ_by_exactly_zero() {
        let c = compare(vec![
            variant("a", summary(40.0, 0.99, 2)),
            variant("b", summary(40.0, 0.99, 2)),
        ]);
        for r in &c.rows {
            let cell = &r.cells[1];
            assert_eq!(cell.diff, Some(0.0), "{} {}", r.subject, r.metric);
            assert_eq!(cell.rel_diff, Some(0.0));
            assert_eq!(cell.verdict.as_deref(), Some("same"));
        }
    }

    #[test]
    fn missing_values_and_zero_baselines_have_no_made_up_differences() {
        let mut b = summary(40.0, 0.99, 1);
        b.workloads.get_mut("w").unwrap().latency_ms = None;
        b.services.get_mut("api").unwrap().rejected = 5;
        let c = compare(vec![variant("a", summary(40.0, 0.99, 1)), variant("b", b)]);
        let p99 = &row(&c, Scope::Workload, "p99").cells[1];
        assert_eq!(
            (p99.value, p99.diff, p99.verdict.as_deref()),
            (None, None, None)
        );
        // From 0 to 5 rejections: a difference, but no relative one.
        let rej = &row(&c, Scope::Service, "rejected").cells[1];
        assert_eq!((rej.diff, rej.rel_diff), (Some(5.0), None));
        assert_eq!(rej.verdict.as_deref(), Some("worse"));
        assert!(comparison_tables(&c).contains("+5 (new) worse"));
    }

    #[test]
    fn csv_is_long_format_with_a_line_per_row_and_variant() {
        let c = compare(vec![
            variant("a", summary(40.0, 0.99, 1)),
            variant("b", summary(10.0, 0.99, 1)),
        ]);
        let text = String::from_utf8(comparison_csv(&c).unwrap()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1 + 2 * c.rows.len());
        assert!(
            lines.contains(&"workload,w,p99,ms,b,10,-30,-0.75,better"),
            "{text}"
        );
        assert!(lines.contains(&"workload,w,p99,ms,a,40,,,"), "{text}");
    }

    #[test]
    fn units_format_values_and_signed_differences() {
        assert_eq!(Unit::Fraction.format_diff(-0.0123), "-1.230 pp");
        assert_eq!(Unit::Ms.format_diff(150.0), "+150.0");
        assert_eq!(Unit::Count.format_diff(0.0), "±0");
        assert_eq!(Unit::Money.format(12.345), "12.3450");
        assert_eq!(Unit::Money.format(1234.5), "1234.50");
    }
}
