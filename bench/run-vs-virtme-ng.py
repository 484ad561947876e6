#!/usr/bin/env python3
"""Wall time of `ksand run -- true` against `vng --run <same bzImage> -- true`, interleaved, under TCG.

Usage: bench/run-vs-virtme-ng.py [--runs N] [--kernel BZIMAGE] [--ksand PATH] [--vng PATH]

Builds nothing: pass the release ksand (swift build -c release) and a virtme-ng install (pip install virtme-ng).
Both tools boot the same kernel with the same command, one after the other in each round, so machine noise
hits both alike. Prints medians, the ratio, and ksand's phase split (medians of its --json reports).
"""
import argparse, glob, json, os, statistics, subprocess, sys, tempfile, time


def newest_kernel():
    kernels = sorted(glob.glob("/boot/vmlinuz-*"), key=lambda p: [int(x) if x.isdigit() else x for x in p.replace("-", ".").split(".")])
    if not kernels:
        sys.exit("no /boot/vmlinuz-*: install linux-image-amd64 or pass --kernel")
    return kernels[-1]


def timed(argv, env=None):
    start = time.monotonic()
    done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    elapsed = time.monotonic() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed with {done.returncode}:\n{done.stderr.decode(errors='replace')[-2000:]}")
    return elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--kernel", default=None)
    parser.add_argument("--ksand", default=".build/release/ksand")
    parser.add_argument("--vng", default="vng")
    args = parser.parse_args()
    kernel = args.kernel or newest_kernel()
    phases = {}
    ksand_times, vng_times = [], []
    report = tempfile.NamedTemporaryFile(suffix=".json", delete=False).name
    # One untimed run each: ksand fills its caches (initramfs, unpacked kernel), vng its own.
    timed([args.ksand, "run", "--cold", "--accel", "tcg", "--kernel", kernel, "--", "true"])
    timed([args.vng, "--run", kernel, "--disable-kvm", "--", "true"])
    for round_number in range(args.runs):
        ksand_times.append(timed([args.ksand, "run", "--cold", "--accel", "tcg", "--kernel", kernel, "--json", report, "--", "true"]))
        with open(report) as f:
            for name, seconds in json.load(f)["phases"].items():
                phases.setdefault(name, []).append(seconds)
        vng_times.append(timed([args.vng, "--run", kernel, "--disable-kvm", "--", "true"]))
        print(f"round {round_number + 1}: ksand {ksand_times[-1]:.2f}s  vng {vng_times[-1]:.2f}s", file=sys.stderr)
    os.unlink(report)
    k, v = statistics.median(ksand_times), statistics.median(vng_times)
    print(f"kernel: {kernel}, accelerator: tcg, runs: {args.runs}")
    print(f"ksand run -- true: median {k:.2f}s (min {min(ksand_times):.2f}, max {max(ksand_times):.2f})")
    print(f"vng --run -- true: median {v:.2f}s (min {min(vng_times):.2f}, max {max(vng_times):.2f})")
    print(f"ratio ksand/vng: {k / v:.2f}")
    print("ksand phases (median ms): " + ", ".join(
        f"{name} {statistics.median(values) * 1000:.0f}" for name, values in phases.items()))


if __name__ == "__main__":
    main()
