//! Opens inputs ([`Input`]: a file, standard input or the systemd journal;
//! gzip detected by its magic bytes, not by name) and reads them as chunks of
//! whole lines for the parallel parser.
//!
//! Reading uses `read()` into buffers, never mmap: live logs are truncated by
//! logrotate while being read. A read error (a truncated `.gz`, an I/O error)
//! ends the input after the lines read so far have been handed out.

pub mod journal;

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;

/// What to read: the command line's files, `-` and `--journal`, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Standard input.
    Stdin,
    /// A file (plain or gzip).
    File(PathBuf),
    /// The mail facility of the systemd journal, narrowed to a window (events
    /// are still filtered exactly; the bounds only spare journalctl reading
    /// everything).
    Journal {
        /// Passed as `--since`.
        since: Option<DateTime<FixedOffset>>,
        /// Passed as `--until`.
        until: Option<DateTime<FixedOffset>>,
    },
}

impl Input {
    /// The name shown in messages and reports.
    pub fn name(&self) -> String {
        match self {
            Input::Stdin => "-".to_string(),
            Input::File(p) => p.display().to_string(),
            Input::Journal { .. } => JOURNAL_NAME.to_string(),
        }
    }

    /// The file, when the input is one (it can be opened twice).
    pub fn file(&self) -> Option<&std::path::Path> {
        match self {
            Input::File(p) => Some(p),
            _ => None,
        }
    }
}

impl From<&str> for Input {
    /// `-` is standard input, anything else a file.
    fn from(s: &str) -> Input {
        if s == "-" {
            Input::Stdin
        } else {
            Input::File(PathBuf::from(s))
        }
    }
}

/// Size of a chunk handed to one parser task.
pub const CHUNK_SIZE: usize = 256 << 10;
/// A line longer than this is cut into pieces (each counted as a line).
pub const MAX_LINE: usize = 16 << 20;

/// An opened input.
pub struct Reader {
    /// The file read, when the input is one (to notice it shrinking).
    pub file: Option<PathBuf>,
    /// Name shown in messages and reports (`-` for stdin).
    pub name: String,
    /// Reference time for year-less stamps: modification time, or now.
    pub reference: DateTime<Utc>,
    /// Whether the data is gzip-compressed.
    pub gzip: bool,
    reader: Box<dyn Read + Send>,
    leftover: Vec<u8>,
    eof: bool,
    error: Option<io::Error>,
    /// Bytes read after decompression.
    pub bytes: u64,
    hasher: Box<xxhash_rust::xxh3::Xxh3>,
}

/// Why an input could not be opened; the message is one line naming it.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The system refused or failed (no such file, permission denied, a read error).
    #[error("{name}: {}", io_msg(.source))]
    Io {
        /// The input's name.
        name: String,
        /// What the system said.
        source: io::Error,
    },
    /// A directory was given where a log was expected.
    #[error("{0}: is a directory")]
    Directory(String),
    /// journalctl could not be run (the message says why and what to do).
    #[error("{0}")]
    Journal(String),
}

impl OpenError {
    fn io(name: &str) -> impl FnOnce(io::Error) -> OpenError + '_ {
        move |source| OpenError::Io {
            name: name.to_string(),
            source,
        }
    }
}

/// Opens an input. The error is one line naming the file.
pub fn open(input: &Input) -> Result<Reader, OpenError> {
    let path = match input {
        Input::Stdin => return from_reader("-", Box::new(io::stdin()), Utc::now()),
        Input::Journal { since, until } => {
            return from_reader(JOURNAL_NAME, journalctl(*since, *until)?, Utc::now())
        }
        Input::File(p) => p.display().to_string(),
    };
    let path = path.as_str();
    let (raw, reference): (Box<dyn Read + Send>, DateTime<Utc>) = {
        let meta = std::fs::metadata(path).map_err(OpenError::io(path))?;
        if meta.is_dir() {
            return Err(OpenError::Directory(path.to_string()));
        }
        let f = File::open(path).map_err(OpenError::io(path))?;
        let mtime = meta
            .modified()
            .map(DateTime::<Utc>::from)
            .unwrap_or_else(|_| Utc::now());
        (Box::new(f), mtime)
    };
    let mut reader = from_reader(path, raw, reference)?;
    reader.file = input.file().map(PathBuf::from);
    Ok(reader)
}

