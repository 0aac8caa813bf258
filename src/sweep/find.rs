//! Capacity search (`sweep --find 'max PATH where CONDITION'`): the
//! largest (or smallest) value of one parameter at which a condition on
//! the results holds, found by bracketing and bisection.
//!
//! `max` assumes the condition holds below the answer and fails above it
//! (more load, worse latency); `min` the reverse (more replicas, better
//! latency). The search probes the value space through a caller-given
//! function, so it knows nothing of simulation: [`search`] is the pure
//! algorithm and the `sweep --find` command runs the probes.

use crate::engine::time::{parse_duration, NS_PER_MS};

/// Which end of the passing values is wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Goal {
    /// The largest value that passes; the condition fails above it.
    Max,
    /// The smallest value that passes; the condition fails below it.
    Min,
}

/// A parsed `--find` query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Largest or smallest.
    pub goal: Goal,
    /// The dotted path of the searched parameter, as `--set` takes it.
    pub path: String,
    /// The condition's text, parsed against the metrics by
    /// [`crate::assertion::Condition::parse`].
    pub condition: String,
}

/// Parses `max PATH where CONDITION` or `min PATH where CONDITION`.
pub fn parse_query(text: &str) -> Result<Query, String> {
    let example = "e.g. 'max workloads.checkout.arrival.rate where checkout.p99 < 200ms' or 'min services.payment.replicas where checkout.p99 < 150ms'";
    let words: Vec<&str> = text.split_whitespace().collect();
    let goal = match words.first() {
        Some(&"max") => Goal::Max,
        Some(&"min") => Goal::Min,
        _ => {
            return Err(format!(
                "expected `max PATH where CONDITION` or `min PATH where CONDITION`, {example}"
            ))
        }
    };
    let Some(w) = words.iter().position(|w| *w == "where") else {
        return Err(format!("no `where CONDITION` after the path, {example}"));
    };
    if w != 2 {
        return Err(format!(
            "expected one parameter path between `{}` and `where`, found `{}`, {example}",
            words[0],
            words[1..w].join(" ")
        ));
    }
    let path = words[1];
    if path.split('.').any(str::is_empty) {
        return Err(format!(
            "`{path}` is not a dotted path (e.g. services.payment.replicas)"
        ));
    }
    if super::param::is_seed(path) {
        return Err(format!(
            "`{path}` cannot be searched: every probe's runs take their seeds from the base seed (--seed)"
        ));
    }
    let condition = words[w + 1..].join(" ");
    if condition.is_empty() {
        return Err(format!("nothing after `where`, {example}"));
    }
    Ok(Query {
        goal,
        path: path.to_string(),
        condition,
    })
}

/// What kind of number the parameter is, which decides how values are
/// bisected and written back into the scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Whole numbers (replicas, concurrency): bisected exactly.
    Integer,
    /// Real numbers (rates, probabilities).
    Number,
    /// Durations, searched in milliseconds and written as `"12.5ms"`.
    Duration,
}

impl Kind {
    /// The kind of a scenario value, if it is a number or a duration.
    pub fn of(v: &toml::Value) -> Option<(Kind, f64)> {
        match v {
            toml::Value::Integer(i) => Some((Kind::Integer, *i as f64)),
            toml::Value::Float(f) => Some((Kind::Number, *f)),
            toml::Value::String(s) => parse_duration(s)
                .ok()
                .map(|ns| (Kind::Duration, ns as f64 / NS_PER_MS as f64)),
            _ => None,
        }
    }

    /// `v` as a TOML literal for `--set` (`4`, `81.25`, `"12.5ms"`).
    pub fn write(self, v: f64) -> String {
        match self {
            Kind::Integer => format!("{}", v.round() as i64),
            Kind::Number => {
                // 12 significant digits: bisection midpoints stay readable.
                let r: f64 = format!("{v:.11e}").parse().expect("a formatted float");
                toml::Value::Float(r).to_string()
            }
            Kind::Duration => {
                let ns = (v * NS_PER_MS as f64).round().max(0.0) as u64;
                let ms = format!("{:.6}", ns as f64 / NS_PER_MS as f64);
                let ms = ms.trim_end_matches('0').trim_end_matches('.');
                format!("\"{ms}ms\"")
            }
        }
    }

