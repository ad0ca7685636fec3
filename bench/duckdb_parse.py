#!/usr/bin/env python3
"""What an analyst would do instead of confwatch: parse the access log with DuckDB and a
regular expression, and produce the same summary `confwatch events --stats` prints
(events, distinct users, time range, per-status counts).

Usage: duckdb_parse.py LOG [THREADS]
"""
import sys
import time

import duckdb

# Installer-default pattern: [%t] user thread host METHOD URI PROTO status Dms bytes referer UA
PATTERN = (
    r"^\[([^\]]+)\] (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\d{3}) (\d+)ms (\S+) (\S+) (.*)$"
)


def main():
    log = sys.argv[1]
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    con = duckdb.connect()
    con.execute(f"SET threads TO {threads}")
    t0 = time.perf_counter()
    row = con.execute(
        f"""
        WITH raw AS (
          SELECT column0 AS line FROM read_csv('{log}', columns={{'column0': 'VARCHAR'}},
                 delim=E'\\x01', quote='', escape='', header=false)
        ), parsed AS (
          SELECT regexp_extract(line, '{PATTERN}',
                   ['ts','user','thread','host','method','uri','proto','status','ms','bytes','referer','ua']) AS f
          FROM raw
        )
        SELECT count(*) AS events,
               count(DISTINCT f.user) FILTER (WHERE f.user <> '-') AS users,
               min(strptime(f.ts, '%d/%b/%Y:%H:%M:%S %z')) AS first,
               max(strptime(f.ts, '%d/%b/%Y:%H:%M:%S %z')) AS last,
               count(*) FILTER (WHERE f.status = '') AS errors
        FROM parsed
        """
    ).fetchone()
    elapsed = time.perf_counter() - t0
    print(f"duckdb events={row[0]} users={row[1]} first={row[2]} last={row[3]} unparsed={row[4]} seconds={elapsed:.3f}")


if __name__ == "__main__":
    main()
