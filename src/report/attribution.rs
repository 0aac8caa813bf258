//! Latency attribution as people read it: component names ("payment
//! queue", "retry backoff"), the headline sentence ("p99 checkout (>= 120.3
//! ms, 1,034 requests): 61% queueing in payment, 22% payment work, ...")
//! and the rows of the attribution table, sorted by what matters for the
//! tail. Shared by the terminal table, the HTML report, the chart and
//! `compare`, so they all name and order components alike.

use crate::metrics::attribution::{Breakdown, ComponentShare, Kind, WorkloadAttribution};
use crate::metrics::Summary;
use crate::report::charts::kit::count;

/// A component of a workload's latency: its kind and, for queue, work and
/// lost, its service.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// The kind (`Kind::name`: queue, work, lost, network, lookup,
    /// backoff); an unknown name (a newer microsim's) is kept as given.
    pub kind: String,
    /// The service, for per-service kinds.
    pub service: Option<String>,
}

impl Key {
    /// The key of `c`.
    pub fn of(c: &ComponentShare) -> Key {
        Key {
            kind: c.kind.clone(),
            service: c.service.clone(),
        }
    }

    /// The component's name in tables, legends and CSV-free text:
    /// "payment queue", "payment work", "payment lost attempts",
    /// "network", "registry lookups", "retry backoff".
    pub fn label(&self) -> String {
        let what = match Kind::from_name(&self.kind) {
            Some(Kind::Queue) => "queue",
            Some(Kind::Work) => "work",
            Some(Kind::Lost) => "lost attempts",
            Some(Kind::Network) => "network",
            Some(Kind::Lookup) => "registry lookups",
            Some(Kind::Backoff) => "retry backoff",
            Some(Kind::Parallel) => "off the critical path",
            None => self.kind.as_str(),
        };
        match &self.service {
            Some(s) => format!("{s} {what}"),
            None => what.to_string(),
        }
    }

    /// The component as the headline phrases it: "queueing in payment",
    /// "payment work", "lost attempts to payment", "network".
    pub fn phrase(&self) -> String {
        match (Kind::from_name(&self.kind), &self.service) {
            (Some(Kind::Queue), Some(s)) => format!("queueing in {s}"),
            (Some(Kind::Lost), Some(s)) => format!("lost attempts to {s}"),
            _ => self.label(),
        }
    }

    /// Where the component goes in the stable order of legends and CSV:
    /// per service in `services` order (queue, work, lost), then network,
    /// lookups and backoff; unknown kinds and services last.
    pub fn rank(&self, services: &[&str]) -> (usize, usize, String) {
        let kind = Kind::from_name(&self.kind);
        let k = |k: Kind| {
            Kind::PER_SERVICE
                .into_iter()
                .chain(Kind::GLOBAL)
                .position(|x| x == k)
                .unwrap_or(usize::MAX)
        };
        match (&self.service, kind) {
            (Some(s), kind) => (
                services
                    .iter()
                    .position(|x| x == s)
                    .unwrap_or(services.len()),
                kind.map_or(usize::MAX, k),
                self.kind.clone(),
            ),
            (None, kind) => (
                services.len() + 1,
                kind.map_or(usize::MAX, k),
                self.kind.clone(),
            ),
        }
    }
}

/// One row of a workload's attribution table: a component in both sets.
#[derive(Debug, Clone, PartialEq)]
pub struct Row<'a> {
    /// The component.
    pub key: Key,
    /// Its part of all requests' latency (`None`: zero there).
    pub all: Option<&'a ComponentShare>,
    /// Its part of the slowest 1%'s (`None`: zero there, or no p99).
    pub slowest: Option<&'a ComponentShare>,
}

impl Row<'_> {
    fn slowest_share(&self) -> f64 {
        self.slowest.map_or(0.0, |c| c.share)
    }
    fn all_share(&self) -> f64 {
        self.all.map_or(0.0, |c| c.share)
    }
}

/// The components of `a`, one row each, sorted by their share of the
/// slowest 1% (the tail is what attribution is for), then of all
/// requests, then by component order (so equal shares keep a stable
/// order).
pub fn rows(a: &WorkloadAttribution) -> Vec<Row<'_>> {
    let mut rows: Vec<Row<'_>> = a
        .all
        .components
        .iter()
        .map(|c| Row {
            key: Key::of(c),
            all: Some(c),
            slowest: None,
        })
        .collect();
    for c in a.slowest.iter().flat_map(|b| &b.components) {
        let key = Key::of(c);
        match rows.iter_mut().find(|r| r.key == key) {
            Some(r) => r.slowest = Some(c),
            None => rows.push(Row {
                key,
                all: None,
                slowest: Some(c),
            }),
        }
    }
    // A stable sort: rows start in component order.
    rows.sort_by(|a, b| {
        b.slowest_share()
            .total_cmp(&a.slowest_share())
            .then(b.all_share().total_cmp(&a.all_share()))
    });
    rows
}

