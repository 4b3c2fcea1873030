#!/usr/bin/env bash
# Dashboard server render under load: starts the release server (as the e2e tier builds it) on a
# fresh data directory, signs in as the local user, adds a few projects, then runs oha with 50
# requests in flight against GET / (the dashboard, rendered on the server with its data) and
# prints its latencies, throughput and the server's CPU time per page.
#
#   scripts/bench/dashboard.sh [SECONDS]
#   QL_BENCH_PAGE=/usage scripts/bench/dashboard.sh   another page, for comparison
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/scripts/env.sh"
port=${QL_BENCH_PORT:-3127}
base="http://127.0.0.1:$port"
export QL_E2E_BIN=${QL_E2E_BIN:-$CARGO_TARGET_DIR/release/quantumlayer}
export QL_E2E_SITE_ROOT=${QL_E2E_SITE_ROOT:-$root/target/site}
[ -x "$QL_E2E_BIN" ] || { echo "build first: cargo leptos build --release --split" >&2; exit 2; }
command -v oha >/dev/null || cargo install --locked oha
bash "$root/scripts/e2e-server.sh" "$port" &
server=$!
jar=$(mktemp)
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null; rm -f "$jar" "$jar.json"' EXIT
for _ in $(seq 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.2; done

same_origin=(-H "Sec-Fetch-Site: same-origin" -H "Origin: $base")
form_action() { curl -fs "${same_origin[@]}" -b "$jar" "$base$1" | grep -o "action=\"/api/$2[^\"]*\"" | head -n 1 | cut -d'"' -f2; }
sign_in=$(form_action /login sign_in_local)
curl -fs -o /dev/null -c "$jar" -b "$jar" "${same_origin[@]}" -X POST --data '' "$base$sign_in"
create=$(form_action /projects/new create_project)
for name in Library Shop Garden Recipes Fleet; do
  curl -fs -o /dev/null -c "$jar" -b "$jar" "${same_origin[@]}" -X POST \
    --data-urlencode "name=$name" --data-urlencode "description=The $name app" "$base$create"
done
# curl's jar marks HttpOnly cookies with a `#HttpOnly_` prefix; other `#` lines are comments.
cookie=$(sed 's/^#HttpOnly_//' "$jar" | awk '!/^#/ && NF >= 7 { printf "%s=%s; ", $6, $7 }')
curl -fs "${same_origin[@]}" -H "Cookie: $cookie" "$base/" | grep -q 'Library' \
  || { echo "the dashboard did not render the projects" >&2; exit 1; }
# The server's CPU time per page as well as oha's latencies: on a shared 2-core machine the
# latencies move with the neighbours' load, the CPU time much less.
pid=$(pgrep -P "$server" -f quantumlayer)
ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
before=$(ticks)
# oha runs under a wrapper that reports its CPU seconds too: it shares the two cores.
oha_cpu=$(python3 -c '
import resource, subprocess, sys
with open(sys.argv[1], "w") as report:
    subprocess.run(sys.argv[2:], stdout=report, check=True)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(usage.ru_utime + usage.ru_stime)' \
  "$jar.json" oha -z "${1:-10}s" -c 50 --no-tui --output-format json "${same_origin[@]}" -H "Cookie: $cookie" "$base${QL_BENCH_PAGE:-/}")
after=$(ticks)
python3 - "$jar.json" "$((after - before))" "$(getconf CLK_TCK)" "$oha_cpu" "$(nproc)" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
ticks, per_second = int(sys.argv[2]), int(sys.argv[3])
oha_seconds, cores = float(sys.argv[4]), int(sys.argv[5])
summary, latency = report["summary"], report["latencyPercentiles"]
ok = sum(n for status, n in report["statusCodeDistribution"].items() if status == "200")
total = sum(report["statusCodeDistribution"].values())
print(f"requests {total} (200: {ok}), {summary['requestsPerSec']:.0f} req/s")
print("latency ms: " + ", ".join(f"{p} {latency[p] * 1000:.2f}" for p in ("p50", "p90", "p99")))
server_ms = ticks / per_second * 1000 / max(total, 1)
oha_ms = oha_seconds * 1000 / max(total, 1)
print(f"server CPU {server_ms:.3f} ms per page, oha CPU {oha_ms:.3f} ms per request")
# With the cores saturated, Little's law gives the latency that 50 in flight must wait:
# 50 requests share the cores, each needing the server's and oha's CPU time.
print(f"CPU-bound latency at 50 in flight on {cores} cores: "
      f"50 x ({server_ms:.3f} + {oha_ms:.3f}) / {cores} = {50 * (server_ms + oha_ms) / cores:.1f} ms")
PY
