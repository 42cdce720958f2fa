//! Robustness plumbing: a closed output pipe stops reading at once, the
//! README's cron alert fires on status 1 only (not on errors), and error
//! messages are one plain line.

use crate::util::{bouncelog, testdata};
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn a_closed_pipe_stops_reading_at_once() {
    // An endless input: without stopping, the run would never end.
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("bouncelog"))
        .args(["analyze", "--format", "ndjson", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let one = fs::read(testdata("postfix/mail.log")).expect("read");
    let writer = std::thread::spawn(move || {
        let mut sent = 0u64;
        while stdin.write_all(&one).is_ok() {
            sent += one.len() as u64;
        }
        sent
    });
    let mut first = [0u8; 64];
    child
        .stdout
        .as_mut()
        .expect("out")
        .read_exact(&mut first)
        .expect("read");
    drop(child.stdout.take());
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("still reading 30 s after its output pipe closed");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("err")
        .read_to_string(&mut err)
        .expect("read");
    assert!(err.is_empty(), "{err}");
    assert!(writer.join().expect("writer") > 0);
}

/// The README's cron alert line, with the binary and the log replaced.
fn cron_alert() -> String {
    let readme =
        fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let line = readme
        .lines()
        .find(|l| l.contains("--fail-on 'unknown_user>200'") && l.contains("logger"))
        .expect("cron alert line in README");
    // Five time fields and the user, then the command.
    line.splitn(7, ' ').nth(6).expect("command").to_string()
}

#[test]
fn the_cron_alert_fires_on_a_spike_not_on_an_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let bin_dir = dir.path().join("bin");
    fs::create_dir(&bin_dir).expect("dir");
    let logged = dir.path().join("logged");
    let logger = bin_dir.join("logger");
    fs::write(
        &logger,
        format!("#!/bin/sh\necho \"$@\" >> '{}'\n", logged.display()),
    )
    .expect("w");
    fs::set_permissions(&logger, fs::Permissions::from_mode(0o755)).expect("chmod");
    let bouncelog = assert_cmd::cargo::cargo_bin("bouncelog");
    std::os::unix::fs::symlink(&bouncelog, bin_dir.join("bouncelog")).expect("link");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = |log: &str| {
        let _ = fs::remove_file(&logged);
        let cmd = cron_alert().replace("/var/log/mail.log", log);
        Command::new("sh")
            .arg("-c")
            .arg(&cmd)
            .env("PATH", &path)
            .env("TZ", "UTC")
            .output()
            .expect("sh");
        fs::read_to_string(&logged).unwrap_or_default()
    };
    // 201 unknown users in the last minutes: a spike.
    let now = chrono::Utc::now() - chrono::Duration::minutes(2);
    let spike: String = (0..201)
        .map(|i| {
            format!(
                "{} mx1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[203.0.113.9]: 550 5.1.1 <u{i}@example.com>: Recipient address rejected: User unknown in local recipient table; from=<s@spam.example> to=<u{i}@example.com> proto=ESMTP helo=<x>\n",
                now.to_rfc3339()
            )
        })
        .collect();
    let p = dir.path().join("mail.log");
    fs::write(&p, spike).expect("w");
    assert!(run(p.to_str().expect("p")).contains("unknown-user spike"));
    // An unreadable log is an error (status 2), not a spike.
    assert_eq!(run("/nonexistent/mail.log"), "");
    // A quiet log is neither.
    let quiet = dir.path().join("quiet.log");
    fs::write(&quiet, "").expect("w");
    assert_eq!(run(quiet.to_str().expect("p")), "");
}

#[test]
fn errors_are_one_plain_line() {
    for args in [
        vec!["merge", "/nonexistent/r.json"],
        vec!["analyze", "/nonexistent/mail.log"],
        vec!["analyze", "-o", "/proc/version/x", "/dev/null"],
    ] {
        let out = bouncelog().args(&args).output().expect("run");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        for noise in ["os error", "Some(", ".bouncelog-", "Os {"] {
            assert!(!err.contains(noise), "{args:?}: {err}");
        }
        assert!(err.starts_with("bouncelog: /"), "{err}");
    }
}
