"""The context identifier stage: ``HC1:`` + Base45 text."""

from __future__ import annotations

import re

from ..codes import FailureCode, Stage
from ..errors import DecodeError

__all__ = ["PREFIX", "add", "strip"]

PREFIX = "HC1:"
_CONTEXT = re.compile(r"^[A-Za-z]{2}[0-9A-Za-z]*:")


def add(base45_text: str) -> str:
    """Prefix Base45 text with the HC1 context identifier."""
    return PREFIX + base45_text


def strip(text: str) -> str:
    """Return the Base45 part of ``HC1:...``; only the exact ``HC1:`` context is accepted."""
    if text.startswith(PREFIX):
        return text[len(PREFIX) :]
    if _CONTEXT.match(text):
        raise DecodeError(FailureCode.PREFIX_UNSUPPORTED, Stage.PREFIX, "unsupported context identifier")
    raise DecodeError(FailureCode.PREFIX_MISSING, Stage.PREFIX, "no HC1: context identifier")
