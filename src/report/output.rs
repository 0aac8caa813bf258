//! Writing output files without ever leaving a partial one. A new output
//! directory is filled under a temporary name and renamed into place whole;
//! into an existing directory, each file is written to a temporary name and
//! only when all are complete are they renamed over the old ones.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `files` (name, contents) into `dir`, creating it if needed.
pub fn write_all(dir: &Path, files: &[(&str, Vec<u8>)]) -> std::io::Result<()> {
    if dir.is_dir() {
        return write_into_existing(dir, files);
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
            write_file(&staging.join(file), bytes)?;
        }
        fs::rename(&staging, dir)
    })();
    if result.is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
    result
}

fn write_into_existing(dir: &Path, files: &[(&str, Vec<u8>)]) -> std::io::Result<()> {
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();
    let result = (|| {
        for (name, bytes) in files {
            let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
            staged.push((tmp.clone(), dir.join(name)));
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
    fn a_failed_write_leaves_no_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("results");
        // A file name that cannot be created (a directory path inside).
        let err = write_all(&out, &[("no/such/dir.csv", b"1".to_vec())]);
        assert!(err.is_err());
        assert!(!out.exists());
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);
    }
}
