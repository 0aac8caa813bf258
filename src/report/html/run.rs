//! The report of one run: what ran, the headline numbers per workload,
//! the charts, then the services, capacity, faults and deploys, and the
//! other tables a scenario's features add, and finally the scenario's
//! source. Numbers are formatted as in the terminal tables.

use super::page::{esc, figure, swatch, Cell, Col, Page, Table};
use crate::engine::time::fmt_ns;
use crate::metrics::{BlastRow, PeriodSummary, ServiceSummary, Summary};
use crate::report::charts::{palette, ChartFile};
use crate::report::saved::SavedRun;
use crate::report::table::{ms, pct, status};
use indexmap::IndexMap;
use std::fmt::Write;

/// Where a chart goes: with the workload figures or the service ones.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Group {
    Workloads,
    Attribution,
    Services,
    Messaging,
    Consistency,
    Sagas,
}

/// Charts the report knows, in the order a reader wants them, by the
/// first word of their name (`latency`, `latency-checkout`, ...; a
/// trailing plural `s` is ignored).
const KNOWN: [(&str, Group); 15] = [
    ("latency", Group::Workloads),
    ("availability", Group::Workloads),
    ("throughput", Group::Workloads),
    ("percentile", Group::Workloads),
    ("distribution", Group::Workloads),
    ("failure", Group::Workloads),
    ("attribution", Group::Attribution),
    ("service", Group::Services),
    ("replica", Group::Services),
    ("utilization", Group::Services),
    ("utilisation", Group::Services),
    ("queue", Group::Services),
    ("consumer", Group::Messaging),
    ("inconsistency", Group::Consistency),
    ("saga", Group::Sagas),
];

/// A chart's place among the known ones: its group and rank.
fn known(name: &str) -> Option<(Group, usize)> {
    let first = name
        .split(['-', '_', '.', ' '])
        .next()
        .unwrap_or(name)
        .to_ascii_lowercase();
    let first = first.strip_suffix('s').unwrap_or(&first);
    KNOWN.iter().enumerate().find_map(|(rank, (key, group))| {
        let key = key.strip_suffix('s').unwrap_or(key);
        (first == key).then_some((*group, rank))
    })
}

/// The charts split into workload charts, service charts (each in the
/// known order, charts of one kind in the order given), messaging,
/// data consistency, saga and attribution charts, and the rest (in the
/// order given), each with its position in `charts`.
fn sort_charts(charts: &[ChartFile]) -> [Vec<(usize, &ChartFile)>; 7] {
    let mut groups: [Vec<(usize, usize, &ChartFile)>; 7] = Default::default();
    for (i, c) in charts.iter().enumerate() {
        match known(&c.name) {
            Some((Group::Workloads, rank)) => groups[0].push((rank, i, c)),
            Some((Group::Services, rank)) => groups[1].push((rank, i, c)),
            Some((Group::Messaging, rank)) => groups[2].push((rank, i, c)),
            Some((Group::Consistency, rank)) => groups[3].push((rank, i, c)),
            Some((Group::Sagas, rank)) => groups[4].push((rank, i, c)),
            Some((Group::Attribution, rank)) => groups[5].push((rank, i, c)),
            None => groups[6].push((0, i, c)),
        }
    }
    groups.map(|mut g| {
        g.sort_by_key(|(rank, i, _)| (*rank, *i));
        g.into_iter().map(|(_, i, c)| (i, c)).collect()
    })
}

fn figures(list: &[(usize, &ChartFile)]) -> String {
    list.iter().map(|(i, c)| figure(c, *i)).collect()
}

/// A duration in seconds as the terminal prints it (`4m`, `1.5s`).
pub(super) fn secs(v: f64) -> String {
    fmt_ns((v.max(0.0) * 1e9).round() as u64)
}

fn opt_ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), ms)
}

/// Availability below 99% is worth a look, below 90% is bad.
fn availability_class(a: Option<f64>) -> Option<&'static str> {
    match a {
        Some(a) if a < 0.9 => Some("bad"),
        Some(a) if a < 0.99 => Some("warn"),
        _ => None,
    }
}

/// The class of a count that should be zero.
fn nonzero(n: u64) -> Option<&'static str> {
    (n > 0).then_some("bad")
}

/// A name with its chart colour and, below, a detail in small print.
fn named(colour: plotters::style::RGBColor, name: &str, sub: &str) -> Cell {
    let mut h = format!("{}<b>{}</b>", swatch(colour), esc(name));
    if !sub.is_empty() {
        let _ = write!(h, "<span class=\"sub\">{}</span>", esc(sub));
    }
    Cell::html(h)
}

