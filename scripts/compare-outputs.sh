#!/usr/bin/env bash
# Checks that a change left the results alone: runs two bouncelog binaries on
# every file of testdata/ (and ../shared/corpus when present) and on a few
# multi-file runs, and reports any file whose JSON output differs.
# Usage: scripts/compare-outputs.sh OLD_BINARY NEW_BINARY
# (build the old one from a worktree: git worktree add /tmp/old <commit> &&
#  CARGO_TARGET_DIR=/tmp/old-target cargo build --release --manifest-path /tmp/old/Cargo.toml)
set -uo pipefail
cd "$(dirname "$0")/.."
OLD=$1 NEW=$2
n=0 bad=0
check() { # format, files...
  local fmt=$1; shift
  n=$((n + 1))
  if [ "$("$OLD" analyze --format "$fmt" "$@" 2>&1 | md5sum)" != "$("$NEW" analyze --format "$fmt" "$@" 2>&1 | md5sum)" ]; then
    bad=$((bad + 1)); echo "differs: --format $fmt $*"
  fi
}
while IFS= read -r f; do
  check json "$f"
done < <(find testdata ../shared/corpus -type f ! -name '*.md' ! -name '*.toml' 2>/dev/null | sort)
for fmt in json ndjson text; do
  check "$fmt" testdata/exim/mainlog testdata/exim/rejectlog
  check "$fmt" testdata/postfix/mail.log testdata/postfix/logwatch-td.log testdata/postfix/rollover.log
done
echo "$n runs compared, $bad differ"
[ "$bad" -eq 0 ]
