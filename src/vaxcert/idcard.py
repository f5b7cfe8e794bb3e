"""Identity check at a checkpoint: the citizen ID card's QR code against a certificate's holder.

A GREEN pass proves nothing if it can be lent: staff compare the certificate holder's name and
birth date with an identity document.  The chip-based Vietnamese citizen ID card (Căn cước công
dân, CCCD) carries a QR code whose text is pipe-separated::

    ID number | old ID number | full name | date of birth DDMMYYYY | sex | address | issue date DDMMYYYY

(the full name family name first, as Vietnamese names are written; newer cards may append
fields, which are ignored).  :func:`parse_cccd` keeps only what the comparison needs — the name
and the birth date — and drops the ID numbers, sex and address at once.  :func:`match_identity`
compares them with a :class:`~vaxcert.events.Holder`:

* names through the ICAO 9303 transliteration (:func:`vaxcert.dcc.translit.to_icao`), so accents,
  case, hyphens and spacing do not matter ("Nguyễn Văn An" = "NGUYEN VAN AN"), in either order
  of family and given names;
* birth dates on the parts both sides know: a certificate with a year-only (``1990``) or
  year-month (``1990-05``) birth date matches a card on that year (and month); the result says
  how precise the comparison was;
* "does not match" (:attr:`Match.MISMATCH`: a compared part differs) is distinct from "not
  comparable" (:attr:`Match.NOT_COMPARABLE`: one side lacks the part, or a name has letters with
  no transliteration).

Nothing here logs or stores anything; ``repr`` of cards and checks is redacted.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any, Final

from .dcc.translit import to_icao
from .errors import InputError
from .events import Holder, PartialDate

__all__ = ["CitizenCard", "IdentityCheck", "Match", "looks_like_cccd", "match_identity", "parse_cccd"]

#: Fields a CCCD QR text has at least (newer cards may add more after them).
CCCD_FIELDS: Final = 7
_ID_NUMBER = re.compile(r"[0-9]{12}")
_OLD_ID_NUMBER = re.compile(r"(?:[0-9]{9}|[0-9]{12})?")
_DDMMYYYY = re.compile(r"([0-9]{2})([0-9]{2})([0-9]{4})")
_NO_LIMIT: Final = 10_000
_MAX_TEXT: Final = 2_048


@dataclass(frozen=True, slots=True)
class CitizenCard:
    """What the comparison needs from a CCCD QR code: the full name as printed and the birth date.

    ``birth_date`` is partial when the card gives ``00`` for an unknown day or month, and None
    when the card gives none.  ``repr`` is redacted.
    """

    name: str
    birth_date: PartialDate | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (personal data: for the screen that shows it, never for logs)."""
        return {"name": self.name, "birth_date": self.birth_date.isoformat() if self.birth_date else None}

    def __repr__(self) -> str:
        return "CitizenCard(<redacted>)"


def looks_like_cccd(text: str) -> bool:
    """True when ``text`` has the shape of a CCCD QR code (12-digit ID number, ≥ 7 pipe-separated fields)."""
    if not isinstance(text, str) or len(text) > _MAX_TEXT:
        return False
    fields = text.strip().split("|")
    return len(fields) >= CCCD_FIELDS and _ID_NUMBER.fullmatch(fields[0].strip()) is not None


def _birth_date(text: str) -> PartialDate | None:
    text = text.strip()
    if not text:
        return None
    match = _DDMMYYYY.fullmatch(text)
    if match is None:
        raise InputError("cccd.birth_date", "must be DDMMYYYY")
    day, month, year = (int(part) for part in match.groups())
    if year == 0:
        return None
    try:
        if month == 0:
            if day != 0:
                raise ValueError("a day needs a month")
            return PartialDate(year)
        return PartialDate(year, month, day or None)
    except ValueError:
        raise InputError("cccd.birth_date", "is not a calendar date") from None


