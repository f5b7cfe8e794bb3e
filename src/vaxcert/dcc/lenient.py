"""Reading DCC payloads as real issuers wrote them: what the default verifier tolerates.

Certificates in production carry quirks that the full DCC schema refuses or that later stages
would misread, although the signature protects every byte of them and the EU verifier apps
accept them.  :func:`read_payload` turns such a payload into the payload it plainly means,
and says what it changed (warnings name the JSON path and the quirk, never the value):

* members whose value is ``null`` are dropped (``"t": null``, ``"ma": null``), and so are
  ``v`` / ``t`` / ``r`` members holding an empty list, so that the certificate type is read
  from the entries that exist;
* whitespace around text values is removed;
* numbers written as integral floats (``"dn": 2.0``) become integers, the same JSON number;
* dates written in other ISO 8601 spellings (a date-time, the basic format ``20210607``)
  become ``YYYY-MM-DD``; date-times become RFC 3339 (a missing UTC offset is read as UTC, with
  a warning).  Spellings that would need a guess (``07/06/2021``: June or July?) are left as
  they are, and the schema or the pass policy refuses them.

What the full schema still refuses after that, and the default verifier accepts with a
warning, is decided by :func:`vaxcert.schema.validate` with ``lenient=True`` (``fnt`` / ``gnt``
outside ``[A-Z<]``, issuer names longer than 80 characters).  Strict verification
(``Verifier(strict=True)``, ``vectors run``) applies none of this.

A clean payload is returned as the same object, without copying: this runs on every
verification.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Final, NamedTuple

try:
    from ..stages._speedups import tidy_kind as _compiled_tidy_kind
except ImportError:  # not built (a wheel, no C compiler): pure Python (scripts/build_speedups.py)
    _compiled_tidy_kind = None  # type: ignore[assignment]

__all__ = ["Reading", "read_payload", "reads_as_written", "tidy_as_written", "tidy_kind", "tidy_kind_python"]

_TYPES: Final = ("v", "t", "r")
#: Members holding a date (``YYYY-MM-DD``) or a date-time (RFC 3339), per certificate type.
_DATES: Final = {"v": ("dt",), "t": (), "r": ("fr", "df", "du")}
_DATETIMES: Final = {"v": (), "t": ("sc", "dr"), "r": ()}
# Date-times the standard library reads unambiguously: ISO 8601 only (no day-first spellings).
_ISO_LIKE: Final = re.compile(r"[0-9]{4}-?[0-9]{2}-?[0-9]{2}(?:[T ].*)?")


class Reading(NamedTuple):
    """The payload as it is meant (``payload``), and what was changed to read it (``warnings``).

    A NamedTuple: built on every verification, and cheaper than a frozen dataclass.
    """

    payload: dict[str, Any]
    warnings: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"Reading(payload=<redacted>, warnings={self.warnings!r})"


def read_payload(payload: dict[str, Any]) -> Reading:
    """Normalise the quirks real issuers write (see the module note); never raises."""
    if reads_as_written(payload):
        return Reading(payload)
    return _read(payload)


def _read(payload: dict[str, Any]) -> Reading:
    """The general reading (:func:`read_payload` without its quick test)."""
    notes: list[str] = []
    cleaned = _clean(payload, "", notes) if _unclean(payload) else payload
    if type(cleaned) is not dict:  # not reachable for a dict, but keep the type honest
        return Reading(payload, tuple(notes))
    for kind in _TYPES:
        if type(cleaned.get(kind)) is list and not cleaned[kind]:
            if cleaned is payload:
                cleaned = dict(payload)
            del cleaned[kind]
            notes.append(f"{kind}: empty list dropped")
    dob = cleaned.get("dob")
    if type(dob) is str and not _partial_date_shaped(dob):
        day = _as_date(dob)
        if day is not None:
            cleaned = _replace(cleaned, payload, "dob", day)
            notes.append("dob: date written in another ISO 8601 form, read as YYYY-MM-DD")
    for kind in _TYPES:
        entries = cleaned.get(kind)
        if type(entries) is not list:
            continue
        new_entries = entries
        for index, entry in enumerate(entries):
            if type(entry) is not dict:
                continue
            new_entry = _entry_times(entry, kind, f"{kind}[{index}]", notes)
            if new_entry is not entry:
                if new_entries is entries:
                    new_entries = list(entries)
                new_entries[index] = new_entry
        if new_entries is not entries:
            cleaned = _replace(cleaned, payload, kind, new_entries)
    return Reading(cleaned, tuple(notes))


#: Per certificate type: the members holding dates and those holding date-times.
_TIME_MEMBERS: Final = {kind: (_DATES[kind], _DATETIMES[kind]) for kind in _TYPES}


def reads_as_written(payload: dict[str, Any]) -> bool:
    """True when :func:`read_payload` would change nothing (the usual case, answered quickly).

    One pass over the usual DCC shape, on every verification.  Anything unusual (a non-object
    entry, nested values inside an entry) is handed to the general walk, which decides exactly.
    """
    for key, item in payload.items():
        kind = type(item)
        if kind is str:
            if item.strip() is not item:
                return False
        elif kind is list:
            if not item:
                return False
            times = _TIME_MEMBERS.get(key)
            for entry in item:
                if type(entry) is not dict:
                    return False
                for value in entry.values():
                    vkind = type(value)
                    if vkind is str:
                        if value.strip() is not value:
                            return False
                    elif value is None or vkind is float:
                        return False
                    elif (vkind is dict or vkind is list) and _unclean(value):
                        return False
                if times is not None:
                    for name in times[0]:
                        text = entry.get(name)
                        if type(text) is str and not (len(text) == 10 and text[4] == "-" and text[7] == "-"):
                            return False
                    for name in times[1]:
                        text = entry.get(name)
                        if type(text) is str and not _datetime_shaped(text):
                            return False
        elif kind is dict:
            if _unclean(item):
                return False
        elif item is None or kind is float:
            return False
    dob = payload.get("dob")
    return type(dob) is not str or _partial_date_shaped(dob)


_OTHER_TYPES: Final = {"v": ("t", "r"), "t": ("v", "r"), "r": ("v", "t")}


def tidy_as_written(payload: dict[str, Any], kind: str) -> bool:
    """:func:`reads_as_written` for a *tidy* payload whose one entry is of type ``kind``.

    Tidy means no null member, no text with surrounding whitespace and no float
    (:attr:`vaxcert.stages.cwt.Claims.tidy`), so only the other types' empty lists and the
    spelling of the entry's dates and the birth date remain to be looked at.  Written out per
    type: this runs on every verification.
    """
    # anything but ver, nam, dob and the entry (a payload without ver may hold an empty list
    # of another type in its place): look for empty type lists
    if len(payload) != 4 or "ver" not in payload or "nam" not in payload or "dob" not in payload:
        for other in _OTHER_TYPES[kind]:
            entries = payload.get(other)
            if type(entries) is list and not entries:
                return False
    return _dates_as_written(payload, kind, payload[kind][0])


def _dates_as_written(payload: dict[str, Any], kind: str, entry: object) -> bool:
    """The birth date and the entry's dates of a tidy payload are in their standard spellings."""
    dob = payload.get("dob")
    if type(dob) is str:
        size = len(dob)
        if not (size in (0, 4) or (size == 7 and dob[4] == "-") or (size == 10 and dob[4] == "-" and dob[7] == "-")):
            return False
    if type(entry) is not dict:
        return True
    if kind == "t":
        text = entry.get("sc")
        if type(text) is str and not _datetime_shaped(text):
            return False
        text = entry.get("dr")
        return type(text) is not str or _datetime_shaped(text)
    for name in _DATES[kind]:
        text = entry.get(name)
        if type(text) is str and not (len(text) == 10 and text[4] == "-" and text[7] == "-"):
            return False
    return True


