#!/usr/bin/env bash
# How small ksand's sandbox kernel config is next to x86_64 defconfig and the config virtme-ng generates
# (`vng --kconfig`): symbol count (lines matching ^CONFIG_, i.e. symbols set to y, m or a value, as ksand counts
# them), built-in and module counts, bzImage size, and bzImage build wall time when built.
#
# Usage: bench/kernel-config-size.sh [--build] [--jobs N] [--artifact DIR] [--vng PATH] TREE OUTDIR
#
#   TREE      a clean kernel source tree (no .config in it), e.g. `ls -d ~/.cache/ksand/kernel/source/*/tree`.
#             It is only read: every config and build goes to OUTDIR through make O=.
#   OUTDIR    output: OUTDIR/defconfig, OUTDIR/vng and OUTDIR/tinyconfig64 (the x86_64 floor, config only) are
#             kbuild output directories.
#   --build   also build bzImage for defconfig and vng (nice -n 19 make -jN bzImage; 30-60 min each on 2 cores).
#             A bzImage already in OUTDIR is kept, with the wall time recorded when it was built.
#   --jobs N  make -j for --build (default: nproc).
#   --artifact DIR  the ksand kernel artifact to compare (a directory holding manifest.json, config, bzImage);
#             default: the newest under ${KSAND_CACHE_DIR:-~/.cache/ksand}/kernel/artifacts.
#   --vng PATH      the vng executable (default: vng on PATH). Install: python3 -m venv V && V/bin/pip install virtme-ng
#
# A config already in OUTDIR is reused, so that re-running never invalidates a build in progress or done;
# delete OUTDIR (or OUTDIR/<name>) to regenerate it. vng reads ~/.config/virtme-ng/kernel.config if present;
# the script warns, since that changes what is measured.
set -euo pipefail

usage() { sed -n '6,21p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
die() { echo "kernel-config-size: $*" >&2; exit 1; }

build=0; jobs=$(nproc); artifact=""; vng=""
while [ $# -gt 0 ]; do
    case "$1" in
        --build) build=1; shift ;;
        --jobs) jobs=${2:?--jobs needs a number}; shift 2 ;;
        --artifact) artifact=${2:?--artifact needs a directory}; shift 2 ;;
        --vng) vng=${2:?--vng needs a path}; shift 2 ;;
        -h|--help) usage 0 ;;
        --) shift; break ;;
        -*) echo "unknown option $1" >&2; usage ;;
        *) break ;;
    esac
done
[ $# -eq 2 ] || usage
tree=$(cd "$1" && pwd) || die "no such source tree: $1"
mkdir -p "$2"; out=$(cd "$2" && pwd)

[ -f "$tree/Makefile" ] && [ -f "$tree/Kconfig" ] || die "$tree is not a kernel source tree (no Makefile/Kconfig)"
[ ! -e "$tree/.config" ] || die "$tree has a .config; make O= needs a clean tree (use a pristine tree)"
case "$out/" in "$tree"/*) die "OUTDIR must be outside the source tree" ;; esac
marker="$out/.tree-check"
touch "$marker"
release=$(make -s -C "$tree" kernelversion 2>/dev/null) || die "cannot read the kernel version of $tree"

# ksand's artifact: newest manifest unless given.
if [ -z "$artifact" ]; then
    cache=${KSAND_CACHE_DIR:-$HOME/.cache/ksand}
    manifest=$(ls -t "$cache"/kernel/artifacts/*/manifest.json 2>/dev/null | head -n1) || true
    [ -n "$manifest" ] || die "no ksand kernel artifact under $cache/kernel/artifacts; run 'ksand kernel build' or pass --artifact"
    artifact=$(dirname "$manifest")
fi
[ -f "$artifact/manifest.json" ] && [ -f "$artifact/config" ] || die "$artifact has no manifest.json and config"

if [ -z "$vng" ]; then vng=$(command -v vng) || die "vng not found; pass --vng PATH (pip install virtme-ng)"; fi
[ -x "$vng" ] || die "$vng is not executable"
vng_version=$("$vng" --version 2>&1 | head -n1)
[ ! -e "$HOME/.config/virtme-ng/kernel.config" ] ||
    echo "warning: vng will add $HOME/.config/virtme-ng/kernel.config to its config" >&2

# x86_64 defconfig.
if [ ! -f "$out/defconfig/.config" ]; then
    echo "+ make -C $tree O=$out/defconfig defconfig" >&2
    make -s -C "$tree" O="$out/defconfig" defconfig >&2
fi

# The floor: tinyconfig is 32-bit on x86, so tinyconfig + CONFIG_64BIT=y is the smallest x86_64 config.
if [ ! -f "$out/tinyconfig64/.config" ]; then
    echo "+ make -C $tree O=$out/tinyconfig64 tinyconfig; echo CONFIG_64BIT=y >> .config; make olddefconfig" >&2
    make -s -C "$tree" O="$out/tinyconfig64" tinyconfig >&2
    echo CONFIG_64BIT=y >> "$out/tinyconfig64/.config"
    make -s -C "$tree" O="$out/tinyconfig64" olddefconfig >&2
fi