/// The report of `run`, with `charts` inlined.
pub(super) fn report(run: &SavedRun, charts: &[ChartFile]) -> String {
    let s = &run.result.summary;
    let mut page = Page::new(&s.name, header(run));
    let [workload_charts, service_charts, messaging_charts, consistency_charts, saga_charts, attribution_charts, other_charts] =
        sort_charts(charts);

    page.section("workloads", "Workloads", workloads(s));
    if !workload_charts.is_empty() {
        page.section(
            "workload-charts",
            "Latency, availability and throughput",
            figures(&workload_charts),
        );
    }
    if !s.attribution.is_empty() || !attribution_charts.is_empty() {
        page.section(
            "attribution",
            "Latency attribution",
            figures(&attribution_charts) + &attribution(s),
        );
    }
    page.section("services", "Services", services(s));
    if !service_charts.is_empty() {
        page.section(
            "service-charts",
            "Services over time",
            figures(&service_charts),
        );
    }
    if !other_charts.is_empty() {
        page.section("more-charts", "More charts", figures(&other_charts));
    }
    page.section("capacity", "Capacity", capacity(s));
    if !s.faults.is_empty() {
        page.section("faults", "Faults and their blast radius", faults(s));
    }
    if !s.deploys.is_empty() {
        page.section("deploys", "Deploys and their blast radius", deploys(s));
    }
    if !s.scaling.is_empty() || s.services.values().any(|r| r.scaling.is_some()) {
        page.section("scaling", "Scaling", scaling(s));
    }
    if s.messaging.is_some() || !messaging_charts.is_empty() {
        page.section(
            "messaging",
            "Messaging",
            messaging(s) + &figures(&messaging_charts),
        );
    }
    let copies = s.messaging.as_ref().is_some_and(|m| !m.copies.is_empty());
    if copies || !consistency_charts.is_empty() {
        page.section(
            "consistency",
            "Data consistency",
            consistency(s) + &figures(&consistency_charts),
        );
    }
    if !s.sagas.is_empty() || !saga_charts.is_empty() {
        page.section("sagas", "Sagas", sagas(s) + &figures(&saga_charts));
    }
    if !s.executions.is_empty() {
        page.section("executions", "Duplicate executions", executions(s));
    }
    if let Some(deps) = dependencies(s) {
        page.section("dependencies", "Dependencies", deps);
    }
    if let Some(d) = discovery(s) {
        page.section("discovery", "Service discovery", d);
    }
    if let Some(c) = cost(s) {
        page.section("cost", "Cost", c);
    }
    page.section("source", "Scenario source", source(run));
    page.finish()
}

/// The facts line under the title and the run's notes and warnings.
fn header(run: &SavedRun) -> String {
    let s = &run.result.summary;
    let m = &run.meta;
    let mut facts: Vec<String> = Vec::new();
    if let Some(v) = &m.variant {
        facts.push(format!(
            "variant <b>{}</b> of a <a href=\"../report.html\">comparison</a>",
            esc(v)
        ));
    }
    facts.push(format!("scenario <code>{}</code>", esc(&m.scenario_file)));
    if m.overrides.is_empty() {
        facts.push("no overrides".into());
    } else {
        let list: Vec<String> = m
            .overrides
            .iter()
            .map(|o| format!("<code>{}</code>", esc(o)))
            .collect();
        facts.push(format!("overrides {}", list.join(" ")));
    }
    facts.push(format!("seed <b>{}</b>", s.seed));
    facts.push(format!("simulated <b>{}</b>", secs(s.simulated_seconds)));
    facts.push(format!(
        "warm-up <b>{}</b> (excluded from the tables)",
        secs(s.warmup_seconds)
    ));
    facts.push(format!("<b>{}</b> events", s.events));
    if m.window_seconds > 0.0 {
        facts.push(format!("chart windows <b>{}</b>", secs(m.window_seconds)));
    }
    let mut out = String::from("<ul class=\"facts\">");
    for f in facts {
        let _ = write!(out, "<li>{f}</li>");
    }
    out.push_str("</ul>\n");
    for (class, title, list) in [
        ("callout", "Notes", &m.notes),
        ("callout warning", "Warnings", &m.warnings),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = write!(out, "<div class=\"{class}\"><b>{title}</b>");
        for line in list {
            let _ = write!(out, "<p>{}</p>", esc(line));
        }
        out.push_str("</div>\n");
    }
    out
}

/// The headline table: per workload, requests and outcomes, availability,
/// throughput, latency percentiles and failures by cause.
fn workloads(s: &Summary) -> String {
    let mut t = Table::new(vec![
        Col::l("workload"),
        Col::r("requests"),
        Col::r("ok"),
        Col::r("degraded"),
        Col::r("failed"),
        Col::r("availability"),
        Col::r("throughput rps"),
        Col::r("mean ms"),
        Col::r("p50 ms"),
        Col::r("p90 ms"),
        Col::r("p99 ms"),
        Col::r("p99.9 ms"),
        Col::r("max ms"),
        Col::l("failures by cause"),
    ]);
    for (i, (name, r)) in s.workloads.iter().enumerate() {
        let mut row = vec![
            named(palette::series(i), name, &r.target),
            Cell::num(&r.requests.to_string()),
            Cell::num(&r.ok.to_string()),
            Cell::num(&r.degraded.to_string()).class((r.degraded > 0).then_some("warn")),
            Cell::num(&r.failed.to_string()).class(nonzero(r.failed)),
            Cell::num(&pct(r.availability)).class(availability_class(r.availability)),
            Cell::num(&format!("{:.1}", r.throughput_rps)),
        ];
        match &r.latency_ms {
            Some(l) => {
                row.extend([l.mean, l.p50, l.p90, l.p99, l.p999, l.max].map(|v| Cell::num(&ms(v))))
            }
            None => row.extend((0..6).map(|_| Cell::num("-"))),
        }
        let causes: Vec<String> = r
            .failures
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(c, n)| format!("{}{} {n}", swatch(palette::cause(c)), esc(c)))
            .collect();
        row.push(if causes.is_empty() {
            Cell::text("none").class(Some("muted"))
        } else {
            Cell::html(causes.join("<br>"))
        });
        t.row(row);
    }
    let mut out = t.html();
    out.push_str(
        "<p class=\"note\">Requests issued after the warm-up. Availability = (ok + degraded) / \
         completed; throughput counts successful requests per second; latency is of successful \
         requests.</p>\n",
    );
    let in_flight: Vec<String> = s
        .workloads
        .iter()
        .filter(|(_, r)| r.in_flight > 0)
        .map(|(n, r)| format!("{} {}", esc(n), r.in_flight))
        .collect();
    if !in_flight.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"note\">Still in flight at the end (neither ok nor failed): {}.</p>",
            in_flight.join(", ")
        );
    }
    out
}