def tidy_kind(payload: dict[str, Any]) -> str | None:
    """The certificate type of a *tidy* payload that reads as written, in one look; else None.

    For a tidy payload (:attr:`vaxcert.stages.cwt.Claims.tidy`): ``kind`` when
    :func:`vaxcert.dcc.payload.certificate_type` gives ``kind`` and :func:`tidy_as_written`
    holds for it, None in every other case (the caller then asks those two, which explain).
    The usual certificate on every verification: one type member holding one entry.  Answered in
    one C call when the compiled shortcuts are built (:func:`tidy_kind_python` is the reference).
    """
    if _compiled_tidy_kind is not None:
        kind = _compiled_tidy_kind(payload)
        if kind is not False:
            return kind
    return tidy_kind_python(payload)


def tidy_kind_python(payload: dict[str, Any]) -> str | None:
    """:func:`tidy_kind` in Python (the reference the compiled shortcut is tested against)."""
    v, t, r = payload.get("v"), payload.get("t"), payload.get("r")
    if t is None and r is None:
        kind, entries = "v", v
    elif v is None and r is None:
        kind, entries = "t", t
    elif v is None and t is None:
        kind, entries = "r", r
    else:
        return None
    if type(entries) is not list or len(entries) != 1:
        return None
    return kind if _dates_as_written(payload, kind, entries[0]) else None


# Standard spellings, recognised by shape alone (cheap: this runs on every verification).  A
# value of the right shape that is not a valid date is left alone, exactly as the parser below
# would leave it, so checking the shape only is enough to know that nothing would change.


def _date_shaped(text: str) -> bool:
    """``YYYY-MM-DD`` by shape."""
    return len(text) == 10 and text[4] == "-" and text[7] == "-"


def _partial_date_shaped(text: str) -> bool:
    """``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` or empty (``dob`` allows all four), by shape."""
    size = len(text)
    return size in (0, 4) or (size == 7 and text[4] == "-") or (size == 10 and text[4] == "-" and text[7] == "-")


def _datetime_shaped(text: str) -> bool:
    """RFC 3339 (``YYYY-MM-DDTHH:MM:SS[.f](Z|±HH:MM)``) by shape."""
    return (len(text) >= 20 and text[10] == "T" and text[13] == ":" and text[16] == ":"
            and (text[-1] == "Z" or (text[-6] in "+-" and text[-3] == ":")))


