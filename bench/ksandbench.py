"""What the bench scripts share: the repository's path, and running a command that must succeed."""
import os, subprocess, sys, time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(argv):
    """Runs argv in the repository; its wall time in seconds and its stdout. Exits with its stderr if it fails."""
    start = time.monotonic()
    done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    elapsed = time.monotonic() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed with {done.returncode}:\n{done.stderr.decode(errors='replace')[-3000:]}")
    return elapsed, done.stdout.decode()
