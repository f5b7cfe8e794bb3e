"""Unique vaccination certificate identifiers (UVCI), the DCC ``ci`` field.

Reading of the eHealth Network "Guidelines on verifiable vaccination certificates - basic
interoperability elements", Annex 2, as implemented here::

    URN:UVCI:01:VN:MOH/HN/4T7KQ2M9XW...#K
    \\_______/ \\/ \\/ \\____/ \\_______/ |
     prefix   |  |  issuer   opaque  checksum
           version country  blocks    id

* The prefix ``URN:UVCI:`` is optional on input; :func:`generate` always writes it.
* Version ``01`` (the only version defined), then the issuing country (ISO 3166-1 alpha-2),
  separated by ``:``.  :func:`parse` also accepts the layouts without those separators that
  some countries issue in production (``URN:UVCI:01DE/...``, ``01IT...``) and reports them with
  ``standard_layout=False``.
* The identifier: blocks of ``A-Z 0-9`` separated by ``/``.  Every block but the last names the
  issuing entity (and, optionally, further semantics such as a facility); the last block is the
  opaque unique part.  An identifier of one block is opaque only (the guideline's option 2).
* An optional check character follows ``#``.  It is the Luhn mod N check character (ISO/IEC
  7812-1 generalised to N symbols) with N = 38 over the code points
  ``ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/:`` (letters first, then digits, then the ``/`` and
  ``:`` separators), computed over the whole string before ``#`` **including the
  ``URN:UVCI:`` prefix** when present (the string as written, uppercased).

  This reading is the one the published test certificates agree on: every checksummed UVCI of
  the AT, DK, GR and IS vectors, and of the upper-case FR vectors, checks with it (the French
  vectors even carry ``/`` and ``:`` as check characters, which fixes N = 38 and the order of
  the alphabet).  The BE vectors use a mod-36 variant (letters and digits only); BG, DE, ES, IT
  and several lower-case FR vectors match no consistent variant (see ``tests/test_uvci.py``).
* Total length at most 80 (the DCC 1.3 schema's ``maxLength``; 50 in schema 1.0-1.2.1).

Parsing is case-insensitive; every output is canonical upper case.  Luhn mod N detects every
single-character substitution; it detects every transposition of adjacent characters except
the pair with code points 0 and N - 1 (``A`` and ``:``); swapping those in a well-formed UVCI
moves a ``:`` separator, which :func:`parse` rejects.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from ..errors import InputError

__all__ = [
    "ALPHABET",
    "MAX_LENGTH",
    "PREFIX",
    "RANDOM_ALPHABET",
    "VERSION",
    "Uvci",
    "UvciMaker",
    "checksum",
    "generate",
    "is_valid",
    "parse",
]

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/:"
"""Code points 0..37 of the Luhn mod N check character."""

PREFIX = "URN:UVCI:"
VERSION = "01"
MAX_LENGTH = 80

RANDOM_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""Symbols of the random opaque part: no ``I``/``1``/``O``/``0``, which people misread."""

RANDOM_LENGTH = 26
"""26 symbols of 32 = 130 random bits."""

_INDEX = {ch: i for i, ch in enumerate(ALPHABET)}
_BLOCK = re.compile(r"[A-Z0-9]+")
_UVCI = re.compile(
    r"(?P<prefix>URN:UVCI:)?(?P<version>[0-9]{2})(?P<sep1>:?)(?P<country>[A-Z]{2})(?P<sep2>[:/]?)"
    r"(?P<ident>[A-Z0-9]+(?:/[A-Z0-9]+)*)(?:#(?P<check>[A-Z0-9/:]))?"
)


