//! The middle of the pipeline: what happens to parsed records. [`pipeline`]
//! drives reading, parsing and correlation over the inputs; [`correlate`]
//! joins the records of one message into failure events (its open state in
//! [`aged`]); [`dedupe`] drops
//! lines seen twice; [`partial`] folds a chunk in the parallel stage; [`counter`] counts distinct values under a cap (a leaf);
//! [`summary`] aggregates events into groups and counters;
//! [`evidence`] gathers what the findings need; [`window`] selects the time
//! range; [`redact`] hides local parts for `--redact`; [`compare`] says what
//! changed since a previous report (reports are read back in
//! [`report::merge`](crate::report::merge)).

pub mod aged;
pub mod compare;
pub mod correlate;
pub mod counter;
pub mod dedupe;
pub mod evidence;
pub mod evidence_json;
pub mod partial;
pub mod pipeline;
pub mod redact;
pub mod summary;
pub mod window;
