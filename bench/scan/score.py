#!/usr/bin/env python3
"""Scores a secret scanner's output against the planted truth of gen_corpus.py.

Usage: score.py CORPUS TOOL OUTPUT [--json]
TOOL is one of confwatch, kingfisher, ripsecrets, secretlint, detect-secrets.

Each tool's output is reduced to reported (file, line) pairs, with paths made relative to
CORPUS. Recall: planted secrets with at least one reported line inside their line range.
Line precision: reported distinct lines that fall inside some planted range (of the same
file). confwatch findings of kind "sensitive" (shares, private IPs, internal hosts) are not
secrets and are left out.
"""
import collections, json, os, re, sys


def rel(corpus, p):
    p = p.replace("\\", "/")
    if p.startswith("file://"):
        p = p[7:]
    c = os.path.abspath(corpus).replace("\\", "/").rstrip("/") + "/"
    ap = os.path.abspath(p) if os.path.isabs(p) else os.path.abspath(os.path.join(os.getcwd(), p))
    if ap.startswith(c):
        return ap[len(c):]
    for marker in ("pages/",):
        i = p.find(marker)
        if i >= 0:
            return p[i:]
    return p


def parse_confwatch(corpus, text):
    for l in text.splitlines():
        if not l.strip():
            continue
        f = json.loads(l)
        if f.get("kind") != "secret":
            continue
        for loc in f.get("locations", []):
            if loc.get("path") and loc.get("line"):
                yield rel(corpus, loc["path"]), int(loc["line"])


def parse_kingfisher(corpus, text):
    text = text.strip()
    if not text:
        return
    items = []
    if text.startswith("["):
        items = json.loads(text)
    else:
        for l in text.splitlines():
            l = l.strip()
            if l.startswith("{"):
                try:
                    items.append(json.loads(l))
                except json.JSONDecodeError:
                    pass
    for it in items:
        # Kingfisher JSON: {"rule": {...}, "finding": {"path": ..., "line": ...}} (2.x); be lenient.
        fnd = it.get("finding", it)
        path = fnd.get("path") or fnd.get("file") or it.get("path")
        line = fnd.get("line") or fnd.get("line_num") or fnd.get("start_line")
        if path and line:
            yield rel(corpus, path), int(line)


def parse_ripsecrets(corpus, text):
    # path:line:col: match
    for l in text.splitlines():
        m = re.match(r"^(.*?):(\d+):", l)
        if m:
            yield rel(corpus, m.group(1)), int(m.group(2))


def parse_secretlint(corpus, text):
    text = text.strip()
    if not text:
        return
    start = text.find("[")
    data = json.loads(text[start:]) if start >= 0 else []
    for f in data:
        for m in f.get("messages", []):
            line = m.get("loc", {}).get("start", {}).get("line") or m.get("line")
            if line:
                yield rel(corpus, f.get("filePath", "")), int(line)


def parse_detect_secrets(corpus, text):
    data = json.loads(text)
    for path, items in data.get("results", {}).items():
        for it in items:
            yield rel(corpus, path), int(it["line_number"])


PARSERS = {
    "confwatch": parse_confwatch,
    "kingfisher": parse_kingfisher,
    "ripsecrets": parse_ripsecrets,
    "secretlint": parse_secretlint,
    "detect-secrets": parse_detect_secrets,
}


def score(corpus, tool, text):
    truth = [json.loads(l) for l in open(os.path.join(corpus, "truth.jsonl"))]
    by_file = collections.defaultdict(list)
    for i, t in enumerate(truth):
        by_file[t["file"]].append((t["line"], t["end_line"], i))
    reported = set(PARSERS[tool](corpus, text))
    found = set()
    tp_lines = 0
    for f, line in reported:
        hit = [i for s, e, i in by_file.get(f, []) if s <= line <= e]
        if hit:
            tp_lines += 1
            found.update(hit)
    kinds = collections.Counter(t["kind"] for t in truth)
    kinds_found = collections.Counter(truth[i]["kind"] for i in found)
    return {
        "tool": tool,
        "planted": len(truth),
        "found": len(found),
        "recall": round(len(found) / max(len(truth), 1), 4),
        "reported_lines": len(reported),
        "line_precision": round(tp_lines / max(len(reported), 1), 4),
        "recall_by_kind": {k: round(kinds_found[k] / n, 3) for k, n in sorted(kinds.items())},
    }


if __name__ == "__main__":
    corpus, tool, out = sys.argv[1], sys.argv[2], sys.argv[3]
    r = score(corpus, tool, open(out, errors="replace").read())
    print(json.dumps(r, indent=None if "--json" in sys.argv else 2))
