//! CSV files: one row per workload, per service, and per window.

use crate::metrics::{Summary, TimeSeries};
use crate::world::outcome::Cause;
use csv::Writer;

type Result<T> = std::result::Result<T, csv::Error>;

fn opt(v: Option<f64>) -> String {
    v.map_or_else(String::new, |v| v.to_string())
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
    header.extend(Cause::ALL.iter().map(|c| format!("failed_{}", c.name())));
    w.write_record(&header)?;
    for (name, r) in &s.workloads {
        let l = r.latency_ms.as_ref();
        let mut row = vec![
            name.clone(),
            r.target.clone(),
            r.requests.to_string(),
            r.ok.to_string(),
            r.failed.to_string(),
            r.in_flight.to_string(),
            opt(r.availability),
            r.throughput_rps.to_string(),
            opt(l.map(|l| l.mean)),
            opt(l.map(|l| l.p50)),
            opt(l.map(|l| l.p90)),
            opt(l.map(|l| l.p99)),
            opt(l.map(|l| l.p999)),
            opt(l.map(|l| l.max)),
        ];
        row.extend(
            Cause::ALL
                .iter()
                .map(|c| r.failures.get(c.name()).copied().unwrap_or(0).to_string()),
        );
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
        ])?;
    }
    finish(w)
}

/// `timeseries.csv`: long format, one row per window and workload
/// (`kind = workload`) or service (`kind = service`); columns that do not
/// apply to a kind are empty.
pub fn timeseries_csv(t: &TimeSeries) -> Result<Vec<u8>> {
    let mut w = Writer::from_writer(Vec::new());
    w.write_record([
        "window_start_s",
        "window_end_s",
        "kind",
        "name",
        "requests",
        "ok",
        "failed",
        "throughput_rps",
        "p50_ms",
        "p99_ms",
        "utilization",
        "queue_length",
        "replicas",
    ])?;
    // Both lists are in window order; merge them so each window's rows
    // stand together (workloads first, then services).
    let (mut wi, mut si) = (0, 0);
    while wi < t.workloads.len() || si < t.services.len() {
        let take_workload = match (t.workloads.get(wi), t.services.get(si)) {
            (Some(a), Some(b)) => a.start_s <= b.start_s,
            (a, _) => a.is_some(),
        };
        if take_workload {
            let r = &t.workloads[wi];
            wi += 1;
            w.write_record([
                r.start_s.to_string(),
                r.end_s.to_string(),
                "workload".into(),
                r.workload.clone(),
                r.requests.to_string(),
                r.ok.to_string(),
                r.failed.to_string(),
                r.throughput_rps.to_string(),
                opt(r.p50_ms),
                opt(r.p99_ms),
                String::new(),
                String::new(),
                String::new(),
            ])?;
        } else {
            let r = &t.services[si];
            si += 1;
            w.write_record([
                r.start_s.to_string(),
                r.end_s.to_string(),
                "service".into(),
                r.service.clone(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                r.utilization.to_string(),
                r.queue_length.to_string(),
                r.replicas.to_string(),
            ])?;
        }
    }
    finish(w)
}
