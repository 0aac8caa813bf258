//! A sweep's output directory as the record of its progress: `points/`
//! holds the plan (`points/plan.json`) and one file per finished point
//! (`points/000003.json`), each written atomically as the point finishes.
//! An interrupted sweep resumes from them (`--resume`), and `merge` reads
//! the shards' points back from them.

use super::grid;
use super::result::{Plan, PointResult};
use crate::report::output;
use std::fs;
use std::path::Path;

/// The subdirectory holding the plan and the finished points.
pub const POINTS: &str = "points";

/// What `points/plan.json` records: the plan and the shard. A resumed
/// sweep or a merged shard must match it exactly.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Stored {
    /// The sweep's plan.
    pub plan: Plan,
    /// The shard `(k, n)` the directory holds, or `None` for all points.
    pub shard: Option<(u32, u32)>,
}

/// The relative path of the plan file.
pub fn plan_path() -> String {
    format!("{POINTS}/plan.json")
}

/// The relative path of point `index`'s file: zero-padded to the width
/// of the largest index (at least 4 digits), so files list in grid order.
pub fn point_path(plan: &Plan, index: usize) -> String {
    // The grid's size without expanding it (this runs once per point).
    let total = if plan.zip {
        plan.params.first().map_or(1, |p| p.values.len())
    } else {
        plan.params
            .iter()
            .fold(1usize, |n, p| n.saturating_mul(p.values.len()))
    };
    let width = (total.saturating_sub(1)).to_string().len().max(4);
    format!("{POINTS}/{index:0width$}.json")
}

/// JSON text of a value, pretty-printed with a final newline.
pub fn json<T: serde::Serialize>(v: &T) -> Vec<u8> {
    let mut s = serde_json::to_string_pretty(v).expect("plain data serializes");
    s.push('\n');
    s.into_bytes()
}

/// The indices of the points of shard `(k, n)` (every point with
/// `index % n == k - 1`), or of all points.
pub fn shard_indices(total: usize, shard: Option<(u32, u32)>) -> Vec<usize> {
    match shard {
        Some((k, n)) => (0..total)
            .filter(|i| i % n as usize == (k - 1) as usize)
            .collect(),
        None => (0..total).collect(),
    }
}

