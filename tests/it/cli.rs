//! The command line as a user meets it: inputs (files, gzip by magic, stdin),
//! time stamps, formats, determinism across thread counts, and bad input
//! (missing files, directories, binary junk, truncated gzip, invalid UTF-8,
//! closed pipes) with one clear line on stderr and the right exit status.

use crate::util::{bouncelog, count, json, testdata};
use flate2::write::GzEncoder;
use flate2::Compression;
use std::fs;
use std::io::{Read, Write};
use std::process::{Command, Stdio};

const MAIL_LOG: &str = "postfix/mail.log";

fn mail_log() -> String {
    testdata(MAIL_LOG).to_str().expect("path").to_string()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).expect("gz");
    e.finish().expect("gz")
}

/// The report without the parts that name the inputs.
fn groups(v: &serde_json::Value) -> serde_json::Value {
    let mut v = v.clone();
    for g in v["groups"].as_array_mut().expect("groups") {
        g["example"]["file"] = serde_json::Value::Null;
    }
    serde_json::json!([v["groups"], v["totals"], v["lines"]])
}

#[test]
fn text_report_shows_causes_counts_and_hints() {
    let out = bouncelog()
        .args(["analyze", &mail_log()])
        .output()
        .expect("run");
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "quiet on success: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf8");
    assert!(
        text.contains("Failures: 43 messages, 45 attempts (inbound 27, outbound 12, local 4)"),
        "{text}"
    );
    // pflogsumm: 3 deferred (4 deferrals), and 12 bounced besides the postfix-out instance's.
    assert!(
        text.contains("Deliveries failed: 13 bounced, 3 deferred (4 attempts), 1 expired"),
        "{text}"
    );
    // Most urgent first: our IP blocklisted (1 event) before inbound unknown users (5).
    assert!(
        text.contains("1. Sending IP or domain blocklisted — blocklisted · outbound"),
        "{text}"
    );
    assert!(text.contains("| unknown_user.local_recipient_table | in "));
    assert!(
        text.contains("`--details 32` shows each in full."),
        "{text}"
    );
    assert!(text.contains("request delisting"));
    assert!(!text.contains('\x1b'), "no ANSI codes when not a terminal");
    for line in text.lines() {
        assert!(line.chars().count() <= 100, "too wide: {line}");
    }
}

#[test]
fn gzip_is_detected_by_magic_not_by_name() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = fs::read(testdata(MAIL_LOG)).expect("read");
    let plain_name = dir.path().join("mail.log.2"); // no .gz suffix
    fs::write(&plain_name, gzip(&data)).expect("write");
    let gz = json(&[plain_name.to_str().expect("p")]);
    let plain = json(&[&mail_log()]);
    assert_eq!(gz["inputs"][0]["gzip"], true);
    assert_eq!(groups(&gz), groups(&plain));
}

#[test]
fn truncated_gzip_reports_what_was_read_and_exits_2() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut data = Vec::new();
    for _ in 0..200 {
        data.extend(fs::read(testdata(MAIL_LOG)).expect("read"));
    }
    let gz = gzip(&data);
    let cut = dir.path().join("cut.gz");
    fs::write(&cut, &gz[..gz.len() / 2]).expect("write");
    let out = bouncelog()
        .args([
            "analyze",
            "--format",
            "json",
            cut.to_str().expect("p"),
            &mail_log(),
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).expect("utf8");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cut.gz") && err.contains("gzip"), "{err}");
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let read = r["inputs"][0]["lines"].as_u64().expect("lines");
    assert!(read > 1000, "lines before the cut are analysed: {read}");
    assert!(r["inputs"][0]["error"].is_string());
    assert!(
        r["inputs"][1]["error"].is_null(),
        "the next input is still read"
    );
}

#[test]
fn stdin_with_dash_or_no_file() {
    let data = fs::read(testdata(MAIL_LOG)).expect("read");
    let plain = json(&[&mail_log()]);
    for args in [
        vec!["analyze", "--format", "json", "-"],
        vec!["analyze", "--format", "json"],
    ] {
        let out = bouncelog()
            .args(&args)
            .write_stdin(data.clone())
            .output()
            .expect("run");
        assert!(out.status.success());
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(r["inputs"][0]["path"], "-");
        assert_eq!(groups(&r)[1], groups(&plain)[1]);
    }
    // gzip on stdin too
    let out = bouncelog()
        .args(["analyze", "--format", "json"])
        .write_stdin(gzip(&data))
        .output()
        .expect("run");
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(r["totals"], plain["totals"]);
}

