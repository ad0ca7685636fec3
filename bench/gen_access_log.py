#!/usr/bin/env python3
"""Writes a synthetic Confluence access log in the installer-default pattern
(`%t %{X-AUSERNAME}o %I %h %r %s %Dms %b %{Referer}i %{User-Agent}i`) of about SIZE bytes.

Usage: gen_access_log.py OUT SIZE_MB [SEED]

The mix of routes, users and agents imitates a real site (page views, static resources,
polling, REST reads, searches, logins) so that parsing and classification do real work.
"""
import random
import sys
from datetime import datetime, timedelta, timezone


def main():
    out, size_mb = sys.argv[1], int(sys.argv[2])
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
    users = [f"user{i:04d}" for i in range(2000)] + ["-"] * 200
    spaces = ["ENG", "OPS", "HR", "FIN", "SEC", "DOC", "~jdoe", "IT", "SALES", "LEGAL"]
    agents = [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
        "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
        "python-requests/2.31.0",
        "curl/8.4.0",
    ]
    routes = [
        (30, "GET /pages/viewpage.action?pageId={pid} HTTP/1.1", 200),
        (15, "GET /display/{space}/Page+{pid} HTTP/1.1", 200),
        (20, "GET /s/d41d8cd98f00b204e9800998ecf8427e-CDN/-1234/5678/_/download/batch/com.atlassian.auiplugin:ajs/com.atlassian.auiplugin:ajs.js HTTP/1.1", 200),
        (10, "GET /rest/quickreload/latest/{pid}?since=1608256850024&_=1608256758069 HTTP/1.1", 200),
        (8, "GET /rest/api/content/{pid}?expand=body.storage,version HTTP/1.1", 200),
        (5, "GET /dosearchsite.action?queryString=release+notes+{pid} HTTP/1.1", 200),
        (4, "GET /download/attachments/{pid}/diagram-{pid}.png?version=1&modificationDate=1608256850024&api=v2 HTTP/1.1", 200),
        (3, "GET /rest/api/search?cql=siteSearch+~+%22budget%22&limit=25 HTTP/1.1", 200),
        (2, "POST /dologin.action HTTP/1.1", 302),
        (2, "GET /images/icons/profilepics/default.svg HTTP/1.1", 200),
        (1, "GET /spaces/flyingpdf/pdfpageexport.action?pageId={pid} HTTP/1.1", 200),
    ]
    weights = [w for w, _, _ in routes]
    # A pool of rendered line tails; timestamps are stamped per line so time always moves on.
    pool = []
    for i in range(20000):
        _, req, status = rng.choices(routes, weights)[0]
        req = req.format(pid=rng.randint(100000, 9999999), space=rng.choice(spaces))
        user = rng.choice(users)
        ip = f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        tail = (
            f" {user} http-nio-8090-exec-{rng.randint(1, 200)} {ip} {req} {status} "
            f"{rng.randint(1, 2000)}ms {rng.randint(0, 200000)} "
            f"https://wiki.example.com/display/{rng.choice(spaces)}/Home {rng.choice(agents)}\n"
        )
        pool.append(tail)
    target = size_mb * 1024 * 1024
    written = 0
    t = datetime(2024, 3, 1, 8, 0, 0, tzinfo=timezone(timedelta(hours=1)))
    second = timedelta(seconds=1)
    with open(out, "w", encoding="utf-8", buffering=1 << 20) as f:
        while written < target:
            stamp = "[" + t.strftime("%d/%b/%Y:%H:%M:%S %z") + "]"
            block = "".join(stamp + pool[rng.randrange(len(pool))] for _ in range(50))
            f.write(block)
            written += len(block)
            t += second


if __name__ == "__main__":
    main()
