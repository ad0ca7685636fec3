#!/usr/bin/env python3
"""Prints the Markdown rule table for docs/scan.md from rules/secrets/*.toml."""
import glob, os, tomllib

root = os.path.join(os.path.dirname(__file__), "..", "..", "..", "rules", "secrets")
rows = []
for f in sorted(glob.glob(os.path.join(root, "*.toml"))):
    name = os.path.basename(f)
    if name in ("allowlist.toml", "classify.toml"):
        continue
    for r in tomllib.load(open(f, "rb")).get("rule", []):
        checks = []
        if r.get("checksum"):
            checks.append("checksum `%s`" % r["checksum"])
        if r.get("min_entropy"):
            checks.append("entropy ≥ %s" % r["min_entropy"])
        if r.get("generic"):
            checks.append("generic filter")
        if r.get("engine", "regex") != "regex":
            checks.append("engine `%s`" % r["engine"])
        rows.append("| `%s` | %s | %s | %s | %s | %s | %s |" % (
            r["id"], r["name"].replace("|", "\\|"), r.get("kind", "secret"),
            r.get("category", "credentials"), r["severity"], name, ", ".join(checks) or "–"))
print("| id | what | kind | category | severity | file | filters |")
print("|---|---|---|---|---|---|---|")
print("\n".join(rows))
print()
print("%d rules." % len(rows))
