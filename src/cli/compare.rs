//! `microsim compare`: run several variants of a system with common random
//! numbers and report them side by side.
//!
//! The variants are either several scenario files (`compare A.toml
//! B.toml`), named by their file stems, or one scenario as it is (named
//! `baseline`, always first) and named sets of overrides
//! (`--variant NAME:PATH=VALUE[,PATH=VALUE...]`). Every variant is loaded
//! and validated before anything runs, so a bad override fails at once
//! (exit 2) naming its variant. All run with the same seed: the random
//! streams are named per workload, service, endpoint and fault, so a
//! variant draws the same arrivals and work times as the others and the
//! differences come from the change, not from sampling noise.

use super::progress::Progress;
use super::{capacity_report, ChartArgs, CliError};
use crate::metrics::RunResult;
use crate::report::compare::{self as report, VariantResult};
use crate::report::saved::{RunMeta, SavedCompare, SavedRun};
use crate::report::{output, table};
use crate::scenario::{self, Override, Scenario};
use crate::simulation;
use clap::Args;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The name of the unchanged scenario when variants are given.
pub const BASELINE: &str = "baseline";

/// Arguments of `compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The scenario files: one with `--variant`s, or two or more to
    /// compare with each other.
    #[arg(required = true, value_name = "SCENARIO")]
    pub scenarios: Vec<PathBuf>,
    /// A variant of the (single) scenario: `NAME:PATH=VALUE[,PATH=VALUE...]`,
    /// e.g. `payment-x4:services.payment.replicas=4`. Commas inside
    /// quotes, `{}` or `[]` do not split; repeat the same NAME to add
    /// more overrides to it (for values with bare commas). Repeatable.
    #[arg(long = "variant", value_name = "NAME:PATH=VALUE")]
    pub variants: Vec<String>,
    /// Override a value in every variant, before the variant's own
    /// overrides (see `run --set`). Repeatable.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// The seed every variant runs with (default: the first scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Variants simulated at once (default: one per core). The output
    /// does not depend on it.
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Print the comparison as JSON on stdout instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Write compare.json, compare.csv and each variant's run outputs
    /// (under `DIR/<variant>/`) into this directory.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print nothing on stderr but errors and warnings.
    #[arg(long, short)]
    pub quiet: bool,
    /// Which charts to draw with `--out`.
    #[command(flatten)]
    pub charts: ChartArgs,
    /// Thresholds the results must meet.
    #[command(flatten)]
    pub asserts: super::AssertArgs,
}

/// One `--variant`: a name and its overrides, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantSpec {
    /// The variant's name.
    pub name: String,
    /// Its `PATH=VALUE` overrides.
    pub overrides: Vec<String>,
}

/// Whether `name` can name a variant: it becomes a column header and a
/// directory under `--out`, so letters, digits, `-` and `_` only.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Parses the `--variant` arguments into variants in order of first
/// appearance, merging repeated names (their overrides in argument order).
pub fn parse_variants(args: &[String]) -> Result<Vec<VariantSpec>, String> {
    let mut specs: Vec<VariantSpec> = Vec::new();
    for arg in args {
        let Some((name, rest)) = arg.split_once(':') else {
            return Err(format!(
                "--variant {arg}: expected NAME:PATH=VALUE[,PATH=VALUE...] (e.g. payment-x4:services.payment.replicas=4)"
            ));
        };
        let name = name.trim();
        if !valid_name(name) {
            return Err(format!(
                "--variant {arg}: the name `{name}` must be letters, digits, `-` or `_` (it names a column and a directory under --out)"
            ));
        }
        if name == BASELINE {
            return Err(format!(
                "--variant {arg}: duplicate variant name `{BASELINE}`: it names the scenario as it is, the first column"
            ));
        }
        let mut overrides = Vec::new();
        for part in crate::scenario::overrides::split_top_level(rest) {
            let part = part.trim();
            // Each override must parse on its own; the message names the
            // variant and the part at fault.
            Override::parse(part).map_err(|e| format!("--variant {arg}: `{part}`: {e}"))?;
            overrides.push(part.to_string());
        }
        match specs.iter_mut().find(|s| s.name == name) {
            Some(s) => s.overrides.extend(overrides),
            None => specs.push(VariantSpec {
                name: name.to_string(),
                overrides,
            }),
        }
    }
    Ok(specs)
}

