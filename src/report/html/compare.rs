//! The report of a comparison: the variants, the side-by-side tables
//! (each variant's value and its difference to the first, coloured by
//! whether it is better or worse), the comparison's charts, and links to
//! each variant's own report.

use super::page::{esc, figure, rel_href, swatch, Cell, Col, Page, Table};
use crate::report::charts::{palette, ChartFile};
use crate::report::compare::{
    currency, currency_warnings, diff_text, sections, Comparison, Row, Section, Unit,
};
use crate::report::saved::SavedCompare;
use indexmap::IndexSet;
use std::fmt::Write;

/// The report of `c`, with `charts` inlined.
pub(super) fn report(c: &SavedCompare, charts: &[ChartFile]) -> String {
    let cmp = &c.comparison;
    let names: Vec<&str> = cmp.variants.iter().map(|v| v.name.as_str()).collect();
    let mut scenarios: IndexSet<&str> = IndexSet::new();
    for v in &cmp.variants {
        scenarios.insert(&v.summary.name);
    }
    let scenarios: Vec<&str> = scenarios.into_iter().collect();
    let title = format!("{}: {}", scenarios.join(", "), names.join(" vs "));
    let mut page = Page::new(&title, header(c));
    page.section("variants", "Variants", variants(c));
    page.section("comparison", "Side by side", tables(cmp));
    if !charts.is_empty() {
        let figs: String = charts
            .iter()
            .enumerate()
            .map(|(i, ch)| figure(ch, i))
            .collect();
        page.section("charts", "Charts", figs);
    }
    page.finish()
}

/// The facts line: what is compared and with which seeds; and warnings.
fn header(c: &SavedCompare) -> String {
    let cmp = &c.comparison;
    let mut out = String::from("<ul class=\"facts\">");
    let _ = write!(out, "<li><b>{}</b> variants</li>", cmp.variants.len());
    if let Some(first) = cmp.variants.first() {
        let _ = write!(
            out,
            "<li>differences against <b>{}</b></li>",
            esc(&first.name)
        );
    }
    match cmp.seed {
        Some(seed) => {
            let _ = write!(
                out,
                "<li>seed <b>{seed}</b> for all (common random numbers)</li>"
            );
        }
        None => out.push_str("<li>different seeds</li>"),
    }
    if let Some(s) = cmp.variants.first().map(|v| &v.summary) {
        let _ = write!(
            out,
            "<li>simulated <b>{}</b>, warm-up <b>{}</b></li>",
            super::run::secs(s.simulated_seconds),
            super::run::secs(s.warmup_seconds)
        );
    }
    out.push_str("</ul>\n");
    let warnings = currency_warnings(cmp);
    if !warnings.is_empty() {
        out.push_str("<div class=\"callout warning\"><b>Warnings</b>");
        for w in warnings {
            let _ = write!(out, "<p>{}</p>", esc(&w));
        }
        out.push_str("</div>\n");
    }
    out
}

/// One row per variant: what it ran, and a link to its own report.
fn variants(c: &SavedCompare) -> String {
    let mut t = Table::new(vec![
        Col::l("variant"),
        Col::l("scenario file"),
        Col::l("overrides"),
        Col::r("seed"),
        Col::l("report"),
    ]);
    for (i, v) in c.comparison.variants.iter().enumerate() {
        let overrides = if v.overrides.is_empty() {
            Cell::text("none").class(Some("muted"))
        } else {
            Cell::html(
                v.overrides
                    .iter()
                    .map(|o| format!("<code>{}</code>", esc(o)))
                    .collect::<Vec<_>>()
                    .join("<br>"),
            )
        };
        let href = rel_href(&v.name, "report.html");
        t.row(vec![
            Cell::html(format!(
                "{}<b>{}</b>",
                swatch(palette::series(i)),
                esc(&v.name)
            )),
            Cell::html(format!("<code>{}</code>", esc(&v.file))),
            overrides,
            Cell::num(&v.seed.to_string()),
            Cell::html(format!("<a href=\"{}\">{}</a>", esc(&href), esc(&href))),
        ]);
    }
    let mut out = t.html();
    out.push_str(
        "<p class=\"note\">Each variant's own report (every chart and table of its run) is in \
         its directory beside this file.</p>\n",
    );
    out
}

