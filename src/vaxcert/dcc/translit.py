"""Names in the ICAO 9303 machine-readable form used by the DCC ``fnt`` / ``gnt`` fields.

:func:`to_icao` turns a name as printed (``"Trần Thị Ánh"``) into the standardised form
(``"TRAN<THI<ANH"``).  The rules, in order:

1. NFC-normalise, trim and collapse runs of whitespace (:func:`normalize_name`), then uppercase.
2. Latin letters follow the table of ICAO Doc 9303 Part 3, section 6 ("Transliteration of
   multinational Latin-based characters", :data:`ICAO_LATIN`).  Where the table offers a
   choice, the first (recommended) value is used: ``Ä→AE``, ``Ö→OE``, ``Ü→UE``, ``Å→AA``,
   ``Ñ→N``.  Letters the table does not list but that are an A–Z letter carrying combining
   diacritics (the Vietnamese ``Ơ``, ``Ư`` and every tone-marked vowel, Romanian ``Ș``/``Ț``,
   ...) lose their diacritics, as Vietnamese passports do: ``Nguyễn→NGUYEN``, ``Hương→HUONG``.
   A diaeresis on A/O/U and a ring on A keep the table's meaning even with a second mark
   (``Ǟ→AE``).
3. Cyrillic follows ICAO 9303 Part 3 section 6, table B (:data:`ICAO_CYRILLIC`), with the
   default (Russian-centred) values: ``Ж→ZH``, ``Х→KH``, ``Ц→TS``, ``Щ→SHCH``, ``Ъ→IE``,
   ``Ь`` omitted, ``Ю→IU``, ``Я→IA``.  The language-specific variants the table allows (``Г→H``
   for Ukrainian, the Bulgarian national ``Щ→SHT``) need the holder's MRZ, see below.
4. Greek is not in ICAO 9303; Greek passports use ELOT 743, which is implemented here with
   its digraph rules (``ΟΥ→OU``, ``ΑΥ/ΕΥ/ΗΥ→AV/EV/IV`` before a vowel or voiced consonant and
   ``AF/EF/IF`` otherwise, ``ΓΓ→NG``, ``ΓΞ→NX``, ``ΓΧ→NCH``, ``Θ→TH``, ``Χ→CH``, ``Ψ→PS``).
5. Spaces, hyphens, commas and ``<`` itself become the filler ``<`` (runs of them become a
   single ``<``, none at either end); apostrophes and full stops are dropped (ICAO: "other
   punctuation shall be omitted").  ``to_icao`` is therefore idempotent.
6. Anything else -- digits included, which the DCC schema's ``^[A-Z<]*$`` forbids, and letters
   of scripts without a table -- raises :class:`~vaxcert.errors.InputError` naming the field:
   nothing is silently dropped.
7. The result is cut to ``max_length`` (80 in DCC 1.3, 50 before) and trailing fillers are
   removed, so a truncated name ends with a letter (ICAO's truncation marker).

The DCC asks for "the same convention as the holder's machine-readable travel document"; for
a foreigner whose passport MRZ differs from these rules, store the MRZ form explicitly
(:class:`vaxcert.dcc.model.Name` ``family_icao`` / ``given_icao``) rather than changing the table.

Error messages name the field and, for an unsupported character, its code point only.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping
from types import MappingProxyType

from ..errors import InputError

__all__ = [
    "ICAO_CYRILLIC",
    "ICAO_LATIN",
    "ICAO_PATTERN",
    "MAX_LENGTH",
    "normalize_name",
    "to_icao",
]

MAX_LENGTH = 80
"""Maximum length of ``fnt`` / ``gnt`` in DCC schema 1.3.x (50 in 1.0.0 - 1.2.1)."""

ICAO_PATTERN = re.compile(r"[A-Z<]*")
"""What :func:`to_icao` can return (use with ``fullmatch``); the DCC schema's ``fnt`` pattern."""

