//! CSV files: one row per workload, per service, and per window.

use crate::metrics::latency::LatencySummary;
use crate::metrics::messaging::{ConsistencyPeriod, CopySummary};
use crate::metrics::{BlastRow, Summary, TimeSeries};
use crate::world::outcome::Cause;

/// The failure causes the summary's tables list (see `Model::causes`).
fn causes(s: &Summary) -> &'static [Cause] {
    if s.discovery.is_some() {
        &Cause::ALL
    } else {
        &Cause::WITHOUT_DISCOVERY
    }
}
use csv::Writer;

type Result<T> = std::result::Result<T, csv::Error>;

fn opt(v: Option<f64>) -> String {
    v.map_or_else(String::new, |v| v.to_string())
}

/// The six `_mean_ms`, `_p50_ms`, `_p90_ms`, `_p99_ms`, `_p999_ms` and
/// `_max_ms` cells of a latency summary, empty when there is none.
fn latency_cells(l: Option<&LatencySummary>) -> [String; 6] {
    [
        opt(l.map(|l| l.mean)),
        opt(l.map(|l| l.p50)),
        opt(l.map(|l| l.p90)),
        opt(l.map(|l| l.p99)),
        opt(l.map(|l| l.p999)),
        opt(l.map(|l| l.max)),
    ]
}

fn finish(w: Writer<Vec<u8>>) -> Result<Vec<u8>> {
    w.into_inner().map_err(|e| e.into_error().into())
}

