#!/usr/bin/env python3
"""What each boot-trimming patch of patches/series saves: `ksand run -- true` on the kernel built with the series
up to the patch before it and up to the patch itself, interleaved, under TCG.

Usage: bench/boot-trims.py [--ksand PATH] [--runs N] [--patch NAME ...]

By default every patch after the first (patches/0001 is the md shutdown fix, measured by bench/boot-budgets.py).
Builds each prefix of the series once (or finds it in the kernel cache), warms the initramfs, then boots the two
kernels of each patch in turn, alternating which goes first. Prints the medians of the kernel phase, boot
(vmm + kernel + init) and the wall time, and the saving, as markdown for BENCHMARKS.md.
"""
import argparse, json, os, statistics, sys, tempfile

from ksandbench import REPO, kernel_for, run, series_patches

def boot(ksand, kernel):
    with tempfile.NamedTemporaryFile(suffix=".json") as report:
        seconds, _ = run([ksand, "run", "--cold", "--accel", "tcg", "--kernel", kernel, "--json", report.name, "--", "true"])
        with open(report.name) as f:
            phases = json.load(f)["phases"]
    return {"wall": seconds, "kernel": phases["kernel"], "boot": phases["vmm"] + phases["kernel"] + phases["init"]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ksand", default=os.path.join(REPO, ".build/debug/ksand"))
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--patch", action="append", help="a patch of the series to measure (default: all after the first)")
    args = parser.parse_args()
    patches = series_patches()
    chosen = args.patch or patches[1:]
    print(f"ksand: {args.ksand}; {args.runs} runs each; load average {os.getloadavg()[0]:.2f} at the start", file=sys.stderr)
    rows = []
    with tempfile.TemporaryDirectory(prefix="ksand-bench-trims-") as directory:
        for name in chosen:
            if name not in patches:
                sys.exit(f"{name} is not in patches/series")
            index = patches.index(name)
            before = kernel_for(args.ksand, patches[:index], directory)
            after = kernel_for(args.ksand, patches[:index + 1], directory)
            boot(args.ksand, before)  # warm-up: initramfs and unpacked kernels into the cache
            boot(args.ksand, after)
            samples = {"before": [], "after": []}
            for round_number in range(args.runs):
                order = [("before", before), ("after", after)]
                for label, kernel in (order if round_number % 2 == 0 else order[::-1]):
                    samples[label].append(boot(args.ksand, kernel))
                print(f"{name} round {round_number + 1}: kernel {samples['before'][-1]['kernel'] * 1000:.0f} → "
                      f"{samples['after'][-1]['kernel'] * 1000:.0f} ms", file=sys.stderr)
            medians = {label: {key: statistics.median(s[key] for s in runs) for key in ("wall", "kernel", "boot")}
                       for label, runs in samples.items()}
            rows.append((name, medians))
    print(f"load average {os.getloadavg()[0]:.2f} at the end", file=sys.stderr)
    print(f"| patch | kernel ms before → after | boot ms before → after | wall s before → after | wall ratio |")
    print("|---|---:|---:|---:|---:|")
    for name, m in rows:
        b, a = m["before"], m["after"]
        print(f"| {name} | {b['kernel'] * 1000:.0f} → {a['kernel'] * 1000:.0f} | {b['boot'] * 1000:.0f} → {a['boot'] * 1000:.0f} "
              f"| {b['wall']:.2f} → {a['wall']:.2f} | {a['wall'] / b['wall']:.2f} |")


if __name__ == "__main__":
    main()
