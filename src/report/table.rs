//! Human-readable tables for the terminal.

use crate::metrics::Summary;
use crate::model::capacity::CapacityRow;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};

pub(super) fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(header.iter().map(Cell::new));
    for i in 1..header.len() {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    t
}

pub(super) fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

pub(super) fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{:.3}%", v * 100.0))
}

/// The capacity table, with a status column flagging overload.
pub fn capacity_table(rows: &[CapacityRow]) -> String {
    let mut t = table(&[
        "service",
        "offered rps",
        "hold ms",
        "busy workers",
        "workers",
        "utilization",
        "status",
    ]);
    for r in rows {
        t.add_row(vec![
            r.service.clone(),
            format!("{:.1}", r.offered_rps),
            format!("{:.2}", r.mean_hold_ms),
            format!("{:.2}", r.busy_workers),
            r.workers.to_string(),
            format!("{:.1}%", r.utilization * 100.0),
            status(r.utilization).to_string(),
        ]);
    }
    t.to_string()
}

/// "ok", "high" (>= 80%) or "UNSTABLE" (>= 100%).
pub fn status(utilization: f64) -> &'static str {
    if utilization >= 1.0 {
        "UNSTABLE"
    } else if utilization >= 0.8 {
        "high"
    } else {
        "ok"
    }
}

/// Workload and service tables of a run.
pub fn summary_tables(s: &Summary) -> String {
    let secs = |v: f64| crate::engine::time::fmt_ns((v * 1e9).round() as u64);
    let mut out = format!(
        "{}: {} simulated ({} warm-up excluded), seed {}, {} events\n\n",
        s.name,
        secs(s.simulated_seconds),
        secs(s.warmup_seconds),
        s.seed,
        s.events
    );
    let mut w = table(&[
        "workload",
        "requests",
        "ok",
        "degraded",
        "failed",
        "availability",
        "rps",
        "mean ms",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "p99.9 ms",
        "max ms",
    ]);
    for (name, r) in &s.workloads {
        let mut row = vec![
            name.clone(),
            r.requests.to_string(),
            r.ok.to_string(),
            r.degraded.to_string(),
            r.failed.to_string(),
            pct(r.availability),
            format!("{:.1}", r.throughput_rps),
        ];
        match &r.latency_ms {
            Some(l) => row.extend([l.mean, l.p50, l.p90, l.p99, l.p999, l.max].map(ms)),
            None => row.extend(std::iter::repeat_n("-".to_string(), 6)),
        }
        w.add_row(row);
    }
    out.push_str(&w.to_string());
    out.push('\n');
    let failures: Vec<String> = s
        .workloads
        .iter()
        .filter(|(_, r)| r.failed > 0)
        .map(|(n, r)| {
            let causes: Vec<String> = r
                .failures
                .iter()
                .filter(|(_, k)| **k > 0)
                .map(|(c, k)| format!("{c} {k}"))
                .collect();
            format!("  {n}: {}", causes.join(", "))
        })
        .collect();
    if !failures.is_empty() {
        out.push_str("failures by cause:\n");
        out.push_str(&failures.join("\n"));
        out.push('\n');
    }
    let in_flight: Vec<String> = s
        .workloads
        .iter()
        .filter(|(_, r)| r.in_flight > 0)
        .map(|(n, r)| format!("{n} {}", r.in_flight))
        .collect();
    if !in_flight.is_empty() {
        out.push_str(&format!(
            "still in flight at the end (neither ok nor failed): {}\n",
            in_flight.join(", ")
        ));
    }
    out.push('\n');
    out.push_str(&attribution_tables(s));
    let mut t = table(&[
        "service",
        "replicas",
        "workers",
        "requests",
        "utilization",
        "busy workers",
        "mean queue",
        "rejected",
    ]);
    for (name, r) in &s.services {
        // With scaling, the mean replicas that existed (utilisation is
        // relative to them); the replicas table has the rest.
        let (replicas, workers) = match &r.scaling {
            Some(sc) => (
                format!("{:.2} (mean)", sc.mean_replicas),
                format!("{:.1}", sc.mean_replicas * f64::from(r.concurrency)),
            ),
            None => (
                r.replicas.to_string(),
                (u64::from(r.replicas) * u64::from(r.concurrency)).to_string(),
            ),
        };
        t.add_row(vec![
            name.clone(),
            replicas,
            workers,
            r.requests.to_string(),
            format!("{:.1}%", r.utilization * 100.0),
            format!("{:.2}", r.mean_busy_workers),
            format!("{:.2}", r.mean_queue_length),
            r.rejected.to_string(),
        ]);
    }
    out.push_str(&t.to_string());
    out.push('\n');
    out.push_str(&resilience_tables(s));
    out.push_str(&discovery_tables(s));
    out.push_str(&super::scaling::scaling_tables(s));
    out.push_str(&super::cost::cost_table(s));
    out.push_str(&messaging_tables(s));
    out
}

