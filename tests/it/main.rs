//! The integration tests, one binary (as ripgrep does): each module covers
//! one area; `util` holds the helpers that run the built binary.

mod blocklist;
mod classify;
mod cli;
mod compare;
mod coverage;
mod cron;
mod csv_events;
mod exchange;
mod exim;
mod fastpath;
mod findings;
mod formats;
mod golden;
mod html;
mod journal;
mod lineforms;
mod merge;
mod merge_findings;
mod output;
mod pattern_errors;
mod patterns;
mod plumbing;
mod postfix;
mod qmail;
mod replies;
mod robustness;
mod textreport;
mod typos;
mod user_patterns;
mod util;
mod zones;
