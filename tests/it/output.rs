//! `--output` (and the other files bouncelog writes) when run as root:
//! symlinks are written through, devices and FIFOs are written in place and
//! never replaced, `/dev/stdout` is standard output, new files get
//! `0666 & ~umask`, replaced files keep their mode, and errors are one plain
//! line.

use crate::util::{bouncelog, testdata};
use std::fs;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

fn log() -> String {
    testdata("postfix/mail.log")
        .to_str()
        .expect("path")
        .to_string()
}

fn report_to(out: &Path) -> std::process::Output {
    bouncelog()
        .args(["analyze", "--format", "json", "-o"])
        .arg(out)
        .arg(log())
        .output()
        .expect("run")
}

fn is_report(bytes: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(bytes).is_ok_and(|v| v["totals"]["failures"] == 45)
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p).expect("meta").permissions().mode() & 0o7777
}

#[test]
fn a_symlink_is_written_through_and_stays_a_link() {
    let dir = tempfile::tempdir().expect("tmp");
    let real_dir = dir.path().join("reports");
    fs::create_dir(&real_dir).expect("dir");
    let real = real_dir.join("mx1.json");
    fs::write(&real, "old").expect("w");
    let link = dir.path().join("latest.json");
    std::os::unix::fs::symlink("reports/mx1.json", &link).expect("symlink");
    let out = report_to(&link);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(fs::symlink_metadata(&link)
        .expect("meta")
        .file_type()
        .is_symlink());
    assert!(is_report(&fs::read(&real).expect("read")));
    // The temporary file lived (and died) in the link target's directory.
    let names = |d: &Path| -> Vec<String> {
        fs::read_dir(d)
            .expect("dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    };
    assert_eq!(names(&real_dir), vec!["mx1.json"]);
    // A dangling link creates its target.
    let dangling = dir.path().join("new.json");
    std::os::unix::fs::symlink("reports/new-target.json", &dangling).expect("symlink");
    assert!(report_to(&dangling).status.success());
    assert!(fs::symlink_metadata(&dangling)
        .expect("m")
        .file_type()
        .is_symlink());
    assert!(is_report(
        &fs::read(real_dir.join("new-target.json")).expect("read")
    ));
}

#[test]
fn a_fifo_is_written_in_place() {
    let dir = tempfile::tempdir().expect("tmp");
    let fifo = dir.path().join("pipe");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success(), "mkfifo failed");
    let (tx, rx) = std::sync::mpsc::channel();
    {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let r = fs::File::open(&fifo).and_then(|mut f| f.read_to_end(&mut buf));
            let _ = tx.send(r.map(|_| buf));
        });
    }
    let out = report_to(&fifo);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        fs::symlink_metadata(&fifo)
            .expect("m")
            .file_type()
            .is_fifo(),
        "the FIFO was replaced"
    );
    let got = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("nothing was written into the FIFO")
        .expect("read fifo");
    assert!(is_report(&got), "{}", String::from_utf8_lossy(&got));
}

#[test]
fn a_device_node_is_written_in_place_not_replaced() {
    // A private null device: the test never touches the system's /dev.
    let dir = tempfile::tempdir().expect("tmp");
    let dev = dir.path().join("null");
    let made = Command::new("mknod")
        .arg(&dev)
        .args(["c", "1", "3"])
        .status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: mknod needs root (the /dev/null test below still runs)");
        return;
    }
    let out = report_to(&dev);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(fs::symlink_metadata(&dev)
        .expect("m")
        .file_type()
        .is_char_device());
    // The emitted blocklist goes through the same writer.
    let out = bouncelog()
        .args(["analyze", "--emit-blocklist"])
        .arg(&dev)
        .arg(log())
        .output()
        .expect("run");
    assert!(out.status.success());
    assert!(fs::symlink_metadata(&dev)
        .expect("m")
        .file_type()
        .is_char_device());
}

#[test]
fn dev_null_and_dev_stdout() {
    let out = report_to(Path::new("/dev/null"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    assert!(fs::symlink_metadata("/dev/null")
        .expect("m")
        .file_type()
        .is_char_device());
    let out = report_to(Path::new("/dev/stdout"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(is_report(&out.stdout));
    assert!(fs::symlink_metadata("/dev/stdout").is_ok_and(|m| !m.is_file()));
}

#[test]
fn new_files_follow_the_umask_replaced_files_keep_their_mode() {
    let dir = tempfile::tempdir().expect("tmp");
    let bin = assert_cmd::cargo::cargo_bin("bouncelog");
    let run = |umask: &str, out: &Path| {
        let st = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "umask {umask}; exec \"$0\" analyze --format json -o \"$1\" \"$2\""
            ))
            .arg(&bin)
            .arg(out)
            .arg(log())
            .env("TZ", "UTC")
            .status()
            .expect("sh");
        assert!(st.success());
    };
    let a = dir.path().join("a.json");
    run("022", &a);
    assert_eq!(mode(&a), 0o644, "a collector must be able to read it");
    let b = dir.path().join("b.json");
    run("027", &b);
    assert_eq!(mode(&b), 0o640);
    // A replaced file keeps its mode, whatever the umask.
    fs::set_permissions(&b, fs::Permissions::from_mode(0o604)).expect("chmod");
    run("077", &b);
    assert_eq!(mode(&b), 0o604);
    assert!(is_report(&fs::read(&b).expect("read")));
}

#[test]
fn output_errors_are_one_plain_line() {
    for (target, says) in [
        ("/nonexistent-dir/r.txt", "no such file or directory"),
        ("/", "is a directory"),
    ] {
        let out = bouncelog()
            .args(["analyze", "-o", target, &log()])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(target) && err.contains(says), "{err}");
        for noise in ["os error", ".bouncelog-", "Some(", "\"/"] {
            assert!(!err.contains(noise), "{noise} in {err}");
        }
    }
}

#[test]
fn a_replaced_file_keeps_its_owner_when_run_as_root() {
    let uid = Command::new("id").arg("-u").output().expect("id");
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        eprintln!("skipped: giving a file to another owner needs root");
        return;
    }
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("report.json");
    fs::write(&p, "old").expect("w");
    std::os::unix::fs::chown(&p, Some(65534), Some(65534)).expect("chown");
    fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).expect("chmod");
    let out = report_to(&p);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m = fs::metadata(&p).expect("meta");
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (65534, 65534, 0o640));
    assert!(is_report(&fs::read(&p).expect("read")));
}
