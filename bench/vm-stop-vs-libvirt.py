#!/usr/bin/env python3
"""Stopping a VM: `ksand stop NAME` (power button, then escalation once QEMU's I/O stalls) against the fixed rule
libvirt applies to a QEMU process (SIGTERM, poll every 200 ms, SIGKILL at 10 s), on the same guests, in one run.

Guests (detached sandboxes of the project's sandbox kernel under TCG, `--stall 1`):
  idle      sleeps; acts on the power-off request
  stubborn  ignores SIGTERM, with a 600 s grace in the init: never powers off by itself
  writer    writes 96 MiB into an --rw directory, 1 MiB per ~100 ms with fsync; on SIGTERM it finishes the file

Measured per stop: seconds from the stop's start until the QEMU process is gone, whether the guest powered off
(its console shows `ksand: power-off`), and MiB of the writer's file that never reached the host.

Usage: bench/vm-stop-vs-libvirt.py [--ksand PATH] [--rounds N]   (run from the repository; the kernel must be built)
"""
import argparse, json, os, signal, statistics, subprocess, sys, tempfile, time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WRITER_MIB = 96
WRITER = r"""
import os, signal, sys, time
path = sys.argv[1]
signal.signal(signal.SIGTERM, lambda *_: None)
with open(path + ".part", "wb") as f:
    for i in range(%d):
        f.write(bytes([i %% 256]) * (1 << 20)); f.flush(); os.fsync(f.fileno()); time.sleep(0.1)
os.rename(path + ".part", path)
""" % WRITER_MIB
GUESTS = {
    "idle": ([], ["sleep", "600"]),
    "stubborn": (["--grace", "600"], ["sh", "-c", "trap '' TERM; sleep 600"]),
    "writer": (["--grace", "600"], None),
}


def ksand(binary, runtime, *arguments, check=True):
    result = subprocess.run([binary, *arguments], cwd=REPO, env=dict(os.environ, KSAND_RUNTIME_DIR=runtime),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and result.returncode != 0:
        raise SystemExit(f"ksand {' '.join(arguments)} failed ({result.returncode}): {result.stderr}")
    return result


def start(binary, runtime, name, shared):
    options, command = GUESTS[name]
    if command is None:
        command = ["python3", "-c", WRITER, os.path.join(shared, "big")]
        options = options + ["--rw", shared]
    ksand(binary, runtime, "run", "--detach", "--name", name, "--kernel", "built", "--accel", "tcg", *options, "--", *command)
    with open(os.path.join(runtime, "sandboxes", name, "state.json")) as f:
        qemu = json.load(f)["qemu"]["pid"]
    if name == "writer":  # stop while it writes
        while not os.path.exists(os.path.join(shared, "big.part")) or os.path.getsize(os.path.join(shared, "big.part")) < 4 << 20:
            time.sleep(0.05)
    else:
        time.sleep(1)
    return qemu


def gone(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def wait_gone(pid, began, limit=120):
    while not gone(pid):
        if time.monotonic() - began > limit:
            raise SystemExit(f"QEMU {pid} still running after {limit} s")
        time.sleep(0.01)
    return time.monotonic() - began


def stop_with_ksand(binary, runtime, name, qemu):
    began = time.monotonic()
    stopper = subprocess.Popen([binary, "stop", name, "--stall", "1", "--keep"], cwd=REPO,
                               env=dict(os.environ, KSAND_RUNTIME_DIR=runtime), stderr=subprocess.PIPE, text=True)
    seconds = wait_gone(qemu, began)
    stopper.communicate()
    return seconds


def stop_like_libvirt(qemu):
    """virProcessKillPainfully on the QEMU process: SIGTERM, check every 200 ms, SIGKILL once 10 s have passed."""
    began = time.monotonic()
    os.kill(qemu, signal.SIGTERM)
    while not gone(qemu):
        if time.monotonic() - began >= 10:
            os.kill(qemu, signal.SIGKILL)
            break
        time.sleep(0.2)
    return wait_gone(qemu, began)


def settle(binary, runtime, name):
    """Waits for the supervisor to record the end, then reads what the guest did and removes the entry."""
    directory = os.path.join(runtime, "sandboxes", name)
    deadline = time.monotonic() + 30
    while not os.path.exists(os.path.join(directory, "result.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    with open(os.path.join(directory, "console.log"), errors="replace") as f:
        powered_off = "ksand: power-off" in f.read()
    ksand(binary, runtime, "stop", name, check=False)
    return powered_off


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ksand", default=os.path.join(REPO, ".build/release/ksand"))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results = {(name, rule): [] for name in GUESTS for rule in ("ksand", "libvirt")}
    with tempfile.TemporaryDirectory(prefix="ksb-", dir="/tmp") as runtime:
        shared = os.path.join(runtime, "shared")
        os.mkdir(shared)
        for round_number in range(args.rounds):
            for name in GUESTS:
                for rule in (("ksand", "libvirt") if round_number % 2 == 0 else ("libvirt", "ksand")):
                    for leftover in os.listdir(shared):
                        os.unlink(os.path.join(shared, leftover))
                    qemu = start(args.ksand, runtime, name, shared)
                    seconds = stop_with_ksand(args.ksand, runtime, name, qemu) if rule == "ksand" else stop_like_libvirt(qemu)
                    powered_off = settle(args.ksand, runtime, name)
                    lost = None
                    if name == "writer":
                        done, part = os.path.join(shared, "big"), os.path.join(shared, "big.part")
                        written = os.path.getsize(done) if os.path.exists(done) else os.path.getsize(part) if os.path.exists(part) else 0
                        lost = WRITER_MIB - (written >> 20)
                    results[(name, rule)].append((seconds, powered_off, lost))
                    print(f"round {round_number + 1} {name:8} {rule:7}: {seconds:6.2f} s, powered off: {powered_off}, "
                          f"lost: {lost if lost is not None else '-'} MiB", file=sys.stderr)
    print(f"| guest | rule | time to stop (median of {args.rounds}) | guest powered off | writer's file lost (median) |")
    print("|---|---|---:|---|---:|")
    for name in GUESTS:
        for rule in ("ksand", "libvirt"):
            runs = results[(name, rule)]
            seconds = statistics.median(r[0] for r in runs)
            powered = f"{sum(r[1] for r in runs)} of {len(runs)}"
            lost = f"{statistics.median(r[2] for r in runs):.0f} MiB of {WRITER_MIB}" if name == "writer" else "–"
            print(f"| {name} | {rule} | {seconds:.2f} s | {powered} | {lost} |")


if __name__ == "__main__":
    main()
