//! `analyze --patterns DIR` applies the checks of `patterns check` to DIR's
//! files: a rule whose sample does not match, or a DIR without pattern files,
//! is refused (exit 2) rather than trusted.

use crate::util::{bouncelog, testdata};
use std::fs;

const GOOD: &str = r#"schema = 1

[cause."policy.geo_block"]
title = "Refused by the receiver's country filter"
severity = "hard"
meaning = "The receiving server refuses mail from our IP's country."
hints = [
  { direction = "outbound", text = "Ask the recipient's postmaster to allow our sending IP." },
]

[[reply]]
id = "site.geo_block"
cause = "policy.geo_block"
regex = '(?i)mail from your country is not accepted'
samples = ["550 5.7.1 Mail from your country is not accepted here"]
"#;

fn analyze(dir: &std::path::Path) -> std::process::Output {
    bouncelog()
        .args(["analyze", "--patterns"])
        .arg(dir)
        .arg(testdata("postfix/mail.log"))
        .output()
        .expect("run")
}

#[test]
fn a_sample_that_does_not_match_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    fs::write(dir.path().join("geo.toml"), GOOD).expect("w");
    let ok = analyze(dir.path());
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let broken = GOOD.replace("Mail from your country", "Mail from your county");
    fs::write(dir.path().join("geo.toml"), broken).expect("w");
    let out = analyze(dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("geo.toml") && err.contains("site.geo_block"),
        "{err}"
    );
}

#[test]
fn an_empty_patterns_dir_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = analyze(dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no *.toml pattern files"), "{err}");
}
