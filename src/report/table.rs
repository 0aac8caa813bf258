//! Human-readable tables for the terminal.

use crate::metrics::Summary;
use crate::model::capacity::CapacityRow;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};

fn table(header: &[&str]) -> Table {
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

fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn pct(v: Option<f64>) -> String {
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
    let mut out = format!(
        "{}: {:.0}s simulated ({:.0}s warm-up excluded), seed {}, {} events\n\n",
        s.name, s.simulated_seconds, s.warmup_seconds, s.seed, s.events
    );
    let mut w = table(&[
        "workload",
        "requests",
        "ok",
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
        t.add_row(vec![
            name.clone(),
            r.replicas.to_string(),
            (u64::from(r.replicas) * u64::from(r.concurrency)).to_string(),
            r.requests.to_string(),
            format!("{:.1}%", r.utilization * 100.0),
            format!("{:.2}", r.mean_busy_workers),
            format!("{:.2}", r.mean_queue_length),
            r.rejected.to_string(),
        ]);
    }
    out.push_str(&t.to_string());
    out.push('\n');
    out
}
