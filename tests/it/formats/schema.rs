//! `--format json` and `--format ndjson` against the published JSON Schemas
//! under `schema/` (draft 2020-12, formats asserted), through the
//! `jsonschema` crate: the reports of every test log pass, and mutated
//! copies (a field renamed, missing, added, of the wrong type) fail at the
//! place changed.

use super::{analyze, log_sets};
use crate::util::{bouncelog, testdata};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn schema_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("schema")
        .join(name)
}

fn schema(name: &str) -> Value {
    let text = std::fs::read_to_string(schema_path(name)).expect("schema file");
    serde_json::from_str(&text).expect("schema is JSON")
}

/// A validator for `schema/NAME`, itself checked against the draft 2020-12
/// meta-schema; `format` (date-time) is asserted, not only annotated.
fn validator(name: &str) -> jsonschema::Validator {
    let schema = schema(name);
    assert_eq!(
        schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
        "{name}"
    );
    if let Err(e) = jsonschema::draft202012::meta::validate(&schema) {
        panic!("{name} is not a valid draft 2020-12 schema: {e}");
    }
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every violation, as `instance path: message`.
fn violations(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn reject_line(ts: &str, ip: &str, rcpt: &str, sender: &str, helo: &str) -> String {
    format!(
        "Mar 10 {ts} mx1 postfix/smtpd[4300]: NOQUEUE: reject: RCPT from unknown[{ip}]: 550 5.1.1 \
         <{rcpt}>: Recipient address rejected: User unknown in local recipient table; \
         from=<{sender}> to=<{rcpt}> proto=ESMTP helo=<{helo}>\n"
    )
}

fn delivery_line(ts: &str, qid: &str, rcpt: &str, status: &str, dsn: &str, text: &str) -> String {
    format!(
        "Mar 10 {ts} mx1 postfix/smtp[4540]: {qid}: to=<{rcpt}>, \
         relay=mx.partner.example[198.51.100.30]:25, delay=1, delays=0/0/0.5/0.5, dsn={dsn}, \
         status={status} ({text})\n"
    )
}

const UNKNOWN: &str = "host mx.partner.example[198.51.100.30] said: 550 5.1.1 <x>: Recipient \
    address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)";
const LISTED: &str = "host mx.partner.example[198.51.100.30] said: 554 5.7.1 Service \
    unavailable; Client host [192.0.2.10] blocked using zen.spamhaus.org (in reply to RCPT TO \
    command)";

/// A log whose report holds a finding of every kind: a harvest by one
/// client and by rotating clients, a domain that moved, a typo, and our IP
/// blocklisted.
fn eventful_log() -> String {
    let mut log = String::new();
    for i in 0..15 {
        let (ts, rcpt) = (
            format!("07:10:{:02}", i * 3),
            format!("user{i}@example.com"),
        );
        log += &reject_line(&ts, "203.0.113.45", &rcpt, "x7q@spam.example", "pc-45");
    }
    for i in 0..12 {
        let ts = format!("08:2{}:{:02}", i / 6, i * 4 % 60);
        let ip = format!("198.51.100.{}", 100 + i % 3);
        let rcpt = format!("guess{i}@example.com");
        log += &reject_line(&ts, &ip, &rcpt, "bulk@botnet.example", &format!("h{i}"));
    }
    for (i, u) in ["anna", "bert", "carl"].iter().enumerate() {
        let (ts, qid) = (format!("09:0{i}:00"), format!("A{i}0000001"));
        let rcpt = format!("{u}@partner.example");
        log += &delivery_line(&ts, &qid, &rcpt, "sent", "2.0.0", "250 2.0.0 Ok: queued");
    }
    for (i, u) in ["anna", "bert", "carl", "dora", "emil"].iter().enumerate() {
        let (ts, qid) = (format!("12:0{i}:00"), format!("B{i}0000001"));
        let rcpt = format!("{u}@partner.example");
        log += &delivery_line(&ts, &qid, &rcpt, "bounced", "5.1.1", UNKNOWN);
    }
    let good = "jane.doe@partner.example";
    log += &delivery_line("13:00:00", "C000000001", good, "sent", "2.0.0", "250 ok");
    let typo = "jnae.doe@partner.example";
    log += &delivery_line("13:01:00", "C000000002", typo, "bounced", "5.1.1", UNKNOWN);
    for (i, d) in ["one.example", "two.example", "three.example"]
        .iter()
        .enumerate()
    {
        let (ts, qid, rcpt) = (
            format!("14:0{i}:00"),
            format!("D{i}0000001"),
            format!("x@{d}"),
        );
        log += &delivery_line(&ts, &qid, &rcpt, "bounced", "5.7.1", LISTED);
    }
    log
}

fn json_of(args: &[&str], files: &[PathBuf]) -> Value {
    let mut a = vec!["--format", "json"];
    a.extend_from_slice(args);
    let text = analyze(&a, files);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad json ({e}): {text}"))
}

fn kinds(report: &Value) -> BTreeSet<&str> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["kind"].as_str())
        .collect()
}