/// Per workload with attribution, its headline and the components of its
/// critical path (as the terminal table: sorted by their share of the
/// slowest 1%), each with its chart colour.
fn attribution(s: &Summary) -> String {
    use crate::report::attribution::{headline, rows, services, share};
    use crate::report::charts::attribution::colour;
    let order = services(s);
    let mut out = String::from(
        "<p class=\"note\">Where each workload's latency goes along each request's critical \
         path (a parallel group counts only its slowest branch): queueing for a worker and \
         working per service, attempts lost to timeouts or crashes, network hops, registry \
         lookups and retry backoff. The components of a request add up to its latency. \
         Slowest 1%: the requests at or above the workload's p99, to 0.8% (latencies are \
         summed in buckets of 1/128 of an octave).</p>\n",
    );
    for (name, a) in &s.attribution {
        let _ = writeln!(out, "<p><b>{}</b></p>", esc(&headline(name, a)));
        let mut t = Table::new(vec![
            Col::l("component"),
            Col::r("all: mean ms"),
            Col::r("all: share"),
            Col::r("slowest 1%: mean ms"),
            Col::r("slowest 1%: share"),
        ]);
        let num =
            |c: Option<&crate::metrics::attribution::ComponentShare>,
             f: fn(&crate::metrics::attribution::ComponentShare) -> String| {
                Cell::num(&c.map_or_else(|| "-".to_string(), f))
            };
        for r in rows(a) {
            t.row(vec![
                Cell::html(format!(
                    "{}{}",
                    swatch(colour(&r.key, &order)),
                    esc(&r.key.label())
                )),
                num(r.all, |c| ms(c.mean_ms)),
                num(r.all, |c| share(c.share)),
                num(r.slowest, |c| ms(c.mean_ms)),
                num(r.slowest, |c| share(c.share)),
            ]);
        }
        let slowest = a.slowest.as_ref();
        t.row(vec![
            Cell::html("<b>end to end</b>".to_string()),
            Cell::num(&ms(a.all.mean_ms)),
            Cell::num(&share(1.0)),
            Cell::num(&slowest.map_or_else(|| "-".into(), |b| ms(b.mean_ms))),
            Cell::num(&slowest.map_or_else(|| "-".into(), |_| share(1.0))),
        ]);
        out.push_str(&t.html());
        let off = [Some(&a.all), slowest].map(|b| b.map_or(0.0, |b| b.off_critical_path_ms));
        if off.iter().any(|v| *v > 0.0) {
            let _ = writeln!(
                out,
                "<p class=\"note\">Parallel branches off the critical path (hidden by \
                 parallelism, not in the sum): mean {} ms for all requests, {} ms for the \
                 slowest 1%.</p>",
                ms(off[0]),
                slowest.map_or_else(|| "-".into(), |_| ms(off[1]))
            );
        }
    }
    out
}

/// The failure-handling figures matter for this service (the terminal's
/// rule).
fn handles_failures(r: &ServiceSummary) -> bool {
    r.retry_amplification.is_some_and(|a| a > 1.0)
        || r.lost_in_crashes + r.unreachable + r.shed + r.injected_errors + r.abandoned > 0
        || r.crashes + r.ejections + r.breaker_opens > 0
}

