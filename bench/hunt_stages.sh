#!/usr/bin/env bash
# Where hunt's CPU goes, stage by stage, on the ingestion benchmark's log, next to the whole
# `events --stats` run it is compared with. Usage: bench/hunt_stages.sh [SIZE_MB] [THREADS]
# (makes the log like bench/ingest.sh when it is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${1:-1024}
THREADS=${2:-$(nproc)}
LOG=bench/out/access-${SIZE_MB}mb.log
mkdir -p bench/out
[ -f "$LOG" ] || python3 bench/gen_access_log.py "$LOG" "$SIZE_MB"
cargo build --release -q -p confwatch --bin confwatch --example stage_cost
T=${CARGO_TARGET_DIR:-target}/release
cat "$LOG" > /dev/null
# CPU seconds of one `events --stats` run (user + system), as /usr/bin/time reports them.
/usr/bin/time -f "%U %S %e" -o bench/out/stats.time \
  "$T/confwatch" events --stats --no-progress --threads "$THREADS" "$LOG" > /dev/null
read -r U S E < bench/out/stats.time
echo "events --stats: $(python3 -c "print(f'{$U+$S:.2f}')") CPU-s, ${E} s wall"
"$T/examples/stage_cost" "$LOG"
