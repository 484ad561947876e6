#!/usr/bin/env python3
"""What `ksand validate` costs and what it can see, on Debian's 6.1 tree under the accelerator the host gives.

Usage: bench/validate.py [--ksand PATH] [--parts series,bisect,detect] [--trials N] [--deltas 0,30,60,100,300]

  series  the 4-patch fixture series (Tests/IntegrationTests/Fixtures/validate/four): wall time cold (its four
          prefix kernels removed from the cache first; the base stays) and cached (a second run right after)
  bisect  the 8-patch fixture history (one 300 ms initcall in patch 5): builds and wall time of `--bisect` and of
          validating every patch, each from a cold cache for the series' prefixes
  detect  for each delta D, a one-patch series adding an initcall that sleeps D ms (D = 0 only changes a comment:
          the false-positive case), validated --trials times with the default statistics at --repeat 5; prints
          how often it was called regressed, the measured boot shift and the runs it took

Removing a prefix's kernel deletes its artifact directory from ksand's cache (the base and the build directory
stay, so a cold prefix is an incremental build). Prints markdown tables; raw reports go to /tmp/ksand-bench-validate.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(REPO, "Tests/IntegrationTests/Fixtures/validate")
WORK = "/tmp/ksand-bench-validate"
MD_COMMAND = "echo md0 > /sys/module/md_mod/parameters/new_array"
IDENTITY = {"GIT_AUTHOR_NAME": "Ada Validator", "GIT_AUTHOR_EMAIL": "ada@example.org", "GIT_COMMITTER_NAME": "Ada Validator",
            "GIT_COMMITTER_EMAIL": "ada@example.org", "GIT_AUTHOR_DATE": "2026-11-30T12:00:00Z", "GIT_COMMITTER_DATE": "2026-11-30T12:00:00Z"}
FILES = ["drivers/md/md.c", "kernel/reboot.c", "init/main.c", "kernel/panic.c", "kernel/exit.c", "kernel/sys.c", "kernel/fork.c", "kernel/signal.c"]


def pristine_source():
    cache = os.environ.get("KSAND_CACHE_DIR", os.path.expanduser("~/.cache/ksand"))
    root = os.path.join(cache, "kernel/source")
    for name in sorted(os.listdir(root)):
        tree = os.path.join(root, name, "tree")
        if ".tmp" not in name and os.path.exists(os.path.join(tree, "Makefile")):
            return tree
    sys.exit("bench/validate: no extracted source in the cache; run `ksand kernel build` once first")


def git(repository, *arguments):
    subprocess.run(["git", "-C", repository, *arguments], check=True, env={**os.environ, **IDENTITY}, stdout=subprocess.DEVNULL)


def history(name):
    """A git history of the fixture files at Debian's 6.1 versions, tagged `base`."""
    repository = os.path.join(WORK, name)
    shutil.rmtree(repository, ignore_errors=True)
    source = pristine_source()
    for file in FILES:
        os.makedirs(os.path.join(repository, os.path.dirname(file)), exist_ok=True)
        shutil.copy(os.path.join(source, file), os.path.join(repository, file))
    git(repository, "init", "-q")
    git(repository, "add", "-A")
    git(repository, "commit", "-q", "-m", "Debian 6.1 files the validation fixtures touch")
    git(repository, "tag", "base")
    return repository


