//! bouncelog: reads mail-server logs and tells a postmaster why mail was
//! rejected or bounced, grouped by cause, with what to do about it.
//!
//! Data flow, one folder per stage: [`source`] reads inputs (files, `.gz`,
//! stdin, the journal) in chunks of lines; [`parse`] turns lines into
//! [`event`] records with the [`patterns`] (syslog envelope, CSV tracking
//! logs); [`analysis`] correlates records into failure events and aggregates
//! them; [`findings`] draws conclusions from the aggregate; [`report`]
//! renders it in one format per file; [`actions`] writes what other tools act
//! on; [`output`] writes files safely. [`inspect`] checks and explains the
//! pattern sets. [`cli`] is the command line, the only place clap lives: it
//! builds a plain [`config`] for one of the [`command`]s, and [`error`] is the
//! one error path that decides the exit status.

pub mod actions;
pub mod analysis;
pub mod cli;
pub mod command;
pub mod config;
pub mod error;
pub mod event;
pub mod findings;
pub mod ids;
pub mod inspect;
pub mod net;
pub mod output;
pub mod parse;
pub mod patterns;
pub mod plural;
pub mod report;
pub mod source;
pub mod zone;
