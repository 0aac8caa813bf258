//! The metric catalogue: every number of a run's summary that a user can
//! name in a threshold (`--assert 'checkout.p99 < 250ms'`), a sweep column
//! or a capacity search, by one flat name.
//!
//! Names are `WORKLOAD.METRIC` (`checkout.p99`, `checkout.availability`),
//! `SERVICE.METRIC` (`payment.utilization`) and `cost.METRIC`
//! (`cost.per_million`). The workload, service and cost metric names are
//! disjoint sets, so a workload and a service with the same name never make
//! a name ambiguous. With messaging, sagas or tracked endpoints there are
//! also `topic.TOPIC.METRIC` (`topic.user-updated.lost`; delivery counts
//! summed over subscriptions), `topic.TOPIC.SERVICE.METRIC` (one
//! subscription: `topic.user-updated.order.delivery_p99`),
//! `DATA@HOLDER.METRIC` (`user-email@order.stale_rate`),
//! `saga.SERVICE.ENDPOINT.METRIC` (`saga.order.create.inconsistent`) and
//! `SERVICE.ENDPOINT.METRIC` (`payment.charge.duplicates`). Latency
//! attribution gives every workload `WORKLOAD.SET.SERVICE.KIND`
//! (`checkout.p99_share.payment.queue`: payment's queueing as a share of
//! the slowest 1%'s latency) and `WORKLOAD.SET.KIND`
//! (`checkout.mean_share.network`), SET `mean_share` (all requests) or
//! `p99_share` (the slowest 1%): their last words (queue, work, lost;
//! network, lookup, backoff) are no other kind's metrics, so they too
//! share no name with anything. In monolith mode, where the unit's work
//! is split by module (the services it was built from), the modules have
//! `WORKLOAD.SET.MODULE.work` (`checkout.p99_share.payment.work`); a
//! module named like the unit is the unit's own work. Names of
//! scenario things have no `.` or `@`, and a result's `TOPIC->SERVICE`
//! is not used because the threshold parser reads `>` as an operator; so
//! each kind's prefix has its own shape (dots, `@`, first word) and no two
//! metrics share a name. The catalogue of a model ([`catalog`]) lists the same
//! names in the same order as the values of any run of it ([`values`]), so
//! a sweep can check names before it runs and lay out columns once.

use super::result::Summary;
use crate::model::Model;

/// What a metric measures, which decides how a threshold on it is written
/// and how its value is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Milliseconds (latencies): thresholds take a duration (`250ms`,
    /// `0.25s`) or a bare number of milliseconds.
    Ms,
    /// A fraction in [0, 1] (availability, utilisation): thresholds take a
    /// percentage (`99.9%`) or a bare fraction (`0.999`).
    Fraction,
    /// Per second (throughput).
    PerSecond,
    /// A count of requests.
    Count,
    /// Money, in the scenario's currency.
    Money,
    /// A plain number (mean queue length, mean replicas).
    Number,
}

impl Unit {
    /// The unit as written after a value in tables and messages
    /// (`"ms"`, `"%"`, `"/s"`, `""`).
    pub fn suffix(self) -> &'static str {
        match self {
            Unit::Ms => "ms",
            Unit::Fraction => "%",
            Unit::PerSecond => "/s",
            Unit::Count | Unit::Money | Unit::Number => "",
        }
    }

    /// `value` for people: fractions as percentages, the rest with their
    /// unit, at a precision that suits the unit.
    pub fn show(self, value: f64) -> String {
        match self {
            Unit::Ms => format!("{} ms", sig(value)),
            Unit::Fraction => format!("{}%", sig(value * 100.0)),
            Unit::PerSecond => format!("{}/s", sig(value)),
            Unit::Count => format!("{value:.0}"),
            Unit::Money | Unit::Number => sig(value),
        }
    }
}

/// Decimals that give a number about four significant digits.
fn decimals(v: f64) -> usize {
    let a = v.abs();
    if a == 0.0 || a >= 1000.0 {
        1
    } else if a >= 100.0 {
        2
    } else if a >= 1.0 {
        3
    } else {
        4
    }
}

/// A number with about four significant digits and no exponent for the
/// magnitudes results have.
fn sig(v: f64) -> String {
    format!("{v:.0$}", decimals(v))
}

impl Unit {
    /// `mean ± half-width` (a 95% confidence interval) for people: the
    /// half-width with as many decimals as the mean, so the two read as
    /// one measurement (`99.950% ± 0.031%`, `128.97 ms ± 14.99 ms`);
    /// fractions in percentage points. Counts keep one decimal for the
    /// half-width, which is rarely whole.
    pub fn show_estimate(self, mean: f64, half_width: f64) -> String {
        let scale = if self == Unit::Fraction { 100.0 } else { 1.0 };
        let d = match self {
            Unit::Count => 1,
            _ => decimals(mean * scale),
        };
        let h = half_width * scale;
        let h = match self {
            Unit::Ms => format!("{h:.d$} ms"),
            Unit::Fraction => format!("{h:.d$}%"),
            Unit::PerSecond => format!("{h:.d$}/s"),
            Unit::Count | Unit::Money | Unit::Number => format!("{h:.d$}"),
        };
        format!("{} ± {h}", self.show(mean))
    }
}

