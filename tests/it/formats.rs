//! The machine-readable formats, each checked by its real consumer where it
//! is installed and by a parser of our own everywhere: `--format prometheus`
//! by `promtool check metrics` and by an exposition-format parser here that
//! also checks the numbers against the JSON report of the same logs;
//! `--format json` and `--format ndjson` by the published JSON Schemas under
//! `schema/` (draft 2020-12, with formats checked), through the `jsonschema`
//! crate, on the reports of every test log and on mutated copies that must
//! fail (`formats/schema.rs`). `formats/small.rs` holds the small things of
//! the same issue: the stdin notice, singular counts, `merge --help`.
//!
//! A consumer that is not installed makes its test print `SKIP: …` straight
//! to stderr (visible under cargo's output capture) rather than pass
//! silently; `BOUNCELOG_REQUIRE_TOOLS=1` turns the skip into a failure.

#[path = "formats/exposition.rs"]
mod exposition;
#[path = "formats/schema.rs"]
mod schema;
#[path = "formats/small.rs"]
mod small;

use crate::util::{bouncelog, testdata};
use exposition::{parse_exposition, Exposition};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The test logs, one set per MTA, as given on the command line.
fn log_sets() -> Vec<(&'static str, Vec<PathBuf>)> {
    let dir = |d: &str| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(testdata(d))
            .expect("testdata dir")
            .map(|e| e.expect("entry").path())
            .collect();
        v.sort();
        v
    };
    vec![
        ("postfix", vec![testdata("postfix/mail.log")]),
        (
            "exim",
            vec![testdata("exim/mainlog"), testdata("exim/rejectlog")],
        ),
        ("qmail", dir("qmail")),
        ("exchange", dir("exchange")),
    ]
}

