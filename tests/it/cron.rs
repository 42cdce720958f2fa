//! Daily reports from cron: time windows over rotated files in any order
//! (across a new year), journald input, overlapping inputs, report formats,
//! thresholds and exit statuses, --quiet, --redact, --output, and merging
//! JSON reports.

use crate::util::{bouncelog, count, json, lines, testdata};
use chrono::{Duration, Utc};
use flate2::write::GzEncoder;
use flate2::Compression;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

fn path(rel: &str) -> String {
    testdata(rel).to_str().expect("path").to_string()
}

fn reject(stamp: &str, rcpt: &str) -> String {
    format!(
        "{stamp} mx1 postfix/smtpd[4242]: NOQUEUE: reject: RCPT from mail.example.org[198.51.100.7]: 550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in local recipient table; from=<alice@example.org> to=<{rcpt}> proto=ESMTP helo=<mail.example.org>\n"
    )
}

fn set_mtime(p: &Path, rfc3339: &str) {
    let t = chrono::DateTime::parse_from_rfc3339(rfc3339).expect("time");
    let f = fs::File::options().write(true).open(p).expect("open");
    f.set_modified(std::time::SystemTime::from(t))
        .expect("mtime");
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).expect("gz");
    e.finish().expect("gz")
}

/// mail.log.2.gz (Dec 30–31), mail.log.1 (Dec 31–Jan 1), mail.log (Jan 1–2), year-less stamps.
fn rotated(dir: &Path) -> Vec<PathBuf> {
    let two: String = [
        reject("Dec 30 10:00:00", "a@example.com"),
        reject("Dec 31 23:59:59", "b@example.com"),
    ]
    .concat();
    let one: String = [
        reject("Jan  1 00:00:00", "c@example.com"),
        reject("Jan  1 12:00:00", "d@example.com"),
    ]
    .concat();
    let zero: String = [
        reject("Jan  1 23:59:59", "e@example.com"),
        reject("Jan  2 06:00:00", "f@example.com"),
    ]
    .concat();
    let p2 = dir.join("mail.log.2.gz");
    let p1 = dir.join("mail.log.1");
    let p0 = dir.join("mail.log");
    fs::write(&p2, gz(two.as_bytes())).expect("w");
    fs::write(&p1, one).expect("w");
    fs::write(&p0, zero).expect("w");
    set_mtime(&p2, "2025-12-31T23:59:59Z");
    set_mtime(&p1, "2026-01-01T12:00:01Z");
    set_mtime(&p0, "2026-01-02T06:25:00Z");
    vec![p0, p1, p2]
}

fn recipients(report: &serde_json::Value) -> Vec<String> {
    let mut v: Vec<String> = report["groups"]
        .as_array()
        .expect("g")
        .iter()
        .flat_map(|g| {
            g["counts"]["recipients"]
                .as_object()
                .expect("c")
                .keys()
                .cloned()
                .collect::<Vec<_>>()
        })
        .collect();
    v.sort();
    v
}

#[test]
fn a_day_across_new_year_from_rotated_files_in_any_order() {
    let dir = tempfile::tempdir().expect("tmp");
    let files = rotated(dir.path());
    let s = |p: &PathBuf| p.to_str().expect("p").to_string();
    let orders = [
        vec![s(&files[0]), s(&files[1]), s(&files[2])],
        vec![s(&files[2]), s(&files[0]), s(&files[1])],
        vec![s(&files[1]), s(&files[2]), s(&files[0])],
    ];
    let mut first = None;
    for order in &orders {
        let mut args: Vec<&str> = vec!["--day", "2026-01-01", "--tz", "UTC"];
        args.extend(order.iter().map(String::as_str));
        let r = json(&args);
        assert_eq!(
            recipients(&r),
            vec!["c@example.com", "d@example.com", "e@example.com"]
        );
        assert_eq!(r["totals"]["outside_window"], 3);
        // Inputs are read oldest first whatever the order given.
        assert!(r["inputs"][0]["path"]
            .as_str()
            .expect("p")
            .ends_with("mail.log.2.gz"));
        let text = serde_json::to_string(&r["groups"]).expect("s");
        assert_eq!(
            first.get_or_insert(text.clone()),
            &text,
            "same report for every order"
        );
    }
    let dec = json(&[
        "--day",
        "2025-12-31",
        "--tz",
        "UTC",
        &s(&files[0]),
        &s(&files[1]),
        &s(&files[2]),
    ]);
    assert_eq!(
        recipients(&dec),
        vec!["b@example.com"],
        "Dec 31 is in the previous year"
    );
    let span = json(&[
        "--since",
        "2025-12-31T23:00:00Z",
        "--until",
        "2026-01-01T12:00:00Z",
        &s(&files[0]),
        &s(&files[1]),
        &s(&files[2]),
    ]);
    assert_eq!(
        recipients(&span),
        vec!["b@example.com", "c@example.com"],
        "--until is exclusive"
    );
}

