#!/bin/sh
# Regenerates rules/secrets/*.toml from the templates here (random example values).
cd "$(dirname "$0")/.." && for f in src/*.toml.in; do
  python3 ../../bench/scan/tools/fill_examples.py "$f" "$(basename "$f" .in)"
done