def _standard(payload: dict[str, Any]) -> bool:
    """True when no v/t/r list is empty and every date and date-time has its standard spelling."""
    dob = payload.get("dob")
    if type(dob) is str and not _partial_date_shaped(dob):
        return False
    for kind in _TYPES:
        entries = payload.get(kind)
        if type(entries) is not list:
            continue
        if not entries:
            return False
        for entry in entries:
            if type(entry) is not dict:
                continue
            for name in _DATES[kind]:
                text = entry.get(name)
                if type(text) is str and not _date_shaped(text):
                    return False
            for name in _DATETIMES[kind]:
                text = entry.get(name)
                if type(text) is str and not _datetime_shaped(text):
                    return False
    return True


def _replace(current: dict[str, Any], original: dict[str, Any], key: str, value: object) -> dict[str, Any]:
    """``current`` with ``key`` set, copying it first when it still is the caller's dict."""
    out = dict(current) if current is original else current
    out[key] = value
    return out


def _unclean(members: dict[str, Any] | list[Any]) -> bool:
    """True when :func:`_clean` would change something (the quick test, allocation-free)."""
    in_object = type(members) is dict
    values: Any = members.values() if isinstance(members, dict) else members
    for item in values:
        kind = type(item)
        if kind is str:
            if item.strip() is not item:  # CPython returns the same object when nothing is stripped
                return True
        elif item is None:
            if in_object:
                return True
        elif kind is dict or kind is list:
            if _unclean(item):
                return True
        elif kind is float and item.is_integer():
            return True
    return False


def _clean(value: object, path: str, notes: list[str]) -> Any:
    """Drop null members, strip text, make integral floats integers (the same object if clean)."""
    kind = type(value)
    if kind is str:
        text: str = value  # type: ignore[assignment]
        if text and (text[0].isspace() or text[-1].isspace()):
            notes.append(f"{path or '$'}: whitespace around the value removed")
            return text.strip()
        return text
    if kind is dict:
        original: dict[str, Any] = value  # type: ignore[assignment]
        out: dict[str, Any] | None = None  # built at the first change
        for key, item in original.items():
            sub = f"{path}.{key}" if path else key
            if item is None:
                notes.append(f"{sub}: null member dropped")
                if out is None:
                    out = _before(original, key)
                continue
            new = _clean(item, sub, notes)
            if out is None:
                if new is item:
                    continue
                out = _before(original, key)
            out[key] = new
        return original if out is None else out
    if kind is list:
        items: list[Any] = value  # type: ignore[assignment]
        new_items: list[Any] | None = None
        for index, item in enumerate(items):
            new = _clean(item, f"{path}[{index}]", notes)
            if new is not item:
                if new_items is None:
                    new_items = list(items)
                new_items[index] = new
        return items if new_items is None else new_items
    if kind is float:
        number: float = value  # type: ignore[assignment]
        if number.is_integer():
            notes.append(f"{path}: integer written as a decimal number, read as an integer")
            return int(number)
    return value


def _before(members: dict[str, Any], stop: str) -> dict[str, Any]:
    """The members before ``stop`` (all unchanged, since nothing changed before it)."""
    out: dict[str, Any] = {}
    for key, item in members.items():
        if key == stop:
            break
        out[key] = item
    return out


def _entry_times(entry: dict[str, Any], kind: str, path: str, notes: list[str]) -> dict[str, Any]:
    """Dates and date-times of one entry in their standard spelling (the same dict if they are)."""
    out = entry
    for name in _DATES[kind]:
        text = entry.get(name)
        if type(text) is str and not _date_shaped(text):
            day = _as_date(text)
            if day is not None:
                out = _replace(out, entry, name, day)
                notes.append(f"{path}.{name}: date written in another ISO 8601 form, read as YYYY-MM-DD")
    for name in _DATETIMES[kind]:
        text = entry.get(name)
        if type(text) is str and not _datetime_shaped(text):
            moment, assumed_utc = _as_datetime(text)
            if moment is not None:
                out = _replace(out, entry, name, moment)
                notes.append(f"{path}.{name}: date-time written in another ISO 8601 form, read as RFC 3339"
                             + (" (no UTC offset: read as UTC)" if assumed_utc else ""))
    return out


def _as_date(text: str) -> str | None:
    """``YYYY-MM-DD`` for an ISO 8601 date or date-time (its calendar date as written), else None."""
    if not _ISO_LIKE.fullmatch(text):
        return None
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    try:
        return dt.datetime.fromisoformat(text).date().isoformat()
    except ValueError:
        return None


def _as_datetime(text: str) -> tuple[str | None, bool]:
    """RFC 3339 for an ISO 8601 date-time (UTC as ``Z``; no offset read as UTC), and whether UTC was assumed."""
    if not _ISO_LIKE.fullmatch(text):
        return None, False
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None, False
    assumed = moment.tzinfo is None
    if assumed:
        moment = moment.replace(tzinfo=dt.UTC)
    rendered = moment.isoformat()
    if rendered.endswith("+00:00"):
        rendered = rendered[:-6] + "Z"
    return rendered, assumed