/// A named metric and its unit.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MetricDef {
    /// The flat name (`checkout.p99`).
    pub name: String,
    /// What it measures.
    pub unit: Unit,
}

/// Per-workload metrics: (suffix, unit, description).
pub const WORKLOAD_METRICS: &[(&str, Unit, &str)] = &[
    (
        "requests",
        Unit::Count,
        "requests issued in the measured period",
    ),
    ("ok", Unit::Count, "requests that succeeded"),
    ("degraded", Unit::Count, "requests served with a fallback"),
    ("failed", Unit::Count, "requests that failed"),
    ("availability", Unit::Fraction, "ok / completed"),
    (
        "throughput",
        Unit::PerSecond,
        "completed requests per second",
    ),
    ("mean", Unit::Ms, "mean response time"),
    ("p50", Unit::Ms, "median response time"),
    ("p90", Unit::Ms, "90th percentile response time"),
    ("p99", Unit::Ms, "99th percentile response time"),
    ("p999", Unit::Ms, "99.9th percentile response time"),
    ("max", Unit::Ms, "longest response time"),
];

/// Per-service metrics: (suffix, unit, description).
pub const SERVICE_METRICS: &[(&str, Unit, &str)] = &[
    (
        "utilization",
        Unit::Fraction,
        "mean fraction of workers busy",
    ),
    ("rejected", Unit::Count, "calls refused by a full queue"),
    ("shed", Unit::Count, "calls shed by load shedding"),
    (
        "mean_queue",
        Unit::Number,
        "time-weighted mean queue length",
    ),
    ("mean_replicas", Unit::Number, "time-weighted mean replicas"),
];

/// Whole-run cost metrics, present when the scenario prices something:
/// (suffix, unit, description).
pub const COST_METRICS: &[(&str, Unit, &str)] = &[
    ("total", Unit::Money, "cost of the measured period"),
    ("per_hour", Unit::Money, "cost per hour"),
    (
        "per_million",
        Unit::Money,
        "cost per million successful requests",
    ),
];

/// The prefix of the cost metrics.
pub const COST: &str = "cost";

/// Per-topic metrics (`topic.TOPIC.METRIC`), present with brokers; the
/// delivery counts are summed over the topic's subscriptions and
/// `max_lag` is the largest of theirs: (suffix, unit, description).
pub const TOPIC_METRICS: &[(&str, Unit, &str)] = &[
    ("published", Unit::Count, "events published"),
    ("stored", Unit::Count, "events the broker stored"),
    (
        "lost",
        Unit::Count,
        "events never stored (failed publish, no outbox)",
    ),
    (
        "in_outbox",
        Unit::Count,
        "events still in an outbox at the end",
    ),
    (
        "delivered",
        Unit::Count,
        "events handled, all subscriptions",
    ),
    (
        "redelivered",
        Unit::Count,
        "deliveries beyond each event's first",
    ),
    (
        "dead_lettered",
        Unit::Count,
        "events given up after max_attempts",
    ),
    (
        "dropped",
        Unit::Count,
        "events dropped by a full consumer queue",
    ),
    (
        "pending",
        Unit::Count,
        "events not yet delivered at the end",
    ),
    ("max_lag", Unit::Count, "largest lag of any subscription"),
];

/// Per-subscription metrics (`topic.TOPIC.SERVICE.METRIC`): (suffix,
/// unit, description).
pub const SUBSCRIPTION_METRICS: &[(&str, Unit, &str)] = &[
    ("delivered", Unit::Count, "events handled"),
    (
        "redelivered",
        Unit::Count,
        "deliveries beyond each event's first",
    ),
    (
        "dead_lettered",
        Unit::Count,
        "events given up after max_attempts",
    ),
    (
        "dropped",
        Unit::Count,
        "events dropped by a full consumer queue",
    ),
    (
        "pending",
        Unit::Count,
        "events not yet delivered at the end",
    ),
    (
        "max_lag",
        Unit::Count,
        "largest lag (events not yet acknowledged)",
    ),
    ("mean_lag", Unit::Number, "time-weighted mean lag"),
    (
        "delivery_p50",
        Unit::Ms,
        "median time from publish to handled",
    ),
    (
        "delivery_p99",
        Unit::Ms,
        "99th percentile time from publish to handled",
    ),
];

/// Per-copy metrics (`DATA@HOLDER.METRIC`), over the whole measured
/// period: (suffix, unit, description).
pub const COPY_METRICS: &[(&str, Unit, &str)] = &[
    ("writes", Unit::Count, "owner's writes"),
    (
        "unconverged",
        Unit::Count,
        "writes the copy never caught up with",
    ),
    ("window_mean", Unit::Ms, "mean inconsistency window"),
    ("window_p50", Unit::Ms, "median inconsistency window"),
    (
        "window_p99",
        Unit::Ms,
        "99th percentile inconsistency window",
    ),
    ("window_max", Unit::Ms, "longest inconsistency window"),
    (
        "stale_reads",
        Unit::Count,
        "reads that saw an outdated item",
    ),
    ("stale_rate", Unit::Fraction, "stale reads / reads"),
];

