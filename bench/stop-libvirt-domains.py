#!/usr/bin/env python3
"""Stopping a sandbox that is a libvirt domain: `ksand stop` against `virsh shutdown`, then `virsh destroy` after
10 s (libvirt's own stop: the ACPI power button, and past a grace of 10 s, SIGTERM to QEMU), on the same guests, in
one run, on qemu:///system.

Guests (each a detached `ksand run --backend libvirt --connect qemu:///system --rw DIR --grace 60`; the command
installs its SIGTERM behaviour, then prints "ready"; the guest's init sends it SIGTERM when the power button is
pressed and gives it 60 s):
  writer   on SIGTERM, writes 150 chunks of 64 KiB into DIR, one per 100 ms (15 s of flushing), then exits
  spinner  ignores SIGTERM and spins on the CPU with no I/O (a stuck guest)
  idle     ignores SIGTERM and sleeps

Measured per stop: seconds from the request until the domain is gone from `virsh list`, which step ended it, and
the bytes the writer had not written. ksand: `ksand stop NAME --stall 1`.

libvirtd and virtlogd are started with ci/libvirt-daemons.sh when they do not run (and stopped at the end).

Usage: bench/stop-libvirt-domains.py [--ksand PATH] [--rounds N]
"""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
URI = "qemu:///system"
CHUNK = 64 * 1024
GUESTS = {"writer": (150, "flush"), "spinner": (0, "spin"), "idle": (0, "idle")}
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


def ksand(args, env, *arguments, check=True):
    result = subprocess.run([args.ksand, *arguments], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and result.returncode != 0:
        sys.exit(f"bench/stop-libvirt-domains: ksand {' '.join(arguments)} exited {result.returncode}:\n{result.stderr[-2000:]}")
    return result


def running_uuids():
    listed = subprocess.run(["virsh", "-c", URI, "list", "--uuid"], stdout=subprocess.PIPE, text=True, check=True)
    return {line.strip() for line in listed.stdout.splitlines() if line.strip()}


def start(args, env, name, directory):
    chunks, mode = GUESTS[name]
    path = os.path.join(directory, name + ".out")
    ksand(args, env, "run", "--detach", "--name", name, "--accel", args.accel, "--backend", "libvirt", "--connect", URI,
          "--rw", directory, "--grace", "60", "--", "python3", "-c", PROGRAM, path, str(chunks), mode)
    state = os.path.join(env["KSAND_RUNTIME_DIR"], "sandboxes", name)
    deadline = time.monotonic() + 60
    while open(os.path.join(state, "stdout")).read() != "ready\n":
        if time.monotonic() > deadline:
            sys.exit(f"bench/stop-libvirt-domains: {name} never said ready")
        time.sleep(0.05)
    listing = json.loads(ksand(args, env, "ps", "--json").stdout)
    uuid = next(entry["domainUUID"] for entry in listing if entry["name"] == name)
    return uuid, path, chunks * CHUNK


def wait_gone(uuid, began, limit=120):
    while uuid in running_uuids():
        if time.monotonic() - began > limit:
            sys.exit(f"bench/stop-libvirt-domains: domain {uuid} still runs after {limit} s")
        time.sleep(0.05)
    return time.monotonic() - began


def stop_with_ksand(args, env, name, uuid):
    began = time.monotonic()
    result = ksand(args, env, "stop", name, "--stall", "1")
    seconds = wait_gone(uuid, began)
    summary = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
    step = "powered off" if "the guest powered off" in summary else "SIGKILL" if "SIGKILL" in summary else "SIGTERM" if "SIGTERM" in summary else summary
    return seconds, step


def stop_with_virsh(args, env, name, uuid):
    began = time.monotonic()
    subprocess.run(["virsh", "-c", URI, "shutdown", uuid], stdout=subprocess.DEVNULL, check=True)
    step = "powered off"
    while uuid in running_uuids():
        if time.monotonic() - began >= 10:
            subprocess.run(["virsh", "-c", URI, "destroy", uuid], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            step = "destroyed"
            break
        time.sleep(0.05)
    seconds = wait_gone(uuid, began)
    # The supervising ksand writes its result once the domain is gone; then its entry is removed.
    deadline = time.monotonic() + 30
    while ksand(args, env, "stop", name, check=False).returncode != 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    return seconds, step


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ksand", default=os.path.join(REPO, ".build/debug/ksand"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--accel", default="tcg")
    args = parser.parse_args()
    daemons = os.path.join(REPO, "ci/libvirt-daemons.sh")
    subprocess.run([daemons, "start"], check=True, stdout=sys.stderr)
    runtime = tempfile.mkdtemp(prefix="ksand-bench-stop-")
    shares = tempfile.mkdtemp(prefix="ksand-bench-share-")
    env = dict(os.environ, KSAND_RUNTIME_DIR=runtime)
    results = {(name, rule): [] for name in GUESTS for rule in ("ksand", "virsh")}
    try:
        print(f"ksand: {args.ksand}; accelerator {args.accel}; {args.rounds} rounds; load average {os.getloadavg()[0]:.2f} at the start", file=sys.stderr)
        for round_number in range(args.rounds):
            for name in GUESTS:
                for rule in (("ksand", "virsh") if round_number % 2 == 0 else ("virsh", "ksand")):
                    uuid, path, complete = start(args, env, name, shares)
                    seconds, step = (stop_with_ksand if rule == "ksand" else stop_with_virsh)(args, env, name, uuid)
                    written = os.path.getsize(path) if os.path.exists(path) else 0
                    lost = complete - written if complete else 0
                    results[(name, rule)].append((seconds, lost, step))
                    print(f"round {round_number + 1} {name:8} {rule:5}: {seconds:6.2f} s, {step}, lost {lost // 1024} KiB", file=sys.stderr)
                    if os.path.exists(path):
                        os.unlink(path)
        print(f"load average {os.getloadavg()[0]:.2f} at the end", file=sys.stderr)
    finally:
        subprocess.run([args.ksand, "stop", "--all"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(runtime, ignore_errors=True)
        shutil.rmtree(shares, ignore_errors=True)
        subprocess.run([daemons, "stop"], stdout=sys.stderr)
    print(f"| guest | stopped by | time to stop (median of {args.rounds}) | ended by | data lost (median) |")
    print("|---|---|---:|---|---:|")
    for name in GUESTS:
        for rule, label in (("ksand", "`ksand stop`"), ("virsh", "`virsh shutdown`, `virsh destroy` at 10 s")):
            runs = results[(name, rule)]
            seconds = statistics.median(r[0] for r in runs)
            lost = statistics.median(r[1] for r in runs)
            steps = "/".join(sorted(set(r[2] for r in runs)))
            size = f"{lost / 1024:.0f} KiB of {GUESTS[name][0] * CHUNK // 1024} KiB" if GUESTS[name][0] else "-"
            print(f"| {name} | {label} | {seconds:.2f} s | {steps} | {size} |")


if __name__ == "__main__":
    main()
