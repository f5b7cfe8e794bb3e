"""``vaxcert registry worker``: one process that imports queued submissions, reconciles and issues.

Start any number of them, on any machine, against one PostgreSQL registry (or one on a SQLite
registry, on its machine).  Each round a worker

1. imports the oldest queued jobs, up to ``import_limit`` records (each job with
   :func:`~vaxcert.registry.jobs.process_next_job`: leased with ``SKIP LOCKED``, imported in one
   transaction);
2. reconciles the persons that changed (one reconciler at a time: an advisory lock);
3. issues certificates for up to ``issue_limit`` waiting persons with the existing exactly-once
   batch issuance (:func:`~vaxcert.registry.batch.issue_pending`: leases, ``SKIP LOCKED``,
   ``UNIQUE (person, version)``), when it holds keys;

and sleeps ``poll`` seconds when there was nothing to do.  A worker killed at any moment loses
nothing: an unfinished job's transaction is rolled back and its lease expires; unfinished
issuance is redone as ``registry issue`` documents.  ``stop`` (an event the caller sets, e.g. on
SIGTERM) ends the loop after the current step.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from .batch import issue_pending
from .jobs import process_next_job
from .keyring import KeyRing
from .limits import forget_old_counters
from .protocol import Registry
from .reconciliation import reconcile

__all__ = ["WorkerStats", "run_worker"]

log = logging.getLogger(__name__)


@dataclass
class WorkerStats:
    """What a worker did so far."""

    jobs: int = 0
    records: int = 0
    rejected: int = 0
    reconciled: int = 0
    issued: int = 0
    rounds: int = 0

    def summary(self) -> str:
        return (f"{self.jobs} job(s), {self.records} record(s) imported ({self.rejected} rejected), "
                f"{self.reconciled} person(s) reconciled, {self.issued} certificate(s) issued")  # fmt: skip


#: Persons a service worker claims at once unless told otherwise: it issues as records arrive, in
#: small rounds (a batch run takes larger chunks: :func:`~.batch.chunk_for`).
WORKER_CHUNK = 1000


def run_worker(
    registry: Registry,
    keyring: KeyRing | None,
    *,
    clock: Callable[[], dt.datetime],
    stop: threading.Event | None = None,
    once: bool = False,
    poll: float = 1.0,
    chunk_size: int | None = None,
    issue_limit: int = 20_000,
    import_limit: int = 5_000,
    lease_seconds: float = 300.0,
    on_round: Callable[[WorkerStats], None] | None = None,
) -> WorkerStats:
    """Run the worker loop until ``stop`` is set (or, with ``once``, until there is nothing left to do).

    ``chunk_size`` is the number of persons it claims at once (default :data:`WORKER_CHUNK`; rounds
    issue at most ``issue_limit``).
    """
    name = f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    stop = stop or threading.Event()
    stats = WorkerStats()
    facilities = keyring.claimable if keyring is not None else []
    last_cleanup = 0.0
    while not stop.is_set():
        did = False
        imported = 0
        while imported < import_limit and not stop.is_set():
            job = process_next_job(registry, worker=name, now=clock())
            if job is None:
                break
            did = True
            imported += job.records
            if job.status == "done":
                stats.jobs += 1
                stats.records += job.records
                stats.rejected += job.rejected
        stats.reconciled += (rec := reconcile(registry, now=clock())).persons
        did = did or rec.persons > 0
        if keyring is not None and registry.pending(facilities)[0] > 0:
            result = issue_pending(registry, keyring, now=clock(), worker=name, chunk_size=chunk_size or WORKER_CHUNK,
                                   lease_seconds=lease_seconds, wait_for_leases=False,
                                   max_persons=issue_limit)  # fmt: skip
            stats.issued += result.issued
            did = did or result.issued > 0
        stats.rounds += 1
        if on_round is not None:
            on_round(stats)
        if time.time() - last_cleanup > 60:
            last_cleanup = time.time()
            forget_old_counters(registry, now=last_cleanup)
        if not did:
            if once:
                break
            stop.wait(poll)
    return stats
