#!/usr/bin/env bash
# Ingestion benchmark: makes a ~1 GB Confluence access log and compares, in one run,
#   wc -l                              (the floor: reading the bytes and counting lines)
#   confwatch events --stats           (parse + classify every line, per-file statistics)
#   confwatch events --format jsonl    (the same, in time order, every event written out)
#   confwatch hunt                     (time order + the rule pack + behaviour analytics)
#   DuckDB + regular expression        (what an analyst would do instead; pip install duckdb)
# printing MB/s, peak RSS and ratios. Usage: bench/ingest.sh [SIZE_MB] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${1:-1024}
THREADS=${2:-$(nproc)}
OUT=bench/out
mkdir -p "$OUT"
LOG="$OUT/access-${SIZE_MB}mb.log"
[ -f "$LOG" ] || python3 bench/gen_access_log.py "$LOG" "$SIZE_MB"
BYTES=$(stat -c %s "$LOG")
MB=$(python3 -c "print(round($BYTES/1048576, 1))")

if ! python3 -c "import duckdb" 2>/dev/null; then
  python3 -m venv "$OUT/venv" >/dev/null && "$OUT/venv/bin/pip" -q install duckdb
  PY="$OUT/venv/bin/python"
else
  PY=python3
fi
"$PY" -c "import duckdb" 2>/dev/null || { [ -x "$OUT/venv/bin/python" ] && PY="$OUT/venv/bin/python"; }

cargo build --release -q -p confwatch
BIN=${CARGO_TARGET_DIR:-target}/release/confwatch

# Warm the page cache so every contender reads from memory.
cat "$LOG" > /dev/null

measure() { # name, command...: prints "name seconds peak_kb"
  local name=$1; shift
  local t
  t=$( { /usr/bin/time -f "%e %M" "$@" > /dev/null 2> "$OUT/$name.err.tmp"; } 2>&1 | tail -1 )
  # /usr/bin/time writes its line last on stderr.
  t=$(tail -1 "$OUT/$name.err.tmp")
  echo "$name $t"
}

R_WC=$(measure wc wc -l "$LOG")
R_CW=$(measure confwatch "$BIN" events --stats --no-progress --threads "$THREADS" "$LOG")
R_EV=$(measure events "$BIN" events --format jsonl --no-progress --threads "$THREADS" "$LOG")
R_DK=$(measure duckdb "$PY" bench/duckdb_parse.py "$LOG" "$THREADS")
# hunt: the same reading in time order plus the whole rule pack (alerts to a file).
R_HU=$(measure hunt "$BIN" hunt --no-progress --threads "$THREADS" --format jsonl -o "$OUT/hunt-alerts.jsonl" "$LOG")

python3 - "$MB" "$THREADS" "$R_WC" "$R_CW" "$R_EV" "$R_DK" "$R_HU" <<'PY'
import sys
mb, threads = float(sys.argv[1]), sys.argv[2]
rows = [r.split() for r in sys.argv[3:]]
res = {name: (float(sec), int(kb)) for name, sec, kb in rows}
cw = res["confwatch"][0]
print(f"\ninput: {mb} MB access log, {threads} threads")
print(f"| tool | seconds | MB/s | peak RSS (MB) | confwatch speed ratio |")
print(f"|---|---:|---:|---:|---:|")
for name, label in [("wc", "wc -l (floor)"), ("confwatch", "confwatch events --stats"), ("events", "confwatch events --format jsonl"), ("hunt", "confwatch hunt (all rules)"), ("duckdb", "DuckDB regexp_extract")]:
    sec, kb = res[name]
    print(f"| {label} | {sec:.2f} | {mb/max(sec,1e-9):.0f} | {kb/1024:.0f} | {sec/max(cw,1e-9):.2f}x |")
print(f"\nhunt keeps {res['events'][0]/max(res['hunt'][0],1e-9):.2f} of the throughput of events (time-ordered, every event written)")
print(f"hunt keeps {res['confwatch'][0]/max(res['hunt'][0],1e-9):.2f} of events --stats throughput (unordered, parse-only floor)")
PY
