//! Writing output files without ever leaving a partial one. A new output
//! directory is filled under a temporary name and renamed into place whole;
//! into an existing directory, each file is written to a temporary name and
//! only when all are complete are they renamed over the old ones.

use crate::report::charts::{self, ChartFile, Formats};
use crate::report::saved::{self, SavedCompare, SavedRun};
use crate::report::{compare, html};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The files `microsim run --out` writes, named and rendered: one list so
/// that every command writing a run's outputs (`run`, and `compare` per
/// variant) writes the same files. The data files come first; the charts
/// (`charts/NAME.svg|png`, unless `charts` is `None`) and `report.html`
/// are drawn from those data files parsed back, exactly as
/// `microsim report` draws them from a saved directory.
pub fn run_files(
    run: &SavedRun,
    charts: Option<Formats>,
) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let data = saved::data_files(run)?;
    let reloaded = saved::parse_run(&data)?;
    let mut files: Vec<(String, Vec<u8>)> =
        data.into_iter().map(|(n, b)| (n.to_string(), b)).collect();
    files.extend(run_presentation(&reloaded, charts)?);
    Ok(files)
}

/// A run's charts and `report.html`, drawn from its saved data.
pub fn run_presentation(
    run: &SavedRun,
    charts: Option<Formats>,
) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let drawn = match charts {
        // The report inlines SVGs, so they are drawn even when only PNG
        // files are asked for.
        Some(f) => charts::run_charts(run, Formats { svg: true, ..f })?,
        None => Vec::new(),
    };
    let html = html::run_report(run, &drawn);
    let mut files = chart_files(&drawn, charts);
    files.push(("report.html".to_string(), html.into_bytes()));
    Ok(files)
}

/// The files `compare --out` writes: `compare.json`, `compare.csv`, each
/// variant's run outputs under `<variant>/`, the comparison's charts and
/// its `report.html`.
pub fn compare_files(
    c: &SavedCompare,
    charts: Option<Formats>,
) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut files = vec![
        (
            "compare.json".to_string(),
            compare::comparison_json(&c.comparison).into_bytes(),
        ),
        (
            "compare.csv".to_string(),
            compare::comparison_csv(&c.comparison)?,
        ),
    ];
    let mut reloaded = Vec::with_capacity(c.variants.len());
    for (v, run) in c.comparison.variants.iter().zip(&c.variants) {
        let data = saved::data_files(run)?;
        let back = saved::parse_run(&data)?;
        for (name, bytes) in data {
            files.push((format!("{}/{name}", v.name), bytes));
        }
        reloaded.push(back);
    }
    let back = SavedCompare {
        comparison: serde_json::from_slice(&files[0].1)?,
        variants: reloaded,
    };
    files.extend(compare_presentation(&back, charts)?);
    Ok(files)
}

/// A comparison's charts and `report.html`, and each variant's own under
/// `<variant>/`, drawn from its saved data.
pub fn compare_presentation(
    c: &SavedCompare,
    charts: Option<Formats>,
) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    for (v, run) in c.comparison.variants.iter().zip(&c.variants) {
        for (name, bytes) in run_presentation(run, charts)? {
            files.push((format!("{}/{name}", v.name), bytes));
        }
    }
    let drawn = match charts {
        Some(f) => charts::compare_charts(c, Formats { svg: true, ..f })?,
        None => Vec::new(),
    };
    let html = html::compare_report(c, &drawn);
    files.extend(chart_files(&drawn, charts));
    files.push(("report.html".to_string(), html.into_bytes()));
    Ok(files)
}

/// `charts/NAME.svg` and `charts/NAME.png`, as asked for.
pub(crate) fn chart_files(drawn: &[ChartFile], formats: Option<Formats>) -> Vec<(String, Vec<u8>)> {
    let Some(f) = formats else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for c in drawn {
        if let (true, Some(svg)) = (f.svg, &c.svg) {
            files.push((format!("charts/{}.svg", c.name), svg.clone().into_bytes()));
        }
        if let (true, Some(png)) = (f.png, &c.png) {
            files.push((format!("charts/{}.png", c.name), png.clone()));
        }
    }
    files
}

