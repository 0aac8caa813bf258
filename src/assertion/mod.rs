//! Thresholds for CI: assertions such as `checkout.p99 < 250ms` that a
//! run, each variant of a comparison or each point of a sweep must meet,
//! printed pass or fail with the measured value and optionally written as
//! a JUnit XML report, and conditions (`A and B`) that a capacity search
//! (`sweep --find`) bisects on.
//!
//! # Using it from a command
//!
//! 1. Before running anything, build the [`Checks`] from the scenario's
//!    `[[assert]]` tables and the `--assert` arguments with
//!    [`Checks::new`], giving the metrics the runs will report
//!    ([`crate::metrics::catalog::catalog`] of the model, or a sweep's
//!    [`crate::sweep::Plan::metrics`]) and how many runs stand behind each
//!    judged value ([`Runs`]). Every error is the user's input (exit 2).
//! 2. After the runs, judge each one: [`Checks::run`] for a single run's
//!    summary (`run`, each variant of `compare`), [`Checks::point`] for a
//!    sweep point (judged on the mean of its replications unless the
//!    assertion names a statistic, `checkout.p99.ci_high < 250ms`).
//!    Collect the [`Outcome`]s in a deterministic order.
//! 3. Once every output file is written, [`conclude`] prints the outcomes
//!    on stderr, writes the JUnit file if asked and says how many failed;
//!    any failure makes the command's exit status 1.
//!
//! A [`Condition`] is the same expressions joined by `and`, parsed by the
//! same parser, for `--find`.
//!
//! From a command, [`crate::cli::AssertArgs::checks`] and
//! [`crate::cli::AssertArgs::conclude`] wrap steps 1 and 3 with the exit
//! statuses; a sweep would do:
//!
//! ```text
//! // before running (exit 2 on bad input):
//! let checks = args.asserts.checks(&sc, &plan.metrics, Runs::Replications(plan.replications))?;
//! // after every output is written (exit 1 when one failed):
//! let outcomes: Vec<Outcome> = result.points.iter()
//!     .flat_map(|p| checks.point(Some(&point::describe(&plan.params, &p.values)), &plan, p))
//!     .collect();
//! args.asserts.conclude(&outcomes, &format!("microsim sweep {}", plan.scenario), &plan.scenario)?;
//! ```

pub mod junit;
pub mod parse;

pub use parse::{Expr, Op, Stat};

use crate::metrics::catalog::{self, MetricDef, Unit};
use crate::metrics::Summary;
use crate::scenario::{FieldPath, Scenario, Seg};
use crate::sweep::{Estimate, Plan, PointResult};
use std::path::Path;

/// How many runs stand behind each value an assertion judges, which
/// decides whether a confidence interval (`.ci_low`, `.ci_high`) exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runs {
    /// One run per subject (`run`, and each variant of `compare`).
    Single,
    /// A sweep point or a search probe, run this many times.
    Replications(u32),
}

/// One threshold, ready to judge.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Assertion {
    /// The name reports give it: the `[[assert]]` table's `name`, else
    /// the expression in normal form (`checkout.p99 < 250ms`).
    pub name: String,
    /// The parsed expression.
    pub expr: Expr,
}

impl Assertion {
    /// Parses one expression against `defs` and checks that its statistic
    /// exists with `runs`.
    pub fn parse(text: &str, defs: &[MetricDef], runs: Runs) -> Result<Assertion, String> {
        let expr = parse::parse(text, defs)?;
        if let Some(stat) = expr.stat.filter(|s| s.needs_replications()) {
            let name = stat.name();
            match runs {
                Runs::Single => {
                    return Err(format!(
                        "`.{name}` is a bound of the 95% confidence interval over a sweep point's replications, and this command makes one run per scenario or variant: use `microsim sweep -r N` (N >= 2), or drop `.{name}`"
                    ))
                }
                Runs::Replications(n) if n < 2 => {
                    return Err(format!(
                        "`.{name}` needs a confidence interval, hence 2 or more replications, and there is {n}: give -r 2 or more (or `[sweep] replications`)"
                    ))
                }
                Runs::Replications(_) => {}
            }
        }
        Ok(Assertion {
            name: expr.text(),
            expr,
        })
    }

