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