/// The services table and, when any service saw failures, the failure
/// handling table.
fn services(s: &Summary) -> String {
    let mut t = Table::new(vec![
        Col::l("service"),
        Col::r("replicas"),
        Col::r("workers"),
        Col::r("requests"),
        Col::r("utilization"),
        Col::r("busy workers"),
        Col::r("mean queue"),
        Col::r("rejected"),
        Col::r("available replicas"),
    ]);
    for (i, (name, r)) in s.services.iter().enumerate() {
        let (replicas, workers) = match &r.scaling {
            Some(sc) if sc.min_replicas != sc.max_replicas => (
                format!(
                    "{:.2} mean ({}–{})",
                    sc.mean_replicas, sc.min_replicas, sc.max_replicas
                ),
                format!("{:.1}", sc.mean_replicas * f64::from(r.concurrency)),
            ),
            Some(sc) => (
                format!("{:.2} mean", sc.mean_replicas),
                format!("{:.1}", sc.mean_replicas * f64::from(r.concurrency)),
            ),
            None => (
                r.replicas.to_string(),
                (u64::from(r.replicas) * u64::from(r.concurrency)).to_string(),
            ),
        };
        let st = status(r.utilization);
        t.row(vec![
            named(
                palette::series(i),
                name,
                &format!("{} workers per replica", r.concurrency),
            ),
            Cell::num(&replicas),
            Cell::num(&workers),
            Cell::num(&r.requests.to_string()),
            Cell::num(&format!("{:.1}%", r.utilization * 100.0)).class(match st {
                "UNSTABLE" => Some("bad"),
                "high" => Some("warn"),
                _ => None,
            }),
            Cell::num(&format!("{:.2}", r.mean_busy_workers)),
            Cell::num(&format!("{:.2}", r.mean_queue_length)),
            Cell::num(&r.rejected.to_string()).class(nonzero(r.rejected)),
            Cell::num(&format!("{:.2}", r.mean_available_replicas)),
        ]);
    }
    let mut out = t.html();
    if s.services.values().any(handles_failures) {
        let mut f = Table::new(vec![
            Col::l("service"),
            Col::r("retry amp."),
            Col::r("calls/request"),
            Col::r("lost in crashes"),
            Col::r("unreachable"),
            Col::r("shed"),
            Col::r("injected errors"),
            Col::r("abandoned"),
            Col::r("wasted work s"),
            Col::r("crashes"),
            Col::r("ejections"),
            Col::r("breaker opens"),
        ]);
        for (i, (name, r)) in s.services.iter().enumerate() {
            f.row(vec![
                named(palette::series(i), name, ""),
                Cell::num(
                    &r.retry_amplification
                        .map_or_else(|| "-".into(), |a| format!("{a:.2}x")),
                )
                .class(
                    r.retry_amplification
                        .and_then(|a| (a > 1.5).then_some("warn")),
                ),
                Cell::num(
                    &r.calls_per_entry_request
                        .map_or_else(|| "-".into(), |a| format!("{a:.2}")),
                ),
                Cell::num(&r.lost_in_crashes.to_string()).class(nonzero(r.lost_in_crashes)),
                Cell::num(&r.unreachable.to_string()).class(nonzero(r.unreachable)),
                Cell::num(&r.shed.to_string()).class(nonzero(r.shed)),
                Cell::num(&r.injected_errors.to_string()).class(nonzero(r.injected_errors)),
                Cell::num(&r.abandoned.to_string()).class(nonzero(r.abandoned)),
                Cell::num(&format!("{:.2}", r.wasted_work_seconds)),
                Cell::num(&r.crashes.to_string()),
                Cell::num(&r.ejections.to_string()),
                Cell::num(&r.breaker_opens.to_string()),
            ]);
        }
        out.push_str("<h3>Failure handling per service</h3>\n");
        out.push_str(&f.html());
    }
    out
}

/// The capacity table computed before the run.
fn capacity(s: &Summary) -> String {
    let mut t = Table::new(vec![
        Col::l("service"),
        Col::r("offered rps"),
        Col::r("hold ms"),
        Col::r("busy workers"),
        Col::r("workers"),
        Col::r("utilization"),
        Col::l("status"),
    ]);
    for r in &s.capacity {
        let st = status(r.utilization);
        let class = match st {
            "UNSTABLE" => Some("bad"),
            "high" => Some("warn"),
            _ => Some("good"),
        };
        t.row(vec![
            Cell::text(&r.service),
            Cell::num(&format!("{:.1}", r.offered_rps)),
            Cell::num(&format!("{:.2}", r.mean_hold_ms)),
            Cell::num(&format!("{:.2}", r.busy_workers)),
            Cell::num(&r.workers.to_string()),
            Cell::num(&format!("{:.1}%", r.utilization * 100.0)).class(class),
            Cell::text(st).class(class),
        ]);
    }
    if t.is_empty() {
        return "<p class=\"note\">No services.</p>\n".into();
    }
    let mut out = String::from(
        "<p class=\"note\">Computed from the scenario before the run: peak offered load against \
         the workers (replicas × concurrency). Hold time excludes queueing; at 100% or more the \
         service cannot keep up.</p>\n",
    );
    out.push_str(&t.html());
    out
}

/// The cells of a blast-radius row shared by faults and deploys: issued,
/// unanswered, availability during and outside, p99 during and outside,
/// impact.
/// One fault's or deploy's rows: its own cells (`own`, spanning the
/// group) then a row per workload of its blast radius.
fn blast_group(t: &mut Table, own: Vec<Cell>, blast: &IndexMap<String, BlastRow>, s: &Summary) {
    if blast.is_empty() {
        let mut row = own;
        row.push(Cell::text("no workload requests").class(Some("muted")));
        row.extend((0..7).map(|_| Cell::num("-")));
        t.group_row(row);
        return;
    }
    let mut own = Some(own);
    for (w, b) in blast {
        let base = s.workloads.get(w).and_then(|x| x.outside_faults.as_ref());
        let mut row = own.take().unwrap_or_default();
        let first = !row.is_empty();
        row.push(Cell::text(w));
        row.extend(blast_cells(&b.during, base, &b.impact));
        if first {
            t.group_row(row);
        } else {
            t.row(row);
        }
    }
}

fn blast_cells(during: &PeriodSummary, base: Option<&PeriodSummary>, impact: &str) -> Vec<Cell> {
    let worse = impact != "unaffected" && impact != "no baseline";
    vec![
        Cell::num(&during.issued.to_string()),
        Cell::num(&during.unfinished.to_string()).class(nonzero(during.unfinished)),
        Cell::num(&pct(during.availability)).class(availability_class(during.availability)),
        Cell::num(&pct(base.and_then(|b| b.availability))).class(Some("muted")),
        Cell::num(&opt_ms(during.p99_ms)),
        Cell::num(&opt_ms(base.and_then(|b| b.p99_ms))).class(Some("muted")),
        Cell::text(impact).class(Some(if worse { "bad" } else { "muted" })),
    ]
}

