#!/usr/bin/env bash
# Run the interop suite in one process and write its peer matrix into docs/interop.md
# (between the "peer matrix" markers). Run after changing a peer's pinned version.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/setup-interop.sh
rm -f .interop/matrix.md
# The docs check fails until the new matrix is in: run everything else first.
.venv/bin/python -m pytest -q -p no:xdist tests/interop --deselect \
    tests/interop/test_interop.py::test_matrix_in_the_docs_names_the_installed_versions
.venv/bin/python - <<'PY'
import pathlib
import re

doc = pathlib.Path("docs/interop.md")
table = pathlib.Path(".interop/matrix.md").read_text(encoding="utf-8")
text = doc.read_text(encoding="utf-8")
start, end = "<!-- peer matrix: start (scripts/interop-matrix.sh) -->", "<!-- peer matrix: end -->"
new, count = re.subn(re.escape(start) + ".*?" + re.escape(end), lambda _: f"{start}\n{table}{end}", text, flags=re.S)
if count != 1:
    raise SystemExit("docs/interop.md: matrix markers not found")
doc.write_text(new, encoding="utf-8")
print("docs/interop.md: peer matrix updated")
PY
