"""Convert a directory of official EU DCC value-set files into vaxcert's value-set snapshot.

Usage:  python scripts/update_valuesets.py SRC_DIR [OUT]

SRC_DIR holds the official files (``{"valueSetId": ..., "valueSetDate": ..., "valueSetValues":
{...}}``), e.g. a checkout of https://github.com/ehn-dcc-development/ehn-dcc-valuesets or a
download from the DCC gateway.  OUT defaults to the snapshot bundled with vaxcert,
``src/vaxcert/data/valuesets.json``; point it elsewhere to build a snapshot for
``ValueSets.load(OUT)`` without touching the package.  Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "src" / "vaxcert" / "data" / "valuesets.json"

try:
    from vaxcert.dcc.valuesets import ValueSets
    from vaxcert.errors import ConfigurationError
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, str(REPO / "src"))
    from vaxcert.dcc.valuesets import ValueSets
    from vaxcert.errors import ConfigurationError


def main(argv: list[str] | None = None) -> int:
    """Convert SRC_DIR into a snapshot at OUT; print what was written."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src_dir", type=Path, help="directory of official EU value-set JSON files")
    parser.add_argument("out", type=Path, nargs="?", default=DEFAULT_OUT, help="snapshot to write")
    args = parser.parse_args(argv)
    if not args.src_dir.is_dir():
        parser.error(f"{args.src_dir} is not a directory")
    try:
        value_sets = ValueSets.load(args.src_dir)
    except ConfigurationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    value_sets.save(args.out)
    for name in value_sets.names():
        print(f"{name:28} {value_sets.snapshot_date(name) or '-':10} {len(value_sets.codes(name)):4} codes")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
