//! Swept parameters as users write them: `--param PATH=SPEC` on the command
//! line or `"PATH" = SPEC` in the scenario's `[sweep.params]`.
//!
//! A SPEC is a list (`100,200,400`, `10ms,20ms`, `"p2c","least_loaded"`)
//! or an inclusive range `LO..HI` with an optional step `LO..HI:STEP`
//! (`1..8`, `0.1..0.5:0.1`, `10ms..50ms:10ms`). Each value is a TOML value
//! as `--set` reads it, so any value `--set` can give a path, a sweep can.

use super::result::{Param, ParamValue};
use crate::engine::time::{parse_duration, NS_PER_MS};
use crate::scenario::overrides::split_top_level;
use toml::Value;

/// Most values a range may expand to: a typo such as `1..100000` is
/// refused rather than run for days.
pub const MAX_VALUES: usize = 10_000;

/// Parses `PATH=SPEC` (`--param`).
pub fn parse_arg(arg: &str) -> Result<Param, String> {
    let Some((path, spec)) = arg.split_once('=') else {
        return Err(format!(
            "`{arg}` is not PATH=VALUES (e.g. services.payment.replicas=1..8 or workloads.checkout.arrival.rate=100,200,400)"
        ));
    };
    let path = check_path(path)?;
    let values = parse_spec(spec.trim())?;
    Ok(Param { path, values })
}

/// Reads one entry of `[sweep.params]`: an array of values or a range
/// string.
pub fn from_toml(path: &str, spec: &Value) -> Result<Param, String> {
    let path = check_path(path)?;
    let values = match spec {
        Value::Array(items) if !items.is_empty() => items.iter().map(value_of).collect(),
        Value::Array(_) => return Err("the list of values is empty".into()),
        Value::String(s) if range_parts(s).is_some() => parse_spec(s)?,
        other => {
            return Err(format!(
                "expected an array of values ([100, 200]) or a range (\"1..8\", \"10ms..50ms:10ms\"), found {}",
                other.type_str()
            ))
        }
    };
    Ok(Param { path, values })
}

fn check_path(path: &str) -> Result<String, String> {
    let path = path.trim();
    if path.is_empty() || path.split('.').any(|k| k.trim().is_empty()) {
        return Err(format!(
            "`{path}` is not a dotted path (e.g. services.payment.replicas)"
        ));
    }
    if is_seed(path) {
        return Err(format!(
            "`{path}` cannot be swept: every run's seed is derived from the base seed, the point and the replication, so the value would be ignored; use -r N for runs with different seeds, or --seed for another base seed"
        ));
    }
    Ok(path.to_string())
}

/// Whether `path` is the scenario's seed, which a sweep sets itself.
pub fn is_seed(path: &str) -> bool {
    let keys: Vec<&str> = path.split('.').map(str::trim).collect();
    keys == ["simulation", "seed"]
}

/// A SPEC: a range or a comma-separated list.
pub fn parse_spec(spec: &str) -> Result<Vec<ParamValue>, String> {
    if let Some((lo, hi, step)) = range_parts(spec) {
        return range(lo, hi, step);
    }
    let mut values = Vec::new();
    for part in split_top_level(spec) {
        let part = part.trim();
        if part.is_empty() {
            return Err(format!("`{spec}` has an empty value"));
        }
        values.push(value_of(&read_value(part)));
    }
    Ok(values)
}

/// A value as `--set` reads it: TOML, or else a bare string.
fn read_value(raw: &str) -> Value {
    toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| Value::String(raw.to_string()))
}

/// The [`ParamValue`] of a TOML value.
pub fn value_of(v: &Value) -> ParamValue {
    let number = match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::String(s) => parse_duration(s)
            .ok()
            .map(|ns| ns as f64 / NS_PER_MS as f64),
        _ => None,
    };
    ParamValue {
        text: v.to_string(),
        number,
    }
}

