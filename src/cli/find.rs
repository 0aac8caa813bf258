//! `microsim sweep --find`: capacity search by bisection.

use super::sweep::SweepArgs;
use super::CliError;

/// Runs the search.
pub fn find(args: &SweepArgs) -> Result<(), CliError> {
    Err(CliError::Input(format!(
        "{}: --find is being built",
        args.scenario.scenario.display()
    )))
}
