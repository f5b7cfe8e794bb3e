"""Log output of the command line: ``-v`` / ``--debug`` / ``--log-format json`` / ``--log-file``.

The library only logs (events of :mod:`vaxcert.logs`, never personal data); this module decides
where they go: standard error (or ``--log-file``), as text or as JSON lines, at WARNING by default,
INFO with ``-v``, DEBUG with ``-vv`` or ``--debug``.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from .. import JsonFormatter, TextFormatter

__all__ = ["configure_logging"]

_handler: logging.Handler | None = None


def configure_logging(verbose: int, debug: bool, log_format: str, log_file: Path | None) -> None:
    """Send vaxcert's log events to stderr (or ``log_file``) at the level the options ask for."""
    global _handler
    logger = logging.getLogger("vaxcert")
    if _handler is not None:  # the CLI may run several times in one process (tests)
        logger.removeHandler(_handler)
        _handler.close()
    level = logging.DEBUG if debug or verbose >= 2 else logging.INFO if verbose == 1 else logging.WARNING
    handler: logging.Handler
    if log_file is not None:
        handler = logging.FileHandler(log_file, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.setLevel(level)
    logger.addHandler(handler)
    logger.setLevel(level)
    _handler = handler
