//! `--day`/`--since`/`--until` on inputs that do not reach into the window:
//! a past window with no line read is said on stderr, marked in the JSON
//! (`window.coverage`) and gets exit status 3, so that cron's "nothing
//! failed yesterday" is never claimed without evidence; a window covered only
//! in part gets a warning.

use crate::util::bouncelog;
use std::fs;
use std::path::Path;

fn reject(stamp: &str, rcpt: &str) -> String {
    format!(
        "{stamp} mx1 postfix/smtpd[4242]: NOQUEUE: reject: RCPT from mail.example.org[198.51.100.7]: 550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in local recipient table; from=<alice@example.org> to=<{rcpt}> proto=ESMTP helo=<mail.example.org>\n"
    )
}

fn removed(stamp: &str) -> String {
    format!("{stamp} mx1 postfix/qmgr[815]: 5C0A21C0011: removed\n")
}

/// A log of 10 March 2026 from 06:25 to 23:59 (rotated at 06:25), one failure at noon.
fn log(dir: &Path) -> String {
    let p = dir.join("mail.log");
    let text = [
        removed("2026-03-10T06:25:01+00:00"),
        reject("2026-03-10T12:00:00+00:00", "ghost@example.com"),
        removed("2026-03-10T23:59:00+00:00"),
    ]
    .concat();
    fs::write(&p, text).expect("w");
    p.to_str().expect("p").to_string()
}

fn run(args: &[&str]) -> std::process::Output {
    bouncelog().arg("analyze").args(args).output().expect("run")
}

#[test]
fn a_past_day_the_inputs_do_not_reach_is_exit_3() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = log(dir.path());
    for day in ["2026-03-09", "2026-03-12"] {
        let out = run(&["--quiet", "--day", day, &p]);
        assert_eq!(out.status.code(), Some(3), "{day}");
        assert!(out.stdout.is_empty());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("no input reaches into the window") && err.contains("2026-03-10 06:25"),
            "{err}"
        );
        let out = run(&["--format", "json", "--day", day, &p]);
        assert_eq!(out.status.code(), Some(3));
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(r["window"]["coverage"], "none");
        assert_eq!(r["window"]["first_line"], "2026-03-10T06:25:01Z");
    }
    // An empty input covers nothing either.
    let empty = dir.path().join("empty.log");
    fs::write(&empty, "").expect("w");
    let out = run(&["--quiet", "--day", "2026-03-10", empty.to_str().expect("p")]);
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn a_partly_covered_day_is_a_warning_a_covered_day_is_quiet() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = log(dir.path());
    // 00:00 to 06:25 is in the previous, rotated file: covered only in part.
    let out = run(&["--format", "json", "--day", "2026-03-10", &p]);
    assert_eq!(out.status.code(), Some(0));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(r["window"]["coverage"], "partial");
    assert_eq!(r["totals"]["failures"], 1);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: the inputs cover only part of the window"),
        "{err}"
    );
    // With the rotated file the day is covered: nothing on stderr.
    let older = dir.path().join("mail.log.1");
    fs::write(&older, removed("2026-03-09T23:58:00+00:00")).expect("w");
    let out = run(&[
        "--quiet",
        "--day",
        "2026-03-10",
        &p,
        older.to_str().expect("p"),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = crate::util::json(&["--day", "2026-03-10", &p, older.to_str().expect("p")]);
    assert_eq!(r["window"]["coverage"], "full");
    // No window: nothing to cover.
    let r = crate::util::json(&[&p]);
    assert!(r["window"]["coverage"].is_null());
}

#[test]
fn an_error_wins_over_coverage() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = log(dir.path());
    let out = run(&[
        "--quiet",
        "--day",
        "2026-03-09",
        &p,
        "/nonexistent/mail.log",
    ]);
    assert_eq!(out.status.code(), Some(2));
}
