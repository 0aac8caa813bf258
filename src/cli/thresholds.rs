//! The command-line side of thresholds (`--assert`, `--junit`, the
//! scenario's `[[assert]]`), shared by `run`, `compare` and `sweep`:
//! [`AssertArgs::checks`] before anything runs (exit 2 on bad input) and
//! [`AssertArgs::conclude`] once every output is written (exit 1 when an
//! assertion failed). See [`crate::assertion`] for the steps between.

use super::{AssertArgs, CliError};
use crate::assertion::{self, Checks, Outcome, Runs};
use crate::metrics::catalog::MetricDef;
use crate::scenario::Scenario;

impl AssertArgs {
    /// The assertions of `sc`'s `[[assert]]` tables and `--assert`, parsed
    /// against the metrics the runs report (`defs`) for runs of `runs`.
    /// Refuses, before anything runs, a bad expression, an unknown metric,
    /// a `.ci_*` bound without replications, `--junit` without any
    /// assertion, and a `--junit` path that is a directory or lies under
    /// a file.
    pub fn checks(
        &self,
        sc: &Scenario,
        defs: &[MetricDef],
        runs: Runs,
    ) -> Result<Checks, CliError> {
        let checks = Checks::new(sc, &self.asserts, defs, runs).map_err(CliError::Input)?;
        self.check_junit(&checks)?;
        Ok(checks)
    }

    /// The `--assert` expressions alone, for `merge`, which has a sweep's
    /// results but not its scenario (each shard judged the `[[assert]]`
    /// tables); refused as [`AssertArgs::checks`] refuses.
    pub fn checks_without_scenario(
        &self,
        defs: &[MetricDef],
        runs: Runs,
    ) -> Result<Checks, CliError> {
        let checks = Checks::from_args(&self.asserts, defs, runs).map_err(CliError::Input)?;
        self.check_junit(&checks)?;
        Ok(checks)
    }

    /// Refuses `--junit` without assertions, or at a path no file can be
    /// written to.
    fn check_junit(&self, checks: &Checks) -> Result<(), CliError> {
        if let Some(path) = &self.junit {
            if checks.is_empty() {
                return Err(CliError::Input(format!(
                    "--junit {}: there are no assertions to report: add --assert EXPR (e.g. --assert 'checkout.p99 < 250ms') or [[assert]] tables to the scenario",
                    path.display()
                )));
            }
            if path.is_dir() {
                return Err(CliError::Input(format!(
                    "--junit {}: is a directory; give a file name such as junit.xml",
                    path.display()
                )));
            }
            // `--junit results.json/junit.xml`, or `/dev/stdout`: refuse
            // now, not with an I/O error after every run is done.
            super::check_parents("--junit", path)?;
            crate::report::output::regular_target(path)
                .map_err(|why| CliError::Input(format!("--junit {}: {why}", path.display())))?;
        }
        Ok(())
    }

    /// Prints the outcomes on stderr, writes `--junit` (suite `suite`,
    /// e.g. `microsim run checkout`; outcomes without a subject get the
    /// class `class`, the scenario's name) and fails with exit status 1
    /// when any assertion failed. Does nothing without assertions. Call it
    /// last, once every other output is written, so CI keeps them.
    pub fn conclude(&self, outcomes: &[Outcome], suite: &str, class: &str) -> Result<(), CliError> {
        if outcomes.is_empty() && self.junit.is_none() {
            return Ok(());
        }
        let tally = assertion::conclude(outcomes, suite, class, self.junit.as_deref())
            .map_err(CliError::Failed)?;
        if tally.failed > 0 {
            return Err(CliError::Failed(format!(
                "{} of {} assertions failed",
                tally.failed,
                tally.failed + tally.passed
            )));
        }
        Ok(())
    }
}
