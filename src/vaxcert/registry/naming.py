"""How the registry compares names: Unicode NFC, case folding and collapsed spaces.

Diacritics count ("Nguyen" is not "Nguyễn": they are part of a Vietnamese name), while the
spelling of the same letters does not: an all-capitals re-export ("NGUYỄN VĂN ĐỨC"), a file in
decomposed Unicode (NFD, as some Mac and legacy exports write it) or doubled spaces name the same
person.  One definition, used by the import's "same person" check and the population-register check.
"""

from __future__ import annotations

import unicodedata

__all__ = ["comparable_name", "same_name"]


def comparable_name(text: str | None) -> str:
    """The form two names are compared in (NFC, case-folded, single spaces, NFC again)."""
    folded = unicodedata.normalize("NFC", text or "").casefold()
    return unicodedata.normalize("NFC", " ".join(folded.split()))


def same_name(a: str | None, b: str | None) -> bool:
    """Names equal after NFC, case folding and collapsing spaces."""
    return comparable_name(a) == comparable_name(b)