/// Each fault with its window and, per workload, the requests issued
/// while it was active against those issued while no fault was.
fn faults(s: &Summary) -> String {
    let mut t = Table::new(vec![
        Col::l("fault"),
        Col::r("window s"),
        Col::r("crashes"),
        Col::l("workload"),
        Col::r("requests"),
        Col::r("unanswered"),
        Col::r("availability"),
        Col::r("no fault"),
        Col::r("p99 ms"),
        Col::r("no fault"),
        Col::l("impact"),
    ]);
    let after = if s.discovery.is_some() {
        "startup, discovery"
    } else {
        "startup"
    };
    for f in &s.faults {
        let window = if f.effect_end_s > f.end_s {
            format!(
                "{:.0}–{:.0} (+{:.0} {after})",
                f.start_s,
                f.end_s,
                f.effect_end_s - f.end_s
            )
        } else {
            format!("{:.0}–{:.0}", f.start_s, f.end_s)
        };
        let n = f.blast_radius.len().max(1);
        let own = vec![
            Cell::html(format!(
                "<b>{}</b><span class=\"sub\">{} {}</span>",
                esc(&f.name),
                esc(&f.kind),
                esc(&f.target)
            ))
            .rowspan(n),
            Cell::num(&window).rowspan(n),
            Cell::num(&f.crashes.to_string()).rowspan(n),
        ];
        blast_group(&mut t, own, &f.blast_radius, s);
    }
    let mut out = String::from(
        "<p class=\"note\">Requests issued while each fault was active (until its effect ended) \
         against requests issued while no fault was active.</p>\n",
    );
    out.push_str(&t.html());
    out
}

/// Each deploy's rollout and the dip it caused per workload.
fn deploys(s: &Summary) -> String {
    let mut t = Table::new(vec![
        Col::l("deploy"),
        Col::l("rollout"),
        Col::r("old → new replicas"),
        Col::r("bad-release errors"),
        Col::l("workload"),
        Col::r("requests"),
        Col::r("unanswered"),
        Col::r("availability"),
        Col::r("outside"),
        Col::r("p99 ms"),
        Col::r("outside"),
        Col::l("impact"),
    ]);
    for d in &s.deploys {
        let rollout = match d.end_s {
            Some(e) => format!("{:.1}s–{:.1}s", d.start_s, e),
            None if d.superseded => format!("{:.1}s–superseded", d.start_s),
            None => format!("{:.1}s–unfinished", d.start_s),
        };
        let n = d.blast_radius.len().max(1);
        let own = vec![
            Cell::html(format!(
                "<b>{}</b><span class=\"sub\">{}, batch {}, surge {}</span>",
                esc(&d.name),
                esc(&d.service),
                d.batch,
                d.surge
            ))
            .rowspan(n),
            Cell::html(format!(
                "{}<span class=\"sub\">effect to {:.1}s</span>",
                esc(&rollout),
                d.effect_end_s
            ))
            .rowspan(n),
            Cell::num(&format!("{} → {}", d.old_replicas, d.new_replicas)).rowspan(n),
            Cell::num(&d.bad_release_errors.to_string())
                .class(nonzero(d.bad_release_errors))
                .rowspan(n),
        ];
        blast_group(&mut t, own, &d.blast_radius, s);
    }
    let mut out = String::from(
        "<p class=\"note\">Requests issued from each rollout's start until its effect ended, \
         against requests issued outside every fault and deploy.</p>\n",
    );
    out.push_str(&t.html());
    out
}

/// The replicas of scaled services and every scaling decision.
fn scaling(s: &Summary) -> String {
    let mut out = String::new();
    let mut t = Table::new(vec![
        Col::l("service"),
        Col::r("start"),
        Col::r("min"),
        Col::r("max"),
        Col::r("mean"),
        Col::r("end"),
        Col::r("replica-hours"),
        Col::r("scale ups"),
        Col::r("scale downs"),
        Col::r("started"),
        Col::r("drained"),
        Col::r("drain cut-offs"),
    ]);
    for (i, (name, r)) in s.services.iter().enumerate() {
        let Some(sc) = &r.scaling else { continue };
        if sc.replicas_started == 0
            && sc.replicas_drained == 0
            && sc.scale_ups + sc.scale_downs == 0
        {
            continue; // Never scaled: nothing to show.
        }
        t.row(vec![
            named(palette::series(i), name, ""),
            Cell::num(&r.replicas.to_string()),
            Cell::num(&sc.min_replicas.to_string()),
            Cell::num(&sc.max_replicas.to_string()),
            Cell::num(&format!("{:.2}", sc.mean_replicas)),
            Cell::num(&sc.final_replicas.to_string()),
            Cell::num(&format!("{:.3}", sc.replica_hours)),
            Cell::num(&sc.scale_ups.to_string()),
            Cell::num(&sc.scale_downs.to_string()),
            Cell::num(&sc.replicas_started.to_string()),
            Cell::num(&sc.replicas_drained.to_string()),
            Cell::num(&format!(
                "{} ({} calls lost)",
                sc.drain_cutoffs, sc.lost_in_drain_cutoffs
            ))
            .class(nonzero(sc.lost_in_drain_cutoffs)),
        ]);
    }
    if !t.is_empty() {
        out.push_str("<h3>Replicas over the measured period</h3>\n");
        out.push_str(&t.html());
    }
    if !s.scaling.is_empty() {
        let mut d = Table::new(vec![
            Col::r("at s"),
            Col::l("service"),
            Col::r("desired replicas"),
            Col::l("reason"),
            Col::r("measured"),
        ]);
        for x in &s.scaling {
            d.row(vec![
                Cell::num(&format!("{:.1}", x.at_s)),
                Cell::text(&x.service),
                Cell::num(&format!("{} → {}", x.from, x.to)),
                Cell::text(&x.reason),
                Cell::num(&x.measured.map_or_else(|| "-".into(), |v| format!("{v:.3}"))),
            ]);
        }
        // A long autoscaler log is folded away; a few decisions show.
        let open = if s.scaling.len() <= 20 { " open" } else { "" };
        let _ = write!(
            out,
            "<details{open}><summary>Scaling decisions ({})</summary>\n{}</details>\n",
            s.scaling.len(),
            d.html()
        );
    }
    out
}

