#!/usr/bin/env bash
# Cold-cache and core-count rows for BENCHMARKS.md (issue 14): needs root, because it empties
# the page cache (`echo 3 > /proc/sys/vm/drop_caches`) before every cold run — run it on a quiet
# machine: every other process's files are evicted too.
# Usage: [BIN=path] scripts/bench-cold.sh LOG MARKERS
#   LOG      a generated log (scripts/bench.sh makes them)
#   MARKERS  the rg pattern of the MTA's failure markers (as in scripts/bench.sh)
# Prints, for the cold cache: `rg -c MARKERS` and `bouncelog analyze --format json`, each after
# emptying the cache, and their ratio; then, warm, bouncelog on one core (`taskset -c 0`) and on
# two (`taskset -c 0,1`) and that ratio: `--threads 1` is not one core (the reader and the
# in-order stage have their own threads), so the core count is set from outside.
set -euo pipefail
cd "$(dirname "$0")/.."
LOG=${1:?usage: scripts/bench-cold.sh LOG MARKERS}
MARKERS=${2:?usage: scripts/bench-cold.sh LOG MARKERS}
BIN=${BIN:-target/release/bouncelog}
[ "$(id -u)" = 0 ] || { echo "bench-cold.sh: must run as root (it drops the page cache)" >&2; exit 2; }
[ -x "$BIN" ] || cargo build --release --quiet
cold() { sync; echo 3 > /proc/sys/vm/drop_caches; }
timed() { { /usr/bin/time -f "%e %U %M" "$@" > /dev/null; } 2>&1 | tail -1; }
echo "load before: $(uptime)"
cold; read -r rg_t rg_u _ < <(timed rg -c "$MARKERS" "$LOG")
cold; read -r bl_t bl_u bl_m < <(timed "$BIN" analyze --format json "$LOG")
echo "cold  rg -c      ${rg_t} s wall, ${rg_u} s user"
echo "cold  bouncelog  ${bl_t} s wall, ${bl_u} s user, ${bl_m} KiB"
awk -v a="$bl_t" -v b="$rg_t" 'BEGIN { printf "cold  ratio      %.2fx rg\n", a / b }'
cat "$LOG" > /dev/null
read -r one _ < <(timed taskset -c 0 "$BIN" analyze --format json "$LOG")
read -r two _ < <(timed taskset -c 0,1 "$BIN" analyze --format json "$LOG")
echo "warm  1 core     ${one} s wall"
echo "warm  2 cores    ${two} s wall"
awk -v a="$one" -v b="$two" 'BEGIN { printf "warm  1→2 cores  %.2fx\n", a / b }'
echo "load after: $(uptime)"