/// Runs `analyze` with the arguments; stdout as text (the exit status is
/// not checked: the exchange set holds a file without #Fields:, an error).
fn analyze(args: &[&str], files: &[PathBuf]) -> String {
    let out = bouncelog()
        .arg("analyze")
        .args(args)
        .args(files)
        .output()
        .expect("run");
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Says on stderr, past cargo's capture, that a check did not run; fails
/// instead when the tools are required.
fn skip(what: &str) {
    if std::env::var_os("BOUNCELOG_REQUIRE_TOOLS").is_some_and(|v| v == "1") {
        panic!("{what} is required (BOUNCELOG_REQUIRE_TOOLS=1) but not installed");
    }
    let _ = writeln!(
        std::io::stderr(),
        "SKIP: {what} not installed; this check did not run"
    );
}

/// The output without the one line that changes from run to run.
fn without_run_time(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with("bouncelog_last_run_timestamp_seconds "))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn prometheus_output_passes_promtool() {
    if Command::new("promtool").arg("--version").output().is_err() {
        skip("promtool (Debian package prometheus)");
        return;
    }
    for (name, files) in log_sets() {
        let text = analyze(&["--format", "prometheus"], &files);
        assert!(text.contains("bouncelog_failures{"), "{name}: no failures");
        let mut child = Command::new("promtool")
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("promtool");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write");
        let out = child.wait_with_output().expect("promtool ran");
        assert!(
            out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
            "{name}: promtool check metrics: {}{}\n{text}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn prometheus_output_agrees_with_the_json_report() {
    for (name, files) in log_sets() {
        let text = analyze(&["--format", "prometheus"], &files);
        let e = parse_exposition(&text).unwrap_or_else(|err| panic!("{name}: {err}\n{text}"));
        let json: Value =
            serde_json::from_str(&analyze(&["--format", "json"], &files)).expect("json report");
        for (family, ty) in &e.types {
            assert_eq!(ty, "gauge", "{family}");
            assert!(family.starts_with("bouncelog_"), "{family}");
            assert!(
                !family.ends_with("_total"),
                "{family}: a gauge named like a counter"
            );
        }
        // One sample per group, with the group's four keys as labels.
        let groups = json["groups"].as_array().expect("groups");
        let failures = e.of("bouncelog_failures");
        assert_eq!(failures.len(), groups.len(), "{name}");
        for g in groups {
            let want: BTreeMap<String, String> = ["cause", "direction", "severity", "mta"]
                .iter()
                .map(|k| (k.to_string(), g[k].as_str().expect(k).to_string()))
                .collect();
            let s = failures
                .iter()
                .find(|s| s.labels == want)
                .unwrap_or_else(|| panic!("{name}: no sample for {want:?}"));
            assert_eq!(s.value, g["count"].as_f64().expect("count"), "{want:?}");
        }
        for d in ["inbound", "outbound", "local"] {
            assert_eq!(
                e.sum("bouncelog_failures", "direction", d),
                json["totals"][d].as_f64().expect("total"),
                "{name} {d}"
            );
        }
        let findings = json["findings"].as_array().expect("findings");
        for kind in ["typo", "harvest", "domain_failure", "blocklisted"] {
            let n = findings.iter().filter(|f| f["kind"] == kind).count();
            assert_eq!(
                e.sum("bouncelog_findings", "kind", kind),
                n as f64,
                "{name} {kind}"
            );
        }
        let num = |v: &Value| v.as_f64().expect("number");
        assert_eq!(
            e.value("bouncelog_lines_unrecognised"),
            Some(num(&json["lines"]["unrecognised"]))
        );
        assert_eq!(
            e.value("bouncelog_lines_read"),
            Some(num(&json["lines"]["total"]))
        );
        assert_eq!(
            e.value("bouncelog_delivered_recipients"),
            Some(num(&json["totals"]["delivered"]))
        );
        let errors = json["inputs"]
            .as_array()
            .expect("inputs")
            .iter()
            .filter(|i| !i["error"].is_null())
            .count();
        assert_eq!(e.value("bouncelog_input_errors"), Some(errors as f64));
        // No window given: no window samples; the run time is now.
        assert_eq!(e.value("bouncelog_window_start_timestamp_seconds"), None);
        assert_eq!(e.value("bouncelog_window_end_timestamp_seconds"), None);
        let run = e
            .value("bouncelog_last_run_timestamp_seconds")
            .expect("run time");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs_f64();
        assert!((now - run).abs() < 120.0, "run time {run}, now {now}");
    }
}

#[test]
fn prometheus_window_is_the_one_asked_for() {
    let log = [testdata("postfix/mail.log")];
    let text = analyze(
        &[
            "--format",
            "prometheus",
            "--since",
            "2026-03-10T08:00:00Z",
            "--until",
            "2026-03-10T09:00:00Z",
        ],
        &log,
    );
    let e = parse_exposition(&text).expect("parses");
    assert_eq!(
        e.value("bouncelog_window_start_timestamp_seconds"),
        Some(1_773_129_600.0)
    );
    assert_eq!(
        e.value("bouncelog_window_end_timestamp_seconds"),
        Some(1_773_133_200.0)
    );
    let all = parse_exposition(&analyze(&["--format", "prometheus"], &log)).expect("parses");
    let sum = |e: &Exposition| {
        e.of("bouncelog_failures")
            .iter()
            .map(|s| s.value)
            .sum::<f64>()
    };
    assert!(
        sum(&e) > 0.0 && sum(&e) < sum(&all),
        "the window narrows the counts"
    );
}

#[test]
fn prometheus_output_is_deterministic() {
    for (name, files) in log_sets() {
        let a = analyze(&["--format", "prometheus", "-j", "1"], &files);
        let b = analyze(&["--format", "prometheus", "-j", "2"], &files);
        assert_eq!(without_run_time(&a), without_run_time(&b), "{name}");
        let e = parse_exposition(&a).expect("parses");
        let keys: Vec<_> = e
            .of("bouncelog_failures")
            .iter()
            .map(|s| ["cause", "direction", "severity", "mta"].map(|k| s.labels[k].clone()))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort_by(|x, y| x[0].cmp(&y[0]));
        assert_eq!(
            keys.iter().map(|k| &k[0]).collect::<Vec<_>>(),
            sorted.iter().map(|k| &k[0]).collect::<Vec<_>>(),
            "{name}: samples sorted by cause"
        );
    }
}

/// A cause id with a quote, a brace, line feeds and a backslash: a
/// `--patterns` file may name a cause so.
const HOSTILE: &str = "geo\"} 1\nforged_metric 1\n#x\\";

#[test]
fn hostile_ids_are_refused_and_label_values_escaped() {
    // A cause id is a label value: a pattern file that names one with quotes or
    // newlines is refused before anything is written.
    let dir = tempfile::tempdir().expect("tmp");
    let id = HOSTILE
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n");
    let toml = format!(
        "schema = 1\n\n[cause.\"{id}\"]\ntitle = \"t\"\nseverity = \"hard\"\nmeaning = \"m\"\n\n\
         [[reply]]\nid = \"site.geo\"\ncause = \"{id}\"\n\
         regex = '(?i)mail from your country is not accepted'\n\
         samples = [\"550 5.7.1 Mail from your country is not accepted here\"]\n"
    );
    std::fs::write(dir.path().join("geo.toml"), toml).expect("write");
    let log = dir.path().join("mail.log");
    std::fs::write(
        &log,
        "Mar 10 09:00:03 mx1 postfix/smtpd[1]: connect from x[192.0.2.1]\n",
    )
    .expect("write");
    let out = bouncelog()
        .args(["analyze", "--format", "prometheus", "--patterns"])
        .arg(dir.path())
        .arg(&log)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not valid"));
    // And the escaping itself, for any value that reaches a label.
    let escaped = bouncelog::report::prometheus::escape_label(HOSTILE);
    assert!(!escaped.contains('\n'), "{escaped}");
    assert_eq!(escaped, "geo\\\"} 1\\nforged_metric 1\\n#x\\\\");
}

#[test]
fn prometheus_parser_rejects_broken_expositions() {
    // The parser above is the check where promtool is missing: it must fail
    // on what promtool fails on.
    let good = "# HELP a_b x\n# TYPE a_b gauge\na_b{k=\"v\"} 1\n";
    assert!(parse_exposition(good).is_ok());
    for bad in [
        "a_b 1\n",
        "# HELP a_b x\n# TYPE a_b gauge\na_b{k=\"v\"} 1",
        "# HELP a_b x\n# TYPE a_b gauge\na_b{k=\"v\n\"} 1\n",
        "# HELP a_b x\n# TYPE a_b gauge\na_b{k=\"v\\x\"} 1\n",
        "# HELP a_b x\n# TYPE a_b gauge\na_b{k=\"v\"} 1\na_b{k=\"v\"} 2\n",
        "# HELP a_b x\n# TYPE a_b gauge\na_b{k=\"v\"\"} 1\n",
        "# HELP a_b x\n# TYPE a_b gauge\na-b 1\n",
    ] {
        assert!(parse_exposition(bad).is_err(), "accepted {bad:?}");
    }
}

#[test]
fn prometheus_output_file_is_written() {
    let dir = tempfile::tempdir().expect("tmp");
    let prom = dir.path().join("bouncelog.prom");
    let out = bouncelog()
        .args(["analyze", "--format", "prometheus", "--quiet", "-o"])
        .arg(&prom)
        .arg(testdata("postfix/mail.log"))
        .output()
        .expect("run");
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    let text = std::fs::read_to_string(&prom).expect("written");
    assert!(parse_exposition(&text).is_ok());
    // No temporary file is left next to it for the collector to read.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("bouncelog.prom")]);
}

/// The README's alert rules (the yaml block naming bouncelog metrics).
fn readme_rules() -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    readme
        .split("```yaml\n")
        .skip(1)
        .filter_map(|b| b.split_once("```").map(|(body, _)| body.to_string()))
        .find(|b| b.contains("bouncelog_failures"))
        .expect("a yaml block with the alert rules in the README")
}

#[test]
fn readme_alert_rules_load_and_fire() {
    if Command::new("promtool").arg("--version").output().is_err() {
        skip("promtool (Debian package prometheus)");
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let rules = dir.path().join("bouncelog.yml");
    std::fs::write(&rules, readme_rules()).expect("write");
    let out = Command::new("promtool")
        .args(["check", "rules"])
        .arg(&rules)
        .output()
        .expect("promtool");
    assert!(
        out.status.success(),
        "promtool check rules: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The blocklist alert fires after its 10 minutes, not before, and the
    // spike alert matches the unknown_user.* causes only.
    let test = r#"rule_files: [bouncelog.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'bouncelog_failures{cause="blocklisted",direction="outbound",severity="hard",mta="postfix",instance="mx1"}'
        values: '3x30'
      - series: 'bouncelog_failures{cause="unknown_user.no_such_user",direction="inbound",severity="hard",mta="postfix",instance="mx1"}'
        values: '150x30'
      - series: 'bouncelog_failures{cause="unknown_user.local_recipient_table",direction="inbound",severity="hard",mta="postfix",instance="mx1"}'
        values: '60x30'
      - series: 'bouncelog_failures{cause="unknown_userx",direction="inbound",severity="hard",mta="postfix",instance="mx2"}'
        values: '500x30'
      - series: 'bouncelog_last_run_timestamp_seconds{instance="mx1"}'
        values: '0+60x30'
    alert_rule_test:
      - eval_time: 5m
        alertname: MailOurIPBlocklisted
        exp_alerts: []
      - eval_time: 15m
        alertname: MailOurIPBlocklisted
        exp_alerts:
          - exp_labels: {severity: critical, instance: mx1}
            exp_annotations:
              summary: "mx1: our mail is refused by blocklists"
              description: "3 deliveries refused in the last hour; run `bouncelog analyze --since -1h /var/log/mail.log` on mx1 for the lists and hosts."
      - eval_time: 15m
        alertname: MailUnknownUserSpike
        exp_alerts:
          - exp_labels: {severity: warning, instance: mx1}
            exp_annotations:
              summary: "mx1: 210 unknown-user rejections in the last hour (a directory harvest?)"
      - eval_time: 15m
        alertname: BouncelogNotRunning
        exp_alerts: []
"#;
    let t = dir.path().join("test.yml");
    std::fs::write(&t, test).expect("write");
    let out = Command::new("promtool")
        .args(["test", "rules"])
        .arg(&t)
        .current_dir(dir.path())
        .output()
        .expect("promtool");
    assert!(
        out.status.success(),
        "promtool test rules: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
