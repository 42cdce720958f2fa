#!/usr/bin/env bash
# Renders the HTML report of the bundled sample log (testdata/postfix/mail.log,
# the README's first example) in headless Chromium, checks that it rendered,
# and writes the screenshot the README shows: docs/report.png.
#
# Checks: the page has no <script>, no src=/href= and no url( (nothing is
# fetched); Chromium's --dump-dom of it holds the headings the report writes;
# the screenshot is a non-empty PNG under 300 KB.
#
# Usage: scripts/check-html.sh [BINARY]   (default: builds target/release/bouncelog)
# Needs: chromium (Debian: apt-get install -y chromium); optipng or pngquant
# make the PNG smaller when installed.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-}
if [ -z "$BIN" ]; then
  cargo build --release -q
  BIN=target/release/bouncelog
fi
CHROMIUM=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$CHROMIUM" ]; then
  echo "check-html: chromium not installed (apt-get install -y chromium)" >&2
  exit 2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
page=$tmp/report.html
TZ=UTC "$BIN" analyze --format html testdata/postfix/mail.log >"$page"
fail() { echo "check-html: $*" >&2; exit 1; }

grep -qi '<script' "$page" && fail "the page holds a <script>"
grep -qiE ' (src|href)=|url\(' "$page" && fail "the page refers to an outside resource"

chrome() {
  # A fresh profile each run; no GPU, no sandbox (containers, root).
  timeout 120 "$CHROMIUM" --headless --disable-gpu --no-sandbox --hide-scrollbars \
    --user-data-dir="$tmp/profile" --no-first-run "$@" 2>>"$tmp/chromium.log"
}
chrome --dump-dom "file://$page" >"$tmp/dom.html" || fail "chromium --dump-dom failed: $(tail -n 3 "$tmp/chromium.log")"
for heading in '<h1>bouncelog report</h1>' '<h2>Findings</h2>' '<h2>Failures over time</h2>' \
  '<h2>Failures by cause</h2>' '<h2>Causes in detail</h2>' '<svg role="img" aria-label="Failures per hour"' \
  'User unknown in local recipient table'; do
  grep -qF "$heading" "$tmp/dom.html" || fail "the rendered page lacks $heading"
done

mkdir -p docs
shot=$tmp/report.png
chrome --screenshot="$shot" --window-size=1000,1400 "file://$page" >/dev/null ||
  fail "chromium --screenshot failed: $(tail -n 3 "$tmp/chromium.log")"
[ -s "$shot" ] || fail "empty screenshot"
[ "$(head -c 8 "$shot" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "the screenshot is not a PNG"
if command -v pngquant >/dev/null; then
  pngquant --force --quality 60-90 --output "$tmp/q.png" "$shot" && mv "$tmp/q.png" "$shot"
elif command -v optipng >/dev/null; then
  optipng -quiet -o2 "$shot"
fi
size=$(stat -c %s "$shot")
[ "$size" -lt 300000 ] || fail "the screenshot is $size bytes (more than 300 KB)"
cp "$shot" docs/report.png
echo "check-html: ok: $(grep -c '<h3>' "$tmp/dom.html") causes rendered, docs/report.png $size bytes"
