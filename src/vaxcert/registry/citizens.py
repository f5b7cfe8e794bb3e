"""What a citizen may do without an account: fetch their current certificate, ask for a correction.

Both take the citizen's ID number and birth date.  The answer for an unknown ID is the answer for
a known ID with a wrong birth date — None — computed the same way (one query, a constant-time
comparison), so the service cannot be used to find out which ID numbers exist.  The service adds
rate limits per client and per ID (:mod:`.limits`).
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
from collections.abc import Mapping
from typing import Any

from ..errors import InputError
from .corrections import request_correction
from .importer import person_key
from .protocol import Registry

__all__ = ["citizen_certificate", "citizen_correction", "person_key_from_document"]

_CITIZEN = re.compile(r"[0-9]{12}")
_PASSPORT = re.compile(r"([A-Z]{2})[:/ ]([A-Z0-9]{5,20})")
_DOB = re.compile(r"[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?")
_ABSENT = "\x00absent"


def person_key_from_document(text: str) -> str:
    """A 12-digit citizen ID, or ``NATIONALITY:PASSPORT`` (``FR:21AB12345``) → the registry's person key."""
    value = (text or "").strip().upper()
    if _CITIZEN.fullmatch(value):
        return person_key("cccd", value, "VN")
    m = _PASSPORT.fullmatch(value)
    if m:
        return person_key("passport", m[2], m[1])
    raise InputError("id", "give a 12-digit citizen ID or NATIONALITY:PASSPORT (e.g. FR:21AB12345)")


def _dob(text: str) -> str:
    value = (text or "").strip()
    if not _DOB.fullmatch(value):
        raise InputError("dob", "must be a birth date YYYY-MM-DD (or YYYY-MM, YYYY as recorded)")
    return value


def _matches(recorded: str | None, given: str) -> bool:
    return hmac.compare_digest((recorded if recorded is not None else _ABSENT).encode(), given.encode()) \
        and recorded is not None  # fmt: skip


def citizen_certificate(registry: Registry, document: str, dob: str) -> str | None:
    """The HC1 text of the person's current certificate, or None: unknown ID, wrong birth date or no certificate."""
    key = person_key_from_document(document)
    given = _dob(dob)
    found = registry.current_certificate(key)
    if not _matches(found.dob if found is not None else None, given):
        return None
    assert found is not None
    return found.hc1


def citizen_correction(
    registry: Registry,
    document: str,
    dob: str,
    *,
    kind: str,
    proposed: Mapping[str, Any],
    now: dt.datetime,
    dose_number: int | None = None,
    note: str | None = None,
    origin: str | None = None,
) -> int | None:
    """File a correction request as the citizen; None (nothing recorded) when ID and birth date do not match.

    The birth date must be the one recorded (a citizen whose recorded birth date is wrong asks at
    a facility, which files the ``identity`` request for them).
    """
    key = person_key_from_document(document)
    given = _dob(dob)
    person = registry.person(key)
    if not _matches(person.dob if person is not None else None, given):
        return None
    return request_correction(registry, person_key=key, kind=kind, proposed=proposed, requested_by="citizen",
                              now=now, dose_number=dose_number, note=note, origin=origin)  # fmt: skip
