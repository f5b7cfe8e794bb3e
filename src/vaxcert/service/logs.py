"""Structured JSON logs for the service: one object per line, no personal data.

Request lines carry the method, the route *template* (``/v1/jobs/{job_id}``, never a query string
or a body), the status, the time taken and the account's role and name (accounts are
organisations, not people); no client address, ID number, birth date, name or certificate.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any, Final

__all__ = ["FIELDS", "JsonFormatter", "configure_logging"]

#: Extra attributes copied from a log record into the JSON object when present.
FIELDS: Final = ("method", "route", "status", "ms", "role", "account", "job", "records", "error", "worker")


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object: time, level, logger, message and the known extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                out[name] = value
        if record.exc_info and record.exc_info[0] is not None:
            out["exception"] = record.exc_info[0].__name__  # the type only: messages may quote input
        return json.dumps(out, ensure_ascii=False)


def configure_logging(level: str = "info", *, stream: Any = None) -> None:
    """Send the root logger's records to ``stream`` (default: standard error) as JSON lines."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # it logs client addresses and full paths