#[test]
fn timestamp_forms_resolve_to_the_right_instant() {
    let out = bouncelog()
        .args(["analyze", "--format", "ndjson"])
        .arg(testdata("postfix/timestamps.log"))
        .output()
        .expect("run");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf8");
    let times: Vec<(String, String)> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json");
            (
                v["recipient"].as_str().expect("r").to_string(),
                v["time"].as_str().expect("t").to_string(),
            )
        })
        .collect();
    let year = chrono::Datelike::year(&chrono::Local::now());
    let get = |r: &str| {
        times
            .iter()
            .find(|t| t.0 == r)
            .map(|t| t.1.clone())
            .expect(r)
    };
    assert_eq!(
        get("rsyslog@example.com"),
        "2025-03-10T09:14:08.123456+01:00"
    );
    assert_eq!(get("journal@example.com"), "2025-03-10T09:14:09+01:00");
    assert_eq!(get("rfc5424@example.com"), "2025-03-10T08:14:10.500Z");
    assert!(get("pri@example.com").ends_with("-03-10T07:01:45Z"));
    assert!(get("solaris@example.com").ends_with("-03-10T07:01:46Z"));
    // The file's mtime is now or earlier, so March is this year or last.
    let y: i32 = get("pri@example.com")[..4].parse().expect("year");
    assert!(y == year || y == year - 1);
}

#[test]
fn december_to_january_rollover_in_one_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("mail.log");
    fs::copy(testdata("postfix/rollover.log"), &p).expect("copy");
    let mtime = chrono::DateTime::parse_from_rfc3339("2026-01-02T06:25:00Z").expect("t");
    let f = fs::File::options().write(true).open(&p).expect("open");
    f.set_modified(std::time::SystemTime::from(mtime))
        .expect("mtime");
    drop(f);
    let out = bouncelog()
        .args(["analyze", "--format", "ndjson"])
        .arg(&p)
        .output()
        .expect("run");
    let text = String::from_utf8(out.stdout).expect("utf8");
    assert!(text.contains(r#""time":"2025-12-31T23:59:58Z""#), "{text}");
    assert!(text.contains(r#""time":"2026-01-01T00:00:02Z""#), "{text}");
}

#[test]
fn same_bytes_for_any_thread_count() {
    // Big enough for many chunks, so chunk order matters.
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("big.log");
    let one = fs::read(testdata(MAIL_LOG)).expect("read");
    let mut data = Vec::new();
    while data.len() < 5 << 20 {
        data.extend_from_slice(&one);
    }
    fs::write(&p, &data).expect("write");
    for format in ["json", "text", "ndjson"] {
        let run = |threads: &str| {
            let out = bouncelog()
                .args(["analyze", "--format", format, "--threads", threads])
                .arg(&p)
                .output()
                .expect("run");
            assert!(out.status.success());
            out.stdout
        };
        let a = run("1");
        assert_eq!(a, run("2"), "{format}");
        assert_eq!(a, run("4"), "{format}");
    }
}

#[test]
fn missing_file_and_directory_are_one_line_each_and_exit_2() {
    let dir = tempfile::tempdir().expect("tmp");
    let missing = dir.path().join("nope.log");
    let out = bouncelog()
        .args(["analyze", "--format", "json"])
        .arg(&missing)
        .arg(dir.path())
        .arg(testdata(MAIL_LOG))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).expect("utf8");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].contains("nope.log") && lines[0].contains("no such file"),
        "{err}"
    );
    assert!(lines[1].contains("is a directory"), "{err}");
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        r["totals"]["failures"], 45,
        "the good input is still analysed"
    );
}

