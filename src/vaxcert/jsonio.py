"""Reading JSON from outside safely: one loader for every file and row vaxcert accepts.

Python's :func:`json.loads` raises ``RecursionError`` on deeply nested input and ``ValueError``
on an integer of more than 4,300 digits (the interpreter's limit on converting such numbers),
and reads ``NaN`` / ``Infinity``.  :func:`loads` turns each into an
:class:`~vaxcert.errors.InputError` naming the input and the problem (never quoting it), and
refuses nesting deeper than :data:`MAX_DEPTH`, so code further on never meets a structure deep
enough to exhaust the stack.  :func:`dumps` writes integers too long to print as strings, so that
printing a payload that holds one cannot fail.  :func:`ascii_digits` is the one test for a number
written as text (a JSON string, a header, a file name) before ``int()`` reads it.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from .errors import InputError

__all__ = ["MAX_DEPTH", "ascii_digits", "check_depth", "dumps", "load_file", "loads"]

#: Deepest nesting of arrays and objects accepted (DCC payloads, policies, value sets: under 10).
MAX_DEPTH = 64


def ascii_digits(text: str, *, max_digits: int = 18) -> bool:
    """True when ``text`` is 1 to ``max_digits`` ASCII digits ``0``-``9``, so that ``int(text)`` cannot fail.

    Use it, not ``str.isdigit()`` or ``str.isdecimal()``, before ``int()`` on text from outside:
    ``isdigit()`` is also True for ``'²'`` or ``'①'``, which ``int()`` refuses with ValueError, and
    ``int()`` reads other scripts' digits (``'٣'`` is 3), which no field of ours holds.  The length
    bound keeps ``int()`` fast and under the interpreter's limit of 4,300 digits.
    """
    return 0 < len(text) <= max_digits and text.isascii() and text.isdigit()


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value


def _depth_ok(value: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return False
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return True


def check_depth(value: Any, *, what: str = "input", max_depth: int = MAX_DEPTH) -> None:
    """InputError unless ``value`` (parsed JSON or TOML) nests at most ``max_depth`` levels."""
    if not _depth_ok(value, max_depth):
        raise InputError(what, f"nested too deeply (more than {max_depth} levels)")


def loads(data: str | bytes, *, what: str = "input", max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON text (UTF-8 bytes may start with a BOM); InputError(``what``, reason) if it is unusable."""
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data.removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise InputError(what, "is not UTF-8 text") from None
    try:
        value = json.loads(text, parse_constant=_constant, parse_float=_float)
    except RecursionError:
        raise InputError(what, f"JSON nested too deeply (more than {max_depth} levels)") from None
    except json.JSONDecodeError as exc:
        raise InputError(what, f"is not valid JSON (line {exc.lineno}, column {exc.colno})") from None
    except ValueError as exc:
        if "digits" in str(exc):
            raise InputError(what, f"a number has more than {sys.get_int_max_str_digits()} digits") from None
        raise InputError(what, "holds NaN, Infinity or a number out of range") from None
    if not _depth_ok(value, max_depth):
        raise InputError(what, f"JSON nested too deeply (more than {max_depth} levels)")
    return value


def load_file(path: str | Path, *, what: str | None = None, max_depth: int = MAX_DEPTH) -> Any:
    """Read and parse a JSON file (see :func:`loads`); InputError names the file."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(what or str(path), f"cannot be read: {exc.strerror}") from None
    return loads(data, what=what or str(path), max_depth=max_depth)


def _printable(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            str(value)
        except ValueError:
            return f"<integer of {value.bit_length()} bits>"
        return value
    if isinstance(value, dict):
        return {k: _printable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_printable(v) for v in value]
    return value


def dumps(value: Any, **kwargs: Any) -> str:
    """:func:`json.dumps` that never fails on an integer too long to print (it becomes a note)."""
    try:
        return json.dumps(value, **kwargs)
    except ValueError:
        return json.dumps(_printable(value), **kwargs)