#[test]
fn yesterday_relative_to_now() {
    let dir = tempfile::tempdir().expect("tmp");
    let now = Utc::now();
    let y = now - Duration::days(1);
    let log = [
        reject(
            &(now - Duration::days(2))
                .format("%b %e 12:00:00")
                .to_string(),
            "old@example.com",
        ),
        reject(&y.format("%b %e 00:00:01").to_string(), "y1@example.com"),
        reject(&y.format("%b %e 23:59:59").to_string(), "y2@example.com"),
        reject(
            &now.format("%b %e 00:00:01").to_string(),
            "today@example.com",
        ),
    ]
    .concat();
    let p = dir.path().join("mail.log");
    fs::write(&p, log).expect("w");
    let r = json(&["--day", "yesterday", "--tz", "UTC", p.to_str().expect("p")]);
    assert_eq!(recipients(&r), vec!["y1@example.com", "y2@example.com"]);
}

#[test]
fn journald_json_gives_the_same_events() {
    let log = lines("postfix/mail.log");
    let mut journal = String::new();
    let mut syslog = String::new();
    for (i, l) in log.iter().enumerate() {
        // Only Postfix lines, with their program and message, as journald stores them.
        let Some((head, msg)) = l.split_once("]: ") else {
            continue;
        };
        let Some((pre, pid)) = head.rsplit_once('[') else {
            continue;
        };
        let ident = pre.rsplit(' ').next().expect("ident");
        if !ident.starts_with("postfix") {
            continue;
        }
        let t = 1_741_590_000_000_000u64 + i as u64 * 1_000_000;
        let msg_json = if i % 2 == 0 {
            serde_json::to_string(msg).expect("s")
        } else {
            // journald writes MESSAGE as a byte array when it is not plain text
            serde_json::to_string(&msg.as_bytes().to_vec()).expect("s")
        };
        journal.push_str(&format!(
            "{{\"__CURSOR\":\"s=1;i={i}\",\"__REALTIME_TIMESTAMP\":\"{t}\",\"_HOSTNAME\":\"mx1\",\"SYSLOG_IDENTIFIER\":\"{ident}\",\"_PID\":\"{pid}\",\"MESSAGE\":{msg_json}}}\n"
        ));
        syslog.push_str(l);
        syslog.push('\n');
    }
    let run = |data: String| {
        let out = bouncelog()
            .args(["analyze", "--format", "json"])
            .write_stdin(data)
            .output()
            .expect("run");
        assert!(out.status.success());
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json")
    };
    let j = run(journal);
    let s = run(syslog);
    assert_eq!(j["totals"]["failures"], s["totals"]["failures"]);
    assert_eq!(recipients(&j), recipients(&s));
    assert_eq!(j["lines"]["unrecognised"], 0);
}

