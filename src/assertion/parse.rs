//! Reading a threshold as users write it: `METRIC[.STAT] OP VALUE`
//! (`checkout.p99 < 250ms`, `checkout.availability >= 99.9%`,
//! `checkout.p99.ci_high < 250ms`), with VALUE read in the metric's unit,
//! so that `checkout.p99 < 99%` is refused rather than compared with a
//! meaningless number.

use crate::metrics::catalog::{self, MetricDef, Unit};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

impl Op {
    /// The operators as written, longest first so `<=` is not read as `<`.
    const ALL: [(&'static str, Op); 6] = [
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("==", Op::Eq),
        ("!=", Op::Ne),
        ("<", Op::Lt),
        (">", Op::Gt),
    ];

    /// The operator as written (`"<="`).
    pub fn symbol(self) -> &'static str {
        Op::ALL
            .iter()
            .find(|(_, o)| *o == self)
            .map(|(s, _)| *s)
            .expect("every operator has a symbol")
    }

    /// Whether `measured OP limit` holds.
    pub fn holds(self, measured: f64, limit: f64) -> bool {
        match self {
            Op::Lt => measured < limit,
            Op::Le => measured <= limit,
            Op::Gt => measured > limit,
            Op::Ge => measured >= limit,
            Op::Eq => measured == limit,
            Op::Ne => measured != limit,
        }
    }
}

/// Which number of a sweep point's replications an assertion judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stat {
    /// The mean over the replications (what a sweep point is judged on
    /// when no statistic is written; a single run's value is its mean).
    Mean,
    /// The low end of the 95% confidence interval of the mean.
    CiLow,
    /// The high end of the 95% confidence interval of the mean.
    CiHigh,
}

impl Stat {
    /// The statistics as written after the metric.
    const ALL: [(&'static str, Stat); 3] = [
        ("mean", Stat::Mean),
        ("ci_low", Stat::CiLow),
        ("ci_high", Stat::CiHigh),
    ];

    /// The statistic as written (`"ci_high"`).
    pub fn name(self) -> &'static str {
        Stat::ALL
            .iter()
            .find(|(_, s)| *s == self)
            .map(|(n, _)| *n)
            .expect("every statistic has a name")
    }

    /// Whether it needs a confidence interval, hence two or more runs.
    pub fn needs_replications(self) -> bool {
        matches!(self, Stat::CiLow | Stat::CiHigh)
    }
}

/// A parsed threshold, its metric checked against a catalogue.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Expr {
    /// The metric's flat name (`checkout.p99`).
    pub metric: String,
    /// Its unit, which the limit was read in.
    pub unit: Unit,
    /// The statistic written after the metric, if any.
    pub stat: Option<Stat>,
    /// The comparison.
    pub op: Op,
    /// The limit in the metric's unit (ms, fraction, /s, ...).
    pub limit: f64,
    /// The limit as the user wrote it (`250ms`, `99.9%`), for messages.
    pub limit_text: String,
}

impl Expr {
    /// The expression in a normal form (`checkout.p99.ci_high < 250ms`).
    pub fn text(&self) -> String {
        let stat = self
            .stat
            .map_or(String::new(), |s| format!(".{}", s.name()));
        format!(
            "{}{stat} {} {}",
            self.metric,
            self.op.symbol(),
            self.limit_text
        )
    }
}

/// Parses `METRIC[.STAT] OP VALUE` against the metrics `defs`. The error
/// says what is wrong and what was expected, without naming where the
/// text came from (the caller adds `--assert '...'` or the file position).
pub fn parse(text: &str, defs: &[MetricDef]) -> Result<Expr, String> {
    let text = text.trim();
    let Some((at, sym, op)) = find_op(text) else {
        for (typo, meant) in [("=>", ">="), ("=<", "<="), ("=", "==")] {
            if text.contains(typo) {
                return Err(format!(
                    "`{typo}` is not an operator; did you mean `{meant}`? (OP is one of <, <=, >, >=, ==, !=)"
                ));
            }
        }
        return Err(
            "expected METRIC OP VALUE with OP one of <, <=, >, >=, ==, != (e.g. checkout.p99 < 250ms)"
                .into(),
        );
    };
    let left = text[..at].trim();
    let right = text[at + sym.len()..].trim();
    if left.is_empty() {
        return Err(format!(
            "nothing before `{sym}`: write a metric first, e.g. checkout.p99 {sym} 250ms"
        ));
    }
    if right.is_empty() {
        return Err(format!(
            "nothing after `{sym}`: write a limit, e.g. {left} {sym} 250ms"
        ));
    }
    if let Some((_, extra, _)) = find_op(right) {
        return Err(format!(
            "`{right}` holds a second operator `{extra}`: write one comparison per assertion (join them with `and` only in --find)"
        ));
    }
    let (metric, unit, stat) = metric_and_stat(left, defs)?;
    let limit = limit(&metric, unit, right)?;
    Ok(Expr {
        metric,
        unit,
        stat,
        op,
        limit,
        limit_text: right.split_whitespace().collect::<Vec<_>>().join(""),
    })
}