ICAO_LATIN: Mapping[str, str] = MappingProxyType(
    {
        # ICAO Doc 9303 Part 3, section 6, "Transliteration of multinational Latin-based
        # characters" (uppercase; lowercase letters are uppercased first).
        "Á": "A", "À": "A", "Â": "A", "Ä": "AE", "Ã": "A", "Ă": "A", "Å": "AA", "Ā": "A", "Ą": "A",
        "Ć": "C", "Ĉ": "C", "Č": "C", "Ċ": "C", "Ç": "C",
        "Ď": "D", "Đ": "D", "Ð": "D",
        "É": "E", "È": "E", "Ê": "E", "Ë": "E", "Ě": "E", "Ė": "E", "Ē": "E", "Ę": "E", "Ĕ": "E",
        "Ĝ": "G", "Ğ": "G", "Ġ": "G", "Ģ": "G",
        "Ĥ": "H", "Ħ": "H",
        "Í": "I", "Ì": "I", "Î": "I", "Ï": "I", "Ĩ": "I", "İ": "I", "Ī": "I", "Į": "I", "Ĭ": "I",
        "Ĵ": "J",
        "Ķ": "K",
        "Ĺ": "L", "Ļ": "L", "Ľ": "L", "Ŀ": "L", "Ł": "L",
        "Ñ": "N", "Ń": "N", "Ņ": "N", "Ň": "N", "Ŋ": "N",
        "Ó": "O", "Ò": "O", "Ô": "O", "Ö": "OE", "Õ": "O", "Ő": "O", "Ø": "OE", "Ō": "O", "Ŏ": "O",
        "Ŕ": "R", "Ř": "R", "Ŗ": "R",
        "Ś": "S", "Ŝ": "S", "Š": "S", "Ş": "S",
        "Ť": "T", "Ţ": "T", "Ŧ": "T",
        "Ú": "U", "Ù": "U", "Û": "U", "Ü": "UE", "Ũ": "U", "Ŭ": "U", "Ű": "U", "Ů": "U", "Ū": "U",
        "Ų": "U",
        "Ŵ": "W",
        "Ý": "Y", "Ÿ": "Y", "Ŷ": "Y",
        "Ź": "Z", "Ž": "Z", "Ż": "Z",
        "Þ": "TH", "Æ": "AE", "Ĳ": "IJ", "Œ": "OE", "ß": "SS",
    }
)  # fmt: skip
"""ICAO 9303 Part 3 section 6 table for Latin letters with diacritics and ligatures."""

# Letters outside the table that do not decompose under NFD: capital sharp s, dotless i, and
# the Croatian/Serbian digraph letters (uppercase forms; lowercase ones are uppercased first).
_LATIN_EXTRA: Mapping[str, str] = MappingProxyType(
    {"ẞ": "SS", "ı": "I", "Ǆ": "DZ", "ǅ": "DZ", "Ǉ": "LJ", "ǈ": "LJ", "Ǌ": "NJ", "ǋ": "NJ", "Ǳ": "DZ", "ǲ": "DZ"}
)

ICAO_CYRILLIC: Mapping[str, str] = MappingProxyType(
    {
        # ICAO Doc 9303 Part 3, section 6, table B, default values.
        "А": "A", "Б": "B", "В": "V", "Г": "G", "Ґ": "G", "Д": "D", "Ђ": "D", "Ѓ": "G",
        "Е": "E", "Ё": "E", "Є": "IE", "Ж": "ZH", "З": "Z", "Ѕ": "DZ", "И": "I", "І": "I",
        "Ї": "I", "Й": "I", "Ј": "J", "К": "K", "Л": "L", "Љ": "LJ", "М": "M", "Н": "N",
        "Њ": "NJ", "О": "O", "П": "P", "Р": "R", "С": "S", "Т": "T", "Ћ": "C", "Ќ": "K",
        "У": "U", "Ў": "U", "Ф": "F", "Х": "KH", "Ц": "TS", "Ч": "CH", "Џ": "DZ", "Ш": "SH",
        "Щ": "SHCH", "Ъ": "IE", "Ы": "Y", "Ь": "", "Э": "E", "Ю": "IU", "Я": "IA",
    }
)  # fmt: skip
"""ICAO 9303 Part 3 section 6 table B (Cyrillic), default (non-language-specific) values."""

