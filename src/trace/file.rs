//! A trace file: traces stream into a temporary file beside the target
//! while the run goes, which is renamed over the target once the sink is
//! complete. A run that fails (or a write that fails) leaves no file, and
//! never a partial one: the temporary file is removed when the sink is
//! dropped without being completed.

use super::chrome::ChromeWriter;
use super::otlp::OtlpWriter;
use super::{Trace, TraceSink};
use crate::model::Model;
use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

/// A trace file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// OpenTelemetry's OTLP/JSON (`ExportTraceServiceRequest`).
    Otlp,
    /// Chrome trace-event JSON (Perfetto, chrome://tracing).
    Chrome,
}

/// Traces written to a file of `Format` (see the module docs).
pub struct TraceFile {
    inner: Option<Box<dyn TraceSink>>,
    tmp: PathBuf,
    path: PathBuf,
}

/// The temporary file a trace file for `path` is written to until it is
/// complete (`.NAME.PID.tmp` beside it), or `None` if `path` names no file.
pub fn temp_path(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    Some(path.with_file_name(tmp_name))
}

impl TraceFile {
    /// Creates the temporary file beside `path` and starts the document.
    /// Fails early (before any simulation) if the directory is not
    /// writable.
    pub fn create(path: &Path, format: Format, model: &Model) -> io::Result<Self> {
        let tmp = temp_path(path).ok_or_else(|| io::Error::other("not a file name"))?;
        let w = BufWriter::with_capacity(1 << 16, File::create(&tmp)?);
        let mut file = TraceFile {
            inner: None,
            tmp,
            path: path.to_path_buf(),
        };
        // Built after `file`, so that an error removes the temporary file.
        let inner: Box<dyn TraceSink> = match format {
            Format::Otlp => Box::new(OtlpWriter::new(w, model)?),
            Format::Chrome => Box::new(ChromeWriter::new(w, model)?),
        };
        file.inner = Some(inner);
        Ok(file)
    }
}

impl TraceSink for TraceFile {
    fn write(&mut self, model: &Model, trace: &Trace) -> io::Result<()> {
        match &mut self.inner {
            Some(s) => s.write(model, trace),
            None => Err(io::Error::other("trace file already completed")),
        }
    }

    fn finish(&mut self, model: &Model) -> io::Result<()> {
        let Some(mut inner) = self.inner.take() else {
            return Err(io::Error::other("trace file already completed"));
        };
        inner.finish(model)?;
        // Closes the file before renaming it.
        drop(inner);
        std::fs::rename(&self.tmp, &self.path)?;
        self.tmp = PathBuf::new();
        Ok(())
    }
}

impl Drop for TraceFile {
    fn drop(&mut self) {
        if !self.tmp.as_os_str().is_empty() {
            self.inner = None;
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}
