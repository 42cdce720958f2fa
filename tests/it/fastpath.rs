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

/// Every line of the test logs that a narrowing rule reads gives the record
/// its general rule gives when the narrowing rule is switched off (by a
/// user's rule of the same id that matches nothing): the fast path changes
/// nothing but the fields it deliberately leaves out (a delivered line's text).
#[test]
fn narrowing_rules_read_the_test_logs_as_their_general_rules() {
    use bouncelog::inspect::check::parse_sample;
    use bouncelog::patterns::{PatternSet, FIELD_NAMES};
    let fast = PatternSet::load(None).expect("built-ins load");
    let narrowing: Vec<(&str, &str)> = fast
        .mtas
        .iter()
        .flat_map(|m| m.rules.iter().map(move |r| (m.name.as_str(), r)))
        .filter(|(_, r)| r.narrows.is_some())
        .map(|(m, r)| (m, r.id.as_str()))
        .collect();
    assert!(narrowing.len() >= 3, "{narrowing:?}");
    let dir = tempfile::tempdir().expect("temp dir");
    for (i, (mta, id)) in narrowing.iter().enumerate() {
        fs::write(
            dir.path().join(format!("off{i}.toml")),
            format!("schema = 1\nmta = \"{mta}\"\n\n[[rule]]\nid = \"{id}\"\nkind = \"anchor\"\nregex = '^\\b\\B'\n"),
        )
        .expect("write");
    }
    let plain = PatternSet::load(Some(dir.path())).expect("overrides load");
    let mut compared = 0;
    for file in [
        "postfix/mail.log",
        "postfix/logwatch-td.log",
        "postfix/loopback-postlogd.log",
        "exim/mainlog",
        "exim/loopback-mainlog",
        "qmail/send-multilog",
        "qmail/maillog-splogger",
    ] {
        let bytes = fs::read(crate::util::testdata(file)).expect("read");
        for line in String::from_utf8_lossy(&bytes).lines() {
            let Some(a) = parse_sample(&fast, line) else {
                continue;
            };
            let rule = &fast.mtas[a.mta].rules[a.rule];
            if rule.narrows.is_none() {
                continue;
            }
            let b = parse_sample(&plain, line).expect("the general rule reads it");
            let general = &plain.mtas[b.mta].rules[b.rule];
            assert_eq!(Some(general.id.as_str()), rule.narrows.as_deref(), "{line}");
            let (mut fa, mut fb) = (format!("{:?}", a.fields), format!("{:?}", b.fields));
            if rule.groups[FIELD_NAMES.iter().position(|n| *n == "text").expect("text")].is_none() {
                // A narrowing rule without a text group leaves the text out.
                fa = format!(
                    "{:?}",
                    bouncelog::event::Fields {
                        text: None,
                        ..a.fields.clone()
                    }
                );
                fb = format!(
                    "{:?}",
                    bouncelog::event::Fields {
                        text: None,
                        ..b.fields.clone()
                    }
                );
            }
            assert_eq!(fa, fb, "{line}");
            assert_eq!(
                (
                    a.kind,
                    a.direction,
                    a.severity,
                    a.cause,
                    a.reply_rule,
                    &a.code
                ),
                (
                    b.kind,
                    b.direction,
                    b.severity,
                    b.cause,
                    b.reply_rule,
                    &b.code
                ),
                "{line}"
            );
            compared += 1;
        }
    }
    assert!(compared > 50, "{compared}");
}
