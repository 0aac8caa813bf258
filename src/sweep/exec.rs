//! Running a sweep's points: validation of every point before anything
//! runs, then the runs themselves on a pool of threads.
//!
//! The unit of work is one (point, replication) run, so a sweep of many
//! points with one replication each keeps every thread busy as well as a
//! few points with many replications. Threads take runs in grid order
//! from a shared counter; each run's metric values go to its slot, and a
//! point is assembled (and handed to the caller, who may save it) when its
//! last replication finishes. Results are put together in grid order
//! whatever finished first, so they do not depend on the number of
//! threads. Only metric vectors are kept, never whole run results.

use super::point::{self, Base};
use super::result::{Param, Plan, PointResult, Replication, SweepResult};
use super::{grid, Seeding};
use crate::engine::time::SimTime;
use crate::metrics::catalog::MetricDef;
use crate::model::capacity::capacity;
use crate::scenario::{Scenario, ScenarioError};
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// What validating every point found: the metrics of all of them and the
/// services each overloads.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The union of the points' metrics, in order of first appearance.
    pub metrics: Vec<MetricDef>,
    /// Per point (grid order), its simulated duration.
    pub durations: Vec<SimTime>,
    /// Per point (grid order), the services whose offered load reaches
    /// their capacity (utilisation >= 100%).
    pub overloaded: Vec<Vec<String>>,
}

/// A point the scenario refuses, with its grid index and values.
#[derive(Debug, Clone)]
pub struct InvalidPoint {
    /// Its index in the grid.
    pub index: usize,
    /// `path=value, ...` of the point.
    pub values: String,
    /// Why the scenario refuses it.
    pub error: ScenarioError,
}

impl std::fmt::Display for InvalidPoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "point {} ({}): {}", self.index, self.values, self.error)
    }
}

/// What one point's validation gives: its metrics, duration and
/// overloaded services.
type PointCheck = (Vec<MetricDef>, SimTime, Vec<String>);

/// Validates every point of `grid` (in parallel on the current rayon
/// pool) and returns what a plan needs, or the first invalid point in
/// grid order: nothing may run before every point is known to be valid.
pub fn check_points(
    base: &Base,
    params: &[Param],
    grid: &[Vec<usize>],
) -> Result<Checked, Box<InvalidPoint>> {
    let checked: Vec<Result<PointCheck, Box<InvalidPoint>>> = grid
        .par_iter()
        .enumerate()
        .map(|(index, values)| {
            let sc = base.scenario(params, values).map_err(|mut error| {
                // The values the point set are named by the point itself;
                // "in --set" would blame an argument the user never gave.
                if let Some(arg) = &error.set_arg {
                    let mine = params
                        .iter()
                        .zip(values)
                        .any(|(p, &i)| *arg == format!("{}={}", p.path, p.values[i].text));
                    if mine {
                        error.set_arg = None;
                    }
                }
                Box::new(InvalidPoint {
                    index,
                    values: point::describe(params, values),
                    error,
                })
            })?;
            let over = capacity(&sc.model)
                .into_iter()
                .filter(|r| r.utilization >= 1.0)
                .map(|r| r.service)
                .collect();
            Ok((
                crate::metrics::catalog::catalog(&sc.model),
                sc.model.duration,
                over,
            ))
        })
        .collect();
    let mut metrics: Vec<MetricDef> = Vec::new();
    let mut durations = Vec::with_capacity(grid.len());
    let mut overloaded = Vec::with_capacity(grid.len());
    for c in checked {
        let (defs, duration, over) = c?;
        for d in defs {
            if !metrics.iter().any(|m| m.name == d.name) {
                metrics.push(d);
            }
        }
        durations.push(duration);
        overloaded.push(over);
    }
    Ok(Checked {
        metrics,
        durations,
        overloaded,
    })
}

/// Why running points stopped early.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// A run failed (the simulation refused to go on).
    #[error("point {index} ({values}), replication {replication}: {message}")]
    Run {
        /// The point's grid index.
        index: usize,
        /// `path=value, ...` of the point.
        values: String,
        /// The replication.
        replication: u32,
        /// What failed.
        message: String,
    },
    /// Saving a finished point failed.
    #[error("{0}")]
    Save(String),
}

