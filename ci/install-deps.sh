#!/usr/bin/env bash
# Installs the Debian packages ksand needs, if any are missing. Idempotent: does nothing when all are there.
# Usage: ci/install-deps.sh [extra-package ...]
set -euo pipefail

packages=(
  qemu-system-x86      # the VMM
  linux-image-amd64    # the default kernel to boot (a modular distro kernel with its modules)
  libarchive-dev       # initramfs writer (linked in-process)
  pkg-config           # finds libarchive for SwiftPM
  cpio zstd            # tests read the archives back with the standard tools
  python3              # tests parse reports with Python's standard library
  python3-junitparser  # a real JUnit consumer reads `ksand test --junit` in the tests
  linux-source-6.1     # the default kernel source ksand builds the sandbox kernel from
  gcc make bc flex bison libelf-dev libssl-dev xz-utils  # what the kernel build needs
  git                  # applies the patch series (git apply, all or nothing)
  libvirt-dev          # the libvirt backend (linked in-process)
  libvirt-daemon-system  # libvirtd, virtlogd and the QEMU driver (also what the embedded driver loads)
  libvirt-clients      # virsh, virt-xml-validate
  libxml2-utils        # xmllint, which virt-xml-validate runs
  tini                 # reaps libvirtd's QEMUs at once where systemd does not run the daemons (ci/libvirt-daemons.sh)
  "$@"
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root=(sudo)
else
  echo "ksand needs these Debian packages: ${missing[*]}" >&2
  echo "Run this script as root, or install them first: sudo apt-get install --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

echo "Installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