/// "Latency attribution (critical path)": per workload with measured
/// successful requests, its headline and a table of components (sorted
/// by their share of the slowest 1%) with their mean ms and share for all
/// requests and for the slowest 1%, and the mean time parallel siblings
/// spent off the critical path when there was any. Nothing when no
/// workload has attribution (no successful request was measured).
pub fn attribution_tables(s: &Summary) -> String {
    use super::attribution::{headline, rows, share};
    if s.attribution.is_empty() {
        return String::new();
    }
    let mut out = String::from("Latency attribution (critical path):\n");
    for (i, (name, a)) in s.attribution.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&headline(name, a));
        out.push('\n');
        let mut t = table(&[
            "component",
            "all: mean ms",
            "all: share",
            "slowest 1%: mean ms",
            "slowest 1%: share",
        ]);
        let cell =
            |c: Option<&crate::metrics::attribution::ComponentShare>,
             f: &dyn Fn(&crate::metrics::attribution::ComponentShare) -> String| {
                c.map_or_else(|| "-".to_string(), f)
            };
        // A component too small to show at the table's precision says so,
        // rather than a listed 0.00 that reads as nothing.
        let mean = |c: &crate::metrics::attribution::ComponentShare| {
            if c.mean_ms < 0.005 {
                "<0.01".to_string()
            } else {
                ms(c.mean_ms)
            }
        };
        let part = |c: &crate::metrics::attribution::ComponentShare| {
            if c.share < 0.0005 {
                "<0.1%".to_string()
            } else {
                share(c.share)
            }
        };
        let slowest = a.slowest.as_ref();
        for r in rows(a) {
            t.add_row(vec![
                r.key.label(),
                cell(r.all, &mean),
                cell(r.all, &part),
                cell(r.slowest, &mean),
                cell(r.slowest, &part),
            ]);
        }
        t.add_row(vec![
            "end to end".to_string(),
            ms(a.all.mean_ms),
            share(1.0),
            slowest.map_or_else(|| "-".into(), |b| ms(b.mean_ms)),
            slowest.map_or_else(|| "-".into(), |_| share(1.0)),
        ]);
        out.push_str(&t.to_string());
        out.push('\n');
        let off = [Some(&a.all), slowest].map(|b| b.map_or(0.0, |b| b.off_critical_path_ms));
        if off.iter().any(|v| *v > 0.0) {
            out.push_str(&format!(
                "  {name}: parallel branches off the critical path (hidden by parallelism, not in the sum): mean {} ms all, {} ms slowest 1%\n",
                ms(off[0]),
                slowest.map_or_else(|| "-".into(), |_| ms(off[1]))
            ));
        }
    }
    out.push('\n');
    out
}