/// An input over any reader (gzip detected from its first bytes); `reference`
/// is the instant it was last written (any zone: only the instant counts).
pub fn from_reader<Tz: TimeZone>(
    path: &str,
    raw: Box<dyn Read + Send>,
    reference: DateTime<Tz>,
) -> Result<Reader, OpenError> {
    let reference = reference.with_timezone(&Utc);
    let mut buffered = BufReader::with_capacity(256 * 1024, raw);
    let head = buffered.fill_buf().map_err(OpenError::io(path))?;
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn Read + Send> = if gzip {
        Box::new(MultiGzDecoder::new(buffered))
    } else {
        Box::new(buffered)
    };
    Ok(Reader {
        file: None,
        name: path.to_string(),
        reference,
        gzip,
        reader,
        leftover: Vec::new(),
        eof: false,
        error: None,
        bytes: 0,
        hasher: Box::default(),
    })
}

/// The name the journal input has in messages and reports.
pub const JOURNAL_NAME: &str = "journalctl";

/// Runs `journalctl -o json` for the mail facility and reads its output.
/// journalctl that cannot be run, that exits with an error, or that says it
/// could not open the journal files (permission denied, which it reports
/// with status 0) ends the input with an error: no silent empty journal.
fn journalctl(
    since: Option<DateTime<FixedOffset>>,
    until: Option<DateTime<FixedOffset>>,
) -> Result<Box<dyn Read + Send>, OpenError> {
    let mut cmd = std::process::Command::new("journalctl");
    cmd.args(["-o", "json", "--no-pager", "SYSLOG_FACILITY=2"]);
    // journalctl reads these times in the zone of the environment it
    // inherits, the system's (whatever --tz says).
    let zone = crate::zone::Zone::system();
    for (arg, t) in [("since", since), ("until", until)] {
        if let Some(t) = t {
            let t = zone.fixed(t).format("%Y-%m-%d %H:%M:%S");
            cmd.arg(format!("--{arg}={t}"));
        }
    }
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .stdin(std::process::Stdio::null());
    let mut child = cmd.spawn().map_err(|e| {
        OpenError::Journal(match e.kind() {
            io::ErrorKind::NotFound => {
                "journalctl: not found (--journal needs systemd's journalctl on the PATH)".into()
            }
            _ => format!("journalctl: cannot run it: {}", io_msg(&e)),
        })
    })?;
    let out = child
        .stdout
        .take()
        .ok_or_else(|| OpenError::Journal("journalctl: no output".into()))?;
    // Read stderr on a thread so that a chatty journalctl cannot block on it.
    let err = child.stderr.take().map(|mut e| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = e.read_to_string(&mut s);
            s
        })
    });
    Ok(Box::new(Journalctl {
        out,
        child,
        err,
        done: false,
    }))
}

/// journalctl's output; at its end, its exit status and complaints.
struct Journalctl {
    out: std::process::ChildStdout,
    child: std::process::Child,
    err: Option<std::thread::JoinHandle<String>>,
    done: bool,
}

impl Journalctl {
    /// Called at the end of the output: an error if journalctl failed.
    fn check(&mut self) -> io::Result<()> {
        self.done = true;
        let status = self.child.wait()?;
        let said = self
            .err
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        let first = said
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(|l| l.strip_prefix("journalctl: ").unwrap_or(l))
            .unwrap_or("")
            .to_string();
        let denied = said.contains("insufficient permissions")
            || said.contains("ermission denied")
            || said.contains("No journal files were opened");
        if !status.success() || denied {
            let what = match (first.is_empty(), status.code()) {
                (false, _) => first,
                (true, Some(c)) => format!("exited with status {c}"),
                (true, None) => "was killed".to_string(),
            };
            let hint = if denied {
                " (run as root or as a member of the systemd-journal or adm group)"
            } else {
                ""
            };
            return Err(io::Error::other(format!("journalctl: {what}{hint}")));
        }
        Ok(())
    }
}

impl Read for Journalctl {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.out.read(buf)?;
        if n == 0 && !buf.is_empty() && !self.done {
            self.check()?;
        }
        Ok(n)
    }
}

/// An error for a person: our own messages as they are (they name the
/// file), the system's without "(os error N)".
pub fn plain(e: &io::Error) -> String {
    if e.get_ref().is_some() {
        e.to_string()
    } else {
        io_msg(e)
    }
}

/// An I/O error as a short lowercase message.
pub fn io_msg(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        io::ErrorKind::UnexpectedEof => "unexpected end of data (truncated file?)".into(),
        _ => {
            let s = e.to_string();
            let s = s.split(" (os error").next().unwrap_or(&s).to_string();
            s.chars()
                .next()
                .map(|c| c.to_lowercase().collect::<String>() + &s[c.len_utf8()..])
                .unwrap_or(s)
        }
    }
}

