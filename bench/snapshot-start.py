#!/usr/bin/env python3
"""`ksand run -- true` started from the snapshot of its machine's boot, against the same run booted (`--cold`), the
cold boot of the kernel before the boot trims (the series' first patch only), and `vng --run <same bzImage> -- true`,
interleaved, under TCG. With --baseline, also the ksand of an earlier commit (built by the caller) booting the kernel
before the trims: main as it was when the work began, ksand's own overheads included.

Usage: bench/snapshot-start.py [--ksand PATH] [--baseline PATH] [--vng PATH] [--runs N]

Builds the project's kernel and the series prefix (or finds them in the kernel cache). Clears the snapshot cache
first and times the run that makes the snapshot; then each round runs the four in turn, rotating which goes first.
Prints medians, ratios, the restored run's phase split, and the snapshot's size and making time, as markdown.
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time

from ksandbench import REPO, kernel_for, run, series_patches


def ksand_run(ksand, kernel, *options):
    with tempfile.NamedTemporaryFile(suffix=".json") as report:
        seconds, _ = run([ksand, "run", "--accel", "tcg", "--kernel", kernel, "--json", report.name, *options, "--", "true"])
        with open(report.name) as f:
            document = json.load(f)
    return seconds, document


def vng_run(vng, kernel):
    """`vng --run KERNEL -- true`: on the trimmed sandbox kernel virtme-ng finds no virtio-serial script port, runs the
    command on the console instead and exits 255 (it cannot learn the status); the run itself is complete."""
    start = time.monotonic()
    done = subprocess.run([vng, "--run", kernel, "--disable-kvm", "--", "true"], stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.monotonic() - start
    if done.returncode not in (0, 255):
        sys.exit(f"vng failed with {done.returncode}:\n{done.stderr.decode(errors='replace')[-3000:]}")
    return elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ksand", default=os.path.join(REPO, ".build/release/ksand"))
    parser.add_argument("--baseline", help="an earlier ksand (its ksand-init beside it), run on the untrimmed kernel")
    parser.add_argument("--vng", default="vng")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        kernel = run([args.ksand, "kernel", "build", "--print-path"])[1].strip()
        untrimmed = kernel_for(args.ksand, series_patches()[:1], directory)
    run([args.ksand, "snapshot", "clear"])
    first, document = ksand_run(args.ksand, kernel)
    if document.get("start") != "snapshot":
        sys.exit("the first run did not start from a snapshot: " + json.dumps(document)[:2000])
    listing = json.loads(run([args.ksand, "snapshot", "list", "--json"])[1])
    snapshot = listing["snapshots"][0]
    # Warm every cache (initramfs, unpacked kernels, vng's own) before timing.
    ksand_run(args.ksand, untrimmed, "--cold")
    if args.baseline:
        ksand_run(args.baseline, untrimmed)
    vng_run(args.vng, kernel)
    kinds = ["restored", "cold", "untrimmed cold"] + (["main before"] if args.baseline else []) + ["vng"]
    reference = "main before" if args.baseline else "untrimmed cold"
    walls = {kind: [] for kind in kinds}
    phases = {}
    for round_number in range(args.runs):
        order = kinds[round_number % len(kinds):] + kinds[:round_number % len(kinds)]
        for kind in order:
            if kind == "vng":
                seconds = vng_run(args.vng, kernel)
            elif kind == "main before":
                # That ksand always boots; its JSON has no start.
                seconds, document = ksand_run(args.baseline, untrimmed)
            else:
                options = [] if kind == "restored" else ["--cold"]
                seconds, document = ksand_run(args.ksand, untrimmed if kind == "untrimmed cold" else kernel, *options)
                expected = "snapshot" if kind == "restored" else "cold"
                if document.get("start", "cold") != expected:
                    sys.exit(f"{kind} run started {document.get('start')}")
                if kind == "restored":
                    for name, value in document["phases"].items():
                        phases.setdefault(name, []).append(value)
            walls[kind].append(seconds)
        print(f"round {round_number + 1}: " + ", ".join(f"{kind} {walls[kind][-1]:.2f}s" for kind in kinds), file=sys.stderr)
    median = {kind: statistics.median(values) for kind, values in walls.items()}
    print(f"kernel {kernel}; untrimmed (series up to {series_patches()[0]}) {untrimmed}; TCG, {args.runs} interleaved rounds\n")
    print(f"| start | median wall | min–max | vs {reference} | vs vng |")
    print("|---|---|---|---|---|")
    for kind in kinds:
        values = walls[kind]
        print(f"| {kind} | {median[kind]:.3f} s | {min(values):.2f}–{max(values):.2f} | "
              f"{median[kind] / median[reference]:.2f}× | {median[kind] / median['vng']:.3f}× |")
    print(f"\nrestored vs cold (this kernel): {median['restored'] / median['cold']:.2f}×")
    order = ["restore", "init", "command", "shutdown", "teardown", "total"]
    print("restored run's phases (median ms): " + ", ".join(
        f"{name} {statistics.median(phases[name]) * 1000:.0f}" for name in order if name in phases))
    record = snapshot["record"]
    print(f"snapshot: {snapshot['diskBytes'] / (1 << 20):.1f} MiB on disk (memory file {record['memoryBytes'] >> 20} MiB sparse, "
          f"state {record['stateBytes'] / 1024:.0f} KiB); made in {record['makingMilliseconds']} ms "
          f"(boot to the init's hello {record['bootMilliseconds']} ms); the first run, which made it, took {first:.2f} s")


if __name__ == "__main__":
    main()
