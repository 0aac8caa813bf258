//! `microsim merge`: combine the shards of a sweep.

use super::{AssertArgs, ChartArgs, CliError};
use crate::sweep::store::{self, Saved, Stored};
use crate::sweep::{grid, SweepResult};
use clap::Args;
use std::path::PathBuf;

/// Arguments of `merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards' output directories (`sweep --shard K/N --out DIR`).
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Where to write the merged sweep.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Print nothing on stderr but errors and warnings.
    #[arg(long, short)]
    pub quiet: bool,
    /// Which charts to draw.
    #[command(flatten)]
    pub charts: ChartArgs,
    /// Thresholds judged at every point of the merged sweep, as `sweep
    /// --assert` judges them, for one report over all shards (the
    /// scenario's `[[assert]]` tables are judged by each shard's run).
    #[command(flatten)]
    pub asserts: AssertArgs,
}

/// Merges the shards: every directory must hold a finished shard of the
/// same sweep (same plan, same shown metrics, the same number of
/// shards), and together they must hold every point exactly once. The
/// output is what the unsharded sweep writes, byte for byte.
pub fn merge(args: &MergeArgs) -> Result<(), CliError> {
    let input = CliError::Input;
    let charts = args.charts.formats()?;
    let mut shards: Vec<(&PathBuf, Saved, SweepResult)> = Vec::new();
    for dir in &args.dirs {
        let d = dir.display();
        let saved = store::read(dir, false)
            .map_err(input)?
            .ok_or_else(|| {
                input(format!(
                    "{d}: not a sweep's output directory (no points/plan.json): give the --out DIR of each `microsim sweep --shard K/N`"
                ))
            })?;
        let json = dir.join("sweep.json");
        let finished: SweepResult = std::fs::read(&json)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| {
                input(format!(
                    "{d}: the shard did not finish (no readable sweep.json): run its `microsim sweep ... --out {d}` again with --resume"
                ))
            })?;
        shards.push((dir, saved, finished));
    }
    let (first_dir, first, first_result) = &shards[0];
    let plan = first.stored.plan.clone();
    let n = first.stored.shard.map_or(1, |(_, n)| n);
    for (dir, saved, result) in &shards[1..] {
        let same = Stored {
            plan: saved.stored.plan.clone(),
            shard: first.stored.shard,
        };
        let whole = Stored {
            plan: plan.clone(),
            shard: first.stored.shard,
        };
        if let Some(why) = store::difference(&same, &whole) {
            return Err(input(format!(
                "{} is not a shard of the same sweep as {}: {why}",
                dir.display(),
                first_dir.display()
            )));
        }
        let this_n = saved.stored.shard.map_or(1, |(_, n)| n);
        if this_n != n {
            return Err(input(format!(
                "{} is {} but {} is {}: shards of different splits do not merge",
                dir.display(),
                shard_name(saved.stored.shard),
                first_dir.display(),
                shard_name(first.stored.shard)
            )));
        }
        if result.shown != first_result.shown {
            return Err(input(format!(
                "{} shows the metrics {} but {} shows {}: run the shards with the same --metrics",
                dir.display(),
                result.shown.join(","),
                first_dir.display(),
                first_result.shown.join(",")
            )));
        }
    }
    let checks = args.asserts.checks_without_scenario(
        &plan.metrics,
        crate::assertion::Runs::Replications(plan.replications),
    )?;
    let total = grid::expand(&plan.params, plan.zip).map_err(input)?.len();
    let mut owner: Vec<Option<usize>> = vec![None; total];
    let mut points = Vec::with_capacity(total);
    for (s, (dir, saved, _)) in shards.iter().enumerate() {
        for p in &saved.points {
            if let Some(o) = owner[p.index] {
                return Err(input(format!(
                    "point {} is in both {} ({}) and {} ({}): give each shard once",
                    p.index,
                    shards[o].0.display(),
                    shard_name(shards[o].1.stored.shard),
                    dir.display(),
                    shard_name(saved.stored.shard)
                )));
            }
            owner[p.index] = Some(s);
            points.push(p.clone());
        }
    }
    let missing: Vec<usize> = (0..total).filter(|&i| owner[i].is_none()).collect();
    if !missing.is_empty() {
        // Per shard, the points it should have brought.
        let mut by_shard: Vec<(u32, Vec<usize>)> = Vec::new();
        for &i in &missing {
            let k = (i % n as usize) as u32 + 1;
            match by_shard.iter_mut().find(|(s, _)| *s == k) {
                Some((_, v)) => v.push(i),
                None => by_shard.push((k, vec![i])),
            }
        }
        by_shard.sort_by_key(|(k, _)| *k);
        let list = by_shard
            .iter()
            .map(|(k, pts)| {
                let given = shards
                    .iter()
                    .find(|(_, s, _)| s.stored.shard.map_or(1, |(k, _)| k) == *k);
                let why = match given {
                    Some((dir, _, _)) => format!("{} is incomplete", dir.display()),
                    None => "not given".to_string(),
                };
                let shown: Vec<String> = pts.iter().take(10).map(ToString::to_string).collect();
                let more = if pts.len() > 10 {
                    format!(" and {} more", pts.len() - 10)
                } else {
                    String::new()
                };
                format!("shard {k}/{n} ({why}): points {}{more}", shown.join(", "))
            })
            .collect::<Vec<_>>()
            .join("; ");
        return Err(input(format!(
            "the shards do not cover the sweep: {} of {total} points missing: {list}",
            missing.len()
        )));
    }
    points.sort_by_key(|p| p.index);
    let result = SweepResult {
        shown: first_result.shown.clone(),
        plan,
        shard: None,
        points,
    };
    super::check_writable_dir("--out", &args.out)?;
    store::start(
        &args.out,
        &Stored {
            plan: result.plan.clone(),
            shard: None,
        },
    )
    .map_err(|e| CliError::Failed(format!("writing {}: {e}", args.out.display())))?;
    super::sweep::write(&args.out, &result, charts, args.quiet)?;
    if !args.quiet {
        eprintln!(
            "merged {} shards: {} points of {}",
            shards.len(),
            result.points.len(),
            result.plan.scenario
        );
    }
    super::sweep::conclude(&args.asserts, &checks, &result)
}

fn shard_name(shard: Option<(u32, u32)>) -> String {
    shard.map_or_else(|| "a whole sweep".into(), |(k, n)| format!("shard {k}/{n}"))
}
