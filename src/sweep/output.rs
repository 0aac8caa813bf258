//! A sweep's outputs: `sweep.csv` (a row per point and replication),
//! `sweep_summary.csv` (a row per point: mean and 95% confidence interval
//! per metric), `sweep.json` (the whole [`SweepResult`]), the `points/`
//! files, the charts and report, and the table printed on stdout. All are
//! pure functions of the result, so a run, a resumed run and a merge of
//! shards write the same bytes.

use super::result::{Param, SweepResult};
use super::store::{self, Stored};
use crate::metrics::catalog::Unit;
use crate::report::charts::Formats;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};

fn cell(v: Option<f64>) -> String {
    v.map_or_else(String::new, |v| format!("{v}"))
}

fn param_cells<'a>(params: &'a [Param], values: &'a [usize]) -> impl Iterator<Item = String> + 'a {
    params.iter().zip(values).map(|(p, &i)| p.values[i].plain())
}

/// `sweep.csv`: point, replication, seed, each parameter, each metric.
pub fn runs_csv(r: &SweepResult) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["point".to_string(), "replication".into(), "seed".into()];
    header.extend(r.plan.params.iter().map(|p| p.path.clone()));
    header.extend(r.plan.metrics.iter().map(|m| m.name.clone()));
    w.write_record(&header)?;
    for p in &r.points {
        for (rep, run) in p.runs.iter().enumerate() {
            let mut row = vec![p.index.to_string(), rep.to_string(), run.seed.to_string()];
            row.extend(param_cells(&r.plan.params, &p.values));
            row.extend(run.values.iter().map(|v| cell(*v)));
            w.write_record(&row)?;
        }
    }
    Ok(w.into_inner()?)
}

/// `sweep_summary.csv`: point, each parameter, replications, and per
/// metric its mean and the ends of its 95% confidence interval (empty
/// with one replication).
pub fn summary_csv(r: &SweepResult) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["point".to_string()];
    header.extend(r.plan.params.iter().map(|p| p.path.clone()));
    header.push("replications".into());
    for m in &r.plan.metrics {
        for s in ["mean", "ci_low", "ci_high"] {
            header.push(format!("{}.{s}", m.name));
        }
    }
    w.write_record(&header)?;
    for p in &r.points {
        let mut row = vec![p.index.to_string()];
        row.extend(param_cells(&r.plan.params, &p.values));
        row.push(p.runs.len().to_string());
        for e in &p.estimates {
            row.extend([cell(e.mean), cell(e.ci_low()), cell(e.ci_high())]);
        }
        w.write_record(&row)?;
    }
    Ok(w.into_inner()?)
}

/// Every file of a sweep's output directory: `points/` (the plan and each
/// point), `sweep.csv`, `sweep_summary.csv`, `sweep.json` and, for a
/// whole sweep (not a shard, whose charts the merge draws), the charts
/// and `report.html`.
pub fn files(r: &SweepResult, charts: Option<Formats>) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let stored = Stored {
        plan: r.plan.clone(),
        shard: r.shard,
    };
    let mut files = vec![(store::plan_path(), store::json(&stored))];
    for p in &r.points {
        files.push((store::point_path(&r.plan, p.index), store::json(p)));
    }
    files.push(("sweep.csv".into(), runs_csv(r)?));
    files.push(("sweep_summary.csv".into(), summary_csv(r)?));
    files.push(("sweep.json".into(), store::json(r)));
    if r.shard.is_none() {
        files.extend(crate::report::sweep::presentation(r, charts)?);
    }
    Ok(files)
}

/// A metric's estimate as the table shows it: `mean ± half-width` in the
/// metric's unit, the mean alone with one replication, `-` without value.
fn show(unit: Unit, mean: Option<f64>, half: Option<f64>) -> String {
    match (mean, half) {
        (None, _) => "-".into(),
        (Some(m), None) => unit.show(m),
        (Some(m), Some(h)) => unit.show_estimate(m, h),
    }
}

/// The table printed on stdout: a row per point with its parameters and
/// each shown metric.
pub fn table(r: &SweepResult) -> String {
    let shown = r.shown_indices();
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    let mut header = vec!["point".to_string()];
    header.extend(r.plan.params.iter().map(Param::label));
    header.extend(shown.iter().map(|&i| r.plan.metrics[i].name.clone()));
    t.set_header(header.iter().map(Cell::new));
    for i in 0..header.len() {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    for p in &r.points {
        let mut row = vec![p.index.to_string()];
        row.extend(param_cells(&r.plan.params, &p.values));
        for &i in &shown {
            let e = &p.estimates[i];
            row.push(show(r.plan.metrics[i].unit, e.mean, e.half_width));
        }
        t.add_row(row);
    }
    let reps = r.plan.replications;
    let what = if reps > 1 {
        format!("mean ± 95% confidence half-width over {reps} replications per point")
    } else {
        "one run per point".to_string()
    };
    let shard = r
        .shard
        .map_or_else(String::new, |(k, n)| format!(", shard {k}/{n}"));
    format!(
        "sweep of {} over {} ({what}{shard})\n{t}\n",
        r.plan.scenario,
        r.plan
            .params
            .iter()
            .map(|p| p.path.as_str())
            .collect::<Vec<_>>()
            .join(" x "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::ParamValue;

    #[test]
    fn plain_values_and_estimates() {
        let plain = |t: &str| {
            ParamValue {
                text: t.into(),
                number: None,
            }
            .plain()
        };
        assert_eq!(plain("\"10ms\""), "10ms");
        assert_eq!(plain("\"a\\\"b\""), "a\"b");
        assert_eq!(plain("4"), "4");
        assert_eq!(plain("0.5"), "0.5");
        assert_eq!(
            show(Unit::Ms, Some(212.346), Some(3.2)),
            "212.35 ms ± 3.20 ms"
        );
        assert_eq!(show(Unit::Fraction, Some(0.999), None), "99.900%");
        assert_eq!(show(Unit::Count, None, None), "-");
        assert_eq!(show(Unit::Count, Some(10.0), Some(2.26)), "10 ± 2.3");
    }
}
