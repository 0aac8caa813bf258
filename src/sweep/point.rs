//! One point of a sweep: the scenario with the point's values set, run
//! once per replication, reduced to estimates.

use super::result::{Param, Plan, Replication};
use super::seed;
use super::stats::{estimate, Estimate};
use crate::metrics::catalog::{self, MetricDef};
use crate::metrics::RunResult;
use crate::model::Model;
use crate::scenario::{self, Override, Scenario, ScenarioError};

/// The scenario a sweep varies: its text, validated again for each point
/// with the point's values set after the `--set` overrides.
#[derive(Debug, Clone)]
pub struct Base {
    /// The file name, for messages.
    pub file: String,
    /// The source text as written.
    pub source: String,
    /// The name a scenario without `name` gets.
    pub default_name: String,
    /// `--set` overrides applied to every point first.
    pub overrides: Vec<Override>,
}

impl Base {
    /// The base of a loaded scenario and the `--set` overrides it was
    /// loaded with.
    pub fn new(sc: &Scenario, overrides: Vec<Override>) -> Base {
        let default_name = std::path::Path::new(&sc.file).file_stem().map_or_else(
            || "scenario".to_string(),
            |s| s.to_string_lossy().into_owned(),
        );
        Base {
            file: sc.file.clone(),
            source: sc.source.clone(),
            default_name,
            overrides,
        }
    }

    /// The overrides of a point: `--set` first, then one per parameter.
    pub fn point_overrides(&self, params: &[Param], values: &[usize]) -> Vec<Override> {
        let mut all = self.overrides.clone();
        for (p, &i) in params.iter().zip(values) {
            let arg = format!("{}={}", p.path, p.values[i].text);
            all.push(Override::parse(&arg).expect("a parameter value is PATH=TOML"));
        }
        all
    }

    /// The validated scenario at a point; a value the scenario refuses
    /// (replicas = 0) is the error of the `--set` that the point's value
    /// became, which names the path and the value.
    pub fn scenario(&self, params: &[Param], values: &[usize]) -> Result<Scenario, ScenarioError> {
        self.scenario_with(params, values, None)
    }

    /// [`Base::scenario`] with one more override after the point's values:
    /// the value a capacity search probes.
    pub fn scenario_with(
        &self,
        params: &[Param],
        values: &[usize],
        extra: Option<Override>,
    ) -> Result<Scenario, ScenarioError> {
        let mut overrides = self.point_overrides(params, values);
        overrides.extend(extra);
        scenario::parse(
            self.source.clone(),
            self.file.clone(),
            &self.default_name,
            &overrides,
        )
    }
}

/// `path=value, ...` of a point, for messages and tables.
pub fn describe(params: &[Param], values: &[usize]) -> String {
    params
        .iter()
        .zip(values)
        .map(|(p, &i)| format!("{}={}", p.path, p.values[i].text))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The metrics of every point's model, in order of first appearance: the
/// columns of a sweep. Points may differ (a monolith point has one unit
/// where the others have services); a point lacks the others' metrics.
pub fn union_metrics<'a>(models: impl IntoIterator<Item = &'a Model>) -> Vec<MetricDef> {
    let mut all: Vec<MetricDef> = Vec::new();
    for m in models {
        for d in catalog::catalog(m) {
            if !all.iter().any(|a| a.name == d.name) {
                all.push(d);
            }
        }
    }
    all
}

/// The values of `metrics` in a run's result, by name (`None` where the
/// run has no such metric or no value for it).
pub fn metric_values(metrics: &[MetricDef], result: &RunResult) -> Vec<Option<f64>> {
    let vals: indexmap::IndexMap<String, Option<f64>> = catalog::values(&result.summary)
        .into_iter()
        .map(|(d, v)| (d.name, v))
        .collect();
    metrics
        .iter()
        .map(|m| vals.get(&m.name).copied().flatten())
        .collect()
}

/// Runs replication `rep` of the point at grid index `point` whose model
/// is `model`, with the seed the plan derives for it.
pub fn run_replication(
    model: &Model,
    plan: &Plan,
    point: usize,
    rep: u32,
    progress: &mut dyn FnMut(crate::engine::time::SimTime, u64),
) -> Result<Replication, String> {
    let seed = seed::derive(plan.base_seed, plan.seeding, point, rep);
    let mut model = model.clone();
    model.seed = seed;
    let result =
        crate::simulation::run_with_progress(&model, progress).map_err(|e| e.to_string())?;
    Ok(Replication {
        seed,
        events: result.summary.events,
        values: metric_values(&plan.metrics, &result),
    })
}

/// Per metric of the plan, the estimate over a point's runs.
pub fn estimates(plan: &Plan, runs: &[Replication]) -> Vec<Estimate> {
    (0..plan.metrics.len())
        .map(|m| estimate(runs.iter().map(|r| r.values[m])))
        .collect()
}
