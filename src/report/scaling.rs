//! Scaling and deploys in the outputs: terminal tables, `scaling.csv`
//! (every change of a desired replica count) and `deploys.csv` (a row per
//! deploy and workload: the dip it caused). Empty (header only) when the
//! scenario scales nothing.

use super::csv::{blast_fields, BLAST_COLUMNS};
use super::table::{ms, pct, table};
use crate::metrics::Summary;
use anyhow::Result;
use csv::Writer;

fn opt(v: Option<f64>) -> String {
    v.map_or_else(String::new, |v| v.to_string())
}

/// The replicas-over-time and deploy tables; empty without scaling.
pub fn scaling_tables(s: &Summary) -> String {
    let mut out = String::new();
    if s.services.values().any(|r| r.scaling.is_some()) {
        let mut t = table(&[
            "service",
            "start",
            "min",
            "max",
            "mean",
            "end",
            "replica-hours",
            "scale ups",
            "scale downs",
            "started",
            "drained",
            "drain cut-offs",
        ]);
        for (name, r) in &s.services {
            let Some(sc) = &r.scaling else { continue };
            if sc.replicas_started == 0
                && sc.replicas_drained == 0
                && sc.scale_ups + sc.scale_downs == 0
            {
                continue; // Never scaled: nothing to show.
            }
            t.add_row(vec![
                name.clone(),
                r.replicas.to_string(),
                sc.min_replicas.to_string(),
                sc.max_replicas.to_string(),
                format!("{:.2}", sc.mean_replicas),
                sc.final_replicas.to_string(),
                format!("{:.3}", sc.replica_hours),
                sc.scale_ups.to_string(),
                sc.scale_downs.to_string(),
                sc.replicas_started.to_string(),
                sc.replicas_drained.to_string(),
                format!(
                    "{} ({} calls lost)",
                    sc.drain_cutoffs, sc.lost_in_drain_cutoffs
                ),
            ]);
        }
        out.push_str("replicas (measured period; scaling.csv lists every decision):\n");
        out.push_str(&t.to_string());
        out.push_str("\n\n");
    }
    if !s.deploys.is_empty() {
        let mut t = table(&[
            "deploy",
            "workload",
            "rollout",
            "old -> new replicas",
            "bad-release errors",
            "issued during",
            "availability during",
            "outside",
            "p99 ms during",
            "p99 change ms",
            "impact",
        ]);
        for d in &s.deploys {
            let rollout = match d.end_s {
                Some(e) => format!("{:.1}s-{:.1}s", d.start_s, e),
                None if d.superseded => format!("{:.1}s-superseded", d.start_s),
                None => format!("{:.1}s-unfinished", d.start_s),
            };
            for (i, (wl, b)) in d.blast_radius.iter().enumerate() {
                let base = s.workloads.get(wl).and_then(|x| x.outside_faults.as_ref());
                // The deploy's own figures once, on its first row.
                let own = |v: String| if i == 0 { v } else { String::new() };
                t.add_row(vec![
                    own(d.name.clone()),
                    wl.clone(),
                    own(format!("{} (effect to {:.1}s)", rollout, d.effect_end_s)),
                    own(format!("{} -> {}", d.old_replicas, d.new_replicas)),
                    own(d.bad_release_errors.to_string()),
                    b.during.issued.to_string(),
                    pct(b.during.availability),
                    pct(base.and_then(|x| x.availability)),
                    b.during.p99_ms.map_or_else(|| "-".into(), ms),
                    b.p99_change_ms
                        .map_or_else(|| "-".into(), |v| format!("{v:+.2}")),
                    b.impact.clone(),
                ]);
            }
        }
        out.push_str("deploys (requests issued from the rollout's start until its effect ends, against outside every fault and deploy):\n");
        out.push_str(&t.to_string());
        out.push_str("\n\n");
    }
    out
}

/// `scaling.csv`: one row per change of a desired replica count.
pub fn scaling_csv(s: &Summary) -> Result<Vec<u8>> {
    let mut w = Writer::from_writer(Vec::new());
    w.write_record(["at_s", "service", "from", "to", "reason", "measured"])?;
    for d in &s.scaling {
        w.write_record([
            d.at_s.to_string(),
            d.service.clone(),
            d.from.to_string(),
            d.to.to_string(),
            d.reason.clone(),
            opt(d.measured),
        ])?;
    }
    Ok(w.into_inner()?)
}

/// `deploys.csv`: one row per deploy and workload, with the same blast
/// columns as `faults.csv`.
pub fn deploys_csv(s: &Summary) -> Result<Vec<u8>> {
    let mut w = Writer::from_writer(Vec::new());
    let header = [
        "deploy",
        "service",
        "start_s",
        "end_s",
        "effect_end_s",
        "batch",
        "surge",
        "old_replicas",
        "new_replicas",
        "superseded",
        "error_rate",
        "bad_release_errors",
    ]
    .into_iter()
    .chain(BLAST_COLUMNS);
    w.write_record(header)?;
    for d in &s.deploys {
        for (wl, b) in &d.blast_radius {
            let row = [
                d.name.clone(),
                d.service.clone(),
                d.start_s.to_string(),
                opt(d.end_s),
                d.effect_end_s.to_string(),
                d.batch.to_string(),
                d.surge.to_string(),
                d.old_replicas.to_string(),
                d.new_replicas.to_string(),
                d.superseded.to_string(),
                d.error_rate.to_string(),
                d.bad_release_errors.to_string(),
            ]
            .into_iter()
            .chain(blast_fields(s, wl, b));
            w.write_record(row)?;
        }
    }
    Ok(w.into_inner()?)
}
