#!/usr/bin/env python3
"""Boot and shutdown of the default sandbox kernel under TCG, as `ksand test` judges them:

1. the phase split of `ksand run -- true` (median of --runs);
2. the cost of timing itself: the same run with and without --timeline, interleaved (wall time on the host);
3. shutdown (shutdown + teardown) with no md array, and with one on the patched and the unpatched kernel.

Usage: bench/boot-budgets.py [--ksand PATH] [--runs N]

Builds (or finds in the cache) the project's kernel with and without patches/series first. Prints a markdown
summary for BENCHMARKS.md.
"""
import argparse, json, os, statistics, sys, tempfile

from ksandbench import REPO, run

PHASES = ["vmm", "kernel", "init", "command", "shutdown", "teardown", "total"]
MAKE_ARRAY = "echo md0 > /sys/module/md_mod/parameters/new_array"


def boot(ksand, kernel, command, extra=()):
    with tempfile.NamedTemporaryFile(suffix=".json") as report:
        seconds, _ = run([ksand, "run", "--cold", "--accel", "tcg", "--kernel", kernel, "--json", report.name, *extra, "--", *command])
        with open(report.name) as f:
            result = json.load(f)
    return seconds, result["phases"]


def ms(values):
    return f"{statistics.median(values) * 1000:.0f}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ksand", default=os.path.join(REPO, ".build/release/ksand"))
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    patched = run([args.ksand, "kernel", "build", "--print-path"])[1].strip()
    unpatched = run([args.ksand, "kernel", "build", "--no-patches", "--print-path"])[1].strip()
    boot(args.ksand, patched, ["true"])  # warm-up: initramfs and unpacked kernels into the cache
    boot(args.ksand, unpatched, ["true"])

    phases = {name: [] for name in PHASES}
    with_timeline, without_timeline = [], []
    shutdown = {"no array, patched": [], "md array, patched": [], "md array, unpatched": []}
    for round_number in range(args.runs):
        # alternate which goes first, so an order effect does not pass for the cost of timing
        for timed in ([False, True] if round_number % 2 == 0 else [True, False]):
            seconds, timed_split = boot(args.ksand, patched, ["true"], ["--timeline"] if timed else [])
            (with_timeline if timed else without_timeline).append(seconds)
            if not timed:
                split = timed_split
        for name in PHASES:
            phases[name].append(split[name])
        shutdown["no array, patched"].append(split["shutdown"] + split["teardown"])
        for label, kernel in [("md array, patched", patched), ("md array, unpatched", unpatched)]:
            _, split = boot(args.ksand, kernel, ["sh", "-c", MAKE_ARRAY], ["--user", "0:0"])
            shutdown[label].append(split["shutdown"] + split["teardown"])
        print(f"round {round_number + 1}: kernel {split['kernel'] * 1000:.0f} ms, "
              + ", ".join(f"{label} {values[-1] * 1000:.0f} ms" for label, values in shutdown.items()), file=sys.stderr)

    print(f"Phases of `ksand run --accel tcg -- true` on the default kernel, median of {args.runs} (ms):\n")
    print("| " + " | ".join(PHASES) + " |\n|" + "---:|" * len(PHASES))
    print("| " + " | ".join(ms(phases[name]) for name in PHASES) + " |\n")
    w, wo = statistics.median(with_timeline), statistics.median(without_timeline)
    print(f"| cost of timing | median wall time |\n|---|---:|")
    print(f"| `ksand run -- true` | {wo * 1000:.0f} ms |\n| `ksand run --timeline -- true` | {w * 1000:.0f} ms |")
    print(f"| ratio | {w / wo:.3f} |\n")
    print("| shutdown + teardown | median | min | max |\n|---|---:|---:|---:|")
    for label, values in shutdown.items():
        print(f"| {label} | {ms(values)} ms | {min(values) * 1000:.0f} ms | {max(values) * 1000:.0f} ms |")
    gap = statistics.median(shutdown["md array, patched"]) - statistics.median(shutdown["no array, patched"])
    print(f"\nPatched md-array shutdown minus no-array shutdown: {gap * 1000:.0f} ms (target: within 50 ms)")


if __name__ == "__main__":
    main()