/// Service discovery: the registry's line and a row per caller/callee
/// pair. Printed only when the scenario uses discovery.
fn discovery_tables(s: &Summary) -> String {
    let Some(d) = &s.discovery else {
        return String::new();
    };
    let mut out = String::new();
    if let Some(r) = &d.registry {
        out.push_str(&format!(
            "registry: heartbeat {}s, ttl {}s; {} registrations, {} evictions, {} heartbeats lost, down {:.1}s\n",
            r.heartbeat_s, r.ttl_s, r.registrations, r.evictions, r.heartbeats_lost, r.outage_seconds
        ));
    }
    let mut t = table(&[
        "caller->callee",
        "mode",
        "attempts",
        "cache hits",
        "stale uses",
        "lookups",
        "lookup fails",
        "lookup p99 ms",
        "to dead",
        "no instance",
        "new found",
        "lag mean ms",
        "lag max ms",
        "never found",
    ]);
    let opt_ms = |v: Option<f64>| v.map_or_else(|| "-".into(), ms);
    for (name, p) in &d.pairs {
        t.add_row(vec![
            name.clone(),
            p.mode.clone(),
            p.attempts.to_string(),
            p.cache_hit_rate
                .map_or_else(|| "-".into(), |r| format!("{:.1}%", r * 100.0)),
            p.stale_list_uses.to_string(),
            p.lookups.to_string(),
            p.lookup_failures.to_string(),
            opt_ms(p.lookup_latency_ms.as_ref().map(|l| l.p99)),
            p.routed_to_dead.to_string(),
            p.no_instance.to_string(),
            p.new_instances_discovered.to_string(),
            opt_ms(p.discovery_lag_mean_ms),
            opt_ms(p.discovery_lag_max_ms),
            p.new_instances_undiscovered.to_string(),
        ]);
    }
    out.push_str("service discovery (how callers found instances):\n");
    out.push_str(&t.to_string());
    out.push_str("\n\n");
    out
}