/// The first operator in `text`: its byte offset, symbol and meaning.
fn find_op(text: &str) -> Option<(usize, &'static str, Op)> {
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if !matches!(b, b'<' | b'>' | b'=' | b'!') {
            continue;
        }
        for (sym, op) in Op::ALL {
            if text[i..].starts_with(sym) {
                return Some((i, sym, op));
            }
        }
        // A lone `=` or `!` is a typo for `==` / `!=`.
        return None;
    }
    None
}

/// Splits `checkout.p99.ci_high` into a catalogue metric and a statistic.
/// A full name in the catalogue wins (`checkout.mean` is the mean
/// response time, not the mean of `checkout`).
fn metric_and_stat(left: &str, defs: &[MetricDef]) -> Result<(String, Unit, Option<Stat>), String> {
    if left.chars().any(char::is_whitespace) {
        return Err(format!(
            "`{left}` is not a metric name: names have no spaces (e.g. checkout.p99)"
        ));
    }
    let unknown = match catalog::find(defs, left) {
        Ok((_, d)) => return Ok((d.name.clone(), d.unit, None)),
        Err(e) => e,
    };
    if let Some((metric, last)) = left.rsplit_once('.') {
        if let Some((_, stat)) = Stat::ALL.iter().find(|(n, _)| *n == last) {
            let (_, d) = catalog::find(defs, metric)?;
            return Ok((d.name.clone(), d.unit, Some(*stat)));
        }
        // `checkout.p99.ci_hi`: a known metric followed by a misspelt
        // statistic, not an unknown workload `checkout.p99`.
        if catalog::find(defs, metric).is_ok() {
            let stats: Vec<&str> = Stat::ALL.iter().map(|(n, _)| *n).collect();
            return Err(format!(
                "`{left}`: `{metric}` has no statistic `{last}`; write one of {} (or none, for the mean)",
                stats.join(", ")
            ));
        }
    }
    Err(unknown)
}

/// What a limit for `unit` looks like, for messages.
fn expected(unit: Unit) -> &'static str {
    match unit {
        Unit::Ms => "is a latency in ms; write a duration such as 250ms, 1.5s or 800us (a bare number is ms)",
        Unit::Fraction => "is a fraction; write a percentage such as 99.9% or a fraction in [0, 1] such as 0.999",
        Unit::PerSecond => "is a rate per second; write a number such as 200 (or 200/s, 200rps)",
        Unit::Count => "is a count of requests; write a number such as 0 or 100",
        Unit::Money => "is an amount of money in the scenario's currency; write a number such as 40",
        Unit::Number => "is a plain number; write a number such as 2.5",
    }
}

