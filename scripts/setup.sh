#!/usr/bin/env bash
# Installs everything QuantumLayer needs to build, run and test on a Debian machine.
# Idempotent: each step checks what is already there (and at which version) and skips it.
#
#   scripts/setup.sh          toolchain for building and running the app
#   scripts/setup.sh --test   the same, plus what the test tiers need (Chromium, Playwright)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${QL_CACHE_DIR:-$HOME/.cache/quantumlayer}
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

cargo_leptos_version=0.3.11
# The official OpenAI client, used as a real client of the gateway in the tests.
openai_python_version=3.57.0
binaryen_version=132.0.0
# The code editor, served from our own origin (public/monaco/vs): its AMD build (min/vs),
# which the page loads with its own loader only where an editor is shown.
monaco_version=0.52.2
# The wasm-bindgen CLI must equal the wasm-bindgen crate in Cargo.lock exactly.
wasm_bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[version="]/, ""); gsub(/ /, ""); print; exit }' "$root/Cargo.lock" 2>/dev/null || true)
wasm_bindgen_version=${wasm_bindgen_version:-0.2.130}

step() { printf '\n==> %s\n' "$*"; }
export PATH="$HOME/.cargo/bin:$PATH"

apt_packages=()
need_deb() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed' || apt_packages+=("$1"); }
need_deb pkg-config
need_deb curl
# Generated apps' tests run in bubblewrap; their Python dependencies install into a venv.
need_deb bubblewrap
need_deb python3-venv
# Their npm dependency better-sqlite3 compiles against Node's headers with make and g++.
need_deb make
need_deb g++
# npm brings binaryen's wasm-opt and Playwright; this machine kind ships Node.js, others may not.
command -v npm >/dev/null || { need_deb nodejs; need_deb npm; }
if [ "$want_test" = 1 ]; then
  need_deb chromium
  need_deb postgresql-client
  need_deb redis-tools
fi
if [ "${#apt_packages[@]}" -gt 0 ]; then
  step "Debian packages: ${apt_packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${apt_packages[@]}"
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "Rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# The engine measures generated Rust projects' coverage with LLVM's tools.
if ! rustup component list --installed | grep -q '^llvm-tools'; then
  step "Rust component llvm-tools"
  rustup component add llvm-tools
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wasm_bindgen_version" ]; then
  step "wasm-bindgen-cli $wasm_bindgen_version"
  # Its own lock file pins a yanked crate, so it installs without --locked.
  cargo install wasm-bindgen-cli --version "$wasm_bindgen_version" --force
fi

if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "$cargo_leptos_version" ]; then
  step "cargo-leptos $cargo_leptos_version"
  # Its lock file pins cargo-util-schemas 0.14.2, which needs a newer rustc than 1.95:
  # build it from its source with that one crate held at 0.14.1.
  cargo info "cargo-leptos@$cargo_leptos_version" >/dev/null
  src=$(ls -d "$HOME"/.cargo/registry/src/*/"cargo-leptos-$cargo_leptos_version" | head -n 1)
  work="$cache/cargo-leptos-src"
  rm -rf "$work"; mkdir -p "$cache"; cp -r "$src" "$work"
  (cd "$work" && cargo update -p cargo-util-schemas --precise 0.14.1 && cargo install --path . --locked --force)
  rm -rf "$work"
fi

tools="$cache/tools"
if [ "$("$tools/node_modules/.bin/wasm-opt" --version 2>/dev/null | awk '{print $3}')" != "${binaryen_version%%.*}" ]; then
  step "npm binaryen $binaryen_version (Debian's wasm-opt breaks hydration in release builds)"
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-audit --no-fund --silent "binaryen@$binaryen_version"
fi

monaco="$tools/node_modules/monaco-editor"
if [ "$(node -p "require('$monaco/package.json').version" 2>/dev/null)" != "$monaco_version" ]; then
  step "npm monaco-editor $monaco_version"
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-audit --no-fund --silent "monaco-editor@$monaco_version"
fi
# cargo-leptos copies public/ into the site; the copy is not committed (.gitignore).
if [ "$(cat "$root/public/monaco/VERSION" 2>/dev/null)" != "$monaco_version" ]; then
  step "Monaco $monaco_version into public/monaco"
  rm -rf "$root/public/monaco"
  mkdir -p "$root/public/monaco"
  cp -r "$monaco/min/vs" "$root/public/monaco/vs"
  cp "$monaco/LICENSE" "$root/public/monaco/LICENSE"
  echo "$monaco_version" > "$root/public/monaco/VERSION"
fi

if [ "$want_test" = 1 ]; then
  pyvenv="$cache/tools/pyvenv"
  if [ "$("$pyvenv/bin/python" -c 'import openai; print(openai.__version__)' 2>/dev/null)" != "$openai_python_version" ]; then
    step "Python openai $openai_python_version (a real client for the gateway tests)"
    mkdir -p "$cache/tools"
    python3 -m venv "$pyvenv"
    "$pyvenv/bin/pip" install --quiet --disable-pip-version-check "openai==$openai_python_version"
  fi
  if ! cargo nextest --version >/dev/null 2>&1; then
    step "cargo-nextest"
    cargo install cargo-nextest --locked
  fi
  if [ ! -d "$root/end2end/node_modules/@playwright/test" ] || [ "$root/end2end/package-lock.json" -nt "$root/end2end/node_modules/.package-lock.json" ]; then
    step "Playwright (no browser download: Debian's Chromium is used)"
    (cd "$root/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
  fi
fi

echo "setup: done"
