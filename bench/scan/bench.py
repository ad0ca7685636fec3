#!/usr/bin/env python3
"""Runs confwatch scan and the secret scanners installable here on one planted-secrets corpus
and prints a Markdown table: wall time, MB/s, peak RSS, recall and line precision.

Usage: bench.py --corpus DIR --confwatch BIN [--tools-dir DIR] [--sample-mb 20] [--json OUT]

Every tool scans the same pages folder, on all cores, with its default rules, validation and
network checks off. Tools too slow for the whole corpus (detect-secrets) also run on a sample
(the first pages up to --sample-mb); every tool is scored on the sample too so the recall and
precision columns compare like with like.
"""
import argparse, json, os, shutil, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import score  # noqa: E402


def run(cmd, out_path, cwd=None, env=None):
    """Runs cmd with stdout to out_path; returns (seconds, peak RSS MB, exit code).

    Peak RSS comes from GNU time, which forks from a small process: a child forked from this
    (large) Python process would report Python's own pages as its peak.
    """
    rss_file = out_path + ".rss"
    with open(out_path, "wb") as out:
        t0 = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", "-o", rss_file] + cmd, stdout=out,
                           stderr=subprocess.DEVNULL, cwd=cwd, env=env)
        dt = time.perf_counter() - t0
    try:
        rss_kb, user, sys_ = open(rss_file).read().strip().splitlines()[-1].split()
        rss_kb, cpu = int(rss_kb), float(user) + float(sys_)
    except (OSError, ValueError, IndexError):
        rss_kb, cpu = 0, 0.0
    return dt, rss_kb / 1024.0, p.returncode, cpu


def corpus_bytes(pages):
    total = 0
    for root, _, files in os.walk(pages):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    return total


def make_sample(corpus, mb):
    """Copies the first pages (in name order) up to `mb` into corpus-sample/, with its truth."""
    sample = corpus.rstrip("/") + f"-sample{int(mb)}"
    if os.path.isdir(sample):
        return sample
    os.makedirs(sample)
    truth = [json.loads(l) for l in open(os.path.join(corpus, "truth.jsonl"))]
    files = []
    for root, _, fs in os.walk(os.path.join(corpus, "pages")):
        for f in fs:
            files.append(os.path.relpath(os.path.join(root, f), corpus))
    files.sort(key=lambda r: os.path.basename(r))
    keep, total = set(), 0
    for r in files:
        if total >= mb * 1024 * 1024:
            break
        dst = os.path.join(sample, r)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(os.path.join(corpus, r), dst)
        keep.add(r)
        total += os.path.getsize(dst)
    with open(os.path.join(sample, "truth.jsonl"), "w") as t:
        for row in truth:
            if row["file"] in keep:
                t.write(json.dumps(row) + "\n")
    return sample


def commands(tool, pages, bins, out):
    if tool == "confwatch":
        return [bins["confwatch"], "scan", pages, "--format", "jsonl"]
    if tool == "kingfisher":
        return [bins["kingfisher"], "scan", pages, "--no-validate", "--no-dedup",
                "--format", "jsonl", "-q", "--no-update-check"]
    if tool == "ripsecrets":
        return [bins["ripsecrets"], pages]
    if tool == "secretlint":
        return [bins["secretlint"], os.path.join(pages, "**", "*"), "--format", "json",
                "--secretlintrc", bins["secretlintrc"]]
    if tool == "detect-secrets":
        return [bins["detect-secrets"], "scan", "--all-files", pages]
    raise ValueError(tool)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--confwatch", required=True)
    ap.add_argument("--tools-dir", default="/tmp/confwatch-scan-tools")
    ap.add_argument("--sample-mb", type=float, default=20)
    ap.add_argument("--full-tools", default="confwatch,kingfisher,ripsecrets,secretlint")
    ap.add_argument("--sample-tools", default="confwatch,kingfisher,ripsecrets,secretlint,detect-secrets")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json")
    a = ap.parse_args()
    td = a.tools_dir
    bins = {
        "confwatch": a.confwatch,
        "kingfisher": os.path.join(td, "venv", "bin", "kingfisher"),
        "detect-secrets": os.path.join(td, "venv", "bin", "detect-secrets"),
        "ripsecrets": os.path.join(td, "cargo", "bin", "ripsecrets"),
        "secretlint": os.path.join(td, "npm", "node_modules", ".bin", "secretlint"),
        "secretlintrc": os.path.join(td, "npm", ".secretlintrc.json"),
    }
    tools = ["confwatch", "kingfisher", "ripsecrets", "secretlint", "detect-secrets"]
    available = [t for t in tools if os.path.exists(bins[t])]
    sample = make_sample(a.corpus, a.sample_mb)
    results = []
    for label, corpus, which in (("full", a.corpus, a.full_tools.split(",")), ("sample", sample, a.sample_tools.split(","))):
        pages = os.path.join(corpus, "pages")
        mb = corpus_bytes(pages) / (1024 * 1024)
        for t in available:
            if t not in which:
                continue
            out = os.path.join(os.path.dirname(corpus.rstrip("/")), f"out-{label}-{t}.txt")
            kf_out = None
            cmd = commands(t, pages, bins, out)
            if t == "kingfisher":
                kf_out = out
                cmd = cmd + ["-o", out]
                out = out + ".stdout"
            # Fast tools run `--repeat` times; the median wall time is kept.
            reps = a.repeat if t in ("confwatch", "kingfisher") else 1
            # Run outside any git work tree: detect-secrets otherwise lists files with
            # `git ls-files` and silently scans nothing outside the repository.
            cwd = os.path.dirname(os.path.abspath(corpus))
            runs = sorted((run(cmd, out, cwd=cwd) for _ in range(reps)), key=lambda r: r[0])
            secs, rss, code, cpu = runs[len(runs) // 2]
            text = open(kf_out or out, errors="replace").read()
            s = score.score(corpus, t, text)
            s.update({"corpus": label, "mb": round(mb, 1), "seconds": round(secs, 2),
                      "mb_per_s": round(mb / secs, 1) if secs else None,
                      "cpu_seconds": round(cpu, 2), "peak_rss_mb": round(rss), "exit": code})
            results.append(s)
            print(json.dumps({k: v for k, v in s.items() if k != "recall_by_kind"}), file=sys.stderr)
    if a.json:
        json.dump(results, open(a.json, "w"), indent=1)
    print("| corpus | tool | MB | wall s | MB/s | CPU s | peak RSS MB | recall | line precision | reported lines |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s in results:
        print(f"| {s['corpus']} | {s['tool']} | {s['mb']} | {s['seconds']} | {s['mb_per_s']} | "
              f"{s['cpu_seconds']} | {s['peak_rss_mb']} | {s['recall']:.3f} | {s['line_precision']:.3f} | "
              f"{s['reported_lines']} |")


main()
