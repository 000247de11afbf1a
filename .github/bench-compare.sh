#!/usr/bin/env bash
# Compares a new snapshot with a baseline of the same pipeline from the same
# kind of machine (architecture, board or VM model, cores, CPU model) and prints the
# result as Markdown. Timings from another kind of machine say nothing about
# a change, so those are never the baseline. The baseline is the snapshot
# given with --baseline when it is from the same kind of machine, else the
# newest checked-in one that is. The comparison is `cargo xtask compare
# --format markdown`.
#
#   .github/bench-compare.sh SNAPSHOT_DIR [--baseline DIR] [cargo xtask compare flags…]
#
# Exit status: that of `cargo xtask compare` (README, "Exit statuses"): 0
# when compared without a counted regression, or when there is nothing to
# compare with (the output says so); with --fail-on-regression 3 when a
# regression counts and 4 when the comparison could not have seen one (too
# noisy, too few runs, sessions too far apart); 1 when it failed.
set -euo pipefail
new=$(realpath "${1:?usage: $0 SNAPSHOT_DIR [--baseline DIR] [cargo xtask compare flags]}")
shift
given=
if [ "${1:-}" = --baseline ]; then
    given=$(realpath "${2:?--baseline needs a snapshot directory}")
    shift 2
fi
cd "$(dirname "$0")/.."

# "<pipeline> <arch> <model> <cores> <cpu model>" from a snapshot's
# provenance: hosted runners of one label come with different CPUs.
identity() {
    python3 - "$1/provenance.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
d = p.get("device_before") or {}
print(p.get("plan", {}).get("pipeline"), p.get("target", {}).get("arch"), d.get("model"), d.get("cores"), d.get("cpu"))
PY
}

want=$(identity "$new")
pipeline=${want%% *}
baseline=
if [ -n "$given" ]; then
    if [ -f "$given/provenance.json" ] && [ "$(identity "$given")" = "$want" ]; then
        baseline=$given
    elif [ -f "$given/provenance.json" ]; then
        echo "The given baseline is from another kind of machine (\`$(identity "$given")\`, not \`$want\`): not compared with it."
        echo
    else
        echo "The given baseline \`$given\` is not a snapshot (no provenance.json): not compared with it."
        echo
    fi
fi
# Snapshot directories are UTC timestamps: sorting on the fourth path
# component puts the newest first, whatever the target's name.
if [ -z "$baseline" ]; then
    while IFS= read -r provenance; do
        dir=$(dirname "$provenance")
        if [ "$(identity "$dir")" = "$want" ]; then
            baseline=$dir
            break
        fi
    done < <(git ls-files -- "results/*/$pipeline/*/provenance.json" | sort -t/ -k4 -r)
fi

if [ -z "$baseline" ]; then
    echo "No snapshot of \`$pipeline\` from this kind of machine (\`$want\`) to compare with yet."
    exit 0
fi
if [ "$baseline" = "$given" ]; then
    echo "Compared with the given baseline."
else
    echo "Compared with \`$baseline\`."
fi
echo
errors=$(mktemp)
trap 'rm -f "$errors"' EXIT
status=0
cargo xtask compare "$baseline" "$new" --format markdown "$@" 2>"$errors" || status=$?
if [ -s "$errors" ]; then
    echo
    echo '```'
    cat "$errors"
    echo '```'
fi
case $status in
    3) printf '\n**A regression counts** (see above).\n' ;;
    4) printf '\n**Nothing detectable**: the comparison could not have shown a change of the size asked for (see above); no regression found is not "no regression".\n' ;;
esac
exit "$status"
