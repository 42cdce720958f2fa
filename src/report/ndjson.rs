//! `--format ndjson`: one JSON object per failure event, in input order,
//! written as the events are found.

use crate::event::Event;
use std::io::{self, Write};

/// Writes one event as a JSON line.
pub fn write_event(w: &mut dyn Write, e: &Event) -> io::Result<()> {
    let mut line = serde_json::to_vec(e).map_err(io::Error::other)?;
    line.push(b'\n');
    w.write_all(&line)
}
