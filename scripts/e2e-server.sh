#!/usr/bin/env bash
# Starts the built server for the Playwright tests on port $1, with a fresh data directory.
# QL_E2E_BIN and QL_E2E_SITE_ROOT name the binary and site that scripts/test.sh built.
set -euo pipefail
port=${1:?usage: e2e-server.sh PORT}
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
QL_LOG="${QL_LOG:-warn}" QL_LISTEN="127.0.0.1:$port" QL_DATA_DIR="$data" QL_SITE_ROOT="${QL_E2E_SITE_ROOT:?}" \
  "${QL_E2E_BIN:?}" serve &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server; rm -rf "$data"' EXIT TERM INT
wait $server
