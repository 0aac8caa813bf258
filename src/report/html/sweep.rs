//! The report of a sweep: what was swept and how its runs were seeded, a
//! table of every point (its parameters and each shown metric's mean and
//! 95% confidence interval), the charts, and how to reproduce any run.

use super::page::{esc, figure, Cell, Col, Page, Table};
use crate::metrics::catalog::Unit;
use crate::report::charts::ChartFile;
use crate::sweep::{Estimate, Seeding, SweepResult};
use std::fmt::Write;

/// Most points listed in the table; the rest are in the CSV files.
const MAX_ROWS: usize = 2000;
/// Most values of a parameter listed in the facts line.
const MAX_VALUES: usize = 20;

/// The report of `r`, with `charts` inlined.
pub(super) fn report(r: &SweepResult, charts: &[ChartFile]) -> String {
    let title = format!("{} sweep", r.plan.scenario);
    let mut page = Page::new(&title, header(r));
    page.section("points", "Points", points(r));
    if !charts.is_empty() {
        let figs: String = charts
            .iter()
            .enumerate()
            .map(|(i, c)| figure(c, i))
            .collect();
        page.section("charts", "Charts", figs);
    }
    page.section("notes", "Seeds and reproducing a run", notes(r));
    page.footer(
        "Drawn by microsim from the sweep's saved results (sweep.json); \
         <code>microsim report DIR</code> on its directory draws it again."
            .to_string(),
    );
    page.finish()
}

/// A parameter's values as listed in the facts line (capped).
fn values_list(values: &[crate::sweep::ParamValue]) -> String {
    let mut list: Vec<String> = values
        .iter()
        .take(MAX_VALUES)
        .map(|v| esc(&v.plain()))
        .collect();
    if values.len() > MAX_VALUES {
        list.push(format!("… ({} values)", values.len()));
    }
    list.join(", ")
}

/// The facts line: scenario, overrides, parameters, points, runs, seeds.
fn header(r: &SweepResult) -> String {
    let plan = &r.plan;
    let mut facts: Vec<String> = Vec::new();
    if let Some((k, n)) = r.shard {
        facts.push(format!(
            "<b>shard {k} of {n}</b> (only its points; <code>microsim merge</code> combines the shards)"
        ));
    }
    facts.push(format!(
        "scenario <code>{}</code>",
        esc(&plan.scenario_file)
    ));
    if plan.overrides.is_empty() {
        facts.push("no overrides".into());
    } else {
        let list: Vec<String> = plan
            .overrides
            .iter()
            .map(|o| format!("<code>{}</code>", esc(o)))
            .collect();
        facts.push(format!("overrides {}", list.join(" ")));
    }
    for p in &plan.params {
        facts.push(format!(
            "<code>{}</code> = {}",
            esc(&p.path),
            values_list(&p.values)
        ));
    }
    if plan.zip && plan.params.len() > 1 {
        facts.push("lists paired element by element (zip)".into());
    }
    facts.push(format!("<b>{}</b> points", r.points.len()));
    facts.push(format!(
        "<b>{}</b> replication{} per point",
        plan.replications,
        if plan.replications == 1 { "" } else { "s" }
    ));
    facts.push(match plan.seeding {
        Seeding::Independent => "independent seeds per point and replication".into(),
        Seeding::Common => {
            "common random numbers (replication r has one seed at every point)".into()
        }
    });
    facts.push(format!("base seed <b>{}</b>", plan.base_seed));
    let mut out = String::from("<ul class=\"facts\">");
    for f in facts {
        let _ = write!(out, "<li>{f}</li>");
    }
    out.push_str("</ul>\n");
    out
}

/// An estimate as a table cell: `mean ± half-width` in the metric's unit
/// (percentage points for fractions), the mean alone with one run, `-`
/// with no value.
fn estimate_text(unit: Unit, e: &Estimate) -> String {
    match (e.mean, e.half_width) {
        (Some(m), Some(h)) if m.is_finite() && h.is_finite() => unit.show_estimate(m, h),
        (Some(m), _) if m.is_finite() => unit.show(m),
        _ => "-".into(),
    }
}

