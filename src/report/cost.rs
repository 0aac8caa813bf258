//! The cost section of the outputs: a terminal table and `cost.csv`, a row
//! per service and a total row. Both are empty when the run carries no
//! cost (the scenario prices nothing), so other runs' outputs read as
//! before.

use crate::metrics::{CostSummary, ServiceCost, Summary};
use csv::Writer;

/// An amount of money, readable at any scale: short runs cost fractions of
/// a cent, long ones thousands. Four significant digits, at least two
/// decimals.
pub fn money(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let digits = (3 - v.abs().log10().floor() as i32).clamp(2, 9) as usize;
    format!("{v:.digits$}")
}

/// The per-service and total rows of a cost section, the total last
/// (named `total`; its mean replicas are the services' summed).
pub(super) fn rows(c: &CostSummary) -> Vec<(String, ServiceCost)> {
    let mut rows: Vec<(String, ServiceCost)> = c
        .services
        .iter()
        .map(|(n, r)| (n.clone(), r.clone()))
        .collect();
    rows.push((
        "total".into(),
        ServiceCost {
            replica_hours: c.replica_hours,
            mean_replicas: c.services.values().map(|r| r.mean_replicas).sum(),
            replicas_cost: c.replicas_cost,
            network_calls: c.network_calls,
            network_cost: c.network_cost,
            platform_cost: c.platform_cost,
            total: c.total,
            per_hour: c.per_hour,
            per_million_ok: c.per_million_ok,
        },
    ));
    rows
}

/// The cost table of a run, with a heading; empty without cost.
pub fn cost_table(s: &Summary) -> String {
    let Some(c) = &s.cost else {
        return String::new();
    };
    let mut t = super::table::table(&[
        "service",
        "mean replicas",
        "replica-hours",
        "replicas",
        "network calls",
        "network",
        "platform",
        "total",
        "per hour",
        "per 1M ok",
    ]);
    for (name, r) in rows(c) {
        t.add_row(vec![
            name,
            format!("{:.2}", r.mean_replicas),
            format!("{:.4}", r.replica_hours),
            money(r.replicas_cost),
            r.network_calls.to_string(),
            money(r.network_cost),
            money(r.platform_cost),
            money(r.total),
            money(r.per_hour),
            r.per_million_ok.map_or_else(|| "-".into(), money),
        ]);
    }
    format!(
        "\ncost in {} over the measured period ({:.4} h; per 1M ok = per million successful requests):\n{t}\n",
        c.currency, c.measured_hours
    )
}

/// `cost.csv`: a row per service and a `total` row; `None` without cost
/// (no file is written).
pub fn cost_csv(s: &Summary) -> Option<Result<Vec<u8>, csv::Error>> {
    let c = s.cost.as_ref()?;
    let write = || -> Result<Vec<u8>, csv::Error> {
        let mut w = Writer::from_writer(Vec::new());
        w.write_record([
            "service",
            "currency",
            "measured_hours",
            "mean_replicas",
            "replica_hours",
            "replicas_cost",
            "network_calls",
            "network_cost",
            "platform_cost",
            "total",
            "per_hour",
            "per_million_ok",
        ])?;
        for (name, r) in rows(c) {
            w.write_record([
                name,
                c.currency.clone(),
                c.measured_hours.to_string(),
                r.mean_replicas.to_string(),
                r.replica_hours.to_string(),
                r.replicas_cost.to_string(),
                r.network_calls.to_string(),
                r.network_cost.to_string(),
                r.platform_cost.to_string(),
                r.total.to_string(),
                r.per_hour.to_string(),
                r.per_million_ok.map_or_else(String::new, |v| v.to_string()),
            ])?;
        }
        w.into_inner().map_err(|e| e.into_error().into())
    };
    Some(write())
}

#[cfg(test)]
mod tests {
    use super::money;

    #[test]
    fn money_keeps_four_significant_digits() {
        assert_eq!(money(0.0), "0");
        assert_eq!(money(1234.5678), "1234.57");
        assert_eq!(money(12.345678), "12.35");
        assert_eq!(money(0.012345678), "0.01235");
        assert_eq!(money(0.00000012345), "0.000000123");
    }
}
