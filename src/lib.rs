//! bouncelog: reads mail-server logs and tells a postmaster why mail was
//! rejected or bounced, grouped by cause, with what to do about it.
//!
//! Data flow: [`source`] reads inputs in chunks of lines, [`parse`] turns
//! lines into records with the [`patterns`] (syslog envelope by [`syslog`]),
//! [`correlate`] joins records of one message into failure events,
//! [`summary`] aggregates them, and [`report`] renders the result. The
//! command line lives in [`cli`]; [`analyze`] ties the pipeline together.

pub mod analyze;
pub mod blocklist;
pub mod cli;
pub mod correlate;
pub mod csvlog;
pub mod dedupe;
pub mod diag;
pub mod event;
pub mod explain;
pub mod failon;
pub mod findings;
pub mod journal;
pub mod merge;
pub mod output;
pub mod parse;
pub mod patcmd;
pub mod patterns;
pub mod redact;
pub mod report;
pub mod sanitize;
pub mod source;
pub mod summary;
pub mod suppress;
pub mod syslog;
pub mod window;
