//! The pattern sets: the built-ins are clean and cover the required causes,
//! every sample of every rule classifies to its own rule, broken user files
//! give `file:line: what is wrong` (never a panic), and `--patterns DIR` adds
//! rules without recompiling.

use crate::util::{bouncelog, testdata};
use bouncelog::inspect::check::check;
use bouncelog::patterns::{builtin_sources, dir_sources, PatternSet};

/// Cause ids that are a stable contract of the JSON output.
const REQUIRED: &[&str] = &[
    "unknown_user.local_recipient_table",
    "unknown_user.virtual_alias_table",
    "unknown_user.virtual_mailbox_table",
    "unknown_user.relay_recipient_table",
    "unknown_user.address_verification",
    "unknown_user.unrouteable",
    "unknown_user.no_such_user",
    "unknown_user.mailbox_unavailable",
    "mailbox_disabled",
    "mailbox_full",
    "domain_not_found",
    "relay_denied",
    "blocklisted",
    "content_rejected",
    "policy",
    "greylisted",
    "sender_rejected",
    "invalid_address",
    "protocol_error",
    "connection_failed",
    "expired",
    "other",
];

#[test]
fn builtins_have_no_diagnostics() {
    let diags = check(&builtin_sources());
    assert!(
        diags.is_empty(),
        "{}",
        diags
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn required_causes_exist_with_hints_for_each_direction_they_occur_in() {
    let ps = PatternSet::load(None).expect("load");
    for id in REQUIRED {
        let i = ps
            .cause_id(id)
            .unwrap_or_else(|| panic!("missing cause {id}"));
        assert!(!ps.causes[i].title.is_empty());
        assert!(!ps.causes[i].hints.is_empty(), "{id} has no hints");
    }
    // Unknown users get concrete Postfix advice inbound, list hygiene outbound.
    let lrt = ps
        .cause_id("unknown_user.local_recipient_table")
        .expect("id");
    let inbound = ps
        .hints(lrt, bouncelog::event::Direction::Inbound, "postfix")
        .join(" ");
    assert!(inbound.contains("local_recipient_maps") && inbound.contains("mydestination"));
    let nsu = ps.cause_id("unknown_user.no_such_user").expect("id");
    let outbound = ps
        .hints(nsu, bouncelog::event::Direction::Outbound, "postfix")
        .join(" ");
    assert!(outbound.contains("typo") && outbound.contains("dig MX"));
}

#[test]
fn every_reply_sample_classifies_to_its_own_rule() {
    let ps = PatternSet::load(None).expect("load");
    let mut n = 0;
    for (i, r) in ps.reply.rules.iter().enumerate() {
        for s in &r.samples {
            let reply = bouncelog::patterns::Reply {
                text: s,
                host: r.sample_host.as_deref(),
                direction: r.direction,
                dsn: None,
            };
            assert_eq!(ps.classify(&reply).rule, Some(i), "{}: {s}", r.id);
            n += 1;
        }
    }
    assert!(n >= 60, "only {n} samples");
}

#[test]
fn every_line_sample_gives_its_expected_event() {
    let ps = PatternSet::load(None).expect("load");
    for (mi, m) in ps.mtas.iter().enumerate() {
        for (ri, rule) in m.rules.iter().enumerate() {
            assert!(!rule.samples.is_empty(), "{} has no sample", rule.id);
            for s in &rule.samples {
                let rec = if rule.when.is_empty() {
                    bouncelog::inspect::check::parse_sample(&ps, &s.line)
                } else {
                    bouncelog::inspect::check::parse_csv_sample(&ps, mi, &s.line)
                }
                .unwrap_or_else(|| panic!("{}: no match", rule.id));
                assert_eq!(rec.rule, ri, "{}", rule.id);
                if let Some(c) = s.expect.get("cause") {
                    assert_eq!(&ps.causes[rec.cause].id, c, "{}", rule.id);
                }
            }
        }
    }
}

fn diags_of(dir: &str) -> Vec<String> {
    let mut sources = builtin_sources();
    sources.extend(dir_sources(&testdata(dir)).expect("read dir"));
    check(&sources)
        .iter()
        .filter(|d| d.error)
        .map(|d| d.to_string())
        .collect()
}

#[test]
fn broken_pattern_files_are_reported_with_file_and_line() {
    let cases = [
        (
            "bad-patterns/invalid-regex",
            "broken.toml:6:",
            "invalid regex",
        ),
        (
            "bad-patterns/unknown-cause",
            "cause.toml:5:",
            "unknown cause \"no_such_cause_id\"",
        ),
        (
            "bad-patterns/sample-unmatched",
            "sample.toml:4:",
            "sample 1 does not match",
        ),
        ("bad-patterns/no-samples", "nosample.toml:5:", "no samples"),
        ("bad-patterns/bad-toml", "syntax.toml:5:", ""),
    ];
    for (dir, at, what) in cases {
        let d = diags_of(dir);
        assert_eq!(d.len(), 1, "{dir}: {d:?}");
        assert!(
            d[0].starts_with("error: ") && d[0].contains(at) && d[0].contains(what),
            "{dir}: {}",
            d[0]
        );
    }
}

#[test]
fn patterns_check_command() {
    bouncelog()
        .args(["patterns", "check"])
        .assert()
        .success()
        .stdout(predicates::str::contains("ok: "));
    let out = bouncelog()
        .args(["patterns", "check"])
        .arg(testdata("bad-patterns/invalid-regex"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8(out.stdout).expect("utf8");
    assert!(
        text.contains("broken.toml:6: rule \"local.broken\": invalid regex"),
        "{text}"
    );
    // analyze refuses to run on broken patterns, with the same one-line message
    let out = bouncelog()
        .args(["analyze", "--patterns"])
        .arg(testdata("bad-patterns/unknown-cause"))
        .arg(testdata("postfix/mail.log"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown cause"));
}

#[test]
fn patterns_list_shows_causes_and_rules() {
    let out = bouncelog()
        .args(["patterns", "list"])
        .output()
        .expect("run");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf8");
    for id in REQUIRED {
        assert!(text.contains(id), "{id}");
    }
    assert!(text.contains("postfix.smtpd.reject"));
}

#[test]
fn user_patterns_extend_without_recompiling() {
    let dir = tempfile::tempdir().expect("tmp");
    let log = dir.path().join("mail.log");
    std::fs::write(
        &log,
        "Mar 10 09:00:03 mx1 postfix/smtp[4540]: 3A1B2C4D5E: to=<kim@far.example>, relay=mx.far.example[198.51.100.9]:25, delay=1, delays=0/0/0.5/0.5, dsn=5.7.1, status=bounced (host mx.far.example[198.51.100.9] said: 550 5.7.1 Mail from your country is not accepted here (in reply to RCPT TO command))\n",
    )
    .expect("w");
    let without = crate::util::json(&[log.to_str().expect("p")]);
    assert_eq!(without["groups"][0]["cause"], "policy");
    let with = crate::util::json(&[
        "--patterns",
        testdata("extra-patterns").to_str().expect("p"),
        log.to_str().expect("p"),
    ]);
    assert_eq!(with["groups"][0]["cause"], "policy.geo_block");
    assert_eq!(
        with["groups"][0]["title"],
        "Refused by the receiver's country filter"
    );
    assert!(with["groups"][0]["hints"][0]
        .as_str()
        .expect("hint")
        .contains("smarthost"));
    bouncelog()
        .args(["patterns", "check"])
        .arg(testdata("extra-patterns"))
        .assert()
        .success();
}

#[test]
fn a_rule_that_narrows_another_must_agree_with_it() {
    let dir = tempfile::tempdir().expect("tmp");
    // Claims to narrow the delivery rule, but its sample is an NDR notice.
    std::fs::write(
        dir.path().join("narrow.toml"),
        r#"schema = 1
mta = "postfix"

[[rule]]
id = "site.ndr"
kind = "ndr"
narrows = "postfix.delivery"
regex = '^(?P<queue_id>[0-9A-F]{6,}): sender non-delivery notification: '

[[rule.sample]]
line = "Dec 29 03:03:48 mail postfix/bounce[9321]: 732BB407C3: sender non-delivery notification: 5DE184083C"
expect = { queue_id = "732BB407C3" }
"#,
    )
    .expect("w");
    let (code, text) = crate::util::check_dir(dir.path());
    assert_eq!(code, Some(2));
    assert!(
        text.contains("narrow.toml")
            && text.contains("not matched by a later rule \"postfix.delivery\""),
        "{text}"
    );
    // The built-in fast rule for successful deliveries agrees with its general rule.
    bouncelog().args(["patterns", "check"]).assert().success();
}
