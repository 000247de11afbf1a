#!/usr/bin/env bash
# Compares a new snapshot with the newest checked-in snapshot of the same
# pipeline from the same kind of machine (architecture, board or VM model,
# cores) and prints the result as Markdown. Timings from another kind of
# machine say nothing about a change, so those are never the baseline.
#
#   .github/bench-compare.sh SNAPSHOT_DIR [cargo xtask compare flags…]
set -euo pipefail
new=$(realpath "${1:?usage: $0 SNAPSHOT_DIR [cargo xtask compare flags]}")
shift
cd "$(dirname "$0")/.."

# "<pipeline> <arch> <model> <cores>" from a snapshot's provenance.
identity() {
    python3 - "$1/provenance.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
d = p.get("device_before") or {}
print(p.get("plan", {}).get("pipeline"), p.get("target", {}).get("arch"), d.get("model"), d.get("cores"))
PY
}

want=$(identity "$new")
pipeline=${want%% *}
baseline=
# Snapshot directories are UTC timestamps: sorting on the fourth path
# component puts the newest first, whatever the target's name.
while IFS= read -r provenance; do
    dir=$(dirname "$provenance")
    if [ "$(identity "$dir")" = "$want" ]; then
        baseline=$dir
        break
    fi
done < <(git ls-files -- "results/*/$pipeline/*/provenance.json" | sort -t/ -k4 -r)

if [ -z "$baseline" ]; then
    echo "No checked-in snapshot of \`$pipeline\` from this kind of machine (\`$want\`) under results/: nothing to compare with yet."
    exit 0
fi
echo "Compared with \`$baseline\`:"
echo
echo '```'
status=0
cargo xtask compare "$baseline" "$new" "$@" || status=$?
echo '```'
exit "$status"
