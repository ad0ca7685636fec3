#!/usr/bin/env bash
# Detection quality at the large size (1,000 users x 30 days, learning only: no allowlist,
# no earlier state), too slow for every CI run: simulate -> hunt -> eval, with timings.
# Usage: bench/eval.sh [SEED...]   (default seeds 7 and 8)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p confwatch
BIN=target/release/confwatch
OUT=bench/out/eval
mkdir -p "$OUT"
for seed in "${@:-7 8}"; do
  for s in $seed; do
    d="$OUT/u1000-d30-s$s"
    rm -rf "$d"
    t0=$(date +%s.%N)
    "$BIN" simulate --users 1000 --days 30 --seed "$s" --out "$d" 2>/dev/null
    t1=$(date +%s.%N)
    "$BIN" hunt --no-progress --format jsonl --peers "$d/users.csv" --privileged-accounts "$d/privileged.txt" \
      -o "$d/alerts.jsonl" "$d/logs" || [ $? -eq 1 ]
    t2=$(date +%s.%N)
    echo "== seed $s: simulate $(python3 -c "print(f'{$t1 - $t0:.1f}')") s, hunt $(python3 -c "print(f'{$t2 - $t1:.1f}')") s, $(du -sh "$d/logs" | cut -f1) of logs"
    "$BIN" eval --labels "$d/labels.jsonl" "$d/alerts.jsonl" | grep -E "^recall|per 1,000|^precision|gates|^  " || true
  done
done
