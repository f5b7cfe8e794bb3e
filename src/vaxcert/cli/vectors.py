"""``vaxcert vectors``: run test vectors in the dgc-testdata format, and write vaxcert's own set."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ._common import EXIT_INVALID, EXIT_OK


@click.group("vectors")
def vectors() -> None:
    """Run EU DCC test vectors (dgc-testdata format) and generate vaxcert's own set."""


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
    from ..vectors.runner import KnownDefects, render_text, run

    defects = KnownDefects.from_file(known_defects_path) if known_defects_path is not None else None
    report = run([str(p) for p in paths], defects)
    if fmt == "json":
        for result in report.files:
            click.echo(json.dumps(result.to_dict(mark_known=defects is not None), ensure_ascii=False))
    else:
        click.echo(render_text(report))
    sys.exit(EXIT_OK if report.ok else EXIT_INVALID)


@vectors.command("generate")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--keys", "keys_dir", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="Folder of the TEST-ONLY keys and certificates (default: OUT_DIR/keys; "
                   "created there when missing).")
def generate_cmd(out_dir: Path, keys_dir: Path | None) -> None:
    """Write vaxcert's own vector set into OUT_DIR (the same bytes on every run with the same keys)."""
    from generate_vectors import generate

    written = generate(out_dir, keys_dir=keys_dir)
    click.echo(f"wrote {len(written)} files to {out_dir}")
