#!/usr/bin/env python3
"""Stopping a process: ksand's progress-aware reaper against the fixed rule libvirt uses (SIGTERM, poll every
200 ms, SIGKILL at 10 s), on the same children, in one run.

Children (each installs its SIGTERM behaviour, then says "ready"):
  writer       on SIGTERM, writes 60 chunks of 64 KiB, one per 100 ms (6 s of flushing), then exits
  long-writer  the same for 150 chunks (15 s): longer than libvirt's 10 s
  spinner      ignores SIGTERM and spins on the CPU with no I/O
  idle         ignores SIGTERM and sleeps

Measured per stop: seconds from the first signal until the child is gone (seen by this script's waitpid), and
bytes the writer had not written when it died. ksand: `ksand stop --pid PID --stall 1`.

Usage: bench/stop-vs-libvirt.py [--ksand PATH] [--rounds N]
"""
import argparse, os, signal, statistics, subprocess, sys, tempfile, time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHUNK = 64 * 1024
CHILDREN = {
    "writer": (60, "flush"),
    "long-writer": (150, "flush"),
    "spinner": (0, "spin"),
    "idle": (0, "idle"),
}
PROGRAM = r"""
import os, signal, sys, time
path, chunks, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def flush(*_):
    with open(path, "wb", buffering=0) as f:
        for _ in range(chunks):
            f.write(b"x" * %d)
            time.sleep(0.1)
    os._exit(0)
signal.signal(signal.SIGTERM, flush if mode == "flush" else signal.SIG_IGN)
print("ready", flush=True)
if mode == "spin":
    while True: pass
while True: time.sleep(1)
""" % CHUNK


def start(name, directory):
    chunks, mode = CHILDREN[name]
    path = os.path.join(directory, name + ".out")
    child = subprocess.Popen([sys.executable, "-c", PROGRAM, path, str(chunks), mode], stdout=subprocess.PIPE)
    assert child.stdout.readline().strip() == b"ready"
    return child, path, chunks * CHUNK


def wait_gone(child, began, limit=60):
    while child.poll() is None:
        if time.monotonic() - began > limit:
            child.kill()
            child.wait()
            raise SystemExit(f"child {child.pid} still running after {limit} s")
        time.sleep(0.01)
    return time.monotonic() - began


def stop_with_ksand(ksand, child):
    began = time.monotonic()
    stopper = subprocess.Popen([ksand, "stop", "--pid", str(child.pid), "--stall", "1"], stderr=subprocess.PIPE)
    seconds = wait_gone(child, began)
    _, err = stopper.communicate()
    step = err.decode().strip().rsplit("stopped by ", 1)[-1].split(" after")[0]
    return seconds, step


def stop_like_libvirt(child):
    """virProcessKillPainfully: SIGTERM, check every 200 ms, SIGKILL once 10 s have passed."""
    began = time.monotonic()
    os.kill(child.pid, signal.SIGTERM)
    step = "SIGTERM"
    while child.poll() is None:
        if time.monotonic() - began >= 10:
            os.kill(child.pid, signal.SIGKILL)
            step = "SIGKILL"
            break
        time.sleep(0.2)
    return wait_gone(child, began), step


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ksand", default=os.path.join(REPO, ".build/release/ksand"))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results = {(name, rule): [] for name in CHILDREN for rule in ("ksand", "libvirt")}
    with tempfile.TemporaryDirectory() as directory:
        for round_number in range(args.rounds):
            for name in CHILDREN:
                for rule in (("ksand", "libvirt") if round_number % 2 == 0 else ("libvirt", "ksand")):
                    child, path, complete = start(name, directory)
                    seconds, step = stop_with_ksand(args.ksand, child) if rule == "ksand" else stop_like_libvirt(child)
                    written = os.path.getsize(path) if os.path.exists(path) else 0
                    lost = complete - written if complete else 0
                    results[(name, rule)].append((seconds, lost, step))
                    print(f"round {round_number + 1} {name:11} {rule:7}: {seconds:6.2f} s, {step}, lost {lost} B", file=sys.stderr)
                    if os.path.exists(path):
                        os.unlink(path)
    print(f"| child | rule | time to stop (median of {args.rounds}) | ended by | data lost (median) |")
    print("|---|---|---:|---|---:|")
    for name in CHILDREN:
        for rule in ("ksand", "libvirt"):
            runs = results[(name, rule)]
            seconds = statistics.median(r[0] for r in runs)
            lost = statistics.median(r[1] for r in runs)
            steps = "/".join(sorted(set(r[2] for r in runs)))
            size = f"{lost / 1024:.0f} KiB of {CHILDREN[name][0] * CHUNK // 1024} KiB" if CHILDREN[name][0] else "-"
            print(f"| {name} | {rule} | {seconds:.2f} s | {steps} | {size} |")


if __name__ == "__main__":
    main()