/// A variant ready to run.
struct Loaded {
    name: String,
    overrides: Vec<String>,
    scenario: Scenario,
}

/// File stems as variant names: characters a name may not have become
/// `_`, and a name already taken gets `-2`, `-3`, ... in argument order.
fn file_names(files: &[PathBuf]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for f in files {
        let stem = f.file_stem().map_or_else(
            || "scenario".to_string(),
            |s| s.to_string_lossy().into_owned(),
        );
        let mut base: String = stem
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if base.is_empty() {
            base = "scenario".into();
        }
        let mut name = base.clone();
        let mut n = 2;
        while names.contains(&name) {
            name = format!("{base}-{n}");
            n += 1;
        }
        names.push(name);
    }
    names
}

/// The message of a variant's load error: a failure of the variant's own
/// override names it as `--variant NAME:PATH=VALUE`.
fn variant_error(name: &str, own: &[String], e: &scenario::ScenarioError) -> String {
    match &e.set_arg {
        Some(arg) if own.contains(arg) => {
            let field = match &e.field {
                Some(f) if !f.is_empty() => format!("`{f}`: "),
                _ => String::new(),
            };
            format!(
                "variant `{name}`: {}: in --variant {name}:{arg}: {field}{}",
                e.file, e.message
            )
        }
        _ => format!("variant `{name}`: {e}"),
    }
}

/// Loads `file` with the common `--set`s followed by the variant's own.
fn load(
    file: &Path,
    common: &[Override],
    own: &[String],
) -> Result<Scenario, scenario::ScenarioError> {
    let mut overrides = common.to_vec();
    for o in own {
        overrides.push(Override::parse(o).expect("checked by parse_variants"));
    }
    scenario::load(file, &overrides)
}

/// Loads and validates every variant, and settles their common seed.
fn load_all(args: &CompareArgs) -> Result<Vec<Loaded>, CliError> {
    let input = CliError::Input;
    let specs = parse_variants(&args.variants).map_err(input)?;
    let mut common = Vec::with_capacity(args.set.len());
    for s in &args.set {
        common.push(Override::parse(s).map_err(|e| CliError::Input(format!("in --set {s}: {e}")))?);
    }
    let mut loaded = Vec::new();
    match args.scenarios.as_slice() {
        [] => unreachable!("clap requires a scenario"),
        [file] => {
            if specs.is_empty() {
                return Err(CliError::Input(format!(
                    "{}: nothing to compare: give a second scenario file or --variant NAME:PATH=VALUE",
                    file.display()
                )));
            }
            let base = load(file, &common, &[]).map_err(|e| CliError::Input(e.to_string()))?;
            loaded.push(Loaded {
                name: BASELINE.into(),
                overrides: Vec::new(),
                scenario: base,
            });
            for spec in specs {
                let sc = load(file, &common, &spec.overrides)
                    .map_err(|e| CliError::Input(variant_error(&spec.name, &spec.overrides, &e)))?;
                loaded.push(Loaded {
                    name: spec.name,
                    overrides: spec.overrides,
                    scenario: sc,
                });
            }
        }
        files => {
            if !specs.is_empty() {
                return Err(CliError::Input(
                    "--variant applies to a single scenario file; with several files each one is a variant".into(),
                ));
            }
            for (file, name) in files.iter().zip(file_names(files)) {
                let sc = load(file, &common, &[]).map_err(|e| CliError::Input(e.to_string()))?;
                loaded.push(Loaded {
                    name,
                    overrides: Vec::new(),
                    scenario: sc,
                });
            }
        }
    }
    // Common random numbers: one seed for all. A variant that sets
    // `simulation.seed` itself keeps its own, on purpose (to see the noise).
    let seed = args.seed.unwrap_or(loaded[0].scenario.model.seed);
    for v in &mut loaded {
        let own_seed = v
            .overrides
            .iter()
            .any(|o| Override::parse(o).is_ok_and(|o| o.keys == ["simulation", "seed"]));
        if own_seed && args.seed.is_none() {
            eprintln!(
                "note: variant `{}` runs with its own seed {} (its --variant sets simulation.seed): its differences include sampling noise",
                v.name, v.scenario.model.seed
            );
            continue;
        }
        if v.scenario.model.seed != seed && args.seed.is_none() {
            eprintln!(
                "note: {} (variant `{}`) has seed {}: running it with the first scenario's seed {seed} (common random numbers; --seed chooses another)",
                v.scenario.file, v.name, v.scenario.model.seed
            );
        }
        v.scenario.model.seed = seed;
    }
    Ok(loaded)
}

