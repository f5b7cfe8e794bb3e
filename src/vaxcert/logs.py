"""Structured log events: a name and a few allow-listed fields, never personal data.

vaxcert logs through the standard :mod:`logging` module (loggers under ``vaxcert``) and
configures nothing: the command line chooses handlers and levels (``vaxcert -v / --debug /
--log-format json / --log-file``), for the long-running front ends too (``vaxcert serve``,
``vaxcert registry worker``, ``vaxcert checkpoint serve``).  Every event vaxcert logs — the
library's and the front ends' (``service.request``, ``checkpoint.counts``, ...) — goes through
:func:`log_event`:

* the event name says what happened (``import.chunk``, ``issue.worker_done``,
  ``verify.internal_error``, ``issue.facility_override``, ...);
* the fields are counts, durations, facility ids, kids, failure codes, sequence numbers, and for
  the front ends an HTTP method, route template, status, account role and name (accounts are
  organisations) or a job id — their names must be in :data:`FIELDS`, and their values numbers,
  booleans or short text.
  Names, birth dates, identity numbers, UVCIs, HC1 text and key material have no field, so no
  event can carry them (a test logs every event at every level and searches for them);
* an internal error keeps its traceback as file / line / function frames and the exception
  type, without the exception's message (which may quote the input).

:class:`JsonFormatter` writes one JSON object per line (``{"ts", "level", "logger", "event",
...fields}``), what a log pipeline ingests; :class:`TextFormatter` writes ``event key=value``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import traceback
from collections.abc import Mapping
from typing import Any

__all__ = ["FIELDS", "JsonFormatter", "TextFormatter", "log_event", "safe_traceback"]

#: The only field names an event may carry.
FIELDS = frozenset({
    "account", "attempts", "backend", "certificates", "chunk", "chunks", "code", "count", "doses", "duration_ms",
    "entries", "exc_type", "facilities", "facility", "failed", "fmt", "green", "inserted", "issued", "job", "kid",
    "kids", "kind", "lists", "method", "new_persons", "pending", "persons", "reasons", "red", "rejected", "revoked",
    "role", "route", "rows", "seconds", "sequence", "signers", "stage", "status", "superseded", "traceback", "type",
    "unchanged", "waiting", "worker", "workers", "yellow",
})  # fmt: skip
_ATTRIBUTE = "vaxcert_event"
_MAX_TEXT = 80


def _check(name: str, value: Any) -> Any:
    if name not in FIELDS:
        raise ValueError(f"log field {name!r} is not in vaxcert.logs.FIELDS")
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        if len(value) > _MAX_TEXT and name != "traceback":
            raise ValueError(f"log field {name!r}: text longer than {_MAX_TEXT} characters")
        return value
    if isinstance(value, list | tuple) and all(isinstance(v, str | int) and not isinstance(v, bool) for v in value):
        return [_check(name, v) for v in value]
    raise ValueError(f"log field {name!r}: {type(value).__name__} values are not logged")


def log_event(logger: logging.Logger, event: str, *, level: int = logging.INFO, **fields: Any) -> None:
    """Log ``event`` with allow-listed ``fields`` (ValueError for a field not in :data:`FIELDS`)."""
    checked = {k: _check(k, v) for k, v in fields.items()}
    if not logger.isEnabledFor(level):
        return
    text = " ".join([event, *(f"{k}={_text(v)}" for k, v in checked.items() if k != "traceback")])
    if "traceback" in checked:
        text += "\n" + str(checked["traceback"])
    logger.log(level, "%s", text, extra={_ATTRIBUTE: {"event": event, **checked}})


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def safe_traceback(exc: BaseException) -> str:
    """The frames of ``exc``'s traceback (file, line, function, source line) and its type, no message."""
    frames = traceback.extract_tb(exc.__traceback__)
    lines = [f'  File "{f.filename}", line {f.lineno}, in {f.name}' for f in frames]
    return "Traceback (most recent call last):\n" + "\n".join(lines) + f"\n{type(exc).__name__} (message withheld)"


def _fields(record: logging.LogRecord) -> Mapping[str, Any] | None:
    value = getattr(record, _ATTRIBUTE, None)
    return value if isinstance(value, Mapping) else None


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts (UTC, ISO 8601), level, logger, event and the event's fields.

    Records not logged through :func:`log_event` (other libraries) become ``{"event": "log",
    "message": ...}``; with ``exc_info`` their exception type is kept, never its text.
    """

    def format(self, record: logging.LogRecord) -> str:
        moment = dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds")
        out: dict[str, Any] = {"ts": moment.replace("+00:00", "Z"), "level": record.levelname, "logger": record.name}
        fields = _fields(record)
        if fields is not None:
            out.update(fields)
        else:
            out["event"] = "log"
            out["message"] = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                out["exc_type"] = type(record.exc_info[1]).__name__
                out["traceback"] = safe_traceback(record.exc_info[1])
        return json.dumps(out, ensure_ascii=False, separators=(",", ":"))


class TextFormatter(logging.Formatter):
    """``2026-06-01T08:00:00.000Z INFO vaxcert.registry.importer import.chunk rows=2000 ...``."""

    def format(self, record: logging.LogRecord) -> str:
        moment = dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds")
        line = f"{moment.replace('+00:00', 'Z')} {record.levelname} {record.name} {record.getMessage()}"
        if _fields(record) is None and record.exc_info and record.exc_info[1] is not None:
            line += "\n" + safe_traceback(record.exc_info[1])
        return line
