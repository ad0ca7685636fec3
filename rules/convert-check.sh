#!/usr/bin/env bash
# Checks that every alerting rule of the pack converts with sigma-cli (pySigma) for Splunk and
# Elasticsearch ES|QL, with no exceptions. For CI: `rules/convert-check.sh [VENV_DIR]`.
#
# It converts what SIEM users are told to convert (docs/detections.md, "Taking the rules to a
# SIEM"): the pack written by `confwatch rules export --siem`, in which the three rules whose
# correlations the backends lack are in their SIEM form, with its processing pipeline.
# For each backend: every alerting rule on its own (with the shared building blocks it
# references), then the whole bundle in one go; and the pipeline must have turned the bulk
# REST rule's count into a sum of rest.items. Prints "converted N/N" per backend and overall,
# and fails unless every rule converted everywhere.
#
# Installs sigma-cli and the two backends (versions pinned: the pipeline rewrites their
# output text) into a virtualenv (default .venv-sigma). The confwatch binary comes from
# $CONFWATCH, else `cargo run -p confwatch`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${1:-$here/../.venv-sigma}"
pins=(sigma-cli==3.1.0 pysigma==1.5.1 pysigma-backend-splunk==2.1.0 pysigma-backend-elasticsearch==2.1.1)
if [ ! -x "$venv/bin/sigma" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q "${pins[@]}"
echo "sigma-cli: $("$venv/bin/pip" list 2>/dev/null | grep -iE '^(sigma-cli|pysigma)' | tr -s ' ' | tr '\n' ';')"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
pack="$work/pack"
if [ -n "${CONFWATCH:-}" ]; then
    "$CONFWATCH" rules export --siem --out "$pack" >/dev/null
else
    (cd "$here/.." && cargo run -q -p confwatch -- rules export --siem --out "$pack" >/dev/null)
fi
pipeline="$pack/pipelines/confwatch-siem.yml"
bundle="$pack/confluence-siem.yml"

rule_name() { sed -n 's/^name: *//p' "$1" | head -1; }
# Files with detection rules only: shared building blocks when another file references them.
shared=()
for f in "$pack"/confluence/*.yml; do
    grep -q '^correlation:' "$f" || shared+=("$f")
done

fail=0
all_ok=0
all_total=0
for target in splunk esql; do
    total=0
    ok=0
    for f in "$pack"/confluence/*.yml; do
        name="$(rule_name "$f")"
        # A building block referenced from another file is converted with the rules using it.
        if grep -lq -- "- $name\$" $(grep -L -- "^name: $name\$" "$pack"/confluence/*.yml); then
            continue
        fi
        total=$((total + 1))
        # sigma-cli resolves references within one input, so the rule and the blocks it
        # uses go in as one stream, blocks first.
        input="$work/input.yml"
        : >"$input"
        for s in "${shared[@]}"; do
            [ "$s" = "$f" ] && continue
            if grep -q -- "- $(rule_name "$s")\$" "$f"; then
                cat "$s" >>"$input"
                echo --- >>"$input"
            fi
        done
        cat "$f" >>"$input"
        # A rule converts when sigma exits 0 and prints a query (stdout; progress is on stderr).
        if out="$("$venv/bin/sigma" convert -t "$target" -p "$pipeline" "$input" 2>"$work/err")" \
            && grep -q '[^[:space:]]' <<<"$out"; then
            ok=$((ok + 1))
            echo "ok      $target $(basename "$f" .yml)"
        else
            echo "FAIL    $target $(basename "$f" .yml)"
            tail -3 "$work/err" | cut -c1-300 | sed 's/^/        /'
            fail=1
        fi
    done
    if out="$("$venv/bin/sigma" convert -t "$target" -p "$pipeline" "$bundle" 2>"$work/err")"; then
        echo "ok      $target bundle confluence-siem.yml"
    else
        echo "FAIL    $target bundle confluence-siem.yml"
        tail -3 "$work/err" | cut -c1-300 | sed 's/^/        /'
        fail=1
    fi
    if ! grep -q 'sum(rest.items)' <<<"$out"; then
        echo "FAIL    $target pipeline: confluence_rest_bulk_body_read does not sum rest.items (backend output changed?)"
        fail=1
    fi
    echo "$target: converted $ok/$total"
    [ "$ok" -eq "$total" ] && [ "$total" -gt 0 ] || fail=1
    all_ok=$((all_ok + ok))
    all_total=$((all_total + total))
done
echo "converted $all_ok/$all_total (every alerting rule on splunk and esql)"
exit "$fail"
