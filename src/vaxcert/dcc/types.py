"""The DCC payload as typed dictionaries: what crosses modules between building and signing.

:class:`DccPayload` is what :func:`vaxcert.dcc.payload.build_payload` returns and what the
issuer signs.  Payloads read from certificates are hostile input and stay ``Mapping[str, Any]``
until the schema has accepted them.  ``is`` is a Python keyword, hence the functional syntax.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

__all__ = ["DccNames", "DccPayload", "RecoveryJson", "TestJson", "VaccinationJson", "vaccination_json"]


class DccNames(TypedDict):
    """``nam``: family name as written and transliterated, given names likewise (optional)."""

    fn: str
    fnt: str
    gn: NotRequired[str]
    gnt: NotRequired[str]


VaccinationJson = TypedDict(
    "VaccinationJson",
    {"tg": str, "vp": str, "mp": str, "ma": str, "dn": int, "sd": int, "dt": str, "co": str, "is": str, "ci": str},
)
"""One ``v`` entry."""

TestJson = TypedDict(
    "TestJson",
    {"tg": str, "tt": str, "nm": NotRequired[str], "ma": NotRequired[str], "sc": str, "tr": str,
     "tc": NotRequired[str], "co": str, "is": str, "ci": str},
)  # fmt: skip
"""One ``t`` entry."""

RecoveryJson = TypedDict(
    "RecoveryJson", {"tg": str, "fr": str, "co": str, "is": str, "df": str, "du": str, "ci": str}
)
"""One ``r`` entry."""


class DccPayload(TypedDict):
    """A DCC payload: version, names, birth date and exactly one of ``v`` / ``t`` / ``r``."""

    ver: str
    nam: DccNames
    dob: str
    v: NotRequired[list[VaccinationJson]]
    t: NotRequired[list[TestJson]]
    r: NotRequired[list[RecoveryJson]]


def vaccination_json(
    *, tg: str, vp: str, mp: str, ma: str, dn: int, sd: int, dt: str, co: str, is_: str, ci: str
) -> VaccinationJson:
    """A ``v`` entry in the schema's key order (the one place it is written, checked or not)."""
    return {"tg": tg, "vp": vp, "mp": mp, "ma": ma, "dn": dn, "sd": sd, "dt": dt, "co": co, "is": is_, "ci": ci}
