"""Test vectors in the dgc-testdata format: reading them, running them, and writing vaxcert's own.

* :mod:`vaxcert.vectors.format` reads vector files tolerantly (:func:`load`, :func:`find_files`).
* :mod:`vaxcert.vectors.runner` evaluates every check of every file (:func:`run`) and renders
  the report as a text table or JSON lines.
* vaxcert's own vector set is written by ``tools/generate_vectors.py`` (test keys stay out of the wheel).

See docs/vectors.md.
"""

from .format import CHECKS, EXTENSION_CHECKS, VectorFile, VectorFormatError, find_files, load, parse
from .runner import CheckResult, FileResult, KnownDefects, Report, evaluate, render_text, run

__all__ = [
    "CHECKS",
    "EXTENSION_CHECKS",
    "CheckResult",
    "FileResult",
    "KnownDefects",
    "Report",
    "VectorFile",
    "VectorFormatError",
    "evaluate",
    "find_files",
    "load",
    "parse",
    "render_text",
    "run",
]
