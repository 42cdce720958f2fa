//! Helpers shared by the integration tests: running the binary with a fixed
//! time zone, and reading its JSON output.

#![allow(dead_code)]

use assert_cmd::Command;
use serde_json::Value;
use std::path::PathBuf;

/// The binary, with TZ=UTC so syslog stamps resolve the same everywhere.
pub fn bouncelog() -> Command {
    let mut c = Command::cargo_bin("bouncelog").expect("binary built");
    c.env("TZ", "UTC");
    c
}

/// Path of a file under testdata/.
pub fn testdata(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(rel)
}

/// Runs `patterns check DIR`: exit code and what it printed.
pub fn check_dir(dir: &std::path::Path) -> (Option<i32>, String) {
    let out = bouncelog()
        .args(["patterns", "check"])
        .arg(dir)
        .output()
        .expect("run");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Runs `analyze --format json` on the arguments and parses stdout.
pub fn json(args: &[&str]) -> Value {
    let out = bouncelog()
        .arg("analyze")
        .args(["--format", "json"])
        .args(args)
        .output()
        .expect("run");
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("bad json ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// Count of the group with this cause and direction (0 when absent).
pub fn count(report: &Value, cause: &str, direction: &str) -> u64 {
    report["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter(|g| g["cause"] == cause && g["direction"] == direction)
        .map(|g| g["count"].as_u64().expect("count"))
        .sum()
}

/// Lines of a testdata file.
pub fn lines(rel: &str) -> Vec<String> {
    std::fs::read_to_string(testdata(rel))
        .expect("read")
        .lines()
        .map(str::to_string)
        .collect()
}

/// Runs `analyze --format ndjson` on the arguments (must succeed) and parses each event line.
pub fn events(args: &[&str]) -> Vec<Value> {
    let out = bouncelog()
        .args(["analyze", "--format", "ndjson"])
        .args(args)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}