# virtme-ng's config. vng runs virtme-configkernel in the current directory; with O= it writes .config only to
# that directory (make -f TREE/Makefile O=DIR x86_64_defconfig, its fragments appended, make O=DIR olddefconfig).
if [ ! -f "$out/vng/.config" ]; then
    echo "+ (cd $tree && vng --kconfig O=$out/vng)   # $vng_version" >&2
    (cd "$tree" && PATH="$(dirname "$vng"):$PATH" "$vng" --kconfig O="$out/vng") >&2
    [ -f "$out/vng/.config" ] || die "vng --kconfig wrote no $out/vng/.config"
fi

# The source tree must be untouched: it may be shared and hard-linked.
changed=$(find "$tree" -newer "$marker" -print -quit)
[ -z "$changed" ] || die "the source tree was modified ($changed)"

build_one() { # name, extra make arguments...
    local name=$1; shift
    local dir="$out/$name" image="$out/$name/arch/x86/boot/bzImage"
    if [ -f "$image" ] && [ "$image" -nt "$dir/.config" ]; then
        echo "$name: bzImage present, not rebuilt" >&2; return 0
    fi
    echo "+ nice -n 19 make -C $dir -j$jobs $* bzImage" >&2
    local start end
    start=$(date +%s.%N)
    nice -n 19 make -C "$dir" -j"$jobs" "$@" bzImage > "$out/$name.build.log" 2>&1 ||
        die "$name bzImage build failed; see $out/$name.build.log"
    end=$(date +%s.%N)
    echo "$start $end" | awk '{ printf "%.0f\n", $2 - $1 }' > "$out/$name.build-seconds"
}
if [ "$build" -eq 1 ]; then
    build_one defconfig
    build_one vng LOCALVERSION=-virtme   # what `vng --build --skip-modules` runs
fi

count() { grep -c "$2" "$1" || true; }
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): d=d.get(k) if isinstance(d, dict) else None
print("" if d is None else d)' "$1" "$2"; }

# name symbols builtin modules bzimage-bytes build-seconds
rows=()
k_release=$(json "$artifact/manifest.json" kernelRelease)
k_size=$(stat -c %s "$artifact/bzImage" 2>/dev/null || json "$artifact/manifest.json" bzImage.size)
k_secs=$(json "$artifact/manifest.json" timings.buildSeconds)
k_syms=$(count "$artifact/config" '^CONFIG_')
m_syms=$(json "$artifact/manifest.json" config.symbolCount)
[ -z "$m_syms" ] || [ "$m_syms" = "$k_syms" ] ||
    echo "warning: $artifact/config has $k_syms symbols, its manifest says $m_syms" >&2
[ "$k_release" = "$release" ] ||
    echo "warning: ksand's kernel is $k_release, the tree is $release" >&2
rows+=("ksand $k_syms $(count "$artifact/config" '=y$') $(count "$artifact/config" '=m$') ${k_size:--} ${k_secs:--}")
for name in tinyconfig64 defconfig vng; do
    c="$out/$name/.config" image="$out/$name/arch/x86/boot/bzImage" size=- secs=-
    [ -f "$image" ] && [ "$image" -nt "$c" ] && size=$(stat -c %s "$image")
    [ "$size" != - ] && [ -f "$out/$name.build-seconds" ] && secs=$(cat "$out/$name.build-seconds")
    rows+=("$name $(count "$c" '^CONFIG_') $(count "$c" '=y$') $(count "$c" '=m$') $size $secs")
done

printf '%s\n' "${rows[@]}" | awk -v tree="$tree" -v rel="$release" -v vngv="$vng_version" -v art="$artifact" '
function mib(b) { return b == "-" ? "-" : sprintf("%d (%.2f MiB)", b, b / 1048576) }
function dur(s) { return s == "-" ? "-" : sprintf("%dm%02ds", int(s / 60), int(s) % 60) }
function ratio(a, b) { return (a == "-" || b == "-" || b == 0) ? "-" : sprintf("%.3f", a / b) }
{ n[NR] = $1; sym[$1] = $2; y[$1] = $3; m[$1] = $4; size[$1] = $5; secs[$1] = $6 }
END {
    label["ksand"] = "ksand (tinyconfig + sandbox.config)"
    label["tinyconfig64"] = "floor: tinyconfig + CONFIG_64BIT=y"
    label["defconfig"] = "x86_64 defconfig"
    label["vng"] = "virtme-ng `vng --kconfig` (" vngv ")"
    printf "Kernel %s, tree %s\nksand artifact %s\n\n", rel, tree, art
    print "| config | symbols | =y | =m | bzImage bytes | bzImage build wall time |"
    print "|---|---:|---:|---:|---:|---:|"
    for (i = 1; i <= NR; i++) { k = n[i]
        printf "| %s | %d | %d | %d | %s | %s |\n", label[k], sym[k], y[k], m[k], mib(size[k]), dur(secs[k]) }
    print ""
    print "| ratio | symbols | bzImage size |"
    print "|---|---:|---:|"
    printf "| ksand / defconfig | %s | %s |\n", ratio(sym["ksand"], sym["defconfig"]), ratio(size["ksand"], size["defconfig"])
    printf "| ksand / vng | %s | %s |\n", ratio(sym["ksand"], sym["vng"]), ratio(size["ksand"], size["vng"])
    print ""
    target = sym["defconfig"] / 4
    printf "Target: ksand symbols <= defconfig / 4 (%d): %d, %s", target, sym["ksand"], (sym["ksand"] <= target ? "met" : "NOT met")
    printf " (the x86_64 floor is %d; ksand adds %d symbols to it)\n", sym["tinyconfig64"], sym["ksand"] - sym["tinyconfig64"]
}'