/// `workloads.csv`: a row per workload, a `failed_CAUSE` column per cause.
pub fn workloads_csv(s: &Summary) -> Result<Vec<u8>> {
    let mut w = Writer::from_writer(Vec::new());
    let mut header: Vec<String> = [
        "workload",
        "target",
        "requests",
        "ok",
        "degraded",
        "failed",
        "in_flight",
        "availability",
        "throughput_rps",
        "latency_mean_ms",
        "latency_p50_ms",
        "latency_p90_ms",
        "latency_p99_ms",
        "latency_p999_ms",
        "latency_max_ms",
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    header.extend(causes(s).iter().map(|c| format!("failed_{}", c.name())));
    header.extend(
        [
            "outside_faults_availability",
            "outside_faults_p50_ms",
            "outside_faults_p99_ms",
        ]
        .map(String::from),
    );
    w.write_record(&header)?;
    for (name, r) in &s.workloads {
        let mut row = vec![
            name.clone(),
            r.target.clone(),
            r.requests.to_string(),
            r.ok.to_string(),
            r.degraded.to_string(),
            r.failed.to_string(),
            r.in_flight.to_string(),
            opt(r.availability),
            r.throughput_rps.to_string(),
        ];
        row.extend(latency_cells(r.latency_ms.as_ref()));
        row.extend(
            causes(s)
                .iter()
                .map(|c| r.failures.get(c.name()).copied().unwrap_or(0).to_string()),
        );
        let base = r.outside_faults.as_ref();
        row.extend([
            opt(base.and_then(|b| b.availability)),
            opt(base.and_then(|b| b.p50_ms)),
            opt(base.and_then(|b| b.p99_ms)),
        ]);
        w.write_record(&row)?;
    }
    finish(w)
}

/// `services.csv`: a row per service.
pub fn services_csv(s: &Summary) -> Result<Vec<u8>> {
    let mut w = Writer::from_writer(Vec::new());
    w.write_record([
        "service",
        "replicas",
        "concurrency",
        "requests",
        "completed",
        "rejected",
        "utilization",
        "mean_busy_workers",
        "mean_queue_length",
        "retry_amplification",
        "calls_per_entry_request",
        "shed",
        "lost_in_crashes",
        "unreachable",
        "injected_errors",
        "abandoned",
        "wasted_work_seconds",
        "crashes",
        "ejections",
        "breaker_opens",
        "breaker_open_seconds",
        "mean_available_replicas",
    ])?;
    for (name, r) in &s.services {
        w.write_record([
            name.clone(),
            r.replicas.to_string(),
            r.concurrency.to_string(),
            r.requests.to_string(),
            r.completed.to_string(),
            r.rejected.to_string(),
            r.utilization.to_string(),
            r.mean_busy_workers.to_string(),
            r.mean_queue_length.to_string(),
            opt(r.retry_amplification),
            opt(r.calls_per_entry_request),
            r.shed.to_string(),
            r.lost_in_crashes.to_string(),
            r.unreachable.to_string(),
            r.injected_errors.to_string(),
            r.abandoned.to_string(),
            r.wasted_work_seconds.to_string(),
            r.crashes.to_string(),
            r.ejections.to_string(),
            r.breaker_opens.to_string(),
            r.breaker_open_seconds.to_string(),
            r.mean_available_replicas.to_string(),
        ])?;
    }
    finish(w)
}

/// `dependencies.csv`: a row per client (caller -> callee under one
/// policy), with `failed_CAUSE` and `failed_attempts_CAUSE` columns.
pub fn dependencies_csv(s: &Summary) -> Result<Vec<u8>> {
    let mut w = Writer::from_writer(Vec::new());
    let mut header: Vec<String> = [
        "dependency",
        "caller",
        "callee",
        "policy",
        "calls",
        "attempts",
        "retries",
        "retries_denied_by_budget",
        "ok",
        "fallbacks",
        "failed",
        "breaker_opens",
        "breaker_state_changes",
        "breaker_open_seconds",
    ]
    .map(String::from)
    .to_vec();
    header.extend(causes(s).iter().map(|c| format!("failed_{}", c.name())));
    header.extend(
        causes(s)
            .iter()
            .map(|c| format!("failed_attempts_{}", c.name())),
    );
    w.write_record(&header)?;
    for (name, d) in &s.dependencies {
        let mut row = vec![
            name.clone(),
            d.caller.clone(),
            d.callee.clone(),
            d.policy.clone().unwrap_or_default(),
            d.calls.to_string(),
            d.attempts.to_string(),
            d.retries.to_string(),
            d.retries_denied_by_budget.to_string(),
            d.ok.to_string(),
            d.fallbacks.to_string(),
            d.failed.to_string(),
            d.breaker_opens.to_string(),
            d.breaker_state_changes.to_string(),
            d.breaker_open_seconds.to_string(),
        ];
        for counts in [&d.failures, &d.attempt_failures] {
            row.extend(
                causes(s)
                    .iter()
                    .map(|c| counts.get(c.name()).copied().unwrap_or(0).to_string()),
            );
        }
        w.write_record(&row)?;
    }
    finish(w)
}

/// `faults.csv`: the blast radius, a row per fault and workload: the
/// requests issued during the fault's effect against those issued while
/// no fault was active.
pub fn faults_csv(s: &Summary) -> Result<Vec<u8>> {
    let mut w = Writer::from_writer(Vec::new());
    let header = [
        "fault",
        "kind",
        "target",
        "start_s",
        "end_s",
        "effect_end_s",
        "crashes",
    ]
    .into_iter()
    .chain(BLAST_COLUMNS);
    w.write_record(header)?;
    for f in &s.faults {
        for (wl, b) in &f.blast_radius {
            let row = [
                f.name.clone(),
                f.kind.clone(),
                f.target.clone(),
                f.start_s.to_string(),
                f.end_s.to_string(),
                f.effect_end_s.to_string(),
                f.crashes.to_string(),
            ]
            .into_iter()
            .chain(blast_fields(s, wl, b));
            w.write_record(row)?;
        }
    }
    finish(w)
}

/// The columns of a blast-radius row (a fault's or a deploy's, for one
/// workload), after the event's own.
pub(super) const BLAST_COLUMNS: [&str; 15] = [
    "workload",
    "issued",
    "unfinished",
    "completed",
    "ok",
    "degraded",
    "failed",
    "availability",
    "p50_ms",
    "p99_ms",
    "outside_faults_availability",
    "outside_faults_p99_ms",
    "availability_change",
    "p99_change_ms",
    "impact",
];

/// The [`BLAST_COLUMNS`] of workload `wl`'s row `b`.
pub(super) fn blast_fields(s: &Summary, wl: &str, b: &BlastRow) -> [String; 15] {
    let base = s.workloads.get(wl).and_then(|x| x.outside_faults.as_ref());
    [
        wl.to_string(),
        b.during.issued.to_string(),
        b.during.unfinished.to_string(),
        b.during.completed.to_string(),
        b.during.ok.to_string(),
        b.during.degraded.to_string(),
        b.during.failed.to_string(),
        opt(b.during.availability),
        opt(b.during.p50_ms),
        opt(b.during.p99_ms),
        opt(base.and_then(|x| x.availability)),
        opt(base.and_then(|x| x.p99_ms)),
        opt(b.availability_change),
        opt(b.p99_change_ms),
        b.impact.clone(),
    ]
}

/// `timeseries.csv`: long format, one row per window and workload
/// (`kind = workload`) or service (`kind = service`; `requests` are the
/// calls it received, retries included), and with the features that add
/// them per discovery pair, subscription or data copy; columns that do
/// not apply to a kind are empty.
pub fn timeseries_csv(t: &TimeSeries) -> Result<Vec<u8>> {
    let mut w = Writer::from_writer(Vec::new());
    // Discovery's columns and rows only when the run used discovery, so
    // other runs' files read as before.
    let discovery = !t.discovery.is_empty() || t.services.iter().any(|r| r.registered.is_some());
    let mut header = vec![
        "window_start_s",
        "window_end_s",
        "kind",
        "name",
        "requests",
        "ok",
        "degraded",
        "failed",
        "throughput_rps",
        "p50_ms",
        "p95_ms",
        "p99_ms",
        "utilization",
        "queue_length",
        "replicas",
        "available_replicas",
    ];
    if discovery {
        header.extend([
            "registered",
            "stale_registered",
            "lookups",
            "routed_to_dead",
            "no_instance",
        ]);
    }
    // With scaling or a cost model: the mean replicas that existed in
    // each window (with scaling, `replicas` is then the desired count at
    // the window's end); with a cost model, what the window cost.
    let mean_replicas = t.services.iter().any(|r| r.mean_replicas.is_some());
    let cost = t.services.iter().any(|r| r.cost.is_some());
    let extra_at = header.len();
    if mean_replicas {
        header.push("mean_replicas");
    }
    if cost {
        header.push("cost");
    }
    // Messaging's columns and rows only when the run has subscriptions
    // or data copies (`kind = subscription`, name `TOPIC->SERVICE`;
    // `kind = copy`, name `DATA@HOLDER`).
    if !t.subscriptions.is_empty() {
        header.extend(SUBSCRIPTION_COLUMNS);
    }
    if !t.copies.is_empty() {
        header.extend(COPY_COLUMNS);
    }
    w.write_record(&header)?;
    let at = |name: &str| {
        header
            .iter()
            .position(|c| *c == name)
            .expect("a column of the header")
    };
    let width = header.len();
    // Each window's rows stand together: workloads, services, then
    // discovery pairs (every list is in window order; the sort is stable).
    let mut rows: Vec<(f64, u8, Vec<String>)> = Vec::new();
    for r in &t.workloads {
        let mut row = vec![
            r.start_s.to_string(),
            r.end_s.to_string(),
            "workload".into(),
            r.workload.clone(),
            r.requests.to_string(),
            r.ok.to_string(),
            r.degraded.to_string(),
            r.failed.to_string(),
            r.throughput_rps.to_string(),
            opt(r.p50_ms),
            opt(r.p95_ms),
            opt(r.p99_ms),
        ];
        row.resize(width, String::new());
        rows.push((r.start_s, 0, row));
    }
    for r in &t.services {
        let mut row = vec![
            r.start_s.to_string(),
            r.end_s.to_string(),
            "service".into(),
            r.service.clone(),
            r.requests.to_string(),
        ];
        row.resize(12, String::new());
        row.extend([
            r.utilization.to_string(),
            r.queue_length.to_string(),
            r.replicas.to_string(),
            r.available_replicas.to_string(),
        ]);
        if discovery {
            row.extend([
                r.registered.map_or_else(String::new, |v| v.to_string()),
                r.stale_registered
                    .map_or_else(String::new, |v| v.to_string()),
            ]);
        }
        if mean_replicas || cost {
            row.resize(extra_at, String::new());
        }
        if mean_replicas {
            row.push(opt(r.mean_replicas));
        }
        if cost {
            row.push(opt(r.cost));
        }
        row.resize(width, String::new());
        rows.push((r.start_s, 1, row));
    }
    for r in &t.discovery {
        let mut row = vec![
            r.start_s.to_string(),
            r.end_s.to_string(),
            "discovery".into(),
            format!("{}->{}", r.caller, r.callee),
        ];
        row.resize(18, String::new());
        row.extend([
            r.lookups.to_string(),
            r.routed_to_dead.to_string(),
            r.no_instance.to_string(),
        ]);
        row.resize(width, String::new());
        rows.push((r.start_s, 2, row));
    }
    for r in &t.subscriptions {
        let mut row = vec![String::new(); width];
        row[0] = r.start_s.to_string();
        row[1] = r.end_s.to_string();
        row[2] = "subscription".into();
        row[3] = format!("{}->{}", r.topic, r.subscriber);
        for (col, v) in SUBSCRIPTION_COLUMNS.iter().zip([
            r.published,
            r.delivered,
            r.redelivered,
            r.dead_lettered,
            r.lag,
            r.max_lag,
            r.in_outboxes,
        ]) {
            row[at(col)] = v.to_string();
        }
        rows.push((r.start_s, 3, row));
    }
    for r in &t.copies {
        let mut row = vec![String::new(); width];
        row[0] = r.start_s.to_string();
        row[1] = r.end_s.to_string();
        row[2] = "copy".into();
        row[3] = r.copy.clone();
        for (col, v) in COPY_COLUMNS.iter().zip([
            r.converged.to_string(),
            opt(r.window_p50_ms),
            opt(r.window_p99_ms),
            opt(r.window_max_ms),
            r.reads.to_string(),
            r.stale_reads.to_string(),
        ]) {
            row[at(col)] = v;
        }
        rows.push((r.start_s, 4, row));
    }
    rows.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    for (_, _, row) in rows {
        w.write_record(&row)?;
    }
    finish(w)
}

/// The columns of `kind = subscription` rows in `timeseries.csv` (see
/// [`crate::metrics::messaging::SubscriptionWindow`]).
pub(super) const SUBSCRIPTION_COLUMNS: [&str; 7] = [
    "published",
    "delivered",
    "redelivered",
    "dead_lettered",
    "lag",
    "max_lag",
    "in_outboxes",
];

/// The columns of `kind = copy` rows in `timeseries.csv` (see
/// [`crate::metrics::messaging::CopyWindow`]).
pub(super) const COPY_COLUMNS: [&str; 6] = [
    "converged",
    "window_p50_ms",
    "window_p99_ms",
    "window_max_ms",
    "reads",
    "stale_reads",
];

/// `discovery.csv`: a row per caller/callee pair with discovery (only
/// the header when the scenario uses none).
pub fn discovery_csv(s: &Summary) -> Result<Vec<u8>> {
    let mut w = Writer::from_writer(Vec::new());
    w.write_record([
        "pair",
        "caller",
        "callee",
        "mode",
        "attempts",
        "cache_hit_rate",
        "stale_list_uses",
        "lookups",
        "lookup_failures",
        "lookup_p50_ms",
        "lookup_p99_ms",
        "routed_to_dead",
        "no_instance",
        "new_instances_discovered",
        "discovery_lag_mean_ms",
        "discovery_lag_max_ms",
        "new_instances_undiscovered",
    ])?;
    if let Some(d) = &s.discovery {
        for (name, p) in &d.pairs {
            let l = p.lookup_latency_ms.as_ref();
            w.write_record([
                name.clone(),
                p.caller.clone(),
                p.callee.clone(),
                p.mode.clone(),
                p.attempts.to_string(),
                opt(p.cache_hit_rate),
                p.stale_list_uses.to_string(),
                p.lookups.to_string(),
                p.lookup_failures.to_string(),
                opt(l.map(|l| l.p50)),
                opt(l.map(|l| l.p99)),
                p.routed_to_dead.to_string(),
                p.no_instance.to_string(),
                p.new_instances_discovered.to_string(),
                opt(p.discovery_lag_mean_ms),
                opt(p.discovery_lag_max_ms),
                p.new_instances_undiscovered.to_string(),
            ])?;
        }
    }
    finish(w)
}

/// A copy's periods as its table and `copies.csv` list them: the whole
/// measured period, then outside and during faults when the run had any.
pub(super) fn copy_periods(c: &CopySummary) -> Vec<(&'static str, &ConsistencyPeriod)> {
    let mut out = vec![("all", &c.all)];
    if let Some(p) = &c.outside_faults {
        out.push(("outside_faults", p));
    }
    if let Some(p) = &c.during_faults {
        out.push(("during_faults", p));
    }
    out
}

/// `topics.csv`: a row per topic (what its publishers sent and what
/// became of it); `None` without brokers (no file is written).
pub fn topics_csv(s: &Summary) -> Option<Result<Vec<u8>>> {
    let m = s.messaging.as_ref()?;
    let write = || -> Result<Vec<u8>> {
        let mut w = Writer::from_writer(Vec::new());
        w.write_record([
            "topic",
            "broker",
            "published",
            "stored",
            "lost",
            "in_outbox",
            "unacked",
            "subscriptions",
        ])?;
        for (name, t) in &m.topics {
            w.write_record([
                name.clone(),
                t.broker.clone(),
                t.published.to_string(),
                t.stored.to_string(),
                t.lost.to_string(),
                t.in_outbox.to_string(),
                t.unacked.to_string(),
                t.subscriptions.len().to_string(),
            ])?;
        }
        finish(w)
    };
    Some(write())
}

/// `subscriptions.csv`: a row per subscription (`TOPIC->SERVICE`) with
/// its delivery counts, lag and end-to-end delivery latency; `None`
/// without brokers.
pub fn subscriptions_csv(s: &Summary) -> Option<Result<Vec<u8>>> {
    let m = s.messaging.as_ref()?;
    let write = || -> Result<Vec<u8>> {
        let mut w = Writer::from_writer(Vec::new());
        w.write_record([
            "subscription",
            "topic",
            "subscriber",
            "handler",
            "delivered",
            "deliveries",
            "redelivered",
            "dead_lettered",
            "dropped",
            "pending",
            "max_lag",
            "mean_lag",
            "latency_mean_ms",
            "latency_p50_ms",
            "latency_p90_ms",
            "latency_p99_ms",
            "latency_p999_ms",
            "latency_max_ms",
        ])?;
        for (topic, t) in &m.topics {
            for (sub, r) in &t.subscriptions {
                let mut row = vec![
                    format!("{topic}->{sub}"),
                    topic.clone(),
                    sub.clone(),
                    r.handler.clone(),
                    r.delivered.to_string(),
                    r.deliveries.to_string(),
                    r.redelivered.to_string(),
                    r.dead_lettered.to_string(),
                    r.dropped.to_string(),
                    r.pending.to_string(),
                    r.max_lag.to_string(),
                    r.mean_lag.to_string(),
                ];
                row.extend(latency_cells(r.delivery_latency_ms.as_ref()));
                w.write_record(&row)?;
            }
        }
        finish(w)
    };
    Some(write())
}

/// `copies.csv`: a row per data copy (`DATA@HOLDER`) and period (`all`,
/// and with faults `outside_faults` and `during_faults`): writes, how
/// many the copy caught up with, the inconsistency window and stale
/// reads; `None` without data copies.
pub fn copies_csv(s: &Summary) -> Option<Result<Vec<u8>>> {
    let m = s.messaging.as_ref().filter(|m| !m.copies.is_empty())?;
    let write = || -> Result<Vec<u8>> {
        let mut w = Writer::from_writer(Vec::new());
        w.write_record([
            "copy",
            "data",
            "owner",
            "holder",
            "topic",
            "keys",
            "period",
            "writes",
            "converged",
            "unconverged",
            "window_mean_ms",
            "window_p50_ms",
            "window_p90_ms",
            "window_p99_ms",
            "window_p999_ms",
            "window_max_ms",
            "reads",
            "stale_reads",
            "stale_read_rate",
            "stale_keys_at_end",
        ])?;
        for (name, c) in &m.copies {
            for (period, p) in copy_periods(c) {
                let mut row = vec![
                    name.clone(),
                    c.data.clone(),
                    c.owner.clone(),
                    c.holder.clone(),
                    c.topic.clone(),
                    c.keys.to_string(),
                    period.to_string(),
                    p.writes.to_string(),
                    p.converged.to_string(),
                    p.unconverged.to_string(),
                ];
                row.extend(latency_cells(p.window_ms.as_ref()));
                row.extend([
                    p.reads.to_string(),
                    p.stale_reads.to_string(),
                    opt(p.stale_read_rate),
                    c.stale_keys_at_end.to_string(),
                ]);
                w.write_record(&row)?;
            }
        }
        finish(w)
    };
    Some(write())
}

/// `sagas.csv`: a row per saga endpoint: how its sagas ended, the
/// compensating calls, and durations (all ended, completed, compensated);
/// `None` without sagas.
pub fn sagas_csv(s: &Summary) -> Option<Result<Vec<u8>>> {
    if s.sagas.is_empty() {
        return None;
    }
    let write = || -> Result<Vec<u8>> {
        let mut w = Writer::from_writer(Vec::new());
        let mut header: Vec<String> = [
            "saga",
            "started",
            "completed",
            "compensated",
            "inconsistent",
            "interrupted",
            "in_flight",
            "compensations",
            "compensation_failures",
        ]
        .map(String::from)
        .to_vec();
        for d in ["duration", "completed", "compensated"] {
            for q in ["mean", "p50", "p99", "max"] {
                header.push(format!("{d}_{q}_ms"));
            }
        }
        w.write_record(&header)?;
        for (name, g) in &s.sagas {
            let mut row = vec![
                name.clone(),
                g.started.to_string(),
                g.completed.to_string(),
                g.compensated.to_string(),
                g.inconsistent.to_string(),
                g.interrupted.to_string(),
                g.in_flight.to_string(),
                g.compensations.to_string(),
                g.compensation_failures.to_string(),
            ];
            for l in [&g.duration_ms, &g.completed_ms, &g.compensated_ms] {
                let l = l.as_ref();
                row.extend([
                    opt(l.map(|l| l.mean)),
                    opt(l.map(|l| l.p50)),
                    opt(l.map(|l| l.p99)),
                    opt(l.map(|l| l.max)),
                ]);
            }
            w.write_record(&row)?;
        }
        finish(w)
    };
    Some(write())
}

/// `executions.csv`: a row per tracked endpoint: logical calls, their
/// successful executions, duplicates and what idempotency keys absorbed;
/// `None` when no endpoint is tracked.
pub fn executions_csv(s: &Summary) -> Option<Result<Vec<u8>>> {
    if s.executions.is_empty() {
        return None;
    }
    let write = || -> Result<Vec<u8>> {
        let mut w = Writer::from_writer(Vec::new());
        w.write_record([
            "endpoint",
            "idempotent",
            "logical_calls",
            "executions",
            "duplicates",
            "deduplicated",
        ])?;
        for (name, e) in &s.executions {
            w.write_record([
                name.clone(),
                e.idempotent.to_string(),
                e.logical_calls.to_string(),
                e.executions.to_string(),
                e.duplicates.to_string(),
                e.deduplicated.to_string(),
            ])?;
        }
        finish(w)
    };
    Some(write())
}

/// `attribution.csv`, when some workload has latency attribution: a row
/// per workload, set (`all`, or `slowest_1pct`: the requests at or above
/// its p99) and component on the critical path, in component order (per
/// service in scenario order: queue, work, lost; then network, lookup,
/// backoff). Each row repeats its set's request count, lower latency
/// bound, mean latency and mean time off the critical path, so the file
/// reads on its own; per set, `mean_ms` adds up to `set_mean_ms` and
/// `share` to 1.
pub fn attribution_csv(s: &Summary) -> Option<Result<Vec<u8>>> {
    if s.attribution.is_empty() {
        return None;
    }
    let write = || -> Result<Vec<u8>> {
        let mut w = Writer::from_writer(Vec::new());
        w.write_record([
            "workload",
            "set",
            "requests",
            "from_ms",
            "set_mean_ms",
            "off_critical_path_ms",
            "component",
            "kind",
            "service",
            "mean_ms",
            "share",
        ])?;
        for (name, a) in &s.attribution {
            let sets = [("all", Some(&a.all)), ("slowest_1pct", a.slowest.as_ref())];
            for (set, b) in sets {
                let Some(b) = b else { continue };
                for c in &b.components {
                    let key = super::attribution::Key::of(c);
                    w.write_record([
                        name.clone(),
                        set.to_string(),
                        b.requests.to_string(),
                        b.from_ms.to_string(),
                        b.mean_ms.to_string(),
                        b.off_critical_path_ms.to_string(),
                        key.label(),
                        c.kind.clone(),
                        c.service.clone().unwrap_or_default(),
                        c.mean_ms.to_string(),
                        c.share.to_string(),
                    ])?;
                }
            }
        }
        finish(w)
    };
    Some(write())
}