/// `LO..HI[:STEP]` split, when `spec` is one.
fn range_parts(spec: &str) -> Option<(&str, &str, Option<&str>)> {
    let (lo, rest) = spec.split_once("..")?;
    let (hi, step) = match rest.split_once(':') {
        Some((h, s)) => (h, Some(s.trim())),
        None => (rest, None),
    };
    let hi = hi.trim_start_matches('=');
    (!lo.trim().is_empty() && !hi.trim().is_empty()).then_some((lo.trim(), hi.trim(), step))
}

/// One end or step of a range: an integer, a number or a duration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    /// A whole number.
    Int(i64),
    /// A finite real number.
    Float(f64),
    /// A duration, in nanoseconds.
    Dur(u64),
}

/// Reads one end or step of a range (`4`, `0.5`, `10ms`); `--find` reads
/// the ends of its range with it too.
pub fn num(s: &str) -> Result<Num, String> {
    if let Ok(i) = s.parse::<i64>() {
        return Ok(Num::Int(i));
    }
    if let Ok(f) = s.parse::<f64>() {
        if f.is_finite() {
            return Ok(Num::Float(f));
        }
    }
    parse_duration(s)
        .map(Num::Dur)
        .map_err(|_| format!("`{s}` is not a number or a duration"))
}

fn range(lo: &str, hi: &str, step: Option<&str>) -> Result<Vec<ParamValue>, String> {
    let spec = match step {
        Some(s) => format!("{lo}..{hi}:{s}"),
        None => format!("{lo}..{hi}"),
    };
    let (l, h) = (num(lo)?, num(hi)?);
    let s = match step {
        Some(s) => Some(num(s)?),
        None => None,
    };
    let too_many =
        || format!("the range `{spec}` has more than {MAX_VALUES} values; give a larger step");
    let values: Vec<Value> = match (l, h, s) {
        (Num::Int(l), Num::Int(h), None | Some(Num::Int(_))) => {
            let step = match s {
                Some(Num::Int(st)) => st,
                _ => 1,
            };
            if step <= 0 {
                return Err(format!("the step of `{spec}` must be positive"));
            }
            if h < l {
                return Err(format!("the range `{spec}` is empty: {h} < {l}"));
            }
            // In i128: the span of two i64 ends may not fit an i64
            // (`-9223372036854775808..9223372036854775807`).
            let count = (i128::from(h) - i128::from(l)) / i128::from(step);
            if count >= MAX_VALUES as i128 {
                return Err(too_many());
            }
            (0..=count as i64)
                .map(|k| Value::Integer(l + k * step))
                .collect()
        }
        (Num::Dur(l), Num::Dur(h), Some(Num::Dur(st))) => {
            if st == 0 {
                return Err(format!("the step of `{spec}` must be positive"));
            }
            if h < l {
                return Err(format!("the range `{spec}` is empty: {hi} < {lo}"));
            }
            if (h - l) / st >= MAX_VALUES as u64 {
                return Err(too_many());
            }
            (0..=(h - l) / st)
                .map(|k| Value::String(crate::engine::time::fmt_ns(l + k * st)))
                .collect()
        }
        (Num::Dur(_), Num::Dur(_), _) => {
            return Err(format!(
                "the range `{spec}` needs a duration step, e.g. `{lo}..{hi}:10ms`"
            ))
        }
        (l, h, s) => {
            let f = |n: Num| match n {
                Num::Int(i) => Ok(i as f64),
                Num::Float(f) => Ok(f),
                Num::Dur(_) => Err(format!(
                    "`{spec}` mixes durations and numbers; write every part with a unit"
                )),
            };
            let (l, h) = (f(l)?, f(h)?);
            let Some(st) = s else {
                return Err(format!(
                    "the range `{spec}` has a fractional end; give a step, e.g. `{lo}..{hi}:0.1`"
                ));
            };
            let st = f(st)?;
            if st <= 0.0 {
                return Err(format!("the step of `{spec}` must be positive"));
            }
            if h < l {
                return Err(format!("the range `{spec}` is empty: {hi} < {lo}"));
            }
            // Values are computed as lo + k*step (no accumulated error)
            // and the end is included up to a rounding slack.
            let n = ((h - l) / st + 1e-9).floor();
            if n >= MAX_VALUES as f64 {
                return Err(too_many());
            }
            (0..=n as i64)
                .map(|k| {
                    // Round to 12 significant digits so 0.1 + 2*0.1 reads 0.3.
                    let v = l + k as f64 * st;
                    let v: f64 = format!("{v:.12e}").parse().expect("a formatted float");
                    Value::Float(v)
                })
                .collect()
        }
    };
    Ok(values.iter().map(value_of).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(p: &Param) -> Vec<&str> {
        p.values.iter().map(|v| v.text.as_str()).collect()
    }

    #[test]
    fn lists_and_ranges() {
        let p = parse_arg("services.payment.replicas=1..4").unwrap();
        assert_eq!(p.path, "services.payment.replicas");
        assert_eq!(texts(&p), ["1", "2", "3", "4"]);
        assert_eq!(p.values[3].number, Some(4.0));
        let p = parse_arg("workloads.checkout.arrival.rate=100,200,400").unwrap();
        assert_eq!(texts(&p), ["100", "200", "400"]);
        let p = parse_arg("services.payment.endpoints.charge.work.median=10ms,20ms").unwrap();
        assert_eq!(texts(&p), ["\"10ms\"", "\"20ms\""]);
        assert_eq!(p.values[1].number, Some(20.0));
        let p = parse_arg("x.y=0.1..0.5:0.1").unwrap();
        assert_eq!(texts(&p), ["0.1", "0.2", "0.3", "0.4", "0.5"]);
        let p = parse_arg("x.y=10ms..30ms:10ms").unwrap();
        assert_eq!(texts(&p), ["\"10ms\"", "\"20ms\"", "\"30ms\""]);
        let p = parse_arg("x.y=2..10:4").unwrap();
        assert_eq!(texts(&p), ["2", "6", "10"]);
        let p = parse_arg("x.y=p2c,\"round_robin\"").unwrap();
        assert_eq!(texts(&p), ["\"p2c\"", "\"round_robin\""]);
        assert_eq!(p.values[0].number, None);
    }

    #[test]
    fn bad_specs_say_why() {
        for (arg, want) in [
            ("replicas", "not PATH=VALUES"),
            ("a..b=1", "not a dotted path"),
            ("x.y=5..1", "empty"),
            ("x.y=1..5:0", "positive"),
            ("x.y=0.1..0.5", "give a step"),
            ("x.y=10ms..30ms", "duration step"),
            ("x.y=1..1000000", "more than"),
            ("x.y=-9223372036854775808..9223372036854775807", "more than"),
            ("x.y=-9223372036854775808..0", "more than"),
            ("x.y=1,,2", "empty value"),
            ("x.y=1ms..5:1", "mixes"),
            ("simulation.seed=1,2,3", "cannot be swept"),
            (" simulation . seed =1..3", "cannot be swept"),
        ] {
            let e = parse_arg(arg).unwrap_err();
            assert!(e.contains(want), "{arg}: {e}");
        }
    }

    #[test]
    fn toml_entries() {
        let v: toml::Table = toml::from_str("a = [1, 2]\nb = \"1..3\"\nc = 5\nd = []").unwrap();
        assert_eq!(texts(&from_toml("x.a", &v["a"]).unwrap()), ["1", "2"]);
        assert_eq!(texts(&from_toml("x.b", &v["b"]).unwrap()), ["1", "2", "3"]);
        assert!(from_toml("x.c", &v["c"])
            .unwrap_err()
            .contains("expected an array"));
        assert!(from_toml("x.d", &v["d"]).unwrap_err().contains("empty"));
    }
}
