#!/usr/bin/env bash
# Benchmark of `confwatch scan` against the secret scanners installable here, on one
# planted-secrets corpus of Confluence storage-format pages.
#
#   bench/scan/run.sh [CORPUS_MB=200] [SAMPLE_MB=20]
#
# Installs (once, under $TOOLS, default /tmp/confwatch-scan-tools): Kingfisher and
# detect-secrets from PyPI, secretlint + its recommended preset from npm, ripsecrets from
# crates.io. Generates the corpus (bench/scan/gen_corpus.py, seeded) under $WORK, builds
# confwatch in release mode, runs every tool (bench/scan/bench.py) and prints the table.
set -euo pipefail
MB=${1:-200}
SAMPLE=${2:-20}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TOOLS=${TOOLS:-/tmp/confwatch-scan-tools}
WORK=${WORK:-/tmp/confwatch-scan-bench}
mkdir -p "$TOOLS" "$WORK"

if [ ! -x "$TOOLS/venv/bin/kingfisher" ]; then
  python3 -m venv "$TOOLS/venv"
  "$TOOLS/venv/bin/pip" install -q kingfisher-bin==2.14.0 detect-secrets==1.5.0
fi
if [ ! -x "$TOOLS/npm/node_modules/.bin/secretlint" ]; then
  mkdir -p "$TOOLS/npm"
  (cd "$TOOLS/npm" && npm init -y >/dev/null && npm install --silent secretlint @secretlint/secretlint-rule-preset-recommend)
fi
echo '{"rules": [{"id": "@secretlint/secretlint-rule-preset-recommend"}]}' > "$TOOLS/npm/.secretlintrc.json"
if [ ! -x "$TOOLS/cargo/bin/ripsecrets" ]; then
  CARGO_TARGET_DIR="$TOOLS/rs-target" cargo install ripsecrets --locked --root "$TOOLS/cargo"
fi

CORPUS="$WORK/corpus-$MB"
if [ ! -f "$CORPUS/truth.jsonl" ]; then
  python3 "$HERE/gen_corpus.py" "$CORPUS" --mb "$MB"
fi

(cd "$ROOT" && cargo build --release -p confwatch)
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/confwatch"

python3 "$HERE/bench.py" --corpus "$CORPUS" --confwatch "$BIN" --tools-dir "$TOOLS" \
  --sample-mb "$SAMPLE" --json "$WORK/results-$MB.json"
