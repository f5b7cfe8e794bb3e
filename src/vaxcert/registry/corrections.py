"""Citizen correction requests: recorded with a 48-hour deadline, reviewed by the facility.

Kinds of request:

* ``missing_dose`` — a dose the registry lacks; ``proposed`` holds the dose's columns (as in an
  import row: ``facility``, ``dose_number``, ``series_total``, ``date``, ``product``, optionally
  ``manufacturer``, ``prophylaxis``, ``country``); reviewed by that facility.
* ``change_dose`` — a wrong date, product, dose number or series total of one recorded dose
  (chosen by its dose number); reviewed by the facility that recorded it.
* ``remove_dose`` — a dose recorded by mistake (e.g. a duplicate entry).
* ``identity`` — a wrong name or birth date (``proposed``: ``family_name``, ``given_name``,
  ``dob``); reviewed by the facility of the person's last dose.  It is how a person held for
  identity (a misspelt name) is released: the corrected record is checked against the
  population register again.

The proposed change is validated when the request is made, with the same rules as an import.
Approval (by the reviewing facility, with a reason; or explicitly by the ministry) changes the
record and reconciles the person.  **Only when what the certificate says changes** (names, birth
date, the last dose) — or the person can no longer be certified — is the current certificate
revoked (recorded in ``revocations``; :func:`revocation_list` exports them in the format of
:mod:`vaxcert.trust.revocation`) and a new one issued: at once when a key ring is given,
otherwise by the next batch.  A change that leaves the signed content as it was (a missing
earlier dose, say) keeps the certificate: the record gets a new ``record_version`` and the
certificate stays current for it (audited as ``certificate.keep``), so the citizen's card does
not scan REVOKED.
Rejection needs a reason and changes nothing else.  Every step writes ``audit_log`` rows: who,
when, what, why (the before and after values of a changed dose are kept there).  Requests still
pending after their deadline are *overdue* (:func:`list_requests` with ``overdue_at``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from ..stages import hc1
from ..trust.revocation import HashType, RevocationList, signature_hash, uci_hash
from .batch import issue_person
from .importer import COLUMNS, DoseRow, parse_row
from .keyring import KeyRing
from .protocol import Registry
from .reconciliation import reconcile
from .rows import AuditEntry, CorrectionRequest, PersonRow, StoredDose

__all__ = [
    "DEADLINE",
    "IDENTITY_FIELDS",
    "KINDS",
    "ApprovalResult",
    "CorrectionRequest",
    "approve",
    "audit_trail",
    "list_requests",
    "reject",
    "request_correction",
    "revocation_list",
]

DEADLINE = dt.timedelta(hours=48)
KINDS = ("missing_dose", "change_dose", "remove_dose", "identity")
_CHANGEABLE = ("date", "product", "manufacturer", "prophylaxis", "dose_number", "series_total", "country")
#: What an identity correction may change.
IDENTITY_FIELDS = ("family_name", "given_name", "dob")


@dataclass(frozen=True, slots=True)
class ApprovalResult:
    """What an approval did."""

    request_id: int
    revoked: int
    reissued: bool


def _actor(value: str, field: str) -> str:
    text = (value or "").strip()
    if not text:
        raise InputError(field, "is required (who does this)")
    return text[:200]


def _person(registry: Registry, person_key: str) -> PersonRow:
    person = registry.person(person_key)
    if person is None:
        raise InputError("person", "is not in the registry")
    return person


def _changed(before: Mapping[str, Any], proposed: Mapping[str, Any]) -> dict[str, Any]:
    """The dose after a change: a new product brings its own manufacturer and vaccine type
    (from :data:`vaxcert.dcc.payload.PRODUCTS`) unless the request names them too."""
    after = {**before, **proposed}
    if "product" in proposed and proposed["product"] != before.get("product"):
        for key in ("manufacturer", "prophylaxis"):
            if key not in proposed:
                after.pop(key, None)
    return after


def _check_row(person: PersonRow, dose: Mapping[str, Any], now: dt.datetime,
               identity: Mapping[str, Any] | None = None) -> DoseRow:  # fmt: skip
    """Validate a dose for ``person`` as an import would; errors name the proposed field."""
    columns = person.as_columns()
    if identity:
        columns.update(identity)
        if not identity.get("given_name") and "given_name" in identity:
            columns.pop("given_name", None)
    row = {**columns, **{k: v for k, v in dose.items() if v is not None and v != ""}}
    return parse_row(0, row, now=now)[0]


def _last_dose(doses: list[StoredDose]) -> StoredDose | None:
    return max(doses, key=lambda d: (d.date, d.dn, d.facility, d.key)) if doses else None


def _identity_columns(person: PersonRow) -> dict[str, Any]:
    return {"family_name": person.fn, "given_name": person.gn, "dob": person.dob}


def _identity_row(person: PersonRow, doses: list[StoredDose], proposed: Mapping[str, Any],
                  now: dt.datetime) -> PersonRow:  # fmt: skip
    """The person as an identity correction would leave them, validated like an import row."""
    bad = [k for k in proposed if k not in IDENTITY_FIELDS]
    if bad or not proposed:
        raise InputError("proposed", f"may change only {', '.join(IDENTITY_FIELDS)}")
    last = _last_dose(doses)
    if last is None:
        raise InputError("person", "has no recorded dose to correct")
    return _check_row(person, last.as_columns(), now, identity=proposed).person


def request_correction(
    registry: Registry,
    *,
    person_key: str,
    kind: str,
    proposed: Mapping[str, Any],
    requested_by: str,
    now: dt.datetime,
    dose_number: int | None = None,
    note: str | None = None,
    origin: str | None = None,
) -> int:
    """Record a citizen's request (deadline: ``now`` + 48 hours); return its id.

    The reviewing facility is the one of the disputed dose (for a missing dose, the facility
    named), or of the last dose for an identity correction.  ``origin`` (where the request came
    from) goes to the audit log.
    """
    if kind not in KINDS:
        raise InputError("kind", f"must be one of {', '.join(KINDS)}")
    who = _actor(requested_by, "requested_by")
    stamp = int(now.timestamp())
    unknown = [k for k in proposed if k not in COLUMNS]
    if unknown:
        raise InputError("proposed", "names a field that is not a dose field")
    with registry.transaction():
        person = _person(registry, person_key)
        doses = registry.doses_of([person_key]).get(person_key, [])
        dose_key: str | None = None
        if kind == "identity":
            _identity_row(person, doses, proposed, now)
            last = _last_dose(doses)
            assert last is not None
            facility = last.facility
        elif kind == "missing_dose":
            checked = _check_row(person, proposed, now)
            facility = checked.dose.facility
            if any(d.key == checked.dose.key for d in doses):
                raise InputError("proposed", "this dose is already recorded")
        else:
            if dose_number is None:
                raise InputError("dose_number", "is required to choose the dose to change or remove")
            chosen = [d for d in doses if d.dn == dose_number]
            if len(chosen) != 1:
                raise InputError("dose_number", "must name exactly one recorded dose of this person "
                                                f"({len(chosen)} found)")  # fmt: skip
            dose_key, facility = chosen[0].key, chosen[0].facility
            if kind == "change_dose":
                bad = [k for k in proposed if k not in _CHANGEABLE]
                if bad or not proposed:
                    raise InputError("proposed", f"may change only {', '.join(_CHANGEABLE)}")
                _check_row(person, _changed(chosen[0].as_columns(), proposed), now)
            elif proposed:
                raise InputError("proposed", "must be empty for remove_dose")
        request_id = registry.add_correction_request(
            person_key=person_key, facility=facility, kind=kind, dose_key=dose_key, proposed=proposed, note=note,
            requested_by=who, requested_at=stamp, deadline=stamp + int(DEADLINE.total_seconds()),
        )  # fmt: skip
        registry.audit(at=stamp, actor=who, action="correction.request", subject=f"request:{request_id}",
                       reason=note, detail={"kind": kind, "person": person_key, "facility": facility},
                       origin=origin)  # fmt: skip
    return request_id


def _load_pending(registry: Registry, request_id: int, facility: str | None, ministry: bool) -> CorrectionRequest:
    """The pending request, once the reviewer may decide it: the reviewing facility, or the ministry
    when that is asked for explicitly (no facility given is not a pass)."""
    if facility is None and not ministry:
        raise InputError("facility", "is required: the reviewing facility (or an explicit ministry review)")
    request = registry.correction_request(request_id)
    if request is None:
        raise InputError("request", "no such correction request")
    if request.status != "pending":
        raise InputError("request", f"is already {request.status}")
    if facility is not None and facility.strip().upper() != request.facility_id:
        raise InputError("facility", "only the facility that recorded the dose may review this request")
    return request


def reject(
    registry: Registry, request_id: int, *, reviewer: str, reason: str, now: dt.datetime,
    facility: str | None = None, ministry: bool = False, origin: str | None = None,
) -> None:  # fmt: skip
    """Reject a pending request with a reason (nothing else changes).

    ``facility`` is the reviewing facility (checked against the request); a ministry review says
    ``ministry=True`` instead.  Neither is refused (field ``facility``).
    """
    who = _actor(reviewer, "reviewer")
    why = _actor(reason, "reason")
    stamp = int(now.timestamp())
    with registry.transaction():
        request = _load_pending(registry, request_id, facility, ministry)
        registry.review_correction(request.request_id, status="rejected", reviewer=who, reason=why, stamp=stamp)
        registry.audit(at=stamp, actor=who, action="correction.reject", subject=f"request:{request_id}", reason=why,
                       origin=origin)  # fmt: skip


def _apply(registry: Registry, request: CorrectionRequest, person: PersonRow, who: str, why: str,
           now: dt.datetime) -> None:  # fmt: skip
    """Change the record as the request asks, with audit rows holding the before and after values."""
    stamp = int(now.timestamp())
    doses = {d.key: d for d in registry.doses_of([request.person_key]).get(request.person_key, [])}
    subject = f"person:{request.person_key}"
    source = f"correction:{request.request_id}"
    if request.kind == "identity":
        fixed = _identity_row(person, list(doses.values()), request.proposed, now)
        registry.update_identity(request.person_key, fn=fixed.fn, gn=fixed.gn, fnt=fixed.fnt, gnt=fixed.gnt,
                                 dob=fixed.dob, stamp=stamp)  # fmt: skip
        registry.audit(at=stamp, actor=who, action="person.identity", subject=subject, reason=why,
                       detail={"request": request.request_id, "before": _identity_columns(person),
                               "after": _identity_columns(fixed)})  # fmt: skip
        return
    if request.kind == "missing_dose":
        row = _check_row(person, request.proposed, now)
        if row.dose.key in doses:
            raise InputError("proposed", "this dose is already recorded")
        registry.add_doses([row.new_dose(source, None)], stamp=stamp)
        registry.audit(at=stamp, actor=who, action="dose.add", subject=subject, reason=why,
                       detail={"request": request.request_id, "after": row.dose.as_columns()})  # fmt: skip
        return
    current: StoredDose | None = doses.get(request.dose_key or "")
    if current is None:
        raise InputError("request", "the dose it concerns is no longer recorded")
    before = current.as_columns()
    if request.kind == "remove_dose":
        registry.remove_dose(current.key)
        registry.audit(at=stamp, actor=who, action="dose.remove", subject=subject, reason=why,
                       detail={"request": request.request_id, "before": before})  # fmt: skip
        return
    row = _check_row(person, _changed(before, request.proposed), now)
    registry.replace_dose(current.key, row.new_dose(source, None), stamp=stamp)
    registry.audit(at=stamp, actor=who, action="dose.change", subject=subject, reason=why,
                   detail={"request": request.request_id, "before": before,
                           "after": row.dose._replace(key=current.key).as_columns()})  # fmt: skip


def approve(
    registry: Registry,
    request_id: int,
    *,
    reviewer: str,
    reason: str,
    now: dt.datetime,
    facility: str | None = None,
    ministry: bool = False,
    keyring: KeyRing | None = None,
    origin: str | None = None,
) -> ApprovalResult:
    """Approve: change the record and reconcile the person; revoke and reissue only if the signed content changed.

    ``facility`` is the reviewing facility (checked against the request); a ministry review says
    ``ministry=True`` instead; neither is refused (field ``facility``).  With ``keyring`` a new
    certificate is issued at once; otherwise the next batch run issues it.
    """
    who = _actor(reviewer, "reviewer")
    why = _actor(reason, "reason")
    stamp = int(now.timestamp())
    revoked: list[int] = []
    with registry.transaction():
        request = _load_pending(registry, request_id, facility, ministry)
        key = request.person_key
        person = _person(registry, key)
        before = registry.person_status(key)
        assert before is not None
        _apply(registry, request, person, who, why, now)
        registry.mark_changed([key], stamp=stamp)
        registry.review_correction(request_id, status="approved", reviewer=who, reason=why, stamp=stamp)
        registry.audit(at=stamp, actor=who, action="correction.approve", subject=f"request:{request_id}", reason=why,
                       origin=origin)  # fmt: skip
        reconcile(registry, now=now, persons=[key])
        after = registry.person_status(key)
        assert after is not None
        current = [c.cert_id for c in after.certificates if c.status == "current"]
        content_changed = after.record_version != before.record_version or after.state != "ready"
        if content_changed:
            revoked = registry.revoke_current(key, reason=f"correction {request_id}: {why}", request_id=request_id,
                                              revoked_by=who, stamp=stamp)  # fmt: skip
            for cert_id in revoked:
                registry.audit(at=stamp, actor=who, action="certificate.revoke", subject=f"certificate:{cert_id}",
                               reason=why, detail={"request": request_id}, origin=origin)  # fmt: skip
        else:
            version = registry.advance_version(key, stamp=stamp)
            for cert_id in current:
                registry.audit(at=stamp, actor=who, action="certificate.keep", subject=f"certificate:{cert_id}",
                               reason="the signed content is unchanged",
                               detail={"request": request_id, "record_version": version}, origin=origin)  # fmt: skip
    reissued = issue_person(registry, keyring, request.person_key, now=now) if keyring is not None else False
    return ApprovalResult(request_id, len(revoked), reissued)


def list_requests(
    registry: Registry,
    *,
    status: str | None = None,
    overdue_at: dt.datetime | None = None,
    facility: str | None = None,
    person_key: str | None = None,
    facilities: Sequence[str] | None = None,
) -> list[CorrectionRequest]:
    """Requests, oldest first; ``overdue_at`` keeps pending ones past their deadline at that time;
    ``facilities`` keeps those reviewed by one of them (an area's facilities)."""
    return registry.correction_requests(status=status, facility=facility, person_key=person_key,
                                        facilities=facilities,
                                        overdue_at=int(overdue_at.timestamp()) if overdue_at is not None else None)


def audit_trail(registry: Registry, subject: str | None = None) -> list[AuditEntry]:
    """Audit rows ``(at, actor, action, subject, reason, detail)``, oldest first."""
    return registry.audit_trail(subject)


def revocation_list(registry: Registry, *, country: str = "VN") -> RevocationList:
    """The registry's revocations as an (unsigned) :class:`vaxcert.trust.revocation.RevocationList`.

    Each revoked certificate is listed by its UVCI hash (``UCI``) and its signature hash
    (``SIGNATURE``); sign the list with :meth:`~vaxcert.trust.revocation.RevocationList.sign`.
    """
    rows = registry.revoked_certificates()
    ucis = [uci_hash(uvci) for uvci, _ in rows]
    signatures = []
    for _, text in rows:
        message = hc1.unwrap(text).message
        signatures.append(signature_hash(message.signature, message.algorithm))
    return RevocationList(country=country).with_hashes(HashType.UCI, ucis).with_hashes(HashType.SIGNATURE, signatures)
