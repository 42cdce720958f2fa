//! The fast path's promises are checked, not trusted: `onepass = true` on a
//! rule whose regex is not one-pass, and a rule that `narrows` another but
//! captures a field differently, are errors of `patterns check`; the hot
//! Exim and qmail line shapes are read by their narrowed rules with the same
//! results as the general ones.

use crate::util::{bouncelog, check_dir};
use std::fs;

fn site(rule: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    fs::write(
        dir.path().join("site.toml"),
        format!("schema = 1\nmta = \"exim\"\n\n{rule}"),
    )
    .expect("write");
    dir
}

#[test]
fn onepass_is_checked() {
    let dir = site(
        r#"[[rule]]
id = "site.received"
kind = "anchor"
onepass = true
regex = '''^(?P<queue_id>\w{6}-\w{6}-\w{2}) <= (?P<sender>\S+)(?: (?:\S+ )*?H=(?P<client>\S+))?'''

[[rule.sample]]
line = "2025-03-10 10:01:01 1trZD6-0007Ll-2T <= news@example.com U=www P=local H=x"
expect = { queue_id = "1trZD6-0007Ll-2T" }
"#,
    );
    let (code, out) = check_dir(dir.path());
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("site.received") && out.contains("not one-pass"),
        "{out}"
    );
}

#[test]
fn a_narrowing_rule_must_capture_what_the_general_rule_does() {
    let dir = site(
        r#"[[rule]]
id = "site.received.local_part"
kind = "anchor"
narrows = "exim.received"
onepass = true
regex = '''^(?P<queue_id>[0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2}) <= (?P<sender>[^@\s]+)'''

[[rule.sample]]
line = "2025-03-10 10:01:01 1trZD6-0007Ll-2T <= news@example.com U=www P=local S=10"
expect = { queue_id = "1trZD6-0007Ll-2T", sender = "news" }
"#,
    );
    let (code, out) = check_dir(dir.path());
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("sender is \"news\", but \"news@example.com\" by \"exim.received\""),
        "{out}"
    );
}

#[test]
fn built_in_narrowed_rules_pass_the_check() {
    let out = bouncelog()
        .args(["patterns", "check"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.starts_with("ok: "), "{text}");
}

/// The Exim and qmail test logs, whose message lines now go through the
/// narrowed rules, still give every sender and client to their failures.
#[test]
fn narrowed_rules_keep_the_correlation() {
    let events = crate::util::events(&[crate::util::testdata("exim/mainlog")
        .to_str()
        .expect("path")]);
    // The outbound failures of message 1trZC4-0000Cd-4E have its sender and client.
    let out: Vec<_> = events
        .iter()
        .filter(|e| e["queue_id"] == "1trZC4-0000Cd-4E")
        .collect();
    assert!(!out.is_empty());
    for e in out {
        assert_eq!(e["sender"], "news@example.com", "{e}");
        assert_eq!(e["client"], "laptop.example.com [192.0.2.50]", "{e}");
    }
}