/// Per-saga-endpoint metrics (`saga.SERVICE.ENDPOINT.METRIC`): (suffix,
/// unit, description).
pub const SAGA_METRICS: &[(&str, Unit, &str)] = &[
    ("started", Unit::Count, "sagas started"),
    ("completed", Unit::Count, "sagas whose every step succeeded"),
    ("compensated", Unit::Count, "sagas fully compensated"),
    (
        "inconsistent",
        Unit::Count,
        "sagas with a compensation that failed",
    ),
    ("interrupted", Unit::Count, "sagas lost in a crash"),
    (
        "compensation_failures",
        Unit::Count,
        "compensating calls that failed",
    ),
    ("p50", Unit::Ms, "median duration of ended sagas"),
    ("p99", Unit::Ms, "99th percentile duration of ended sagas"),
];

/// Per-tracked-endpoint metrics (`SERVICE.ENDPOINT.METRIC`): (suffix,
/// unit, description).
pub const EXECUTION_METRICS: &[(&str, Unit, &str)] = &[
    (
        "logical_calls",
        Unit::Count,
        "calls or events, with all their attempts",
    ),
    ("executions", Unit::Count, "successful executions"),
    (
        "duplicates",
        Unit::Count,
        "executions beyond one per logical call",
    ),
    (
        "deduplicated",
        Unit::Count,
        "repeats an idempotency key absorbed",
    ),
];

/// The two sets of requests latency attribution describes, as the middle
/// word of its metrics (`checkout.p99_share.payment.queue`): `mean_share`
/// for all measured successful requests (a component's share of their
/// mean latency), `p99_share` for the slowest 1% (at or above the p99).
pub const ATTRIBUTION_SETS: [&str; 2] = ["mean_share", "p99_share"];

/// Per-service attribution metrics (`WORKLOAD.SET.SERVICE.METRIC`, SET one
/// of [`ATTRIBUTION_SETS`]): (suffix, unit, description).
pub const ATTRIBUTION_SERVICE_METRICS: &[(&str, Unit, &str)] = &[
    (
        "queue",
        Unit::Fraction,
        "share of the latency spent queued for the service's workers",
    ),
    (
        "work",
        Unit::Fraction,
        "share of the latency spent in the service's work",
    ),
    (
        "lost",
        Unit::Fraction,
        "share of the latency lost on attempts to the service",
    ),
];

/// Per-module attribution metrics of a monolith (`WORKLOAD.SET.MODULE.METRIC`,
/// MODULE a service the unit was built from): (suffix, unit, description).
/// Only work: the unit's queue and lost attempts are the unit's, shared
/// by its modules.
pub const ATTRIBUTION_MODULE_METRICS: &[(&str, Unit, &str)] = &[(
    "work",
    Unit::Fraction,
    "share of the latency spent in the module's work (monolith mode)",
)];

/// Whole-request attribution metrics (`WORKLOAD.SET.METRIC`): (suffix,
/// unit, description).
pub const ATTRIBUTION_METRICS: &[(&str, Unit, &str)] = &[
    (
        "network",
        Unit::Fraction,
        "share of the latency on the network",
    ),
    (
        "lookup",
        Unit::Fraction,
        "share of the latency in registry lookups",
    ),
    (
        "backoff",
        Unit::Fraction,
        "share of the latency in retry backoff",
    ),
];

/// The prefix of the topic and subscription metrics.
pub const TOPIC: &str = "topic";
/// The prefix of the saga metrics.
pub const SAGA: &str = "saga";

/// The messaging, saga and execution subjects of a run or a model, in
/// the order their metrics are laid out: each as its metric prefix.
#[derive(Debug, Default)]
struct Extra {
    /// `topic.TOPIC`, each followed by its subscriptions'
    /// `topic.TOPIC.SERVICE`.
    topics: Vec<(String, Vec<String>)>,
    /// `DATA@HOLDER`.
    copies: Vec<String>,
    /// `saga.SERVICE.ENDPOINT`.
    sagas: Vec<String>,
    /// `SERVICE.ENDPOINT`.
    executions: Vec<String>,
    /// A monolith's modules, in attribution: `WORKLOAD.SET.MODULE`.
    modules: Vec<String>,
}

impl Extra {
    fn of_model(model: &Model) -> Extra {
        let m = &model.messaging;
        let service = |id: crate::model::ServiceId| model.services[id as usize].name.as_str();
        Extra {
            topics: m
                .topics
                .iter()
                .map(|t| {
                    let subs = t
                        .subscriptions
                        .iter()
                        .map(|&i| service(m.subscriptions[i as usize].service).to_string())
                        .collect();
                    (t.name.clone(), subs)
                })
                .collect(),
            copies: m.copies.iter().map(|c| model.copy_name(c)).collect(),
            sagas: model
                .endpoints
                .iter()
                .filter(|e| e.saga.is_some())
                .map(|e| e.name.clone())
                .collect(),
            executions: model
                .endpoints
                .iter()
                .filter(|e| e.tracked)
                .map(|e| e.name.clone())
                .collect(),
            modules: crate::metrics::attribution::modules(model)
                .into_iter()
                .map(String::from)
                .collect(),
        }
    }

    fn of_summary(s: &Summary) -> Extra {
        let m = s.messaging.as_ref();
        Extra {
            topics: m
                .map(|m| {
                    m.topics
                        .iter()
                        .map(|(n, t)| (n.clone(), t.subscriptions.keys().cloned().collect()))
                        .collect()
                })
                .unwrap_or_default(),
            copies: m
                .map(|m| m.copies.keys().cloned().collect())
                .unwrap_or_default(),
            sagas: s.sagas.keys().cloned().collect(),
            executions: s.executions.keys().cloned().collect(),
            modules: s.modules.clone(),
        }
    }
}

