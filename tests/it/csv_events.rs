//! `--format csv --events` (one row per failure event) agrees with
//! `--format ndjson` event for event, splits hosts from IPs, neutralises
//! formulas; plain `--format csv` carries what the README promises per group
//! (example text, meaning, hints).

use crate::util::{bouncelog, events, testdata};
use serde_json::Value;

fn csv_of(args: &[&str], stdin: Option<&str>) -> (Option<i32>, String) {
    let mut c = bouncelog();
    c.arg("analyze").args(args);
    if let Some(s) = stdin {
        c.write_stdin(s.to_string());
    }
    let out = c.output().expect("run");
    (
        out.status.code(),
        String::from_utf8(out.stdout).expect("utf-8"),
    )
}

/// Rows as maps from column name to cell.
fn rows(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header = r
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let rows = r
        .records()
        .map(|x| x.expect("row").iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

fn col(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

#[test]
fn one_row_per_event_as_in_ndjson() {
    let log = testdata("postfix/mail.log");
    let log = log.to_str().expect("path");
    let (code, text) = csv_of(&["--format", "csv", "--events", log], None);
    assert_eq!(code, Some(0));
    let (header, rows) = rows(&text);
    assert_eq!(header, bouncelog::report::csv::EVENT_COLUMNS);
    let evs: Vec<Value> = events(&[log]);
    assert_eq!(rows.len(), evs.len());
    assert!(rows.len() > 10);
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    for (row, e) in rows.iter().zip(&evs) {
        let c = |n: &str| row[col(&header, n)].clone();
        assert_eq!(c("time"), s(&e["time"]));
        for k in [
            "mta",
            "direction",
            "severity",
            "stage",
            "status",
            "cause",
            "rule",
        ] {
            assert_eq!(c(k), s(&e[k]), "{k} of {e}");
        }
        for k in ["code", "dsn", "recipient", "queue_id", "file", "text"] {
            assert_eq!(c(k), s(&e[k]), "{k} of {e}");
        }
        assert_eq!(c("line"), e["line"].to_string());
        let sender = if e["sender"] == "" {
            "<>".into()
        } else {
            s(&e["sender"])
        };
        assert_eq!(c("sender"), sender);
    }
    // Stage and status are apart: inbound rejections have a stage and no
    // status, outbound bounces a status.
    let inbound = rows
        .iter()
        .find(|r| r[col(&header, "direction")] == "inbound");
    let inbound = inbound.expect("an inbound row");
    assert_eq!(inbound[col(&header, "stage")], "RCPT");
    assert_eq!(inbound[col(&header, "status")], "");
    assert!(rows
        .iter()
        .any(|r| r[col(&header, "status")] == "bounced" && r[col(&header, "stage")].is_empty()));
    // host[ip] is split in two cells.
    let line8 = rows
        .iter()
        .find(|r| r[col(&header, "line")] == "8")
        .expect("line 8");
    assert_eq!(line8[col(&header, "client_host")], "mail.example.org");
    assert_eq!(line8[col(&header, "client_ip")], "198.51.100.7");
    let gmail = rows
        .iter()
        .find(|r| r[col(&header, "remote_host")].contains("google"))
        .expect("a gmail row");
    assert!(!gmail[col(&header, "remote_ip")].is_empty(), "{gmail:?}");
}

#[test]
fn formulas_in_log_fields_are_neutralised() {
    let line = "Mar 10 07:01:45 mx1 postfix/smtpd[4242]: NOQUEUE: reject: RCPT from \
        unknown[198.51.100.7]: 550 5.1.1 <x@example.com>: Recipient address rejected: User \
        unknown in local recipient table; from=<=HYPERLINK(\"x\")@evil.example> \
        to=<+cmd|' /C calc'!A0@example.com> proto=ESMTP helo=<h>\n";
    let (code, text) = csv_of(&["--format", "csv", "--events"], Some(line));
    assert_eq!(code, Some(0));
    let (header, rows) = rows(&text);
    assert_eq!(rows.len(), 1, "{text}");
    assert_eq!(
        rows[0][col(&header, "sender")],
        "'=HYPERLINK(\"x\")@evil.example"
    );
    assert!(
        rows[0][col(&header, "recipient")].starts_with("'+cmd"),
        "{text}"
    );
}

#[test]
fn no_events_gives_the_header_or_with_quiet_nothing() {
    let clean = "Mar 10 09:00:03 mx1 postfix/smtpd[1]: connect from x[192.0.2.1]\n";
    let (code, text) = csv_of(&["--format", "csv", "--events"], Some(clean));
    assert_eq!(code, Some(0));
    assert_eq!(
        text,
        format!("{}\n", bouncelog::report::csv::EVENT_COLUMNS.join(","))
    );
    let (code, text) = csv_of(&["--format", "csv", "--events", "--quiet"], Some(clean));
    assert_eq!(code, Some(0));
    assert!(text.is_empty(), "{text}");
}

#[test]
fn events_needs_csv() {
    let out = bouncelog()
        .args(["analyze", "--format", "json", "--events"])
        .arg(testdata("postfix/mail.log"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--events goes with --format csv"));
    // merge keeps no events: no such flag there.
    let merge = bouncelog()
        .args(["merge", "--events", "x.json"])
        .output()
        .expect("run");
    assert_eq!(merge.status.code(), Some(2));
}

#[test]
fn group_csv_has_example_meaning_and_hints() {
    let log = testdata("postfix/mail.log");
    let (code, text) = csv_of(&["--format", "csv", log.to_str().expect("path")], None);
    assert_eq!(code, Some(0));
    let (header, rows) = rows(&text);
    let report = crate::util::json(&[log.to_str().expect("path")]);
    let groups = report["groups"].as_array().expect("groups");
    assert_eq!(rows.len(), groups.len());
    for (row, g) in rows.iter().zip(groups) {
        let c = |n: &str| row[col(&header, n)].clone();
        assert_eq!(c("cause"), g["cause"].as_str().expect("cause"));
        assert_eq!(
            c("example_text"),
            g["example"]["text"].as_str().unwrap_or("")
        );
        assert_eq!(c("meaning"), g["meaning"].as_str().unwrap_or(""));
        let hints: Vec<&str> = g["hints"]
            .as_array()
            .expect("hints")
            .iter()
            .map(|h| h.as_str().expect("hint"))
            .collect();
        assert_eq!(c("hints"), hints.join(" | "));
    }
    assert!(rows.iter().all(|r| !r[col(&header, "meaning")].is_empty()));
    assert!(rows
        .iter()
        .all(|r| !r[col(&header, "example_text")].is_empty()));
}
