"""Batch issuance: a certificate for every person whose record changed since their last one.

**Exactly-once results from at-least-once work.**  Each person has a ``record_version``
(raised by reconciliation when what the certificate says changes) and an
``issued_version`` (the version of their last certificate).  A worker:

1. *claims* a chunk of persons with ``record_version > issued_version`` by writing a lease
   (owner, expiry) on them in one short transaction — on PostgreSQL with
   ``FOR UPDATE SKIP LOCKED``, so concurrent workers on any number of machines never get
   the same person while a lease runs;
2. *signs* the chunk with no transaction open (the costly part, in parallel across workers);
3. *persists* the chunk in one transaction: it raises ``issued_version`` to the signed
   version only where it is still lower, marks the person's previous certificate
   ``superseded``, inserts the new certificate rows (``UNIQUE (person_key, record_version)``,
   and at most one ``current`` certificate per person) and clears the lease.

A worker killed at any moment (``kill -9``) loses at most its uncommitted chunk: the
certificates it signed there were never stored, so never handed out; its leases expire
(``lease_seconds``) and another run takes the persons again.  A worker that outlives its lease
and finds the person already issued by another keeps nothing: the version check and the
unique constraint make a second certificate for one version impossible.

Payloads are assembled from the claimed row (:class:`~.rows.ClaimedPerson`) by the one payload
assembler of :mod:`vaxcert.dcc.payload`, and signed with ``Issuer(..., check=False)``: every
field the record brings was checked by :func:`vaxcert.dcc.payload.check_issuable` when it was
imported (see :mod:`.importer`), and the fields the batch adds (``is``, ``ci``, ``ver``) were
checked once when the key ring was built (:mod:`.keyring`); re-running the whole check per
certificate would cost more than the signature.  The facility of the person's last dose signs;
persons whose facility has no key in the key ring are left waiting (counted, never claimed).

Locally :func:`vaxcert.registry.workers.run` starts one worker process per core; with PostgreSQL
a ministry may start ``vaxcert registry issue`` on more machines against the same database.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import os
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from ..dcc.codes import DCC_VERSION
from ..errors import ConfigurationError, InputError
from ..logs import log_event
from .keyring import FacilitySigner, KeyRing
from .opening import open_registry
from .protocol import Registry
from .rows import ClaimedPerson, StagedCertificate

__all__ = ["DEFAULT_CHUNK", "BatchResult", "chunk_for", "issue_pending", "issue_person", "sign_chunk"]

log = logging.getLogger(__name__)

#: The most persons a batch worker claims at once when the caller gives no chunk size (:func:`chunk_for`).
DEFAULT_CHUNK = 5000


def chunk_for(pending: int, workers: int, most: int = DEFAULT_CHUNK) -> int:
    """The chunk size of a batch run: ``most`` persons, or fewer when the batch is small.

    Large chunks make fewer transactions, and so fewer turns at SQLite's write lock (measured with
    ``benchmarks/bench_registry.py``, 2 workers on SQLite: chunks of 5,000 ran 17-24 % faster than
    chunks of 2,000, and those faster than chunks of 1,000).  A small batch is cut into at least
    four chunks per worker (of 100 persons at the least), so that every worker gets a share.  A
    worker killed mid-batch loses the chunks it holds (up to three): they are signed again when
    their leases expire.
    """
    return max(1, min(most, max(100, -(-pending // (4 * max(workers, 1))))))


@dataclass
class BatchResult:
    """What a batch run did."""

    issued: int = 0
    superseded_by_others: int = 0
    failed: int = 0
    chunks: int = 0
    waiting_no_key: int = 0
    seconds: float = 0.0
    workers: int = 1
    failures: dict[str, int] = field(default_factory=dict)

    def merge(self, other: BatchResult) -> None:
        self.issued += other.issued
        self.superseded_by_others += other.superseded_by_others
        self.failed += other.failed
        self.chunks += other.chunks
        for k, v in other.failures.items():
            self.failures[k] = self.failures.get(k, 0) + v

    @property
    def rate(self) -> float:
        return self.issued / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        text = f"issued {self.issued} certificates in {self.seconds:.2f} s ({self.rate:,.0f}/s, {self.workers} workers)"
        if self.failed:
            text += f"; {self.failed} held for issuing errors"
        if self.waiting_no_key:
            text += f"; {self.waiting_no_key} waiting (no key for their facility)"
        return text


def sign_chunk(
    keyring: KeyRing, rows: Sequence[ClaimedPerson], now: dt.datetime
) -> tuple[list[StagedCertificate], list[tuple[str, str]]]:
    """Sign a claimed chunk: the certificates to store, and ``(person_key, reason)`` of those refused.

    The rows are signed facility by facility with :meth:`~vaxcert.issuer.Issuer.issue_many` (the
    work each certificate repeats is done once per facility and chunk); a facility whose payloads
    it refuses is signed again row by row, so that each refusal is told against its person.
    """
    failures: list[tuple[str, str]] = []
    started = time.perf_counter()
    groups: dict[str, list[ClaimedPerson]] = {}
    for row in rows:
        members = groups.get(row.last_facility)
        if members is None:
            members = groups[row.last_facility] = []
        members.append(row)
    signed: dict[str, Iterator[StagedCertificate | None]] = {}
    for facility, members in groups.items():
        signer = keyring.for_facility(facility)
        if signer is None:  # the claim filters on the key ring's facilities; be safe anyway
            failures.extend((row.person_key, "no key for the facility of the last dose") for row in members)
            signed[facility] = itertools.repeat(None)
            continue
        is_text, uvci = signer.is_text, signer.uvci
        try:
            payloads = [row.payload(issuer=is_text, ci=uvci(), version=DCC_VERSION) for row in members]
            certs = signer.issuer.issue_many(payloads, now=now, facility=facility)
        except InputError:
            signed[facility] = iter(_sign_rows(signer, members, now, failures))
            continue
        kid = signer.issuer.signer.kid.hex()
        signed[facility] = iter([StagedCertificate(row.person_key, row.record_version, cert.uvci, cert.hc1, kid,
                                                   facility, cert.cert_type, row.dn, row.sd, cert.issued_at,
                                                   cert.expires_at)
                                 for row, cert in zip(members, certs, strict=True)])  # fmt: skip
    # in the claimed order (the persons' key order): the store's index updates then stay local
    staged = [s for row in rows if (s := next(signed[row.last_facility])) is not None]
    if log.isEnabledFor(logging.DEBUG):
        log_event(log, "issue.chunk", level=logging.DEBUG, count=len(staged), failed=len(failures),
                  facilities=sorted({s.facility_id for s in staged}), kids=sorted({s.kid for s in staged}),
                  duration_ms=round((time.perf_counter() - started) * 1000, 3))  # fmt: skip
    return staged, failures


def _sign_rows(signer: FacilitySigner, rows: Sequence[ClaimedPerson], now: dt.datetime,
               failures: list[tuple[str, str]]) -> list[StagedCertificate | None]:  # fmt: skip
    """One certificate at a time, each refusal recorded against its person (None in its place)."""
    out: list[StagedCertificate | None] = []
    for row in rows:
        try:
            payload = row.payload(issuer=signer.is_text, ci=signer.uvci(), version=DCC_VERSION)
            cert = signer.issuer.issue(payload, now=now, facility=row.last_facility)
        except InputError as exc:
            failures.append((row.person_key, f"cannot issue: {exc.field}: {exc.message}"))
            out.append(None)
            continue
        out.append(StagedCertificate(row.person_key, row.record_version, cert.uvci, cert.hc1, cert.kid.hex(),
                                     row.last_facility, cert.cert_type, row.dn, row.sd, cert.issued_at,
                                     cert.expires_at))  # fmt: skip
    return out


#: What the persisting thread hands back: (stored, signed, failures) of one chunk, and the next claim.
_Step = tuple[tuple[int, int, list[tuple[str, str]]], list[ClaimedPerson]]


def issue_pending(
    registry: Registry,
    keyring: KeyRing,
    *,
    now: dt.datetime,
    worker: str | None = None,
    chunk_size: int = 1000,
    lease_seconds: float = 300.0,
    clock: Callable[[], float] = time.time,
    wait_for_leases: bool = True,
    on_chunk: Callable[[int], None] | None = None,
    pipeline: bool = True,
    max_persons: int | None = None,
) -> BatchResult:
    """Run one worker in this process until no claimable work is left.

    With ``pipeline`` a second connection, in a background thread, persists each signed chunk
    and claims the next ones while this thread signs (the database's share of the time is
    then hidden behind signing; the worker holds up to three chunks' leases).  With
    ``wait_for_leases`` the worker, once it finds nothing to claim, waits for leases held by
    others (live workers finishing, or dead ones expiring) and takes over what expires.
    """
    if now.tzinfo is None:
        raise ConfigurationError("now must be timezone-aware")
    name = worker or f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    facilities = keyring.claimable
    result = BatchResult()
    started = time.perf_counter()
    stamp = int(clock())

    writer = _reopen(registry) if pipeline else registry

    claimed = 0

    def claim() -> list[ClaimedPerson]:
        nonlocal claimed
        limit = chunk_size if max_persons is None else min(chunk_size, max_persons - claimed)
        if limit <= 0:
            return []
        rows = writer.claim(worker=name, limit=limit, now=clock(), lease_seconds=lease_seconds,
                            facilities=facilities)  # fmt: skip
        claimed += len(rows)
        return rows

    def record(won: int, staged: int, failures: list[tuple[str, str]]) -> None:
        result.issued += won
        result.superseded_by_others += staged - won
        result.failed += len(failures)
        for _, reason in failures:
            result.failures[reason] = result.failures.get(reason, 0) + 1
        result.chunks += 1
        if on_chunk is not None:
            on_chunk(won)

    def store_and_claim(staged: list[StagedCertificate], failures: list[tuple[str, str]]) -> _Step:
        """Persist one signed chunk, then claim the next (both on the writer connection)."""
        won = writer.store_certificates(staged, worker=name, stamp=stamp, failures=failures)
        return (won, len(staged), failures), claim()

    chunks: deque[list[ClaimedPerson]] = deque()
    in_flight: Future[_Step] | None = None

    def collect(future: Future[_Step]) -> None:
        outcome, fetched = future.result()
        record(*outcome)
        if fetched:
            chunks.append(fetched)

    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="vaxcert-persist") as pool:
            while True:
                # Keep two chunks claimed ahead: the thread persists chunk k and claims k + 2
                # while this thread signs chunk k + 1.
                while len(chunks) < 2 and (fetched := claim()):
                    chunks.append(fetched)
                while chunks:
                    staged, failures = sign_chunk(keyring, chunks.popleft(), now)
                    if in_flight is not None:
                        collect(in_flight)
                        in_flight = None
                    if pipeline:
                        in_flight = pool.submit(store_and_claim, staged, failures)
                        if not chunks:
                            collect(in_flight)
                            in_flight = None
                    else:
                        outcome, fetched = store_and_claim(staged, failures)
                        record(*outcome)
                        if fetched:
                            chunks.append(fetched)
                if not wait_for_leases:
                    break
                remaining, latest = writer.pending(facilities)
                if remaining == 0:
                    break
                time.sleep(min(max((latest or 0.0) - clock(), 0.05), 0.5))
    finally:
        if writer is not registry:
            writer.close()
    result.seconds = time.perf_counter() - started
    log_event(log, "issue.worker_done", worker=name.rsplit(":", 1)[-1], issued=result.issued, failed=result.failed,
              superseded=result.superseded_by_others, chunks=result.chunks, seconds=round(result.seconds, 3))
    return result


def _reopen(registry: Registry) -> Registry:
    return open_registry(registry.spec)


def issue_person(registry: Registry, keyring: KeyRing, person_key: str, *, now: dt.datetime) -> bool:
    """Issue the pending certificate of one person right away (e.g. after a correction)."""
    worker = f"single:{uuid.uuid4().hex[:12]}"
    clock = time.time()
    rows = registry.claim_person(person_key, worker=worker, now=clock, lease_seconds=300)
    if not rows:
        return False
    staged, failures = sign_chunk(keyring, rows, now)
    return registry.store_certificates(staged, worker=worker, stamp=int(clock), failures=failures) == 1
