#!/usr/bin/env python3
"""What content hashing costs, for two revisions of ksand: (a) the SHA-256 of the kernel source tarball, the call
SourceTree makes to identify it; (b) the initramfs cache key for the guest init and the distro kernel's modules, what
every `ksand run` computes (SandboxPreparer.buildInitramfs on a cache hit: read the init and the module closure, hash
them, find the cached archive).

Usage: bench/hashing.py [--before REV] [--after REV] [--runs N] [--workdir DIR] [--tarball PATH] [--kernel PATH]
                        [--init PATH]

  --before, --after  git revisions of this repository (default: 2ef0231, the hashing of its own, and HEAD)
  --runs N           timed rounds (default: 7); one untimed warm-up round comes first
  --workdir DIR      where the checkouts, harnesses and caches go (default: /tmp/ksand-bench-hashing)
  --tarball PATH     default: /usr/src/linux-source-6.1.tar.xz
  --kernel PATH      default: the newest /boot/vmlinuz-* whose modules are under /lib/modules
  --init PATH        the guest init to pack (default: ksand-init built in release from the --after checkout)

Each revision is exported (git archive) to DIR/<commit>/ksand. Beside it a harness package, written by this script,
depends on it by path and is built in the debug and in the release configuration. Rounds are interleaved: each round
runs every revision and configuration once, in an order that rotates from round to round, so load from other work on
the machine falls on all alike. Times are measured inside the harness (ContinuousClock around the call only); the
script prints medians and after/before ratios as markdown, and fails if the two revisions' digests differ.
"""
import argparse, glob, os, shutil, statistics, subprocess, sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

HARNESS_PACKAGE = """// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "hashing-harness",
    dependencies: [.package(path: "../ksand")],
    targets: [
        .executableTarget(
            name: "harness",
            dependencies: [.product(name: "Sandbox", package: "ksand")],
            swiftSettings: [{defines}]
        ),
    ]
)
"""

# ContentHash is not a product; it is importable as a module that the Sandbox product's targets depend on.
HARNESS_MAIN = """import ContentHash
import Foundation
import Sandbox

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

let arguments = CommandLine.arguments
do {
    switch arguments[1] {
    case "tarball":
        var digest = ""
        let elapsed = try ContinuousClock().measure {
            #if KSAND_CONTENT_HASHER
            digest = try ContentHasher.hex(ofFileAt: arguments[2])
            #else
            guard let hex = SHA256.hex(ofFileAt: arguments[2]) else { throw CocoaError(.fileReadUnknown) }
            digest = hex
            #endif
        }
        print(seconds(elapsed), digest)
    case "initramfs":
        let kernel = try KernelImage.open(arguments[2])
        let preparer = SandboxPreparer(cache: CacheDirectory(path: arguments[4]))
        var path = ""
        let elapsed = try ContinuousClock().measure {
            path = try preparer.buildInitramfs(kernel: kernel, initBinary: arguments[3])
        }
        let key = (path as NSString).lastPathComponent.split(separator: ".").first.map(String.init) ?? path
        print(seconds(elapsed), key)
    default:
        fatalError("usage: harness tarball PATH | harness initramfs KERNEL INIT CACHE")
    }
} catch {
    FileHandle.standardError.write(Data("harness: \\(error)\\n".utf8))
    exit(1)
}
"""

CONFIGURATIONS = ["debug", "release"]


def run(argv, cwd=None):
    done = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed with {done.returncode}:\n{(done.stdout + done.stderr).decode(errors='replace')[-4000:]}")
    return done.stdout.decode()