def validate(ksand, arguments, name):
    """Runs `ksand validate ARGUMENTS --json`; returns (report, wall seconds)."""
    path = os.path.join(WORK, name + ".json")
    started = time.monotonic()
    result = subprocess.run([ksand, "validate", *arguments, "--accel", os.environ.get("KSAND_BENCH_ACCEL", "auto"), "--json", path],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seconds = time.monotonic() - started
    if result.returncode not in (0, 1):
        sys.exit(f"bench/validate: ksand validate {' '.join(arguments)} exited {result.returncode}:\n{result.stderr[-3000:]}")
    with open(path) as file:
        return json.load(file), seconds


def forget_prefixes(report):
    """Deletes the cached kernels of the report's patches (never the base's)."""
    base = (report.get("base") or {}).get("build", {}).get("bzImage")
    for patch in report["patches"]:
        image = patch["build"].get("bzImage")
        if image and image != base:
            shutil.rmtree(os.path.dirname(image), ignore_errors=True)


def part_series(ksand):
    arguments = ["--series", os.path.join(FIXTURES, "four/series"), "--command", MD_COMMAND, "--user", "0"]
    first, _ = validate(ksand, arguments, "series-warm-up")
    forget_prefixes(first)
    cold, cold_seconds = validate(ksand, arguments, "series-cold")
    cached, cached_seconds = validate(ksand, arguments, "series-cached")
    print("| 4-patch series | wall s | make runs | from the cache | verdicts |")
    print("|---|---:|---:|---:|---|")
    for label, report, seconds in (("cold (prefixes not cached)", cold, cold_seconds), ("cached", cached, cached_seconds)):
        verdicts = " / ".join(p["verdict"] for p in report["patches"])
        print(f"| {label} | {seconds:.0f} | {report['builds']} | {report['cachedBuilds']} | {verdicts} |")
    print(f"\ncached / cold wall time: {cached_seconds / cold_seconds:.2f}\n")


def part_bisect(ksand):
    repository = history("eight")
    patches = sorted(os.path.join(FIXTURES, "eight", name) for name in os.listdir(os.path.join(FIXTURES, "eight")))
    git(repository, "am", "-q", "--committer-date-is-author-date", *patches)
    arguments = ["--git", repository, "base..HEAD", "--command", "true", "--for", "regressed"]
    rows = []
    every, _ = validate(ksand, arguments, "eight-warm-up")
    for mode, extra in (("every patch", []), ("--bisect", ["--bisect"])):
        forget_prefixes(every)
        report, seconds = validate(ksand, arguments + extra, "eight-" + mode.strip("-").replace(" ", "-"))
        first = report.get("bisection", {}).get("firstBad") if report.get("bisection") else report.get("firstBadByVerdict", {}).get("regressed")
        rows.append((mode, seconds, report["builds"], report["cachedBuilds"], first))
    print("| 8-patch series, 300 ms initcall in patch 5 | wall s | make runs | from the cache | first bad |")
    print("|---|---:|---:|---:|---:|")
    for mode, seconds, builds, cached, first in rows:
        print(f"| {mode} | {seconds:.0f} | {builds} | {cached} | {first} |")
    print(f"\n--bisect / every patch: wall {rows[1][1] / rows[0][1]:.2f}, make runs {rows[1][2]}/{rows[0][2]}\n")


def part_detect(ksand, deltas, trials):
    repository = history("detect")
    for delta in deltas:
        git(repository, "checkout", "-q", "-B", f"d{delta}", "base")
        path = os.path.join(repository, "init/main.c")
        with open(path) as file:
            text = file.read()
        anchor = "static int __init set_reset_devices(char *str)"
        if delta == 0:
            text = text.replace("#include <linux/delay.h>\n", "#include <linux/delay.h>\t/* msleep() */\n", 1)
        else:
            text = text.replace(anchor, f"static int __init sleep_at_boot(void)\n{{\n\tmsleep({delta});\n\treturn 0;\n}}\n"
                                         f"late_initcall(sleep_at_boot);\n\n{anchor}", 1)
        with open(path, "w") as file:
            file.write(text)
        git(repository, "commit", "-q", "-am", f"init: sleep {delta} ms at boot" if delta else "init: a comment only")
    print("| boot-time change | trials | called regressed | median measured shift ms | p (median) | runs per side (median) |")
    print("|---:|---:|---:|---:|---:|---:|")
    for delta in deltas:
        hits, shifts, runs, ps = 0, [], [], []
        for trial in range(trials):
            report, _ = validate(ksand, ["--git", repository, f"base..d{delta}", "--command", "true", "--for", "regressed", "--repeat", "5"],
                                 f"detect-{delta}-{trial}")
            patch = report["patches"][0]
            hits += "regressed" in patch["verdicts"]
            boot = next((t for t in patch["timing"] if t["phase"] == "boot"), None)
            if boot:
                shifts.append(boot["patchMedianMilliseconds"] - boot["parentMedianMilliseconds"])
                runs.append(boot["patchRuns"])
                ps.append(boot["pValue"])
        label = f"+{delta} ms" if delta else "none (comment only)"
        print(f"| {label} | {trials} | {hits}/{trials} | {statistics.median(shifts):.0f} | {statistics.median(ps):.3f} | "
              f"{statistics.median(runs):.0f} |", flush=True)
    print()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ksand", default=os.path.join(REPO, ".build/release/ksand"))
    parser.add_argument("--parts", default="series,bisect,detect")
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--deltas", default="0,30,60,100,300")
    options = parser.parse_args()
    if not os.access(options.ksand, os.X_OK):
        sys.exit(f"bench/validate: {options.ksand} is not an executable; build it (swift build -c release) or pass --ksand")
    os.makedirs(WORK, exist_ok=True)
    parts = options.parts.split(",")
    print(f"ksand: {options.ksand}; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f} at the start\n")
    if "series" in parts:
        part_series(options.ksand)
    if "bisect" in parts:
        part_bisect(options.ksand)
    if "detect" in parts:
        part_detect(options.ksand, [int(d) for d in options.deltas.split(",")], options.trials)


if __name__ == "__main__":
    main()
