#!/usr/bin/env bash
# Times bouncelog against cat, ripgrep and each MTA's own log summariser on a generated log.
# Usage: [MTA=postfix|exim|qmail|exchange] [PROFILE=light|realistic] [BIN=path] [OLD=path]
#        [PFLOGSUMM_MB=100] scripts/bench.sh [MB]
#   (default postfix, light profile, 1024 MB).
# OLD: an older bouncelog binary timed beside this one, 1 and 2 threads (before/after rows on
# the same file in the same minutes). PFLOGSUMM_MB: the slice pflogsumm and bouncelog both read
# (pflogsumm is slow); 0 for the whole log.
# MTA picks the log (examples/gen-log.rs --mta; exim, qmail and exchange have the realistic
# traffic only, PROFILE is then ignored); BIN another bouncelog binary to time (e.g. an older
# build) instead of this tree's release build.
# Peers, beside bouncelog: `rg -c` of the MTA's failure markers (the floor: a scan that finds the
# lines and understands none), and the MTA's summariser where one exists:
#   postfix  pflogsumm (apt-get install pflogsumm), on the first 100 MiB
#   exim     eximstats (apt-get install exim4-base: /usr/sbin/eximstats), on the whole log, once
#   qmail    qmailanalog's `matchup | zoverall` (not packaged by Debian): QMAILANALOG names the
#            directory of a built matchup and zoverall (default /tmp/qmailanalog); when they are
#            missing they are built there from qmailanalog's sources as kept in the aQmail fork
#            (github.com/aqmail/aQmail, obsolete/src; QMAILANALOG_SRC names an existing checkout,
#            else it is cloned). multilog's TAI64N labels are turned into the seconds matchup
#            reads by a perl step first, timed with it
#   exchange none (message tracking is read with PowerShell's Get-MessageTrackingLog on Windows)
# Prints wall time, user CPU, MB/s, ratio to rg and peak RSS (from /usr/bin/time) for each
# command, and the load average (uptime) before and after: the machine may be shared.
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${1:-1024}
MTA=${MTA:-postfix}
PROFILE=${PROFILE:-light}
case "$MTA" in
  postfix)
    if [ "$PROFILE" = light ]; then
      LOG=${BENCH_LOG:-/tmp/bouncelog-bench-$MB.log}
    else
      LOG=${BENCH_LOG:-/tmp/bouncelog-bench-$PROFILE-$MB.log}
    fi
    MARKERS='reject:|status=bounced|status=expired|milter-reject' ;;
  exim) LOG=${BENCH_LOG:-/tmp/bouncelog-bench-exim-$MB.log}; MARKERS=' \*\* | == |rejected' ;;
  qmail) LOG=${BENCH_LOG:-/tmp/bouncelog-bench-qmail-$MB.log}
    MARKERS=': (failure|deferral): |CHKUSER rejected|rblsmtpd' ;;
  exchange) LOG=${BENCH_LOG:-/tmp/bouncelog-bench-exchange-$MB.log}; MARKERS=',(FAIL|DEFER),' ;;
  *) echo "bench.sh: unknown MTA $MTA (postfix, exim, qmail, exchange)" >&2; exit 2 ;;
esac
cargo build --release --quiet --example gen-log
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN=target/release/bouncelog
fi
if [ ! -s "$LOG" ]; then
  if [ "$MTA" = postfix ]; then
    target/release/examples/gen-log --mb "$MB" --profile "$PROFILE" > "$LOG"
  else
    target/release/examples/gen-log --mb "$MB" --mta "$MTA" > "$LOG"
  fi
fi
QA=${QMAILANALOG:-/tmp/qmailanalog}
if [ "$MTA" = qmail ] && [ ! -x "$QA/matchup" ]; then
  # qmailanalog 0.70's matchup and zoverall, from the copy of its sources in aQmail.
  SRC=${QMAILANALOG_SRC:-/tmp/qmailanalog-src}
  if [ ! -d "$SRC/obsolete/src" ]; then
    git clone --quiet --depth 1 https://github.com/aqmail/aQmail "$SRC" 2> /dev/null || true
  fi
  if [ -d "$SRC/obsolete/src" ]; then
    mkdir -p "$QA"
    # 64-bit: matchup.c calls alloc() without its header (an implicit int would cut the pointer).
    echo 'gcc -O2 -w -fcommon -include stdlib.h -include unistd.h -include string.h -include alloc.h' \
      > "$SRC/obsolete/conf-cc"
    echo gcc > "$SRC/obsolete/conf-ld"
    echo "$QA" > "$SRC/obsolete/conf-home"
    sed -i 's/^extern int errno;/#include <errno.h>/' "$SRC/obsolete/src/error.h"
    (cd "$SRC/obsolete/src" && make matchup zoverall > /dev/null 2>&1 && cp matchup zoverall "$QA/") || true
  fi
