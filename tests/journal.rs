//! `--journal` runs journalctl: when it is missing, fails, or cannot open
//! the journal files (which journalctl reports on stderr with status 0), the
//! run says so in one line and exits 2 instead of reporting an empty journal.
//! A fake journalctl on the PATH stands in for the real one.

mod util;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use util::bouncelog;

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