fn layout<'a>(
    workloads: impl Iterator<Item = &'a str>,
    services: impl Iterator<Item = &'a str>,
    priced: bool,
    extra: &Extra,
) -> Vec<MetricDef> {
    let workloads: Vec<&str> = workloads.collect();
    let services: Vec<&str> = services.collect();
    let mut defs = Vec::new();
    let mut add = |prefix: &str, table: &[(&str, Unit, &str)]| {
        for (m, unit, _) in table {
            defs.push(MetricDef {
                name: format!("{prefix}.{m}"),
                unit: *unit,
            });
        }
    };
    for w in &workloads {
        add(w, WORKLOAD_METRICS);
    }
    for s in &services {
        add(s, SERVICE_METRICS);
    }
    if priced {
        add(COST, COST_METRICS);
    }
    for (topic, subs) in &extra.topics {
        add(&format!("{TOPIC}.{topic}"), TOPIC_METRICS);
        for sub in subs {
            add(&format!("{TOPIC}.{topic}.{sub}"), SUBSCRIPTION_METRICS);
        }
    }
    for c in &extra.copies {
        add(c, COPY_METRICS);
    }
    for g in &extra.sagas {
        add(&format!("{SAGA}.{g}"), SAGA_METRICS);
    }
    for e in &extra.executions {
        add(e, EXECUTION_METRICS);
    }
    // Latency attribution last, so adding it left every earlier column
    // where it was.
    for w in &workloads {
        for set in ATTRIBUTION_SETS {
            for m in &extra.modules {
                add(&format!("{w}.{set}.{m}"), ATTRIBUTION_MODULE_METRICS);
            }
            for s in &services {
                add(&format!("{w}.{set}.{s}"), ATTRIBUTION_SERVICE_METRICS);
            }
            add(&format!("{w}.{set}"), ATTRIBUTION_METRICS);
        }
    }
    defs
}

/// Every metric a run of `model` reports, in the order of [`values`].
pub fn catalog(model: &Model) -> Vec<MetricDef> {
    layout(
        model.workloads.iter().map(|w| w.name.as_str()),
        model.services.iter().map(|s| s.name.as_str()),
        model.cost.on(),
        &Extra::of_model(model),
    )
}