/// The set a headline or a compare row speaks for: the slowest 1% when
/// there is one, else all requests.
pub fn tail(a: &WorkloadAttribution) -> (&Breakdown, bool) {
    match &a.slowest {
        Some(b) if b.requests > 0 => (b, true),
        _ => (&a.all, false),
    }
}

/// Components of at least this share are named in a headline; the rest
/// are summed as "other".
pub const HEADLINE_MIN: f64 = 0.03;

/// Whole percentages for `shares` (fractions summing to about 1) that add
/// up to exactly 100 when they sum to 1: each rounded down, then the
/// largest remainders (ties to the earlier) get the points left. A
/// headline whose parts add up to 99% or 101% reads as an error.
pub fn whole_percents(shares: &[f64]) -> Vec<u32> {
    let scaled: Vec<f64> = shares.iter().map(|s| (s * 100.0).max(0.0)).collect();
    let mut out: Vec<u32> = scaled.iter().map(|s| s.floor() as u32).collect();
    let total = scaled.iter().sum::<f64>().round() as i64;
    let left = (total - out.iter().map(|&p| i64::from(p)).sum::<i64>()).max(0) as usize;
    let mut order: Vec<usize> = (0..shares.len()).collect();
    // Remainders compared to a millionth of a point, so shares equal on
    // paper but not in floating point (20/120 and 2/120) tie as written.
    let rem = |i: usize| ((scaled[i] - scaled[i].floor()) * 1e6).round() as i64;
    order.sort_by(|&a, &b| rem(b).cmp(&rem(a)).then(a.cmp(&b)));
    for &i in order.iter().take(left) {
        out[i] += 1;
    }
    out
}

/// The headline of one workload: "p99 checkout (>= 120.3 ms, 1,034
/// requests): 61% queueing in payment, 22% payment work, 9% network, 8%
/// other"; for all requests ("all checkout (mean 24.4 ms, ...)") when
/// there is no slowest 1%. Components of at least [`HEADLINE_MIN`] in
/// descending share, the rest as "other".
pub fn headline(workload: &str, a: &WorkloadAttribution) -> String {
    let (set, is_tail) = tail(a);
    let mut parts: Vec<(&ComponentShare, Key)> =
        set.components.iter().map(|c| (c, Key::of(c))).collect();
    parts.sort_by(|a, b| b.0.share.total_cmp(&a.0.share));
    let (named, rest): (Vec<_>, Vec<_>) = parts.iter().partition(|(c, _)| c.share >= HEADLINE_MIN);
    let mut shares: Vec<f64> = named.iter().map(|(c, _)| c.share).collect();
    let other: f64 = rest.iter().map(|(c, _)| c.share).sum();
    if !rest.is_empty() {
        shares.push(other);
    }
    let pct = whole_percents(&shares);
    let mut words: Vec<String> = named
        .iter()
        .zip(&pct)
        .map(|((_, k), p)| format!("{p}% {}", k.phrase()))
        .collect();
    // "0% other" says nothing.
    if !rest.is_empty() && pct[named.len()] > 0 {
        words.push(format!("{}% other", pct[named.len()]));
    }
    let what = if is_tail {
        format!(
            "p99 {workload} (>= {} ms, {} requests)",
            super::table::ms(set.from_ms),
            count(set.requests)
        )
    } else {
        format!(
            "all {workload} (mean {} ms, {} requests)",
            super::table::ms(set.mean_ms),
            count(set.requests)
        )
    };
    if words.is_empty() {
        format!("{what}: no latency to attribute")
    } else {
        format!("{what}: {}", words.join(", "))
    }
}

/// The owners of a summary's components in component order: in a
/// monolith its modules (scenario order), then the services (scenario
/// order). A component's position here fixes its place in legends and
/// its colour, so a module has the colour its service has in the
/// microservices run (unless the unit is named like one of them).
pub fn services(s: &Summary) -> Vec<&str> {
    s.modules
        .iter()
        .chain(s.services.keys())
        .map(String::as_str)
        .collect()
}