    /// Judges a value of the assertion's metric (already the statistic it
    /// names); `missing` says why there is none when `value` is `None`.
    pub fn judge(&self, subject: Option<&str>, value: Option<f64>, missing: &str) -> Outcome {
        let passed = value.is_some_and(|v| self.expr.op.holds(v, self.expr.limit));
        Outcome {
            subject: subject.map(str::to_string),
            name: self.name.clone(),
            expr: self.expr.text(),
            unit: self.expr.unit,
            measured: value,
            passed,
            missing: value.is_none().then(|| missing.to_string()),
        }
    }

    /// Judges the estimates of a sweep point or search probe: `estimates`
    /// are per metric of `metrics`, over `runs` replications.
    pub fn judge_estimates(
        &self,
        subject: Option<&str>,
        metrics: &[MetricDef],
        estimates: &[Estimate],
    ) -> Outcome {
        let Some(i) = metrics.iter().position(|m| m.name == self.expr.metric) else {
            return self.judge(subject, None, "this point has no such metric");
        };
        let e = &estimates[i];
        match self.expr.stat {
            None | Some(Stat::Mean) => {
                let why = format!("no replication had one: {}", why_missing(&self.expr.metric));
                self.judge(subject, e.mean, &why)
            }
            Some(stat) => {
                let v = if stat == Stat::CiLow {
                    e.ci_low()
                } else {
                    e.ci_high()
                };
                let why = format!(
                    "no confidence interval: {} of the replications had a value ({})",
                    e.n,
                    why_missing(&self.expr.metric)
                );
                self.judge(subject, v, &why)
            }
        }
    }
}

/// Why a metric can lack a value in a run.
fn why_missing(metric: &str) -> &'static str {
    if metric == "cost.per_million" {
        "no request succeeded"
    } else if metric.contains('@') && metric.ends_with(".stale_rate") {
        "the copy was never read"
    } else if metric.contains('@') {
        "no write reached the copy"
    } else if metric.starts_with("topic.") {
        "no event was delivered"
    } else if metric.starts_with("saga.") {
        "no saga ended"
    } else {
        "no request completed"
    }
}

/// The result of one assertion on one subject.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Outcome {
    /// What was judged when there are several: a variant's name or a
    /// sweep point (`services.payment.replicas=2`); `None` for a single run.
    pub subject: Option<String>,
    /// The assertion's name.
    pub name: String,
    /// The expression in normal form.
    pub expr: String,
    /// The metric's unit.
    pub unit: Unit,
    /// The value judged, `None` when the run had none (a failure).
    pub measured: Option<f64>,
    /// Whether the assertion held.
    pub passed: bool,
    /// Why there is no value, when there is none.
    pub missing: Option<String>,
}

impl Outcome {
    /// The measured value for people (`212.35 ms`), or why there is none.
    pub fn measured_text(&self) -> String {
        match (self.measured, &self.missing) {
            (Some(v), _) => self.unit.show(v),
            (None, Some(why)) => format!("no value ({why})"),
            (None, None) => "no value".into(),
        }
    }

    /// The limit as written with its operator (`< 250ms`).
    fn limit_text(&self) -> &str {
        // `expr` is `METRIC OP LIMIT` in normal form.
        self.expr
            .split_once(' ')
            .map_or(self.expr.as_str(), |(_, rest)| rest)
    }

    /// A failure's explanation (`measured 312.00 ms, limit < 250ms`).
    pub fn message(&self) -> String {
        format!(
            "measured {}, limit {}",
            self.measured_text(),
            self.limit_text()
        )
    }

    /// The label printed and reported: the name, with the expression when
    /// the name is not the expression itself.
    pub fn label(&self) -> String {
        if self.name == self.expr {
            self.name.clone()
        } else {
            format!("{} ({})", self.name, self.expr)
        }
    }
}

/// The assertions a command checks: the scenario's `[[assert]]` tables
/// first, then the `--assert` arguments, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Checks {
    /// The assertions in order.
    pub list: Vec<Assertion>,
}

