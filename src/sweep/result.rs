//! What a sweep produces: plain data that the CSV, JSON, tables, charts
//! and `merge` read, and that `--resume` reads back from the point files.

use super::seed::Seeding;
use super::stats::Estimate;
use crate::metrics::catalog::MetricDef;

/// One swept parameter: a dotted path (as `--set` takes it) and the values
/// it takes, in the order given.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Param {
    /// The dotted path, as written (`services.payment.replicas`).
    pub path: String,
    /// Its values in order.
    pub values: Vec<ParamValue>,
}

impl Param {
    /// A short label for axes and column headers: the path's last two
    /// keys (`payment.replicas`, `arrival.rate`).
    pub fn label(&self) -> String {
        let keys: Vec<&str> = self.path.split('.').collect();
        keys[keys.len().saturating_sub(2)..].join(".")
    }
}

/// One value of a parameter.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ParamValue {
    /// The value as it is written in a scenario (a TOML value: `4`,
    /// `0.5`, `"10ms"`), which is also what `--set PATH=TEXT` takes.
    pub text: String,
    /// The value as a number for axes and bisection: numbers as they are,
    /// durations in milliseconds; `None` for other values (`"p2c"`).
    pub number: Option<f64>,
}

impl ParamValue {
    /// The value for people and CSV cells: strings without their TOML
    /// quotes (`10ms`, `p2c`), other values as written (`4`, `0.5`).
    pub fn plain(&self) -> String {
        if self.text.starts_with('"') {
            if let Ok(mut t) = toml::from_str::<toml::Table>(&format!("v = {}", self.text)) {
                if let Some(toml::Value::String(s)) = t.remove("v") {
                    return s;
                }
            }
        }
        self.text.clone()
    }
}

/// The whole plan of a sweep: what is varied and how often each point is
/// run. Two plans are the same sweep when they are equal, which is what
/// `--resume` and `merge` check.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Plan {
    /// The scenario's name.
    pub scenario: String,
    /// The scenario file as given.
    pub scenario_file: String,
    /// A hash of the scenario's source text, so a resumed or merged sweep
    /// is refused when the file changed.
    pub source_hash: String,
    /// `--set` overrides applied to every point, before its parameters.
    pub overrides: Vec<String>,
    /// The parameters, outermost first.
    pub params: Vec<Param>,
    /// Lists paired element by element (`--zip`) instead of combined.
    pub zip: bool,
    /// Runs per point.
    pub replications: u32,
    /// The base seed the runs' seeds are derived from.
    pub base_seed: u64,
    /// How the points share random numbers.
    pub seeding: Seeding,
    /// Every metric of a run, in column order.
    pub metrics: Vec<MetricDef>,
}

impl Plan {
    /// The metrics a sweep shows unless told otherwise: each workload's
    /// p99 and availability, and the cost per million successful requests
    /// when the scenario prices something.
    pub fn key_metrics(&self) -> Vec<String> {
        self.metrics
            .iter()
            .filter(|m| {
                m.name.ends_with(".p99")
                    || m.name.ends_with(".availability")
                    || m.name == "cost.per_million"
            })
            .map(|m| m.name.clone())
            .collect()
    }
}

/// One run of one point.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Replication {
    /// The seed it ran with (`microsim run --seed` reproduces it).
    pub seed: u64,
    /// Events the run handled.
    pub events: u64,
    /// The value of every metric of the plan, in its order.
    pub values: Vec<Option<f64>>,
}

/// One point of the grid with its runs and their estimates.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PointResult {
    /// Its position in the full grid (0-based); seeds and shards use it.
    pub index: usize,
    /// For each parameter of the plan, the index of its value.
    pub values: Vec<usize>,
    /// Its runs, by replication.
    pub runs: Vec<Replication>,
    /// Per metric of the plan: mean and 95% confidence interval.
    pub estimates: Vec<Estimate>,
}

/// A finished sweep (or a shard of one): the plan and its points in grid
/// order.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SweepResult {
    /// What was swept.
    pub plan: Plan,
    /// `Some((k, n))` for shard k of n (1-based) holding only its points;
    /// `None` for a whole sweep (run at once or merged).
    pub shard: Option<(u32, u32)>,
    /// The metrics printed and charted (`--metrics`, else
    /// [`Plan::key_metrics`]), by name; files hold every metric.
    pub shown: Vec<String>,
    /// The points in grid order.
    pub points: Vec<PointResult>,
}

impl SweepResult {
    /// The indices in `plan.metrics` of the [`SweepResult::shown`]
    /// metrics (names no longer in the plan are skipped).
    pub fn shown_indices(&self) -> Vec<usize> {
        self.shown
            .iter()
            .filter_map(|n| self.plan.metrics.iter().position(|m| &m.name == n))
            .collect()
    }
}
