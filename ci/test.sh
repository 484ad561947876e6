#!/usr/bin/env bash
# The whole test suite: unit tests and real-VM integration tests. Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."

ci/install-deps.sh
swift build --build-tests
# The integration tests boot the default sandbox kernel; build it first (once: it is cached by content
# outside the repository), with its progress in the log rather than inside a silent test.
"$(swift build --show-bin-path)/ksand" kernel build
swift test --skip-build
