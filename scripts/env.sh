# Sourced by the scripts: where tools and the shared build cache live.
# The cargo target directory is kept outside the clone so that every clone (and CI) reuses it.
cache=${QL_CACHE_DIR:-$HOME/.cache/quantumlayer}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$cache/target}
# npm's binaryen must come before any other wasm-opt (Debian's 108 breaks release hydration).
export PATH="$cache/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