/// The table of points, in grid order.
fn points(r: &SweepResult) -> String {
    let plan = &r.plan;
    let shown = r.shown_indices();
    let mut cols = vec![Col::r("point")];
    cols.extend(plan.params.iter().map(|p| Col::r(&p.path)));
    for &m in &shown {
        let def = &plan.metrics[m];
        let unit = match def.unit {
            Unit::Ms => " (ms)",
            Unit::Fraction => " (%)",
            Unit::PerSecond => " (/s)",
            _ => "",
        };
        cols.push(Col::r(&format!("{}{unit}", def.name)));
    }
    let mut t = Table::new(cols);
    for p in r.points.iter().take(MAX_ROWS) {
        let mut row = vec![Cell::num(&p.index.to_string())];
        for (k, param) in plan.params.iter().enumerate() {
            let v = p
                .values
                .get(k)
                .and_then(|&i| param.values.get(i))
                .map_or_else(|| "?".to_string(), crate::sweep::ParamValue::plain);
            row.push(Cell::num(&v));
        }
        for &m in &shown {
            let text = p.estimates.get(m).map_or_else(
                || "-".to_string(),
                |e| estimate_text(plan.metrics[m].unit, e),
            );
            row.push(Cell::num(&text));
        }
        t.row(row);
    }
    let mut out = if t.is_empty() {
        "<p class=\"muted\">No points.</p>\n".to_string()
    } else {
        t.html()
    };
    if r.points.len() > MAX_ROWS {
        let _ = writeln!(
            out,
            "<p class=\"note\">The first {MAX_ROWS} of {} points; every point is in \
             <code>sweep_summary.csv</code>.</p>",
            r.points.len()
        );
    }
    let what = if plan.replications >= 2 {
        format!(
            "Each metric is the mean of the point's {} replications ± the half-width of its \
             95% confidence interval (Student t); percentages ± percentage points.",
            plan.replications
        )
    } else {
        "Each point ran once: values are single runs, without a confidence interval \
         (sweep with <code>-r N</code> for one)."
            .to_string()
    };
    let _ = writeln!(
        out,
        "<p class=\"note\">{what} Every metric of every run is in <code>sweep.csv</code> \
         (a row per point and replication), the means and intervals in \
         <code>sweep_summary.csv</code>.</p>"
    );
    out
}

/// How seeds were derived and how to run one point's replication again.
fn notes(r: &SweepResult) -> String {
    let plan = &r.plan;
    let mut out = String::new();
    let how = match plan.seeding {
        Seeding::Independent => format!(
            "Every run has its own seed, derived from the base seed {} and the point's index \
             and replication, so the points are independent samples and a point's runs are \
             the same whichever shard, thread or resumed session ran them.",
            plan.base_seed
        ),
        Seeding::Common => format!(
            "Replication r has the same seed at every point (common random numbers; \
             replication 0 runs with the base seed {} itself), so the points differ only by \
             their parameters.",
            plan.base_seed
        ),
    };
    let _ = writeln!(out, "<p>{}</p>", esc(&how));
    // An example from the first point that ran.
    let example = r.points.first().and_then(|p| {
        let run = p.runs.first()?;
        let mut cmd = format!("microsim run {}", shell_word(&plan.scenario_file));
        for o in &plan.overrides {
            let _ = write!(cmd, " --set {}", shell_word(o));
        }
        for (k, param) in plan.params.iter().enumerate() {
            let v = param.values.get(*p.values.get(k)?)?;
            let _ = write!(
                cmd,
                " --set {}",
                shell_word(&format!("{}={}", param.path, v.text))
            );
        }
        let _ = write!(cmd, " --seed {}", run.seed);
        Some((p.index, cmd))
    });
    out.push_str(
        "<p>To look at one run in full (its timeline, charts and report), run the scenario \
         with the sweep's overrides, the point's parameter values and the run's seed: \
         <code>microsim run SCENARIO --set PATH=VALUE ... --seed S</code> reproduces that \
         replication exactly. Each run's seed is in the <code>seed</code> column of \
         <code>sweep.csv</code>.</p>\n",
    );
    if let Some((index, cmd)) = example {
        let _ = writeln!(
            out,
            "<p>Replication 0 of point {index}:</p>\n<pre>{}</pre>",
            esc(&cmd)
        );
    }
    out
}

/// `s` quoted for a POSIX shell when it holds anything but plain
/// characters.
fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(shell_word("services.a.replicas=4"), "services.a.replicas=4");
        assert_eq!(shell_word("x=\"10ms\""), "'x=\"10ms\"'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
    }

    #[test]
    fn estimates_read_with_units() {
        let e = Estimate {
            n: 3,
            mean: Some(0.999),
            half_width: Some(0.0005),
        };
        assert_eq!(estimate_text(Unit::Fraction, &e), "99.900% ± 0.050%");
        let e = Estimate {
            n: 1,
            mean: Some(12.5),
            half_width: None,
        };
        assert_eq!(estimate_text(Unit::Ms, &e), "12.500 ms");
        let e = Estimate {
            n: 0,
            mean: None,
            half_width: None,
        };
        assert_eq!(estimate_text(Unit::Ms, &e), "-");
    }
}