/// Reads the limit `raw` in the metric's unit.
fn limit(metric: &str, unit: Unit, raw: &str) -> Result<f64, String> {
    let compact: String = raw.split_whitespace().collect();
    let bad = || format!("`{raw}`: {metric} {}", expected(unit));
    let (num, suffix) = split_number(&compact).ok_or_else(bad)?;
    let non_negative = |v: f64| {
        if v < 0.0 {
            Err(format!("`{raw}`: {metric} is never negative"))
        } else {
            Ok(v)
        }
    };
    match unit {
        Unit::Ms => {
            let scale = match suffix {
                "" | "ms" => 1.0,
                "ns" => 1e-6,
                "us" | "µs" => 1e-3,
                "s" => 1e3,
                "m" | "min" => 6e4,
                "h" => 3.6e6,
                _ => return Err(bad()),
            };
            non_negative(num * scale)
        }
        Unit::Fraction => match suffix {
            "%" if (0.0..=100.0).contains(&num) => Ok(num / 100.0),
            "%" => Err(format!(
                "`{raw}`: {metric} is a fraction; a percentage is between 0% and 100%"
            )),
            "" if (0.0..=1.0).contains(&num) => Ok(num),
            "" if num > 1.0 && num <= 100.0 => Err(format!(
                "`{raw}`: {metric} is a fraction in [0, 1]; did you mean {raw}%?"
            )),
            _ => Err(bad()),
        },
        Unit::PerSecond => match suffix {
            "" | "/s" | "rps" => non_negative(num),
            _ => Err(bad()),
        },
        Unit::Count => match suffix {
            "" => non_negative(num),
            _ => Err(bad()),
        },
        Unit::Money | Unit::Number => match suffix {
            "" => Ok(num),
            _ => Err(bad()),
        },
    }
}

