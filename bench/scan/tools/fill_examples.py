#!/usr/bin/env python3
"""Fills random example values into rule-file templates (rules/secrets/*.toml.in -> *.toml).

Rule examples must be realistic but fake: this writes random strings of the right alphabet
and length, and for GitHub/npm tokens a correct CRC32 checksum. Deterministic (seeded), so
re-running gives the same files. Markers: {r:CHARSET:N}, {gh:PREFIX}, {npm}.
"""
import random, re, string, sys, zlib

CS = {
    "an": string.ascii_letters + string.digits,
    "hex": "0123456789abcdef",
    "HEX": "0123456789ABCDEF",
    "b64": string.ascii_letters + string.digits + "+/",
    "b64u": string.ascii_letters + string.digits + "-_",
    "up": string.ascii_uppercase + string.digits,
    "low": string.ascii_lowercase + string.digits,
    "b32": "abcdefghijklmnopqrstuvwxyz234567",
    "B32": "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
    "dig": string.digits,
    "alpha": string.ascii_letters,
    "age": "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L",
}
B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def b62(n):
    s = ""
    for _ in range(6):
        s = B62[n % 62] + s
        n //= 62
    return s


def main():
    rnd = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 5)
    text = open(sys.argv[1]).read()

    def rs(cs, n):
        return "".join(rnd.choice(CS[cs]) for _ in range(n))

    def repl(m):
        kind = m.group(1)
        if kind == "r":
            cs, n = m.group(2).split(":")
            return rs(cs, int(n))
        if kind == "gh":
            body = rs("an", 30)
            return f"{m.group(2)}_{body}{b62(zlib.crc32(body.encode()))}"
        if kind == "npm":
            body = rs("an", 30)
            return f"npm_{body}{b62(zlib.crc32(body.encode()))}"
        return m.group(0)

    out = re.sub(r"\{(r|gh|npm):?([^}]*)\}", repl, text)
    open(sys.argv[2], "w").write(
        "# Generated from the .toml.in template by bench/scan/tools/fill_examples.py; edit the template.\n" + out)


main()
