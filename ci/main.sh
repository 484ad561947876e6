#!/usr/bin/env bash
# The main job: build the default sandbox kernel (patches/series applied, config trimmed and verified, cached),
# then run the shipped suites on it, each test in a fresh sandbox, and print the timeline and budget report.
# Exit status 0 when every test passed within its budgets. The JUnit report is left in .build/ksand-junit.xml.
set -euo pipefail
cd "$(dirname "$0")/.."

ci/install-deps.sh
swift build -c release --product ksand-init
swift build -c release --product ksand
bin="$(swift build -c release --show-bin-path)"
"$bin/ksand" kernel build
"$bin/ksand" test --junit .build/ksand-junit.xml