#[test]
fn overlapping_inputs_count_each_line_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let copy = dir.path().join("mail.log.copy");
    fs::copy(testdata("postfix/mail.log"), &copy).expect("copy");
    let one = json(&[&path("postfix/mail.log")]);
    let both = json(&[&path("postfix/mail.log"), copy.to_str().expect("p")]);
    assert_eq!(both["totals"]["failures"], one["totals"]["failures"]);
    assert_eq!(both["totals"]["delivered"], one["totals"]["delivered"]);
    assert_eq!(both["totals"]["ndr_sent"], one["totals"]["ndr_sent"]);
    assert!(
        both["totals"]["duplicates_skipped"].as_u64().expect("n")
            >= one["totals"]["failures"].as_u64().expect("n")
    );
}

#[test]
fn markdown_and_csv_formats() {
    let out = bouncelog()
        .args(["analyze", "--format", "markdown", &path("postfix/mail.log")])
        .output()
        .expect("run");
    let md = String::from_utf8(out.stdout).expect("utf8");
    assert!(md.starts_with("# bouncelog report"));
    assert!(md.contains("| # | Cause | Direction |"));
    // Most urgent first: our IP blocklisted, then the rest (--details 3 by default).
    assert!(
        md.contains("## 1. Sending IP or domain blocklisted"),
        "{md}"
    );
    assert!(md.contains("| `unknown_user.local_recipient_table` | inbound |"));
    assert!(md.contains("**What to do:**"));
    let out = bouncelog()
        .args(["analyze", "--format", "csv", &path("postfix/mail.log")])
        .output()
        .expect("run");
    let mut rdr = csv::Reader::from_reader(out.stdout.as_slice());
    let headers = rdr.headers().expect("h").clone();
    assert_eq!(&headers[0], "cause");
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.expect("row")).collect();
    let r = json(&[&path("postfix/mail.log")]);
    assert_eq!(
        rows.len(),
        r["groups"].as_array().expect("g").len(),
        "one row per group"
    );
    assert_eq!(&rows[0][0], "unknown_user.local_recipient_table");
    assert_eq!(&rows[0][5], "5");
    // A recipient that would be a spreadsheet formula is neutralised.
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("evil.log");
    fs::write(
        &p,
        reject("Mar 10 07:01:45", "=cmd|'/c calc'!A1@example.com"),
    )
    .expect("w");
    let out = bouncelog()
        .args(["analyze", "--format", "csv", p.to_str().expect("p")])
        .output()
        .expect("run");
    let text = String::from_utf8(out.stdout).expect("utf8");
    assert!(text.contains("'=cmd"), "{text}");
}

