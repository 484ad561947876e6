#!/usr/bin/env bash
# The whole test suite: unit tests and real-VM integration tests. Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."

ci/install-deps.sh
swift build --build-tests
swift test --skip-build
