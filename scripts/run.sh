#!/usr/bin/env bash
# Sets everything up and runs QuantumLayer on http://127.0.0.1:3000 with the embedded
# defaults (SQLite in ./data, local sign-in). Extra arguments go to `cargo leptos serve`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
. scripts/env.sh
exec cargo leptos serve --split "$@"