/// A share as the tables print it: `61.2%`.
pub fn share(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::metrics::attribution::{AttributionMeter, Components};

    /// A model of three services (user, payment, order) for building
    /// attributions with the real meter.
    pub(crate) fn model() -> crate::model::Model {
        crate::scenario::test_model(
            r#"
            [simulation]
            duration = "10s"
            [services.user.endpoints.auth]
            work = { dist = "constant", value = "1ms" }
            [services.payment.endpoints.charge]
            work = { dist = "constant", value = "1ms" }
            [services.order.endpoints.place]
            steps = [ { call = "user.auth" }, { call = "payment.charge" } ]
            [[workloads]]
            name = "checkout"
            target = "order.place"
            arrival = { process = "poisson", rate = 10 }
            "#,
        )
    }

    /// An attribution of 1000 requests: 990 fast ones (mostly work, about
    /// 22 ms) and 10 slow ones (120 ms, mostly queueing in payment),
    /// recorded through the meter.
    pub(crate) fn attribution(model: &crate::model::Model) -> WorkloadAttribution {
        attribution_with(model, 90_000_000)
    }

    /// Like [`attribution`], the slow requests queueing `queue` ns in
    /// payment.
    pub(crate) fn attribution_with(model: &crate::model::Model, queue: u64) -> WorkloadAttribution {
        let c = Components::new(model);
        let pay = 1; // user, payment, order
        let mut m = AttributionMeter::new(c);
        let mut acc = vec![0u64; c.len()];
        for i in 0..1000u64 {
            acc.iter_mut().for_each(|v| *v = 0);
            if i % 100 == 7 {
                acc[c.service(Kind::Queue, pay)] = queue;
                acc[c.service(Kind::Work, pay)] = 20_000_000;
                acc[c.global(Kind::Network)] = 8_000_000;
                acc[c.service(Kind::Work, 2)] = 1_500_000;
                acc[c.global(Kind::Backoff)] = 500_000;
            } else {
                acc[c.service(Kind::Work, pay)] = 15_000_000;
                acc[c.service(Kind::Work, 0)] = 3_000_000 + i * 1000;
                acc[c.global(Kind::Network)] = 2_000_000;
                acc[c.service(Kind::Queue, pay)] = 1_000_000;
                acc[c.global(Kind::Parallel)] = 4_000_000;
            }
            let latency = c.critical_sum(&acc);
            m.record(latency, &acc);
        }
        // The slow requests' latency as the p99: they are the slowest 1%.
        let p99 = queue + 30_000_000;
        m.summary(model, Some(p99)).expect("recorded")
    }

    #[test]
    fn rows_are_sorted_by_the_tail_and_cover_both_sets() {
        let model = model();
        let a = attribution(&model);
        let r = rows(&a);
        let labels: Vec<String> = r.iter().map(|r| r.key.label()).collect();
        assert_eq!(labels[0], "payment queue");
        assert_eq!(labels[1], "payment work");
        assert_eq!(labels[2], "network");
        // user work is only in the fast requests: last, without a tail share.
        let user = r.iter().find(|r| r.key.label() == "user work").unwrap();
        assert!(user.slowest.is_none() && user.all.is_some());
        assert!(labels.contains(&"retry backoff".to_string()));
        let sum: f64 = r.iter().map(|r| r.slowest_share()).sum();
        assert!((sum - 1.0).abs() < 1e-9, "{sum}");
    }

    #[test]
    fn headline_names_the_big_components_and_adds_up_to_100() {
        let model = model();
        let a = attribution(&model);
        let h = headline("checkout", &a);
        // 10 slow requests of 120 ms: 90/120 = 75% queueing, 20/120 =
        // 16.7% work, 8/120 = 6.7% network; order work 1.25% and backoff
        // 0.4% are "other" (1.7%). Rounded to add up to 100: the two
        // points left go to the largest remainders (ties to the first).
        assert_eq!(
            h,
            "p99 checkout (>= 119.5 ms, 10 requests): 75% queueing in payment, 17% payment work, 7% network, 1% other"
        );
        let without_tail = WorkloadAttribution {
            slowest: None,
            ..a.clone()
        };
        assert!(headline("checkout", &without_tail).starts_with("all checkout (mean "));
    }

    #[test]
    fn whole_percents_add_up() {
        assert_eq!(whole_percents(&[0.333, 0.333, 0.334]), vec![33, 33, 34]);
        assert_eq!(whole_percents(&[0.755, 0.165, 0.08]), vec![76, 16, 8]);
        assert_eq!(whole_percents(&[]), Vec::<u32>::new());
    }
}