# ELOT 743 (Greek passports), single letters; digraphs are handled in _greek_word.
_GREEK: Mapping[str, str] = MappingProxyType(
    {
        "Α": "A", "Β": "V", "Γ": "G", "Δ": "D", "Ε": "E", "Ζ": "Z", "Η": "I", "Θ": "TH",
        "Ι": "I", "Κ": "K", "Λ": "L", "Μ": "M", "Ν": "N", "Ξ": "X", "Ο": "O", "Π": "P",
        "Ρ": "R", "Σ": "S", "Τ": "T", "Υ": "Y", "Φ": "F", "Χ": "CH", "Ψ": "PS", "Ω": "O",
    }
)  # fmt: skip
_GREEK_VOWELS = frozenset("ΑΕΗΙΟΥΩ")
_GREEK_VOICED = frozenset("ΒΓΔΖΛΜΝΡ")
_GREEK_GAMMA_DIGRAPHS: Mapping[str, str] = MappingProxyType({"Γ": "NG", "Ξ": "NX", "Χ": "NCH"})

_SEPARATORS = frozenset(
    # space, hyphens and dashes, comma, and the filler itself (so that to_icao is idempotent
    # and accepts names already in machine-readable form)
    " -,<\u2010\u2011\u2012\u2013\u2014\u2212"
)
_DROPPED = frozenset(
    # apostrophes, full stop; invisible formatting characters (soft hyphen, zero-width ones)
    "'.\u2018\u2019\u02bc\u02b9\u0060\u00b4\u02bb\u00ad\u200b\u200c\u200d\u2060\ufeff"
)
_DIAERESIS = "\u0308"
_RING = "\u030a"
_TONOS = "\u0301"


def normalize_name(s: str) -> str:
    """NFC-normalise ``s``, trim it and collapse internal whitespace to single spaces."""
    return " ".join(unicodedata.normalize("NFC", s).split())


def _clusters(text: str) -> list[tuple[str, frozenset[str]]]:
    """Split NFD text into (base character, set of combining marks) pairs."""
    out: list[tuple[str, set[str]]] = []
    for ch in text:
        if unicodedata.category(ch).startswith("M") and out:
            out[-1][1].add(ch)
        else:
            out.append((ch, set()))
    return [(base, frozenset(marks)) for base, marks in out]


def _is_diacritic(mark: str) -> bool:
    return "\u0300" <= mark <= "\u036f"


def _latin(base: str, marks: frozenset[str], precomposed: str) -> str | None:
    if precomposed in ICAO_LATIN:
        return ICAO_LATIN[precomposed]
    if base in ICAO_LATIN or base in _LATIN_EXTRA:
        if not all(_is_diacritic(m) for m in marks):
            return None
        return ICAO_LATIN.get(base) or _LATIN_EXTRA[base]
    if "A" <= base <= "Z":
        if not all(_is_diacritic(m) for m in marks):
            return None
        if _DIAERESIS in marks and base in "AOU":
            return base + "E"
        if _RING in marks and base == "A":
            return "AA"
        return base
    return None


def _is_greek(base: str) -> bool:
    return base in _GREEK


def _greek_word(clusters: list[tuple[str, frozenset[str]]]) -> str:
    """ELOT 743 for one run of Greek letters (uppercase, NFD clusters)."""
    out: list[str] = []
    i = 0
    n = len(clusters)
    while i < n:
        base, marks = clusters[i]
        nxt = clusters[i + 1] if i + 1 < n else None
        if base in "ΑΕΗΟ" and nxt is not None and nxt[0] == "Υ":
            # A digraph unless the Υ carries a dialytika or the first vowel an accent.
            if _DIAERESIS not in nxt[1] and _TONOS not in marks:
                if base == "Ο":
                    out.append("OU")
                else:
                    after = clusters[i + 2][0] if i + 2 < n else None
                    voiced = after is not None and (after in _GREEK_VOWELS or after in _GREEK_VOICED)
                    out.append(_GREEK[base] + ("V" if voiced else "F"))
                i += 2
                continue
        if base == "Γ" and nxt is not None and nxt[0] in _GREEK_GAMMA_DIGRAPHS:
            out.append(_GREEK_GAMMA_DIGRAPHS[nxt[0]])
            i += 2
            continue
        out.append(_GREEK[base])
        i += 1
    return "".join(out)