/// Runs the comparison and writes the requested outputs.
pub fn compare(args: &CompareArgs) -> Result<(), CliError> {
    if args.jobs == Some(0) {
        return Err(CliError::Input("-j/--jobs must be at least 1".into()));
    }
    if let Some(dir) = &args.out {
        super::check_writable_dir("--out", dir)?;
    }
    let charts = args.charts.formats()?;
    args.charts.need_out(args.out.as_deref())?;
    let loaded = load_all(args)?;
    // Thresholds, checked before running against the metrics of every
    // variant (a name no variant reports is refused; one only some report
    // fails where it is missing). Each variant has its own scenario's
    // `[[assert]]` tables (the same ones when variants are overrides).
    let defs = crate::sweep::point::union_metrics(loaded.iter().map(|v| &v.scenario.model));
    let checks = loaded
        .iter()
        .map(|v| {
            args.asserts
                .checks(&v.scenario, &defs, crate::assertion::Runs::Single)
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Each variant's warnings, printed now and saved with its run.
    let mut variant_warnings = Vec::with_capacity(loaded.len());
    for v in &loaded {
        let (rows, warnings) = capacity_report(&v.scenario);
        if !args.quiet {
            for n in &v.scenario.notes {
                eprintln!("variant `{}`: {n}", v.name);
            }
            eprintln!("variant `{}`: capacity:", v.name);
            eprintln!("{}", table::capacity_table(&rows));
        }
        for w in &warnings {
            eprintln!("variant `{}`: {w}", v.name);
        }
        variant_warnings.push(warnings);
    }

    let (pool, _) = super::thread_pool(args.jobs)?;
    let started = Instant::now();
    // Collected in variant order whatever finishes first, so the output is
    // the same for any number of threads.
    let progress = Progress::new(
        loaded.iter().map(|v| v.scenario.model.duration).sum(),
        loaded.len(),
        args.quiet,
    );
    let results: Vec<Result<RunResult, CliError>> = pool.install(|| {
        loaded
            .par_iter()
            .map(|v| {
                simulation::run_with_progress(&v.scenario.model, &mut progress.tracker()).map_err(
                    |e| CliError::Failed(format!("variant `{}`: {}: {e}", v.name, v.scenario.file)),
                )
            })
            .collect()
    });
    progress.finish();
    let results: Vec<RunResult> = results.into_iter().collect::<Result<_, _>>()?;
    if !args.quiet {
        let events: u64 = results.iter().map(|r| r.summary.events).sum();
        eprintln!(
            "simulated {} variants in {:.3}s wall on {} threads: {events} events",
            results.len(),
            started.elapsed().as_secs_f64(),
            pool.current_num_threads()
        );
    }

    let comparison = report::compare(
        loaded
            .iter()
            .zip(&results)
            .map(|(v, r)| VariantResult {
                name: v.name.clone(),
                file: v.scenario.file.clone(),
                overrides: v.overrides.clone(),
                seed: v.scenario.model.seed,
                summary: r.summary.clone(),
            })
            .collect(),
    );
    for w in report::currency_warnings(&comparison) {
        eprintln!("{w}");
    }
    let json = report::comparison_json(&comparison);
    let outcomes: Vec<_> = loaded
        .iter()
        .zip(&checks)
        .zip(&results)
        .flat_map(|((v, c), r)| c.run(Some(&v.name), &r.summary))
        .collect();

    if let Some(dir) = &args.out {
        let fail =
            |e: &dyn std::fmt::Display| CliError::Failed(format!("writing {}: {e}", dir.display()));
        let variants = loaded
            .iter()
            .zip(results)
            .zip(variant_warnings)
            .map(|((v, result), warnings)| SavedRun {
                meta: RunMeta {
                    scenario_file: v.scenario.file.clone(),
                    overrides: args.set.iter().chain(&v.overrides).cloned().collect(),
                    variant: Some(v.name.clone()),
                    notes: v.scenario.notes.clone(),
                    warnings,
                    window_seconds: result.timeseries.window_seconds,
                },
                source: v.scenario.source.clone(),
                result,
            })
            .collect();
        let saved = SavedCompare {
            comparison: comparison.clone(),
            variants,
        };
        let files = output::compare_files(&saved, charts).map_err(|e| fail(&e))?;
        output::write_tree(dir, &files)
            .and_then(|()| output::remove_stale(dir, &files, true))
            .map_err(|e| fail(&e))?;
        if !args.quiet {
            eprintln!(
                "wrote compare.json, compare.csv, {}report.html and {} run outputs to {}",
                if charts.is_some() { "charts/, " } else { "" },
                loaded
                    .iter()
                    .map(|v| format!("{}/", v.name))
                    .collect::<Vec<_>>()
                    .join(", "),
                dir.display()
            );
        }
    }
    if args.json {
        super::print_stdout(&json)?;
    } else {
        super::print_stdout(&report::comparison_tables(&comparison))?;
    }
    // Last, once every output is written: a failed threshold exits 1.
    let name = &loaded[0].scenario.model.name;
    args.asserts
        .conclude(&outcomes, &format!("microsim compare {name}"), name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn variants_split_at_top_level_commas_and_merge_repeated_names() {
        let specs = parse_variants(&strings(&[
            "x4:services.payment.replicas=4,services.payment.concurrency=2",
            "slow:services.payment.endpoints.charge.work={ dist = \"constant\", value = \"1ms\" }",
            "x4:name=\"a,b\"",
        ]))
        .unwrap();
        assert_eq!(
            specs,
            vec![
                VariantSpec {
                    name: "x4".into(),
                    overrides: strings(&[
                        "services.payment.replicas=4",
                        "services.payment.concurrency=2",
                        "name=\"a,b\""
                    ]),
                },
                VariantSpec {
                    name: "slow".into(),
                    overrides: strings(&[
                        "services.payment.endpoints.charge.work={ dist = \"constant\", value = \"1ms\" }"
                    ]),
                },
            ]
        );
    }

    #[test]
    fn bad_variants_are_refused_with_the_argument_named() {
        for (arg, words) in [
            ("x4", "expected NAME:PATH=VALUE"),
            (":a=1", "the name ``"),
            ("a/b:a=1", "the name `a/b`"),
            ("baseline:a=1", "duplicate variant name `baseline`"),
            ("x:services.payment.replicas", "is not PATH=VALUE"),
            ("x:a=1,,b=2", "`` is not PATH=VALUE"),
        ] {
            let e = parse_variants(&strings(&[arg])).unwrap_err();
            assert!(e.contains(arg) && e.contains(words), "{arg}: {e}");
        }
    }

    #[test]
    fn file_stems_name_variants_uniquely() {
        let files: Vec<PathBuf> = [
            "a/checkout.toml",
            "b/checkout.toml",
            "x.v2.toml",
            "checkout.toml",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        assert_eq!(
            file_names(&files),
            strings(&["checkout", "checkout-2", "x_v2", "checkout-3"])
        );
    }
}
