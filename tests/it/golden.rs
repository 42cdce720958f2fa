//! Golden outputs (insta snapshots under `tests/it/snapshots/`): every
//! format on the bundled test logs of each MTA, so that any change to what a
//! user sees shows up in review as a diff. Regenerate after an intended
//! change with `INSTA_UPDATE=always cargo test --test it golden::` and read
//! the diff before committing. The run's own time (`last_run`) is the one
//! line that differs between runs; it is replaced before comparing.

use crate::util::bouncelog;

/// The logs, relative to the checkout (reports name their inputs as given).
const LOGS: &[(&str, &str)] = &[
    ("postfix", "testdata/postfix/mail.log"),
    ("exim", "testdata/exim/mainlog"),
    ("qmail", "testdata/qmail/send-multilog"),
    ("exchange", "testdata/exchange/MSGTRK2025031007-1.LOG"),
];

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

#[test]
fn every_format_on_every_mta() {
    for (mta, log) in LOGS {
        for format in FORMATS {
            let text = run(format, log);
            assert!(!text.is_empty(), "{format} {log} wrote nothing");
            insta::assert_snapshot!(format!("{mta}-{format}"), text);
        }
    }
}
