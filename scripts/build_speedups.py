"""Compile vaxcert's optional C shortcuts (src/vaxcert/stages/_speedups.c) in place, with the machine's C compiler.

Run by scripts/setup.sh.  The module is optional: without it (a wheel, a machine without a C
compiler) vaxcert runs its pure-Python code, which stays the reference (tests/test_speedups.py
compares the two).  Rebuilds only when the source is newer than the module.

Run:  .venv/bin/python scripts/build_speedups.py
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "src" / "vaxcert" / "stages" / "_speedups.c"


def main() -> int:
    """Build the extension next to its source; 0 on success (or nothing to do), 1 on failure."""
    target = SOURCE.with_name("_speedups" + str(sysconfig.get_config_var("EXT_SUFFIX")))
    if target.exists() and target.stat().st_mtime >= SOURCE.stat().st_mtime:
        return 0
    compiler = os.environ.get("CC") or str(sysconfig.get_config_var("CC") or "cc").split()[0]
    command = [compiler, "-O2", "-shared", "-fPIC", "-std=c99", "-Wall",
               f"-I{sysconfig.get_paths()['include']}", str(SOURCE), "-o", str(target)]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - our own command line
    if result.returncode != 0:
        print(f"building the optional C shortcuts failed ({shlex.join(command)}):\n{result.stderr}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