/// Writes `files` (name, contents) into `dir`, creating it if needed
/// (see [`write_tree`], which it is with plain file names).
pub fn write_all(dir: &Path, files: &[(&str, Vec<u8>)]) -> std::io::Result<()> {
    write_tree(dir, files)
}

/// Like [`write_all`], but file names may contain `/` to place files in
/// subdirectories of `dir` (`compare --out` writes each variant's run
/// outputs under `DIR/<variant>/`). A new `dir` is still staged whole and
/// renamed into place; into an existing one every file goes to a temporary
/// name beside its destination first, and all are renamed only once every
/// one is complete.
pub fn write_tree<S: AsRef<str>>(dir: &Path, files: &[(S, Vec<u8>)]) -> std::io::Result<()> {
    if dir.is_dir() {
        let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();
        let result = (|| {
            for (name, bytes) in files {
                let dst = dir.join(name.as_ref());
                let parent = dst.parent().unwrap_or(dir).to_path_buf();
                fs::create_dir_all(&parent)?;
                let base = dst
                    .file_name()
                    .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
                let tmp = parent.join(format!(".{base}.tmp-{}", std::process::id()));
                staged.push((tmp.clone(), dst));
                write_file(&tmp, bytes)?;
            }
            for (tmp, dst) in &staged {
                fs::rename(tmp, dst)?;
            }
            Ok(())
        })();
        if result.is_err() {
            for (tmp, _) in &staged {
                let _ = fs::remove_file(tmp);
            }
        }
        return result;
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent)?;
    let name = dir
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let staging = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        fs::create_dir(&staging)?;
        for (file, bytes) in files {
            let path = staging.join(file.as_ref());
            if let Some(p) = path.parent() {
                fs::create_dir_all(p)?;
            }
            write_file(&path, bytes)?;
        }
        fs::rename(&staging, dir)
    })();
    if result.is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
    result
}

/// Data files a run writes only when its scenario has what they describe
/// (prices, changing replica counts, deploys, messaging, data copies,
/// sagas, tracked executions, latency attribution), and a comparison's own: a
/// `compare.json` left by an earlier `compare --out DIR` made `report DIR`
/// redraw that old comparison over a later `run --out DIR`'s report.
const OPTIONAL_DATA: [&str; 11] = [
    "cost.csv",
    "scaling.csv",
    "deploys.csv",
    "topics.csv",
    "subscriptions.csv",
    "copies.csv",
    "sagas.csv",
    "executions.csv",
    "attribution.csv",
    "compare.json",
    "compare.csv",
];

/// Symbolic links followed at most (as the kernel's `ELOOP` limit).
const MAX_LINKS: usize = 40;

/// Where a file written whole at `path` (to a temporary file beside it,
/// then renamed into place) goes: `path`, or the file its chain of links
/// names, since renaming over a link would replace the link, and over a
/// device (`/dev/null`, `/dev/stdout`, which as root is a file like any
/// other) the device. `Err` says why no regular file can be written
/// there: a directory, a device, pipe or socket, anything under `/dev` or
/// `/proc`, or a loop of links.
pub fn regular_target(path: &Path) -> Result<PathBuf, String> {
    let mut at = path.to_path_buf();
    for _ in 0..=MAX_LINKS {
        if at.starts_with("/dev") || at.starts_with("/proc") {
            return Err(format!(
                "{} is a device or a process's file, not a regular file (the file is written whole to a temporary file and renamed into place); give a file name",
                at.display()
            ));
        }
        match fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = fs::read_link(&at)
                    .map_err(|e| format!("cannot read the link {}: {e}", at.display()))?;
                at = match at.parent() {
                    Some(dir) => dir.join(to),
                    None => to,
                };
            }
            Ok(m) if m.is_dir() => return Err(format!("{} is a directory, not a file", at.display())),
            Ok(m) if !m.is_file() => {
                return Err(format!(
                    "{} is not a regular file (a device, pipe or socket; the file is written whole to a temporary file and renamed into place); give a file name",
                    at.display()
                ))
            }
            // A regular file, or none yet.
            _ => return Ok(at),
        }
    }
    Err(format!("more than {MAX_LINKS} symbolic links"))
}