/// Runs the points of `plan` at the grid indices `indices` (ascending),
/// `jobs` runs at a time, and returns those that finished, in the order
/// of `indices`. `stop` is polled before each run: once it is set no new
/// run starts, the runs under way finish, and the points left incomplete
/// are simply absent from the result. `on_point` is called (from a worker
/// thread, one call at a time) with each point as its last replication
/// finishes, e.g. to save it; an error from it stops the sweep.
/// `progress` gets each run's advances as they happen: simulated
/// nanoseconds and events since its last call for that run.
pub fn run_points(
    base: &Base,
    plan: &Plan,
    indices: &[usize],
    jobs: usize,
    stop: &AtomicBool,
    progress: &(dyn Fn(u64, u64) + Sync),
    on_point: &(dyn Fn(&PointResult) -> Result<(), String> + Sync),
) -> Result<Vec<PointResult>, ExecError> {
    let grid = grid::expand(&plan.params, plan.zip).map_err(ExecError::Save)?;
    let reps = plan.replications.max(1) as usize;
    let units = indices.len() * reps;
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let error: Mutex<Option<ExecError>> = Mutex::new(None);
    // Per point: its replications as they finish, and how many are left.
    let slots: Vec<Mutex<(Vec<Option<Replication>>, usize)>> = indices
        .iter()
        // Filled when the point's first run finishes: only the points
        // under way hold memory, however many replications there are.
        .map(|_| Mutex::new((Vec::new(), reps)))
        .collect();
    let done: Vec<Mutex<Option<PointResult>>> = indices.iter().map(|_| Mutex::new(None)).collect();
    let saving = Mutex::new(());
    let fail = |e: ExecError| {
        failed.store(true, Ordering::SeqCst);
        let mut slot = error.lock().expect("no panics while holding it");
        if slot.is_none() {
            *slot = Some(e);
        }
    };
    let worker = || loop {
        if stop.load(Ordering::SeqCst) || failed.load(Ordering::SeqCst) {
            return;
        }
        let u = next.fetch_add(1, Ordering::SeqCst);
        if u >= units {
            return;
        }
        let (pos, rep) = (u / reps, (u % reps) as u32);
        let index = indices[pos];
        let values = &grid[index];
        let describe = || point::describe(&plan.params, values);
        let run = base
            .scenario(&plan.params, values)
            .map_err(|e| e.to_string())
            .and_then(|sc| {
                let (mut last_t, mut last_ev) = (0u64, 0u64);
                let mut track = |now: SimTime, events: u64| {
                    progress(now.saturating_sub(last_t), events.saturating_sub(last_ev));
                    (last_t, last_ev) = (now, events);
                };
                point::run_replication(&sc.model, plan, index, rep, &mut track)
            });
        let run = match run {
            Ok(r) => r,
            Err(message) => {
                fail(ExecError::Run {
                    index,
                    values: describe(),
                    replication: rep,
                    message,
                });
                return;
            }
        };
        let finished = {
            let mut slot = slots[pos].lock().expect("no panics while holding it");
            if slot.0.is_empty() {
                slot.0.resize(reps, None);
            }
            slot.0[rep as usize] = Some(run);
            slot.1 -= 1;
            (slot.1 == 0).then(|| {
                slot.0
                    .iter_mut()
                    .map(|r| r.take().expect("every replication finished"))
                    .collect::<Vec<_>>()
            })
        };
        if let Some(runs) = finished {
            let p = PointResult {
                index,
                values: values.clone(),
                estimates: point::estimates(plan, &runs),
                runs,
            };
            let saved = {
                let _one_at_a_time = saving.lock().expect("no panics while holding it");
                on_point(&p)
            };
            if let Err(e) = saved {
                fail(ExecError::Save(e));
                return;
            }
            *done[pos].lock().expect("no panics while holding it") = Some(p);
        }
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .build()
        .map_err(|e| ExecError::Save(format!("starting worker threads: {e}")))?;
    pool.scope(|s| {
        for _ in 0..jobs.max(1).min(units.max(1)) {
            s.spawn(|_| worker());
        }
    });
    if let Some(e) = error.into_inner().expect("no panics while holding it") {
        return Err(e);
    }
    Ok(done
        .into_iter()
        .filter_map(|d| d.into_inner().expect("no panics while holding it"))
        .collect())
}

/// A stable 64-bit FNV-1a hash of `text` as 16 hex digits: the same on
/// every machine and Rust version, unlike `std`'s hasher, so a plan saved
/// on one machine matches the same sweep run on another.
pub fn source_hash(text: &str) -> String {
    format!("{:016x}", crate::engine::rng::fnv1a(text.as_bytes()))
}

/// Options of [`sweep`], the one-call sweep of the library API.
#[derive(Debug, Clone)]
pub struct Options {
    /// Runs per point.
    pub replications: u32,
    /// Pair the parameters' lists instead of combining them.
    pub zip: bool,
    /// How the points share random numbers.
    pub seeding: Seeding,
    /// Runs at once (at least 1).
    pub jobs: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            replications: 1,
            zip: false,
            seeding: Seeding::Independent,
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// Why [`sweep`] failed.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The parameters do not make a grid (a `--zip` of unequal lists, the
    /// same path twice, too many points).
    #[error("{0}")]
    Params(String),
    /// A point of the grid is not a valid scenario.
    #[error("{0}")]
    Invalid(Box<InvalidPoint>),
    /// A run failed.
    #[error(transparent)]
    Exec(#[from] ExecError),
}

/// Sweeps `sc` (loaded with no `--set` overrides) over `params`: every
/// point of the grid validated, run `options.replications` times on
/// `options.jobs` threads, and reduced to means and 95% confidence
/// intervals, exactly as `microsim sweep` does (without files).
///
/// ```no_run
/// use microsim::sweep::{self, param::parse_arg};
/// let sc = microsim::scenario::load("scenarios/mm1.toml".as_ref(), &[]).unwrap();
/// let rates = parse_arg("workloads.requests.arrival.rate=40,60,80").unwrap();
/// let result = sweep::exec::sweep(&sc, vec![rates], &Default::default()).unwrap();
/// let p99 = result.plan.metrics.iter().position(|m| m.name == "requests.p99").unwrap();
/// for p in &result.points {
///     println!("{:?}", p.estimates[p99].mean);
/// }
/// ```
pub fn sweep(
    sc: &Scenario,
    params: Vec<Param>,
    options: &Options,
) -> Result<SweepResult, SweepError> {
    grid::check_distinct(&params).map_err(SweepError::Params)?;
    let points = grid::expand(&params, options.zip).map_err(SweepError::Params)?;
    let base = Base::new(sc, Vec::new());
    let checked = check_points(&base, &params, &points).map_err(SweepError::Invalid)?;
    let plan = Plan {
        scenario: sc.model.name.clone(),
        scenario_file: sc.file.clone(),
        source_hash: source_hash(&sc.source),
        overrides: Vec::new(),
        params,
        zip: options.zip,
        replications: options.replications.max(1),
        base_seed: sc.model.seed,
        seeding: options.seeding,
        metrics: checked.metrics,
    };
    let indices: Vec<usize> = (0..points.len()).collect();
    let stop = AtomicBool::new(false);
    let points = run_points(
        &base,
        &plan,
        &indices,
        options.jobs,
        &stop,
        &|_, _| {},
        &|_| Ok(()),
    )?;
    Ok(SweepResult {
        shown: plan.key_metrics(),
        plan,
        shard: None,
        points,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::param::parse_arg;

    const TOML: &str = r#"
        [simulation]
        duration = "5s"
        warmup = "1s"
        seed = 3
        [services.api]
        replicas = 1
        [services.api.endpoints.get]
        work = { dist = "exponential", mean = "5ms" }
        [[workloads]]
        name = "reads"
        target = "api.get"
        arrival = { process = "poisson", rate = 50 }
    "#;

    fn scenario() -> Scenario {
        crate::scenario::parse(TOML.into(), "t.toml".into(), "t", &[]).unwrap()
    }

    #[test]
    fn fnv_is_pinned() {
        // FNV-1a 64 test vectors.
        assert_eq!(source_hash(""), "cbf29ce484222325");
        assert_eq!(source_hash("a"), "af63dc4c8601ec8c");
    }

    #[test]
    fn results_do_not_depend_on_threads() {
        let sc = scenario();
        let p = vec![parse_arg("workloads.reads.arrival.rate=20,40,60").unwrap()];
        let opts = |jobs| Options {
            replications: 2,
            jobs,
            ..Options::default()
        };
        let a = sweep(&sc, p.clone(), &opts(1)).unwrap();
        let b = sweep(&sc, p, &opts(3)).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.points.len(), 3);
        assert_eq!(a.points[2].runs.len(), 2);
        let (i, _) = crate::metrics::catalog::find(&a.plan.metrics, "reads.requests").unwrap();
        // More arrivals at a higher rate.
        let req = |k: usize| a.points[k].estimates[i].mean.unwrap();
        assert!(req(0) < req(1) && req(1) < req(2));
    }

    #[test]
    fn an_invalid_point_is_named() {
        let sc = scenario();
        let p = vec![parse_arg("services.api.replicas=1,0").unwrap()];
        let e = sweep(&sc, p, &Options::default()).unwrap_err().to_string();
        assert!(
            e.starts_with("point 1 (services.api.replicas=0): t.toml"),
            "{e}"
        );
        assert!(!e.contains("--set"), "{e}");
    }

    #[test]
    fn a_stop_leaves_only_finished_points() {
        let sc = scenario();
        let params = vec![parse_arg("workloads.reads.arrival.rate=20,40").unwrap()];
        let base = Base::new(&sc, Vec::new());
        let r = sweep(&sc, params, &Options::default()).unwrap();
        let stop = AtomicBool::new(true);
        let none = run_points(&base, &r.plan, &[0, 1], 2, &stop, &|_, _| {}, &|_| Ok(())).unwrap();
        assert!(none.is_empty());
        let one = run_points(
            &base,
            &r.plan,
            &[1],
            2,
            &AtomicBool::new(false),
            &|_, _| {},
            &|_| Ok(()),
        )
        .unwrap();
        assert_eq!(one, vec![r.points[1].clone()]);
    }
}