#[test]
fn thresholds_and_exit_statuses() {
    let log = path("postfix/mail.log");
    let code = |args: &[&str]| {
        bouncelog()
            .arg("analyze")
            .args(args)
            .arg(&log)
            .output()
            .expect("run")
    };
    let hit = code(&["--fail-on", "unknown_user>5", "--quiet"]);
    assert_eq!(hit.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&hit.stderr).contains("threshold crossed: unknown_user>5"));
    assert_eq!(
        code(&["--fail-on", "unknown_user.local_recipient_table>5"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        code(&["--fail-on", "unknown_user.local_recipient_table>=5"])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        code(&["--fail-on", "outbound:blocklisted>0"]).status.code(),
        Some(1)
    );
    assert_eq!(
        code(&["--fail-on", "inbound:blocklisted>2"]).status.code(),
        Some(0)
    );
    assert_eq!(
        code(&["--fail-on", "*>=10/h"]).status.code(),
        Some(1),
        "07:00 and 08:00 have 10+ each"
    );
    assert_eq!(code(&["--fail-on", "*>100/h"]).status.code(), Some(0));
    let bad = code(&["--fail-on", "unknown_user=5"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid --fail-on"));
    // An input error wins over a threshold.
    let both = bouncelog()
        .args(["analyze", "--fail-on", "*>0", &log, "/nonexistent/x.log"])
        .output()
        .expect("run");
    assert_eq!(both.status.code(), Some(2));
}

#[test]
fn bad_dates_are_clear_errors() {
    for args in [
        vec!["--since", "tomorrowish"],
        vec!["--day", "-24h"],
        vec!["--since", "2025-03-11", "--until", "2025-03-10"],
        vec!["--tz", "Mars/Olympus"],
    ] {
        let out = bouncelog()
            .arg("analyze")
            .args(&args)
            .arg(path("postfix/mail.log"))
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn quiet_prints_nothing_without_failures() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("clean.log");
    fs::write(
        &p,
        "Mar 10 07:01:46 mx1 postfix/qmgr[815]: 5C0A21C0011: removed\n",
    )
    .expect("w");
    let out = bouncelog()
        .args(["analyze", "--quiet", p.to_str().expect("p")])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
    let out = bouncelog()
        .args(["analyze", "--quiet", &path("postfix/mail.log")])
        .output()
        .expect("run");
    assert!(!out.stdout.is_empty());
}

#[test]
fn redact_hides_local_parts_keeps_domains() {
    let out = bouncelog()
        .args([
            "analyze",
            "--redact",
            "--format",
            "ndjson",
            &path("postfix/mail.log"),
        ])
        .output()
        .expect("run");
    let text = String::from_utf8(out.stdout).expect("utf8");
    for local in [
        "jonh.smith@",
        "admin@example.com",
        "alice@example.org",
        "nobody@gmail.example",
    ] {
        assert!(!text.contains(local), "{local} leaked");
    }
    assert!(text.contains("@example.com") && text.contains("@gmail.example"));
    let r = json(&["--redact", &path("postfix/mail.log")]);
    let g = &r["groups"][0];
    assert_eq!(g["distinct_recipients"], 3, "same address, same hash");
    let out = bouncelog()
        .args(["analyze", "--redact", &path("postfix/mail.log")])
        .output()
        .expect("run");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("jonh.smith"));
}

#[test]
fn output_is_written_atomically() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("report.json");
    let out = bouncelog()
        .args(["analyze", "--format", "json", "--output"])
        .arg(&p)
        .arg(path("postfix/mail.log"))
        .output()
        .expect("run");
    assert!(out.status.success() && out.stdout.is_empty());
    let v: serde_json::Value = serde_json::from_slice(&fs::read(&p).expect("read")).expect("json");
    assert_eq!(v["totals"]["failures"], 45);
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name() != "report.json")
        .collect();
    assert!(leftovers.is_empty(), "temporary files left behind");
    let bad = bouncelog()
        .args([
            "analyze",
            "--output",
            "/nonexistent-dir/r.txt",
            &path("postfix/mail.log"),
        ])
        .output()
        .expect("run");
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("/nonexistent-dir/r.txt"));
}

/// Splits a file before the first line containing `marker`.
fn halves(dir: &Path, rel: &str, marker: &str) -> (String, String) {
    let text = fs::read_to_string(testdata(rel)).expect("read");
    let at = text.find(marker).unwrap_or_else(|| panic!("{marker}"));
    let at = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let a = dir.join(format!("{}.a", rel.replace('/', "_")));
    let b = dir.join(format!("{}.b", rel.replace('/', "_")));
    fs::write(&a, &text[..at]).expect("w");
    fs::write(&b, &text[at..]).expect("w");
    // Both halves keep the original's year inference.
    let mtime = fs::metadata(testdata(rel))
        .and_then(|m| m.modified())
        .expect("mtime");
    for p in [&a, &b] {
        fs::File::options()
            .write(true)
            .open(p)
            .and_then(|f| f.set_modified(mtime))
            .expect("mtime");
    }
    (
        a.to_str().expect("p").to_string(),
        b.to_str().expect("p").to_string(),
    )
}

fn comparable(v: &serde_json::Value) -> serde_json::Value {
    let mut groups = v["groups"].clone();
    for g in groups.as_array_mut().expect("g") {
        g["example"]["file"] = serde_json::Value::Null;
        g["example"]["line"] = serde_json::Value::Null;
    }
    serde_json::json!({"groups": groups, "totals": v["totals"], "lines": v["lines"]})
}

