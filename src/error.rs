//! The one error path: what can go wrong in a command ([`Error`]), the
//! messages of a run that goes on after an error ([`Messages`]), and the
//! exit status decided once from both ([`Status`]). Everything the user
//! sees of an error is one line, `bouncelog: what went wrong`, with log text
//! escaped for the terminal.

use std::io;

/// An error that ends a command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad arguments (an unknown zone, a malformed --fail-on, ...). Only
    /// what is said to be one: no `From<String>`, so that an inner error
    /// message does not become a usage error by a `?`.
    #[error("{0}")]
    Usage(String),
    /// Pattern files that cannot be used; one message per problem.
    #[error("{}", .0.join("\n"))]
    Patterns(Vec<String>),
    /// Reading or writing failed (the message names the file).
    #[error("{}", crate::source::plain(.0))]
    Io(#[from] io::Error),
}

/// How a command ended; the exit status follows from it alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Nothing to report: exit status 0.
    Clean,
    /// A --fail-on threshold was crossed (or `explain` knew no cause): 1.
    Crossed,
    /// No input reaches into a past window: 3.
    Uncovered,
    /// An error happened (the run may have gone on): 2.
    Failed,
}

impl Status {
    /// The exit status.
    pub fn code(self) -> u8 {
        match self {
            Status::Clean => 0,
            Status::Crossed => 1,
            Status::Failed => 2,
            Status::Uncovered => 3,
        }
    }
}

/// Messages on standard error during a run that goes on, remembering whether
/// any was an error.
#[derive(Debug, Default)]
pub struct Messages {
    errored: bool,
}

impl Messages {
    /// Prints an error (the run goes on; the exit status will be 2).
    pub fn error(&mut self, msg: &str) {
        self.errored = true;
        say(msg);
    }

    /// Prints a warning (not an error).
    pub fn warning(&mut self, msg: &str) {
        say(&format!("warning: {msg}"));
    }

    /// Prints a note that is neither (a threshold crossed, a window not covered).
    pub fn note(&mut self, msg: &str) {
        say(msg);
    }

    /// Whether an error was printed.
    pub fn errored(&self) -> bool {
        self.errored
    }
}

/// Prints `bouncelog: MSG` on standard error, each line of MSG escaped.
pub fn say(msg: &str) {
    for line in msg.lines() {
        eprintln!("bouncelog: {}", crate::report::sanitize::terminal(line));
    }
}

/// The exit status of a command's result; an error is printed here, once.
/// A closed output pipe (`bouncelog analyze … | head`) is not an error.
pub fn exit_status(result: Result<Status, Error>) -> u8 {
    match result {
        Ok(s) => s.code(),
        Err(Error::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            say(&e.to_string());
            Status::Failed.code()
        }
    }
}
