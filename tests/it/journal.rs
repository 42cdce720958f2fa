//! `--journal` runs journalctl: when it is missing, fails, or cannot open
//! the journal files (which journalctl reports on stderr with status 0), the
//! run says so in one line and exits 2 instead of reporting an empty journal.
//! A fake journalctl on the PATH stands in for the real one.

use crate::util::bouncelog;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// A directory holding a `journalctl` script with this body.
fn fake(dir: &Path, body: &str) {
    let p = dir.join("journalctl");
    fs::write(&p, format!("#!/bin/sh\n{body}\n")).expect("w");
    fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).expect("chmod");
}

fn run(path: &Path) -> std::process::Output {
    bouncelog()
        .args(["analyze", "--quiet", "--journal"])
        .env("PATH", path)
        .output()
        .expect("run")
}

fn one_error_line(out: &std::process::Output, says: &str) {
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("bouncelog: journalctl") && err.contains(says),
        "{err}"
    );
}

#[test]
fn missing_journalctl_is_an_error() {
    let empty = tempfile::tempdir().expect("tmp");
    one_error_line(&run(empty.path()), "not found");
}

#[test]
fn failing_journalctl_is_an_error() {
    let dir = tempfile::tempdir().expect("tmp");
    fake(
        dir.path(),
        "echo 'Failed to open journal: Bad message' >&2; exit 1",
    );
    one_error_line(&run(dir.path()), "Failed to open journal: Bad message");
    fake(dir.path(), "exit 3");
    one_error_line(&run(dir.path()), "exited with status 3");
}

#[test]
fn permission_denied_with_status_0_is_an_error() {
    let dir = tempfile::tempdir().expect("tmp");
    fake(
        dir.path(),
        "echo 'No journal files were opened due to insufficient permissions.' >&2; exit 0",
    );
    one_error_line(&run(dir.path()), "systemd-journal");
}

#[test]
fn a_working_journalctl_is_read() {
    let dir = tempfile::tempdir().expect("tmp");
    let entry = r#"{"__REALTIME_TIMESTAMP":"1741590105000000","_HOSTNAME":"mx1","SYSLOG_IDENTIFIER":"postfix/smtpd","_PID":"4242","MESSAGE":"NOQUEUE: reject: RCPT from mail.example.org[198.51.100.7]: 550 5.1.1 <ghost@example.com>: Recipient address rejected: User unknown in local recipient table; from=<alice@example.org> to=<ghost@example.com> proto=ESMTP helo=<mail.example.org>"}"#;
    fake(dir.path(), &format!("echo '{entry}'"));
    let out = bouncelog()
        .args(["analyze", "--format", "json", "--journal"])
        .env("PATH", dir.path())
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(r["totals"]["failures"], 1);
}

/// The same events in a syslog file (as rsyslog writes it from the journal)
/// and as journal entries, stamped up to a second apart.
fn both_forms(dir: &Path) -> (String, String) {
    let reject = |rcpt: &str| {
        format!("NOQUEUE: reject: RCPT from mail.example.org[198.51.100.7]: 550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in local recipient table; from=<alice@example.org> to=<{rcpt}> proto=ESMTP helo=<mail.example.org>")
    };
    let file_line = |stamp: &str, pid: u32, msg: &str| {
        format!("Mar 10 {stamp} mx1 postfix/smtpd[{pid}]: {msg}\n")
    };
    let entry = |micros: i64, pid: u32, msg: &str| {
        format!(
            "{}\n",
            serde_json::json!({"__REALTIME_TIMESTAMP": micros.to_string(), "_HOSTNAME": "mx1.example.com",
                "SYSLOG_IDENTIFIER": "postfix/smtpd", "_PID": pid.to_string(), "MESSAGE": msg})
        )
    };
    // 2025-03-10T07:01:45Z
    let t = 1_741_590_105_000_000i64;
    let file = [
        file_line("07:01:45", 4242, &reject("a@example.com")),
        // journald saw this one at 07:01:59.95, rsyslog stamped 07:02:00.
        file_line("07:02:00", 4242, &reject("b@example.com")),
        file_line("07:04:00", 4242, &reject("d@example.com")),
        file_line("07:04:00", 4242, &reject("d@example.com")),
    ]
    .concat();
    let journal = [
        entry(t + 700_000, 4242, &reject("a@example.com")),
        entry(t + 14_950_000, 4242, &reject("b@example.com")),
        // Only in the journal (the file was rotated before it was written).
        entry(t + 75_000_000, 4300, &reject("c@example.com")),
        entry(t + 135_100_000, 4242, &reject("d@example.com")),
        entry(t + 135_200_000, 4242, &reject("d@example.com")),
    ]
    .concat();
    let f = dir.join("mail.log");
    fs::write(&f, file).expect("w");
    fs::File::options()
        .write(true)
        .open(&f)
        .and_then(|h| {
            h.set_modified(
                std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_741_600_000),
            )
        })
        .expect("mtime");
    let j = dir.join("journal.json");
    fs::write(&j, journal).expect("w");
    (f.to_str().expect("p").into(), j.to_str().expect("p").into())
}

#[test]
fn the_same_event_through_journald_and_a_file_counts_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let (file, journal) = both_forms(dir.path());
    for order in [[&file, &journal], [&journal, &file]] {
        let r = crate::util::json(&[order[0].as_str(), order[1].as_str()]);
        assert_eq!(
            r["totals"]["failures"], 5,
            "a, b, c once, d twice: {}",
            r["totals"]
        );
        assert_eq!(r["totals"]["duplicates_skipped"], 4);
    }
    // The README's systemd unit: --journal next to the files.
    let bin = dir.path().join("bin");
    fs::create_dir(&bin).expect("dir");
    fake(&bin, &format!("/bin/cat '{journal}'"));
    let out = bouncelog()
        .args(["analyze", "--format", "json", "--journal", &file])
        .env("PATH", &bin)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(r["totals"]["failures"], 5);
    // Each alone counts all of its own lines.
    assert_eq!(crate::util::json(&[&file])["totals"]["failures"], 4);
    assert_eq!(crate::util::json(&[&journal])["totals"]["failures"], 5);
}