/// Every metric of a run: the names of [`catalog`] of its model, in the
/// same order, with their values (`None` where the run has no value, such
/// as the p99 of a workload none of whose requests completed).
pub fn values(summary: &Summary) -> Vec<(MetricDef, Option<f64>)> {
    let defs = layout(
        summary.workloads.keys().map(String::as_str),
        summary.services.keys().map(String::as_str),
        summary.cost.is_some(),
        &Extra::of_summary(summary),
    );
    let mut out = Vec::with_capacity(defs.len());
    let mut it = defs.into_iter();
    for w in summary.workloads.values() {
        let l = w.latency_ms.as_ref();
        let vals = [
            Some(w.requests as f64),
            Some(w.ok as f64),
            Some(w.degraded as f64),
            Some(w.failed as f64),
            w.availability,
            Some(w.throughput_rps),
            l.map(|l| l.mean),
            l.map(|l| l.p50),
            l.map(|l| l.p90),
            l.map(|l| l.p99),
            l.map(|l| l.p999),
            l.map(|l| l.max),
        ];
        debug_assert_eq!(vals.len(), WORKLOAD_METRICS.len());
        out.extend(vals.into_iter().map(|v| (it.next().expect("laid out"), v)));
    }
    for s in summary.services.values() {
        let mean_replicas = s
            .scaling
            .as_ref()
            .map_or(s.mean_available_replicas, |sc| sc.mean_replicas);
        let vals = [
            Some(s.utilization),
            Some(s.rejected as f64),
            Some(s.shed as f64),
            Some(s.mean_queue_length),
            Some(mean_replicas),
        ];
        debug_assert_eq!(vals.len(), SERVICE_METRICS.len());
        out.extend(vals.into_iter().map(|v| (it.next().expect("laid out"), v)));
    }
    if let Some(c) = &summary.cost {
        let vals = [Some(c.total), Some(c.per_hour), c.per_million_ok];
        debug_assert_eq!(vals.len(), COST_METRICS.len());
        out.extend(vals.into_iter().map(|v| (it.next().expect("laid out"), v)));
    }
    let mut push = |vals: &[Option<f64>]| {
        out.extend(vals.iter().map(|v| (it.next().expect("laid out"), *v)));
    };
    let count = |n: u64| Some(n as f64);
    if let Some(m) = &summary.messaging {
        for t in m.topics.values() {
            let subs = || t.subscriptions.values();
            let sum =
                |f: fn(&super::messaging::SubscriptionSummary) -> u64| count(subs().map(f).sum());
            let vals = [
                count(t.published),
                count(t.stored),
                count(t.lost),
                count(t.in_outbox),
                sum(|r| r.delivered),
                sum(|r| r.redelivered),
                sum(|r| r.dead_lettered),
                sum(|r| r.dropped),
                sum(|r| r.pending),
                count(subs().map(|r| r.max_lag).max().unwrap_or(0)),
            ];
            debug_assert_eq!(vals.len(), TOPIC_METRICS.len());
            push(&vals);
            for r in subs() {
                let l = r.delivery_latency_ms.as_ref();
                let vals = [
                    count(r.delivered),
                    count(r.redelivered),
                    count(r.dead_lettered),
                    count(r.dropped),
                    count(r.pending),
                    count(r.max_lag),
                    Some(r.mean_lag),
                    l.map(|l| l.p50),
                    l.map(|l| l.p99),
                ];
                debug_assert_eq!(vals.len(), SUBSCRIPTION_METRICS.len());
                push(&vals);
            }
        }
        for c in m.copies.values() {
            let (p, w) = (&c.all, c.all.window_ms.as_ref());
            let vals = [
                count(p.writes),
                count(p.unconverged),
                w.map(|w| w.mean),
                w.map(|w| w.p50),
                w.map(|w| w.p99),
                w.map(|w| w.max),
                count(p.stale_reads),
                p.stale_read_rate,
            ];
            debug_assert_eq!(vals.len(), COPY_METRICS.len());
            push(&vals);
        }
    }
    for g in summary.sagas.values() {
        let d = g.duration_ms.as_ref();
        let vals = [
            count(g.started),
            count(g.completed),
            count(g.compensated),
            count(g.inconsistent),
            count(g.interrupted),
            count(g.compensation_failures),
            d.map(|d| d.p50),
            d.map(|d| d.p99),
        ];
        debug_assert_eq!(vals.len(), SAGA_METRICS.len());
        push(&vals);
    }
    for e in summary.executions.values() {
        let vals = [
            count(e.logical_calls),
            count(e.executions),
            count(e.duplicates),
            count(e.deduplicated),
        ];
        debug_assert_eq!(vals.len(), EXECUTION_METRICS.len());
        push(&vals);
    }
    // Attribution: a component's share of the set, 0 where the set has
    // none of it; no value without the set (no successful request, or no
    // slowest 1%).
    for w in summary.workloads.keys() {
        let a = summary.attribution.get(w);
        let sets = [
            a.map(|a| &a.all),
            a.and_then(|a| a.slowest.as_ref())
                .filter(|b| b.requests > 0),
        ];
        debug_assert_eq!(sets.len(), ATTRIBUTION_SETS.len());
        for set in sets {
            let share = |kind: &str, service: Option<&str>| {
                set.map(|b| {
                    b.components
                        .iter()
                        .find(|c| c.kind == kind && c.service.as_deref() == service)
                        .map_or(0.0, |c| c.share)
                })
            };
            for m in &summary.modules {
                let vals: Vec<Option<f64>> = ATTRIBUTION_MODULE_METRICS
                    .iter()
                    .map(|(k, _, _)| share(k, Some(m)))
                    .collect();
                push(&vals);
            }
            for s in summary.services.keys() {
                let vals: Vec<Option<f64>> = ATTRIBUTION_SERVICE_METRICS
                    .iter()
                    .map(|(k, _, _)| share(k, Some(s)))
                    .collect();
                push(&vals);
            }
            let vals: Vec<Option<f64>> = ATTRIBUTION_METRICS
                .iter()
                .map(|(k, _, _)| share(k, None))
                .collect();
            push(&vals);
        }
    }
    out
}

