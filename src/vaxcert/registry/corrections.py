"""Citizen correction requests: recorded with a 48-hour deadline, reviewed by the facility.

Kinds of request:

* ``missing_dose`` — a dose the registry lacks; ``proposed`` holds the dose's columns (as in an
  import row: ``facility``, ``dose_number``, ``series_total``, ``date``, ``product``, optionally
  ``manufacturer``, ``prophylaxis``, ``country``); reviewed by that facility.
* ``change_dose`` — a wrong date, product, dose number or series total of one recorded dose
  (chosen by its dose number); reviewed by the facility that recorded it.
* ``remove_dose`` — a dose recorded by mistake (e.g. a duplicate entry).

The proposed change is validated when the request is made, with the same rules as an import.
Approval (by the reviewing facility, with a reason) changes the record, revokes the person's
current certificate (recorded in ``revocations``; :func:`revocation_list` exports them in the
format of :mod:`vaxcert.trust.revocation`), and makes the record a new version so that a new
certificate is issued — at once when a key ring is given, otherwise by the next batch.
Rejection needs a reason and changes nothing else.  Every step writes ``audit_log`` rows: who,
when, what, why (the before and after values of a changed dose are kept there).  Requests still
pending after their deadline are *overdue* (:func:`list_requests` with ``overdue_at``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from .importer import COLUMNS, DoseRow, parse_row
from .protocol import Registry

__all__ = [
    "DEADLINE",
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
KINDS = ("missing_dose", "change_dose", "remove_dose")
_CHANGEABLE = ("date", "product", "manufacturer", "prophylaxis", "dose_number", "series_total", "country")

_REQUEST_COLUMNS = ("request_id, person_key, facility_id, kind, dose_key, proposed, note, requested_by, "
                    "requested_at, deadline, status, reviewed_by, reviewed_at, review_reason")  # fmt: skip


@dataclass(frozen=True, slots=True, repr=False)
class CorrectionRequest:
    """One correction request."""

    request_id: int
    person_key: str
    facility_id: str
    kind: str
    dose_key: str | None
    proposed: dict[str, Any]
    note: str | None
    requested_by: str
    requested_at: int
    deadline: int
    status: str
    reviewed_by: str | None
    reviewed_at: int | None
    review_reason: str | None

    def overdue(self, now: dt.datetime) -> bool:
        """Pending past its deadline."""
        return self.status == "pending" and now.timestamp() > self.deadline

    def __repr__(self) -> str:
        return f"CorrectionRequest(id={self.request_id}, kind={self.kind}, status={self.status}, <redacted>)"


@dataclass(frozen=True, slots=True)
class ApprovalResult:
    """What an approval did."""

    request_id: int
    revoked: int
    reissued: bool


def _request(row: tuple[Any, ...]) -> CorrectionRequest:
    values = list(row)
    values[5] = json.loads(values[5])
    return CorrectionRequest(*values)


def _audit(tx: Any, now: int, actor: str, action: str, subject: str, reason: str | None,
           detail: Mapping[str, Any] | None = None) -> None:  # fmt: skip
    tx.execute(
        "INSERT INTO audit_log (at, actor, action, subject, reason, detail) VALUES (?, ?, ?, ?, ?, ?)",
        (now, actor, action, subject, reason, json.dumps(detail, ensure_ascii=False) if detail else None),
    )


def _actor(value: str, field: str) -> str:
    text = (value or "").strip()
    if not text:
        raise InputError(field, "is required (who does this)")
    return text[:200]


def _person_row(tx: Any, person_key: str) -> dict[str, Any]:
    rows = tx.query(
        "SELECT id_kind, id_number, nationality, fn, gn, dob FROM persons WHERE person_key = ?", (person_key,)
    )
    if not rows:
        raise InputError("person", "is not in the registry")
    kind, number, nationality, fn, gn, dob = rows[0]
    out: dict[str, Any] = {"family_name": fn, "dob": dob}
    if gn:
        out["given_name"] = gn
    if kind == "cccd":
        out["citizen_id"] = number
    else:
        out["passport_number"], out["nationality"] = number, nationality
    return out


_DOSE_SQL = ("SELECT dose_key, facility_id, dose_number, series_total, vaccination_date, tg, vp, mp, ma, co"
             " FROM doses WHERE person_key = ?")  # fmt: skip


def _dose_as_row(dose: tuple[Any, ...]) -> dict[str, Any]:
    _, facility, dn, sd, date, tg, vp, mp, ma, co = dose
    return {"facility": facility, "dose_number": dn, "series_total": sd, "date": date, "disease": tg,
            "prophylaxis": vp, "product": mp, "manufacturer": ma, "country": co}  # fmt: skip


def _changed(before: Mapping[str, Any], proposed: Mapping[str, Any]) -> dict[str, Any]:
    """The dose after a change: a new product brings its own manufacturer and vaccine type
    (from :data:`vaxcert.dcc.payload.PRODUCTS`) unless the request names them too."""
    after = {**before, **proposed}
    if "product" in proposed and proposed["product"] != before.get("product"):
        for key in ("manufacturer", "prophylaxis"):
            if key not in proposed:
                after.pop(key, None)
    return after


def _check_row(person: Mapping[str, Any], dose: Mapping[str, Any], now: dt.datetime) -> DoseRow:
    """Validate a dose for ``person`` as an import would; errors name the proposed field."""
    row = {**person, **{k: v for k, v in dose.items() if v is not None and v != ""}}
    return parse_row(0, row, now=now)[0]


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
) -> int:
    """Record a citizen's request (deadline: ``now`` + 48 hours); return its id."""
    if kind not in KINDS:
        raise InputError("kind", f"must be one of {', '.join(KINDS)}")
    who = _actor(requested_by, "requested_by")
    stamp = int(now.timestamp())
    unknown = [k for k in proposed if k not in COLUMNS]
    if unknown:
        raise InputError("proposed", "names a field that is not a dose field")
    with registry.transaction() as tx:
        person = _person_row(tx, person_key)
        doses = tx.query(_DOSE_SQL, (person_key,))
        dose_key: str | None = None
        if kind == "missing_dose":
            checked = _check_row(person, proposed, now)
            facility = checked.facility
            if any(d[0] == checked.dose_key for d in doses):
                raise InputError("proposed", "this dose is already recorded")
        else:
            if dose_number is None:
                raise InputError("dose_number", "is required to choose the dose to change or remove")
            chosen = [d for d in doses if d[2] == dose_number]
            if len(chosen) != 1:
                raise InputError("dose_number", "must name exactly one recorded dose of this person "
                                                f"({len(chosen)} found)")  # fmt: skip
            dose_key, facility = chosen[0][0], chosen[0][1]
            if kind == "change_dose":
                bad = [k for k in proposed if k not in _CHANGEABLE]
                if bad or not proposed:
                    raise InputError("proposed", f"may change only {', '.join(_CHANGEABLE)}")
                _check_row(person, _changed(_dose_as_row(chosen[0]), proposed), now)
            elif proposed:
                raise InputError("proposed", "must be empty for remove_dose")
        rows = tx.query(
            "INSERT INTO correction_requests (person_key, facility_id, kind, dose_key, proposed, note, requested_by,"
            " requested_at, deadline, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending') RETURNING request_id",
            (person_key, facility, kind, dose_key, json.dumps(dict(proposed), ensure_ascii=False), note, who, stamp,
             stamp + int(DEADLINE.total_seconds())),
        )  # fmt: skip
        request_id = int(rows[0][0])
        _audit(tx, stamp, who, "correction.request", f"request:{request_id}", note,
               {"kind": kind, "person": person_key, "facility": facility})  # fmt: skip
    return request_id


