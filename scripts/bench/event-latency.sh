#!/usr/bin/env bash
# Event latency in the browser: starts the release server (as the e2e tier builds it) on a
# fresh data directory and runs end2end/bench/event-latency.mjs against it in Chromium.
#
#   scripts/bench/event-latency.sh [RUNS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/scripts/env.sh"
port=${QL_BENCH_PORT:-3117}
export QL_E2E_BIN=${QL_E2E_BIN:-$CARGO_TARGET_DIR/release/quantumlayer}
export QL_E2E_SITE_ROOT=${QL_E2E_SITE_ROOT:-$root/target/site}
[ -x "$QL_E2E_BIN" ] || { echo "build first: cargo leptos build --release --split" >&2; exit 2; }
bash "$root/scripts/e2e-server.sh" "$port" &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
cd "$root/end2end"
QL_BENCH_URL="http://127.0.0.1:$port" QL_BENCH_RUNS="${1:-10}" node bench/event-latency.mjs
