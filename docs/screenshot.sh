#!/usr/bin/env bash
# Renders the sample ledger's HTML rollup and takes docs/rollup.png with headless Chromium
# (Debian: apt-get install chromium fonts-noto-cjk). Run it after a change to templates/rollup.html.j2,
# templates/chart.svg.j2 or ledgerkit/reports/chart.py, and look at the picture before committing it.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r sample_ledgers "$work/sample"
(cd "$work/sample" && ledgerkit rollup token_budget_ledger.md --session GG-SESS-20250816-1620 \
    --encoding o200k_base --format html -o "$work/rollup.html")
"${CHROMIUM:-chromium}" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --hide-scrollbars \
    --user-data-dir="$work/profile" --window-size=1100,1800 --screenshot="$PWD/docs/rollup.png" \
    "file://$work/rollup.html" 2>/dev/null
echo "wrote docs/rollup.png"
