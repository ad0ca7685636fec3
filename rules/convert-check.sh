#!/usr/bin/env bash
# Checks that every rule of the pack converts with sigma-cli (pySigma) for Splunk and
# Elasticsearch ES|QL, except the rules whose correlation type those backends lack
# (temporal_ordered, value_sum). For CI: `rules/convert-check.sh [VENV_DIR]`.
# Installs sigma-cli and the two backends into a virtualenv (default .venv-sigma).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${1:-$here/../.venv-sigma}"
if [ ! -x "$venv/bin/sigma" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q sigma-cli pysigma-backend-splunk pysigma-backend-elasticsearch
fi
# Rules that need a correlation type the backends do not implement (documented in
# docs/detections.md): they must still parse, which `sigma convert` checks before failing.
expected_unsupported="brute_force_then_login rest_bulk_body_read sensitive_search_then_read"
fail=0
for target in splunk esql; do
    for f in "$here"/confluence/*.yml; do
        case "$f" in *.tests.yml) continue ;; esac
        name="$(basename "$f" .yml)"
        # Shared building blocks are converted together with the rules that use them.
        [ "$name" = user_content_read ] && continue
        # pySigma resolves cross-file references when it loads a folder.
        work="$(mktemp -d)"
        cp "$f" "$work/"
        if grep -q confluence_user_content_read "$f"; then cp "$here/confluence/user_content_read.yml" "$work/"; fi
        if out="$("$venv/bin/sigma" convert -t "$target" --without-pipeline "$work" 2>&1)"; then
            echo "ok      $target $name"
        elif [[ " $expected_unsupported " == *" $name "* ]] && grep -q "not supported by backend" <<<"$out"; then
            echo "skip    $target $name (correlation type not supported by the backend)"
        else
            echo "FAIL    $target $name"
            echo "$out" | tail -3 | sed 's/^/        /'
            fail=1
        fi
        rm -rf "$work"
    done
done
exit "$fail"