/// The failure-handling tables: per service, per dependency (client) and
/// per fault. Each is printed only when it has something to say.
fn resilience_tables(s: &Summary) -> String {
    let mut out = String::new();
    let active = |r: &crate::metrics::ServiceSummary| {
        r.retry_amplification.is_some_and(|a| a > 1.0)
            || r.lost_in_crashes + r.unreachable + r.shed + r.injected_errors + r.abandoned > 0
            || r.crashes + r.ejections + r.breaker_opens > 0
    };
    if s.services.values().any(active) {
        let mut t = table(&[
            "service",
            "retry amp.",
            "calls/request",
            "lost in crashes",
            "unreachable",
            "shed",
            "injected errors",
            "abandoned",
            "wasted work s",
            "crashes",
            "ejections",
            "avail. replicas",
        ]);
        for (name, r) in &s.services {
            t.add_row(vec![
                name.clone(),
                r.retry_amplification
                    .map_or_else(|| "-".into(), |a| format!("{a:.2}x")),
                r.calls_per_entry_request
                    .map_or_else(|| "-".into(), |a| format!("{a:.2}")),
                r.lost_in_crashes.to_string(),
                r.unreachable.to_string(),
                r.shed.to_string(),
                r.injected_errors.to_string(),
                r.abandoned.to_string(),
                format!("{:.2}", r.wasted_work_seconds),
                r.crashes.to_string(),
                r.ejections.to_string(),
                format!("{:.2}", r.mean_available_replicas),
            ]);
        }
        out.push_str("failure handling per service:\n");
        out.push_str(&t.to_string());
        out.push_str("\n\n");
    }
    let deps: Vec<_> = s
        .dependencies
        .iter()
        .filter(|(_, d)| d.policy.is_some() || d.failed > 0 || d.retries > 0 || d.breaker_opens > 0)
        .collect();
    if !deps.is_empty() {
        let mut t = table(&[
            "dependency",
            "calls",
            "attempts",
            "retries",
            "denied by budget",
            "ok",
            "fallbacks",
            "failed",
            "failed attempts by cause",
            "breaker opens",
            "open s",
        ]);
        for (name, d) in deps {
            let causes: Vec<String> = d
                .attempt_failures
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(c, n)| format!("{c} {n}"))
                .collect();
            t.add_row(vec![
                name.clone(),
                d.calls.to_string(),
                d.attempts.to_string(),
                d.retries.to_string(),
                d.retries_denied_by_budget.to_string(),
                d.ok.to_string(),
                d.fallbacks.to_string(),
                d.failed.to_string(),
                if causes.is_empty() {
                    "-".into()
                } else {
                    causes.join(", ")
                },
                d.breaker_opens.to_string(),
                format!("{:.1}", d.breaker_open_seconds),
            ]);
        }
        out.push_str("dependencies (calls between services, by client):\n");
        out.push_str(&t.to_string());
        out.push_str("\n\n");
    }
    if !s.faults.is_empty() {
        let mut t = table(&[
            "fault",
            "window s",
            "workload",
            "requests",
            "unanswered",
            "availability",
            "vs. no fault",
            "p99 ms",
            "vs. no fault",
            "impact",
        ]);
        for f in &s.faults {
            // With discovery a crash's effect also lasts while callers
            // still route to the dead instance and look for the new one.
            let after = if s.discovery.is_some() {
                "startup, discovery"
            } else {
                "startup"
            };
            let window = if f.effect_end_s > f.end_s {
                format!(
                    "{:.0}-{:.0} (+{:.0} {after})",
                    f.start_s,
                    f.end_s,
                    f.effect_end_s - f.end_s
                )
            } else {
                format!("{:.0}-{:.0}", f.start_s, f.end_s)
            };
            for (i, (w, b)) in f.blast_radius.iter().enumerate() {
                let base = s.workloads.get(w).and_then(|ws| ws.outside_faults.as_ref());
                t.add_row(vec![
                    if i == 0 {
                        f.name.clone()
                    } else {
                        String::new()
                    },
                    if i == 0 {
                        window.clone()
                    } else {
                        String::new()
                    },
                    w.clone(),
                    b.during.issued.to_string(),
                    b.during.unfinished.to_string(),
                    pct(b.during.availability),
                    pct(base.and_then(|b| b.availability)),
                    b.during.p99_ms.map_or_else(|| "-".into(), ms),
                    base.and_then(|b| b.p99_ms).map_or_else(|| "-".into(), ms),
                    b.impact.clone(),
                ]);
            }
        }
        out.push_str(
            "blast radius (requests issued during each fault vs. while no fault was active):\n",
        );
        out.push_str(&t.to_string());
        out.push_str("\n\n");
    }
    out
}

/// Aligns columns `cols` of `t` (text, not numbers) to the left.
fn left(t: &mut Table, cols: &[usize]) {
    for &i in cols {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Left);
        }
    }
}

/// `v` in ms, or `-` when there is none.
fn opt_ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), ms)
}