/// A leading decimal number (`-1.5e3`) and the rest of `s`.
fn split_number(s: &str) -> Option<(f64, &str)> {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let digits_start = i;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
        i += 1;
    }
    if i == digits_start {
        return None;
    }
    // An exponent only when digits follow it (`1e3`), so `5e` stays an error.
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'-' || b[j] == b'+') {
            j += 1;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            i = j;
        }
    }
    let v: f64 = s[..i].parse().ok()?;
    v.is_finite().then_some((v, &s[i..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defs() -> Vec<MetricDef> {
        [
            ("checkout.requests", Unit::Count),
            ("checkout.availability", Unit::Fraction),
            ("checkout.throughput", Unit::PerSecond),
            ("checkout.mean", Unit::Ms),
            ("checkout.p99", Unit::Ms),
            ("payment.utilization", Unit::Fraction),
            ("payment.mean_queue", Unit::Number),
            ("cost.per_million", Unit::Money),
        ]
        .iter()
        .map(|(n, u)| MetricDef {
            name: n.to_string(),
            unit: *u,
        })
        .collect()
    }

    fn ok(text: &str) -> Expr {
        parse(text, &defs()).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn err(text: &str) -> String {
        match parse(text, &defs()) {
            Ok(e) => panic!("{text} parsed as {e:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn latencies_take_durations_or_ms() {
        for (text, ms) in [
            ("checkout.p99 < 250ms", 250.0),
            ("checkout.p99<250", 250.0),
            ("  checkout.p99   <=   1.5 s ", 1500.0),
            ("checkout.p99 < 800us", 0.8),
            ("checkout.p99 < 2m", 120_000.0),
            ("checkout.p99 < 1e3", 1000.0),
        ] {
            let e = ok(text);
            assert_eq!(e.metric, "checkout.p99");
            assert_eq!(e.unit, Unit::Ms);
            assert!((e.limit - ms).abs() < 1e-9, "{text}: {}", e.limit);
        }
        assert_eq!(
            ok("  checkout.p99   <=   1.5 s ").text(),
            "checkout.p99 <= 1.5s"
        );
    }

    #[test]
    fn every_operator() {
        for (sym, op) in [
            ("<", Op::Lt),
            ("<=", Op::Le),
            (">", Op::Gt),
            (">=", Op::Ge),
            ("==", Op::Eq),
            ("!=", Op::Ne),
        ] {
            let e = ok(&format!("checkout.requests {sym} 10"));
            assert_eq!(e.op, op);
            assert_eq!(e.op.symbol(), sym);
        }
        assert!(Op::Lt.holds(1.0, 2.0) && !Op::Lt.holds(2.0, 2.0));
        assert!(Op::Le.holds(2.0, 2.0) && !Op::Le.holds(2.1, 2.0));
        assert!(Op::Gt.holds(3.0, 2.0) && !Op::Gt.holds(2.0, 2.0));
        assert!(Op::Ge.holds(2.0, 2.0) && !Op::Ge.holds(1.9, 2.0));
        assert!(Op::Eq.holds(0.0, 0.0) && !Op::Eq.holds(1.0, 0.0));
        assert!(Op::Ne.holds(1.0, 0.0) && !Op::Ne.holds(0.0, 0.0));
    }

    #[test]
    fn fractions_take_percentages_or_fractions() {
        assert!((ok("checkout.availability >= 99.9%").limit - 0.999).abs() < 1e-12);
        assert_eq!(ok("checkout.availability >= 0.999").limit, 0.999);
        assert_eq!(ok("payment.utilization < 80 %").limit, 0.8);
        let e = err("checkout.availability >= 99.9");
        assert!(e.contains("did you mean 99.9%?"), "{e}");
        let e = err("checkout.availability >= 120%");
        assert!(e.contains("between 0% and 100%"), "{e}");
        let e = err("checkout.availability >= 99.9ms");
        assert!(e.contains("is a fraction; write a percentage"), "{e}");
    }

    #[test]
    fn rates_counts_money_and_numbers() {
        assert_eq!(ok("checkout.throughput >= 200/s").limit, 200.0);
        assert_eq!(ok("checkout.throughput >= 200 rps").limit, 200.0);
        assert_eq!(ok("checkout.throughput >= 200").limit, 200.0);
        assert_eq!(ok("cost.per_million < 40").limit, 40.0);
        assert_eq!(ok("payment.mean_queue < 2.5").limit, 2.5);
        assert!(err("cost.per_million < 40ms").contains("amount of money"));
        assert!(err("checkout.requests > 5%").contains("count of requests"));
    }

    #[test]
    fn statistics_follow_the_metric() {
        let e = ok("checkout.p99.ci_high < 250ms");
        assert_eq!(
            (e.metric.as_str(), e.stat),
            ("checkout.p99", Some(Stat::CiHigh))
        );
        assert_eq!(e.text(), "checkout.p99.ci_high < 250ms");
        assert_eq!(ok("checkout.p99.ci_low < 250ms").stat, Some(Stat::CiLow));
        assert_eq!(ok("checkout.p99.mean < 250ms").stat, Some(Stat::Mean));
        // `checkout.mean` is a metric (mean response time) ...
        let e = ok("checkout.mean < 50ms");
        assert_eq!((e.metric.as_str(), e.stat), ("checkout.mean", None));
        // ... which may take a statistic too.
        let e = ok("checkout.mean.ci_high < 50ms");
        assert_eq!(
            (e.metric.as_str(), e.stat),
            ("checkout.mean", Some(Stat::CiHigh))
        );
        assert!(Stat::CiHigh.needs_replications() && !Stat::Mean.needs_replications());
    }

    #[test]
    fn errors_say_what_was_expected() {
        for (text, want) in [
            (
                "checkout.p99 < 99%",
                "checkout.p99 is a latency in ms; write a duration such as 250ms",
            ),
            ("checkout.p99 < fast", "is a latency in ms"),
            ("checkout.p99 < -5ms", "never negative"),
            ("checkout.p99 250ms", "expected METRIC OP VALUE"),
            ("checkout.p99 = 250ms", "did you mean `==`?"),
            ("checkout.p99 =< 250ms", "did you mean `<=`?"),
            ("checkout.p99 => 250ms", "did you mean `>=`?"),
            ("< 250ms", "nothing before `<`"),
            ("checkout.p99 <", "nothing after `<`"),
            ("checkout.p99 < 250ms < 300ms", "second operator"),
            ("checkout.p98 < 250ms", "has no metric `p98`"),
            ("checkut.p99 < 250ms", "no workload or service `checkut`"),
            ("checkout.p98.ci_high < 250ms", "has no metric `p98`"),
            (
                "checkout.p99.ci_hi < 250ms",
                "`checkout.p99` has no statistic `ci_hi`; write one of mean, ci_low, ci_high",
            ),
            ("checkout.p99.p50 < 250ms", "has no statistic `p50`"),
            ("checkout p99 < 250ms", "names have no spaces"),
            ("", "expected METRIC OP VALUE"),
        ] {
            let e = err(text);
            assert!(e.contains(want), "{text}: {e}");
        }
    }

    proptest::proptest! {
        /// No text, however odd, makes the parser panic.
        #[test]
        fn never_panics(text in "\\PC{0,40}", tail in "[<>=!%. 0-9a-z_µ]{0,20}") {
            let _ = parse(&text, &defs());
            let _ = parse(&format!("checkout.p99{tail}"), &defs());
            let _ = parse(&format!("checkout.availability >={tail}"), &defs());
        }
    }
}