def _load_pending(tx: Any, request_id: int, facility: str | None) -> CorrectionRequest:
    rows = tx.query(f"SELECT {_REQUEST_COLUMNS} FROM correction_requests WHERE request_id = ?",  # noqa: S608
                    (request_id,))  # fmt: skip
    if not rows:
        raise InputError("request", "no such correction request")
    request = _request(rows[0])
    if request.status != "pending":
        raise InputError("request", f"is already {request.status}")
    if facility is not None and facility != request.facility_id:
        raise InputError("facility", "only the facility that recorded the dose may review this request")
    return request


def reject(
    registry: Registry, request_id: int, *, reviewer: str, reason: str, now: dt.datetime,
    facility: str | None = None,
) -> None:  # fmt: skip
    """Reject a pending request with a reason (nothing else changes)."""
    who = _actor(reviewer, "reviewer")
    why = _actor(reason, "reason")
    stamp = int(now.timestamp())
    with registry.transaction() as tx:
        request = _load_pending(tx, request_id, facility)
        tx.execute(
            "UPDATE correction_requests SET status = 'rejected', reviewed_by = ?, reviewed_at = ?, review_reason = ?"
            " WHERE request_id = ?",
            (who, stamp, why, request.request_id),
        )
        _audit(tx, stamp, who, "correction.reject", f"request:{request_id}", why)


