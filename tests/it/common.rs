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