/// The dependencies worth a row: with a policy, failures, retries or
/// breaker openings (the terminal's rule); `None` when there are none.
fn dependencies(s: &Summary) -> Option<String> {
    let mut t = Table::new(vec![
        Col::l("dependency"),
        Col::l("policy"),
        Col::r("calls"),
        Col::r("attempts"),
        Col::r("retries"),
        Col::r("denied by budget"),
        Col::r("ok"),
        Col::r("fallbacks"),
        Col::r("failed"),
        Col::l("failed attempts by cause"),
        Col::r("breaker opens"),
        Col::r("open s"),
    ]);
    for (name, d) in &s.dependencies {
        if !(d.policy.is_some() || d.failed > 0 || d.retries > 0 || d.breaker_opens > 0) {
            continue;
        }
        let causes: Vec<String> = d
            .attempt_failures
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(c, n)| format!("{}{} {n}", swatch(palette::cause(c)), esc(c)))
            .collect();
        t.row(vec![
            Cell::text(name),
            Cell::text(d.policy.as_deref().unwrap_or("-")),
            Cell::num(&d.calls.to_string()),
            Cell::num(&d.attempts.to_string()),
            Cell::num(&d.retries.to_string()),
            Cell::num(&d.retries_denied_by_budget.to_string()),
            Cell::num(&d.ok.to_string()),
            Cell::num(&d.fallbacks.to_string()),
            Cell::num(&d.failed.to_string()).class(nonzero(d.failed)),
            if causes.is_empty() {
                Cell::text("-").class(Some("muted"))
            } else {
                Cell::html(causes.join("<br>"))
            },
            Cell::num(&d.breaker_opens.to_string()),
            Cell::num(&format!("{:.1}", d.breaker_open_seconds)),
        ]);
    }
    (!t.is_empty()).then(|| {
        format!(
            "<p class=\"note\">Calls between services, by client (caller → callee under one \
             policy).</p>\n{}",
            t.html()
        )
    })
}

/// The registry and each caller/callee pair; `None` without discovery.
fn discovery(s: &Summary) -> Option<String> {
    let d = s.discovery.as_ref()?;
    let mut out = String::new();
    if let Some(r) = &d.registry {
        let _ = writeln!(
            out,
            "<p>Registry: heartbeat {}s, ttl {}s; {} registrations, {} evictions, {} heartbeats \
             lost, down {:.1}s.</p>",
            r.heartbeat_s,
            r.ttl_s,
            r.registrations,
            r.evictions,
            r.heartbeats_lost,
            r.outage_seconds
        );
    }
    let mut t = Table::new(vec![
        Col::l("caller → callee"),
        Col::l("mode"),
        Col::r("attempts"),
        Col::r("cache hits"),
        Col::r("stale uses"),
        Col::r("lookups"),
        Col::r("lookup fails"),
        Col::r("lookup p99 ms"),
        Col::r("to dead"),
        Col::r("no instance"),
        Col::r("new found"),
        Col::r("lag mean ms"),
        Col::r("lag max ms"),
        Col::r("never found"),
    ]);
    for p in d.pairs.values() {
        t.row(vec![
            Cell::text(&format!("{} → {}", p.caller, p.callee)),
            Cell::text(&p.mode),
            Cell::num(&p.attempts.to_string()),
            Cell::num(
                &p.cache_hit_rate
                    .map_or_else(|| "-".into(), |r| format!("{:.1}%", r * 100.0)),
            ),
            Cell::num(&p.stale_list_uses.to_string()),
            Cell::num(&p.lookups.to_string()),
            Cell::num(&p.lookup_failures.to_string()).class(nonzero(p.lookup_failures)),
            Cell::num(&opt_ms(p.lookup_latency_ms.as_ref().map(|l| l.p99))),
            Cell::num(&p.routed_to_dead.to_string()).class(nonzero(p.routed_to_dead)),
            Cell::num(&p.no_instance.to_string()).class(nonzero(p.no_instance)),
            Cell::num(&p.new_instances_discovered.to_string()),
            Cell::num(&opt_ms(p.discovery_lag_mean_ms)),
            Cell::num(&opt_ms(p.discovery_lag_max_ms)),
            Cell::num(&p.new_instances_undiscovered.to_string())
                .class(nonzero(p.new_instances_undiscovered)),
        ]);
    }
    out.push_str(&t.html());
    Some(out)
}