#[test]
fn merging_two_halves_equals_the_whole() {
    let dir = tempfile::tempdir().expect("tmp");
    for (rel, marker) in [
        (
            "postfix/mail.log",
            "9A8B7C6D5E: from=<orders@example.com>, size=4410",
        ),
        ("postfix/loopback-postlogd.log", "3F04EBA1B7"),
        ("exim/mainlog", "1trZD6-000000007Ll-0002 <="),
        ("qmail/smtpd-multilog", "rejected relaying"),
    ] {
        let (a, b) = halves(dir.path(), rel, marker);
        let whole = json(&["--top", "3", &path(rel)]);
        let ja = dir.path().join("a.json");
        let jb = dir.path().join("b.json");
        for (src, dst) in [(&a, &ja), (&b, &jb)] {
            let out = bouncelog()
                .args(["analyze", "--format", "json", "--output"])
                .arg(dst)
                .arg(src)
                .output()
                .expect("run");
            assert!(out.status.success());
        }
        let out = bouncelog()
            .args(["merge", "--format", "json", "--top", "3"])
            .arg(&ja)
            .arg(&jb)
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let merged: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(comparable(&merged), comparable(&whole), "{rel}");
        // And into any format.
        let text = bouncelog()
            .args(["merge"])
            .arg(&ja)
            .arg(&jb)
            .output()
            .expect("run");
        assert!(String::from_utf8_lossy(&text.stdout).contains("Failures: "));
    }
    let two_hosts = json(&[&path("postfix/mail.log"), &path("exim/mainlog")]);
    assert_eq!(count(&two_hosts, "unknown_user.unrouteable", "inbound"), 5);
}

#[test]
fn merge_rejects_what_it_cannot_merge() {
    let dir = tempfile::tempdir().expect("tmp");
    let junk = dir.path().join("junk.json");
    fs::write(&junk, "{\"schema\": \"something/else\"}").expect("w");
    let out = bouncelog()
        .args(["merge"])
        .arg(&junk)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("junk.json"));
}

#[test]
fn relative_windows_accept_leading_minus() {
    // The fixture dated in 2025 (by its mtime) is all outside the last day or week.
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("mail.log");
    fs::copy(testdata("postfix/mail.log"), &p).expect("copy");
    set_mtime(&p, "2025-06-01T00:00:00Z");
    let p = p.to_str().expect("p").to_string();
    let r = json(&["--since", "-24h", &p]);
    assert_eq!(r["totals"]["failures"], 0);
    assert!(r["totals"]["outside_window"].as_u64().expect("n") >= 45);
    assert!(r["window"]["since"].is_string() && r["window"]["until"].is_null());
    let r = json(&["--since=-7d", &p]);
    assert_eq!(r["totals"]["failures"], 0);
}

#[test]
fn thresholds_that_cannot_fire_are_errors() {
    let log = path("postfix/mail.log");
    let run = |rule: &str| {
        bouncelog()
            .args(["analyze", "--quiet", "--fail-on", rule, &log])
            .output()
            .expect("run")
    };
    for (rule, nearest) in [
        ("unknown_usr>5", "unknown_user"),
        ("outbund:blocklisted>0", "outbound"),
        ("hrad:unknown_user>1", "hard"),
        ("unknown_user.no_such_usr>0", "unknown_user.no_such_user"),
    ] {
        let out = run(rule);
        assert_eq!(out.status.code(), Some(2), "{rule}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains(rule) && err.contains(&format!("did you mean '{nearest}'")),
            "{rule}: {err}"
        );
        assert!(out.stdout.is_empty());
    }
    // A severity alone means every cause of it: 45 failures, most of them hard.
    let hard = run("hard>10");
    assert_eq!(
        hard.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&hard.stderr)
    );
    assert!(String::from_utf8_lossy(&hard.stderr).contains("threshold crossed: hard>10"));
    assert_eq!(run("hard>1000").status.code(), Some(0));
    assert_eq!(run("inbound:soft:*>1000").status.code(), Some(0));
    // merge checks its thresholds too.
    let out = bouncelog()
        .args(["merge", "--fail-on", "unknown_usr>5", "/nonexistent.json"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean 'unknown_user'"));
}