/// Real reports: each test log set, one with a window, one redacted, one
/// with a finding of every kind, an empty input, and a merge of two.
fn real_reports(dir: &Path) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (name, files) in log_sets() {
        out.push((name.to_string(), json_of(&[], &files)));
    }
    let postfix = [testdata("postfix/mail.log")];
    let window = [
        "--since",
        "2026-03-10T08:00:00Z",
        "--until",
        "2026-03-10T09:00:00Z",
    ];
    out.push(("postfix, window".into(), json_of(&window, &postfix)));
    out.push(("postfix, redacted".into(), json_of(&["--redact"], &postfix)));
    let eventful = dir.join("eventful.log");
    std::fs::write(&eventful, eventful_log()).expect("write");
    let report = json_of(&[], &[eventful]);
    assert_eq!(
        kinds(&report),
        BTreeSet::from(["blocklisted", "domain_failure", "harvest", "typo"]),
        "the eventful log holds a finding of every kind"
    );
    out.push(("eventful".into(), report));
    let empty = dir.join("empty.log");
    std::fs::write(&empty, "").expect("write");
    out.push(("empty".into(), json_of(&[], &[empty])));
    let (a, b) = (dir.join("a.json"), dir.join("b.json"));
    std::fs::write(&a, json_of(&[], &postfix).to_string()).expect("write");
    let exim = json_of(&[], &[testdata("exim/mainlog")]);
    std::fs::write(&b, exim.to_string()).expect("write");
    let merged = bouncelog()
        .args(["merge", "--format", "json"])
        .args([&a, &b])
        .output()
        .expect("run");
    assert!(merged.status.success(), "merge");
    let merged = serde_json::from_slice(&merged.stdout).expect("merged json");
    out.push(("merge".into(), merged));
    out
}

#[test]
fn schema_accepts_the_json_reports() {
    let v = validator("report.schema.json");
    let dir = tempfile::tempdir().expect("tmp");
    for (name, report) in real_reports(dir.path()) {
        let errs = violations(&v, &report);
        assert!(errs.is_empty(), "{name}: {errs:#?}");
    }
}

#[test]
fn schema_accepts_the_ndjson_events() {
    let v = validator("event.schema.json");
    let dir = tempfile::tempdir().expect("tmp");
    let eventful = dir.path().join("eventful.log");
    std::fs::write(&eventful, eventful_log()).expect("write");
    let mut sets = log_sets();
    sets.push(("eventful", vec![eventful]));
    for (name, files) in sets {
        let text = analyze(&["--format", "ndjson"], &files);
        let mut n = 0;
        for line in text.lines() {
            let event: Value = serde_json::from_str(line).expect("one JSON object a line");
            let errs = violations(&v, &event);
            assert!(errs.is_empty(), "{name}: {line}\n{errs:#?}");
            n += 1;
        }
        assert!(n > 0, "{name}: no events");
    }
}

#[test]
fn schema_enums_are_the_programs_own() {
    let report = schema("report.schema.json");
    let event = schema("event.schema.json");
    let names = |v: &Value| -> BTreeSet<String> {
        v["enum"]
            .as_array()
            .expect("enum")
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect()
    };
    let set = |xs: &[&str]| -> BTreeSet<String> { xs.iter().map(|x| x.to_string()).collect() };
    let (actors, actions) = (
        set(&bouncelog::patterns::ACTORS),
        set(&bouncelog::patterns::ACTIONS),
    );
    let defs = &report["$defs"];
    assert_eq!(names(&defs["actor"]), actors);
    assert_eq!(names(&defs["action"]), actions);
    assert_eq!(names(&event["properties"]["actor"]), actors);
    assert_eq!(names(&event["properties"]["action"]), actions);
    let ps = bouncelog::patterns::PatternSet::load(None).expect("patterns");
    let kinds: Vec<&str> = ps.findings.keys().map(String::as_str).collect();
    assert_eq!(names(&defs["finding"]["properties"]["kind"]), set(&kinds));
    // Each kind has its own evidence definition.
    for k in kinds {
        assert!(defs[format!("evidence_{k}")].is_object(), "evidence_{k}");
    }
}

/// A change to a document, and the start of the instance path that a
/// violation must name.
type Mutation = (&'static str, fn(&mut Value), &'static str);

