"""``vaxcert vectors run``: run test vectors in the dgc-testdata format.

vaxcert's own set is written by ``tools/generate_vectors.py`` (it signs with published test keys,
which stay out of the wheel).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .. import KnownDefects, render_vector_report, run_vectors
from ._common import EXIT_INVALID, EXIT_OK


@click.group("vectors")
def vectors() -> None:
    """Run EU DCC test vectors (dgc-testdata format)."""


@vectors.command("run")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="A table and a summary, or one JSON object per file and line.")
@click.option("--known-defects", "known_defects_path", default=None,
              type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="A Markdown list of published files' checks to disagree with deliberately "
                   "(e.g. test_vectors/KNOWN_DEFECTS.md); they are reported, not failed.")
def run_cmd(paths: tuple[Path, ...], fmt: str, known_defects_path: Path | None) -> None:
    """Evaluate every check of every vector file in PATHS (files, or folders searched for */raw/*.json).

    Exit 0 when every stated expectation agrees (or is a listed known defect), 1 otherwise.
    """
    defects = KnownDefects.from_file(known_defects_path) if known_defects_path is not None else None
    report = run_vectors([str(p) for p in paths], defects)
    if fmt == "json":
        for result in report.files:
            click.echo(json.dumps(result.to_dict(mark_known=defects is not None), ensure_ascii=False))
    else:
        click.echo(render_vector_report(report))
    sys.exit(EXIT_OK if report.ok else EXIT_INVALID)
