#!/usr/bin/env python3
"""HTTP through a published port: `python3 -m http.server` in a detached sandbox (`ksand run --detach --publish`),
against the same server run directly on the host, under TCG.

Usage: bench/published-port.py [--ksand PATH] [--rounds N] [--requests N]

Each round measures both servers in turn (the first alternates): sequential HTTP/1.0 GETs of a 1 KiB file (one
connection each, as a smoke test's checks make them) as requests per second, and one GET of a 16 MiB file as MiB/s.
Prints medians and the sandbox/host ratios as markdown.
"""
import argparse, os, shutil, socket, statistics, subprocess, sys, tempfile, time

from ksandbench import REPO


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path):
    """The body of GET path from 127.0.0.1:port; raises when nothing (or not 200) answers."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
        chunks = []
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    response = b"".join(chunks)
    head, _, body = response.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.0 200"):
        raise OSError(f"unexpected reply: {head[:80]!r}")
    return body


def wait_ready(port, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            get(port, "/small")
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"nothing answered on 127.0.0.1:{port} within {seconds} s")


def measure(port, requests, small, large):
    start = time.monotonic()
    for _ in range(requests):
        if get(port, "/small") != small:
            sys.exit("the small file came back different")
    rate = requests / (time.monotonic() - start)
    start = time.monotonic()
    if get(port, "/large") != large:
        sys.exit("the large file came back different")
    bulk = len(large) / (1 << 20) / (time.monotonic() - start)
    return rate, bulk


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ksand", default=os.path.join(REPO, ".build/release/ksand"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    site = tempfile.mkdtemp(prefix="ksand-bench-site-")
    small, large = os.urandom(1024), os.urandom(16 << 20)
    for name, content in (("small", small), ("large", large)):
        with open(os.path.join(site, name), "wb") as f:
            f.write(content)
    runtime = tempfile.mkdtemp(prefix="ksand-bench-run-")
    environment = dict(os.environ, KSAND_RUNTIME_DIR=runtime)
    guest_port, host_port = free_port(), free_port()
    host = subprocess.Popen([sys.executable, "-m", "http.server", str(host_port), "--bind", "127.0.0.1"], cwd=site,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started = subprocess.run(
        [args.ksand, "run", "--detach", "--name", "bench", "--accel", "tcg", "--kernel", "built", "--cwd", site,
         "--publish", f"{guest_port}:8000", "--", "python3", "-m", "http.server", "8000"],
        cwd=REPO, env=environment, capture_output=True, text=True)
    try:
        if started.returncode != 0:
            sys.exit(f"ksand run --detach failed: {started.stderr}")
        wait_ready(guest_port)
        wait_ready(host_port)
        results = {"sandbox": [], "host": []}
        for round_number in range(args.rounds):
            order = ["sandbox", "host"] if round_number % 2 == 0 else ["host", "sandbox"]
            for kind in order:
                results[kind].append(measure(guest_port if kind == "sandbox" else host_port, args.requests, small, large))
            print(f"round {round_number + 1}: " + ", ".join(
                f"{kind} {results[kind][-1][0]:.0f} req/s {results[kind][-1][1]:.1f} MiB/s" for kind in results), file=sys.stderr)
    finally:
        subprocess.run([args.ksand, "stop", "bench"], cwd=REPO, env=environment, capture_output=True)
        host.terminate()
        host.wait()
        shutil.rmtree(site, ignore_errors=True)
        shutil.rmtree(runtime, ignore_errors=True)
    rate = {kind: statistics.median(r for r, _ in values) for kind, values in results.items()}
    bulk = {kind: statistics.median(b for _, b in values) for kind, values in results.items()}
    print(f"python3 -m http.server, {args.requests} sequential 1 KiB GETs and one 16 MiB GET per round, "
          f"{args.rounds} rounds, TCG\n")
    print("| server | requests/s (median) | 16 MiB GET, MiB/s (median) |")
    print("|---|---|---|")
    for kind in ("sandbox", "host"):
        print(f"| {kind} | {rate[kind]:.0f} | {bulk[kind]:.1f} |")
    print(f"\nsandbox/host: requests {rate['sandbox'] / rate['host']:.2f}×, bulk {bulk['sandbox'] / bulk['host']:.2f}×")


if __name__ == "__main__":
    main()
