//! `--format html`: the page is well formed (every element it opens is
//! closed, in order), self-contained (no script, nothing fetched), escapes
//! hostile log text, and renders in headless Chromium where installed.

use crate::util::{bouncelog, testdata};
use std::io::Write;
use std::process::Command;

/// Elements that have no closing tag in HTML.
const VOID: [&str; 2] = ["meta", "br"];

/// Checks that tags nest and close; returns the element names opened, in
/// order. Also fails on any tag that refers to an outside resource.
fn check_tags(html: &str) -> Result<Vec<String>, String> {
    let mut stack: Vec<String> = Vec::new();
    let mut opened = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        let after = &rest[i + 1..];
        let end = after
            .find('>')
            .ok_or_else(|| format!("unclosed tag at {:?}", &after[..after.len().min(40)]))?;
        let tag = &after[..end];
        rest = &after[end + 1..];
        if tag.starts_with("!DOCTYPE") {
            continue;
        }
        let lower = tag.to_ascii_lowercase();
        for bad in [
            "http:",
            "https:",
            "src=",
            "href=",
            "url(",
            "javascript:",
            " on",
        ] {
            if lower.contains(bad) {
                return Err(format!("tag refers outside or runs code: <{tag}>"));
            }
        }
        if let Some(name) = tag.strip_prefix('/') {
            match stack.pop() {
                Some(open) if open == name => {}
                other => return Err(format!("</{name}> closes {other:?}")),
            }
            continue;
        }
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if name.is_empty() {
            return Err(format!("not a tag: <{tag}>"));
        }
        opened.push(name.clone());
        if name == "style" {
            // CSS holds no markup; skip to the end of the element.
            let close = rest.find("</style>").ok_or("unclosed <style>")?;
            rest = &rest[close + "</style>".len()..];
            continue;
        }
        if !tag.ends_with('/') && !VOID.contains(&name.as_str()) {
            stack.push(name);
        }
    }
    if !stack.is_empty() {
        return Err(format!("never closed: {stack:?}"));
    }
    Ok(opened)
}