    /// The value rounded to what [`Kind::write`] writes, so probes are
    /// recorded at the value actually run.
    pub fn round(self, v: f64) -> f64 {
        match self {
            Kind::Integer => v.round(),
            Kind::Number => format!("{v:.11e}").parse().expect("a formatted float"),
            Kind::Duration => (v * NS_PER_MS as f64).round() / NS_PER_MS as f64,
        }
    }
}

/// How close the answer must be: the search stops when the last passing
/// and first failing values are at most this far apart.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tolerance {
    /// In the parameter's unit (milliseconds for durations).
    Absolute(f64),
    /// A fraction of the passing value (`1%` is 0.01).
    Relative(f64),
}

impl Tolerance {
    /// The default: 1 for whole numbers, 1% otherwise.
    pub fn default_for(kind: Kind) -> Tolerance {
        match kind {
            Kind::Integer => Tolerance::Absolute(1.0),
            _ => Tolerance::Relative(0.01),
        }
    }

    /// Parses `--tolerance`: `N%`, a number in the parameter's unit, or a
    /// duration for a duration parameter.
    pub fn parse(text: &str, kind: Kind) -> Result<Tolerance, String> {
        let t = text.trim();
        let bad = || {
            format!("--tolerance {text}: expected a positive number in the parameter's unit (e.g. 1, 0.5{}) or a percentage of the answer (e.g. 1%)",
                if kind == Kind::Duration { ", 2ms" } else { "" })
        };
        if let Some(p) = t.strip_suffix('%') {
            let p: f64 = p.trim().parse().map_err(|_| bad())?;
            return if p > 0.0 && p < 100.0 {
                Ok(Tolerance::Relative(p / 100.0))
            } else {
                Err(bad())
            };
        }
        let v = match t.parse::<f64>() {
            Ok(v) => v,
            Err(_) if kind == Kind::Duration => {
                parse_duration(t).map_err(|_| bad())? as f64 / NS_PER_MS as f64
            }
            Err(_) => return Err(bad()),
        };
        if v > 0.0 && v.is_finite() {
            Ok(Tolerance::Absolute(v))
        } else {
            Err(bad())
        }
    }

    /// The absolute width allowed around `answer`.
    pub fn width(self, answer: f64) -> f64 {
        match self {
            Tolerance::Absolute(w) => w,
            Tolerance::Relative(r) => r * answer.abs(),
        }
    }
}

/// Where to look.
#[derive(Debug, Clone, PartialEq)]
pub enum Range {
    /// Values given as a list or a stepped range: search among them
    /// (sorted, each at most once), to adjacent values unless a tolerance
    /// allows a wider gap.
    List(Vec<f64>),
    /// `LO..HI`: anywhere between, to the tolerance.
    Between(f64, f64),
    /// No range given: bracket from the scenario's current value (double
    /// or halve at most [`MAX_EXPANSIONS`] times).
    From(f64),
}

/// Most doublings or halvings when bracketing from the current value.
pub const MAX_EXPANSIONS: usize = 10;

/// How a search ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The answer lies between a passing and a failing probe.
    Found,
    /// No value searched meets the condition.
    NoneMeets,
    /// The condition holds at the far end: the answer lies beyond the
    /// range (`max`: above it; `min`: below it).
    HoldsThroughout,
}

/// One probe: a value and whether the condition held there. `T` is what
/// the caller recorded of the runs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Probe<T> {
    /// The value, rounded to what was run.
    pub value: f64,
    /// Whether the condition held.
    pub passed: bool,
    /// The caller's record (metrics, seeds).
    pub data: T,
}

/// A finished search.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Search<T> {
    /// Every probe, in the order run.
    pub probes: Vec<Probe<T>>,
    /// How it ended.
    pub status: Status,
    /// The best passing value (`None` when none passed).
    pub answer: Option<f64>,
    /// The probe of the answer (the last passing value).
    pub passing: Option<usize>,
    /// The failing probe next to the answer (the first failing value).
    pub failing: Option<usize>,
    /// The bracket that was bisected, or the span searched: (low, high).
    pub bracket: (f64, f64),
    /// How the bracket was found, for people.
    pub note: String,
}

