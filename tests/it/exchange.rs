//! Exchange message tracking logs: columns from `#Fields:` (30 and 26
//! columns), BOM, RFC 4180 quoting, one event per failed recipient with its
//! own status, directions, DSNs, and malformed files.

use crate::util::{bouncelog, count, json, testdata};

fn path(rel: &str) -> String {
    testdata(rel).to_str().expect("path").to_string()
}

#[test]
fn exchange_2019_file_with_bom_and_30_columns() {
    let r = json(&[&path("exchange/MSGTRK2025031007-1.LOG")]);
    assert_eq!(r["lines"]["unrecognised"], 0);
    let expected: &[(&str, &str, u64)] = &[
        ("unknown_user.no_such_user", "inbound", 2),
        ("policy", "inbound", 1),
        ("unknown_user.no_such_user", "outbound", 1),
        ("unknown_user.virtual_alias_table", "outbound", 1),
        ("connection_failed", "outbound", 1),
        ("unknown_user.stale_x500", "local", 1),
        ("mailbox_full", "local", 1),
        ("policy", "local", 1),
    ];
    for (cause, dir, n) in expected {
        assert_eq!(count(&r, cause, dir), *n, "{cause} {dir}");
    }
    assert_eq!(r["totals"]["failures"], 9);
    assert_eq!(r["totals"]["ndr_sent"], 1);
    assert_eq!(r["totals"]["delivered"], 2);
    let g = r["groups"].as_array().expect("g");
    let x500 = g
        .iter()
        .find(|g| g["cause"] == "unknown_user.stale_x500")
        .expect("g")
        .to_string();
    assert!(
        x500.contains("autocomplete") && x500.contains("X500"),
        "{x500}"
    );
    let nsu = g
        .iter()
        .find(|g| g["cause"] == "unknown_user.no_such_user" && g["direction"] == "inbound")
        .expect("g")
        .to_string();
    assert!(
        nsu.contains("Get-Recipient") && nsu.contains("RecipientValidationEnabled"),
        "{nsu}"
    );
}

#[test]
fn parallel_recipient_lists_give_one_event_each_with_its_own_status() {
    let out = bouncelog()
        .args([
            "analyze",
            "--format",
            "ndjson",
            &path("exchange/MSGTRK2025031007-1.LOG"),
        ])
        .output()
        .expect("run");
    let ev: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .expect("utf8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let ghost = ev
        .iter()
        .find(|e| e["recipient"] == "ghost@example.com")
        .expect("e");
    let boss = ev
        .iter()
        .find(|e| e["recipient"] == "boss@example.com")
        .expect("e");
    assert_eq!(
        ghost["text"],
        "550 5.1.1 RESOLVER.ADR.ExRecipNotFound; not found"
    );
    assert_eq!(boss["text"], "550 5.2.2 STOREDRV.Deliver: mailbox full");
    assert_eq!(ghost["line"], boss["line"], "same row");
    // Times are UTC from date-time; sender from the row; client from the RECEIVE row.
    let j = ev
        .iter()
        .find(|e| e["recipient"] == "jonh.smith@example.com")
        .expect("e");
    assert_eq!(j["time"], "2025-03-10T07:01:45.123Z");
    assert_eq!(j["sender"], "alice@example.org");
    assert_eq!(j["client"], "mail.example.org");
    assert_eq!(j["queue_id"], "<q1@example.org>");
    assert_eq!(j["dsn"], "5.1.1");
    // A quoted subject with commas and doubled quotes does not shift columns.
    assert_eq!(j["direction"], "inbound");
}

#[test]
fn exchange_2010_26_columns() {
    let r = json(&[&path("exchange/MSGTRK2010-v14.LOG")]);
    assert_eq!(count(&r, "unknown_user.no_such_user", "inbound"), 2);
    assert_eq!(count(&r, "policy", "inbound"), 1);
    assert_eq!(r["totals"]["ndr_sent"], 1);
    assert_eq!(r["lines"]["unrecognised"], 0);
}

#[test]
fn malformed_rows_are_counted_not_guessed() {
    for f in [
        "exchange/MSGTRK-malformed.LOG",
        "exchange/MSGTRK-badquote.LOG",
    ] {
        let out = bouncelog()
            .args(["analyze", "--format", "json", &path(f)])
            .output()
            .expect("run");
        assert!(out.status.success(), "{f}");
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(r["lines"]["unrecognised"], 1, "{f}");
        assert_eq!(r["totals"]["failures"], 2, "{f}: the good row still counts");
    }
}

#[test]
fn rows_without_a_fields_header_are_read_in_the_30_column_order_with_a_warning() {
    // Rows cut out of a 2013-2019 log (30 columns, no #Fields: line).
    let out = bouncelog()
        .args([
            "analyze",
            "--format",
            "json",
            &path("exchange/MSGTRK-nofields.LOG"),
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8(out.stderr).expect("utf8");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("warning") && err.contains("MSGTRK-nofields.LOG") && err.contains("#Fields"),
        "{err}"
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(count(&r, "unknown_user.no_such_user", "inbound"), 2);
    assert_eq!(r["lines"]["unrecognised"], 0);
}

#[test]
fn rows_of_another_width_without_a_fields_header_are_a_clear_error() {
    // Exchange 2010's 26 columns with the header cut off: no order is assumed.
    let dir = tempfile::tempdir().expect("tmp");
    let cut = dir.path().join("MSGTRK2010-rows.LOG");
    let rows: String = std::fs::read_to_string(testdata("exchange/MSGTRK2010-v14.LOG"))
        .expect("read")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(!rows.is_empty());
    std::fs::write(&cut, rows).expect("write");
    let out = bouncelog()
        .args([
            "analyze",
            "--format",
            "json",
            cut.to_str().expect("p"),
            &path("exchange/MSGTRK2010-v14.LOG"),
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).expect("utf8");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("MSGTRK2010-rows.LOG") && err.contains("#Fields"),
        "{err}"
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(r["totals"]["failures"], 3, "the other file is still read");
}

#[test]
fn real_exchange_layouts_from_the_corpus_are_read() {
    // Elastic's anonymised Exchange 2016/2019 rows (no FAIL in them; read at test time only).
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/exchange-elastic");
    let v14 = dir.join("exchange2010-v14-beats-filestream-sample.log");
    if !v14.exists() {
        eprintln!("skipped: ../shared/corpus/exchange-elastic is not beside the checkout");
        return;
    }
    let r = json(&[v14.to_str().expect("p")]);
    assert_eq!(r["lines"]["unrecognised"], 0);
    assert_eq!(r["totals"]["failures"], 0);
    // The 2019 sample has no #Fields header: its 30 columns are read in
    // Exchange's order, and the user is told so.
    let out = bouncelog()
        .args([
            "analyze",
            "--format",
            "json",
            dir.join("test-messagetracking.log").to_str().expect("p"),
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("#Fields"));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(r["lines"]["recognised"], 6);
    assert_eq!(r["totals"]["failures"], 0);
    assert_eq!(r["totals"]["delivered"], 2);
}
