//! `microsim merge`: combine the shards of a sweep.

use super::{ChartArgs, CliError};
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
}

/// Merges the shards.
pub fn merge(args: &MergeArgs) -> Result<(), CliError> {
    Err(CliError::Input(format!(
        "merge into {}: being built",
        args.out.display()
    )))
}