fn html(args: &[&str], stdin: Option<&str>) -> String {
    let mut c = bouncelog();
    c.args(["analyze", "--format", "html"]).args(args);
    if let Some(s) = stdin {
        c.write_stdin(s.to_string());
    }
    let out = c.output().expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn assert_self_contained(page: &str) {
    let lower = page.to_ascii_lowercase();
    for bad in [
        "<script", "<img", "<link", "<iframe", "<object", "@import", "url(",
    ] {
        assert!(!lower.contains(bad), "the page holds {bad}");
    }
}

#[test]
fn sample_report_is_well_formed_and_self_contained() {
    let page = html(
        &[testdata("postfix/mail.log").to_str().expect("path")],
        None,
    );
    assert!(
        page.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"),
        "{page}"
    );
    let opened = check_tags(&page).unwrap_or_else(|e| panic!("{e}"));
    for el in ["table", "svg", "rect", "h2", "ul", "pre"] {
        assert!(opened.iter().any(|o| o == el), "no <{el}>");
    }
    assert_self_contained(&page);
    // What a postmaster looks for first: the totals, a finding, a cause with its hint.
    assert!(page.contains(">45</div>"), "failure total");
    assert!(
        page.contains("did you mean john.smith@example.com"),
        "typo finding"
    );
    assert!(page.contains("User unknown in local recipient table"));
    assert!(
        page.contains("<code>postmap -q"),
        "a hint's command shown as code"
    );
    assert!(page.contains("<h2>Failures over time</h2>"));
    assert!(page.contains("aria-label=\"Failures per hour\""));
    assert!(page.contains("<h2>Failures by cause</h2>"));
    // One detail block per group, as many as the JSON report has groups.
    let groups = crate::util::json(&[testdata("postfix/mail.log").to_str().expect("path")])
        ["groups"]
        .as_array()
        .expect("groups")
        .len();
    assert_eq!(page.matches("<h3>").count(), groups);
}

#[test]
fn every_test_log_gives_a_well_formed_page() {
    let dir = |d: &str| -> Vec<std::path::PathBuf> {
        let mut v: Vec<_> = std::fs::read_dir(testdata(d))
            .expect("dir")
            .map(|e| e.expect("entry").path())
            .collect();
        v.sort();
        v
    };
    let sets = [
        vec![testdata("exim/mainlog"), testdata("exim/rejectlog")],
        dir("qmail"),
        dir("exchange"),
        dir("lineforms"),
    ];
    for files in sets {
        // The exchange set holds a file without #Fields: (an error, exit 2).
        let out = bouncelog()
            .args(["analyze", "--format", "html"])
            .args(&files)
            .output()
            .expect("run");
        let page = String::from_utf8(out.stdout).expect("utf-8");
        check_tags(&page).unwrap_or_else(|e| panic!("{files:?}: {e}"));
        assert_self_contained(&page);
        assert!(page.contains("<h2>Causes in detail</h2>"), "{files:?}");
        if out.status.code() == Some(2) {
            assert!(page.contains("<strong>Input error:</strong>"), "{files:?}");
        }
    }
}

#[test]
fn findings_are_listed_by_kind_and_capped() {
    // Twelve recipients a letter-swap away from delivered ones: twelve typos.
    let mut log = String::new();
    for i in 0..12 {
        for (n, (rcpt, status, text)) in [
            (format!("kim.lee{i}@partner.example"), "sent", "250 2.0.0 Ok"),
            (
                format!("kmi.lee{i}@partner.example"),
                "bounced",
                "host mx.partner.example[198.51.100.30] said: 550 5.1.1 <x>: Recipient \
                 address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)",
            ),
        ]
        .into_iter()
        .enumerate()
        {
            log += &format!(
                "Mar 10 09:{i:02}:0{n} mx1 postfix/smtp[4540]: Q{i:02}{n}00000A: to=<{rcpt}>, \
                 relay=mx.partner.example[198.51.100.30]:25, delay=1, delays=0/0/0.5/0.5, \
                 dsn={}, status={status} ({text})\n",
                if n == 0 { "2.0.0" } else { "5.1.1" }
            );
        }
    }
    let report = bouncelog()
        .args(["analyze", "--format", "json"])
        .write_stdin(log.clone())
        .output()
        .expect("run");
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).expect("json");
    let typos = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["kind"] == "typo")
        .count();
    assert_eq!(typos, 12, "{log}");
    let page = html(&[], Some(&log));
    check_tags(&page).unwrap_or_else(|e| panic!("{e}"));
    assert!(page.contains("<strong>typo (12):</strong>"), "{page}");
    assert_eq!(page.matches("→ did you mean").count(), 10, "{page}");
    assert!(page.contains("… and 2 more typo findings"), "{page}");
    // The kind's hint once, not once per finding.
    assert_eq!(page.matches("Correct the address at its source").count(), 1);
    let more = html(&["--top", "20"], Some(&log));
    assert_eq!(more.matches("→ did you mean").count(), 12);
}

/// A rejection whose recipient, sender, HELO and reply text are markup.
const HOSTILE: &str = "Mar 10 07:01:45 mx1 postfix/smtpd[4242]: NOQUEUE: reject: RCPT from \
    evil.example[198.51.100.7]: 550 5.1.1 <x<script>alert(1)</script>@example.com>: Recipient \
    address rejected: User unknown in local recipient table <img src=x onerror=alert(2)> \
    \"'><svg onload=alert(3)> \u{202e}gpj.exe; from=<a\"b'<i>@evil.example> \
    to=<x<script>alert(1)</script>@example.com> proto=ESMTP helo=<</title><script>alert(4)>\n";

