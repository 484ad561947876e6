#!/usr/bin/env bash
# The main job: build the default sandbox kernel (patches/series applied, config trimmed and verified, cached),
# boot it with the host's root read-only and run a command inside, with the boot timeline.
set -euo pipefail
cd "$(dirname "$0")/.."

ci/install-deps.sh
swift build -c release --product ksand-init
swift build -c release --product ksand
bin="$(swift build -c release --show-bin-path)"
"$bin/ksand" kernel build
"$bin/ksand" run --kernel built --timeline -- uname -a