/// True when a regular file is now shorter than what was read from it: it
/// was truncated (logrotate's copytruncate) or replaced while being read.
pub fn shrank(file: Option<&std::path::Path>, bytes_read: u64) -> bool {
    let Some(path) = file else {
        return false;
    };
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() < bytes_read)
}

/// True when the start of a text looks like binary data rather than a log.
pub fn looks_binary(head: &[u8]) -> bool {
    let sample = &head[..head.len().min(4096)];
    if sample.is_empty() {
        return false;
    }
    let bad = sample
        .iter()
        .filter(|&&b| b == 0 || (b < 0x20 && b != b'\n' && b != b'\r' && b != b'\t'))
        .count();
    bad * 10 > sample.len()
}

impl Reader {
    /// The next chunk of whole lines (the last one may lack a newline), or
    /// `None` at the end. After a read error the chunk holds what was read
    /// before it, and [`Reader::take_error`] returns the error.
    pub fn next_chunk(&mut self) -> Option<Vec<u8>> {
        let mut buf = std::mem::take(&mut self.leftover);
        loop {
            if self.eof {
                break;
            }
            if buf.len() >= CHUNK_SIZE
                && (buf.len() >= MAX_LINE || memchr::memrchr(b'\n', &buf).is_some())
            {
                break;
            }
            let start = buf.len();
            buf.resize(start + CHUNK_SIZE, 0);
            match self.reader.read(&mut buf[start..]) {
                Ok(0) => {
                    buf.truncate(start);
                    self.eof = true;
                }
                Ok(n) => {
                    buf.truncate(start + n);
                    self.bytes += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => buf.truncate(start),
                Err(e) => {
                    buf.truncate(start);
                    self.eof = true;
                    self.error = Some(e);
                }
            }
        }
        if buf.is_empty() {
            return None;
        }
        if !self.eof {
            // Without a newline the buffer is one over-long line: hand it out whole.
            if let Some(nl) = memchr::memrchr(b'\n', &buf) {
                self.leftover = buf.split_off(nl + 1);
            }
        }
        self.hasher.update(&buf);
        Some(buf)
    }

    /// The fingerprint of the bytes handed out so far (XXH3-128, hex).
    pub fn fingerprint(&self) -> String {
        format!("{:032x}", self.hasher.digest128())
    }

    /// The error that ended reading, if any.
    pub fn take_error(&mut self) -> Option<io::Error> {
        self.error.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(data: Vec<u8>) -> Reader {
        Reader {
            file: None,
            name: "t".into(),
            reference: Utc::now(),
            gzip: false,
            reader: Box::new(io::Cursor::new(data)),
            leftover: Vec::new(),
            eof: false,
            error: None,
            bytes: 0,
            hasher: Box::default(),
        }
    }

    #[test]
    fn chunks_end_on_line_boundaries_and_keep_every_byte() {
        let mut data = Vec::new();
        for i in 0..200_000 {
            data.extend_from_slice(format!("line number {i}\n").as_bytes());
        }
        data.extend_from_slice(b"no newline at end");
        let mut inp = input(data.clone());
        let mut all = Vec::new();
        let mut n = 0;
        while let Some(c) = inp.next_chunk() {
            n += 1;
            if !c.ends_with(b"end") {
                assert_eq!(c.last(), Some(&b'\n'));
            }
            all.extend_from_slice(&c);
        }
        assert!(n > 1);
        assert_eq!(all, data);
    }

    #[test]
    fn truncation_is_noticed() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("mail.log");
        std::fs::write(&p, b"short now\n").expect("w");
        assert!(shrank(Some(&p), 4096));
        assert!(!shrank(Some(&p), 10));
        assert!(!shrank(None, 4096));
    }

    #[test]
    fn open_errors_are_typed_and_name_the_input() {
        let dir = tempfile::tempdir().expect("tmp");
        let missing = dir.path().join("gone.log");
        let e = open(&Input::File(missing.clone())).err().expect("missing");
        assert!(matches!(e, OpenError::Io { .. }));
        assert_eq!(
            e.to_string(),
            format!("{}: no such file or directory", missing.display())
        );
        let e = open(&Input::File(dir.path().to_path_buf()))
            .err()
            .expect("dir");
        assert!(matches!(e, OpenError::Directory(_)));
        assert_eq!(
            e.to_string(),
            format!("{}: is a directory", dir.path().display())
        );
    }

    #[test]
    fn binary_detection() {
        assert!(looks_binary(&[0u8; 100]));
        assert!(!looks_binary(
            b"Mar  3 10:12:01 mx1 postfix/smtpd[1]: hello\n"
        ));
        assert!(!looks_binary(b""));
    }
}