#[test]
fn binary_junk_is_an_error_and_junk_lines_are_counted() {
    let dir = tempfile::tempdir().expect("tmp");
    let bin = dir.path().join("core");
    fs::write(
        &bin,
        (0..8192u32)
            .map(|i| (i * 7 % 256) as u8)
            .collect::<Vec<u8>>(),
    )
    .expect("w");
    let out = bouncelog()
        .args(["analyze"])
        .arg(&bin)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("binary"));
    // A text log with junk and invalid UTF-8 in the middle: counted, the event survives.
    let mut data = fs::read(testdata(MAIL_LOG)).expect("read");
    data.extend_from_slice(b"\x00\x01garbage \xff\xfe line\n");
    data.extend_from_slice(
        b"Mar 10 15:00:00 mx1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[203.0.113.9]: 550 5.1.1 <j\xf6rg@example.com>: Recipient address rejected: User unknown in local recipient table; from=<a@example.org> to=<j\xf6rg@example.com> proto=ESMTP helo=<x>\n",
    );
    let p = dir.path().join("mixed.log");
    fs::write(&p, data).expect("w");
    let r = json(&[p.to_str().expect("p")]);
    assert_eq!(r["lines"]["unrecognised"], 2);
    assert_eq!(r["lines"]["invalid_utf8"], 1);
    assert_eq!(
        count(&r, "unknown_user.local_recipient_table", "inbound"),
        6
    );
    let g = r["groups"]
        .as_array()
        .expect("g")
        .iter()
        .find(|g| g["cause"] == "unknown_user.local_recipient_table")
        .cloned()
        .expect("g");
    let rcpts: Vec<&str> = g["top_recipients"]
        .as_array()
        .expect("t")
        .iter()
        .map(|t| t["value"].as_str().expect("v"))
        .collect();
    assert!(rcpts.contains(&"j\u{fffd}rg@example.com"), "{rcpts:?}");
}

#[test]
fn unknown_format_is_counted_and_warned() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("access.log");
    fs::write(
        &p,
        "192.0.2.1 - - [10/Mar/2025:10:00:00 +0000] \"GET / HTTP/1.1\" 200 12\n",
    )
    .expect("w");
    let out = bouncelog()
        .args(["analyze", "--format", "json"])
        .arg(&p)
        .output()
        .expect("run");
    assert!(out.status.success());
    let err = String::from_utf8(out.stderr).expect("utf8");
    assert!(
        err.contains("warning") && err.contains("access.log"),
        "{err}"
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(r["lines"]["unrecognised"], 1);
}

#[test]
fn control_characters_never_reach_the_terminal_raw() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("evil.log");
    fs::write(
        &p,
        "Mar 10 15:00:00 mx1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[203.0.113.9]: 550 5.1.1 <\x1b]0;pwned\x07@example.com>: Recipient address rejected: User unknown in local recipient table; from=<a@example.org> to=<\x1b]0;pwned\x07@example.com> proto=ESMTP helo=<\u{202e}moc.elpmaxe>\n",
    )
    .expect("w");
    let out = bouncelog().args(["analyze"]).arg(&p).output().expect("run");
    let text = String::from_utf8(out.stdout).expect("utf8");
    assert!(!text.contains('\x1b') && !text.contains('\x07') && !text.contains('\u{202e}'));
    assert!(text.contains("\\x1b]0;pwned\\x07@example.com"), "{text}");
    // JSON keeps the exact value (escaped by JSON itself).
    let r = json(&[p.to_str().expect("p")]);
    assert_eq!(
        r["groups"][0]["top_recipients"][0]["value"],
        "\x1b]0;pwned\x07@example.com"
    );
}

#[test]
fn closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("big.log");
    let one = fs::read(testdata(MAIL_LOG)).expect("read");
    fs::write(&p, one.repeat(300)).expect("w");
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("bouncelog"))
        .args(["analyze", "--format", "ndjson"])
        .arg(&p)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut first = [0u8; 64];
    child
        .stdout
        .as_mut()
        .expect("out")
        .read_exact(&mut first)
        .expect("read");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn ndjson_has_one_line_per_failure() {
    let r = json(&[&mail_log()]);
    let out = bouncelog()
        .args(["analyze", "--format", "ndjson", &mail_log()])
        .output()
        .expect("run");
    let text = String::from_utf8(out.stdout).expect("utf8");
    assert_eq!(
        text.lines().count() as u64,
        r["totals"]["failures"].as_u64().expect("n")
    );
    for l in text.lines() {
        let v: serde_json::Value = serde_json::from_str(l).expect("json");
        assert!(v["severity"] == "hard" || v["severity"] == "soft");
        assert!(["inbound", "outbound", "local"].contains(&v["direction"].as_str().expect("d")));
    }
}

#[test]
fn bad_arguments_exit_2() {
    bouncelog()
        .args(["analyze", "--format", "xml"])
        .assert()
        .code(2);
    bouncelog().args(["analyze", "--top", "0"]).assert().code(2);
    bouncelog()
        .args(["analyze", "--threads", "0"])
        .assert()
        .code(2);
}
