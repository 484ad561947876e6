#!/usr/bin/env bash
# Builds the fuzz targets (Fuzz/Targets/*) with libFuzzer and AddressSanitizer, then runs each for a bounded time:
# first the crashers kept in Fuzz/regressions/TARGET/, then fuzzing from the seeds in Fuzz/corpus/TARGET/ and what
# earlier runs found. Any crash, hang, leak or sanitizer report fails the script; it prints one line per target.
#
# Usage: Fuzz/run.sh [--seconds N] [TARGET ...]
#   --seconds N   fuzzing time per target (default: KSAND_FUZZ_SECONDS, else 20); the documented longer run is 150
#   TARGET        a directory name under Fuzz/Targets (default: all of them)
# Environment:
#   KSAND_FUZZ_WORK   where the grown corpora, crash inputs and logs go (default: ~/.cache/ksand/fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${KSAND_FUZZ_SECONDS:-20}
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=${2:?--seconds needs a number}; shift 2 ;;
    -h|--help) sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "error: unknown option $1 (see Fuzz/run.sh --help)" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "error: --seconds $seconds: expected a whole number of seconds" >&2; exit 2; }
all=$(ls Fuzz/Targets)
[ ${#targets[@]} -gt 0 ] || read -r -a targets <<<"$(echo $all)"
for target in "${targets[@]}"; do
  [ -d "Fuzz/Targets/$target" ] || { echo "error: no fuzz target '$target'; the targets are: $(echo $all)" >&2; exit 2; }
done
work=${KSAND_FUZZ_WORK:-${XDG_CACHE_HOME:-$HOME/.cache}/ksand/fuzz}
mkdir -p "$work"

# The fuzz targets exist in Package.swift only with KSAND_FUZZ=1, which also leaves out the package's executables
# and tests: one build makes all the targets. `--sanitize` instruments the C and C++ dependencies too; for Swift it passes one -sanitize= per
# sanitizer, in no fixed order, and swiftc keeps only the last one, so the combined flag goes after them.
started=$SECONDS
if ! KSAND_FUZZ=1 swift build -c release --scratch-path .build/fuzz --sanitize fuzzer --sanitize address \
    -Xswiftc -sanitize=fuzzer,address >"$work/build.log" 2>&1; then
  tail -n 40 "$work/build.log" >&2
  echo "error: building the fuzz targets failed (log: $work/build.log)" >&2
  exit 1
fi
echo "fuzz: built the targets in $((SECONDS - started)) s; ${seconds} s each; work directory $work"

# -timeout: one input running longer is a hang; -rss_limit_mb: growing past it is a failure too.
options=(-timeout=10 -rss_limit_mb=2048 -print_final_stats=1)
export LSAN_OPTIONS="suppressions=$PWD/Fuzz/lsan-suppressions.txt${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
# Swift's own backtracer would catch a trap before libFuzzer does, and read memory AddressSanitizer then reports.
export SWIFT_BACKTRACE=enable=no
failed=()
for target in "${targets[@]}"; do
  dir="$work/$target"
  binary=".build/fuzz/release/fuzz-$target"
  mkdir -p "$dir/corpus" "$dir/crashes"
  shopt -s nullglob
  regressions=(Fuzz/regressions/"$target"/*)
  shopt -u nullglob
  if [ ${#regressions[@]} -gt 0 ] && ! "$binary" "${options[@]}" "${regressions[@]}" >"$dir/regressions.log" 2>&1; then
    grep -E 'ERROR|Fatal error|==[0-9]+==' "$dir/regressions.log" | head -n 5 >&2 || true
    echo "fuzz $target: FAILED: a kept crasher in Fuzz/regressions/$target crashes again (log: $dir/regressions.log)"
    failed+=("$target")
    continue
  fi
  extra=()
  [ -f "Fuzz/dictionaries/$target.dict" ] && extra+=(-dict="Fuzz/dictionaries/$target.dict")
  # TOMLKit leaks every table it parses (Fuzz/lsan-suppressions.txt), and a leak check after every input that leaks
  # would slow the target to a few inputs a second: its leaks are checked once, at exit.
  [ "$target" = toml ] && extra+=(-detect_leaks=0)
  status=0
  "$binary" "${options[@]}" "${extra[@]}" -max_total_time="$seconds" -artifact_prefix="$dir/crashes/" \
    "$dir/corpus" "Fuzz/corpus/$target" >"$dir/fuzz.log" 2>&1 || status=$?
  if ! grep -q 'inline 8-bit counters' "$dir/fuzz.log"; then
    echo "fuzz $target: FAILED: the binary has no coverage instrumentation, so libFuzzer fuzzes blind (log: $dir/fuzz.log)"
    failed+=("$target")
    continue
  fi
  # The last status line: "#1234 DONE cov: 567 ft: 890 corp: 12/3456b lim: 4096 exec/s: 61 rss: 300Mb".
  final=$(grep -E '^#[0-9]+' "$dir/fuzz.log" | tail -n 1 || true)
  execs=$(grep -oE 'number_of_executed_units: *[0-9]+' "$dir/fuzz.log" | grep -oE '[0-9]+$' || echo "${final%% *}" | tr -d '#')
  stat() { grep -oE "$1: [0-9]+" <<<"$final" | grep -oE '[0-9]+$' || echo "?"; }
  summary="fuzz $target: ${execs:-?} execs in ${seconds} s, cov $(stat cov), ft $(stat ft), corpus $(grep -oE 'corp: [0-9]+' <<<"$final" | grep -oE '[0-9]+$' || echo '?'), regressions ${#regressions[@]}"
  if [ "$status" -ne 0 ]; then
    grep -E 'ERROR|Fatal error|SUMMARY|Test unit written' "$dir/fuzz.log" | head -n 8 >&2 || true
    echo "$summary: FAILED (libFuzzer exit $status; log: $dir/fuzz.log). Fix it, and keep the input that crashed: copy it to Fuzz/regressions/$target/"
    failed+=("$target")
  else
    echo "$summary: ok"
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets passed in $((SECONDS - started)) s"