def to_icao(name: str, *, field: str = "name", max_length: int = MAX_LENGTH) -> str:
    """Return the ICAO 9303 machine-readable form of ``name`` (A-Z and ``<`` only).

    Raises :class:`InputError` naming ``field`` for a character with no transliteration.
    The result may be empty when ``name`` has no letters (callers decide whether that is
    acceptable).  See the module docstring for the rules.

    Words are transliterated one at a time and remembered (:func:`_word`): every rule works
    inside a word (a space is its own cluster and ends any run of Greek letters), so a name's
    transliteration is its words' joined by ``<``, and the words of names repeat far more than
    names do (Vietnamese names are made of a few thousand syllables).  A word that starts with a
    combining mark (which the whole-name reading attaches to the space before it) takes the
    whole-name path, which stays the reference (tests compare the two).  Whole names are
    remembered too (:func:`_name_text`): a record's name is read when it is made and again for
    ``fnt`` / ``gnt``, and family and given names repeat across persons.
    """
    if not isinstance(name, str):
        raise InputError(field, "must be a string")
    if max_length < 1:
        raise ValueError("max_length must be positive")
    return _name_text(name, field, max_length)


@functools.lru_cache(maxsize=1 << 16)
def _name_text(name: str, field: str, max_length: int) -> str:
    """:func:`to_icao` of a checked text (a refusal raises, and is not remembered)."""
    words = normalize_name(name).split(" ")
    parts: list[str] = []
    for word in words:
        if word and word[0] >= "\u0300" and unicodedata.category(word[0]).startswith("M"):
            return _finish(_transliterate(unicodedata.normalize("NFD", " ".join(words).upper()), field), max_length)
        raw = _word(word)
        if type(raw) is tuple:
            raise InputError(field, raw[0])
        parts.append(raw)  # type: ignore[arg-type]
    return _finish("<".join(parts), max_length)


def _to_icao_whole(name: str, *, field: str = "name", max_length: int = MAX_LENGTH) -> str:
    """:func:`to_icao` reading the whole name at once (the reference the word path is tested against)."""
    if not isinstance(name, str):
        raise InputError(field, "must be a string")
    return _finish(_transliterate(unicodedata.normalize("NFD", normalize_name(name).upper()), field), max_length)


def _finish(raw: str, max_length: int) -> str:
    """Collapse runs of ``<``, strip them at both ends, and cut to ``max_length``."""
    result = _FILLER_RUN.sub("<", raw).strip("<") if "<<" in raw or raw[:1] == "<" or raw[-1:] == "<" else raw
    if len(result) > max_length:
        result = result[:max_length].rstrip("<")
    return result


_FILLER_RUN = re.compile("<+")


@functools.lru_cache(maxsize=1 << 16)
def _word(word: str) -> str | tuple[str]:
    """The uncollapsed transliteration of one word, or ``(message,)`` when it has none."""
    try:
        return _transliterate(unicodedata.normalize("NFD", word.upper()), "name")
    except InputError as exc:
        return (exc.message,)


def _transliterate(text: str, field: str) -> str:
    """Map upper-case NFD text cluster by cluster (separators give ``<``), uncollapsed."""
    clusters = _clusters(text)
    out: list[str] = []
    i = 0
    while i < len(clusters):
        base, marks = clusters[i]
        if _is_greek(base):
            j = i
            while j < len(clusters) and _is_greek(clusters[j][0]):
                j += 1
            if not all(m in (_TONOS, _DIAERESIS) for _, ms in clusters[i:j] for m in ms):
                raise InputError(field, "contains a Greek letter with an unsupported mark")
            out.append(_greek_word(clusters[i:j]))
            i = j
            continue
        i += 1
        if base in _SEPARATORS or base.isspace():
            if not marks:
                out.append("<")
                continue
        elif base in _DROPPED and not marks:
            continue
        precomposed = unicodedata.normalize("NFC", base + "".join(sorted(marks)))
        mapped = ICAO_CYRILLIC.get(precomposed)
        if mapped is None and base in ICAO_CYRILLIC and all(_is_diacritic(m) for m in marks):
            mapped = ICAO_CYRILLIC[base]
        if mapped is None:
            mapped = _latin(base, marks, precomposed)
        if mapped is None:
            if base.isdigit():
                raise InputError(field, "contains a digit, which ICAO 9303 names cannot hold")
            raise InputError(field, f"contains a character with no ICAO 9303 transliteration (U+{ord(base):04X})")
        out.append(mapped)
    return "".join(out)
