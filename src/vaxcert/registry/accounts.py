"""Service accounts: who may do what over HTTP, with tokens hashed at rest.

Roles (:data:`ROLES`):

* ``facility`` — area: its facility id.  Submits dose records for its own facility only, reviews
  the correction requests addressed to it.
* ``district`` — area: a district (facilities are placed in districts with
  :func:`set_facility_district`).  Reads reports and correction queues of its facilities.
* ``province`` — area: a province code (``HN``, ``HCM``: the second block of a facility id, see
  :func:`vaxcert.registry.reports.province_of`).  Reads reports and correction queues there.
* ``ministry`` — no area: everything, including accounts, keys and trust operations.

A token is 32 random bytes (``vxc_`` + URL-safe Base64), shown once when the account is created;
the registry keeps its SHA-256 only.  A fast hash is enough because the token is random and long
(256 bits): there is nothing to guess, unlike a password, so no slow password hash is needed, and
every request can be authenticated with one indexed lookup.  Revoking an account makes its token
useless at once.  Creating and revoking accounts is audited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from ..errors import InputError
from .protocol import Registry
from .reports import province_of
from .rows import AccountRow

__all__ = [
    "ROLES",
    "Account",
    "add_account",
    "area_facilities",
    "authenticate",
    "hash_token",
    "list_accounts",
    "revoke_account",
    "set_facility_district",
]

ROLES = ("facility", "district", "province", "ministry")
TOKEN_PREFIX = "vxc_"  # noqa: S105 - the visible prefix of every token, not a secret
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_FACILITY = re.compile(r"[A-Z]{2}-[A-Z0-9]{1,8}-[A-Z0-9]{1,12}")
_AREA = re.compile(r"[A-Z0-9][A-Z0-9-]{0,31}")


@dataclass(frozen=True, slots=True)
class Account:
    """An authenticated account: its name, role and area (facility id, district, province; None for ministry)."""

    name: str
    role: str
    area: str | None

    def covers(self, facility: str | None, areas: dict[str, tuple[str, str | None]]) -> bool:
        """Whether ``facility`` is in this account's area (``areas``: :meth:`Registry.facility_areas`)."""
        if self.role == "ministry":
            return True
        if facility is None:
            return False
        if self.role == "facility":
            return facility == self.area
        if self.role == "province":
            return province_of(facility) == self.area
        return areas.get(facility, ("", None))[1] == self.area


def hash_token(token: str) -> str:
    """The stored form of a token (SHA-256, hex)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check(name: str, role: str, area: str | None) -> tuple[str, str | None]:
    if not _NAME.fullmatch(name or ""):
        raise InputError("name", "must be 1-64 letters, digits or . _ @ - (no spaces)")
    if role not in ROLES:
        raise InputError("role", f"must be one of {', '.join(ROLES)}")
    if role == "ministry":
        if area:
            raise InputError("area", "a ministry account has no area")
        return name, None
    value = (area or "").strip().upper()
    if role == "facility" and not _FACILITY.fullmatch(value):
        raise InputError("area", "a facility account's area is its facility id, e.g. VN-HN-001")
    if role != "facility" and not _AREA.fullmatch(value):
        raise InputError("area", f"a {role} account needs its {role} code, e.g. HN")
    return name, value


def add_account(registry: Registry, *, name: str, role: str, area: str | None, created_by: str,
                now: dt.datetime, origin: str | None = None) -> tuple[Account, str]:  # fmt: skip
    """Create an account; return it and its token (shown once: only its hash is stored)."""
    name, area = _check(name, role, area)
    who = (created_by or "").strip()
    if not who:
        raise InputError("created_by", "is required (who does this)")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    stamp = int(now.timestamp())
    with registry.transaction():
        if not registry.add_account(name=name, role=role, area=area, token_hash=hash_token(token), stamp=stamp,
                                    created_by=who):  # fmt: skip
            raise InputError("name", "an account with this name exists")
        registry.audit(at=stamp, actor=who, action="account.add", subject=f"account:{name}", reason=None,
                       detail={"role": role, "area": area}, origin=origin)  # fmt: skip
    return Account(name, role, area), token


def authenticate(registry: Registry, token: str | None) -> Account | None:
    """The active account a bearer token belongs to, or None."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = registry.account_by_token(hash_token(token))
    return Account(row.name, row.role, row.area) if row is not None else None


def list_accounts(registry: Registry) -> list[AccountRow]:
    """Every account (revoked ones too), by name."""
    return registry.accounts()


def revoke_account(registry: Registry, name: str, *, revoked_by: str, now: dt.datetime,
                   origin: str | None = None) -> None:  # fmt: skip
    """Revoke an account: its token stops working at once."""
    stamp = int(now.timestamp())
    with registry.transaction():
        if not registry.revoke_account(name, stamp=stamp, revoked_by=revoked_by):
            raise InputError("name", "no such active account")
        registry.audit(at=stamp, actor=revoked_by, action="account.revoke", subject=f"account:{name}", reason=None,
                       origin=origin)  # fmt: skip


def set_facility_district(registry: Registry, facility: str, district: str | None, *, now: dt.datetime) -> None:
    """Place a facility in a district (what a district account sees); None removes it from its district."""
    value = facility.strip().upper()
    if not _FACILITY.fullmatch(value):
        raise InputError("facility", "must be a facility id, e.g. VN-HN-001")
    code = district.strip().upper() if district else None
    if code is not None and not _AREA.fullmatch(code):
        raise InputError("district", "must be a district code (letters, digits, -)")
    registry.set_facility_district(value, code, province=province_of(value), stamp=int(now.timestamp()))


def area_facilities(registry: Registry, account: Account) -> list[str] | None:
    """The facilities an account's area holds (None: every facility, for the ministry)."""
    if account.role == "ministry":
        return None
    if account.role == "facility":
        return [account.area] if account.area else []
    areas = registry.facility_areas()
    return sorted(f for f in areas if account.covers(f, areas))
