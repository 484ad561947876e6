#!/usr/bin/env python3
"""`ksand run -- true` on each backend: direct QEMU, libvirt's embedded driver, libvirt's system daemon.

Usage: bench/backends.py [--ksand PATH] [--rounds N] [--accel tcg|kvm|auto] [--no-system]

Each round runs every backend once, in turn, so load that comes and goes falls on all of them; prints the median
wall time and phases (from `--json`) of each, and each libvirt backend's ratio to direct QEMU. The embedded driver
gets a root of its own under /tmp (removed afterwards). For qemu:///system, ci/libvirt-daemons.sh starts virtlogd
and libvirtd if they do not run, and stops what it started at the end; --no-system leaves that backend out.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PHASES = ["vmm", "kernel", "init", "command", "shutdown", "teardown", "total"]


def run_once(ksand, accel, backend_arguments, json_path):
    started = time.monotonic()
    result = subprocess.run([ksand, "run", "--accel", accel, *(["--cold"] if not backend_arguments else []), *backend_arguments, "--json", json_path, "--", "true"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - started
    if result.returncode != 0:
        sys.exit(f"bench/backends: ksand run {' '.join(backend_arguments)} exited {result.returncode}:\n{result.stderr[-2000:]}")
    with open(json_path) as file:
        phases = json.load(file)["phases"]
    return wall, phases


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ksand", default=os.path.join(REPO, ".build/debug/ksand"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--accel", default="tcg")
    parser.add_argument("--no-system", action="store_true")
    options = parser.parse_args()

    work = tempfile.mkdtemp(prefix="ksand-bench-backends-")
    embed_root = os.path.join(work, "embed")
    backends = [("direct QEMU", []), ("libvirt embed", ["--backend", "libvirt", "--connect", f"qemu:///embed?root={embed_root}"])]
    daemons = os.path.join(REPO, "ci/libvirt-daemons.sh")
    if not options.no_system:
        subprocess.run([daemons, "start"], check=True)
        backends.append(("libvirt system", ["--backend", "libvirt", "--connect", "qemu:///system"]))
    print(f"ksand: {options.ksand}; accelerator {options.accel}; {options.rounds} rounds; load average {os.getloadavg()[0]:.2f} at the start\n")
    samples = {name: [] for name, _ in backends}
    try:
        # One unmeasured run each first: the embedded root's setup and the first connection are not a run's cost.
        for name, arguments in backends:
            run_once(options.ksand, options.accel, arguments, os.path.join(work, "warm.json"))
        for round_number in range(options.rounds):
            for name, arguments in backends:
                samples[name].append(run_once(options.ksand, options.accel, arguments, os.path.join(work, f"{round_number}.json")))
    finally:
        if not options.no_system:
            subprocess.run([daemons, "stop"])
        shutil.rmtree(work, ignore_errors=True)

    print("| backend | wall s | " + " | ".join(f"{phase} ms" for phase in PHASES) + " |")
    print("|---|---:|" + "---:|" * len(PHASES))
    medians = {}
    for name, _ in backends:
        wall = statistics.median(sample[0] for sample in samples[name])
        phases = {phase: statistics.median(sample[1][phase] * 1000 for sample in samples[name] if phase in sample[1]) for phase in PHASES}
        medians[name] = (wall, phases)
        print(f"| {name} | {wall:.2f} | " + " | ".join(f"{phases[phase]:.0f}" for phase in PHASES) + " |")
    direct_wall = medians["direct QEMU"][0]
    print()
    for name, (wall, phases) in medians.items():
        if name != "direct QEMU":
            print(f"{name} / direct QEMU: wall {wall / direct_wall:.2f}, "
                  f"teardown +{phases['teardown'] - medians['direct QEMU'][1]['teardown']:.0f} ms, "
                  f"vmm +{phases['vmm'] - medians['direct QEMU'][1]['vmm']:.0f} ms")
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
