//! Small things people see: `analyze` without files on a terminal says it
//! reads standard input (run under a pseudo-terminal by util-linux
//! `script`), counts of one are singular, and `merge --help` offers only the
//! formats merge writes.

use super::skip;
use crate::util::{bouncelog, testdata};
use std::io::Write;
use std::process::{Command, Stdio};

const NOTICE: &str = "reading the log from standard input";

#[test]
fn analyze_on_a_terminal_says_it_reads_stdin() {
    let bin = env!("CARGO_BIN_EXE_bouncelog");
    if Command::new("script").arg("--version").output().is_err() {
        skip("script (util-linux, for a pseudo-terminal)");
        return;
    }
    // `script` gives the command a pseudo-terminal as stdin and stderr; the
    // Ctrl-D written after a pause ends its input.
    let mut child = Command::new("script")
        .args(["-q", "-e", "-c"])
        .arg(format!("env TZ=UTC '{bin}' analyze"))
        .arg("/dev/null")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script");
    let mut stdin = child.stdin.take().expect("stdin");
    std::thread::sleep(std::time::Duration::from_millis(500));
    stdin.write_all(b"\x04").expect("write");
    drop(stdin);
    let out = child.wait_with_output().expect("script ran");
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{screen}");
    assert!(
        screen.contains(NOTICE),
        "no notice on the terminal: {screen}"
    );
    assert!(
        screen.contains("Failures: 0"),
        "the report follows: {screen}"
    );
}

#[test]
fn piped_stdin_and_named_files_get_no_notice() {
    let piped = bouncelog()
        .arg("analyze")
        .write_stdin("")
        .output()
        .expect("run");
    assert!(!String::from_utf8_lossy(&piped.stderr).contains(NOTICE));
    let named = bouncelog()
        .arg("analyze")
        .arg(testdata("postfix/mail.log"))
        .output()
        .expect("run");
    assert!(!String::from_utf8_lossy(&named.stderr).contains(NOTICE));
}

#[test]
fn counts_of_one_are_singular() {
    let line = "Mar 10 07:01:45 mx1 postfix/smtpd[4242]: NOQUEUE: reject: RCPT from \
        mail.example.org[198.51.100.7]: 550 5.1.1 <jonh.smith@example.com>: Recipient address \
        rejected: User unknown in local recipient table; from=<alice@example.org> \
        to=<jonh.smith@example.com> proto=ESMTP helo=<mail.example.org>\n";
    let run = |format: &str| {
        let out = bouncelog()
            .args(["analyze", "--format", format])
            .write_stdin(line)
            .output()
            .expect("run");
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let text = run("text");
    assert!(text.contains("1 input, 1 line ("), "{text}");
    assert!(text.contains("1 message, 1 distinct recipient,"), "{text}");
    assert!(text.contains("0 non-delivery notices sent"), "{text}");
    assert!(text.contains("0 verify probes"), "{text}");
    let md = run("markdown");
    assert!(md.contains("(1 line;"), "{md}");
    assert!(md.contains("**1 message**, 1 distinct recipient"), "{md}");
    let two = bouncelog()
        .arg("analyze")
        .write_stdin(format!("{line}{line}"))
        .output()
        .expect("run");
    let two = String::from_utf8_lossy(&two.stdout);
    assert!(two.contains("1 input, 2 lines ("), "{two}");
    assert!(two.contains("2 messages, 1 distinct recipient,"), "{two}");
}

#[test]
fn merge_offers_only_the_formats_it_writes() {
    let help = bouncelog().args(["merge", "--help"]).output().expect("run");
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("[possible values: text, markdown, csv, json, prometheus, html]"),
        "{help}"
    );
    assert!(!help.contains("ndjson"), "{help}");
    let analyze = bouncelog()
        .args(["analyze", "--help"])
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&analyze.stdout).contains("ndjson"));
    // ndjson is refused as a usage error (exit 2), naming what is accepted.
    let dir = tempfile::tempdir().expect("tmp");
    let report = dir.path().join("r.json");
    let json = bouncelog()
        .args(["analyze", "--format", "json", "-o"])
        .arg(&report)
        .arg(testdata("postfix/mail.log"))
        .output()
        .expect("run");
    assert!(json.status.success());
    let bad = bouncelog()
        .args(["merge", "--format", "ndjson"])
        .arg(&report)
        .output()
        .expect("run");
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("possible values"));
    // Every format offered works, prometheus included.
    for f in ["text", "markdown", "csv", "json", "prometheus", "html"] {
        let out = bouncelog()
            .args(["merge", "--format", f])
            .arg(&report)
            .output()
            .expect("run");
        assert!(out.status.success(), "merge --format {f}");
        assert!(!out.stdout.is_empty(), "merge --format {f}");
    }
}