impl Checks {
    /// Parses the scenario's `[[assert]]` tables and the `--assert`
    /// arguments against the metrics the runs report (`defs`: the
    /// catalogue of the model, or the union of the catalogues of a
    /// comparison's variants or a sweep's points). An error is the user's
    /// input, with its place: `FILE:LINE:COL: assert[0].expr: ...` for a
    /// table, `--assert 'EXPR': ...` for an argument.
    pub fn new(
        sc: &Scenario,
        args: &[String],
        defs: &[MetricDef],
        runs: Runs,
    ) -> Result<Checks, String> {
        let mut list = Vec::new();
        for (i, raw) in sc.asserts.iter().enumerate() {
            let at = |key: &str| {
                FieldPath(vec![
                    Seg::Key("assert".into()),
                    Seg::Index(i),
                    Seg::Key(key.into()),
                ])
            };
            let mut a = Assertion::parse(&raw.expr, defs, runs)
                .map_err(|e| sc.error_at(&at("expr"), e).to_string())?;
            if let Some(name) = &raw.name {
                if name.trim().is_empty() {
                    return Err(sc
                        .error_at(&at("name"), "is empty; give a name or leave it out")
                        .to_string());
                }
                a.name = name.trim().to_string();
            }
            list.push(a);
        }
        list.extend(Checks::from_args(args, defs, runs)?.list);
        Ok(Checks { list })
    }