# Luhn mod N addends per character: the rightmost character is doubled, then every second one.
_DOUBLED = {ch: (2 * code) // len(ALPHABET) + (2 * code) % len(ALPHABET) for ch, code in _INDEX.items()}


def _addends(reverse: str, *, doubled_first: bool) -> int:
    """The Luhn mod N sum of a reversed text whose first character is doubled (or not)."""
    first, second = (_DOUBLED, _INDEX) if doubled_first else (_INDEX, _DOUBLED)
    return sum(map(first.__getitem__, reverse[0::2])) + sum(map(second.__getitem__, reverse[1::2]))


# The same addends as byte translation tables, for bodies known to be upper-case ASCII in the
# alphabet: ``sum(reverse[0::2].translate(...))`` adds them up in C.
_INDEX_BYTES = bytes(_INDEX.get(chr(b), 0) for b in range(256))
_DOUBLED_BYTES = bytes(_DOUBLED.get(chr(b), 0) for b in range(256))


def _fast_addends(reverse: bytes) -> int:
    """:func:`_addends` (first character doubled) of reversed ASCII text in the alphabet."""
    return sum(reverse[0::2].translate(_DOUBLED_BYTES)) + sum(reverse[1::2].translate(_INDEX_BYTES))


def _check_character(total: int) -> str:
    n = len(ALPHABET)
    return ALPHABET[(n - total % n) % n]


def checksum(s: str, *, field: str = "ci") -> str:
    """The Luhn mod 38 check character of ``s`` (case-insensitive)."""
    try:
        return _check_character(_addends(s.upper()[::-1], doubled_first=True))
    except KeyError:
        raise InputError(field, "contains a character outside A-Z, 0-9, '/' and ':'") from None


class UvciMaker:
    """Many UVCIs ``URN:UVCI:01:<CC>:<ENTITY>/<26 random symbols>#<check>`` for one issuer, fast.

    The same format and check character as :func:`generate` (the same Luhn mod 38 addends), with
    the constant prefix's share of the sum computed once: a few µs instead of 45.  The unique part
    is 26 symbols of 32 (130 random bits from :mod:`secrets`).
    """

    # byte -> symbol: 256 is a multiple of 32, so every symbol is equally likely (5 random bits each)
    _SYMBOLS = bytes(RANDOM_ALPHABET.encode()[b % 32] for b in range(256))

    def __init__(self, country: str, entity: str) -> None:
        if not re.fullmatch(r"[A-Z]{2}", country) or not re.fullmatch(r"[A-Z0-9]{1,24}", entity):
            raise InputError("uvci", "country must be 2 letters and entity 1-24 of A-Z, 0-9")
        self.prefix = f"{PREFIX}{VERSION}:{country}:{entity}/"
        # The unique part has an even number of characters, so the prefix's last character is doubled.
        self._prefix_total = _addends(self.prefix[::-1], doubled_first=RANDOM_LENGTH % 2 == 0)

    def __call__(self) -> str:
        unique = secrets.token_bytes(RANDOM_LENGTH).translate(self._SYMBOLS)
        total = self._prefix_total + _fast_addends(unique[::-1])
        return f"{self.prefix}{unique.decode()}#{_check_character(total)}"

    def __repr__(self) -> str:
        return f"UvciMaker({self.prefix!r})"


@dataclass(frozen=True, slots=True)
class Uvci:
    """A parsed UVCI.  ``str()`` gives the canonical (upper-case) text.

    ``issuer`` holds the blocks before the opaque part (possibly none).  ``checksum`` is the
    check character as written (``None`` when absent); :attr:`checksum_ok` says whether it is
    right.  ``standard_layout`` is false for the separator-less variants some issuers use
    (``01DE/...``, ``01IT...``), which :func:`parse` accepts but :func:`generate` never writes.
    ``repr`` hides the identifier (certificate identifiers are personal data).
    """

    text: str
    version: str
    country: str
    issuer: tuple[str, ...]
    opaque: str
    checksum: str | None
    has_prefix: bool
    standard_layout: bool

    @property
    def body(self) -> str:
        """Everything before ``#``: the text the check character covers."""
        return self.text if self.checksum is None else self.text[: -len(self.checksum) - 1]

    @property
    def checksum_ok(self) -> bool | None:
        """``True``/``False`` for a right/wrong check character, ``None`` when there is none."""
        if self.checksum is None:
            return None
        return checksum(self.body) == self.checksum

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Uvci(version={self.version!r}, country={self.country!r}, <redacted>)"


def parse(uvci: str, *, field: str = "ci") -> Uvci:
    """Parse ``uvci`` (case-insensitive); raise :class:`InputError` naming ``field`` if malformed.

    A wrong check character is not a parse error: see :attr:`Uvci.checksum_ok`.
    """
    if not isinstance(uvci, str):
        raise InputError(field, "must be a string")
    if len(uvci) > MAX_LENGTH:
        raise InputError(field, f"is longer than {MAX_LENGTH} characters")
    text = uvci.upper()
    m = _UVCI.fullmatch(text)
    if m is None:
        raise InputError(field, "is not a UVCI of the form [URN:UVCI:]01:CC:BLOCK[/BLOCK...][#C] (A-Z, 0-9)")
    if m["version"] != VERSION:
        raise InputError(field, f"has an unsupported UVCI version (only {VERSION} is defined)")
    blocks = m["ident"].split("/")
    return Uvci(
        text=text,
        version=m["version"],
        country=m["country"],
        issuer=tuple(blocks[:-1]),
        opaque=blocks[-1],
        checksum=m["check"],
        has_prefix=m["prefix"] is not None,
        standard_layout=m["sep1"] == ":" and m["sep2"] == ":",
    )


def is_valid(uvci: str, *, require_checksum: bool = False) -> bool:
    """Whether ``uvci`` is well formed and its check character (if any) is right."""
    try:
        parsed = parse(uvci)
    except InputError:
        return False
    ok = parsed.checksum_ok
    return ok is True or (ok is None and not require_checksum)


def generate(country: str = "VN", issuer_entity: str | None = None, unique: str | None = None) -> str:
    """A new canonical UVCI ``URN:UVCI:01:<country>:[<issuer_entity>/]<unique>#<check>``.

    ``issuer_entity`` is one or more ``/``-separated blocks (``"MOH"``, ``"MOH/HN"``);
    ``unique`` defaults to 26 random symbols from :data:`RANDOM_ALPHABET` drawn with
    :mod:`secrets`.  Raises :class:`InputError` for malformed parts or a result over 80 characters.
    """
    country = country.upper()
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise InputError("country", "must be an ISO 3166-1 alpha-2 code")
    blocks: list[str] = []
    if issuer_entity is not None:
        blocks = issuer_entity.upper().split("/")
        if not all(_BLOCK.fullmatch(b) for b in blocks):
            raise InputError("issuer_entity", "must be blocks of A-Z, 0-9 separated by '/'")
    if unique is None:
        unique = "".join(secrets.choice(RANDOM_ALPHABET) for _ in range(RANDOM_LENGTH))
    unique = unique.upper()
    if not _BLOCK.fullmatch(unique):
        raise InputError("unique", "must be one block of A-Z, 0-9")
    body = f"{PREFIX}{VERSION}:{country}:{'/'.join((*blocks, unique))}"
    result = f"{body}#{checksum(body)}"
    if len(result) > MAX_LENGTH:
        raise InputError("unique", f"makes the UVCI longer than {MAX_LENGTH} characters")
    return result
