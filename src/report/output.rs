//! Writing output files without ever leaving a partial one. A new output
//! directory is filled under a temporary name and renamed into place whole;
//! into an existing directory, each file is written to a temporary name and
//! only when all are complete are they renamed over the old ones.

use crate::metrics::RunResult;
use crate::report::{csv, json};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The files `microsim run --out` writes, named and rendered: one list so
/// that every command writing a run's outputs (`run`, and `compare` per
/// variant) writes the same files.
pub fn run_files(result: &RunResult) -> anyhow::Result<Vec<(&'static str, Vec<u8>)>> {
    let s = &result.summary;
    let mut files = vec![
        ("summary.json", json::summary_json(s).into_bytes()),
        ("workloads.csv", csv::workloads_csv(s)?),
        ("services.csv", csv::services_csv(s)?),
        ("dependencies.csv", csv::dependencies_csv(s)?),
        ("faults.csv", csv::faults_csv(s)?),
        ("discovery.csv", csv::discovery_csv(s)?),
        ("timeseries.csv", csv::timeseries_csv(&result.timeseries)?),
    ];
    // Files of features a scenario may not use: only when it does, so
    // other runs' directories hold what they always held.
    if let Some(bytes) = super::cost::cost_csv(s) {
        files.push(("cost.csv", bytes?));
    }
    if s.services.values().any(|r| r.scaling.is_some()) {
        files.push(("scaling.csv", super::scaling::scaling_csv(s)?));
    }
    if !s.deploys.is_empty() {
        files.push(("deploys.csv", super::scaling::deploys_csv(s)?));
    }
    Ok(files)
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

fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

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
