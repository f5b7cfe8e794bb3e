"""The registry Protocol: domain methods over typed rows, which every storage backend implements.

Workflows (:mod:`~vaxcert.registry.importer`, :mod:`~vaxcert.registry.identity`,
:mod:`~vaxcert.registry.reconciliation`, :mod:`~vaxcert.registry.batch`,
:mod:`~vaxcert.registry.corrections`, :mod:`~vaxcert.registry.reports`) and the CLI use only
these methods and the typed rows of :mod:`~vaxcert.registry.rows`: no SQL, no backend branching.
``with registry.transaction():`` groups several calls in one transaction (a nested call joins the
open one).  Both adapters implement the methods once in :class:`~vaxcert.registry.store.SqlRegistry`;
below that, an adapter's :meth:`Registry.transaction` yields a :class:`Tx`, the small SQL surface
(``?`` placeholders, bulk copy) the shared SQL runs on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from .rows import (
    CLAIM_COLUMNS,
    AccountRow,
    AuditEntry,
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

__all__ = ["CLAIM_COLUMNS", "Backend", "ProgressCallback", "Registry", "RegistrySpec", "Tx"]

Backend = Literal["sqlite", "postgresql"]

#: Called by long workflows with the amount done so far and the total (None when unknown); the
#: library draws nothing, a front end renders it (the CLI draws a bar on a terminal).
ProgressCallback = Callable[[float, float | None], None]


@dataclass(frozen=True, slots=True)
class RegistrySpec:
    """How to open a registry again (e.g. in a worker process): picklable, no open handles.

    ``repr`` hides the URL, which may hold a password.  ``busy_timeout`` (SQLite): seconds a
    write waits for another process's lock.
    """

    url: str
    schema: str | None = None
    busy_timeout: float | None = None

    def __repr__(self) -> str:
        return f"RegistrySpec(backend={self.url.split(':', 1)[0]}, schema={self.schema!r})"


class Tx(Protocol):
    """One open transaction of an adapter.  SQL uses ``?`` placeholders; rows come back as tuples."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return the number of rows it changed (-1 when unknown)."""
        ...

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement and return all its rows."""
        ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each parameter row."""
        ...

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """Append rows to ``table`` as fast as the backend can (COPY on PostgreSQL)."""
        ...