/// Finds `name` in `defs`, or says what the names look like: the error
/// lists the closest kind of name the user could have meant.
pub fn find<'a>(defs: &'a [MetricDef], name: &str) -> Result<(usize, &'a MetricDef), String> {
    if let Some(i) = defs.iter().position(|d| d.name == name) {
        return Ok((i, &defs[i]));
    }
    let Some((prefix, metric)) = name.rsplit_once('.') else {
        return Err(format!(
            "`{name}` is not a metric: write WORKLOAD.METRIC (checkout.p99), SERVICE.METRIC (payment.utilization) or cost.METRIC (cost.per_million)"
        ));
    };
    let prefixes: Vec<&str> = {
        let mut p: Vec<&str> = defs
            .iter()
            .filter_map(|d| d.name.rsplit_once('.').map(|(p, _)| p))
            .collect();
        p.dedup();
        p
    };
    let list =
        |t: &[(&str, Unit, &str)]| t.iter().map(|(m, _, _)| *m).collect::<Vec<_>>().join(", ");
    if !prefixes.contains(&prefix) {
        let cost_hint = if prefix == COST {
            " (cost.* needs a scenario that prices something: [cost] or a price_per_hour)"
        } else {
            ""
        };
        let attribution = prefix
            .split('.')
            .nth(1)
            .is_some_and(|set| ATTRIBUTION_SETS.contains(&set));
        let what = if attribution {
            "workload (or service in its attribution)"
        } else if prefix.starts_with("topic.") {
            "topic or subscription"
        } else if prefix.contains('@') {
            "data copy"
        } else if prefix.starts_with("saga.") {
            "saga endpoint"
        } else if prefix.contains('.') {
            "tracked endpoint"
        } else {
            "workload or service"
        };
        return Err(format!(
            "`{name}`: there is no {what} `{prefix}`{cost_hint}; the scenario has: {}",
            prefixes.join(", ")
        ));
    }
    // The kind of subject `prefix` is: the table all of whose metrics it
    // has (service metrics when none fits).
    let has_all = |t: &[(&str, Unit, &str)]| {
        t.iter()
            .all(|(m, _, _)| defs.iter().any(|d| d.name == format!("{prefix}.{m}")))
    };
    let wanted = [
        COST_METRICS,
        WORKLOAD_METRICS,
        TOPIC_METRICS,
        SUBSCRIPTION_METRICS,
        COPY_METRICS,
        SAGA_METRICS,
        EXECUTION_METRICS,
        ATTRIBUTION_SERVICE_METRICS,
        ATTRIBUTION_MODULE_METRICS,
        ATTRIBUTION_METRICS,
    ]
    .into_iter()
    .find(|t| has_all(t))
    .map_or_else(|| list(SERVICE_METRICS), list);
    Err(format!(
        "`{name}`: `{prefix}` has no metric `{metric}`; it has: {wanted}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOML: &str = r#"
        [simulation]
        duration = "20s"
        warmup = "2s"
        [services.api]
        price_per_hour = 0.1
        [services.api.endpoints.get]
        work = { dist = "exponential", mean = "5ms" }
        [[workloads]]
        name = "reads"
        target = "api.get"
        arrival = { process = "poisson", rate = 50 }
    "#;

    #[test]
    fn attribution_metrics_are_the_shares_of_each_set() {
        use crate::metrics::attribution::Kind;
        // The names' last words are the kinds' own names.
        let kinds: Vec<&str> = ATTRIBUTION_SERVICE_METRICS
            .iter()
            .chain(ATTRIBUTION_METRICS)
            .map(|(m, _, _)| *m)
            .collect();
        let expected: Vec<&str> = Kind::PER_SERVICE
            .into_iter()
            .chain(Kind::GLOBAL)
            .filter(|k| *k != Kind::Parallel)
            .map(Kind::name)
            .collect();
        assert_eq!(kinds, expected);

        let model = crate::report::attribution::tests::model();
        let mut s = crate::simulation::run(&model).unwrap().summary;
        let a = crate::report::attribution::tests::attribution(&model);
        s.attribution.insert("checkout".into(), a.clone());
        let defs = catalog(&model);
        let vals = values(&s);
        assert_eq!(defs.len(), vals.len());
        for (d, (v, _)) in defs.iter().zip(&vals) {
            assert_eq!(d, v);
        }
        let get = |name: &str| {
            let (i, d) = find(&defs, name).unwrap();
            assert_eq!(d.unit, Unit::Fraction);
            vals[i].1
        };
        let tail = a.slowest.as_ref().unwrap();
        let share = |b: &crate::metrics::attribution::Breakdown, kind: &str, svc: Option<&str>| {
            b.components
                .iter()
                .find(|c| c.kind == kind && c.service.as_deref() == svc)
                .unwrap()
                .share
        };
        assert_eq!(
            get("checkout.p99_share.payment.queue"),
            Some(share(tail, "queue", Some("payment")))
        );
        assert_eq!(
            get("checkout.mean_share.network"),
            Some(share(&a.all, "network", None))
        );
        // No user work among the slowest: 0, not missing.
        assert_eq!(get("checkout.p99_share.user.work"), Some(0.0));
        assert_eq!(get("checkout.p99_share.lookup"), Some(0.0));
        // Per set, the shares add up to 1.
        for set in ATTRIBUTION_SETS {
            let sum: f64 = defs
                .iter()
                .zip(&vals)
                .filter(|(d, _)| d.name.starts_with(&format!("checkout.{set}.")))
                .map(|(_, (_, v))| v.unwrap())
                .sum();
            assert!((sum - 1.0).abs() < 1e-9, "{set}: {sum}");
        }
        // Without attribution there is no value.
        s.attribution.clear();
        let (i, _) = find(&defs, "checkout.mean_share.order.work").unwrap();
        assert_eq!(values(&s)[i].1, None);
        // Misspelt names say what the names look like.
        let e = find(&defs, "checkout.p99_share.paymnt.queue").unwrap_err();
        assert!(
            e.contains("no workload (or service in its attribution)"),
            "{e}"
        );
        let e = find(&defs, "checkout.p99_share.payment.wait").unwrap_err();
        assert!(e.ends_with("it has: queue, work, lost"), "{e}");
        let e = find(&defs, "checkout.p99_share.cpu").unwrap_err();
        assert!(e.ends_with("it has: network, lookup, backoff"), "{e}");
    }

    #[test]
    fn catalog_and_values_agree() {
        let model = crate::scenario::test_model(TOML);
        let r = crate::simulation::run(&model).unwrap();
        let defs = catalog(&model);
        let vals = values(&r.summary);
        assert_eq!(defs.len(), vals.len());
        for (d, (v, _)) in defs.iter().zip(&vals) {
            assert_eq!(d, v);
        }
        // One workload, one service: both attribution sets have api's
        // three kinds and the three whole-request ones.
        assert_eq!(
            defs.len(),
            WORKLOAD_METRICS.len()
                + SERVICE_METRICS.len()
                + COST_METRICS.len()
                + ATTRIBUTION_SETS.len()
                    * (ATTRIBUTION_SERVICE_METRICS.len() + ATTRIBUTION_METRICS.len())
        );
        let (i, d) = find(&defs, "reads.p99").unwrap();
        assert_eq!(d.unit, Unit::Ms);
        let p99 = r.summary.workloads["reads"]
            .latency_ms
            .as_ref()
            .unwrap()
            .p99;
        assert_eq!(vals[i].1, Some(p99));
        let (i, _) = find(&defs, "cost.per_million").unwrap();
        assert_eq!(vals[i].1, r.summary.cost.as_ref().unwrap().per_million_ok);
    }

    #[test]
    fn unknown_names_say_what_exists() {
        let model = crate::scenario::test_model(TOML);
        let defs = catalog(&model);
        let e = find(&defs, "checkout.p99").unwrap_err();
        assert!(e.contains("no workload or service `checkout`"), "{e}");
        assert!(e.contains("reads, api, cost"), "{e}");
        let e = find(&defs, "reads.p98").unwrap_err();
        assert!(
            e.contains("has no metric `p98`") && e.contains("p999"),
            "{e}"
        );
        let e = find(&defs, "api.p99").unwrap_err();
        assert!(e.contains("utilization"), "{e}");
        let e = find(&defs, "p99").unwrap_err();
        assert!(e.contains("WORKLOAD.METRIC"), "{e}");
    }

    /// A model with a topic of two subscriptions, a data copy, a saga
    /// endpoint and a tracked endpoint (set by hand, as the scenario
    /// would), and a summary of a run of it with their results.
    fn messaging_model_and_summary() -> (Model, Summary) {
        use crate::metrics::latency::LatencySummary;
        use crate::metrics::messaging::*;
        use crate::metrics::saga::*;
        use crate::model::messaging::{Copy, Data, Saga, Subscription, Topic};
        use indexmap::IndexMap;
        let mut model = crate::scenario::test_model(
            r#"
            [simulation]
            duration = "2s"
            [services.user.endpoints.update]
            work = { dist = "constant", value = "1ms" }
            [services.order.endpoints.create]
            work = { dist = "constant", value = "1ms" }
            [services.order.endpoints.on_user]
            work = { dist = "constant", value = "1ms" }
            [services.search.endpoints.index]
            work = { dist = "constant", value = "1ms" }
            [services.payment.endpoints.charge]
            work = { dist = "constant", value = "1ms" }
            [[workloads]]
            name = "updates"
            target = "user.update"
            arrival = { process = "poisson", rate = 20 }
        "#,
        );
        let id = |m: &Model, s: &str| m.services.iter().position(|x| x.name == s).unwrap() as u32;
        let (order, search) = (id(&model, "order"), id(&model, "search"));
        let sub = |service| Subscription {
            service,
            topic: 0,
            handler: 0,
            concurrency: 1,
            queue_capacity: None,
            max_attempts: 5,
            ack_timeout: 1,
            redelivery_delay: 1,
        };
        let msg = &mut model.messaging;
        msg.subscriptions = vec![sub(order), sub(search)];
        msg.topics = vec![Topic {
            name: "user-updated".into(),
            broker: 0,
            endpoint: 0,
            subscriptions: vec![0, 1],
            data: Some(0),
        }];
        msg.data = vec![Data {
            name: "user-email".into(),
            owner: 0,
            topic: 0,
            keys: 10,
            copies: vec![0],
        }];
        msg.copies = vec![Copy {
            data: 0,
            holder: order,
            subscription: 0,
        }];
        for e in &mut model.endpoints {
            if e.name == "order.create" {
                e.saga = Some(Saga {
                    compensations: vec![None; e.steps.len()],
                });
            }
            if e.name == "payment.charge" || e.name == "order.on_user" {
                e.tracked = true;
            }
        }
        let mut summary = crate::simulation::run(&model).unwrap().summary;
        let lat = |p99: f64| {
            Some(LatencySummary {
                mean: p99 / 4.0,
                p50: p99 / 5.0,
                p90: p99 / 2.0,
                p99,
                p999: p99,
                max: p99,
            })
        };
        let subscription = |delivered, max_lag, p99| SubscriptionSummary {
            handler: "h".into(),
            delivered,
            deliveries: delivered + 1,
            redelivered: 1,
            dead_lettered: 2,
            dropped: 0,
            pending: 3,
            max_lag,
            mean_lag: 0.5,
            delivery_latency_ms: lat(p99),
        };
        let mut subscriptions = IndexMap::new();
        subscriptions.insert("order".to_string(), subscription(90, 7, 40.0));
        subscriptions.insert("search".to_string(), subscription(95, 4, 8.0));
        let mut topics = IndexMap::new();
        topics.insert(
            "user-updated".to_string(),
            TopicSummary {
                broker: "events".into(),
                published: 100,
                stored: 98,
                lost: 2,
                in_outbox: 0,
                unacked: 0,
                subscriptions,
            },
        );
        let period = ConsistencyPeriod {
            writes: 100,
            converged: 97,
            unconverged: 3,
            window_ms: lat(120.0),
            reads: 50,
            stale_reads: 2,
            stale_read_rate: Some(0.04),
        };
        let mut copies = IndexMap::new();
        copies.insert(
            "user-email@order".to_string(),
            CopySummary {
                data: "user-email".into(),
                owner: "user".into(),
                holder: "order".into(),
                topic: "user-updated".into(),
                keys: 10,
                all: period,
                outside_faults: None,
                during_faults: None,
                stale_keys_at_end: 1,
            },
        );
        summary.messaging = Some(MessagingSummary { topics, copies });
        summary.sagas.insert(
            "order.create".into(),
            SagaSummary {
                started: 10,
                completed: 7,
                compensated: 2,
                inconsistent: 1,
                interrupted: 0,
                in_flight: 0,
                compensations: 3,
                compensation_failures: 1,
                duration_ms: lat(30.0),
                completed_ms: lat(20.0),
                compensated_ms: lat(30.0),
            },
        );
        for (name, duplicates) in [("order.on_user", 0), ("payment.charge", 4)] {
            summary.executions.insert(
                name.into(),
                ExecutionSummary {
                    idempotent: duplicates == 0,
                    logical_calls: 50,
                    executions: 50 + duplicates,
                    duplicates,
                    deduplicated: 0,
                },
            );
        }
        (model, summary)
    }

    #[test]
    fn messaging_saga_and_execution_metrics_follow_the_model() {
        let (model, summary) = messaging_model_and_summary();
        let defs = catalog(&model);
        let vals = values(&summary);
        let names: Vec<&str> = defs.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(
            names,
            vals.iter()
                .map(|(d, _)| d.name.as_str())
                .collect::<Vec<_>>()
        );
        let unique: std::collections::BTreeSet<&str> = names.iter().copied().collect();
        assert_eq!(unique.len(), names.len(), "names are unique");
        let value = |name: &str| {
            let (i, _) = find(&defs, name).unwrap_or_else(|e| panic!("{e}"));
            vals[i].1
        };
        // Topic counts sum the subscriptions; max_lag is the largest.
        assert_eq!(value("topic.user-updated.published"), Some(100.0));
        assert_eq!(value("topic.user-updated.lost"), Some(2.0));
        assert_eq!(value("topic.user-updated.delivered"), Some(185.0));
        assert_eq!(value("topic.user-updated.dead_lettered"), Some(4.0));
        assert_eq!(value("topic.user-updated.max_lag"), Some(7.0));
        assert_eq!(value("topic.user-updated.search.delivered"), Some(95.0));
        assert_eq!(value("topic.user-updated.order.delivery_p99"), Some(40.0));
        assert_eq!(value("user-email@order.window_p99"), Some(120.0));
        assert_eq!(value("user-email@order.stale_rate"), Some(0.04));
        assert_eq!(value("user-email@order.unconverged"), Some(3.0));
        assert_eq!(value("saga.order.create.inconsistent"), Some(1.0));
        assert_eq!(value("saga.order.create.p99"), Some(30.0));
        assert_eq!(value("payment.charge.duplicates"), Some(4.0));
        assert_eq!(value("order.on_user.duplicates"), Some(0.0));
        // Units: thresholds read as written.
        let unit = |n: &str| find(&defs, n).unwrap().1.unit;
        assert_eq!(unit("user-email@order.stale_rate"), Unit::Fraction);
        assert_eq!(unit("user-email@order.window_p99"), Unit::Ms);
        assert_eq!(unit("topic.user-updated.order.mean_lag"), Unit::Number);
        // Thresholds on them parse, limits in the metric's unit.
        for (text, limit) in [
            ("topic.user-updated.lost < 5", 5.0),
            ("topic.user-updated.order.delivery_p99 < 1s", 1000.0),
            ("user-email@order.stale_rate <= 5%", 0.05),
            ("saga.order.create.inconsistent == 0", 0.0),
            ("payment.charge.duplicates == 0", 0.0),
        ] {
            let e = crate::assertion::parse::parse(text, &defs).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(e.limit, limit, "{text}");
        }
        // Unknown names say what kind of thing is missing and what exists.
        let e = find(&defs, "topic.nope.lost").unwrap_err();
        assert!(e.contains("no topic or subscription `topic.nope`"), "{e}");
        let e = find(&defs, "user-email@search.stale_rate").unwrap_err();
        assert!(e.contains("no data copy"), "{e}");
        let e = find(&defs, "payment.charge.dupes").unwrap_err();
        assert!(e.contains("logical_calls, executions, duplicates"), "{e}");
        let e = find(&defs, "saga.order.create.done").unwrap_err();
        assert!(e.contains("started, completed, compensated"), "{e}");
        let e = find(&defs, "topic.user-updated.order.lag").unwrap_err();
        assert!(e.contains("delivery_p99"), "{e}");
        // A model without any of it lists none of it.
        let plain = crate::scenario::test_model(TOML);
        assert!(catalog(&plain)
            .iter()
            .all(|d| !d.name.starts_with("topic.") && !d.name.contains('@')));
    }

    #[test]
    fn units_show_readably() {
        assert_eq!(Unit::Fraction.show(0.9991), "99.910%");
        assert_eq!(Unit::Ms.show(212.346), "212.35 ms");
        assert_eq!(Unit::Count.show(12.0), "12");
        assert_eq!(Unit::Fraction.show_estimate(1.0, 0.0), "100.00% ± 0.00%");
        assert_eq!(
            Unit::Ms.show_estimate(128.97, 14.9891),
            "128.97 ms ± 14.99 ms"
        );
        assert_eq!(Unit::Count.show_estimate(10.0, 2.26), "10 ± 2.3");
    }
}
