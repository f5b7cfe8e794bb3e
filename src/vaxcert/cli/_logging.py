"""Log output of the command line: ``-v`` / ``--debug`` / ``--log-format json`` / ``--log-file``.

The library only logs (events of :mod:`vaxcert.logs`, never personal data); this module decides
where they go: standard error (or ``--log-file``), as text or as JSON lines, at WARNING by default,
INFO with ``-v``, DEBUG with ``-vv`` or ``--debug``.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TextIO

import click

from .. import JsonFormatter, TextFormatter

__all__ = ["configure_logging", "reset_logging"]

_handler: logging.Handler | None = None
_saved_level = logging.NOTSET


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record arrives (click's test runner swaps it)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


def configure_logging(verbose: int, debug: bool, log_format: str, log_file: Path | None) -> None:
    """Send vaxcert's log events to stderr (or ``log_file``) at the level the options ask for.

    Undone when the command's click context closes (:func:`reset_logging`), so running the CLI
    in-process (tests, an embedding program) leaves the ``vaxcert`` loggers as they were.
    """
    global _handler, _saved_level
    reset_logging()
    logger = logging.getLogger("vaxcert")
    level = logging.DEBUG if debug or verbose >= 2 else logging.INFO if verbose == 1 else logging.WARNING
    handler: logging.Handler = (logging.FileHandler(log_file, encoding="utf-8") if log_file is not None
                                else _StderrHandler())  # fmt: skip
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.setLevel(level)
    _saved_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    _handler = handler
    context = click.get_current_context(silent=True)
    if context is not None:
        context.call_on_close(reset_logging)


def reset_logging() -> None:
    """Remove the handler :func:`configure_logging` installed and restore the logger's level."""
    global _handler
    if _handler is None:
        return
    logger = logging.getLogger("vaxcert")
    logger.removeHandler(_handler)
    _handler.close()
    logger.setLevel(_saved_level)
    _handler = None
