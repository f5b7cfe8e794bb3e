"""Log output of the command line: ``-v`` / ``--debug`` / ``--log-format`` / ``--log-file``.

The library and the front ends only log (events of :mod:`vaxcert.logs`, never personal data);
this module decides where they go, with one handler: standard error (or ``--log-file``), as text
or as JSON lines.  A command logs at WARNING by default, INFO with ``-v``, DEBUG with ``-vv`` or
``--debug``.  The long-running commands (``vaxcert serve``, ``vaxcert registry worker``,
``vaxcert checkpoint serve``) call :func:`long_running`: their own ``--log-level`` (or INFO) unless
``-v`` / ``--debug`` ask for more, their default format (JSON lines for the service and the
worker), and the web server's loggers (``uvicorn``) sent to the same handler.  Each record is
written once: the loggers the handler is attached to do not pass records on to the root logger's
handlers of the same process.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import click

from .. import JsonFormatter, TextFormatter

__all__ = ["LOG_LEVEL_OPTION", "configure_logging", "long_running", "reset_logging"]

LEVELS = ("debug", "info", "warning", "error")

#: ``--log-level`` of the long-running commands (``-v`` / ``--debug`` before the command may lower it).
LOG_LEVEL_OPTION = click.option(
    "--log-level", type=click.Choice(LEVELS), default="info", show_default=True,
    help="Log events at this level and above (vaxcert -v / --debug may ask for more).")  # fmt: skip


@dataclass(frozen=True)
class _Options:
    verbose: int = 0
    debug: bool = False
    log_format: str | None = None  # None: the command's default (text, or JSON lines for serve / worker)
    log_file: Path | None = None

    @property
    def level(self) -> int:
        if self.debug or self.verbose >= 2:
            return logging.DEBUG
        return logging.INFO if self.verbose == 1 else logging.WARNING


@dataclass
class _Installed:
    handler: logging.Handler
    saved: dict[str, tuple[int, bool]]  # logger name -> (level, propagate) before


_options = _Options()
_installed: _Installed | None = None


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record arrives (click's test runner swaps it)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


def configure_logging(verbose: int, debug: bool, log_format: str | None, log_file: Path | None) -> None:
    """Send vaxcert's log events to stderr (or ``log_file``) at the level the options ask for.

    Undone when the command's click context closes (:func:`reset_logging`), so running the CLI
    in-process (tests, an embedding program) leaves the loggers as they were.
    """
    global _options
    _options = _Options(verbose, debug, log_format, log_file)
    _install(_options.level, log_format or "text", ())


def long_running(level: str, *, log_format: str, others: Sequence[str] = ()) -> None:
    """Log for a long-running command: at ``level`` or lower if ``-v`` / ``--debug`` ask, as ``log_format``
    unless ``--log-format`` chose, and the loggers ``others`` (the web server's) to the same handler."""
    if level not in LEVELS:
        raise ValueError(f"unknown log level {level!r}")
    chosen = min(_options.level, logging.getLevelName(level.upper()))
    _install(chosen, _options.log_format or log_format, others)


def _install(level: int, log_format: str, others: Sequence[str]) -> None:
    global _installed
    reset_logging()
    handler: logging.Handler = (logging.FileHandler(_options.log_file, encoding="utf-8")
                                if _options.log_file is not None else _StderrHandler())  # fmt: skip
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.setLevel(level)
    saved: dict[str, tuple[int, bool]] = {}
    for name in ("vaxcert", *others):
        logger = logging.getLogger(name)
        saved[name] = (logger.level, logger.propagate)
        logger.addHandler(handler)
        if name == "vaxcert":
            logger.setLevel(level)
        else:
            logger.propagate = False  # its records reach this handler only, never a root handler as well
    _installed = _Installed(handler, saved)
    context = click.get_current_context(silent=True)
    if context is not None:
        context.call_on_close(reset_logging)


def reset_logging() -> None:
    """Remove the handler :func:`configure_logging` installed and restore the loggers it changed."""
    global _installed
    if _installed is None:
        return
    for name, (level, propagate) in _installed.saved.items():
        logger = logging.getLogger(name)
        logger.removeHandler(_installed.handler)
        logger.setLevel(level)
        logger.propagate = propagate
    _installed.handler.close()
    _installed = None