/// Parses `K/N` (`--shard`).
pub fn parse_shard(arg: &str) -> Result<(u32, u32), String> {
    let bad = || {
        format!("--shard {arg}: expected K/N with 1 <= K <= N, e.g. --shard 2/4 (the second of four shards)")
    };
    let (k, n) = arg.split_once('/').ok_or_else(bad)?;
    let k: u32 = k.trim().parse().map_err(|_| bad())?;
    let n: u32 = n.trim().parse().map_err(|_| bad())?;
    if k == 0 || n == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

/// The files of a finished sweep: an earlier sweep's are removed when a
/// new one starts in the same directory, so that an interrupted sweep is
/// never taken for a finished one (`merge` requires `sweep.json`).
pub const FINISHED: [&str; 3] = ["sweep.json", "sweep.csv", "sweep_summary.csv"];

/// Starts a fresh sweep in `dir`: writes the plan and removes the point
/// files and results an earlier sweep left there (they belong to another
/// plan).
pub fn start(dir: &Path, stored: &Stored) -> std::io::Result<()> {
    for name in FINISHED {
        let path = dir.join(name);
        if path.is_file() {
            fs::remove_file(path)?;
        }
    }
    let points = dir.join(POINTS);
    if points.is_dir() {
        for e in fs::read_dir(&points)? {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            if is_point_file(&name) || is_temp(&name) {
                fs::remove_file(e.path())?;
            }
        }
    }
    output::write_tree(dir, &[(plan_path(), json(stored))])
}

/// Saves a finished point (atomically: a temporary file renamed).
pub fn save_point(dir: &Path, plan: &Plan, p: &PointResult) -> std::io::Result<()> {
    output::write_tree(dir, &[(point_path(plan, p.index), json(p))])
}

fn is_point_file(name: &str) -> bool {
    name.strip_suffix(".json")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// A temporary file of an interrupted atomic write (`.NAME.tmp-PID`).
fn is_temp(name: &str) -> bool {
    name.starts_with('.') && name.contains(".tmp-")
}

/// What a directory holds: its plan and finished points.
#[derive(Debug, Clone)]
pub struct Saved {
    /// The plan and shard of `points/plan.json`.
    pub stored: Stored,
    /// The finished points, by index.
    pub points: Vec<PointResult>,
}

/// Reads the plan and the finished points of `dir`, or `None` when it
/// holds no sweep (no `points/plan.json`). Stray temporary files of an
/// interrupted write are removed when `clean` (they are never read).
/// Every point file is checked against the plan: a point of another
/// shard, of the wrong shape or under the wrong name is an error.
pub fn read(dir: &Path, clean: bool) -> Result<Option<Saved>, String> {
    let plan_file = dir.join(plan_path());
    if !plan_file.is_file() {
        return Ok(None);
    }
    let show = |p: &Path| p.display().to_string();
    let text = fs::read(&plan_file).map_err(|e| format!("{}: {e}", show(&plan_file)))?;
    let stored: Stored = serde_json::from_slice(&text).map_err(|e| {
        format!(
            "{}: not the plan of a sweep written by this microsim: {e}",
            show(&plan_file)
        )
    })?;
    let grid = grid::expand(&stored.plan.params, stored.plan.zip)
        .map_err(|e| format!("{}: {e}", show(&plan_file)))?;
    let mine = shard_indices(grid.len(), stored.shard);
    let mut names: Vec<String> = Vec::new();
    for e in fs::read_dir(dir.join(POINTS)).map_err(|e| format!("{}: {e}", show(dir)))? {
        let e = e.map_err(|e| format!("{}: {e}", show(dir)))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if is_temp(&name) {
            if clean {
                let _ = fs::remove_file(e.path());
            }
        } else if is_point_file(&name) {
            names.push(name);
        }
    }
    names.sort();
    let mut points = Vec::with_capacity(names.len());
    for name in names {
        let path = dir.join(POINTS).join(&name);
        let bytes = fs::read(&path).map_err(|e| format!("{}: {e}", show(&path)))?;
        let p: PointResult = serde_json::from_slice(&bytes)
            .map_err(|e| format!("{}: not a point of a sweep: {e}", show(&path)))?;
        let fits = mine.binary_search(&p.index).is_ok()
            && grid[p.index] == p.values
            && p.runs.len() == stored.plan.replications as usize
            && p.runs
                .iter()
                .all(|r| r.values.len() == stored.plan.metrics.len())
            && p.estimates.len() == stored.plan.metrics.len()
            && format!("{POINTS}/{name}") == point_path(&stored.plan, p.index);
        if !fits {
            return Err(format!(
                "{}: does not belong to the sweep of {} (another point, shard or plan); remove it or use another directory",
                show(&path),
                show(&plan_file)
            ));
        }
        points.push(p);
    }
    points.sort_by_key(|p| p.index);
    Ok(Some(Saved { stored, points }))
}

/// Why `saved` is not the sweep `want`: the first difference, in words,
/// or `None` when they are the same sweep.
pub fn difference(saved: &Stored, want: &Stored) -> Option<String> {
    let (a, b) = (&saved.plan, &want.plan);
    let what = if a.source_hash != b.source_hash || a.scenario_file != b.scenario_file {
        format!(
            "the scenario differs (saved: {} with hash {}, now: {} with hash {})",
            a.scenario_file, a.source_hash, b.scenario_file, b.source_hash
        )
    } else if a.overrides != b.overrides {
        format!(
            "the --set overrides differ (saved: {:?}, now: {:?})",
            a.overrides, b.overrides
        )
    } else if a.params != b.params {
        let show = |p: &Plan| {
            p.params
                .iter()
                .map(|p| {
                    let v: Vec<&str> = p.values.iter().map(|v| v.text.as_str()).collect();
                    format!("{}={}", p.path, v.join(","))
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        format!(
            "the parameters differ (saved: {}, now: {})",
            show(a),
            show(b)
        )
    } else if a.zip != b.zip {
        format!("--zip differs (saved: {}, now: {})", a.zip, b.zip)
    } else if a.replications != b.replications {
        format!(
            "the replications differ (saved: {}, now: {})",
            a.replications, b.replications
        )
    } else if a.base_seed != b.base_seed {
        format!(
            "the seed differs (saved: {}, now: {})",
            a.base_seed, b.base_seed
        )
    } else if a.seeding != b.seeding {
        "--common-seeds differs".to_string()
    } else if saved.shard != want.shard {
        let show = |s: Option<(u32, u32)>| s.map_or("none".into(), |(k, n)| format!("{k}/{n}"));
        format!(
            "the shard differs (saved: {}, now: {})",
            show(saved.shard),
            show(want.shard)
        )
    } else if a != b {
        "the scenario's metrics differ (another microsim version?)".to_string()
    } else {
        return None;
    };
    Some(what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_points() {
        assert_eq!(parse_shard("2/4"), Ok((2, 4)));
        for bad in ["0/4", "5/4", "1", "a/b", "1/0", "-1/2"] {
            assert!(
                parse_shard(bad).unwrap_err().contains("1 <= K <= N"),
                "{bad}"
            );
        }
        let all: Vec<usize> = (1..=3)
            .flat_map(|k| shard_indices(10, Some((k, 3))))
            .collect();
        let mut sorted = all.clone();
        sorted.sort();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
        assert_eq!(shard_indices(10, Some((2, 3))), vec![1, 4, 7]);
        assert!(is_point_file("0003.json") && !is_point_file("plan.json"));
        assert!(is_temp(".0003.json.tmp-77") && !is_temp("0003.json"));
    }
}