/// The CSS class of a difference cell.
fn verdict_class(v: Option<&str>) -> Option<&'static str> {
    match v {
        Some("better") => Some("good"),
        Some("worse") => Some("bad"),
        _ => Some("muted"),
    }
}

/// A table of `rows`: per variant its value and, after the first, the
/// difference to the first (as the terminal prints it).
fn rows_table(c: &Comparison, rows: &[&Row], subject_column: Option<&'static str>) -> String {
    let first = c.variants.first().map_or("", |v| v.name.as_str());
    let mut cols: Vec<Col> = subject_column.map(Col::l).into_iter().collect();
    cols.push(Col::l("metric"));
    for (i, v) in c.variants.iter().enumerate() {
        cols.push(Col::r(&v.name));
        if i > 0 {
            cols.push(Col::r(&format!("vs {first}")));
        }
    }
    let currency = currency(c);
    let mut t = Table::new(cols);
    let mut last_subject: Option<&str> = None;
    for r in rows {
        let unit = if r.unit == Unit::Money {
            currency.as_str()
        } else {
            r.unit.name()
        };
        let metric = if unit.is_empty() || r.unit == Unit::Fraction {
            r.metric.clone()
        } else {
            format!("{} {unit}", r.metric)
        };
        let mut line = Vec::new();
        let new_subject = last_subject != Some(r.subject.as_str());
        if subject_column.is_some() {
            line.push(if new_subject {
                Cell::html(format!("<b>{}</b>", esc(&r.subject)))
            } else {
                Cell::text("")
            });
        }
        line.push(Cell::text(&metric));
        for (i, cell) in r.cells.iter().enumerate() {
            line.push(Cell::num(
                &cell.value.map_or_else(|| "-".into(), |v| r.unit.format(v)),
            ));
            if i > 0 {
                line.push(
                    Cell::num(&diff_text(r, cell)).class(verdict_class(cell.verdict.as_deref())),
                );
            }
        }
        if new_subject && subject_column.is_some() {
            t.group_row(line);
        } else {
            t.row(line);
        }
        last_subject = Some(r.subject.as_str());
    }
    t.html()
}

/// The side-by-side tables: one per workload, one for the services and
/// one for all workloads together.
fn tables(c: &Comparison) -> String {
    let mut out = String::from(
        "<p class=\"note\">Each variant's value and, after the first, its difference to the \
         first: <span class=\"good\">better</span>, <span class=\"bad\">worse</span>, or \
         unjudged for numbers that describe a variant rather than rate it (requests offered, \
         replicas, utilisation). Availability differences are in percentage points.</p>\n",
    );
    for (section, rows) in sections(c) {
        match section {
            Section::Workload { name, target } => {
                let _ = writeln!(
                    out,
                    "<h3>Workload {} <span class=\"muted\">({})</span></h3>",
                    esc(name),
                    esc(target)
                );
                out.push_str(&rows_table(c, &rows, None));
            }
            Section::Services => {
                out.push_str("<h3>Services</h3>\n");
                out.push_str(&rows_table(c, &rows, Some("service")));
            }
            Section::Group { title, subject } => {
                let mut h = title.to_string();
                h[..1].make_ascii_uppercase();
                let _ = writeln!(out, "<h3>{h}</h3>");
                out.push_str(&rows_table(c, &rows, Some(subject)));
            }
            Section::Overall => {
                out.push_str("<h3>All workloads</h3>\n");
                out.push_str(&rows_table(c, &rows, None));
            }
        }
    }
    out
}