/// The cost of the measured period per service and in all; `None` when
/// nothing is priced.
fn cost(s: &Summary) -> Option<String> {
    let c = s.cost.as_ref()?;
    let money = crate::report::cost::money;
    let mut t = Table::new(vec![
        Col::l("service"),
        Col::r("mean replicas"),
        Col::r("replica-hours"),
        Col::r("replicas"),
        Col::r("network calls"),
        Col::r("network"),
        Col::r("platform"),
        Col::r("total"),
        Col::r("per hour"),
        Col::r("per 1M ok"),
    ]);
    let rows = crate::report::cost::rows(c);
    let last = rows.len().saturating_sub(1);
    for (i, (name, r)) in rows.into_iter().enumerate() {
        let cells = vec![
            if i == last {
                Cell::html(format!("<b>{}</b>", esc(&name)))
            } else {
                Cell::text(&name)
            },
            Cell::num(&format!("{:.2}", r.mean_replicas)),
            Cell::num(&format!("{:.4}", r.replica_hours)),
            Cell::num(&money(r.replicas_cost)),
            Cell::num(&r.network_calls.to_string()),
            Cell::num(&money(r.network_cost)),
            Cell::num(&money(r.platform_cost)),
            Cell::num(&money(r.total)),
            Cell::num(&money(r.per_hour)),
            Cell::num(&r.per_million_ok.map_or_else(|| "-".into(), money)),
        ];
        if i == last {
            t.group_row(cells);
        } else {
            t.row(cells);
        }
    }
    Some(format!(
        "<p class=\"note\">In {} over the measured period ({:.4} h); per 1M ok = per million \
         successful requests.</p>\n{}",
        esc(&c.currency),
        c.measured_hours,
        t.html()
    ))
}

/// Topics (what their publishers sent and what became of it) and their
/// subscriptions; empty without brokers.
fn messaging(s: &Summary) -> String {
    let Some(m) = &s.messaging else {
        return String::new();
    };
    let mut t = Table::new(vec![
        Col::l("topic"),
        Col::l("broker"),
        Col::r("published"),
        Col::r("stored"),
        Col::r("lost"),
        Col::r("in outbox"),
        Col::r("unacked"),
    ]);
    for (name, tp) in &m.topics {
        t.row(vec![
            Cell::html(format!("<b>{}</b>", esc(name))),
            Cell::text(&tp.broker),
            Cell::num(&tp.published.to_string()),
            Cell::num(&tp.stored.to_string()),
            Cell::num(&tp.lost.to_string()).class(nonzero(tp.lost)),
            Cell::num(&tp.in_outbox.to_string()),
            Cell::num(&tp.unacked.to_string()),
        ]);
    }
    let mut out = format!(
        "<p class=\"note\">Events published after the warm-up: published = stored + lost + \
         in outbox + unacked; per subscription, stored = delivered + dead-lettered + dropped + \
         pending.</p>\n{}",
        t.html()
    );
    let mut t = Table::new(vec![
        Col::l("topic → subscriber"),
        Col::l("handler"),
        Col::r("delivered"),
        Col::r("redelivered"),
        Col::r("dead-lettered"),
        Col::r("dropped"),
        Col::r("pending"),
        Col::r("max lag"),
        Col::r("mean lag"),
        Col::r("latency p50 ms"),
        Col::r("latency p99 ms"),
    ]);
    let mut i = 0;
    for (topic, tp) in &m.topics {
        for (sub, r) in &tp.subscriptions {
            let l = r.delivery_latency_ms.as_ref();
            t.row(vec![
                named(palette::series(i), &format!("{topic} → {sub}"), ""),
                Cell::text(&r.handler),
                Cell::num(&r.delivered.to_string()),
                Cell::num(&r.redelivered.to_string()),
                Cell::num(&r.dead_lettered.to_string()).class(nonzero(r.dead_lettered)),
                Cell::num(&r.dropped.to_string()).class(nonzero(r.dropped)),
                Cell::num(&r.pending.to_string()),
                Cell::num(&r.max_lag.to_string()),
                Cell::num(&format!("{:.2}", r.mean_lag)),
                Cell::num(&opt_ms(l.map(|l| l.p50))),
                Cell::num(&opt_ms(l.map(|l| l.p99))),
            ]);
            i += 1;
        }
    }
    if !t.is_empty() {
        let _ = write!(
            out,
            "<p class=\"note\">Delivery is at least once; latency runs from the publish step \
             to the handler's first success.</p>\n{}",
            t.html()
        );
    }
    out
}

/// Each data copy's inconsistency window and stale reads, over the whole
/// measured period and, with faults, outside and during them; empty
/// without copies.
fn consistency(s: &Summary) -> String {
    let Some(m) = s.messaging.as_ref().filter(|m| !m.copies.is_empty()) else {
        return String::new();
    };
    let mut t = Table::new(vec![
        Col::l("copy"),
        Col::l("period"),
        Col::r("writes"),
        Col::r("converged"),
        Col::r("unconverged"),
        Col::r("window p50 ms"),
        Col::r("window p99 ms"),
        Col::r("window max ms"),
        Col::r("reads"),
        Col::r("stale reads"),
        Col::r("stale rate"),
    ]);
    for (i, (name, c)) in m.copies.iter().enumerate() {
        let periods = crate::report::csv::copy_periods(c);
        let n = periods.len();
        for (j, (period, p)) in periods.into_iter().enumerate() {
            let w = p.window_ms.as_ref();
            let mut row = Vec::new();
            if j == 0 {
                let sub = format!(
                    "{} owns it, via {}; {} stale at the end",
                    c.owner, c.topic, c.stale_keys_at_end
                );
                row.push(named(palette::series(i), name, &sub).rowspan(n));
            }
            row.extend([
                Cell::text(&period.replace('_', " ")),
                Cell::num(&p.writes.to_string()),
                Cell::num(&p.converged.to_string()),
                Cell::num(&p.unconverged.to_string()).class(nonzero(p.unconverged)),
                Cell::num(&opt_ms(w.map(|w| w.p50))),
                Cell::num(&opt_ms(w.map(|w| w.p99))),
                Cell::num(&opt_ms(w.map(|w| w.max))),
                Cell::num(&p.reads.to_string()),
                Cell::num(&p.stale_reads.to_string()),
                Cell::num(&pct(p.stale_read_rate)),
            ]);
            if j == 0 {
                t.group_row(row);
            } else {
                t.row(row);
            }
        }
    }
    format!(
        "<p class=\"note\">Inconsistency window: from the owner's write to the copy holding \
         that version or a newer one. A stale read saw an item older than the owner's.</p>\n{}",
        t.html()
    )
}