    /// The `--assert` expressions alone, for a command that has results
    /// but no scenario to read `[[assert]]` tables from (`merge`).
    pub fn from_args(args: &[String], defs: &[MetricDef], runs: Runs) -> Result<Checks, String> {
        let list = args
            .iter()
            .map(|arg| {
                Assertion::parse(arg, defs, runs).map_err(|e| format!("--assert '{arg}': {e}"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Checks { list })
    }

    /// True when there is nothing to check.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Judges one run (`run`, or one variant of `compare` with its name as
    /// `subject`). A metric the run does not report (a variant deployed
    /// differently) fails with no value.
    pub fn run(&self, subject: Option<&str>, summary: &Summary) -> Vec<Outcome> {
        let values = catalog::values(summary);
        self.list
            .iter()
            .map(|a| {
                match values.iter().find(|(d, _)| d.name == a.expr.metric) {
                    None => a.judge(subject, None, "this run has no such metric"),
                    // A confidence interval was refused by `new` with
                    // `Runs::Single`; a single value has none.
                    Some(_) if a.expr.stat.is_some_and(Stat::needs_replications) => {
                        a.judge(subject, None, "a single run has no confidence interval")
                    }
                    Some((_, v)) => a.judge(subject, *v, why_missing(&a.expr.metric)),
                }
            })
            .collect()
    }

    /// Judges a sweep point, on the mean of its replications unless the
    /// assertion names a statistic.
    pub fn point(&self, subject: Option<&str>, plan: &Plan, point: &PointResult) -> Vec<Outcome> {
        self.list
            .iter()
            .map(|a| a.judge_estimates(subject, &plan.metrics, &point.estimates))
            .collect()
    }
}

/// Assertions joined by `and`, all of which must hold: the condition of a
/// capacity search (`checkout.p99 < 200ms and checkout.availability >=
/// 99.9%`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Condition {
    /// The parts, in the order written.
    pub parts: Vec<Assertion>,
}

impl Condition {
    /// Parses `A and B and ...` against `defs`; each part as [`Assertion::parse`].
    pub fn parse(text: &str, defs: &[MetricDef], runs: Runs) -> Result<Condition, String> {
        let mut parts = Vec::new();
        let mut words: Vec<&str> = Vec::new();
        let mut take = |words: &mut Vec<&str>| -> Result<(), String> {
            if words.is_empty() {
                return Err(format!(
                    "`{}`: an `and` with nothing on one side; write e.g. checkout.p99 < 200ms and checkout.availability >= 99.9%",
                    text.trim()
                ));
            }
            let part = words.join(" ");
            words.clear();
            parts.push(Assertion::parse(&part, defs, runs).map_err(|e| format!("`{part}`: {e}"))?);
            Ok(())
        };
        for w in text.split_whitespace() {
            if w == "and" {
                take(&mut words)?;
            } else {
                words.push(w);
            }
        }
        take(&mut words)?;
        Ok(Condition { parts })
    }

    /// The condition in normal form.
    pub fn text(&self) -> String {
        self.parts
            .iter()
            .map(|a| a.expr.text())
            .collect::<Vec<_>>()
            .join(" and ")
    }

    /// The metrics it names, in order, each once.
    pub fn metrics(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for a in &self.parts {
            if !out.contains(&a.expr.metric) {
                out.push(a.expr.metric.clone());
            }
        }
        out
    }

    /// Judges every part on a point's or probe's estimates; the condition
    /// holds when every outcome passed.
    pub fn judge(&self, metrics: &[MetricDef], estimates: &[Estimate]) -> Vec<Outcome> {
        self.parts
            .iter()
            .map(|a| a.judge_estimates(None, metrics, estimates))
            .collect()
    }
}

/// How many assertions passed and failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally {
    /// Outcomes that passed.
    pub passed: usize,
    /// Outcomes that failed.
    pub failed: usize,
}

/// The lines [`conclude`] prints: one per outcome, aligned, then the tally.
pub fn lines(outcomes: &[Outcome]) -> Vec<String> {
    let width = |s: &str| s.chars().count();
    let subjects: Vec<&str> = outcomes
        .iter()
        .map(|o| o.subject.as_deref().unwrap_or(""))
        .collect();
    let labels: Vec<String> = outcomes.iter().map(Outcome::label).collect();
    let sw = subjects.iter().map(|s| width(s)).max().unwrap_or(0);
    let lw = labels.iter().map(|l| width(l)).max().unwrap_or(0);
    let mut out = Vec::with_capacity(outcomes.len() + 1);
    for ((o, subject), label) in outcomes.iter().zip(&subjects).zip(&labels) {
        let mut line = String::from(if o.passed { "PASS  " } else { "FAIL  " });
        if sw > 0 {
            line.push_str(subject);
            line.push_str(&" ".repeat(sw - width(subject) + 2));
        }
        line.push_str(label);
        line.push_str(&" ".repeat(lw - width(label) + 3));
        line.push_str(&o.measured_text());
        if !o.passed && o.measured.is_some() {
            line.push_str(&format!("  (limit {})", o.limit_text()));
        }
        out.push(line.trim_end().to_string());
    }
    let t = tally(outcomes);
    out.push(format!("assertions: {} pass, {} fail", t.passed, t.failed));
    out
}

/// Counts the outcomes that passed and failed.
pub fn tally(outcomes: &[Outcome]) -> Tally {
    let passed = outcomes.iter().filter(|o| o.passed).count();
    Tally {
        passed,
        failed: outcomes.len() - passed,
    }
}

/// Ends a command's checks, once its outputs are written: prints every
/// outcome on stderr (always, whatever `--quiet` says: stdout stays
/// tables or JSON), writes the JUnit report to `junit` if given (the
/// suite named `suite`, e.g. `microsim run checkout`; outcomes without a
/// subject get `class`, e.g. the scenario's name) and returns the tally.
/// The error is a failure to write the JUnit file.
pub fn conclude(
    outcomes: &[Outcome],
    suite: &str,
    class: &str,
    junit: Option<&Path>,
) -> Result<Tally, String> {
    for line in lines(outcomes) {
        eprintln!("{line}");
    }
    if let Some(path) = junit {
        junit::write(path, suite, class, outcomes)
            .map_err(|e| format!("writing --junit {}: {e}", path.display()))?;
    }
    Ok(tally(outcomes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::stats::estimate;

    fn defs() -> Vec<MetricDef> {
        vec![
            MetricDef {
                name: "w.p99".into(),
                unit: Unit::Ms,
            },
            MetricDef {
                name: "w.availability".into(),
                unit: Unit::Fraction,
            },
        ]
    }

    #[test]
    fn confidence_bounds_need_replications() {
        let e = Assertion::parse("w.p99.ci_high < 5ms", &defs(), Runs::Single).unwrap_err();
        assert!(e.contains("microsim sweep -r N"), "{e}");
        let e = Assertion::parse("w.p99.ci_low < 5ms", &defs(), Runs::Replications(1)).unwrap_err();
        assert!(e.contains("2 or more replications, and there is 1"), "{e}");
        assert!(Assertion::parse("w.p99.ci_low < 5ms", &defs(), Runs::Replications(2)).is_ok());
        assert!(Assertion::parse("w.p99.mean < 5ms", &defs(), Runs::Single).is_ok());
    }

    #[test]
    fn estimates_are_judged_on_the_statistic() {
        let defs = defs();
        let est = vec![
            estimate([Some(4.0), Some(6.0)]),
            estimate([Some(1.0), None]),
        ];
        let judge = |text: &str| {
            Assertion::parse(text, &defs, Runs::Replications(2))
                .unwrap()
                .judge_estimates(Some("p"), &defs, &est)
        };
        // Mean 5, half-width t(1) * 1 = 12.7.
        assert!(judge("w.p99 < 5.5ms").passed);
        assert!(judge("w.p99.mean < 5.5ms").passed);
        let o = judge("w.p99.ci_high < 5.5ms");
        assert!(!o.passed);
        assert!((o.measured.unwrap() - (5.0 + 12.706_204_736)).abs() < 1e-6);
        assert!(judge("w.p99.ci_low < 0ms").passed);
        // One value: a mean but no interval.
        assert!(judge("w.availability >= 100%").passed);
        let o = judge("w.availability.ci_low >= 50%");
        assert!(!o.passed && o.measured.is_none());
        assert!(
            o.measured_text().contains("1 of the replications"),
            "{}",
            o.measured_text()
        );
        assert_eq!(o.subject.as_deref(), Some("p"));
    }

    #[test]
    fn conditions_join_with_and() {
        let c = Condition::parse(
            "w.p99 < 200ms   and w.availability >= 99.9% and w.p99 > 1",
            &defs(),
            Runs::Replications(1),
        )
        .unwrap();
        assert_eq!(c.parts.len(), 3);
        assert_eq!(
            c.text(),
            "w.p99 < 200ms and w.availability >= 99.9% and w.p99 > 1"
        );
        assert_eq!(c.metrics(), ["w.p99", "w.availability"]);
        let est = vec![estimate([Some(150.0)]), estimate([Some(0.9995)])];
        assert!(c.judge(&defs(), &est).iter().all(|o| o.passed));
        let est = vec![estimate([Some(150.0)]), estimate([Some(0.99)])];
        assert!(!c.judge(&defs(), &est).iter().all(|o| o.passed));
        for (text, want) in [
            ("w.p99 < 200ms and", "nothing on one side"),
            ("and w.p99 < 200ms", "nothing on one side"),
            ("w.p99 < 200ms and and w.p99 < 1", "nothing on one side"),
            (
                "w.p99 < 200ms and w.p99 < 99%",
                "`w.p99 < 99%`: `99%`: w.p99 is a latency",
            ),
            ("w.p99 < 200ms or w.p99 < 1", "second operator"),
        ] {
            let e = Condition::parse(text, &defs(), Runs::Replications(1)).unwrap_err();
            assert!(e.contains(want), "{text}: {e}");
        }
    }

    #[test]
    fn lines_align_and_tally() {
        let a = Assertion::parse("w.p99 < 250ms", &defs(), Runs::Single).unwrap();
        let b = Assertion::parse("w.availability >= 99.9%", &defs(), Runs::Single).unwrap();
        let outcomes = vec![
            a.judge(Some("baseline"), Some(212.346), ""),
            b.judge(Some("baseline"), Some(0.9871), ""),
            a.judge(Some("x4"), None, "no request completed"),
        ];
        assert_eq!(
            lines(&outcomes),
            [
                "PASS  baseline  w.p99 < 250ms             212.35 ms",
                "FAIL  baseline  w.availability >= 99.9%   98.710%  (limit >= 99.9%)",
                "FAIL  x4        w.p99 < 250ms             no value (no request completed)",
                "assertions: 1 pass, 2 fail",
            ]
        );
        assert_eq!(outcomes[1].message(), "measured 98.710%, limit >= 99.9%");
        assert_eq!(
            tally(&outcomes),
            Tally {
                passed: 1,
                failed: 2
            }
        );
        let single = vec![a.judge(None, Some(1.0), "")];
        assert_eq!(lines(&single)[0], "PASS  w.p99 < 250ms   1.000 ms");
    }
}
