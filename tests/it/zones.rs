//! `--tz` is a value handed down, not a change of the process environment:
//! it decides how year-less stamps and window bounds are read, `local` is the
//! system's zone (`TZ`), and programs bouncelog runs (journalctl) keep the
//! environment they would have had.

use crate::util::{bouncelog, events, testdata};
use chrono::{DateTime, FixedOffset};
use std::fs;
use std::os::unix::fs::PermissionsExt;

/// The event times of a log read in a zone.
fn times(tz: &str) -> Vec<DateTime<FixedOffset>> {
    let log = testdata("postfix/mail.log");
    let ev = events(&["--tz", tz, log.to_str().expect("path")]);
    assert!(!ev.is_empty(), "the log has failures");
    ev.iter()
        .map(|e| DateTime::parse_from_rfc3339(e["time"].as_str().expect("time")).expect("rfc3339"))
        .collect()
}

#[test]
fn a_zone_changes_how_year_less_stamps_are_read() {
    let (utc, tokyo) = (times("UTC"), times("Asia/Tokyo"));
    assert_eq!(utc.len(), tokyo.len());
    for (u, t) in utc.iter().zip(&tokyo) {
        // 10:00 in Tokyo is 01:00 UTC: the same wall clock, 9 hours earlier.
        assert_eq!((*u - *t).num_seconds(), 9 * 3600, "{u} {t}");
    }
}

#[test]
fn local_is_the_zone_of_the_environment() {
    let log = testdata("postfix/mail.log");
    let run = |tz_env: &str, args: &[&str]| {
        let out = bouncelog()
            .env("TZ", tz_env)
            .args(["analyze", "--format", "ndjson"])
            .args(args)
            .arg(&log)
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let tokyo = run("UTC", &["--tz", "Asia/Tokyo"]);
    assert_eq!(run("Asia/Tokyo", &[]), tokyo);
    assert_eq!(run("Asia/Tokyo", &["--tz", "local"]), tokyo);
    assert_ne!(run("UTC", &[]), tokyo);
}

#[test]
fn journalctl_keeps_the_environment_and_gets_the_bounds_on_its_clock() {
    let dir = tempfile::tempdir().expect("tmp");
    let said = dir.path().join("said");
    let script = dir.path().join("journalctl");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"TZ=$TZ $*\" > '{}'\n",
            said.to_str().expect("path")
        ),
    )
    .expect("w");
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).expect("chmod");
    let out = bouncelog()
        .env("TZ", "UTC")
        .env("PATH", dir.path())
        .args(["analyze", "--quiet", "--journal", "--tz", "Asia/Tokyo"])
        .args(["--since", "2025-03-10", "--until", "2025-03-11"])
        .output()
        .expect("run");
    // An empty journal does not reach into that past window: status 3.
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = fs::read_to_string(&said).expect("journalctl ran");
    // The bounds are Tokyo's midnights (--until a day means its end), written in the zone journalctl reads
    // them in: the environment's, which --tz left alone.
    assert!(said.starts_with("TZ=UTC "), "{said}");
    assert!(said.contains("--since=2025-03-09 15:00:00"), "{said}");
    assert!(said.contains("--until=2025-03-11 15:00:00"), "{said}");
}