#[test]
fn hostile_log_text_is_escaped() {
    let page = html(&[], Some(HOSTILE));
    check_tags(&page).unwrap_or_else(|e| panic!("{e}\n{page}"));
    assert_self_contained(&page);
    let lower = page.to_ascii_lowercase();
    assert!(!lower.contains("<svg onload"), "{page}");
    assert!(!lower.contains("<i>"), "{page}");
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{page}"
    );
    assert!(
        page.contains("&lt;img src=x onerror=alert(2)&gt;"),
        "{page}"
    );
    assert!(
        page.contains("a&quot;b&#39;&lt;i&gt;@evil.example"),
        "{page}"
    );
    // A bidi override is shown, not obeyed.
    assert!(page.contains("\\u{202e}gpj.exe"), "{page}");
    assert!(!page.contains('\u{202e}'));
}

#[test]
fn a_clean_log_says_so_and_quiet_prints_nothing() {
    let clean = "Mar 10 09:00:03 mx1 postfix/smtpd[1]: connect from x[192.0.2.1]\n";
    let page = html(&[], Some(clean));
    check_tags(&page).unwrap_or_else(|e| panic!("{e}"));
    assert!(page.contains("No rejections or bounces found."), "{page}");
    assert!(!page.contains("<svg"), "no chart without failures");
    let quiet = html(&["--quiet"], Some(clean));
    assert!(quiet.is_empty(), "{quiet}");
}

#[test]
fn html_is_the_same_whatever_the_thread_count() {
    let log = testdata("postfix/mail.log");
    let log = log.to_str().expect("path");
    assert_eq!(html(&["-j", "1", log], None), html(&["-j", "3", log], None));
}

#[test]
fn merge_writes_html() {
    let dir = tempfile::tempdir().expect("tmp");
    let report = dir.path().join("r.json");
    let ok = bouncelog()
        .args(["analyze", "--format", "json", "-o"])
        .arg(&report)
        .arg(testdata("postfix/mail.log"))
        .output()
        .expect("run");
    assert!(ok.status.success());
    let merged = bouncelog()
        .args(["merge", "--format", "html"])
        .arg(&report)
        .output()
        .expect("run");
    assert!(merged.status.success());
    let page = String::from_utf8(merged.stdout).expect("utf-8");
    check_tags(&page).unwrap_or_else(|e| panic!("{e}"));
    assert!(page.contains("User unknown in local recipient table"));
}

#[test]
fn the_tag_checker_catches_broken_pages() {
    // The checker above is what the other tests rely on: it must fail on
    // what a browser would mis-nest or fetch.
    assert!(check_tags("<p><b>x</b></p><br>").is_ok());
    for bad in [
        "<p><b>x</p></b>",
        "<p>x",
        "<p>x</div>",
        "<img src=\"https://x/y.png\"/>",
        "<div style=\"background:url(x)\"></div>",
        "<p onclick=\"x\"></p>",
        "<p x",
    ] {
        assert!(check_tags(bad).is_err(), "accepted {bad:?}");
    }
}

#[test]
fn chromium_renders_the_report() {
    let Some(chromium) = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| Command::new(c).arg("--version").output().is_ok())
    else {
        if std::env::var_os("BOUNCELOG_REQUIRE_TOOLS").is_some_and(|v| v == "1") {
            panic!("chromium is required (BOUNCELOG_REQUIRE_TOOLS=1) but not installed");
        }
        // Past cargo's capture, so a skipped check is visible.
        let _ = writeln!(std::io::stderr(), "skipped: chromium not installed");
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let page = dir.path().join("report.html");
    std::fs::write(
        &page,
        html(
            &[testdata("postfix/mail.log").to_str().expect("path")],
            None,
        ),
    )
    .expect("write");
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--no-first-run",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium ran");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dom = String::from_utf8_lossy(&out.stdout);
    // The browser's own parse of the page kept every part.
    for want in [
        "<h1>bouncelog report</h1>",
        "<h2>Findings</h2>",
        "<h2>Failures over time</h2>",
        "<h2>Causes in detail</h2>",
        "aria-label=\"Failures by cause\"",
        "User unknown in local recipient table",
    ] {
        assert!(dom.contains(want), "rendered page lacks {want}");
    }
    assert!(!dom.contains("<script"), "{dom}");
}
