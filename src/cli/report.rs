//! `microsim report DIR`: redraw a saved run's (or comparison's, or
//! sweep's) charts and `report.html` from the results in DIR, without
//! simulating again.

use super::{ChartArgs, CliError};
use crate::report::{output, saved};
use clap::Args;
use std::path::PathBuf;

/// Arguments of `report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A directory written by `microsim run --out`, `microsim compare
    /// --out` or `microsim sweep --out`.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Write the charts and report.html here instead of into DIR.
    #[arg(long, value_name = "OUT")]
    pub out: Option<PathBuf>,
    /// Which charts to draw.
    #[command(flatten)]
    pub charts: ChartArgs,
    /// Print nothing on stderr but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Reads the saved results and writes their charts and report.
pub fn report(args: &ReportArgs) -> Result<(), CliError> {
    let charts = args.charts.formats()?;
    let dir = &args.dir;
    if !dir.is_dir() {
        return Err(CliError::Input(format!(
            "{}: not a directory (expected one written by `microsim run --out`, `microsim compare --out` or `microsim sweep --out`)",
            dir.display()
        )));
    }
    let out = args.out.as_ref().unwrap_or(dir);
    super::check_writable_dir("--out", out)?;
    // A directory whose saved results cannot be read is bad input (exit
    // 2); failing to draw or write is a failure of the command (exit 1).
    let bad = |e: anyhow::Error| CliError::Input(format!("{e:#}"));
    let fail = |e: &dyn std::fmt::Display| CliError::Failed(format!("{e:#}"));
    let files = if dir.join("sweep.json").is_file() {
        let r = saved::load_sweep(dir).map_err(bad)?;
        crate::report::sweep::presentation(&r, charts).map_err(|e| fail(&e))?
    } else if dir.join("compare.json").is_file() {
        let c = saved::load_compare(dir).map_err(bad)?;
        output::compare_presentation(&c, charts).map_err(|e| fail(&e))?
    } else {
        let run = saved::load_run(dir).map_err(bad)?;
        output::run_presentation(&run, charts).map_err(|e| fail(&e))?
    };
    output::write_tree(out, &files)
        .and_then(|()| output::remove_stale(out, &files, false))
        .map_err(|e| CliError::Failed(format!("writing {}: {e}", out.display())))?;
    if !args.quiet {
        let drawn = files.iter().filter(|(n, _)| n.contains("charts/")).count();
        eprintln!(
            "wrote {drawn} chart files and {} report.html to {}",
            files
                .iter()
                .filter(|(n, _)| n.ends_with("report.html"))
                .count(),
            out.display()
        );
    }
    Ok(())
}