/// Data files every run writes (see [`saved::data_files`]), beside the
/// optional ones of `OPTIONAL_DATA`.
const RUN_DATA: [&str; 10] = [
    "summary.json",
    "workloads.csv",
    "services.csv",
    "dependencies.csv",
    "faults.csv",
    "discovery.csv",
    "timeseries.csv",
    "percentiles.csv",
    "scenario.toml",
    "run.json",
];

/// Whether `run --out DIR` may write (or remove, as stale) the file at
/// `rel` (a `/`-separated path inside DIR): its data files, `report.html`
/// and anything under `charts/`. Known before the run, so that another
/// output aimed there (`--traces DIR/summary.json`) is refused instead of
/// overwritten.
pub fn is_run_output(rel: &str) -> bool {
    rel == "report.html"
        || rel == "charts"
        || rel.starts_with("charts/")
        || RUN_DATA.contains(&rel)
        || OPTIONAL_DATA.contains(&rel)
}

/// Removes what an earlier write into `dir` left that this one (`files`,
/// just written by [`write_tree`]) did not rewrite: chart images
/// (`charts/*.png|svg`) of formats or charts not drawn this time and, when
/// `data` (`run`/`compare` rather than `report`), the optional data files
/// (`cost.csv`, `scaling.csv`, `deploys.csv`, `compare.json|csv`). Without it, `run --out DIR
/// --charts svg` into a DIR of an earlier png,svg run left the earlier
/// run's PNGs beside the new SVGs and report, and a run without prices
/// the earlier run's `cost.csv`. Each run's directory (DIR, or a
/// comparison's `DIR/<variant>/`) is the one holding a written
/// `report.html`; files of other names are never touched.
pub fn remove_stale<S: AsRef<str>>(
    dir: &Path,
    files: &[(S, Vec<u8>)],
    data: bool,
) -> std::io::Result<()> {
    let written: std::collections::BTreeSet<&str> = files.iter().map(|(n, _)| n.as_ref()).collect();
    let prefixes = written
        .iter()
        .filter_map(|n| n.strip_suffix("report.html"))
        .filter(|p| p.is_empty() || p.ends_with('/'));
    for prefix in prefixes {
        let charts = dir.join(format!("{prefix}charts"));
        if charts.is_dir() {
            for entry in fs::read_dir(&charts)? {
                let entry = entry?;
                let name = entry.file_name().to_string_lossy().into_owned();
                let image = name.ends_with(".png") || name.ends_with(".svg");
                if image
                    && entry.file_type()?.is_file()
                    && !written.contains(format!("{prefix}charts/{name}").as_str())
                {
                    fs::remove_file(entry.path())?;
                }
            }
            // Gone when empty (--no-charts); kept when it holds anything else.
            let _ = fs::remove_dir(&charts);
        }
        if data {
            for name in OPTIONAL_DATA {
                let rel = format!("{prefix}{name}");
                let path = dir.join(&rel);
                if !written.contains(rel.as_str()) && path.is_file() {
                    fs::remove_file(path)?;
                }
            }
        }
    }
    Ok(())
}

fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remove_stale_drops_earlier_charts_and_optional_files_only() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("results");
        let first = vec![
            ("summary.json".to_string(), b"1".to_vec()),
            ("cost.csv".to_string(), b"1".to_vec()),
            ("compare.json".to_string(), b"1".to_vec()),
            ("charts/latency.png".to_string(), b"1".to_vec()),
            ("charts/latency.svg".to_string(), b"1".to_vec()),
            ("report.html".to_string(), b"1".to_vec()),
            ("v/charts/latency.png".to_string(), b"1".to_vec()),
            ("v/scaling.csv".to_string(), b"1".to_vec()),
            ("v/report.html".to_string(), b"1".to_vec()),
        ];
        write_tree(&out, &first).unwrap();
        fs::write(out.join("notes.txt"), b"mine").unwrap();
        fs::write(out.join("charts/README"), b"mine").unwrap();
        let second = vec![
            ("summary.json".to_string(), b"2".to_vec()),
            ("charts/latency.svg".to_string(), b"2".to_vec()),
            ("report.html".to_string(), b"2".to_vec()),
            ("v/report.html".to_string(), b"2".to_vec()),
        ];
        write_tree(&out, &second).unwrap();
        // `report` (data: false) keeps the data files, drops the images.
        remove_stale(&out, &second, false).unwrap();
        assert!(!out.join("charts/latency.png").exists());
        assert!(!out.join("v/charts").exists(), "an emptied charts/ goes");
        assert!(out.join("cost.csv").exists() && out.join("v/scaling.csv").exists());
        remove_stale(&out, &second, true).unwrap();
        assert!(!out.join("cost.csv").exists() && !out.join("v/scaling.csv").exists());
        assert!(!out.join("compare.json").exists());
        assert_eq!(fs::read(out.join("charts/latency.svg")).unwrap(), b"2");
        assert_eq!(fs::read(out.join("notes.txt")).unwrap(), b"mine");
        assert_eq!(fs::read(out.join("charts/README")).unwrap(), b"mine");
    }

    #[test]
    fn creates_a_new_directory_whole_and_replaces_files_in_an_existing_one() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("a/b/results");
        write_all(
            &out,
            &[("x.csv", b"1".to_vec()), ("y.json", b"{}".to_vec())],
        )
        .unwrap();
        assert_eq!(fs::read(out.join("x.csv")).unwrap(), b"1");
        write_all(&out, &[("x.csv", b"2".to_vec())]).unwrap();
        assert_eq!(fs::read(out.join("x.csv")).unwrap(), b"2");
        // No staging leftovers anywhere.
        for d in [tmp.path().join("a/b"), out.clone()] {
            for e in fs::read_dir(d).unwrap() {
                let name = e.unwrap().file_name().to_string_lossy().into_owned();
                assert!(!name.starts_with('.'), "leftover {name}");
            }
        }
    }

    #[test]
    fn write_tree_places_files_in_subdirectories_new_or_existing() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("cmp");
        let files = |v: &str| {
            vec![
                ("top.json".to_string(), v.as_bytes().to_vec()),
                ("a/x.csv".to_string(), v.as_bytes().to_vec()),
                ("b/x.csv".to_string(), v.as_bytes().to_vec()),
            ]
        };
        write_tree(&out, &files("1")).unwrap();
        assert_eq!(fs::read(out.join("a/x.csv")).unwrap(), b"1");
        write_tree(&out, &files("2")).unwrap();
        for f in ["top.json", "a/x.csv", "b/x.csv"] {
            assert_eq!(fs::read(out.join(f)).unwrap(), b"2", "{f}");
        }
        for d in [tmp.path().to_path_buf(), out.clone(), out.join("a")] {
            for e in fs::read_dir(d).unwrap() {
                let name = e.unwrap().file_name().to_string_lossy().into_owned();
                assert!(!name.starts_with('.'), "leftover {name}");
            }
        }
        // A failure in a new directory leaves nothing behind.
        let bad = tmp.path().join("bad");
        let err = write_tree(&bad, &[("a/\0".to_string(), Vec::new())]);
        assert!(err.is_err());
        assert!(!bad.exists());
    }

    #[test]
    fn a_failed_write_leaves_no_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("results");
        // A file that cannot be created (a NUL byte in its name), after
        // one that could.
        let err = write_all(
            &out,
            &[("ok.csv", b"1".to_vec()), ("bad\0.csv", b"1".to_vec())],
        );
        assert!(err.is_err());
        assert!(!out.exists());
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);
    }
}
