//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Path of a bundled scenario, e.g. `scenario("checkout.toml")`.
pub fn scenario(name: &str) -> PathBuf {
    root().join("scenarios").join(name)
}

/// Runs the `microsim` binary with `args` in `dir`.
pub fn microsim(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_microsim"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the microsim binary runs")
}

/// stdout and stderr of an output, as text.
pub fn texts(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Loads scenario text into a model (no overrides), panicking with the
/// error message if it is invalid.
pub fn model(toml: &str) -> microsim::model::Model {
    microsim::scenario::from_str(toml, "test.toml", "test", &[])
        .unwrap_or_else(|e| panic!("scenario should be valid: {e}"))
}

/// Parses `--set`-style overrides.
pub fn overrides(sets: &[&str]) -> Vec<microsim::scenario::Override> {
    sets.iter()
        .map(|s| microsim::scenario::Override::parse(s).unwrap())
        .collect()
}

/// Loads a bundled scenario (`scenarios/NAME`) with overrides `sets`.
pub fn bundled_model(name: &str, sets: &[&str]) -> microsim::model::Model {
    microsim::scenario::load(&scenario(name), &overrides(sets))
        .unwrap_or_else(|e| panic!("{name} {sets:?}: {e}"))
        .model
}

/// Runs a bundled scenario with overrides `sets`.
pub fn run_bundled(name: &str, sets: &[&str]) -> microsim::metrics::RunResult {
    microsim::simulation::run(&bundled_model(name, sets))
        .unwrap_or_else(|e| panic!("{name} {sets:?}: {e}"))
}

/// Loads scenario text with overrides `sets`.
pub fn model_with(toml: &str, sets: &[&str]) -> microsim::model::Model {
    microsim::scenario::from_str(toml, "test.toml", "test", &overrides(sets))
        .unwrap_or_else(|e| panic!("scenario should be valid: {e}"))
}

/// Runs scenario text with overrides `sets`.
pub fn run_with(toml: &str, sets: &[&str]) -> microsim::metrics::RunResult {
    microsim::simulation::run(&model_with(toml, sets)).unwrap_or_else(|e| panic!("run: {e}"))
}

/// Every file under `dir`, recursively, by path relative to `dir` (with
/// `/` separators), in name order.
pub fn tree(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut std::collections::BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p
                    .strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// A bundled scenario run with overrides `sets`, as `run --out` saves it.
pub fn saved_bundled(name: &str, sets: &[&str]) -> microsim::report::saved::SavedRun {
    let sc = microsim::scenario::load(&scenario(name), &overrides(sets))
        .unwrap_or_else(|e| panic!("{name} {sets:?}: {e}"));
    let result = microsim::simulation::run(&sc.model).unwrap_or_else(|e| panic!("{name}: {e}"));
    microsim::report::saved::SavedRun {
        meta: microsim::report::saved::RunMeta {
            scenario_file: sc.file.clone(),
            overrides: sets.iter().map(|s| s.to_string()).collect(),
            variant: None,
            notes: sc.notes.clone(),
            warnings: sc.warnings.clone(),
            window_seconds: result.timeseries.window_seconds,
        },
        source: sc.source,
        result,
    }
}

/// Writes a scenario text into `dir` under `name` and returns its path as
/// the command line takes it.
pub fn write_scenario(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}