def approve(
    registry: Registry,
    request_id: int,
    *,
    reviewer: str,
    reason: str,
    now: dt.datetime,
    facility: str | None = None,
    keyring: Any = None,
) -> ApprovalResult:
    """Approve: change the record, revoke the current certificate, make a new version.

    With ``keyring`` (a :class:`~vaxcert.registry.batch.KeyRing`) the new certificate is issued
    at once; otherwise the next batch run issues it.  ``facility``, when given, must be the
    reviewing facility of the request.
    """
    from .batch import issue_person
    from .reconcile import reconcile

    who = _actor(reviewer, "reviewer")
    why = _actor(reason, "reason")
    stamp = int(now.timestamp())
    with registry.transaction() as tx:
        request = _load_pending(tx, request_id, facility)
        person = _person_row(tx, request.person_key)
        doses = {d[0]: d for d in tx.query(_DOSE_SQL, (request.person_key,))}
        subject = f"person:{request.person_key}"
        if request.kind == "missing_dose":
            row = _check_row(person, request.proposed, now)
            if row.dose_key in doses:
                raise InputError("proposed", "this dose is already recorded")
            tx.execute(
                "INSERT INTO doses (dose_key, person_key, facility_id, dose_number, series_total, vaccination_date,"
                " tg, vp, mp, ma, co, row_hash, source, source_line, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (row.dose_key, request.person_key, row.facility, row.dn, row.sd, row.date, row.tg, row.vp, row.mp,
                 row.ma, row.co, row.row_hash, f"correction:{request_id}", None, stamp, stamp),
            )  # fmt: skip
            _audit(tx, stamp, who, "dose.add", subject, why, {"request": request_id, "after": _dose_as_row(
                (row.dose_key, row.facility, row.dn, row.sd, row.date, row.tg, row.vp, row.mp, row.ma, row.co))})
        else:
            current = doses.get(request.dose_key or "")
            if current is None:
                raise InputError("request", "the dose it concerns is no longer recorded")
            before = _dose_as_row(current)
            if request.kind == "remove_dose":
                tx.execute("DELETE FROM doses WHERE dose_key = ?", (current[0],))
                _audit(tx, stamp, who, "dose.remove", subject, why, {"request": request_id, "before": before})
            else:
                row = _check_row(person, _changed(before, request.proposed), now)
                tx.execute(
                    "UPDATE doses SET facility_id = ?, dose_number = ?, series_total = ?, vaccination_date = ?,"
                    " tg = ?, vp = ?, mp = ?, ma = ?, co = ?, row_hash = ?, updated_at = ? WHERE dose_key = ?",
                    (row.facility, row.dn, row.sd, row.date, row.tg, row.vp, row.mp, row.ma, row.co, row.row_hash,
                     stamp, current[0]),
                )  # fmt: skip
                after = _dose_as_row(
                    (current[0], row.facility, row.dn, row.sd, row.date, row.tg, row.vp, row.mp, row.ma, row.co))
                _audit(tx, stamp, who, "dose.change", subject, why,
                       {"request": request_id, "before": before, "after": after})  # fmt: skip
        revoked = tx.query(
            "UPDATE certificates SET status = 'revoked' WHERE person_key = ? AND status = 'current'"
            " RETURNING cert_id, uvci, kid",
            (request.person_key,),
        )
        for cert_id, uvci, kid in revoked:
            tx.execute(
                "INSERT INTO revocations (cert_id, person_key, uvci, kid, reason, request_id, revoked_by, revoked_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (cert_id, request.person_key, uvci, kid, f"correction {request_id}: {why}", request_id, who, stamp),
            )
            _audit(tx, stamp, who, "certificate.revoke", f"certificate:{cert_id}", why, {"request": request_id})
        # Force a new version even when the certificate's content would not change.
        tx.execute("UPDATE persons SET dirty = dirty + 1, content_hash = NULL, updated_at = ? WHERE person_key = ?",
                   (stamp, request.person_key))  # fmt: skip
        tx.execute(
            "UPDATE correction_requests SET status = 'approved', reviewed_by = ?, reviewed_at = ?, review_reason = ?"
            " WHERE request_id = ?",
            (who, stamp, why, request_id),
        )
        _audit(tx, stamp, who, "correction.approve", f"request:{request_id}", why)
    reconcile(registry, now=now, persons=[request.person_key])
    reissued = issue_person(registry, keyring, request.person_key, now=now) if keyring is not None else False
    return ApprovalResult(request_id, len(revoked), reissued)


