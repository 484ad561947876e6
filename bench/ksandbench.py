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


def series_patches():
    """The patches of patches/series, in order."""
    with open(os.path.join(REPO, "patches", "series")) as f:
        return [line.split()[0] for line in f if line.strip() and not line.lstrip().startswith("#")]


def kernel_for(ksand, patches, directory):
    """The bzImage of the series cut after `patches` (a series file of its own beside links to the patches)."""
    prefix = os.path.join(directory, f"prefix-{len(patches)}")
    os.makedirs(prefix, exist_ok=True)
    for name in patches:
        link = os.path.join(prefix, name)
        if not os.path.exists(link):
            os.symlink(os.path.join(REPO, "patches", name), link)
    with open(os.path.join(prefix, "series"), "w") as f:
        f.write("".join(name + "\n" for name in patches))
    return run([ksand, "kernel", "build", "--series", os.path.join(prefix, "series"), "--print-path"])[1].strip()