def export(revision, workdir):
    """The revision's tree in workdir/<commit>/ksand, with a harness package beside it."""
    commit = run(["git", "-C", REPO, "rev-parse", "--verify", revision + "^{commit}"]).strip()
    root = os.path.join(workdir, commit[:12])
    source = os.path.join(root, "ksand")
    if not os.path.exists(os.path.join(source, "Package.swift")):
        shutil.rmtree(source, ignore_errors=True)
        os.makedirs(source)
        archive = subprocess.Popen(["git", "-C", REPO, "archive", commit], stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", source], stdin=archive.stdout, check=True)
        if archive.wait() != 0:
            sys.exit(f"git archive {commit} failed")
    new_api = os.path.exists(os.path.join(source, "Sources/ContentHash/ContentHasher.swift"))
    harness = os.path.join(root, "harness")
    os.makedirs(os.path.join(harness, "Sources/harness"), exist_ok=True)
    with open(os.path.join(harness, "Package.swift"), "w") as f:
        f.write(HARNESS_PACKAGE.replace("{defines}", '.define("KSAND_CONTENT_HASHER")' if new_api else ""))
    with open(os.path.join(harness, "Sources/harness/main.swift"), "w") as f:
        f.write(HARNESS_MAIN)
    return {"revision": revision, "commit": commit, "root": root, "source": source, "harness": harness}


def build_harness(checkout, configuration):
    scratch = os.path.join(checkout["harness"], ".build-" + configuration)
    print(f"building the harness for {checkout['commit'][:12]} ({configuration})", file=sys.stderr)
    run(["swift", "build", "-c", configuration, "--scratch-path", scratch], cwd=checkout["harness"])
    return os.path.join(scratch, configuration, "harness")


def default_kernel():
    kernels = [k for k in glob.glob("/boot/vmlinuz-*") if os.path.isdir("/lib/modules/" + k[len("/boot/vmlinuz-"):])]
    if not kernels:
        sys.exit("no /boot/vmlinuz-* with modules under /lib/modules: install linux-image-amd64, or pass --kernel")
    return max(kernels, key=os.path.getmtime)


def measure(binary, arguments):
    seconds, digest = run([binary] + arguments).split()
    return float(seconds), digest


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default="2ef0231")
    parser.add_argument("--after", default="HEAD")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--workdir", default="/tmp/ksand-bench-hashing")
    parser.add_argument("--tarball", default="/usr/src/linux-source-6.1.tar.xz")
    parser.add_argument("--kernel")
    parser.add_argument("--init")
    args = parser.parse_args()
    if not os.path.isfile(args.tarball):
        sys.exit(f"{args.tarball}: missing; install it with apt-get install linux-source-6.1, or pass --tarball")
    kernel = args.kernel or default_kernel()
    checkouts = [export(args.before, args.workdir), export(args.after, args.workdir)]
    init = args.init
    if not init:
        print(f"building ksand-init (release) from {checkouts[1]['commit'][:12]}", file=sys.stderr)
        scratch = os.path.join(checkouts[1]["root"], ".build-init")
        run(["swift", "build", "-c", "release", "--product", "ksand-init", "--scratch-path", scratch], cwd=checkouts[1]["source"])
        init = os.path.join(scratch, "release", "ksand-init")

    cells = []  # (checkout index, configuration, binary)
    for index, checkout in enumerate(checkouts):
        for configuration in CONFIGURATIONS:
            cells.append((index, configuration, build_harness(checkout, configuration)))
    # Each cell has its own initramfs cache, filled by the warm-up round, so every timed run is a cache hit.
    def work(cell):
        index, configuration, binary = cell
        cache = os.path.join(checkouts[index]["root"], "cache-" + configuration)
        return {"tarball": [binary, "tarball", args.tarball], "initramfs": [binary, "initramfs", kernel, init, cache]}

    times = {(cell[0], cell[1], what): [] for cell in cells for what in ["tarball", "initramfs"]}
    digests = {}
    for round_number in range(args.runs + 1):
        order = cells[round_number % len(cells):] + cells[:round_number % len(cells)]
        for cell in order:
            for what, argv in work(cell).items():
                seconds, digest = measure(argv[0], argv[1:])
                digests.setdefault(what, set()).add(digest)
                if round_number > 0:
                    times[(cell[0], cell[1], what)].append(seconds)
        print(f"round {round_number}{' (warm-up)' if round_number == 0 else ''} done", file=sys.stderr)

    for what, seen in digests.items():
        if len(seen) != 1:
            sys.exit(f"{what}: the revisions disagree: {sorted(seen)}")

    names = [f"`{c['revision']}` ({c['commit'][:7]})" for c in checkouts]
    print(f"tarball: {args.tarball} ({os.path.getsize(args.tarball) / 2**20:.0f} MiB), sha256 {digests['tarball'].pop()}")
    print(f"initramfs: {kernel}, init {init} ({os.path.getsize(init) / 2**20:.1f} MiB), key {digests['initramfs'].pop()}")
    print(f"{args.runs} rounds, medians (min–max), seconds; the same digests from both revisions\n")
    print(f"| what | configuration | before {names[0]} | after {names[1]} | after / before |")
    print("|---|---|---|---|---|")
    for what, label in [("tarball", "SHA-256 of the tarball"), ("initramfs", "initramfs cache key (cache hit)")]:
        for configuration in CONFIGURATIONS:
            before, after = times[(0, configuration, what)], times[(1, configuration, what)]
            cell = lambda xs: f"{statistics.median(xs):.3f} ({min(xs):.3f}–{max(xs):.3f})"
            print(f"| {label} | {configuration} | {cell(before)} | {cell(after)} | "
                  f"{statistics.median(after) / statistics.median(before):.2f} |")


if __name__ == "__main__":
    main()
