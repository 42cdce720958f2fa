#!/usr/bin/env python3
"""Checks the README's "Many servers: ClickHouse" section against chDB.

Writes the ndjson events of every test log with the built binary (one
"host" per MTA, as Vector's remap would add), creates the table with the
README's DDL, loads the events with the settings the README's Vector sink
uses (date_time_best_effort, skip_unknown_fields), checks that every event
arrived with its keys, and runs every query of the section: an error, an
empty result or a lost event fails the run.

Usage: python3 scripts/clickhouse-check.py [BINARY]
(default: target/release/bouncelog, else target/debug/bouncelog, built with
cargo when neither exists). chdb is imported, or installed into a virtualenv
($CHDB_VENV, default /tmp/bouncelog-chdb-venv) with pip; when it cannot be installed (offline) the script prints
"skipped: chdb not installable" and exits 0. Not part of `cargo test`.
"""

import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.environ.get("CHDB_VENV", "/tmp/bouncelog-chdb-venv")


def ensure_chdb():
    """Imports chdb, or re-runs this script in a virtualenv that has it."""
    try:
        import chdb  # noqa: F401

        return
    except ImportError:
        pass
    py = os.path.join(VENV, "bin", "python")
    if os.environ.get("BOUNCELOG_CHDB_VENV") == "1":
        print("skipped: chdb not installable (imported nothing in the virtualenv)")
        sys.exit(0)
    try:
        if not os.path.exists(py):
            subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        subprocess.run([py, "-m", "pip", "install", "-q", "chdb"], check=True)
    except (subprocess.CalledProcessError, OSError) as e:
        print(f"skipped: chdb not installable ({e})")
        sys.exit(0)
    env = dict(os.environ, BOUNCELOG_CHDB_VENV="1")
    os.execve(py, [py, os.path.abspath(__file__)] + sys.argv[1:], env)


def binary():
    if len(sys.argv) > 1:
        return sys.argv[1]
    for b in ("target/release/bouncelog", "target/debug/bouncelog"):
        p = os.path.join(ROOT, b)
        if os.path.exists(p):
            return p
    subprocess.run(["cargo", "build", "-q"], cwd=ROOT, check=True)
    return os.path.join(ROOT, "target/debug/bouncelog")


def section_sql():
    """The ```sql blocks of the README's ClickHouse section: DDL first."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    m = re.search(r"^## Many servers: ClickHouse\n(.*?)(?=^## )", readme, re.S | re.M)
    if not m:
        sys.exit("clickhouse-check: no '## Many servers: ClickHouse' section in README.md")
    blocks = re.findall(r"^```sql\n(.*?)^```", m.group(1), re.S | re.M)
    ddl = [b for b in blocks if "CREATE TABLE" in b]
    queries = [b for b in blocks if "CREATE TABLE" not in b]
    if len(ddl) != 1 or not queries:
        sys.exit("clickhouse-check: want one CREATE TABLE block and some queries in the section")
    return ddl[0], queries


def test_logs():
    def files(d):
        p = os.path.join(ROOT, "testdata", d)
        return sorted(os.path.join(p, f) for f in os.listdir(p))

    return [
        ("mx-postfix", [os.path.join(ROOT, "testdata/postfix/mail.log")]),
        ("mx-exim", [os.path.join(ROOT, "testdata/exim", f) for f in ("mainlog", "rejectlog")]),
        ("mx-qmail", files("qmail")),
        ("mx-exchange", files("exchange")),
    ]


def main():
    ensure_chdb()
    from chdb import session

    bouncelog = binary()
    ddl, queries = section_sql()
    tmp = tempfile.mkdtemp(prefix="bouncelog-ch-")
    ndjson = os.path.join(tmp, "events.ndjson")
    written = []
    with open(ndjson, "w", encoding="utf-8") as out:
        for host, logs in test_logs():
            r = subprocess.run(
                [bouncelog, "analyze", "--format", "ndjson", *logs],
                capture_output=True,
                text=True,
                env=dict(os.environ, TZ="UTC"),
            )
            # The exchange set holds a file without #Fields: on purpose (exit 2).
            if r.returncode not in (0, 2) or not r.stdout:
                sys.exit(f"clickhouse-check: {host}: exit {r.returncode}: {r.stderr}")
            for line in r.stdout.splitlines():
                event = json.loads(line)
                event["host"] = host
                written.append(event)
                out.write(json.dumps(event) + "\n")
    sess = session.Session(os.path.join(tmp, "db"))
    sess.query(ddl)
    sess.query(
        f"INSERT INTO bouncelog_events FROM INFILE '{ndjson}' "
        "SETTINGS date_time_input_format = 'best_effort', input_format_skip_unknown_fields = 1 "
        "FORMAT JSONEachRow"
    )

    def rows(sql):
        return json.loads(str(sess.query(sql, "JSON")))["data"]

    loaded = rows("SELECT count() AS n, uniqExact(host) AS hosts FROM bouncelog_events")[0]
    if int(loaded["n"]) != len(written) or int(loaded["hosts"]) != 4:
        sys.exit(f"clickhouse-check: {len(written)} events written, loaded {loaded}")
    # Every key made it: compare one column of each kind with what was written.
    for key in ("cause", "stage", "status", "recipient", "dsn"):
        want = sum(1 for e in written if e.get(key) is not None)
        got = int(rows(f"SELECT countIf({key} IS NOT NULL) AS n FROM bouncelog_events")[0]["n"])
        if want != got:
            sys.exit(f"clickhouse-check: {key}: {want} events have one, {got} rows")
    untimed = sum(1 for e in written if e.get("time") is None)
    epoch = int(rows("SELECT countIf(toYear(time) = 1970) AS n FROM bouncelog_events")[0]["n"])
    if epoch != untimed:
        sys.exit(f"clickhouse-check: {epoch} rows at 1970, {untimed} events without a time")
    for q in queries:
        first = q.strip().splitlines()[0]
        try:
            result = rows(q.strip().rstrip(";"))
        except Exception as e:  # chdb raises a plain RuntimeError
            sys.exit(f"clickhouse-check: query failed: {first} …\n{e}")
        if not result:
            sys.exit(f"clickhouse-check: no rows from: {first} …")
        print(f"ok: {len(result):3} rows  {first}")
        print(f"     first: {json.dumps(result[0], ensure_ascii=False)[:150]}")
    print(f"clickhouse-check: ok: {len(written)} events of 4 hosts, DDL and {len(queries)} queries")


if __name__ == "__main__":
    main()
