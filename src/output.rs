//! Where reports go: standard output, or a file. Safe to run as root:
//!
//! - A regular file, or a path that does not exist yet, is written
//!   atomically: a temporary file in the target's real directory (after
//!   resolving symlinks, so `-o link` writes where the link points and the
//!   link stays), flushed, synced and renamed over the target. A reader never
//!   sees half a report, and a failed write (full disk) leaves the old file
//!   in place and is reported as an error.
//! - Devices, FIFOs and sockets (`/dev/null`, `/dev/full`, a named pipe) are
//!   written in place, never replaced; `/dev/stdout` (and `/dev/fd/1`) is
//!   standard output itself, `/dev/stderr` standard error.
//! - A new file gets mode `0666 & ~umask`, like a shell redirection; a
//!   replaced file keeps its mode and, where we may (root), its owner and
//!   group.
//!
//! Every error is one line naming the file the user gave, in plain words.

use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Where the report goes.
pub struct Sink {
    inner: Inner,
    /// The path as given, for messages.
    shown: String,
}

enum Inner {
    /// Standard output.
    Stdout(io::BufWriter<io::StdoutLock<'static>>),
    /// Standard error.
    Stderr(io::BufWriter<io::Stderr>),
    /// A device or FIFO, written in place.
    InPlace(io::BufWriter<File>),
    /// A temporary file, the real path it becomes, and the owner, group and
    /// mode of the file it replaces (if any).
    Atomic(
        io::BufWriter<tempfile::NamedTempFile>,
        PathBuf,
        Option<(u32, u32, u32)>,
    ),
}

/// An error as one line naming `path`, keeping its kind (a closed pipe stays one).
fn named(path: &str, e: &io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{path}: {}", crate::source::io_msg(e)))
}

/// Follows symlinks of the last component (at most 40, like the kernel) and
/// returns the real path of the file and of its directory, which must exist.
fn resolve(p: &Path) -> io::Result<PathBuf> {
    let mut p = p.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = fs::read_link(&p)?;
                p = match p.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            _ => {
                let name = p.file_name().ok_or_else(|| {
                    io::Error::new(io::ErrorKind::InvalidInput, "not a file name")
                })?;
                let dir = match p.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d,
                    _ => Path::new("."),
                };
                return Ok(fs::canonicalize(dir)?.join(name));
            }
        }
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        "too many levels of symbolic links",
    ))
}

impl Sink {
    /// Opens stdout, or the file `output` as described in the module header.
    pub fn open(output: Option<&Path>) -> io::Result<Sink> {
        let Some(p) = output else {
            return Ok(Sink {
                inner: Inner::Stdout(io::BufWriter::new(io::stdout().lock())),
                shown: "standard output".into(),
            });
        };
        let shown = p.display().to_string();
        let s = p.to_string_lossy();
        if matches!(s.as_ref(), "/dev/stdout" | "/dev/fd/1" | "/proc/self/fd/1") {
            return Ok(Sink {
                inner: Inner::Stdout(io::BufWriter::new(io::stdout().lock())),
                shown,
            });
        }
        if matches!(s.as_ref(), "/dev/stderr" | "/dev/fd/2" | "/proc/self/fd/2") {
            return Ok(Sink {
                inner: Inner::Stderr(io::BufWriter::new(io::stderr())),
                shown,
            });
        }
        let existing = match fs::metadata(p) {
            Ok(m) => Some(m),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(named(&shown, &e)),
        };
        if let Some(m) = existing.as_ref().filter(|m| !m.is_file()) {
            if m.is_dir() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{shown}: is a directory; name a file to write"),
                ));
            }
            // A device, FIFO or socket: write into it, never replace the node.
            let f = File::options()
                .write(true)
                .open(p)
                .map_err(|e| named(&shown, &e))?;
            return Ok(Sink {
                inner: Inner::InPlace(io::BufWriter::new(f)),
                shown,
            });
        }
        let real = resolve(p).map_err(|e| named(&shown, &e))?;
        let dir = real.parent().unwrap_or(Path::new("/"));
        let mut b = tempfile::Builder::new();
        b.prefix(".bouncelog-");
        if existing.is_none() {
            // Created as a shell would: the kernel applies the umask.
            b.permissions(fs::Permissions::from_mode(0o666));
        }
        let tmp = b.tempfile_in(dir).map_err(|e| {
            let e = io::Error::new(e.kind(), crate::source::io_msg(&e));
            io::Error::new(
                e.kind(),
                format!("{shown}: cannot create a file in {}: {e}", dir.display()),
            )
        })?;
        Ok(Sink {
            inner: Inner::Atomic(
                io::BufWriter::new(tmp),
                real,
                existing.map(|m| (m.uid(), m.gid(), m.mode())),
            ),
            shown,
        })
    }

    /// The writer to write the report to; its errors name the file.
    pub fn writer(&mut self) -> &mut dyn Write {
        self
    }

    /// Flushes and, for a regular file, syncs it, gives it the replaced
    /// file's mode and owner, and renames it into place.
    pub fn finish(self) -> io::Result<()> {
        let shown = self.shown;
        let n = |e: io::Error| named(&shown, &e);
        match self.inner {
            Inner::Stdout(mut w) => w.flush().map_err(n),
            Inner::Stderr(mut w) => w.flush().map_err(n),
            Inner::InPlace(mut w) => w.flush().map_err(n),
            Inner::Atomic(w, real, existing) => {
                let tmp = w.into_inner().map_err(|e| n(e.into_error()))?;
                if let Some((uid, gid, mode)) = existing {
                    // Owner first: chown may clear set-id bits that the mode restores.
                    // Only root may give a file away; otherwise the new file is ours.
                    let _ = std::os::unix::fs::fchown(tmp.as_file(), Some(uid), Some(gid));
                    tmp.as_file()
                        .set_permissions(fs::Permissions::from_mode(mode & 0o7777))
                        .map_err(n)?;
                }
                tmp.as_file().sync_all().map_err(n)?;
                tmp.persist(&real).map(|_| ()).map_err(|e| n(e.error))
            }
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let r = match &mut self.inner {
            Inner::Stdout(w) => w.write(buf),
            Inner::Stderr(w) => w.write(buf),
            Inner::InPlace(w) => w.write(buf),
            Inner::Atomic(w, _, _) => w.write(buf),
        };
        r.map_err(|e| named(&self.shown, &e))
    }

    fn flush(&mut self) -> io::Result<()> {
        let r = match &mut self.inner {
            Inner::Stdout(w) => w.flush(),
            Inner::Stderr(w) => w.flush(),
            Inner::InPlace(w) => w.flush(),
            Inner::Atomic(w, _, _) => w.flush(),
        };
        r.map_err(|e| named(&self.shown, &e))
    }
}
