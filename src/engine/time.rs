//! Simulated time: integer nanoseconds, never floating point, so that event
//! order and every result are exact and reproducible.

/// A point in simulated time, in nanoseconds since the start of the run.
pub type SimTime = u64;

/// Nanoseconds per second.
pub const NS_PER_SEC: u64 = 1_000_000_000;
/// Nanoseconds per millisecond.
pub const NS_PER_MS: u64 = 1_000_000;

/// Parses a human duration ("250us", "5ms", "2m", "1h 30m") into nanoseconds.
///
/// Accepts what `humantime` accepts plus a bare `0`; refuses negative values
/// and anything that does not fit in a `u64` of nanoseconds (about 584 years).
pub fn parse_duration(s: &str) -> Result<u64, String> {
    let t = s.trim();
    if t == "0" {
        return Ok(0);
    }
    if t.starts_with('-') {
        return Err(format!("`{s}` is negative; durations must be zero or more"));
    }
    let d = humantime::parse_duration(t).map_err(|e| {
        format!(
            "`{s}` is not a duration ({e}); write e.g. \"250us\", \"5ms\", \"2s\", \"10m\", \"1h\""
        )
    })?;
    u64::try_from(d.as_nanos()).map_err(|_| format!("`{s}` is too long (at most about 584 years)"))
}

/// Formats nanoseconds compactly for messages ("15ms", "1.5s", "400us").
pub fn fmt_ns(ns: u64) -> String {
    const UNITS: [(u64, &str); 6] = [
        (3_600 * NS_PER_SEC, "h"),
        (60 * NS_PER_SEC, "m"),
        (NS_PER_SEC, "s"),
        (NS_PER_MS, "ms"),
        (1_000, "us"),
        (1, "ns"),
    ];
    if ns == 0 {
        return "0s".into();
    }
    for (unit, name) in UNITS {
        if ns >= unit {
            let v = ns as f64 / unit as f64;
            let s = format!("{v:.3}");
            let s = s.trim_end_matches('0').trim_end_matches('.');
            return format!("{s}{name}");
        }
    }
    unreachable!("ns >= 1 always matches the last unit")
}

/// Converts nanoseconds to (fractional) milliseconds for reports.
pub fn ns_to_ms(ns: f64) -> f64 {
    ns / NS_PER_MS as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_human_durations() {
        assert_eq!(parse_duration("250us"), Ok(250_000));
        assert_eq!(parse_duration("5ms"), Ok(5_000_000));
        assert_eq!(parse_duration("2m"), Ok(120 * NS_PER_SEC));
        assert_eq!(parse_duration("1h"), Ok(3_600 * NS_PER_SEC));
        assert_eq!(parse_duration("0"), Ok(0));
        assert!(parse_duration("-5ms").is_err());
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("100000000y").is_err());
    }

    #[test]
    fn formats_compactly() {
        assert_eq!(fmt_ns(15 * NS_PER_MS), "15ms");
        assert_eq!(fmt_ns(1_500 * NS_PER_MS), "1.5s");
        assert_eq!(fmt_ns(400_000), "400us");
        assert_eq!(fmt_ns(0), "0s");
    }
}
