//! `analyze --compare PREVIOUS.json`: what changed since a previous report.

use crate::util::{bouncelog, testdata};

fn report(log: &str, dir: &std::path::Path) -> std::path::PathBuf {
    let p = dir.join("prev.json");
    let out = bouncelog()
        .args(["analyze", "--format", "json", "--output"])
        .arg(&p)
        .arg(testdata(log))
        .output()
        .expect("run");
    assert!(out.status.success());
    p
}

#[test]
fn the_same_log_again_changes_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let prev = report("postfix/mail.log", dir.path());
    let out = bouncelog()
        .args(["analyze", "--compare"])
        .arg(&prev)
        .arg(testdata("postfix/mail.log"))
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    let first: Vec<&str> = text.lines().take(2).collect();
    assert!(
        first[0].starts_with("Since the previous report ("),
        "{text}"
    );
    assert_eq!(first[1].trim(), "no new causes, no spikes, none gone");
}

#[test]
fn another_day_shows_new_and_gone_causes_in_text_and_json() {
    let dir = tempfile::tempdir().expect("tmp");
    let prev = report("exim/mainlog", dir.path());
    let out = bouncelog()
        .args(["analyze", "--compare"])
        .arg(&prev)
        .arg(testdata("postfix/mail.log"))
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("  new:   unknown_user.local_recipient_table (inbound): 5 message(s)"),
        "{text}"
    );
    assert!(text.lines().any(|l| l.starts_with("  gone:  ")), "{text}");
    let out = bouncelog()
        .args(["analyze", "--format", "json", "--compare"])
        .arg(&prev)
        .arg(testdata("postfix/mail.log"))
        .output()
        .expect("run");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let changes = v["changes"].as_array().expect("changes");
    assert!(changes.iter().any(|c| c["kind"] == "gone"));
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/schema/report.schema.json"
        ))
        .expect("schema"),
    )
    .expect("schema json");
    assert!(
        jsonschema::is_valid(&schema, &v),
        "the report with changes fits the schema"
    );
}

#[test]
fn an_unreadable_previous_report_is_an_error() {
    let out = bouncelog()
        .args(["analyze", "--compare", "/nonexistent/prev.json"])
        .arg(testdata("postfix/mail.log"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/prev.json"));
}
