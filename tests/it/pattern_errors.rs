//! Mistakes in a pattern file are reported at the line of the field at
//! fault (read from the parser's spans, not by searching the text): a bad
//! regex at its `regex =` line, an unknown field at its key, a second rule
//! of an id at the second one. `patterns check` and `analyze --patterns`
//! say the same.

use crate::util::{bouncelog, check_dir};
use std::fs;

/// A cause of the test's own, so that rules have one to name.
const CAUSE: &str = r#"
[cause."zz.cause"]
title = "A test cause"
severity = "hard"
hints = [{ text = "nothing to do" }]
"#;

/// `patterns check` on one file (`rules`, then [`CAUSE`]): the exit code and
/// the error lines it printed, without the file name.
fn check(rules: &str) -> (Option<i32>, Vec<String>) {
    let dir = tempfile::tempdir().expect("tmp");
    fs::write(dir.path().join("site.toml"), format!("{rules}{CAUSE}")).expect("w");
    let (code, out) = check_dir(dir.path());
    let errors = out
        .lines()
        .filter(|l| l.starts_with("error: "))
        .map(|l| {
            l.split_once("site.toml")
                .map_or(l, |(_, rest)| rest)
                .to_string()
        })
        .collect();
    (code, errors)
}

#[test]
fn a_bad_regex_of_a_line_rule_points_at_its_regex() {
    let (code, errors) = check(
        r#"mta = "zz"
program = '^zz$'

[[rule]]
id = "zz.broken"
kind = "reject"
cause = "zz.cause"
regex = '(unclosed'
"#,
    );
    assert_eq!(code, Some(2));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with(":8: rule \"zz.broken\": invalid regex"),
        "{errors:?}"
    );
}

#[test]
fn a_bad_reply_regex_and_an_unknown_cause_point_at_their_fields() {
    let (code, errors) = check(
        r#"
[[reply]]
id = "zz.first"
cause = "zz.cause"
samples = ["550 fine"]
regex = 'fine('

[[reply]]
id = "zz.second"
cause = "zz.nowhere"
regex = 'fine'
"#,
    );
    assert_eq!(code, Some(2));
    assert_eq!(
        errors,
        vec![":10: rule \"zz.second\": unknown cause \"zz.nowhere\"".to_string()],
        "an unknown cause is found first"
    );
    let (_, errors) = check(
        r#"
[[reply]]
id = "zz.first"
cause = "zz.cause"
samples = ["550 fine"]
regex = 'fine('
"#,
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with(":6: rule \"zz.first\": invalid regex"),
        "{errors:?}"
    );
}

#[test]
fn a_second_rule_of_an_id_is_reported_at_the_second() {
    let (code, errors) = check(
        r#"
[[reply]]
id = "zz.twice"
cause = "zz.cause"
regex = 'first words'
samples = ["550 first words"]

[[reply]]
id = "zz.twice"
cause = "zz.cause"
regex = 'other words'
samples = ["550 other words"]
"#,
    );
    assert_eq!(code, Some(2));
    assert!(
        errors
            .iter()
            .any(|e| e == ":9: duplicate rule id \"zz.twice\""),
        "{errors:?}"
    );
}

#[test]
fn an_unknown_field_points_at_its_key() {
    let (code, errors) = check(
        r#"
[[reply]]
id = "zz.typo"
cause = "zz.cause"
regx = 'words'
samples = ["550 words"]
"#,
    );
    assert_eq!(code, Some(2));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with(":5: unknown field `regx`"),
        "{errors:?}"
    );
}

#[test]
fn a_bad_kind_or_severity_points_at_its_line() {
    let (_, errors) = check(
        r#"mta = "zz"
program = '^zz$'

[[rule]]
id = "zz.kindless"
kind = "rejected"
regex = 'x'
"#,
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with(":6: rule \"zz.kindless\": unknown kind \"rejected\""),
        "{errors:?}"
    );
    let dir = tempfile::tempdir().expect("tmp");
    let text = CAUSE.replace("severity = \"hard\"", "severity = \"firm\"");
    fs::write(dir.path().join("site.toml"), text).expect("w");
    let out = bouncelog()
        .args(["analyze", "--patterns"])
        .arg(dir.path())
        .write_stdin("")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("site.toml:4: cause \"zz.cause\": severity must be"),
        "{err}"
    );
}
