//! Where reports go: standard output, or a file written atomically (a
//! temporary file in the same directory, flushed, synced and renamed over the
//! target), so a reader never sees half a report and a failed write (full
//! disk) leaves the old file in place and is reported as an error.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Where the report goes: stdout, or a temporary file renamed over FILE at the end.
pub enum Sink {
    /// Standard output.
    Stdout(io::BufWriter<io::StdoutLock<'static>>),
    /// A temporary file and the path it becomes.
    File(io::BufWriter<tempfile::NamedTempFile>, PathBuf),
}

impl Sink {
    /// Opens stdout, or a temporary file beside `output`.
    pub fn open(output: Option<&Path>) -> io::Result<Sink> {
        match output {
            None => Ok(Sink::Stdout(io::BufWriter::new(io::stdout().lock()))),
            Some(p) => {
                let dir = p
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                let tmp = tempfile::Builder::new()
                    .prefix(".bouncelog-")
                    .tempfile_in(dir)
                    .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", p.display())))?;
                Ok(Sink::File(io::BufWriter::new(tmp), p.to_path_buf()))
            }
        }
    }

    /// The writer to write the report to.
    pub fn writer(&mut self) -> &mut dyn Write {
        match self {
            Sink::Stdout(w) => w,
            Sink::File(w, _) => w,
        }
    }

    /// Flushes and, for a file, syncs and renames it into place.
    pub fn finish(self) -> io::Result<()> {
        match self {
            Sink::Stdout(mut w) => w.flush(),
            Sink::File(w, path) => {
                let tmp = w.into_inner().map_err(|e| e.into_error())?;
                tmp.as_file().sync_all()?;
                tmp.persist(&path).map(|_| ()).map_err(|e| {
                    io::Error::new(e.error.kind(), format!("{}: {}", path.display(), e.error))
                })
            }
        }
    }
}
