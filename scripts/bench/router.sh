#!/usr/bin/env bash
# Gateway overhead benchmark: runs the shared router harness (mock upstream, oha, LiteLLM when
# installed) with `quantumlayer gateway` as a column, and prints the harness's table.
#
#   scripts/bench/router.sh                       default scenarios, 10 s x 3
#   scripts/bench/router.sh --scenario rate:1000 --scenario rate:1000:stream --duration 10
#   BENCH_LITELLM=0 scripts/bench/router.sh …   without the LiteLLM column
#   BENCH_WORKER_THREADS=2 scripts/bench/router.sh …   the gateway on two runtime threads
#   BENCH_FLOOR=0 scripts/bench/router.sh …   without the `floor` column (server/examples/
#                                             proxy_floor.rs: the same HTTP stack, forwarding only)
#
# The harness comes from BENCH_ROUTER_DIR (default: ../shared/bench/router beside the clone) and
# is copied to ~/.cache/quantumlayer/bench/router, where its mock upstream is built and where
# LiteLLM may be installed (.venv). Everything binds to 127.0.0.1.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/scripts/env.sh"
source_dir=${BENCH_ROUTER_DIR:-$root/../shared/bench/router}
bench="$cache/bench/router"
mkdir -p "$bench"
[ -f "$bench/bench.py" ] || cp -r "$source_dir/." "$bench/"
command -v oha >/dev/null || cargo install --locked oha
[ -x "$bench/mock-upstream/target/release/mock-upstream" ] || (cd "$bench/mock-upstream" && cargo build --release --target-dir target)

(cd "$root" && cargo build --release -p server)
binary="$CARGO_TARGET_DIR/release/quantumlayer"
floor=()
if [ "${BENCH_FLOOR:-1}" != 0 ]; then
  (cd "$root" && cargo build --release -p server --example proxy_floor)
  floor=(--gateway-name floor --gateway-url http://127.0.0.1:8091/v1/chat/completions
    --gateway-cmd "exec '$CARGO_TARGET_DIR/release/examples/proxy_floor' --listen 127.0.0.1:8091 --upstream {mock_url}/v1"
    --gateway-model bench-model)
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mock_port=${MOCK_PORT:-18080}
cat > "$work/quantumlayer.toml" <<TOML
data_dir = "$work/data"

[log]
filter = "warn"

[[providers]]
name = "mock"
kind = "openai"
base_url = "http://127.0.0.1:$mock_port/v1"

[[routes]]
model = "bench-model"
targets = [ { provider = "mock", model = "bench-model" } ]

[router]
retries = 0

[cache]
enabled = false

# One thread (tokio's current-thread scheduler) by default: the least CPU per request, which
# is what the harness's fixed-rate scenarios measure. BENCH_WORKER_THREADS=N to compare.
[http]
worker_threads = ${BENCH_WORKER_THREADS:-1}
TOML
key=$(cd "$work" && "$binary" keys create --org default --name bench 2>/dev/null)

litellm=()
[ -x "$bench/.venv/bin/litellm" ] && [ "${BENCH_LITELLM:-1}" != 0 ] && litellm=(--litellm)
cd "$bench"
python3 bench.py "${litellm[@]}" --mock-port "$mock_port" \
  --gateway-name quantumlayer \
  --gateway-url http://127.0.0.1:8090/v1/chat/completions \
  --gateway-cmd "cd '$work' && exec '$binary' gateway --listen 127.0.0.1:8090" \
  --gateway-header "Authorization: Bearer $key" \
  --gateway-model bench-model \
  "${floor[@]}" \
  "$@"