/// How each saga endpoint's sagas ended.
fn sagas(s: &Summary) -> String {
    let mut t = Table::new(vec![
        Col::l("saga"),
        Col::r("started"),
        Col::r("completed"),
        Col::r("compensated"),
        Col::r("inconsistent"),
        Col::r("interrupted"),
        Col::r("in flight"),
        Col::r("compensations"),
        Col::r("comp. failures"),
        Col::r("p50 ms"),
        Col::r("p99 ms"),
    ]);
    for (name, g) in &s.sagas {
        let d = g.duration_ms.as_ref();
        t.row(vec![
            Cell::html(format!("<b>{}</b>", esc(name))),
            Cell::num(&g.started.to_string()),
            Cell::num(&g.completed.to_string()),
            Cell::num(&g.compensated.to_string()),
            Cell::num(&g.inconsistent.to_string()).class(nonzero(g.inconsistent)),
            Cell::num(&g.interrupted.to_string()).class(nonzero(g.interrupted)),
            Cell::num(&g.in_flight.to_string()),
            Cell::num(&g.compensations.to_string()),
            Cell::num(&g.compensation_failures.to_string()).class(nonzero(g.compensation_failures)),
            Cell::num(&opt_ms(d.map(|d| d.p50))),
            Cell::num(&opt_ms(d.map(|d| d.p99))),
        ]);
    }
    format!(
        "<p class=\"note\">Sagas started after the warm-up: started = completed + compensated + \
         inconsistent + interrupted + in flight. Inconsistent: a compensation failed after all \
         its retries. Durations of the sagas that ended.</p>\n{}",
        t.html()
    )
}

/// Executions per logical call of each tracked endpoint.
fn executions(s: &Summary) -> String {
    let mut t = Table::new(vec![
        Col::l("endpoint"),
        Col::l("idempotent"),
        Col::r("logical calls"),
        Col::r("executions"),
        Col::r("duplicates"),
        Col::r("deduplicated"),
    ]);
    for (name, e) in &s.executions {
        t.row(vec![
            Cell::html(format!("<b>{}</b>", esc(name))),
            Cell::text(if e.idempotent { "yes" } else { "no" }),
            Cell::num(&e.logical_calls.to_string()),
            Cell::num(&e.executions.to_string()),
            Cell::num(&e.duplicates.to_string()).class(nonzero(e.duplicates)),
            Cell::num(&e.deduplicated.to_string()),
        ]);
    }
    format!(
        "<p class=\"note\">A logical call is one call with all its retries, or one event with \
         all its deliveries; duplicates are successful executions beyond its first (repeated \
         side effects), deduplicated the repeats an idempotency key absorbed.</p>\n{}",
        t.html()
    )
}

/// The scenario file as written, folded.
fn source(run: &SavedRun) -> String {
    let mut out = String::new();
    if !run.meta.overrides.is_empty() {
        out.push_str(
            "<p class=\"note\">As written; the overrides listed at the top were applied on \
             top of it.</p>\n",
        );
    }
    let _ = write!(
        out,
        "<details><summary>{}</summary>\n<pre>{}</pre>\n</details>\n",
        esc(&run.meta.scenario_file),
        esc(&run.source)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(name: &str) -> ChartFile {
        ChartFile {
            name: name.into(),
            title: format!("title of {name}"),
            svg: Some(format!("<svg><text>{name}</text></svg>")),
            png: None,
        }
    }

    #[test]
    fn charts_are_grouped_in_reading_order_and_unknown_ones_kept() {
        let charts: Vec<ChartFile> = [
            "queues",
            "zebra",
            "failures",
            "services",
            "percentiles",
            "throughput",
            "latency-b",
            "availability",
            "latency-a",
            "new_chart",
            "inconsistency-window",
            "consumer-lag",
            "sagas",
            "attribution",
        ]
        .map(chart)
        .into();
        let [w, s, m, c, g, a, other] = sort_charts(&charts);
        let names = |l: &[(usize, &ChartFile)]| -> Vec<String> {
            l.iter().map(|(_, c)| c.name.clone()).collect()
        };
        assert_eq!(
            names(&w),
            [
                "latency-b",
                "latency-a",
                "availability",
                "throughput",
                "percentiles",
                "failures"
            ]
        );
        assert_eq!(names(&s), ["services", "queues"]);
        assert_eq!(names(&m), ["consumer-lag"]);
        assert_eq!(names(&c), ["inconsistency-window"]);
        assert_eq!(names(&g), ["sagas"]);
        assert_eq!(names(&a), ["attribution"]);
        assert_eq!(names(&other), ["zebra", "new_chart"]);
    }
}
