//! `--format ndjson`: one JSON object per failure event, in input order,
//! written as the events are found.

use crate::event::Event;
use std::io::{self, Write};

/// Writes one event as a JSON line.
pub fn write_event(w: &mut dyn Write, e: &Event) -> io::Result<()> {
    serde_json::to_writer(&mut *w, e).map_err(io::Error::other)?;
    w.write_all(b"\n")
}