fn rename(obj: &mut Value, from: &str, to: &str) {
    let o = obj.as_object_mut().expect("object");
    let v = o.remove(from).expect("field present");
    o.insert(to.into(), v);
}

fn remove(obj: &mut Value, key: &str) {
    obj.as_object_mut()
        .expect("object")
        .remove(key)
        .expect("field present");
}

fn finding(r: &mut Value, kind: &str) -> usize {
    r["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .position(|f| f["kind"] == kind)
        .expect("a finding of the kind")
}

fn assert_caught(v: &jsonschema::Validator, doc: &Value, mutations: &[Mutation]) {
    assert!(violations(v, doc).is_empty(), "the original is valid");
    for (what, change, path) in mutations {
        let mut m = doc.clone();
        change(&mut m);
        assert_ne!(&m, doc, "{what}: the mutation changed nothing");
        let errs = violations(v, &m);
        assert!(
            errs.iter().any(|e| e.starts_with(path)),
            "{what}: no violation at {path:?}: {errs:#?}"
        );
    }
}

#[test]
fn schema_rejects_mutated_reports() {
    let v = validator("report.schema.json");
    let dir = tempfile::tempdir().expect("tmp");
    let report = real_reports(dir.path())
        .into_iter()
        .find(|(n, _)| n == "eventful")
        .expect("eventful report")
        .1;
    let mutations: [Mutation; 14] = [
        (
            "totals.failures renamed",
            |r| rename(&mut r["totals"], "failures", "failure"),
            "/totals",
        ),
        (
            "groups[].cause missing",
            |r| remove(&mut r["groups"][0], "cause"),
            "/groups/0",
        ),
        (
            "groups[].top_remote_hosts renamed",
            |r| rename(&mut r["groups"][1], "top_remote_hosts", "top_hosts"),
            "/groups/1",
        ),
        (
            "lines.unrecognised missing",
            |r| remove(&mut r["lines"], "unrecognised"),
            "/lines",
        ),
        (
            "a key added at the top",
            |r| {
                r.as_object_mut()
                    .expect("report")
                    .insert("extra".into(), Value::Null);
            },
            "",
        ),
        (
            "count as a string",
            |r| r["groups"][0]["count"] = "15".into(),
            "/groups/0/count",
        ),
        (
            "unknown direction",
            |r| r["groups"][0]["direction"] = "sideways".into(),
            "/groups/0/direction",
        ),
        (
            "first_seen not a time",
            |r| r["groups"][0]["first_seen"] = "10 March".into(),
            "/groups/0/first_seen",
        ),
        (
            "hourly keyed by something else",
            |r| r["groups"][0]["counts"]["hourly"] = json!({"2026-03-10 07h": 1}),
            "/groups/0/counts/hourly",
        ),
        (
            "harvest evidence renamed",
            |r| {
                let i = finding(r, "harvest");
                rename(&mut r["findings"][i]["evidence"], "clients", "ips");
            },
            "/findings/",
        ),
        (
            "blocklisted evidence missing a field",
            |r| {
                let i = finding(r, "blocklisted");
                remove(&mut r["findings"][i]["evidence"], "rejections");
            },
            "/findings/",
        ),
        (
            "input fingerprint renamed",
            |r| rename(&mut r["inputs"][0], "fingerprint", "hash"),
            "/inputs/0",
        ),
        (
            "window.since missing",
            |r| remove(&mut r["window"], "since"),
            "/window",
        ),
        (
            "schema id changed",
            |r| r["schema"] = "bouncelog/2".into(),
            "/schema",
        ),
    ];
    assert_caught(&v, &report, &mutations);
}

#[test]
fn schema_rejects_mutated_events() {
    let v = validator("event.schema.json");
    let text = analyze(&["--format", "ndjson"], &[testdata("postfix/mail.log")]);
    let event: Value = serde_json::from_str(text.lines().next().expect("an event")).expect("json");
    let mutations: [Mutation; 8] = [
        ("stage missing", |e| remove(e, "stage"), ""),
        (
            "remote_host renamed",
            |e| rename(e, "remote_host", "remote"),
            "",
        ),
        ("time missing", |e| remove(e, "time"), ""),
        (
            "time not RFC 3339",
            |e| e["time"] = "Mar 10 06:30:13".into(),
            "/time",
        ),
        ("line as a string", |e| e["line"] = "4".into(), "/line"),
        (
            "unknown severity",
            |e| e["severity"] = "medium".into(),
            "/severity",
        ),
        ("dsn not a status code", |e| e["dsn"] = "5.7".into(), "/dsn"),
        ("unknown actor", |e| e["actor"] = "them".into(), "/actor"),
    ];
    assert_caught(&v, &event, &mutations);
}