@runtime_checkable
class Registry(Protocol):
    """A vaxcert registry database.

    A registry object (its connection or pool) serves one thread at a time; a worker that
    persists in a background thread opens a second one from :attr:`spec`.
    """

    @property
    def backend(self) -> Backend: ...

    @property
    def spec(self) -> RegistrySpec:
        """How to open this registry again from another process."""
        ...

    def migrate(self) -> list[int]:
        """Apply pending schema migrations; return the versions applied (idempotent)."""
        ...

    def schema_version(self) -> int:
        """The highest migration applied (0 for an empty database)."""
        ...

    def transaction(self) -> AbstractContextManager[Tx]:
        """A write transaction: committed on normal exit, rolled back on an exception."""
        ...

    def claim(
        self, *, worker: str, limit: int, now: float, lease_seconds: float, facilities: Sequence[str] | None
    ) -> list[ClaimedPerson]:
        """Lease up to ``limit`` persons that wait for a certificate, in one short transaction.

        A person waits when reconciled as ready and changed since their last certificate
        (:data:`vaxcert.registry.store.PENDING`); it is claimable when its lease is absent or expired
        at ``now`` and its last dose's facility is in ``facilities`` (the facilities this worker holds
        keys for; None: any, for a worker holding a ministry key that signs for every facility).
        Claimed rows get ``lease_owner = worker`` and ``lease_until = now + lease_seconds``.
        Concurrent claimers never receive the same person while its lease runs.
        """
        ...

    def close(self) -> None: ...

    def person_identities(self, person_keys: Sequence[str]) -> dict[str, tuple[str, str | None, str]]:
        """``person_key -> (fn, gn, dob)`` for the known persons among ``person_keys``."""
        ...

    def dose_hashes(self, dose_keys: Sequence[str]) -> dict[str, DoseHash]:
        """The stored content of the doses among ``dose_keys``."""
        ...

    def add_persons(self, persons: Sequence[PersonRow], *, stamp: int) -> None:
        """Insert new persons, marked for reconciliation."""
        ...

    def add_doses(self, doses: Sequence[NewDose], *, stamp: int) -> None:
        """Insert new doses."""
        ...

    def mark_changed(self, person_keys: Sequence[str], *, stamp: int) -> None:
        """Mark persons for reconciliation (their doses or identity changed)."""
        ...

    def add_facilities(self, facilities: Iterable[tuple[str, str]], *, stamp: int) -> None:
        """Record facilities ``(facility_id, province)`` not yet known."""
        ...

    def register_entries(self, citizen_ids: Sequence[str]) -> dict[str, tuple[str, str | None, str]]:
        """``citizen_id -> (fn, gn, dob)`` from the population register."""
        ...

    def put_register_entries(self, entries: Sequence[tuple[str, str, str | None, str]], *, stamp: int) -> int:
        """Insert or replace register entries ``(citizen_id, fn, gn, dob)``; mark changed citizens."""
        ...

    def lock_reconciliation(self) -> None:
        """Inside a transaction: one reconciler at a time across processes (no stale status writes)."""
        ...

    def changed_persons(self, *, after: str, limit: int, only: Sequence[str] | None = None) -> list[ChangedPerson]:
        """Persons marked for reconciliation with keys above ``after`` (among ``only``), in key order."""
        ...

    def doses_of(self, person_keys: Sequence[str]) -> dict[str, list[StoredDose]]:
        """The recorded doses of each person."""
        ...

    def replace_problems(self, person_keys: Sequence[str], problems: Sequence[ProblemRow], *, stamp: int) -> None:
        """Replace the recorded problems of these persons."""
        ...

    def update_statuses(self, updates: Sequence[StatusUpdate], *, stamp: int) -> None:
        """Write reconciled states; a person changed again meanwhile (``dirty`` moved on) stays marked."""
        ...

    def pending(self, facilities: Sequence[str] | None = None) -> tuple[int, float | None]:
        """Persons waiting for a certificate (among ``facilities``), and the latest lease on them."""
        ...

    def claim_person(self, person_key: str, *, worker: str, now: float, lease_seconds: float) -> list[ClaimedPerson]:
        """Lease one person if they wait for a certificate and nobody holds them."""
        ...

    def release_leases(self) -> int:
        """Clear every lease (only when no other worker is running, e.g. after a crash)."""
        ...

    def store_certificates(
        self,
        staged: Sequence[StagedCertificate],
        *,
        worker: str,
        stamp: int,
        failures: Sequence[tuple[str, str]] = (),
    ) -> int:
        """Store a signed chunk in one transaction; return how many certificates won."""
        ...

    def person_keys(self) -> list[str]:
        """Every person's key, in the order they were first recorded."""
        ...

    def current_certificates(self) -> list[tuple[str, str]]:
        """``(person_key, hc1)`` of every current certificate (for checks and demos: holds personal data)."""
        ...

    def person(self, person_key: str) -> PersonRow | None:
        """A person's identity, or None."""
        ...

    def add_correction_request(
        self, *, person_key: str, facility: str, kind: str, dose_key: str | None, proposed: Mapping[str, Any],
        note: str | None, requested_by: str, requested_at: int, deadline: int,
    ) -> int:  # fmt: skip
        """Record a pending request; return its id."""
        ...

    def correction_request(self, request_id: int) -> CorrectionRequest | None:
        """One request, or None."""
        ...

    def correction_requests(
        self, *, status: str | None = None, overdue_at: int | None = None, facility: str | None = None,
        person_key: str | None = None, facilities: Sequence[str] | None = None,
    ) -> list[CorrectionRequest]:  # fmt: skip
        """Requests, earliest deadline first; ``overdue_at`` keeps pending ones past their deadline then;
        ``facilities`` keeps those reviewed by one of them."""
        ...

    def review_correction(self, request_id: int, *, status: str, reviewer: str, reason: str, stamp: int) -> None:
        """Mark a request approved or rejected."""
        ...

    def replace_dose(self, old_key: str, new: NewDose, *, stamp: int) -> None:
        """Change a stored dose's fields (it keeps ``old_key``)."""
        ...

    def remove_dose(self, dose_key: str) -> None:
        """Delete a stored dose."""
        ...

    def revoke_current(
        self, person_key: str, *, reason: str, request_id: int | None, revoked_by: str, stamp: int
    ) -> list[int]:
        """Revoke the person's current certificate (recorded in ``revocations``); return the certificate ids."""
        ...

    def force_new_version(self, person_key: str, *, stamp: int) -> None:
        """Mark the person for reconciliation so that a new version (and certificate) follows."""
        ...

    def revoked_certificates(self) -> list[tuple[str, str]]:
        """``(uvci, hc1)`` of every revoked certificate, in revocation order."""
        ...

    def audit(self, *, at: int, actor: str, action: str, subject: str, reason: str | None,
              detail: Mapping[str, Any] | None = None, origin: str | None = None) -> None:  # fmt: skip
        """Append one audit-log row (``origin``: where the write came from)."""
        ...

    def audit_trail(self, subject: str | None = None) -> list[AuditEntry]:
        """Audit rows, oldest first (of one subject when given)."""
        ...

    def recognition(self, certificate_hash: str) -> RecognitionRow | None:
        """The recognition of the certificate with this signed-content hash, or None."""
        ...

    def recognitions_of(self, person_key: str) -> list[RecognitionRow]:
        """A person's recognised foreign certificates, oldest first."""
        ...

    def add_recognition(self, recognition: RecognitionRow, doses: Sequence[NewDose], *, stamp: int) -> int | None:
        """Record a recognised certificate and its doses in one step; return its id, or None (and
        write nothing) when a certificate with the same hash was recognised before."""
        ...

    def overview(self, *, now: int) -> RegistryOverview:
        """Counts over the whole registry at ``now`` (epoch seconds)."""
        ...

    def person_status(self, person_key: str) -> PersonStatus | None:
        """One person's state, status, problems and certificates, or None."""
        ...

    def facility_counts(self, *, now: int) -> dict[str | None, FacilityCounts]:
        """Per facility (None: unknown) the counts a report needs (see :mod:`.reports`)."""
        ...

    # -- the signing service (issue 14) ---------------------------------------------------------

    def add_account(self, *, name: str, role: str, area: str | None, token_hash: str, stamp: int,
                    created_by: str) -> bool:  # fmt: skip
        """Create an account; False when the name is taken."""
        ...

    def account_by_token(self, token_hash: str) -> AccountRow | None:
        """The active (not revoked) account holding this token hash."""
        ...

    def accounts(self) -> list[AccountRow]:
        """Every account, by name."""
        ...

    def revoke_account(self, name: str, *, stamp: int, revoked_by: str) -> bool:
        """Revoke an active account's token; False when there is no such active account."""
        ...

    def open_job_records(self) -> int:
        """Records in submissions not yet processed (queued or running)."""
        ...

    def add_job(self, *, job_id: str, account: str, facility: str | None, fmt: str, records: int, body: bytes,
                stamp: int, origin: str | None) -> None:  # fmt: skip
        """Queue a submission, committed before this returns."""
        ...

    def claim_job(self, *, worker: str, now: float, lease_seconds: float) -> ClaimedJob | None:
        """Lease the oldest queued submission (or one whose lease expired), or None."""
        ...

    def finish_job(self, job_id: str, *, worker: str, status: str, counts: Sequence[int], errors: Sequence[JobErrorRow],
                   failure: str | None, stamp: int) -> bool:  # fmt: skip
        """Record a processed submission; False when ``worker`` no longer holds its lease."""
        ...

    def release_job(self, job_id: str, *, worker: str, failure: str | None, stamp: int) -> None:
        """Give a job back to the queue (or mark it failed, with ``failure``)."""
        ...

    def job(self, job_id: str) -> JobRow | None:
        """A submission's state and counts, or None."""
        ...

    def job_errors(self, job_id: str, *, offset: int = 0, limit: int = 1000) -> list[JobErrorRow]:
        """A processed submission's rejected rows, by line."""
        ...

    def jobs_summary(self) -> dict[str, tuple[int, int]]:
        """``status -> (jobs, records)`` over every submission."""
        ...

    def hit_rate_limit(self, bucket: str, *, window_start: int) -> int:
        """Count one hit in ``bucket`` for the window starting at ``window_start``; return the window's hits."""
        ...

    def forget_rate_limits(self, *, before: int) -> int:
        """Delete counters of windows that started before ``before``."""
        ...

    def setting(self, name: str) -> str | None:
        """A registry setting, or None."""
        ...

    def current_certificate(self, person_key: str) -> CurrentCertificate | None:
        """The person's current certificate and recorded birth date, or None."""
        ...

    def certificates_to_export(self, *, person_key: str | None = None, facility: str | None = None,
                               since: int | None = None) -> list[ExportedCertificate]:  # fmt: skip
        """Current certificates of a person, or of a facility (issued at or after ``since``)."""
        ...

    def update_identity(self, person_key: str, *, fn: str, gn: str | None, fnt: str, gnt: str | None, dob: str,
                        stamp: int) -> None:  # fmt: skip
        """Correct a person's names and birth date, and mark them for reconciliation."""
        ...

    def advance_version(self, person_key: str, *, stamp: int) -> int:
        """Record a new record version whose signed content is unchanged (the certificate stays current)."""
        ...

    def person_states(self, person_keys: Sequence[str]) -> dict[str, str]:
        """``person_key -> state`` of the known persons among ``person_keys``."""
        ...

    def facility_areas(self) -> dict[str, tuple[str, str | None]]:
        """``facility_id -> (province, district)`` of every known facility."""
        ...

    def set_facility_district(self, facility: str, district: str | None, *, province: str, stamp: int) -> None:
        """Record the district of a facility."""
        ...