/// Runs a search. `probe(value, text)` runs the scenario with the
/// parameter set to `text` (the TOML literal of `value`) and returns
/// whether the condition held and what to record; an error stops the
/// search.
pub fn search<T, E>(
    goal: Goal,
    kind: Kind,
    range: &Range,
    tolerance: Tolerance,
    mut probe: impl FnMut(f64, &str) -> Result<(bool, T), E>,
) -> Result<Search<T>, E> {
    let mut probes: Vec<Probe<T>> = Vec::new();
    // Runs (or recalls) the probe at `v`; returns its index.
    let mut at = |v: f64, probes: &mut Vec<Probe<T>>| -> Result<usize, E> {
        let v = kind.round(v);
        if let Some(i) = probes.iter().position(|p| p.value == v) {
            return Ok(i);
        }
        let (passed, data) = probe(v, &kind.write(v))?;
        probes.push(Probe {
            value: v,
            passed,
            data,
        });
        Ok(probes.len() - 1)
    };
    let finish = |probes: Vec<Probe<T>>,
                  status: Status,
                  passing: Option<usize>,
                  failing: Option<usize>,
                  bracket: (f64, f64),
                  note: String| {
        let answer = passing.map(|i| probes[i].value);
        Search {
            probes,
            status,
            answer,
            passing,
            failing,
            bracket,
            note,
        }
    };
    // The good end passes on the side where the condition holds.
    let (good, bad, note) = match range {
        Range::List(values) => {
            let mut vals: Vec<f64> = values.iter().map(|v| kind.round(*v)).collect();
            vals.sort_by(f64::total_cmp);
            vals.dedup();
            let span = (vals[0], vals[vals.len() - 1]);
            let (mut g, mut b) = match goal {
                Goal::Max => (0usize, vals.len() - 1),
                Goal::Min => (vals.len() - 1, 0usize),
            };
            let pg = at(vals[g], &mut probes)?;
            if !probes[pg].passed {
                return Ok(finish(
                    probes,
                    Status::NoneMeets,
                    None,
                    Some(pg),
                    span,
                    String::new(),
                ));
            }
            let pb = at(vals[b], &mut probes)?;
            if probes[pb].passed {
                return Ok(finish(
                    probes,
                    Status::HoldsThroughout,
                    Some(pb),
                    None,
                    span,
                    String::new(),
                ));
            }
            let (mut pg, mut pb) = (pg, pb);
            while g.abs_diff(b) > 1 && (vals[g] - vals[b]).abs() > tolerance.width(vals[g]) {
                let m = g.min(b) + g.abs_diff(b) / 2;
                let pm = at(vals[m], &mut probes)?;
                if probes[pm].passed {
                    (g, pg) = (m, pm);
                } else {
                    (b, pb) = (m, pm);
                }
            }
            return Ok(finish(
                probes,
                Status::Found,
                Some(pg),
                Some(pb),
                span,
                String::new(),
            ));
        }
        Range::Between(lo, hi) => {
            let (g, b) = match goal {
                Goal::Max => (*lo, *hi),
                Goal::Min => (*hi, *lo),
            };
            let pg = at(g, &mut probes)?;
            if !probes[pg].passed {
                return Ok(finish(
                    probes,
                    Status::NoneMeets,
                    None,
                    Some(pg),
                    (*lo, *hi),
                    String::new(),
                ));
            }
            let pb = at(b, &mut probes)?;
            if probes[pb].passed {
                return Ok(finish(
                    probes,
                    Status::HoldsThroughout,
                    Some(pb),
                    None,
                    (*lo, *hi),
                    String::new(),
                ));
            }
            (pg, pb, String::new())
        }
        Range::From(v0) => {
            let up = |v: f64| match kind {
                Kind::Integer => (v * 2.0).max(v + 1.0),
                _ => v * 2.0,
            };
            let down = |v: f64| match kind {
                Kind::Integer => (v / 2.0).floor().max(1.0),
                _ => v / 2.0,
            };
            let p0 = at(*v0, &mut probes)?;
            // Moving away from the good side finds a failure; towards it,
            // a pass.
            let away_is_up = goal == Goal::Max;
            let (first_passed, mut last) = (probes[p0].passed, p0);
            let mut other = None;
            for _ in 0..MAX_EXPANSIONS {
                let v = probes[last].value;
                let next = if first_passed == away_is_up {
                    up(v)
                } else {
                    down(v)
                };
                if next == v {
                    break;
                }
                let p = at(next, &mut probes)?;
                if probes[p].passed != first_passed {
                    other = Some(p);
                    break;
                }
                last = p;
            }
            let span = |a: f64, b: f64| (a.min(b), a.max(b));
            let v0r = probes[p0].value;
            let lv = probes[last].value;
            match (first_passed, other) {
                (true, None) => {
                    return Ok(finish(
                        probes,
                        Status::HoldsThroughout,
                        Some(last),
                        None,
                        span(v0r, lv),
                        String::new(),
                    ))
                }
                (false, None) => {
                    return Ok(finish(
                        probes,
                        Status::NoneMeets,
                        None,
                        Some(last),
                        span(v0r, lv),
                        String::new(),
                    ))
                }
                (true, Some(o)) => {
                    let note = format!(
                        "bracketed from the scenario's value {} in {} probes: passes at {}, fails at {}",
                        kind.write(v0r),
                        probes.len(),
                        kind.write(lv),
                        kind.write(probes[o].value)
                    );
                    (last, o, note)
                }
                (false, Some(o)) => {
                    let note = format!(
                        "bracketed from the scenario's value {} in {} probes: fails at {}, passes at {}",
                        kind.write(v0r),
                        probes.len(),
                        kind.write(lv),
                        kind.write(probes[o].value)
                    );
                    (o, last, note)
                }
            }
        }
    };
    // Bisect between a passing and a failing probe.
    let (mut pg, mut pb) = (good, bad);
    let bracket = {
        let (a, b) = (probes[pg].value, probes[pb].value);
        (a.min(b), a.max(b))
    };
    loop {
        let (g, b) = (probes[pg].value, probes[pb].value);
        let close = match kind {
            Kind::Integer => (g - b).abs() <= tolerance.width(g).max(1.0),
            _ => (g - b).abs() <= tolerance.width(g),
        };
        if close {
            break;
        }
        let m = match kind {
            Kind::Integer => g + ((b - g) / 2.0).trunc(),
            _ => (g + b) / 2.0,
        };
        let pm = at(m, &mut probes)?;
        if pm == pg || pm == pb {
            // Rounding leaves nothing between them.
            break;
        }
        if probes[pm].passed {
            pg = pm;
        } else {
            pb = pm;
        }
    }
    Ok(finish(
        probes,
        Status::Found,
        Some(pg),
        Some(pb),
        bracket,
        note,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(goal: Goal, kind: Kind, range: Range, tol: Tolerance, truth: f64) -> Search<()> {
        search(goal, kind, &range, tol, |v, _| {
            let pass = match goal {
                Goal::Max => v <= truth,
                Goal::Min => v >= truth,
            };
            Ok::<_, ()>((pass, ()))
        })
        .unwrap()
    }

    #[test]
    fn queries() {
        let q = parse_query("max  workloads.checkout.arrival.rate where checkout.p99 < 200ms and checkout.availability >= 99.9%").unwrap();
        assert_eq!(q.goal, Goal::Max);
        assert_eq!(q.path, "workloads.checkout.arrival.rate");
        assert_eq!(
            q.condition,
            "checkout.p99 < 200ms and checkout.availability >= 99.9%"
        );
        assert_eq!(parse_query("min a.b where x < 1").unwrap().goal, Goal::Min);
        for (text, want) in [
            ("largest a.b where x < 1", "expected `max PATH"),
            ("max a.b", "no `where"),
            ("max a.b c.d where x < 1", "one parameter path"),
            ("max where x < 1", "one parameter path"),
            ("max a..b where x < 1", "not a dotted path"),
            ("max a.b where", "nothing after `where`"),
            ("max simulation.seed where x < 1", "cannot be searched"),
        ] {
            let e = parse_query(text).unwrap_err();
            assert!(e.contains(want), "{text}: {e}");
        }
    }

    #[test]
    fn values_write_back_as_toml() {
        assert_eq!(Kind::Integer.write(4.0), "4");
        assert_eq!(Kind::Number.write(81.25), "81.25");
        assert_eq!(Kind::Number.write(80.0), "80.0");
        assert_eq!(Kind::Duration.write(12.5), "\"12.5ms\"");
        assert_eq!(Kind::Duration.write(0.0004), "\"0.0004ms\"");
        assert_eq!(Kind::Duration.write(10.0), "\"10ms\"");
        let t = toml::Value::String("12.5ms".into());
        assert_eq!(Kind::of(&t), Some((Kind::Duration, 12.5)));
        assert_eq!(Kind::of(&toml::Value::Boolean(true)), None);
    }

    #[test]
    fn tolerances() {
        assert_eq!(
            Tolerance::parse("2%", Kind::Number),
            Ok(Tolerance::Relative(0.02))
        );
        assert_eq!(
            Tolerance::parse("0.5", Kind::Number),
            Ok(Tolerance::Absolute(0.5))
        );
        assert_eq!(
            Tolerance::parse("2ms", Kind::Duration),
            Ok(Tolerance::Absolute(2.0))
        );
        assert!(Tolerance::parse("2ms", Kind::Number).is_err());
        assert!(Tolerance::parse("0", Kind::Number).is_err());
        assert!(Tolerance::parse("-1%", Kind::Number).is_err());
    }

    #[test]
    fn bisection_brackets_the_truth() {
        // Integers: exact.
        let s = run(
            Goal::Max,
            Kind::Integer,
            Range::Between(1.0, 100.0),
            Tolerance::Absolute(1.0),
            37.0,
        );
        assert_eq!((s.status, s.answer), (Status::Found, Some(37.0)));
        assert_eq!(s.probes[s.failing.unwrap()].value, 38.0);
        let s = run(
            Goal::Min,
            Kind::Integer,
            Range::From(8.0),
            Tolerance::Absolute(1.0),
            3.0,
        );
        assert_eq!(s.answer, Some(3.0));
        assert_eq!(s.probes[s.failing.unwrap()].value, 2.0);
        assert!(s.note.contains("passes at 4, fails at 2"), "{}", s.note);
        let s = run(
            Goal::Max,
            Kind::Integer,
            Range::From(2.0),
            Tolerance::Absolute(1.0),
            37.0,
        );
        assert_eq!(s.answer, Some(37.0));
        // Reals: to the tolerance, the truth inside the final bracket.
        let s = run(
            Goal::Max,
            Kind::Number,
            Range::From(10.0),
            Tolerance::Relative(0.01),
            79.3,
        );
        let (p, f) = (
            s.probes[s.passing.unwrap()].value,
            s.probes[s.failing.unwrap()].value,
        );
        assert!(p <= 79.3 && f > 79.3 && f - p <= 0.01 * p, "{p} {f}");
        let s = run(
            Goal::Min,
            Kind::Duration,
            Range::Between(1.0, 100.0),
            Tolerance::Absolute(0.5),
            12.3,
        );
        let (p, f) = (
            s.probes[s.passing.unwrap()].value,
            s.probes[s.failing.unwrap()].value,
        );
        assert!(p >= 12.3 && f < 12.3 && p - f <= 0.5, "{p} {f}");
        // Lists: adjacent values.
        let s = run(
            Goal::Max,
            Kind::Integer,
            Range::List(vec![400.0, 100.0, 200.0, 300.0]),
            Tolerance::Absolute(0.0),
            250.0,
        );
        assert_eq!(s.answer, Some(200.0));
        assert_eq!(s.probes[s.failing.unwrap()].value, 300.0);
        // No probe is run twice.
        let mut seen: Vec<f64> = s.probes.iter().map(|p| p.value).collect();
        seen.sort_by(f64::total_cmp);
        seen.dedup();
        assert_eq!(seen.len(), s.probes.len());
    }

    #[test]
    fn edges_are_reported() {
        let s = run(
            Goal::Max,
            Kind::Integer,
            Range::Between(50.0, 100.0),
            Tolerance::Absolute(1.0),
            10.0,
        );
        assert_eq!(
            (s.status, s.answer, s.probes.len()),
            (Status::NoneMeets, None, 1)
        );
        let s = run(
            Goal::Max,
            Kind::Integer,
            Range::Between(50.0, 100.0),
            Tolerance::Absolute(1.0),
            1000.0,
        );
        assert_eq!((s.status, s.answer), (Status::HoldsThroughout, Some(100.0)));
        let s = run(
            Goal::Min,
            Kind::Integer,
            Range::From(4.0),
            Tolerance::Absolute(1.0),
            0.0,
        );
        assert_eq!((s.status, s.answer), (Status::HoldsThroughout, Some(1.0)));
        let s = run(
            Goal::Max,
            Kind::Number,
            Range::From(4.0),
            Tolerance::Relative(0.01),
            1e12,
        );
        assert_eq!(s.status, Status::HoldsThroughout);
        assert_eq!(s.probes.len(), MAX_EXPANSIONS + 1);
    }
}
