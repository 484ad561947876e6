#!/usr/bin/env python3
"""What `ksand kernel build` costs and what its kernel gains: clean build, cached re-run, incremental rebuild after
a one-file patch change, and the kernel's boot time to init against Debian's distro kernel under TCG.

Usage: bench/kernel-build.py [--ksand PATH] [--runs N] [--workdir DIR] [--skip-build]

Works on a scratch copy of the project (kernel-config/, patches/, ksand.toml) in --workdir with its own cache
(KSAND_CACHE_DIR=<workdir>/cache), so the clean build includes extracting the source and nothing of the user's
cache is reused or changed. Prints a markdown summary for BENCHMARKS.md.
"""
import argparse, glob, json, os, re, shutil, statistics, subprocess, sys, time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MD_PATCH = "0001-md-don-t-sleep-for-a-second-in-the-reboot-notifier.patch"


def run(argv, env, capture=True):
    start = time.monotonic()
    # Run outside any project, so the repository's ksand.toml is not picked up by `ksand run`.
    done = subprocess.run(argv, stdin=subprocess.DEVNULL, cwd="/", stdout=subprocess.PIPE if capture else None,
                          stderr=subprocess.PIPE if capture else None, env=env)
    elapsed = time.monotonic() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed with {done.returncode}:\n{(done.stderr or b'').decode(errors='replace')[-3000:]}")
    return elapsed, (done.stdout or b"").decode()


def scratch_project(workdir):
    project = os.path.join(workdir, "project")
    shutil.rmtree(project, ignore_errors=True)
    shutil.copytree(os.path.join(REPO, "kernel-config"), os.path.join(project, "kernel-config"))
    shutil.copytree(os.path.join(REPO, "patches"), os.path.join(project, "patches"))
    shutil.copy(os.path.join(REPO, "ksand.toml"), project)
    return project


def manifest_of(bzimage):
    with open(os.path.join(os.path.dirname(bzimage), "manifest.json")) as f:
        return json.load(f)


def edit_md_patch(project):
    """Adds one comment line to the md patch's second hunk: the patch still touches only drivers/md/md.c. The line is
    unique to this run, so a workdir reused with --skip-build still rebuilds instead of finding it in the cache."""
    path = os.path.join(project, "patches", MD_PATCH)
    text = open(path).read()
    text = text.replace("@@ -9710,21 +9709,11 @@", "@@ -9710,21 +9709,12 @@", 1)
    text = text.replace(" \treturn NOTIFY_DONE;\n", f"+\t/* Writes are stopped; nothing needs to wait before the power-off ({time.time_ns()}). */\n \treturn NOTIFY_DONE;\n", 1)
    open(path, "w").write(text)


def kernel_phase_ms(ksand, env, kernel, report):
    argv = [ksand, "run", "--cold", "--accel", "tcg", "--json", report] + (["--kernel", kernel] if kernel else []) + ["--", "true"]
    seconds, _ = run(argv, env)
    with open(report) as f:
        phases = json.load(f)["phases"]
    return phases["kernel"] * 1000, seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ksand", default=os.path.join(REPO, ".build/release/ksand"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workdir", default="/tmp/ksand-kernel-bench")
    parser.add_argument("--skip-build", action="store_true", help="reuse the workdir's cache: no clean build")
    args = parser.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    env = dict(os.environ, KSAND_CACHE_DIR=os.path.join(args.workdir, "cache"))
    if not args.skip_build:
        shutil.rmtree(env["KSAND_CACHE_DIR"], ignore_errors=True)
    project = scratch_project(args.workdir)
    build = [args.ksand, "kernel", "build", "--print-path", "--project", os.path.join(project, "ksand.toml")]

    clean_seconds, out = run(build, env)
    bzimage = out.strip()
    manifest = manifest_of(bzimage)
    print(f"clean build: {clean_seconds:.1f} s wall (configure incl. extraction {manifest['timings']['configureSeconds']:.1f} s, "
          f"make {manifest['timings']['buildSeconds']:.1f} s, {manifest['timings']['makeSteps']} steps, -j{manifest['timings']['jobs']})", file=sys.stderr)

    cached = [run(build, env)[0] for _ in range(args.runs)]

    edit_md_patch(project)
    incremental_seconds, out = run(build, env)
    log = os.path.join(manifest_of(out.strip())["buildDirectory"], "build.log")
    compiled = sorted(set(re.findall(r"^  CC\s+(\S+)", open(log).read(), re.M)))

    kernel_ms, distro_ms, kernel_total, distro_total = [], [], [], []
    report = os.path.join(args.workdir, "run.json")
    kernel_phase_ms(args.ksand, env, bzimage, report)  # warm-up: initramfs and unpacked kernel into the cache
    kernel_phase_ms(args.ksand, env, None, report)
    for round_number in range(args.runs):
        ms, total = kernel_phase_ms(args.ksand, env, bzimage, report)
        kernel_ms.append(ms); kernel_total.append(total)
        ms, total = kernel_phase_ms(args.ksand, env, None, report)
        distro_ms.append(ms); distro_total.append(total)
        print(f"round {round_number + 1}: sandbox kernel {kernel_ms[-1]:.0f} ms, distro {distro_ms[-1]:.0f} ms", file=sys.stderr)

    k, d = statistics.median(kernel_ms), statistics.median(distro_ms)
    print(f"| measure | value |\n|---|---|")
    print(f"| kernel | {manifest['kernelRelease']}, {manifest['config']['symbolCount']} symbols set, bzImage {manifest['bzImage']['size'] / 1048576:.2f} MiB |")
    print(f"| clean build (extract, patch, configure, make -j{manifest['timings']['jobs']} bzImage) | {clean_seconds:.0f} s "
          f"(configure {manifest['timings']['configureSeconds']:.0f} s, make {manifest['timings']['buildSeconds']:.0f} s) |")
    print(f"| cached re-run, median of {args.runs} | {statistics.median(cached) * 1000:.0f} ms (max {max(cached) * 1000:.0f} ms) |")
    print(f"| rebuild after editing the md patch | {incremental_seconds:.1f} s; compiled: {', '.join(compiled)} |")
    print(f"| kernel phase (kernel start → init), TCG, median of {args.runs} | sandbox {k:.0f} ms, distro {d:.0f} ms: **{k / d:.2f}** |")
    print(f"| whole `ksand run -- true`, median | sandbox {statistics.median(kernel_total):.2f} s, distro {statistics.median(distro_total):.2f} s |")


if __name__ == "__main__":
    main()
