#!/usr/bin/env bash
# Times bouncelog against cat, ripgrep and pflogsumm on a generated Postfix log.
# Usage: [PROFILE=light|realistic] [BIN=path] scripts/bench.sh [MB]   (default light, 1024 MB).
# PROFILE picks the generator's profile (examples/gen-log.rs); BIN another bouncelog binary
# to time (e.g. an older build) instead of this tree's release build.
# Needs: ripgrep, pflogsumm (apt-get install).
# Prints wall time, MB/s, ratio to rg and peak RSS (from /usr/bin/time) for each command.
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${1:-1024}
PROFILE=${PROFILE:-light}
if [ "$PROFILE" = light ]; then
  LOG=${BENCH_LOG:-/tmp/bouncelog-bench-$MB.log}
else
  LOG=${BENCH_LOG:-/tmp/bouncelog-bench-$PROFILE-$MB.log}
fi
cargo build --release --quiet --example gen-log
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN=target/release/bouncelog
fi
[ -s "$LOG" ] || target/release/examples/gen-log --mb "$MB" --profile "$PROFILE" > "$LOG"
SIZE=$(stat -c %s "$LOG")
cat "$LOG" > /dev/null   # warm the page cache
run() { # name, command...
  local name=$1; shift
  local best=999999 rss=0
  for _ in 1 2 3; do
    local out
    out=$( { /usr/bin/time -f "%e %M" "$@" > /dev/null; } 2>&1 | tail -1 )
    local t=${out% *} m=${out#* }
    if awk "BEGIN{exit !($t < $best)}"; then best=$t; rss=$m; fi
  done
  echo "$name $best $rss"
}
echo "# $(nproc) cores, $(uname -m), $PROFILE log $((SIZE >> 20)) MiB, best of 3, page cache warm"
{
  run cat cat "$LOG"
  run rg rg -c 'reject:|status=bounced|status=expired|milter-reject' "$LOG"
  run bouncelog-1-thread "$BIN" analyze --format json --threads 1 "$LOG"
  run bouncelog "$BIN" analyze --format json "$LOG"
} | awk -v size="$SIZE" '
  { t[$1]=$2; r[$1]=$3; order[NR]=$1 }
  END {
    printf "%-20s %9s %10s %9s %10s\n", "command", "seconds", "MB/s", "x rg", "peak RSS";
    for (i = 1; i <= NR; i++) { n = order[i];
      printf "%-20s %9.2f %10.0f %9.1f %7.0f MiB\n", n, t[n], size / 1048576 / t[n], t[n] / t["rg"], r[n] / 1024 }
  }'
if command -v pflogsumm > /dev/null; then
  SLICE=/tmp/bouncelog-bench-slice.log
  head -c $((100 << 20)) "$LOG" > "$SLICE"
  s=$( { /usr/bin/time -f "%e" pflogsumm "$SLICE" > /dev/null; } 2>&1 | tail -1 )
  b=$( { /usr/bin/time -f "%e" "$BIN" analyze --format json "$SLICE" > /dev/null; } 2>&1 | tail -1 )
  echo "pflogsumm on 100 MiB: ${s}s; bouncelog on the same: ${b}s ($(awk "BEGIN{printf \"%.1f\", $s / $b}")x faster)"
fi
