#!/usr/bin/env bash
# Prints the gzip size of the built site's wasm: the main module every page loads and each
# split-off chunk (a lazy route's code, loaded only on its pages). Fails when the main module
# passes the budget (default 600 KB), so the floor of the live-workspace issue stays measured.
#
#   scripts/bench/wasm-size.sh [SITE_ROOT] [BUDGET_BYTES]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
site=${1:-$root/target/site}
budget=${2:-600000}
main="$site/pkg/quantumlayer.wasm"
[ -f "$main" ] || { echo "no $main: build the site first (cargo leptos build --release --split)" >&2; exit 2; }
size() { gzip -9 -c "$1" | wc -c; }
printf '%-60s %10s %10s\n' "module" "bytes" "gzip -9"
for file in "$main" "$site"/pkg/split_*.wasm; do
  [ -f "$file" ] || continue
  printf '%-60s %10d %10d\n' "$(basename "$file")" "$(wc -c < "$file")" "$(size "$file")"
done
main_gzip=$(size "$main")
if [ "$main_gzip" -gt "$budget" ]; then
  echo "the main wasm is $main_gzip bytes gzipped, over the budget of $budget" >&2
  exit 1
fi
echo "main wasm: $main_gzip bytes gzipped (budget $budget)"