def list_requests(
    registry: Registry,
    *,
    status: str | None = None,
    overdue_at: dt.datetime | None = None,
    facility: str | None = None,
    person_key: str | None = None,
) -> list[CorrectionRequest]:
    """Requests, oldest first; ``overdue_at`` keeps pending ones past their deadline at that time."""
    sql = f"SELECT {_REQUEST_COLUMNS} FROM correction_requests WHERE 1 = 1"  # noqa: S608
    params: list[Any] = []
    if overdue_at is not None:
        sql += " AND status = 'pending' AND deadline < ?"
        params.append(int(overdue_at.timestamp()))
    if status is not None:
        sql += " AND status = ?"
        params.append(status)
    if facility is not None:
        sql += " AND facility_id = ?"
        params.append(facility)
    if person_key is not None:
        sql += " AND person_key = ?"
        params.append(person_key)
    with registry.transaction() as tx:
        return [_request(r) for r in tx.query(sql + " ORDER BY deadline, request_id", params)]


def audit_trail(registry: Registry, subject: str | None = None) -> list[tuple[Any, ...]]:
    """Audit rows ``(at, actor, action, subject, reason, detail)``, oldest first."""
    sql = "SELECT at, actor, action, subject, reason, detail FROM audit_log"
    params: tuple[Any, ...] = ()
    if subject is not None:
        sql += " WHERE subject = ?"
        params = (subject,)
    with registry.transaction() as tx:
        return tx.query(sql + " ORDER BY audit_id", params)


def revocation_list(registry: Registry, *, country: str = "VN") -> Any:
    """The registry's revocations as an (unsigned) :class:`vaxcert.trust.revocation.RevocationList`.

    Each revoked certificate is listed by its UVCI hash (``UCI``) and its signature hash
    (``SIGNATURE``); sign the list with :meth:`~vaxcert.trust.revocation.RevocationList.sign`.
    """
    from ..stages import base45, compression, cose, prefix
    from ..trust.revocation import HashType, RevocationList, signature_hash, uci_hash

    with registry.transaction() as tx:
        rows = tx.query(
            "SELECT r.uvci, c.hc1 FROM revocations r JOIN certificates c ON c.cert_id = r.cert_id ORDER BY r.cert_id"
        )
    ucis = [uci_hash(uvci) for uvci, _ in rows]
    signatures = []
    for _, hc1 in rows:
        message = cose.decode(compression.decompress(base45.decode(prefix.strip(hc1))))
        signatures.append(signature_hash(message.signature, message.algorithm))
    return RevocationList(country=country).with_hashes(HashType.UCI, ucis).with_hashes(HashType.SIGNATURE, signatures)
