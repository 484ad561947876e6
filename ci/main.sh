#!/usr/bin/env bash
# The main job: build ksand, boot the default kernel with the host's root read-only, run a command inside.
set -euo pipefail
cd "$(dirname "$0")/.."

ci/install-deps.sh
swift build -c release --product ksand-init
swift build -c release --product ksand
bin="$(swift build -c release --show-bin-path)"
"$bin/ksand" run --timeline -- uname -a
