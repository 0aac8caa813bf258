//! Writing output files without ever leaving a partial one: each file is
//! written to a temporary name in the target directory, and only when all
//! are complete are they renamed into place.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `files` (name, contents) into `dir`, creating it if needed.
pub fn write_all(dir: &Path, files: &[(&str, Vec<u8>)]) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();
    let result = (|| {
        for (name, bytes) in files {
            let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
            staged.push((tmp.clone(), dir.join(name)));
            let mut f = fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
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