fi
SIZE=$(stat -c %s "$LOG")
cat "$LOG" > /dev/null   # warm the page cache
run() { # name, command...
  local name=$1; shift
  local best=999999 user=0 rss=0
  for _ in 1 2 3; do
    local out t u m
    out=$( { /usr/bin/time -f "%e %U %M" "$@" > /dev/null; } 2>&1 | tail -1 )
    read -r t u m <<< "$out"
    if awk "BEGIN{exit !($t < $best)}"; then best=$t; user=$u; rss=$m; fi
  done
  echo "$name $best $user $rss"
}
once() { # name, shell command (timed once: the slow peers)
  local name=$1 out
  out=$( { /usr/bin/time -f "%e %U %M" bash -c "$2" > /dev/null; } 2>&1 | tail -1 )
  echo "$name $out"
}
echo "# load before: $(uptime)"
if [ "$MTA" = postfix ]; then
  echo "# $(nproc) cores, $(uname -m), $PROFILE log $((SIZE >> 20)) MiB, best of 3, page cache warm"
else
  echo "# $(nproc) cores, $(uname -m), $MTA realistic log $((SIZE >> 20)) MiB, best of 3 (peers once), page cache warm"
fi
{
  run cat cat "$LOG"
  run rg rg -c "$MARKERS" "$LOG"
  run bouncelog-1-thread "$BIN" analyze --format json --threads 1 "$LOG"
  run bouncelog "$BIN" analyze --format json "$LOG"
  if [ -n "${OLD:-}" ]; then
    run old-1-thread "$OLD" analyze --format json --threads 1 "$LOG"
    run old "$OLD" analyze --format json "$LOG"
  fi
  EXIMSTATS=$(command -v eximstats || echo /usr/sbin/eximstats)
  if [ "$MTA" = exim ] && [ -x "$EXIMSTATS" ]; then
    once eximstats "$EXIMSTATS $LOG"
  fi
  if [ "$MTA" = qmail ] && [ -x "$QA/matchup" ]; then
    # multilog's @TAI64N label -> the "seconds.fraction" stamp matchup reads.
    once 'matchup|zoverall' "perl -pe 's{^\\@40000000([0-9a-f]{8})([0-9a-f]{8})}{sprintf(\"%d.%06d\",
      hex(\$1) - 10, hex(\$2) / 1000)}e' $LOG | $QA/matchup 5>/dev/null | $QA/zoverall"
  fi
} | awk -v size="$SIZE" '
  { t[$1]=$2; u[$1]=$3; r[$1]=$4; order[NR]=$1 }
  END {
    printf "%-20s %9s %9s %10s %9s %10s\n", "command", "seconds", "user s", "MB/s", "x rg", "peak RSS";
    for (i = 1; i <= NR; i++) { n = order[i];
      printf "%-20s %9.2f %9.2f %10.0f %9.1f %7.0f MiB\n", n, t[n], u[n], size / 1048576 / t[n], t[n] / t["rg"], r[n] / 1024 }
    if ("bouncelog-1-thread" in t) printf "1 -> 2 threads: %.2fx\n", t["bouncelog-1-thread"] / t["bouncelog"];
    if ("eximstats" in t) printf "bouncelog is %.1fx faster than eximstats\n", t["eximstats"] / t["bouncelog"];
    if ("matchup|zoverall" in t) printf "bouncelog is %.1fx faster than matchup|zoverall\n", t["matchup|zoverall"] / t["bouncelog"];
  }'
if [ "$MTA" = qmail ] && [ ! -x "$QA/matchup" ]; then
  echo "qmailanalog: not timed (no matchup in $QA, and building it from aQmail's copy failed)"
fi
if [ "$MTA" = exim ] && ! command -v eximstats > /dev/null && [ ! -x /usr/sbin/eximstats ]; then
  echo "eximstats: not installed (apt-get install exim4-base)"
fi
if [ "$MTA" = postfix ] && command -v pflogsumm > /dev/null; then
  PMB=${PFLOGSUMM_MB:-100}
  SLICE=$LOG
  if [ "$PMB" != 0 ]; then
    SLICE=/tmp/bouncelog-bench-slice.log
    head -c $((PMB << 20)) "$LOG" > "$SLICE"
  fi
  s=$( { /usr/bin/time -f "%e" pflogsumm "$SLICE" > /dev/null; } 2>&1 | tail -1 )
  b=$( { /usr/bin/time -f "%e" "$BIN" analyze --format json "$SLICE" > /dev/null; } 2>&1 | tail -1 )
  echo "pflogsumm on $((($(stat -c %s "$SLICE") + 524288) >> 20)) MiB: ${s}s; bouncelog on the same: ${b}s ($(awk "BEGIN{printf \"%.1f\", $s / $b}")x faster)"
fi
echo "# load after: $(uptime)"
