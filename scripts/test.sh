#!/usr/bin/env bash
# Sets everything up and runs every test tier, printing each tier's time:
#   lint       cargo fmt --check, clippy -D warnings (server side and wasm side)
#   unit       unit, store contract on SQLite, HTTP (oneshot) and real-binary tests
#   services   the store contract suite on the local PostgreSQL, shared limits and cache on the
#              local Redis, the official openai Python package against the gateway
#   e2e        release build (cargo leptos) and Playwright in Debian's Chromium
# Run one tier with `scripts/test.sh unit` (or several: `scripts/test.sh unit services`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh --test
. scripts/env.sh

tiers=("$@")
[ ${#tiers[@]} -gt 0 ] || tiers=(lint unit services e2e)
summary=()
started_all=$(date +%s)
log=$(mktemp)
trap 'rm -f "$log"' EXIT

tier() {
  local name=$1; shift
  local start; start=$(date +%s)
  printf '\n===== tier %s =====\n' "$name"
  "$@" 2>&1 | tee -a "$log"
  local took=$(( $(date +%s) - start ))
  summary+=("$(printf '%-9s %4ds' "$name" "$took")")
  printf '===== tier %s passed in %ds =====\n' "$name" "$took"
}

lint() {
  cargo fmt --all -- --check
  cargo clippy --workspace --exclude frontend --all-targets -- -D warnings
  cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings
}

unit() {
  env -u QL_TEST_POSTGRES_URL -u QL_TEST_REDIS_URL -u QL_TEST_OPENAI_PYTHON cargo test --workspace --exclude frontend -- \
    --skip postgres_backend --skip redis_backend --skip python_client --skip generated_apps
}

services() {
  local url=${QL_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
  local redis=${QL_TEST_REDIS_URL:-redis://127.0.0.1:6379}
  if ! pg_isready -q -h 127.0.0.1 -p 5432 -t 5; then
    echo "PostgreSQL is not answering on 127.0.0.1:5432; starting the local cluster"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
    pg_isready -q -h 127.0.0.1 -p 5432 -t 30
  fi
  if ! redis-cli -u "$redis" ping >/dev/null 2>&1; then
    echo "Redis is not answering at $redis; starting a local server"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no
    for _ in $(seq 50); do redis-cli -u "$redis" ping >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  # The same build as the unit tier, filtered to the tests that need the two servers, the
  # official openai Python package (installed by setup.sh --test), and generated apps' own
  # tests in bubblewrap (their dependencies come from PyPI once, then from the cache).
  QL_TEST_POSTGRES_URL=$url QL_TEST_REDIS_URL=$redis QL_TEST_OPENAI_PYTHON="$cache/tools/pyvenv/bin/python" \
    cargo test --workspace --exclude frontend -- postgres_backend redis_backend python_client generated_apps
}

e2e() {
  # --split: lazy routes' code goes into chunks of its own, loaded only on their pages.
  cargo leptos build --release --split
  bash scripts/bench/wasm-size.sh "$root/target/site"
  export QL_E2E_BIN="$CARGO_TARGET_DIR/release/quantumlayer"
  export QL_E2E_SITE_ROOT="$root/target/site"
  (cd end2end && npx playwright test)
}

for name in "${tiers[@]}"; do
  case "$name" in
    lint|unit|services|e2e) tier "$name" "$name" ;;
    *) echo "unknown tier $name (expected lint, unit, services or e2e)" >&2; exit 2 ;;
  esac
done

printf '\n===== all tiers passed in %ds =====\n' "$(( $(date +%s) - started_all ))"
printf '%s\n' "${summary[@]}"
# One closing line over every runner: cargo's "test result" lines and Playwright's summary.
passed=$(grep -hoE '(test result: ok\. [0-9]+ passed|^ +[0-9]+ passed \()' "$log" | grep -oE '[0-9]+ passed' | awk '{s += $1} END {print s + 0}')
echo "tests: $passed passed, 0 failed"
