"""Checks KCIDB documents (`ksand validate --kcidb FILE`) against KCIDB's own schema, with kcidb-io.

Usage: "$KSAND_TOOLS_VENV/bin/python" ci/kcidb-validate.py FILE.json ...   (the venv of ci/python-tools.sh)

Each FILE must be a KCIDB v5 document (version.major 5, a minor kcidb-io knows) valid against the schema of the
version it declares, formats (date-time, uri) included. Prints one line a file: what it is, or its first error
with where it is. Exit status: 0 all valid, 1 any invalid, 2 a file could not be read or parsed as JSON.
"""

import json
import sys

import jsonschema
from kcidb_io import schema


def check(path):
    """Returns (status, message) for one file."""
    try:
        with open(path, encoding="utf-8") as file:
            data = json.load(file)
    except (OSError, ValueError) as error:
        return 2, f"{path}: cannot read it as JSON: {error}"
    version = data.get("version") if isinstance(data, dict) else None
    if not isinstance(version, dict) or version.get("major") != 5:
        return 1, f"{path}: not a KCIDB v5 document: its version is {json.dumps(version)}, not {{\"major\": 5, ...}}"
    known = schema.LATEST.get_exactly_compatible(data)
    if known is None:
        return 1, (f"{path}: KCIDB version {json.dumps(version)} is not one this kcidb-io knows "
                   f"(v5.0 to {schema.LATEST})")
    try:
        known.validate_exactly(data)
    except jsonschema.exceptions.ValidationError as error:
        where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path)
        return 1, f"{path}: invalid KCIDB {known} document at {where.lstrip('.') or 'the top level'}: {error.message}"
    counts = ", ".join(f"{len(data[name])} {name}" for name in ("checkouts", "builds", "tests", "issues", "incidents")
                       if data.get(name))
    return 0, f"{path}: valid KCIDB {known} document ({counts or 'no objects'})"


def main(paths):
    if not paths:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    worst = 0
    for path in paths:
        status, message = check(path)
        print(message, file=sys.stdout if status == 0 else sys.stderr)
        worst = max(worst, status)
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
