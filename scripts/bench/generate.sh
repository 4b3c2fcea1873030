#!/usr/bin/env bash
# Generation benchmark: the three examples in every stack through `quantumlayer generate` with
# the built-in engine, first without the test run (description → verified capsule), then with
# the project's tests in the sandbox (dependencies cached by a warm-up run). One row per run.
#
#   scripts/bench/generate.sh            release build, 3 repetitions, every stack
#   REPEAT=1 STACKS=typescript-express scripts/bench/generate.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/scripts/env.sh"
(cd "$root" && cargo build --release -p server -q)
binary="$CARGO_TARGET_DIR/release/quantumlayer"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export QL_DATA_DIR="$work/data"
repeat=${REPEAT:-3}
examples=(
  "A library where members borrow books. Books have a title, an author, an ISBN and a published year. Members have a name and an email. A loan links a member to a book, with a due date and a returned flag."
  "A todo app: todos have a title, optional notes, a due date and a done flag. Todos belong to projects, which have a name."
  "Track expenses: each expense has an amount, a currency (one of EUR, USD or GBP), a date, a category and an optional description."
)
read -r -a stacks <<< "${STACKS:-python-fastapi typescript-express rust-axum}"
# Warm-up: installs the dependencies once, outside the measured runs.
for stack in "${stacks[@]}"; do
  (cd "$work" && "$binary" generate --json --stack "$stack" --out warm.zip "${examples[2]}" > /dev/null)
done
printf '%-18s %-10s %-8s %6s %8s %8s %8s %9s\n' stack example mode wall_s tests passed cover% verified
for stack in "${stacks[@]}"; do
for mode in no-tests tests; do
  for ((r = 0; r < repeat; r++)); do
    for i in "${!examples[@]}"; do
      flag=(); [ "$mode" = no-tests ] && flag=(--no-validate)
      start=$(date +%s.%N)
      json=$(cd "$work" && "$binary" generate --json --stack "$stack" "${flag[@]}" --out "e$i.zip" "${examples[$i]}")
      end=$(date +%s.%N)
      verified=$("$binary" capsule verify "$work/e$i.zip" > /dev/null 2>&1 && echo yes || echo NO)
      python3 - "$json" "$i" "$mode" "$(echo "$end - $start" | bc)" "$verified" "$stack" <<'PY'
import json, sys
data = json.loads(sys.argv[1]); tests = data.get("tests") or {}
name = data["spec"]["name"]
print(f'{sys.argv[6]:<18} {name[:10]:<10} {sys.argv[3]:<8} {float(sys.argv[4]):6.2f} {tests.get("passed", 0) + tests.get("failed", 0):8} {tests.get("passed", "-"):>8} {str(tests.get("coverage_percent", "-")):>8} {sys.argv[5]:>9}')
PY
    done
  done
done
done
