"""The durable queue of bulk submissions: facilities post files, workers import them.

:func:`submit_job` checks a file for whole-file problems (empty, header-only, not UTF-8, a header
that is not a facility export's: :func:`~vaxcert.registry.importer.count_records`), counts its
records (at most :data:`MAX_RECORDS`), applies **admission control** and then stores the file in
the ``jobs`` table, committed before it returns: an accepted submission is durably queued.  When
the records already queued (submitted, not yet imported) and this file's would exceed the queue's
bound, it raises :class:`Overloaded` with a ``retry_after`` in seconds instead; so the queue, and
the time from submission to certificate, stay bounded however many facilities post at once.

:func:`process_next_job` (run by ``vaxcert registry worker``, on any number of machines) leases
the oldest queued job (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), imports its rows through the
importer — the same validation, per-row errors by line and field, and idempotence by the doses'
natural keys — and records the counts and errors, **all in one transaction**: a job is either
imported whole and marked done, or not at all (a worker killed mid-job leaves it for the next one
once its lease expires; a job that fails on a conflict with a concurrent job is put back in the
queue at once).  Re-importing rows is idempotent, so no accepted record is lost or stored twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import InputError, VaxcertError
from ..logs import log_event
from .importer import count_records, import_data
from .protocol import Registry
from .rows import JobErrorRow, JobRow

__all__ = [
    "MAX_ATTEMPTS",
    "MAX_RECORDS",
    "Overloaded",
    "job_errors",
    "job_status",
    "process_next_job",
    "submit_job",
]

log = logging.getLogger(__name__)

#: Records one submission may hold.
MAX_RECORDS = 10_000
#: How often a job is tried before it is marked failed (a conflict with a concurrent job is retried).
MAX_ATTEMPTS = 5
FORMATS = ("csv", "jsonl")


class Overloaded(VaxcertError):
    """The queue is full: try again after ``retry_after`` seconds (HTTP 429)."""

    def __init__(self, retry_after: int, queued: int) -> None:
        super().__init__(f"the submission queue is full ({queued} records waiting): retry after {retry_after} s")
        self.retry_after = retry_after
        self.queued = queued


def submit_job(
    registry: Registry,
    data: bytes,
    fmt: str,
    *,
    account: str,
    facility: str | None,
    now: dt.datetime,
    origin: str | None = None,
    max_records: int = MAX_RECORDS,
    queue_limit: int | None = 200_000,
    drain_rate: float = 2_000.0,
) -> JobRow:
    """Queue a file of dose records (``csv`` or ``jsonl``); return the queued job.

    ``facility`` is the only facility its rows may name (a facility account's own; None for the
    ministry).  Raises :class:`InputError` for a whole-file problem or too many records, and
    :class:`Overloaded` when ``queue_limit`` records are already waiting (``retry_after`` is the
    time the workers need to drain the excess at ``drain_rate`` records/s, at least 1 s).
    """
    if fmt not in FORMATS:
        raise InputError("format", "must be csv or jsonl")
    records = count_records(data, fmt)
    if records > max_records:
        raise InputError("file", f"has {records} records: at most {max_records} per submission")
    if queue_limit is not None:
        queued = registry.open_job_records()
        if queued + records > queue_limit:
            excess = queued + records - queue_limit
            raise Overloaded(min(max(math.ceil(excess / drain_rate), 1), 300), queued)
    job_id = uuid.uuid4().hex
    stamp = int(now.timestamp())
    with registry.transaction():
        registry.add_job(job_id=job_id, account=account, facility=facility, fmt=fmt, records=records,
                         body=zlib.compress(data, 1), stamp=stamp, origin=origin)  # fmt: skip
        registry.audit(at=stamp, actor=account, action="job.submit", subject=f"job:{job_id}", reason=None,
                       detail={"records": records, "format": fmt, "facility": facility}, origin=origin)  # fmt: skip
    return JobRow(job_id, account, facility, fmt, records, "queued", 0, stamp, None, None, 0, 0, 0, 0, 0, None)


def job_status(registry: Registry, job_id: str) -> JobRow | None:
    """A job's state and counts (no contents), or None."""
    return registry.job(job_id)


def job_errors(registry: Registry, job_id: str, *, offset: int = 0, limit: int = 1000) -> list[JobErrorRow]:
    """A processed job's rejected rows: line, field and why (never the values)."""
    return registry.job_errors(job_id, offset=max(offset, 0), limit=min(max(limit, 1), 10_000))


@dataclass(frozen=True, slots=True)
class ProcessedJob:
    """What :func:`process_next_job` did with one job."""

    job_id: str
    status: str
    records: int
    inserted: int
    rejected: int


class _LeaseLost(Exception):
    pass


def process_next_job(
    registry: Registry,
    *,
    worker: str,
    now: dt.datetime,
    lease_seconds: float = 600.0,
    clock: Callable[[], float] = time.time,
) -> ProcessedJob | None:
    """Import the oldest queued job in one transaction; None when the queue is empty."""
    job = registry.claim_job(worker=worker, now=clock(), lease_seconds=lease_seconds)
    if job is None:
        return None
    stamp = int(now.timestamp())
    try:
        data = zlib.decompress(job.body)
        with registry.transaction():
            result = import_data(registry, data, job.format, now=now, source=f"job:{job.job_id}",
                                 facility=job.facility, max_errors=MAX_RECORDS)  # fmt: skip
            counts = (result.rows, result.inserted, result.unchanged, result.rejected, result.new_persons)
            errors = [JobErrorRow(e.line, e.field, e.message) for e in result.errors]
            if not registry.finish_job(job.job_id, worker=worker, status="done", counts=counts, errors=errors,
                                       failure=None, stamp=stamp):  # fmt: skip
                raise _LeaseLost
        return ProcessedJob(job.job_id, "done", job.records, result.inserted, result.rejected)
    except _LeaseLost:
        return None
    except (InputError, zlib.error) as exc:  # a whole-file problem submit_job did not see: the job fails
        message = str(exc) if isinstance(exc, InputError) else "the stored file is damaged"
        registry.finish_job(job.job_id, worker=worker, status="failed", counts=(0, 0, 0, 0, 0), errors=(),
                            failure=message, stamp=stamp)  # fmt: skip
        return ProcessedJob(job.job_id, "failed", job.records, 0, 0)
    except Exception as exc:
        # e.g. two jobs creating the same person at once on PostgreSQL: the loser's transaction is rolled back
        # and the job goes back to the queue (after MAX_ATTEMPTS it fails, naming the error type only).
        failed = job.attempts >= MAX_ATTEMPTS
        log_event(log, "job.failed" if failed else "job.retry", level=logging.WARNING, job=job.job_id,
                  attempts=job.attempts, exc_type=type(exc).__name__)  # fmt: skip
        registry.release_job(job.job_id, worker=worker, failure=f"import failed ({type(exc).__name__})" if failed
                             else None, stamp=stamp)  # fmt: skip
        return ProcessedJob(job.job_id, "failed" if failed else "queued", job.records, 0, 0)
