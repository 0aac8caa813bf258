//! Where `run --traces FILE` may write, decided before simulating.
//!
//! The trace file streams into a temporary file beside its target, which
//! is renamed over the target at the end (see [`crate::trace::file`]), so
//! a link is followed to the file it names and anything that is not a
//! regular file is refused ([`output::regular_target`]). A trace file
//! that another output of the same run would write over (`--out`'s own
//! files, `--junit`, the scenario) is refused too, before any time is
//! spent simulating, rather than silently lost afterwards.

use super::CliError;
use crate::report::output;
use std::path::{Component, Path, PathBuf};

/// The other outputs of the run, which the trace file must not be.
pub struct Others<'a> {
    /// The scenario file.
    pub scenario: &'a Path,
    /// `--out DIR`.
    pub out: Option<&'a Path>,
    /// `--junit FILE`.
    pub junit: Option<&'a Path>,
}

/// The file `--traces FILE` writes: FILE, or the file its chain of links
/// names. Refuses (exit 2) a path no regular file can be written at, and
/// one that another output of the run writes.
pub fn target(file: &Path, others: &Others) -> Result<PathBuf, CliError> {
    let refuse = |why: String| Err(refusal(file, why));
    if file.as_os_str() == "-" {
        return refuse(
            "traces cannot go to stdout (the tables or --json do); give a file name".into(),
        );
    }
    super::check_parents("--traces", file)?;
    let target = output::regular_target(file).or_else(refuse)?;
    check_clashes(file, resolve(&target), others)
}

/// Refuses a trace file `target` (resolved) that another output writes.
fn check_clashes(file: &Path, target: PathBuf, o: &Others) -> Result<PathBuf, CliError> {
    let refuse = |why: String| Err(refusal(file, why));
    if resolve(o.scenario) == target {
        return refuse("is the scenario file; write the traces to another file".into());
    }
    if let Some(junit) = o.junit {
        if resolve(junit) == target {
            return refuse(format!(
                "is also the --junit file {}; give the traces a file of their own",
                junit.display()
            ));
        }
    }
    if let Some(out) = o.out {
        if let Ok(rel) = target.strip_prefix(resolve(out)) {
            let rel = rel.to_string_lossy().replace('\\', "/");
            if rel.is_empty() {
                return refuse(format!("is the --out directory {}", out.display()));
            }
            if rel == "charts" || rel.starts_with("charts/") {
                return refuse(format!(
                    "lies in --out's chart directory {}, which the run rewrites; give the traces another name (e.g. {})",
                    out.join("charts").display(),
                    out.join("traces.json").display()
                ));
            }
            if output::is_run_output(&rel) {
                return refuse(format!(
                    "--out {} writes `{rel}` there itself; give the traces another name (e.g. {})",
                    out.display(),
                    out.join("traces.json").display()
                ));
            }
        }
    }
    Ok(target)
}

/// Why `--traces FILE` is refused (exit 2).
fn refusal(file: &Path, why: String) -> CliError {
    CliError::Input(format!("--traces {}: {why}", file.display()))
}

/// `path` made absolute, with its deepest existing ancestor's links
/// resolved and `.` and `..` removed from the rest: two paths naming the
/// same file, existing or not yet, resolve alike.
fn resolve(path: &Path) -> PathBuf {
    let abs = std::env::current_dir()
        .map(|d| d.join(path))
        .unwrap_or_else(|_| path.to_path_buf());
    let mut rest = Vec::new();
    let mut base = abs.as_path();
    loop {
        if let Ok(c) = std::fs::canonicalize(base) {
            let mut out = c;
            for part in rest.iter().rev() {
                push(&mut out, part);
            }
            return out;
        }
        match (base.parent(), base.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(Component::Normal(name));
                base = parent;
            }
            // `..` or `.` at the end of a missing path: resolved lexically.
            (Some(parent), None) => {
                rest.push(Component::ParentDir);
                base = parent;
            }
            _ => {
                let mut out = PathBuf::new();
                for c in abs.components() {
                    push(&mut out, &c);
                }
                return out;
            }
        }
    }
}

/// Appends component `c` to `p`, lexically (`..` pops).
fn push(p: &mut PathBuf, c: &Component) {
    match c {
        Component::ParentDir => {
            p.pop();
        }
        Component::CurDir => {}
        c => p.push(c.as_os_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_paths_resolve_like_existing_ones() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        std::fs::create_dir(d.join("a")).unwrap();
        let real = std::fs::canonicalize(d).unwrap();
        assert_eq!(resolve(&d.join("a/../b/./c.json")), real.join("b/c.json"));
        assert_eq!(resolve(&d.join("a/x/../y")), real.join("a/y"));
        assert_eq!(resolve(&d.join("a")), real.join("a"));
    }
}
