//! Golden outputs (insta snapshots under `tests/it/snapshots/`): every
//! format on the bundled test logs of each MTA, so that any change to what a
//! user sees shows up in review as a diff. Regenerate after an intended
//! change with `INSTA_UPDATE=always cargo test --test it golden::` and read
//! the diff before committing. The run's own time (`last_run`) is the one
//! line that differs between runs; it is replaced before comparing.

use crate::util::bouncelog;

const FORMATS: &[&str] = &[
    "text",
    "markdown",
    "csv",
    "json",
    "ndjson",
    "prometheus",
    "html",
];

fn run(format: &str, log: &str) -> String {
    let out = bouncelog()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["analyze", "--format", format, log])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{format} {log}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf8 output");
    text.lines()
        .map(|l| {
            if l.starts_with("bouncelog_last_run_timestamp_seconds ") {
                "bouncelog_last_run_timestamp_seconds <now>"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every format of one log (relative to the checkout: reports name their
/// inputs as given), each its own snapshot `MTA-FORMAT`.
fn every_format(mta: &str, log: &str) {
    for format in FORMATS {
        let text = run(format, log);
        assert!(!text.is_empty(), "{format} {log} wrote nothing");
        insta::assert_snapshot!(format!("{mta}-{format}"), text);
    }
}

#[test]
fn postfix() {
    every_format("postfix", "testdata/postfix/mail.log");
}

#[test]
fn exim() {
    every_format("exim", "testdata/exim/mainlog");
}

#[test]
fn qmail() {
    every_format("qmail", "testdata/qmail/send-multilog");
}

#[test]
fn exchange() {
    every_format("exchange", "testdata/exchange/MSGTRK2025031007-1.LOG");
}
