#!/usr/bin/env bash
# Clean build times of the package for two revisions: `swift build` (debug) and `swift build -c release`, each into a
# fresh scratch path, with wall time and user+sys CPU time (steadier than wall time on a shared machine).
#
# Usage: bench/build-times.sh [--before REV] [--after REV] [--runs N] [--workdir DIR]
#   --before, --after  git revisions of this repository (default: 2ef0231 and HEAD)
#   --runs N           rounds (default: 2); each round builds every revision in both configurations once
#   --workdir DIR      where the exported trees, scratch paths and logs go (default: /tmp/ksand-bench-build-times)
#
# Each revision is exported (git archive) to DIR/<commit>/ksand. Before the clock starts the scratch path is new and
# the dependencies are resolved into it (from the package copies git is pointed at), so the time is compiling and
# linking only. The order of the four builds rotates from round to round, so load from other work on the machine
# falls on all alike. Prints medians and after/before ratios as markdown.
set -euo pipefail

usage() { sed -n '5,9p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
die() { echo "build-times: $*" >&2; exit 1; }

repo=$(cd "$(dirname "$0")/.." && pwd)
before=2ef0231; after=HEAD; runs=2; workdir=/tmp/ksand-bench-build-times
while [ $# -gt 0 ]; do
    case "$1" in
        --before) before=${2:?--before needs a revision}; shift 2 ;;
        --after) after=${2:?--after needs a revision}; shift 2 ;;
        --runs) runs=${2:?--runs needs a number}; shift 2 ;;
        --workdir) workdir=${2:?--workdir needs a directory}; shift 2 ;;
        -h|--help) usage 0 ;;
        *) echo "build-times: unknown argument $1" >&2; usage ;;
    esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "--runs $runs: expected a whole number of rounds"

# The revision's tree in $workdir/<commit>/ksand; prints the commit.
export_revision() {
    local commit
    commit=$(git -C "$repo" rev-parse --verify "$1^{commit}") || die "$1: not a revision of $repo"
    local source="$workdir/${commit:0:12}/ksand"
    if [ ! -f "$source/Package.swift" ]; then
        rm -rf "$source" && mkdir -p "$source"
        git -C "$repo" archive "$commit" | tar -x -C "$source"
    fi
    echo "$commit"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

mkdir -p "$workdir"
commits=("$(export_revision "$before")" "$(export_revision "$after")")
names=("\`$before\` (${commits[0]:0:7})" "\`$after\` (${commits[1]:0:7})")
cells=("0 debug" "0 release" "1 debug" "1 release")
results="$workdir/results.txt"   # one line per build: revision-index configuration wall cpu
: >"$results"
for ((round = 0; round < runs; round++)); do
    for ((i = 0; i < ${#cells[@]}; i++)); do
        read -r index configuration <<<"${cells[(i + round) % ${#cells[@]}]}"
        commit=${commits[$index]}
        source="$workdir/${commit:0:12}/ksand"
        scratch="$workdir/${commit:0:12}/.build-$configuration"
        log="$workdir/${commit:0:12}/build-$configuration-$round.log"
        rm -rf "$scratch"
        swift package --package-path "$source" --scratch-path "$scratch" resolve >"$log" 2>&1 || { tail -n 30 "$log" >&2; die "resolving ${commit:0:12} failed (log: $log)"; }
        TIMEFORMAT='%R %U %S'
        if ! timing=$( { time swift build --package-path "$source" --scratch-path "$scratch" -c "$configuration" >>"$log" 2>&1; } 2>&1 ); then
            tail -n 30 "$log" >&2
            die "building ${commit:0:12} ($configuration) failed (log: $log)"
        fi
        read -r wall user sys <<<"$timing"
        cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.1f", u + s }')
        echo "$index $configuration $wall $cpu" >>"$results"
        echo "round $((round + 1))/$runs: ${commit:0:12} $configuration: ${wall} s wall, ${cpu} s user+sys" >&2
        rm -rf "$scratch"
    done
done

value() { awk -v i="$1" -v c="$2" -v f="$3" '$1 == i && $2 == c { print $f }' "$results" | median; }
echo "$runs round(s), clean builds, medians in seconds (wall / user+sys CPU)"
echo
echo "| configuration | before ${names[0]} wall | after ${names[1]} wall | after / before | before CPU | after CPU | after / before |"
echo "|---|---|---|---|---|---|---|"
for configuration in debug release; do
    bw=$(value 0 "$configuration" 3); aw=$(value 1 "$configuration" 3)
    bc=$(value 0 "$configuration" 4); ac=$(value 1 "$configuration" 4)
    awk -v c="$configuration" -v bw="$bw" -v aw="$aw" -v bc="$bc" -v ac="$ac" \
        'BEGIN { printf "| `swift build%s` | %.0f | %.0f | %.2f | %.0f | %.0f | %.2f |\n", (c == "release" ? " -c release" : ""), bw, aw, aw / bw, bc, ac, ac / bc }'
done
