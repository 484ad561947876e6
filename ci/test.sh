#!/usr/bin/env bash
# The whole test suite: unit tests and real-VM integration tests. Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."

ci/install-deps.sh shellcheck   # actionlint checks the CI recipes' run: scripts with shellcheck
# The linters the CI recipes are checked with and the KCIDB validator, in a venv of their own (CIRecipeTests).
export KSAND_TOOLS_VENV="${KSAND_TOOLS_VENV:-$HOME/.cache/ksand/tools-venv}"
ci/python-tools.sh
swift build --build-tests
# libvirt's system daemons for the tests on qemu:///system, started where systemd does not run them and stopped
# afterwards (a daemon that ran before is left alone); the embedded driver's tests need none.
# The trap is set first, so that a start that fails half-way is undone too, and it keeps the tests' own exit status:
# a stop that fails is a warning, not a failed run.
stop_daemons() { ci/libvirt-daemons.sh stop || echo "warning: ci/libvirt-daemons.sh stop failed; see ci/libvirt-daemons.sh status" >&2; }
trap 'rc=$?; stop_daemons; exit $rc' EXIT
ci/libvirt-daemons.sh start
export KSAND_TEST_LIBVIRT_SYSTEM=1
# The integration tests boot the default sandbox kernel; build it first (once: it is cached by content
# outside the repository), with its progress in the log rather than inside a silent test.
"$(swift build --show-bin-path)/ksand" kernel build
# No test may leave a process behind: every QEMU ksand starts has the command channel's port on its command line
# (`name=org.ksand.ctl` from ksand, `"name":"org.ksand.ctl"` from libvirt's JSON device syntax), every detached
# sandbox's supervisor has --supervise on its own; what was running before the tests is not theirs.
ksand_processes() { pgrep -f -- 'name=org\.ksand\.ctl|"name":"org\.ksand\.ctl"|ksand run .*--supervise ' | sort || true; }
before="$(ksand_processes)"
swift test --skip-build
leftovers="$(comm -13 <(echo "$before") <(ksand_processes) | grep . || true)"
if [ -n "$leftovers" ]; then
  echo "error: the tests left these processes running:" >&2
  for pid in $leftovers; do ps -o pid=,args= -p "$pid" >&2 || true; done
  exit 1
fi
# The daemons are done with: the fuzzers need none of them.
trap - EXIT
stop_daemons
# Every parser of input from outside, fuzzed for a bounded time (20 s a target); Fuzz/README.md has the longer run.
Fuzz/run.sh