/// Messaging, data copies, sagas and executions: each table printed only
/// when the run has what it describes, so other runs print as before.
fn messaging_tables(s: &Summary) -> String {
    let mut out = String::new();
    if let Some(m) = &s.messaging {
        let mut t = table(&[
            "topic",
            "broker",
            "published",
            "stored",
            "lost",
            "in outbox",
            "unacked",
        ]);
        left(&mut t, &[1]);
        for (name, tp) in &m.topics {
            t.add_row(vec![
                name.clone(),
                tp.broker.clone(),
                tp.published.to_string(),
                tp.stored.to_string(),
                tp.lost.to_string(),
                tp.in_outbox.to_string(),
                tp.unacked.to_string(),
            ]);
        }
        out.push_str("topics (events published after the warm-up and what became of them):\n");
        out.push_str(&t.to_string());
        out.push_str("\n\n");
        if m.topics.values().any(|tp| !tp.subscriptions.is_empty()) {
            let mut t = table(&[
                "topic->subscriber",
                "handler",
                "delivered",
                "redelivered",
                "dead-lettered",
                "dropped",
                "pending",
                "max lag",
                "mean lag",
                "latency p50 ms",
                "latency p99 ms",
            ]);
            left(&mut t, &[1]);
            for (topic, tp) in &m.topics {
                for (sub, r) in &tp.subscriptions {
                    let l = r.delivery_latency_ms.as_ref();
                    t.add_row(vec![
                        format!("{topic}->{sub}"),
                        r.handler.clone(),
                        r.delivered.to_string(),
                        r.redelivered.to_string(),
                        r.dead_lettered.to_string(),
                        r.dropped.to_string(),
                        r.pending.to_string(),
                        r.max_lag.to_string(),
                        format!("{:.2}", r.mean_lag),
                        opt_ms(l.map(|l| l.p50)),
                        opt_ms(l.map(|l| l.p99)),
                    ]);
                }
            }
            out.push_str(
                "subscriptions (delivery at least once; latency from publish to handled):\n",
            );
            out.push_str(&t.to_string());
            out.push_str("\n\n");
        }
        if !m.copies.is_empty() {
            let mut t = table(&[
                "copy",
                "period",
                "writes",
                "converged",
                "unconverged",
                "window p50 ms",
                "window p99 ms",
                "window max ms",
                "reads",
                "stale reads",
                "stale rate",
                "stale at end",
            ]);
            left(&mut t, &[1]);
            for (name, c) in &m.copies {
                for (i, (period, p)) in super::csv::copy_periods(c).into_iter().enumerate() {
                    let w = p.window_ms.as_ref();
                    t.add_row(vec![
                        if i == 0 { name.clone() } else { String::new() },
                        period.replace('_', " "),
                        p.writes.to_string(),
                        p.converged.to_string(),
                        p.unconverged.to_string(),
                        opt_ms(w.map(|w| w.p50)),
                        opt_ms(w.map(|w| w.p99)),
                        opt_ms(w.map(|w| w.max)),
                        p.reads.to_string(),
                        p.stale_reads.to_string(),
                        pct(p.stale_read_rate),
                        if i == 0 {
                            c.stale_keys_at_end.to_string()
                        } else {
                            String::new()
                        },
                    ]);
                }
            }
            out.push_str(
                "data copies (inconsistency window: owner's write to the copy holding it):\n",
            );
            out.push_str(&t.to_string());
            out.push_str("\n\n");
        }
    }
    if !s.sagas.is_empty() {
        let mut t = table(&[
            "saga",
            "started",
            "completed",
            "compensated",
            "inconsistent",
            "interrupted",
            "in flight",
            "compensations",
            "comp. failures",
            "p50 ms",
            "p99 ms",
        ]);
        for (name, g) in &s.sagas {
            let d = g.duration_ms.as_ref();
            t.add_row(vec![
                name.clone(),
                g.started.to_string(),
                g.completed.to_string(),
                g.compensated.to_string(),
                g.inconsistent.to_string(),
                g.interrupted.to_string(),
                g.in_flight.to_string(),
                g.compensations.to_string(),
                g.compensation_failures.to_string(),
                opt_ms(d.map(|d| d.p50)),
                opt_ms(d.map(|d| d.p99)),
            ]);
        }
        out.push_str("sagas (started after the warm-up; duration of those that ended):\n");
        out.push_str(&t.to_string());
        out.push_str("\n\n");
    }
    if !s.executions.is_empty() {
        let mut t = table(&[
            "endpoint",
            "idempotent",
            "logical calls",
            "executions",
            "duplicates",
            "deduplicated",
        ]);
        left(&mut t, &[1]);
        for (name, e) in &s.executions {
            t.add_row(vec![
                name.clone(),
                if e.idempotent { "yes" } else { "no" }.to_string(),
                e.logical_calls.to_string(),
                e.executions.to_string(),
                e.duplicates.to_string(),
                e.deduplicated.to_string(),
            ]);
        }
        out.push_str("executions (side effects per logical call: duplicates are repeats):\n");
        out.push_str(&t.to_string());
        out.push_str("\n\n");
    }
    out
}
