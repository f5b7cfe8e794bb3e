"""Reading files in the dgc-testdata vector format, tolerantly.

A vector file is a JSON object with some of the fields ``JSON`` (the DCC payload), ``CBOR``
(hex), ``COSE`` (hex), ``COMPRESSED`` (hex), ``BASE45``, ``PREFIX``, ``2DCODE`` (a base64 PNG),
a ``TESTCTX`` object (``SCHEMA``, ``CERTIFICATE``, ``VALIDATIONCLOCK``, ``DESCRIPTION``, ...)
and an ``EXPECTEDRESULTS`` object of booleans.  See docs/vectors.md.

The published files are messy in ways the format allows, and reading tolerates all of them:
byte-order marks (UTF-8 and UTF-16), hex with white space or upper case, base64 with white space,
a ``data:`` URI prefix or URL-safe letters, certificates with or without PEM armour, clocks with
fractional seconds, ``Z`` or numeric offsets (with or without a colon), or no offset at all
(naive clocks are read as UTC), ``validationClockInstant`` where ``VALIDATIONCLOCK`` is missing,
expectations written as the strings ``"true"`` / ``"false"``, and missing fields of any kind.

What is *not* tolerated is anything a check examines: a field that is present but cannot be read
(hex that is not hex, a certificate that is not one) is kept as *present but unreadable*, so the
checks that use it fail instead of being skipped.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ..errors import ConfigurationError, VaxcertError
from ..jsonio import ascii_digits
from ..pki.certificates import split_certificates

__all__ = [
    "CHECKS",
    "DATA_FIELDS",
    "EXTENSION_CHECKS",
    "UNREADABLE",
    "Unreadable",
    "VectorFile",
    "VectorFormatError",
    "find_files",
    "load",
    "parse",
    "parse_clock",
]

#: The data fields of a vector file, in pipeline order.
DATA_FIELDS: Final = ("JSON", "CBOR", "COSE", "COMPRESSED", "BASE45", "PREFIX", "2DCODE")

#: The checks of the dgc-testdata README, in pipeline order (decoding direction, then encoding).
CHECKS: Final = (
    "EXPECTEDPICTUREDECODE",
    "EXPECTEDUNPREFIX",
    "EXPECTEDB45DECODE",
    "EXPECTEDCOMPRESSION",
    "EXPECTEDDECODE",
    "EXPECTEDVERIFY",
    "EXPECTEDEXPIRATIONCHECK",
    "EXPECTEDKEYUSAGE",
    "EXPECTEDSCHEMAVALIDATION",
    "EXPECTEDVALIDJSON",
    "EXPECTEDVALIDOBJECT",
    "EXPECTEDENCODE",
)

#: vaxcert's extensions to the format; other runners ignore unknown keys.  ``EXPECTEDPASS``: the
#: certificate verifies at VALIDATIONCLOCK *and* grants a pass under vaxcert's default policy.
EXTENSION_CHECKS: Final = ("EXPECTEDPASS",)

_KNOWN_CHECKS: Final = frozenset(CHECKS + EXTENSION_CHECKS)
_HEX_FIELDS: Final = ("CBOR", "COSE", "COMPRESSED")
_DATA_URI: Final = re.compile(r"^\s*data:[^,]*,", re.I)
_BOMS: Final = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
#: Offsets written without a colon (``+0200``), which ``fromisoformat`` of some versions refuses.
_OFFSET_NO_COLON: Final = re.compile(r"([+-])([0-9]{2})([0-9]{2})$")
#: Fractions of more than six digits (``.9906293``): datetime keeps microseconds.
_LONG_FRACTION: Final = re.compile(r"(\.[0-9]{6})[0-9]+")


class VectorFormatError(VaxcertError):
    """A file is not a vector file at all (not JSON, or not a JSON object)."""


class Unreadable:
    """Marker for a field that is present but cannot be read (e.g. ``COSE`` that is not hex)."""

    _instance: Unreadable | None = None

    def __new__(cls) -> Unreadable:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNREADABLE"

    def __bool__(self) -> bool:
        return False


UNREADABLE: Final = Unreadable()


@dataclass(frozen=True, slots=True)
class VectorFile:
    """One vector file, its fields decoded.  A field is ``None`` when absent, UNREADABLE when
    present but unreadable.  ``json_payload`` is meaningful only when ``"JSON"`` is in ``present``
    (``null`` is a JSON value).  ``repr`` shows no field contents (they hold personal data)."""

    path: str
    description: str
    present: frozenset[str]
    json_payload: Any = None
    cbor: bytes | Unreadable | None = None
    cose: bytes | Unreadable | None = None
    compressed: bytes | Unreadable | None = None
    base45: str | Unreadable | None = None
    prefix: str | Unreadable | None = None
    png: bytes | Unreadable | None = None
    schema: str | Unreadable | None = None
    certificate: bytes | Unreadable | None = None
    clock: dt.datetime | Unreadable | None = None
    expected: Mapping[str, bool] = field(default_factory=dict)
    ignored_keys: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"VectorFile(path={self.path!r}, fields={sorted(self.present)}, expected={sorted(self.expected)})"


def _decode_text(data: bytes) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding)
    return data.decode("utf-8")


def _hex(value: object) -> bytes | Unreadable:
    if not isinstance(value, str):
        return UNREADABLE
    text = "".join(value.split())
    if text[:2] in ("0x", "0X"):
        text = text[2:]
    try:
        return bytes.fromhex(text)
    except ValueError:
        return UNREADABLE


def _base64(value: object) -> bytes | Unreadable:
    if not isinstance(value, str):
        return UNREADABLE
    text = "".join(_DATA_URI.sub("", value).split()).replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        return UNREADABLE


def _text(value: object) -> str | Unreadable:
    return value if isinstance(value, str) else UNREADABLE


def _certificate(value: object) -> bytes | Unreadable:
    if not isinstance(value, str):
        return UNREADABLE
    try:
        blobs = split_certificates(value.encode("utf-8"))
    except ConfigurationError:
        return UNREADABLE
    return blobs[0] if blobs else UNREADABLE


def parse_clock(value: object) -> dt.datetime | None:
    """An ISO 8601 timestamp (or epoch seconds) as an aware datetime; naive times are UTC.

    Returns None when ``value`` is not a time.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if not math.isfinite(value):
            return None
        try:
            return dt.datetime.fromtimestamp(value, dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    text = _OFFSET_NO_COLON.sub(r"\1\2:\3", text)
    text = _LONG_FRACTION.sub(r"\1", text)
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _lookup(mapping: Mapping[str, Any], *names: str) -> tuple[bool, Any]:
    """The value of the first of ``names`` present (exact spelling first, then ignoring case)."""
    for name in names:
        if name in mapping:
            return True, mapping[name]
    folded = {k.casefold(): k for k in mapping if isinstance(k, str)}
    for name in names:
        key = folded.get(name.casefold())
        if key is not None:
            return True, mapping[key]
    return False, None


def _expectation(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def parse(data: bytes, path: str) -> VectorFile:
    """Parse the bytes of one vector file; raise VectorFormatError if it is not a JSON object."""
    try:
        document = json.loads(_decode_text(data))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise VectorFormatError(f"{path}: not a JSON document") from None
    if not isinstance(document, dict):
        raise VectorFormatError(f"{path}: not a JSON object")

    present: set[str] = set()
    notes: list[str] = []
    values: dict[str, Any] = {}

    def take(name: str, converted: object) -> None:
        present.add(name)
        if converted is UNREADABLE:
            notes.append(f"{name}: present but unreadable")
        values[name] = converted

    found, raw_json = _lookup(document, "JSON")
    if found:
        present.add("JSON")
    for name in _HEX_FIELDS:
        found, raw = _lookup(document, name)
        if found:
            take(name, _hex(raw))
    for name in ("BASE45", "PREFIX"):
        found, raw = _lookup(document, name)
        if found:
            take(name, _text(raw))
    found, raw = _lookup(document, "2DCODE")
    if found:
        take("2DCODE", _base64(raw))

    found, ctx = _lookup(document, "TESTCTX")
    context: Mapping[str, Any] = ctx if found and isinstance(ctx, dict) else {}
    if found and not isinstance(ctx, dict):
        notes.append("TESTCTX: not an object (ignored)")
    found, raw = _lookup(context, "SCHEMA")
    if found:
        take("SCHEMA", str(raw) if isinstance(raw, str | int | float) and not isinstance(raw, bool) else UNREADABLE)
    found, raw = _lookup(context, "CERTIFICATE")
    if found:
        take("CERTIFICATE", _certificate(raw))
    found, raw = _lookup(context, "VALIDATIONCLOCK", "validationClockInstant")
    if found:
        clock = parse_clock(raw)
        take("VALIDATIONCLOCK", clock if clock is not None else UNREADABLE)
    found, raw = _lookup(context, "DESCRIPTION")
    description = raw if found and isinstance(raw, str) else ""

    found, raw_expected = _lookup(document, "EXPECTEDRESULTS")
    expected: dict[str, bool] = {}
    ignored: list[str] = []
    if found and isinstance(raw_expected, dict):
        for key, value in raw_expected.items():
            verdict = _expectation(value)
            if key in _KNOWN_CHECKS and verdict is not None:
                expected[key] = verdict
            else:
                ignored.append(str(key))
    elif found:
        notes.append("EXPECTEDRESULTS: not an object (ignored)")

    return VectorFile(
        path=path,
        description=description,
        present=frozenset(present),
        json_payload=raw_json,
        cbor=values.get("CBOR"),
        cose=values.get("COSE"),
        compressed=values.get("COMPRESSED"),
        base45=values.get("BASE45"),
        prefix=values.get("PREFIX"),
        png=values.get("2DCODE"),
        schema=values.get("SCHEMA"),
        certificate=values.get("CERTIFICATE"),
        clock=values.get("VALIDATIONCLOCK"),
        expected=expected,
        ignored_keys=tuple(ignored),
        notes=tuple(notes),
    )


def load(path: str | os.PathLike[str], display: str | None = None) -> VectorFile:
    """Read and parse one vector file; ``display`` is the path to report (default: ``path``)."""
    shown = display if display is not None else os.fspath(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise VectorFormatError(f"{shown}: cannot read ({exc.strerror})") from None
    return parse(data, shown)


def _natural_key(text: str) -> list[tuple[int, int | str]]:
    return [(0, int(part)) if ascii_digits(part) else (1, part) for part in re.split(r"([0-9]+)", text) if part]


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        if Path(root).name == "raw":
            for name in files:
                if name.lower().endswith(".json"):
                    yield Path(root) / name


def find_files(paths: Iterable[str | os.PathLike[str]]) -> list[tuple[str, Path]]:
    """The vector files named by ``paths``: (path to report, path to read), in a stable order.

    A file is taken as it is; a folder is searched recursively for ``*/raw/*.json``.  Files
    found in a folder are reported as ``<folder as given>/<relative path>`` and sorted
    naturally (``2.json`` before ``10.json``).  A path that does not exist raises
    ConfigurationError.
    """
    out: list[tuple[str, Path]] = []
    seen: set[Path] = set()
    for raw in paths:
        given = os.fspath(raw)
        path = Path(given)
        if path.is_file():
            found = [(given, path)]
        elif path.is_dir():
            rel = sorted(((p.relative_to(path).as_posix(), p) for p in _walk(path)),
                         key=lambda item: _natural_key(item[0]))
            found = [(os.path.join(given, r) if given not in ("", ".") else r, p) for r, p in rel]
        else:
            raise ConfigurationError(f"{given}: no such file or folder")
        for shown, real in found:
            key = real.resolve()
            if key not in seen:
                seen.add(key)
                out.append((shown, real))
    return out