def parse_cccd(text: str) -> CitizenCard:
    """The name and birth date from a CCCD QR text; :class:`~vaxcert.errors.InputError` (naming the
    field, never echoing a value) when the text is not one."""
    if not isinstance(text, str):
        raise InputError("cccd", "must be text")
    if len(text) > _MAX_TEXT:
        raise InputError("cccd", "too long for a citizen ID card code")
    fields = [field.strip() for field in text.strip().split("|")]
    if len(fields) < CCCD_FIELDS:
        raise InputError("cccd", f"needs {CCCD_FIELDS} '|'-separated fields")
    if _ID_NUMBER.fullmatch(fields[0]) is None:
        raise InputError("cccd.id_number", "must be 12 digits")
    if _OLD_ID_NUMBER.fullmatch(fields[1]) is None:
        raise InputError("cccd.old_id_number", "must be empty, 9 or 12 digits")
    name = " ".join(fields[2].split())
    if not name:
        raise InputError("cccd.name", "is empty")
    return CitizenCard(name, _birth_date(fields[3]))


class Match(enum.StrEnum):
    """The outcome of comparing one part (or the whole identity)."""

    MATCH = "match"
    MISMATCH = "mismatch"
    NOT_COMPARABLE = "not_comparable"


@dataclass(frozen=True, slots=True)
class IdentityCheck:
    """The comparison of a card with a certificate holder.

    ``result`` is MISMATCH when the name or the birth date differs, MATCH when both were
    compared and agree, NOT_COMPARABLE otherwise.  ``birth_date_precision`` is how much of the
    birth date was compared (``"day"``, ``"month"``, ``"year"``), None when it was not.
    """

    result: Match
    name: Match
    birth_date: Match
    birth_date_precision: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (holds no personal data)."""
        return {"result": str(self.result), "name": str(self.name), "birth_date": str(self.birth_date),
                "birth_date_precision": self.birth_date_precision}

    def __repr__(self) -> str:
        return f"IdentityCheck(result={self.result.value})"


def _tokens(name: str | None) -> tuple[str, ...] | None:
    """The name's ICAO 9303 words, None when it has none or cannot be transliterated."""
    if not name or not name.strip():
        return None
    try:
        icao = to_icao(name, field="name", max_length=_NO_LIMIT)
    except InputError:
        return None
    words = tuple(word for word in icao.split("<") if word)
    return words or None


def _holder_part(printed: str | None, standard: str | None) -> tuple[str, ...] | None:
    return _tokens(printed) or _tokens(standard)


def _compare_names(card_name: str, holder: Holder) -> Match:
    card = _tokens(card_name)
    family = _holder_part(holder.family, holder.family_std)
    given = _holder_part(holder.given, holder.given_std)
    if card is None or (family is None and given is None):
        return Match.NOT_COMPARABLE
    family, given = family or (), given or ()
    return Match.MATCH if card in (family + given, given + family) else Match.MISMATCH


def _precision(date: PartialDate) -> str:
    return "day" if date.day is not None else "month" if date.month is not None else "year"


def _compare_dates(card: PartialDate | None, holder: PartialDate | None) -> tuple[Match, str | None]:
    if card is None or holder is None:
        return Match.NOT_COMPARABLE, None
    if not card.compatible(holder):
        return Match.MISMATCH, None
    coarse = min((_precision(card), _precision(holder)), key=("year", "month", "day").index)
    return Match.MATCH, coarse


def match_identity(card: CitizenCard, holder: Holder) -> IdentityCheck:
    """Compare the card's name and birth date with the certificate holder's (see the module notes)."""
    name = _compare_names(card.name, holder)
    birth, precision = _compare_dates(card.birth_date, holder.birth_date)
    if Match.MISMATCH in (name, birth):
        result = Match.MISMATCH
    elif name is Match.MATCH and birth is Match.MATCH:
        result = Match.MATCH
    else:
        result = Match.NOT_COMPARABLE
    return IdentityCheck(result, name, birth, precision)
