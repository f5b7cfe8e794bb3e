"""The registry's domain methods, written once in the SQL both backends share.

:class:`SqlRegistry` is the base of both adapters (:mod:`.sqlite`, :mod:`.postgres`).  Every
method takes and returns typed rows (:mod:`.rows`) and runs in a transaction: its own, or the
caller's when called inside ``with registry.transaction():`` (a nested transaction joins the open
one), so a workflow groups several calls atomically without seeing any SQL.  What differs between
backends is a few hooks here (:meth:`_lock`, :meth:`_staged_keys`, :meth:`_prepare_staged`) and
the adapter's :meth:`claim`.

The SQL is the subset SQLite (3.35+) and PostgreSQL share: ``?`` placeholders (rewritten by the
PostgreSQL adapter), ``ON CONFLICT``, ``RETURNING``, ``UPDATE ... FROM`` and partial indexes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from .protocol import Backend, RegistrySpec, Tx
from .rows import (
    CLAIM_COLUMNS,
    AccountRow,
    AuditEntry,
    CertificateSummary,
    ChangedPerson,
    ClaimedJob,
    ClaimedPerson,
    CorrectionRequest,
    CurrentCertificate,
    DoseHash,
    ExportedCertificate,
    FacilityCounts,
    JobErrorRow,
    JobRow,
    NewDose,
    PersonRow,
    PersonStatus,
    ProblemRow,
    RecognitionRow,
    RegistryOverview,
    StagedCertificate,
    StatusUpdate,
    StoredDose,
)

__all__ = ["MAX_IN_LIST", "PENDING", "SqlRegistry", "in_parts", "placeholders"]

#: The one definition of "waiting for a certificate": reconciled as ready, and changed since the
#: last certificate (the partial index ``persons_work`` of the migrations has the same condition).
PENDING = "state = 'ready' AND record_version > issued_version"

_PERSON = "person_key, id_kind, id_number, nationality, fn, gn, fnt, gnt, dob"
_DOSE = "dose_key, facility_id, dose_number, series_total, vaccination_date, tg, vp, mp, ma, co, issuer"
_DOSE_COLUMNS = (
    "dose_key", "person_key", "facility_id", "dose_number", "series_total", "vaccination_date",
    "tg", "vp", "mp", "ma", "co", "issuer", "row_hash", "source", "source_line", "created_at", "updated_at",
)  # fmt: skip
_RECOGNITION = ("recognition_id, certificate_hash, person_key, source_format, issuer_country, issuer_key, issuer,"
                " certificate_id, doses, facility_id, recognised_by, recognised_at")  # fmt: skip
_PERSON_COLUMNS = (*_PERSON.split(", "), "dirty", "state", "created_at", "updated_at")
_STAGE_COLUMNS = StagedCertificate._fields
#: The session's staging table of a chunk's signed certificates (temporary: each connection has its own).
_STAGING_TABLE = (
    "CREATE TEMP TABLE IF NOT EXISTS staged_certs (person_key TEXT NOT NULL,"
    " record_version BIGINT NOT NULL, uvci TEXT NOT NULL, hc1 TEXT NOT NULL, kid TEXT NOT NULL,"
    " facility_id TEXT NOT NULL, cert_type TEXT NOT NULL, dn BIGINT, sd BIGINT,"
    " issued_at BIGINT NOT NULL, expires_at BIGINT NOT NULL)"
)
_REQUEST = ("request_id, person_key, facility_id, kind, dose_key, proposed, note, requested_by, requested_at,"
            " deadline, status, reviewed_by, reviewed_at, review_reason")  # fmt: skip
_RECONCILE_LOCK = 0x7661786365727432  # "vaxcert2": one reconciler at a time


#: Most values bound in one ``IN (...)`` list: PostgreSQL's protocol allows 65,535 parameters per
#: statement and SQLite 32,766, so longer lists (``--chunk 100000``) are sent in parts.
MAX_IN_LIST = 10_000


def placeholders(n: int) -> str:
    """``?, ?, ...`` for an ``IN (...)`` list of ``n`` values (n >= 1)."""
    return ", ".join("?" * n)


def in_parts(values: Sequence[Any], size: int = MAX_IN_LIST) -> list[Sequence[Any]]:
    """``values`` cut into parts of at most ``size`` (for ``IN (...)`` lists)."""
    return [values[start : start + size] for start in range(0, len(values), size)]


def _dose(row: Sequence[Any]) -> StoredDose:
    return StoredDose(*row)


def _recognition(row: Sequence[Any]) -> RecognitionRow:
    values = list(row)
    values[0], values[8], values[11] = int(values[0]), int(values[8]), int(values[11])
    return RecognitionRow(*values)


def _request(row: Sequence[Any]) -> CorrectionRequest:
    values = list(row)
    values[5] = json.loads(values[5])
    return CorrectionRequest(*values)


class SqlRegistry:
    """The domain methods over an adapter's :meth:`transaction` (see the module docstring)."""

    # -- what an adapter provides ---------------------------------------------------------------

    @property
    def backend(self) -> Backend:
        raise NotImplementedError

    @property
    def spec(self) -> RegistrySpec:
        raise NotImplementedError

    def transaction(self) -> AbstractContextManager[Tx]:
        raise NotImplementedError

    def claim(
        self, *, worker: str, limit: int, now: float, lease_seconds: float, facilities: Sequence[str] | None
    ) -> list[ClaimedPerson]:
        raise NotImplementedError

    def _lock(self, tx: Tx, key: int) -> None:
        """Serialise a workflow across processes (PostgreSQL: an advisory lock; SQLite writes are serial)."""

    def _staged_keys(self) -> str:
        """The staged person keys as an index condition (PostgreSQL prefers ``= ANY(ARRAY(...))``)."""
        return "IN (SELECT person_key FROM staged_certs)"

    def _prepare_staged(self, tx: Tx, new_table: bool) -> None:
        """After filling the staging table (PostgreSQL analyses a new one)."""

    def _new_staging_table(self, tx: Tx) -> bool:
        return False

    def _clear_staging(self, tx: Tx) -> None:
        """Empty the session's staging table before a chunk is copied in."""
        tx.execute("DELETE FROM staged_certs")

    def _stage_ahead(self, staged: Sequence[StagedCertificate]) -> bool:
        """Fill the staging table before the write transaction, where the backend can; False if not.

        SQLite can: a temporary table belongs to its connection and is written without the
        database's write lock, so the other workers may write meanwhile.
        """
        return False

    def _fill_staging(self, tx: Tx, staged: Sequence[StagedCertificate]) -> None:
        """The session's staging table (created if missing) holding exactly ``staged``."""
        new_table = self._new_staging_table(tx)
        tx.execute(_STAGING_TABLE)
        self._clear_staging(tx)
        tx.copy_rows("staged_certs", _STAGE_COLUMNS, staged)
        self._prepare_staged(tx, new_table)

    def _skip_locked(self) -> str:
        """A row-locking suffix for claims (PostgreSQL: ``FOR UPDATE SKIP LOCKED``; SQLite writes are serial)."""
        return ""

    # -- import -------------------------------------------------------------------------------

    def person_identities(self, person_keys: Sequence[str]) -> dict[str, tuple[str, str | None, str]]:
        """``person_key -> (fn, gn, dob)`` for the known persons among ``person_keys``."""
        if not person_keys:
            return {}
        rows: list[tuple[Any, ...]] = []
        with self.transaction() as tx:
            for part in in_parts(person_keys):
                rows.extend(tx.query(f"SELECT person_key, fn, gn, dob FROM persons WHERE person_key IN"  # noqa: S608
                                     f" ({placeholders(len(part))})", part))  # fmt: skip
        return {k: (fn, gn, dob) for k, fn, gn, dob in rows}

    def dose_hashes(self, dose_keys: Sequence[str]) -> dict[str, DoseHash]:
        """The stored content of the doses among ``dose_keys``."""
        if not dose_keys:
            return {}
        rows: list[tuple[Any, ...]] = []
        with self.transaction() as tx:
            for part in in_parts(dose_keys):
                rows.extend(tx.query("SELECT dose_key, row_hash, series_total, mp, ma, vp, co, tg FROM doses"  # noqa: S608
                                     f" WHERE dose_key IN ({placeholders(len(part))})", part))  # fmt: skip
        return {row[0]: DoseHash(*row[1:]) for row in rows}

    def add_persons(self, persons: Sequence[PersonRow], *, stamp: int) -> None:
        """Insert new persons, marked for reconciliation."""
        with self.transaction() as tx:
            tx.copy_rows("persons", _PERSON_COLUMNS, [(*p, 1, "new", stamp, stamp) for p in persons])

    def add_doses(self, doses: Sequence[NewDose], *, stamp: int) -> None:
        """Insert new doses."""
        rows = [(d.dose.key, d.person_key, *d.dose[1:], d.row_hash, d.source, d.line, stamp, stamp) for d in doses]
        with self.transaction() as tx:
            tx.copy_rows("doses", _DOSE_COLUMNS, rows)

    def mark_changed(self, person_keys: Sequence[str], *, stamp: int) -> None:
        """Mark persons for reconciliation (their doses or identity changed)."""
        if not person_keys:
            return
        with self.transaction() as tx:
            for part in in_parts(person_keys):
                tx.execute(f"UPDATE persons SET dirty = dirty + 1, updated_at = ? WHERE person_key IN"  # noqa: S608
                           f" ({placeholders(len(part))})", (stamp, *part))  # fmt: skip

    def add_facilities(self, facilities: Iterable[tuple[str, str]], *, stamp: int) -> None:
        """Record facilities ``(facility_id, province)`` not yet known."""
        with self.transaction() as tx:
            tx.executemany("INSERT INTO facilities (facility_id, name, province, created_at) VALUES (?, ?, ?, ?)"
                           " ON CONFLICT (facility_id) DO NOTHING",
                           [(f, None, province, stamp) for f, province in facilities])  # fmt: skip

    # -- population register ------------------------------------------------------------------

    def register_entries(self, citizen_ids: Sequence[str]) -> dict[str, tuple[str, str | None, str]]:
        """``citizen_id -> (fn, gn, dob)`` from the population register."""
        found: dict[str, tuple[str, str | None, str]] = {}
        with self.transaction() as tx:
            for start in range(0, len(citizen_ids), 1000):
                part = citizen_ids[start : start + 1000]
                sql = f"SELECT citizen_id, fn, gn, dob FROM population_register WHERE citizen_id IN ({placeholders(len(part))})"  # noqa: E501, S608
                for cid, fn, gn, dob in tx.query(sql, part):
                    found[cid] = (fn, gn, dob)
        return found

    def put_register_entries(self, entries: Sequence[tuple[str, str, str | None, str]], *, stamp: int) -> int:
        """Insert or replace register entries ``(citizen_id, fn, gn, dob)``; mark changed citizens.

        Returns how many entries were new or changed.
        """
        if not entries:
            return 0
        with self.transaction():
            known = self.register_entries([e[0] for e in entries])
            changed = [e for e in entries if known.get(e[0]) != e[1:4]]
            if changed:
                with self.transaction() as tx:
                    tx.executemany(
                        "INSERT INTO population_register (citizen_id, fn, gn, dob, loaded_at) VALUES (?, ?, ?, ?, ?)"
                        " ON CONFLICT (citizen_id) DO UPDATE SET fn = excluded.fn, gn = excluded.gn,"
                        " dob = excluded.dob, loaded_at = excluded.loaded_at",
                        [(*e, stamp) for e in changed],
                    )
                    for part in in_parts([e[0] for e in changed]):
                        tx.execute("UPDATE persons SET dirty = dirty + 1 WHERE id_kind = 'cccd' AND id_number IN"  # noqa: S608
                                   f" ({placeholders(len(part))})", part)  # fmt: skip
        return len(changed)

    # -- reconciliation -----------------------------------------------------------------------

    def lock_reconciliation(self) -> None:
        """Inside a transaction: one reconciler at a time across processes (no stale status writes)."""
        with self.transaction() as tx:
            self._lock(tx, _RECONCILE_LOCK)

    def changed_persons(self, *, after: str, limit: int, only: Sequence[str] | None = None) -> list[ChangedPerson]:
        """Persons marked for reconciliation with keys above ``after`` (among ``only``), in key order."""
        sql = (f"SELECT {_PERSON}, dirty, content_hash, record_version FROM persons"  # noqa: S608
               " WHERE dirty > 0 AND person_key > ?")  # fmt: skip
        params: list[Any] = [after]
        if only is not None:
            wanted = sorted(k for k in only if k > after)[:limit]
            if not wanted:
                return []
            sql += f" AND person_key IN ({placeholders(len(wanted))})"
            params.extend(wanted)
        with self.transaction() as tx:
            rows = tx.query(sql + " ORDER BY person_key LIMIT ?", (*params, limit))
        return [ChangedPerson(PersonRow(*r[:9]), r[9], r[10], r[11]) for r in rows]

    def doses_of(self, person_keys: Sequence[str]) -> dict[str, list[StoredDose]]:
        """The recorded doses of each person."""
        out: dict[str, list[StoredDose]] = {}
        if not person_keys:
            return out
        with self.transaction() as tx:
            for part in in_parts(person_keys):
                for row in tx.query(f"SELECT person_key, {_DOSE} FROM doses WHERE person_key IN"  # noqa: S608
                                    f" ({placeholders(len(part))})", part):  # fmt: skip
                    out.setdefault(row[0], []).append(_dose(row[1:]))
        return out

    def replace_problems(self, person_keys: Sequence[str], problems: Sequence[ProblemRow], *, stamp: int) -> None:
        """Replace the recorded problems of these persons."""
        if not person_keys:
            return
        with self.transaction() as tx:
            for part in in_parts(person_keys):
                tx.execute(f"DELETE FROM problems WHERE person_key IN ({placeholders(len(part))})",  # noqa: S608
                           part)  # fmt: skip
            tx.executemany(
                "INSERT INTO problems (person_key, kind, blocking, detail, dose_keys, detected_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [(p.person_key, p.kind, int(p.blocking), p.detail, ",".join(p.dose_keys), stamp) for p in problems],
            )

    def update_statuses(self, updates: Sequence[StatusUpdate], *, stamp: int) -> None:
        """Write reconciled states; a person changed again meanwhile (``dirty`` moved on) stays marked."""
        rows = []
        for u in updates:
            last = u.last
            dose = (last.facility, last.tg, last.vp, last.mp, last.ma, last.dn, last.sd, last.date, last.co,
                    last.issuer) if last else (None,) * 10  # fmt: skip
            rows.append((u.dirty, u.state, u.reason, u.doses, int(u.complete), int(u.booster), *dose,
                         u.content_hash, u.record_version, stamp, u.person_key))  # fmt: skip
        with self.transaction() as tx:
            tx.executemany(
                "UPDATE persons SET dirty = CASE WHEN dirty = ? THEN 0 ELSE dirty END, state = ?, state_reason = ?,"
                " doses = ?, complete = ?, booster = ?, last_facility = ?, tg = ?, vp = ?, mp = ?, ma = ?,"
                " dn = ?, sd = ?, dt = ?, co = ?, last_issuer = ?, content_hash = ?, record_version = ?,"
                " updated_at = ? WHERE person_key = ?",
                rows,
            )

    # -- issuance -----------------------------------------------------------------------------

    def pending(self, facilities: Sequence[str] | None = None) -> tuple[int, float | None]:
        """Persons waiting for a certificate (among ``facilities``), and the latest lease on them."""
        sql = f"SELECT COUNT(*), MAX(lease_until) FROM persons WHERE {PENDING}"  # noqa: S608
        params: list[Any] = []
        if facilities is not None:
            if not facilities:
                return 0, None
            sql += f" AND last_facility IN ({placeholders(len(facilities))})"
            params = list(facilities)
        with self.transaction() as tx:
            count, lease = tx.query(sql, params)[0]
        return int(count), (float(lease) if lease is not None else None)

    def claim_person(self, person_key: str, *, worker: str, now: float, lease_seconds: float) -> list[ClaimedPerson]:
        """Lease one person if they wait for a certificate and nobody holds them."""
        with self.transaction() as tx:
            rows = tx.query(
                f"UPDATE persons SET lease_owner = ?, lease_until = ? WHERE person_key = ? AND {PENDING}"  # noqa: S608
                f" AND (lease_until IS NULL OR lease_until < ?) RETURNING {', '.join(CLAIM_COLUMNS)}",
                (worker, now + lease_seconds, person_key, now),
            )
        return [ClaimedPerson(*r) for r in rows]

    def release_leases(self) -> int:
        """Clear every lease (only when no other worker is running, e.g. after a crash)."""
        with self.transaction() as tx:
            return tx.execute("UPDATE persons SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL")

    def store_certificates(
        self,
        staged: Sequence[StagedCertificate],
        *,
        worker: str,
        stamp: int,
        failures: Sequence[tuple[str, str]] = (),
    ) -> int:
        """Store a signed chunk in one transaction; return how many certificates won.

        A certificate wins when its person's ``issued_version`` is still below its version: the
        person's previous certificate becomes ``superseded`` and the leases are cleared.
        ``failures`` are ``(person_key, reason)`` of persons that could not be signed: they are held
        (``held_error``) so that they are not claimed again and again.
        """
        staged_ahead = self._stage_ahead(staged)
        with self.transaction() as tx:
            if not staged_ahead:
                self._fill_staging(tx, staged)
            keys = self._staged_keys()
            tx.execute(
                "UPDATE persons SET issued_version = s.record_version, lease_owner = NULL, lease_until = NULL"  # noqa: S608
                f" FROM staged_certs s WHERE persons.person_key {keys} AND persons.person_key = s.person_key"
                " AND persons.issued_version < s.record_version"
            )
            tx.execute(
                "UPDATE certificates SET status = 'superseded' FROM staged_certs s"  # noqa: S608
                f" WHERE certificates.person_key {keys} AND certificates.person_key = s.person_key"
                " AND certificates.status = 'current' AND certificates.record_version < s.record_version"
            )
            won = tx.execute(
                "INSERT INTO certificates (person_key, record_version, uvci, hc1, kid, facility_id, cert_type, dn, sd,"  # noqa: S608
                " issued_at, expires_at, status, worker, created_at)"
                " SELECT s.person_key, s.record_version, s.uvci, s.hc1, s.kid, s.facility_id, s.cert_type, s.dn, s.sd,"
                f" s.issued_at, s.expires_at, 'current', ?, ? FROM staged_certs s JOIN persons p"
                f" ON p.person_key = s.person_key WHERE p.person_key {keys} AND p.issued_version = s.record_version"
                " ON CONFLICT (person_key, record_version) DO NOTHING",
                (worker, stamp),
            )
            if failures:
                tx.executemany(
                    "UPDATE persons SET state = 'held_error', state_reason = ?, lease_owner = NULL, lease_until = NULL"
                    " WHERE person_key = ?",
                    [(reason, key) for key, reason in failures],
                )
            if won < len(staged):  # persons another worker issued first: free the leases we still hold
                for lost in in_parts([s.person_key for s in staged]):
                    tx.execute("UPDATE persons SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?"  # noqa: S608
                               f" AND person_key IN ({placeholders(len(lost))})", (worker, *lost))  # fmt: skip
        return won

    def person_keys(self) -> list[str]:
        """Every person's key, in the order they were first recorded."""
        with self.transaction() as tx:
            return [k for (k,) in tx.query("SELECT person_key FROM persons ORDER BY created_at, person_key")]

    def current_certificates(self) -> list[tuple[str, str]]:
        """``(person_key, hc1)`` of every current certificate (for checks and demos: holds personal data)."""
        with self.transaction() as tx:
            return [(k, h) for k, h in tx.query(
                "SELECT person_key, hc1 FROM certificates WHERE status = 'current' ORDER BY person_key")]  # fmt: skip

    # -- corrections --------------------------------------------------------------------------

    def person(self, person_key: str) -> PersonRow | None:
        """A person's identity, or None."""
        with self.transaction() as tx:
            rows = tx.query(f"SELECT {_PERSON} FROM persons WHERE person_key = ?", (person_key,))  # noqa: S608
        return PersonRow(*rows[0]) if rows else None

    def add_correction_request(
        self, *, person_key: str, facility: str, kind: str, dose_key: str | None, proposed: Mapping[str, Any],
        note: str | None, requested_by: str, requested_at: int, deadline: int,
    ) -> int:  # fmt: skip
        """Record a pending request; return its id."""
        with self.transaction() as tx:
            rows = tx.query(
                "INSERT INTO correction_requests (person_key, facility_id, kind, dose_key, proposed, note,"
                " requested_by, requested_at, deadline, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')"
                " RETURNING request_id",
                (person_key, facility, kind, dose_key, json.dumps(dict(proposed), ensure_ascii=False), note,
                 requested_by, requested_at, deadline),
            )  # fmt: skip
        return int(rows[0][0])

    def correction_request(self, request_id: int) -> CorrectionRequest | None:
        """One request, or None."""
        with self.transaction() as tx:
            rows = tx.query(f"SELECT {_REQUEST} FROM correction_requests WHERE request_id = ?",  # noqa: S608
                            (request_id,))  # fmt: skip
        return _request(rows[0]) if rows else None

    def correction_requests(
        self, *, status: str | None = None, overdue_at: int | None = None, facility: str | None = None,
        person_key: str | None = None, facilities: Sequence[str] | None = None,
    ) -> list[CorrectionRequest]:  # fmt: skip
        """Requests, earliest deadline first; ``overdue_at`` keeps pending ones past their deadline then;
        ``facilities`` keeps those reviewed by one of them (an area's facilities)."""
        sql = f"SELECT {_REQUEST} FROM correction_requests WHERE 1 = 1"  # noqa: S608
        params: list[Any] = []
        if facilities is not None:
            if not facilities:
                return []
            sql += f" AND facility_id IN ({placeholders(len(facilities))})"
            params.extend(facilities)
        if overdue_at is not None:
            sql += " AND status = 'pending' AND deadline < ?"
            params.append(overdue_at)
        for column, value in (("status", status), ("facility_id", facility), ("person_key", person_key)):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        with self.transaction() as tx:
            return [_request(r) for r in tx.query(sql + " ORDER BY deadline, request_id", params)]

    def review_correction(self, request_id: int, *, status: str, reviewer: str, reason: str, stamp: int) -> None:
        """Mark a request approved or rejected."""
        with self.transaction() as tx:
            tx.execute("UPDATE correction_requests SET status = ?, reviewed_by = ?, reviewed_at = ?, review_reason = ?"
                       " WHERE request_id = ?", (status, reviewer, stamp, reason, request_id))  # fmt: skip

    def replace_dose(self, old_key: str, new: NewDose, *, stamp: int) -> None:
        """Change a stored dose's fields (it keeps ``old_key``)."""
        d = new.dose
        with self.transaction() as tx:
            tx.execute(  # a recognised dose keeps its issuer (not a field a correction changes)
                "UPDATE doses SET facility_id = ?, dose_number = ?, series_total = ?, vaccination_date = ?,"
                " tg = ?, vp = ?, mp = ?, ma = ?, co = ?, row_hash = ?, updated_at = ? WHERE dose_key = ?",
                (d.facility, d.dn, d.sd, d.date, d.tg, d.vp, d.mp, d.ma, d.co, new.row_hash, stamp, old_key),
            )

    def remove_dose(self, dose_key: str) -> None:
        """Delete a stored dose."""
        with self.transaction() as tx:
            tx.execute("DELETE FROM doses WHERE dose_key = ?", (dose_key,))

    def revoke_current(
        self, person_key: str, *, reason: str, request_id: int | None, revoked_by: str, stamp: int
    ) -> list[int]:
        """Revoke the person's current certificate (recorded in ``revocations``); return the certificate ids."""
        with self.transaction() as tx:
            revoked = tx.query("UPDATE certificates SET status = 'revoked' WHERE person_key = ? AND status = 'current'"
                               " RETURNING cert_id, uvci, kid", (person_key,))  # fmt: skip
            for cert_id, uvci, kid in revoked:
                tx.execute(
                    "INSERT INTO revocations (cert_id, person_key, uvci, kid, reason, request_id, revoked_by,"
                    " revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (cert_id, person_key, uvci, kid, reason, request_id, revoked_by, stamp),
                )
        return [int(r[0]) for r in revoked]

    def force_new_version(self, person_key: str, *, stamp: int) -> None:
        """Mark the person for reconciliation so that a new version (and certificate) follows."""
        with self.transaction() as tx:
            tx.execute("UPDATE persons SET dirty = dirty + 1, content_hash = NULL, updated_at = ? WHERE person_key = ?",
                       (stamp, person_key))  # fmt: skip

    def revoked_certificates(self) -> list[tuple[str, str]]:
        """``(uvci, hc1)`` of every revoked certificate, in revocation order."""
        with self.transaction() as tx:
            return [(u, h) for u, h in tx.query(
                "SELECT r.uvci, c.hc1 FROM revocations r JOIN certificates c ON c.cert_id = r.cert_id"
                " ORDER BY r.cert_id")]  # fmt: skip

    def audit(self, *, at: int, actor: str, action: str, subject: str, reason: str | None,
              detail: Mapping[str, Any] | None = None, origin: str | None = None) -> None:  # fmt: skip
        """Append one audit-log row (``origin``: where the write came from, e.g. ``service:203.0.113.5``)."""
        with self.transaction() as tx:
            tx.execute(
                "INSERT INTO audit_log (at, actor, action, subject, reason, detail, origin)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (at, actor, action, subject, reason, json.dumps(detail, ensure_ascii=False) if detail else None,
                 origin),
            )

    def audit_trail(self, subject: str | None = None) -> list[AuditEntry]:
        """Audit rows, oldest first (of one subject when given)."""
        sql = "SELECT at, actor, action, subject, reason, detail, origin FROM audit_log"
        params: tuple[Any, ...] = ()
        if subject is not None:
            sql += " WHERE subject = ?"
            params = (subject,)
        with self.transaction() as tx:
            return [AuditEntry(*r) for r in tx.query(sql + " ORDER BY audit_id", params)]

    # -- recognition of foreign doses ---------------------------------------------------------

    def recognition(self, certificate_hash: str) -> RecognitionRow | None:
        """The recognition of the certificate with this signed-content hash, or None."""
        with self.transaction() as tx:
            rows = tx.query(f"SELECT {_RECOGNITION} FROM recognitions WHERE certificate_hash = ?",  # noqa: S608
                            (certificate_hash,))  # fmt: skip
        return _recognition(rows[0]) if rows else None

    def recognitions_of(self, person_key: str) -> list[RecognitionRow]:
        """A person's recognised foreign certificates, oldest first."""
        with self.transaction() as tx:
            rows = tx.query(f"SELECT {_RECOGNITION} FROM recognitions WHERE person_key = ?"  # noqa: S608
                            " ORDER BY recognition_id", (person_key,))  # fmt: skip
        return [_recognition(r) for r in rows]

    def add_recognition(self, recognition: RecognitionRow, doses: Sequence[NewDose], *, stamp: int) -> int | None:
        """Record a recognised certificate and its doses; None (nothing written) when a certificate
        with the same hash was recognised before (``UNIQUE (certificate_hash)`` decides, also
        between concurrent facilities)."""
        r = recognition
        with self.transaction() as tx:
            rows = tx.query(
                "INSERT INTO recognitions (certificate_hash, person_key, source_format, issuer_country, issuer_key,"
                " issuer, certificate_id, doses, facility_id, recognised_by, recognised_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (certificate_hash) DO NOTHING"
                " RETURNING recognition_id",
                (r.certificate_hash, r.person_key, r.source_format, r.issuer_country, r.issuer_key, r.issuer,
                 r.certificate_id, r.doses, r.facility_id, r.recognised_by, r.recognised_at),
            )  # fmt: skip
            if not rows:
                return None
            recognition_id = int(rows[0][0])
            tx.copy_rows("doses", (*_DOSE_COLUMNS, "recognition_id"),
                         [(d.dose.key, d.person_key, *d.dose[1:], d.row_hash, d.source, d.line, stamp, stamp,
                           recognition_id) for d in doses])  # fmt: skip
        return recognition_id

    # -- status and reports -------------------------------------------------------------------

    def overview(self, *, now: int) -> RegistryOverview:
        """Counts over the whole registry at ``now`` (epoch seconds)."""
        with self.transaction() as tx:
            states = dict(tx.query("SELECT state, COUNT(*) FROM persons GROUP BY state"))
            certs = dict(tx.query("SELECT status, COUNT(*) FROM certificates GROUP BY status"))
            pending = tx.query(f"SELECT COUNT(*) FROM persons WHERE {PENDING}")  # noqa: S608
            dirty = tx.query("SELECT COUNT(*) FROM persons WHERE dirty > 0")
            doses = tx.query("SELECT COUNT(*) FROM doses")
            problems = dict(tx.query("SELECT kind, COUNT(*) FROM problems GROUP BY kind"))
            overdue = tx.query("SELECT COUNT(*) FROM correction_requests WHERE status = 'pending' AND deadline < ?",
                               (now,))  # fmt: skip
            open_requests = tx.query("SELECT COUNT(*) FROM correction_requests WHERE status = 'pending'")
        return RegistryOverview(
            persons={str(k): int(v) for k, v in states.items()}, doses=int(doses[0][0]),
            awaiting_certificate=int(pending[0][0]), awaiting_reconciliation=int(dirty[0][0]),
            certificates={str(k): int(v) for k, v in certs.items()},
            problems={str(k): int(v) for k, v in problems.items()},
            corrections_pending=int(open_requests[0][0]), corrections_overdue=int(overdue[0][0]),
        )  # fmt: skip

    def person_status(self, person_key: str) -> PersonStatus | None:
        """One person's state, status, problems and certificates, or None."""
        with self.transaction() as tx:
            rows = tx.query(
                f"SELECT {_PERSON}, state, state_reason, doses, complete, booster, last_facility, dn, sd,"  # noqa: S608
                " record_version, issued_version FROM persons WHERE person_key = ?",
                (person_key,),
            )
            if not rows:
                return None
            problems = tx.query("SELECT kind, blocking, detail, dose_keys FROM problems WHERE person_key = ?"
                                " ORDER BY kind", (person_key,))  # fmt: skip
            certs = tx.query("SELECT cert_id, record_version, status, kid, facility_id, issued_at, cert_type"
                             " FROM certificates"
                             " WHERE person_key = ? ORDER BY cert_id", (person_key,))  # fmt: skip
            recognised = tx.query(f"SELECT {_RECOGNITION} FROM recognitions WHERE person_key = ?"  # noqa: S608
                                  " ORDER BY recognition_id", (person_key,))  # fmt: skip
        r = rows[0]
        return PersonStatus(
            person=PersonRow(*r[:9]), state=r[9], reason=r[10], doses=int(r[11]), complete=bool(r[12]),
            booster=bool(r[13]), facility=r[14], dn=r[15], sd=r[16], record_version=int(r[17]),
            issued_version=int(r[18]),
            problems=tuple(ProblemRow(person_key, k, bool(b), d, tuple(keys.split(",")) if keys else ())
                           for k, b, d, keys in problems),
            certificates=tuple(CertificateSummary(*c) for c in certs),
            recognitions=tuple(_recognition(row) for row in recognised),
        )  # fmt: skip

    def facility_counts(self, *, now: int) -> dict[str | None, FacilityCounts]:
        """Per facility (None: unknown) the counts a report needs (see :mod:`.reports`)."""
        out: dict[str | None, FacilityCounts] = {}

        def at(facility: str | None) -> FacilityCounts:
            return out.setdefault(facility, FacilityCounts())

        with self.transaction() as tx:
            for facility, n in tx.query("SELECT facility_id, COUNT(*) FROM doses GROUP BY facility_id"):
                at(facility).doses += int(n)
            for facility, complete, partial, booster, held_i, held_c in tx.query(
                "SELECT last_facility, SUM(CASE WHEN complete = 1 THEN 1 ELSE 0 END),"
                " SUM(CASE WHEN complete = 0 THEN 1 ELSE 0 END), SUM(CASE WHEN booster = 1 THEN 1 ELSE 0 END),"
                " SUM(CASE WHEN state = 'held_identity' THEN 1 ELSE 0 END),"
                " SUM(CASE WHEN state = 'held_conflict' THEN 1 ELSE 0 END)"
                " FROM persons WHERE doses > 0 GROUP BY last_facility"
            ):
                c = at(facility)
                c.people_complete += int(complete)
                c.people_partial += int(partial)
                c.booster += int(booster)
                c.held_identity += int(held_i)
                c.held_conflict += int(held_c)
            for facility, issued, current in tx.query(
                "SELECT facility_id, COUNT(*), SUM(CASE WHEN status = 'current' THEN 1 ELSE 0 END)"
                " FROM certificates GROUP BY facility_id"
            ):
                c = at(facility)
                c.certificates_issued += int(issued)
                c.certificates_current += int(current)
            for facility, pending, overdue in tx.query(
                "SELECT facility_id, SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END),"
                " SUM(CASE WHEN status = 'pending' AND deadline < ? THEN 1 ELSE 0 END)"
                " FROM correction_requests GROUP BY facility_id",
                (now,),
            ):
                c = at(facility)
                c.corrections_pending += int(pending)
                c.corrections_overdue += int(overdue)
        return out

    # -- the signing service (issue 14) ---------------------------------------------------------

    def add_account(self, *, name: str, role: str, area: str | None, token_hash: str, stamp: int,
                    created_by: str) -> bool:  # fmt: skip
        """Create an account; False when the name is taken."""
        with self.transaction() as tx:
            rows = tx.query(
                "INSERT INTO accounts (name, role, area, token_hash, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (name) DO NOTHING RETURNING account_id",
                (name, role, area, token_hash, stamp, created_by),
            )
        return bool(rows)

    def account_by_token(self, token_hash: str) -> AccountRow | None:
        """The active (not revoked) account holding this token hash."""
        with self.transaction() as tx:
            rows = tx.query("SELECT name, role, area, created_at, created_by, revoked_at FROM accounts"
                            " WHERE token_hash = ? AND revoked_at IS NULL", (token_hash,))  # fmt: skip
        return AccountRow(*rows[0]) if rows else None

    def accounts(self) -> list[AccountRow]:
        """Every account, by name."""
        with self.transaction() as tx:
            return [AccountRow(*r) for r in tx.query(
                "SELECT name, role, area, created_at, created_by, revoked_at FROM accounts ORDER BY name")]  # fmt: skip

    def revoke_account(self, name: str, *, stamp: int, revoked_by: str) -> bool:
        """Revoke an active account's token; False when there is no such active account."""
        with self.transaction() as tx:
            return tx.execute("UPDATE accounts SET revoked_at = ?, revoked_by = ? WHERE name = ?"
                              " AND revoked_at IS NULL", (stamp, revoked_by, name)) > 0  # fmt: skip

    def open_job_records(self) -> int:
        """Records in submissions not yet processed (queued or running): the queue's length."""
        with self.transaction() as tx:
            rows = tx.query("SELECT COALESCE(SUM(records), 0) FROM jobs WHERE status IN ('queued', 'running')")
        return int(rows[0][0])

    def add_job(self, *, job_id: str, account: str, facility: str | None, fmt: str, records: int, body: bytes,
                stamp: int, origin: str | None) -> None:  # fmt: skip
        """Queue a submission (committed before this returns: the records are durably queued)."""
        with self.transaction() as tx:
            tx.execute("INSERT INTO jobs (job_id, account, facility, format, records, body, status, created_at, origin)"
                       " VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?)",
                       (job_id, account, facility, fmt, records, body, stamp, origin))  # fmt: skip

    def claim_job(self, *, worker: str, now: float, lease_seconds: float) -> ClaimedJob | None:
        """Lease the oldest queued submission (or one whose worker's lease expired), or None."""
        with self.transaction() as tx:
            rows = tx.query(
                "UPDATE jobs SET status = 'running', lease_owner = ?, lease_until = ?, attempts = attempts + 1,"  # noqa: S608
                " started_at = COALESCE(started_at, ?) WHERE job_id IN (SELECT job_id FROM jobs"
                " WHERE (status = 'queued' OR (status = 'running' AND lease_until < ?))"
                f" ORDER BY created_at, job_id LIMIT 1{self._skip_locked()})"
                " RETURNING job_id, account, facility, format, records, body, attempts",
                (worker, now + lease_seconds, int(now), now),
            )
        if not rows:
            return None
        r = rows[0]
        return ClaimedJob(r[0], r[1], r[2], r[3], int(r[4]), bytes(r[5]), int(r[6]))

    def finish_job(self, job_id: str, *, worker: str, status: str, counts: Sequence[int], errors: Sequence[JobErrorRow],
                   failure: str | None, stamp: int) -> bool:  # fmt: skip
        """Record a processed submission (``counts``: rows, inserted, unchanged, rejected, new persons).

        False, changing nothing, when ``worker`` no longer holds the job's lease (another took it over).
        """
        with self.transaction() as tx:
            done = tx.execute(
                "UPDATE jobs SET status = ?, rows_read = ?, inserted = ?, unchanged = ?, rejected = ?, new_persons = ?,"
                " failure = ?, finished_at = ?, body = NULL, lease_owner = NULL, lease_until = NULL"
                " WHERE job_id = ? AND lease_owner = ? AND status = 'running'",
                (status, *counts, failure, stamp, job_id, worker),
            )
            if done != 1:
                return False
            tx.execute("DELETE FROM job_errors WHERE job_id = ?", (job_id,))
            tx.executemany("INSERT INTO job_errors (job_id, seq, line, field, message) VALUES (?, ?, ?, ?, ?)",
                           [(job_id, i, e.line, e.field, e.message) for i, e in enumerate(errors)])  # fmt: skip
        return True

    def release_job(self, job_id: str, *, worker: str, failure: str | None, stamp: int) -> None:
        """Give a job this worker could not finish back to the queue (or mark it failed, with ``failure``)."""
        with self.transaction() as tx:
            if failure is None:
                tx.execute("UPDATE jobs SET status = 'queued', lease_owner = NULL, lease_until = NULL"
                           " WHERE job_id = ? AND lease_owner = ?", (job_id, worker))  # fmt: skip
            else:
                tx.execute("UPDATE jobs SET status = 'failed', failure = ?, finished_at = ?, lease_owner = NULL,"
                           " lease_until = NULL WHERE job_id = ? AND lease_owner = ?",
                           (failure, stamp, job_id, worker))  # fmt: skip

    def job(self, job_id: str) -> JobRow | None:
        """A submission's state and counts, or None."""
        with self.transaction() as tx:
            rows = tx.query(
                "SELECT job_id, account, facility, format, records, status, attempts, created_at, started_at,"
                " finished_at, rows_read, inserted, unchanged, rejected, new_persons, failure FROM jobs"
                " WHERE job_id = ?",
                (job_id,),
            )
        return JobRow(*rows[0]) if rows else None

    def job_errors(self, job_id: str, *, offset: int = 0, limit: int = 1000) -> list[JobErrorRow]:
        """A processed submission's rejected rows, by line."""
        with self.transaction() as tx:
            return [JobErrorRow(int(a), b, c) for a, b, c in tx.query(
                "SELECT line, field, message FROM job_errors WHERE job_id = ? ORDER BY seq LIMIT ? OFFSET ?",
                (job_id, limit, offset))]  # fmt: skip

    def jobs_summary(self) -> dict[str, tuple[int, int]]:
        """``status -> (jobs, records)`` over every submission."""
        with self.transaction() as tx:
            return {str(s): (int(n), int(r)) for s, n, r in tx.query(
                "SELECT status, COUNT(*), COALESCE(SUM(records), 0) FROM jobs GROUP BY status")}  # fmt: skip

    def hit_rate_limit(self, bucket: str, *, window_start: int) -> int:
        """Count one hit in ``bucket`` for the window starting at ``window_start``; return the window's hits."""
        with self.transaction() as tx:
            rows = tx.query(
                "INSERT INTO rate_limits (bucket, window_start, hits) VALUES (?, ?, 1) ON CONFLICT (bucket) DO UPDATE"
                " SET hits = CASE WHEN rate_limits.window_start = excluded.window_start THEN rate_limits.hits + 1"
                " ELSE 1 END, window_start = excluded.window_start RETURNING hits",
                (bucket, window_start),
            )
        return int(rows[0][0])

    def forget_rate_limits(self, *, before: int) -> int:
        """Delete counters of windows that started before ``before``."""
        with self.transaction() as tx:
            return tx.execute("DELETE FROM rate_limits WHERE window_start < ?", (before,))

    def setting(self, name: str) -> str | None:
        """A registry setting (e.g. ``rate_limit_key``), or None."""
        with self.transaction() as tx:
            rows = tx.query("SELECT value FROM settings WHERE name = ?", (name,))
        return str(rows[0][0]) if rows else None

    def current_certificate(self, person_key: str) -> CurrentCertificate | None:
        """The person's current certificate and recorded birth date, or None (one query either way)."""
        with self.transaction() as tx:
            rows = tx.query("SELECT c.cert_id, p.dob, c.hc1, c.issued_at FROM persons p JOIN certificates c"
                            " ON c.person_key = p.person_key AND c.status = 'current' WHERE p.person_key = ?",
                            (person_key,))  # fmt: skip
        return CurrentCertificate(int(rows[0][0]), rows[0][1], rows[0][2], int(rows[0][3])) if rows else None

    def certificates_to_export(self, *, person_key: str | None = None, facility: str | None = None,
                               since: int | None = None) -> list[ExportedCertificate]:  # fmt: skip
        """Current certificates of a person, or of a facility (issued at or after ``since``), by id."""
        sql = ("SELECT c.cert_id, c.person_key, p.id_kind, p.id_number, p.nationality, c.facility_id, c.issued_at,"
               " c.hc1 FROM certificates c JOIN persons p ON p.person_key = c.person_key WHERE c.status = 'current'")
        params: list[Any] = []
        for condition, value in (("c.person_key = ?", person_key), ("c.facility_id = ?", facility),
                                 ("c.issued_at >= ?", since)):  # fmt: skip
            if value is not None:
                sql += f" AND {condition}"
                params.append(value)
        with self.transaction() as tx:
            return [ExportedCertificate(int(r[0]), r[1], r[2], r[3], r[4], r[5], int(r[6]), r[7])
                    for r in tx.query(sql + " ORDER BY c.cert_id", params)]  # fmt: skip

    def update_identity(self, person_key: str, *, fn: str, gn: str | None, fnt: str, gnt: str | None, dob: str,
                        stamp: int) -> None:  # fmt: skip
        """Correct a person's names and birth date, and mark them for reconciliation."""
        with self.transaction() as tx:
            tx.execute("UPDATE persons SET fn = ?, gn = ?, fnt = ?, gnt = ?, dob = ?, dirty = dirty + 1, updated_at = ?"
                       " WHERE person_key = ?", (fn, gn, fnt, gnt, dob, stamp, person_key))  # fmt: skip

    def advance_version(self, person_key: str, *, stamp: int) -> int:
        """Record a new ``record_version`` whose signed content is unchanged: a current certificate stays
        current (``issued_version`` follows); return the new version."""
        with self.transaction() as tx:
            rows = tx.query(
                "UPDATE persons SET record_version = record_version + 1, issued_version = CASE WHEN"
                " issued_version = record_version THEN record_version + 1 ELSE issued_version END, updated_at = ?"
                " WHERE person_key = ? RETURNING record_version",
                (stamp, person_key),
            )
        return int(rows[0][0]) if rows else 0

    def person_states(self, person_keys: Sequence[str]) -> dict[str, str]:
        """``person_key -> state`` of the known persons among ``person_keys``."""
        out: dict[str, str] = {}
        with self.transaction() as tx:
            for start in range(0, len(person_keys), 1000):
                part = person_keys[start : start + 1000]
                out.update(tx.query(f"SELECT person_key, state FROM persons WHERE person_key IN"  # noqa: S608
                                    f" ({placeholders(len(part))})", part))  # fmt: skip
        return out

    def facility_areas(self) -> dict[str, tuple[str, str | None]]:
        """``facility_id -> (province, district)`` of every known facility."""
        with self.transaction() as tx:
            return {f: (p, d) for f, p, d in tx.query("SELECT facility_id, province, district FROM facilities")}

    def set_facility_district(self, facility: str, district: str | None, *, province: str, stamp: int) -> None:
        """Record the district of a facility (the facility is added when unknown)."""
        with self.transaction() as tx:
            tx.execute("INSERT INTO facilities (facility_id, name, province, created_at, district)"
                       " VALUES (?, ?, ?, ?, ?) ON CONFLICT (facility_id) DO UPDATE SET district = excluded.district",
                       (facility, None, province, stamp, district))  # fmt: skip
