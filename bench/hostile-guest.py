#!/usr/bin/env python3
"""A hostile guest against ksand, and a killed ksand: what is left behind, how long it takes, how much memory.

1. Hostile inits (Tests/IntegrationTests/HostileInit/hostile-init.c, built with gcc -static, as KSAND_INIT) on the
   project's sandbox kernel under TCG: per case, the exit status, seconds until ksand exits and ksand's peak RSS
   (VmHWM), medians of --rounds runs. `console-flood` floods the console for --flood-seconds (the timeout).
2. `ksand run -- sleep 100` SIGKILLed 3 s after it started, --kills times: how many leave a QEMU behind (one still
   running 60 s after the kill) and how long the guest takes to go away. With --vng, the same for
   `vng --run BZIMAGE --disable-kvm -- sleep 100`, killed 3 s after its QEMU appeared, interleaved.

Usage: bench/hostile-guest.py [--ksand PATH] [--rounds N] [--kills N] [--flood-seconds S] [--vng PATH]
(run from the repository; the kernel must be built: `ksand kernel build`)
"""
import argparse, os, signal, statistics, subprocess, sys, tempfile, time, uuid

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE = os.path.join(REPO, "Tests/IntegrationTests/HostileInit/hostile-init.c")
CASES = [
    ("huge-length", []), ("unknown-kind", []), ("truncated", []), ("bad-exit", []), ("hello-flood", []),
    ("escape-failure", []),
    ("stdout-flood", ["--timeout", "6", "--stall", "1", "--max-wait", "3"]),
    ("exit-then-flood", ["--timeout", "10"]),
]


def processes_with(text):
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if text.encode() in f.read():
                    found.append(int(entry))
        except OSError:
            pass
    return found


def peak_rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def hostile_run(ksand, init, mode, options):
    marker = "ksand.bench=" + uuid.uuid4().hex[:8]
    argv = [ksand, "run", "--kernel", "built", "--accel", "tcg", "--append", "ksand.hostile=" + mode, "--append", marker,
            *options, "--", "true"]
    started = time.monotonic()
    process = subprocess.Popen(argv, cwd=REPO, env=dict(os.environ, KSAND_INIT=init), stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while process.poll() is None:
        peak = max(peak, peak_rss_kib(process.pid))
        time.sleep(0.05)
    seconds = time.monotonic() - started
    left = processes_with(marker)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    return process.returncode, seconds, peak, len(left)


def killed_run(argv, qemu_marker, kill_after_qemu):
    """Starts argv, SIGKILLs it 3 s in (or 3 s after its QEMU appeared); returns seconds until QEMU is gone, or None."""
    started = time.monotonic()
    process = subprocess.Popen(argv, cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    if kill_after_qemu:
        while not processes_with(qemu_marker) and time.monotonic() - started < 120:
            time.sleep(0.05)
        started = time.monotonic()
    time.sleep(max(0, 3 - (time.monotonic() - started)))
    qemu = processes_with(qemu_marker)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    killed = time.monotonic()
    while qemu and any(os.path.exists(f"/proc/{pid}") for pid in qemu) and time.monotonic() - killed < 60:
        time.sleep(0.05)
    left = [pid for pid in qemu if os.path.exists(f"/proc/{pid}")]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    return None if left or not qemu else time.monotonic() - killed


def report_kills(name, results):
    gone = [s for s in results if s is not None]
    line = f"{name}: {len(results) - len(gone)} of {len(results)} left a QEMU running 60 s after the kill"
    if gone:
        line += f"; the others were gone after median {statistics.median(gone):.2f}s (min {min(gone):.2f}, max {max(gone):.2f})"
    print(line)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ksand", default=os.path.join(REPO, ".build/release/ksand"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--flood-seconds", type=int, default=60)
    parser.add_argument("--vng", default=None)
    args = parser.parse_args()
    init = os.path.join(tempfile.mkdtemp(), "hostile-init")
    subprocess.run(["gcc", "-static", "-Os", "-o", init, SOURCE], check=True)

    print(f"hostile inits, sandbox kernel, tcg, {args.rounds} rounds (medians)")
    print(f"{'case':18} {'status':>6} {'seconds':>8} {'peak RSS MiB':>12} {'QEMU left':>9}")
    cases = CASES + [("console-flood", ["--timeout", str(args.flood_seconds), "--stall", "1", "--max-wait", "3"])]
    for mode, options in cases:
        runs = [hostile_run(args.ksand, init, mode, options) for _ in range(args.rounds)]
        statuses = sorted({r[0] for r in runs})
        print(f"{mode:18} {','.join(map(str, statuses)):>6} {statistics.median(r[1] for r in runs):8.2f} "
              f"{statistics.median(r[2] for r in runs) / 1024:12.1f} {sum(r[3] for r in runs):9}", flush=True)

    bzimage = subprocess.run([args.ksand, "kernel", "build"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True, check=True).stdout.split()[0]
    ksand_results, vng_results = [], []
    for _ in range(args.kills):
        marker = "ksand.bench=" + uuid.uuid4().hex[:8]
        ksand_results.append(killed_run([args.ksand, "run", "--kernel", "built", "--accel", "tcg", "--append", marker, "--",
                                         "sleep", "100"], marker, kill_after_qemu=False))
        if args.vng:
            marker = "ksand.bench=" + uuid.uuid4().hex[:8]
            vng_results.append(killed_run([args.vng, "--run", bzimage, "--disable-kvm", "--append", marker, "--", "sleep", "100"],
                                          marker, kill_after_qemu=True))
    report_kills("ksand run -- sleep 100, SIGKILLed 3 s in", ksand_results)
    if args.vng:
        report_kills("vng --run -- sleep 100, SIGKILLed 3 s after its QEMU started", vng_results)


if __name__ == "__main__":
    main()
