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

Payloads are built directly from the reconciled ``persons`` row, and signed with
``Issuer(..., check=False)``: every dose was validated by :func:`vaxcert.dcc.payload.check_issuable`
when it was imported (see :mod:`.importer`), and re-running that check per certificate would
cost more than the signature.  The facility of the person's last dose signs; persons whose
facility has no key in the key ring are left waiting (counted, never claimed).

Locally :func:`run` starts one worker process per core; with PostgreSQL a ministry may start
``vaxcert registry issue`` on more machines against the same database.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import re
import secrets
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..cli._progress import Progress
from ..dcc.uvci import ALPHABET as UVCI_ALPHABET
from ..dcc.uvci import PREFIX as UVCI_PREFIX
from ..dcc.uvci import RANDOM_ALPHABET
from ..dcc.uvci import VERSION as UVCI_VERSION
from ..errors import ConfigurationError, InputError, VaxcertError
from ..issuer import DEFAULT_VALIDITY, Issuer
from ..pki.certificates import facility_id_of, is_ministry_signer, load_certificate_file
from ..pki.keys import PASSWORD_ENV, KeySigner, Signer, password_from_env
from .protocol import CLAIM_COLUMNS, Registry, RegistrySpec, placeholders

__all__ = [
    "DCC_VERSION",
    "BatchResult",
    "KeyDirectory",
    "KeyRing",
    "UvciMaker",
    "build_payload",
    "issue_pending",
    "issue_person",
    "pending_count",
    "persist",
    "release_leases",
    "run",
]

DCC_VERSION = "1.3.0"


# --------------------------------------------------------------------------- UVCIs


class UvciMaker:
    """Fast UVCIs ``URN:UVCI:01:<CC>:<ENTITY>/<26 random symbols>#<check>``.

    The same format and Luhn mod 38 check character as :func:`vaxcert.dcc.uvci.generate`, with
    the constant prefix's share of the checksum computed once: a few µs instead of 45.  The
    unique part is 26 symbols of 32 (130 random bits from :mod:`secrets`).
    """

    # byte -> symbol: 256 is a multiple of 32, so every symbol is equally likely (5 random bits each)
    _SYMBOLS = bytes(RANDOM_ALPHABET.encode()[b % 32] for b in range(256))
    _N = len(UVCI_ALPHABET)

    def __init__(self, country: str, entity: str) -> None:
        if not re.fullmatch(r"[A-Z]{2}", country) or not re.fullmatch(r"[A-Z0-9]{1,24}", entity):
            raise ConfigurationError("UVCI country must be 2 letters and entity 1-24 of A-Z, 0-9")
        self.prefix = f"{UVCI_PREFIX}{UVCI_VERSION}:{country}:{entity}/"
        n = self._N
        index = {ch: i for i, ch in enumerate(UVCI_ALPHABET)}
        # factor 2 for the last character, then alternating 3 - factor; the unique part has 26
        # characters (even), so the prefix starts again with factor 2 from its last character.
        self._odd = {ch: (2 * index[ch]) // n + (2 * index[ch]) % n for ch in RANDOM_ALPHABET}
        self._even = {ch: index[ch] for ch in RANDOM_ALPHABET}
        total, factor = 0, 2
        for ch in reversed(self.prefix):
            addend = factor * index[ch]
            total += addend // n + addend % n
            factor = 3 - factor
        self._prefix_total = total

    def __call__(self) -> str:
        unique = secrets.token_bytes(26).translate(self._SYMBOLS).decode()
        total = self._prefix_total + sum(map(self._odd.__getitem__, unique[::-2])) + sum(
            map(self._even.__getitem__, unique[-2::-2])
        )
        n = self._N
        return f"{self.prefix}{unique}#{UVCI_ALPHABET[(n - total % n) % n]}"


def _entity(facility: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", facility.upper())[:24] or "MOH"


# --------------------------------------------------------------------------- keys


@dataclass(frozen=True, slots=True)
class _FacilitySigner:
    issuer: Issuer
    is_text: str
    uvci: UvciMaker


class KeyRing:
    """The signers of the facilities (facility id → :class:`~vaxcert.pki.keys.Signer`), and optionally
    the ministry's, which signs for every facility that has no key of its own.

    The facility rule (:mod:`vaxcert.pki.authority`): a facility's DSC must name that facility, and a
    ``ministry`` signer must be a ministry DSC; anything else is refused here, once, rather than
    per certificate.  ``issuer_name`` is the DCC ``is`` text; by default the DSC's organisation
    (the ministry's name, copied into each DSC by :func:`vaxcert.pki.create_dsc`).
    """

    def __init__(
        self,
        signers: Mapping[str, Signer],
        *,
        ministry: Signer | None = None,
        issuer_name: str | None = None,
        validity: dt.timedelta = DEFAULT_VALIDITY,
        country: str = "VN",
    ) -> None:
        self._signers: dict[str, _FacilitySigner] = {}
        self._validity = validity
        self._country = country
        self._issuer_name = issuer_name
        for facility, signer in signers.items():
            named = facility_id_of(signer.certificate)
            if named != facility:
                raise ConfigurationError(f"the DSC given for facility {facility} names facility {named}")
            self._signers[facility] = self._make(signer, _entity(facility))
        self._ministry: _FacilitySigner | None = None
        if ministry is not None:
            if not is_ministry_signer(ministry.certificate):
                raise ConfigurationError("the ministry signer's DSC is not a ministry DSC (keys issue-dsc --ministry)")
            self._ministry = self._make(ministry, "MOH")

    def _make(self, signer: Signer, entity: str) -> _FacilitySigner:
        name = self._issuer_name or _organisation(signer) or "Ministry of Health"
        return _FacilitySigner(Issuer(signer, check=False, validity=self._validity), name,
                               UvciMaker(self._country, entity))  # fmt: skip

    @property
    def facilities(self) -> list[str]:
        """Facilities with their own key."""
        return sorted(self._signers)

    @property
    def claimable(self) -> list[str] | None:
        """The facilities this key ring can sign for; None for all (it holds the ministry's key)."""
        return None if self._ministry is not None else self.facilities

    def for_facility(self, facility: str) -> _FacilitySigner | None:
        """The facility's own signer, else the ministry's, else None."""
        return self._signers.get(facility, self._ministry)

    def __repr__(self) -> str:
        return f"KeyRing({len(self._signers)} facilities, ministry={'yes' if self._ministry else 'no'})"


def _organisation(signer: Signer) -> str | None:
    from cryptography.x509.oid import NameOID

    attrs = signer.certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return str(attrs[0].value) if attrs else None


@dataclass(frozen=True, slots=True)
class KeyDirectory:
    """Facility keys on disk, as ``vaxcert keys issue-dsc --out DIR/<facility>`` writes them.

    Every sub-folder of ``path`` holding ``dsc.pem`` and ``dsc.key.pem`` is one facility; its
    id is read from the DSC (subject serialNumber).  A folder holding a ministry DSC (``keys
    issue-dsc --ministry``) is the ministry's signer, used for facilities without a key of their
    own.  Keys are decrypted with the password in ``VAXCERT_KEY_PASSWORD``.  Picklable, so worker
    processes load the keys themselves.
    """

    path: str
    issuer_name: str | None = None
    validity_days: int = 365

    def _folders(self) -> Iterator[tuple[Path, Path]]:
        root = Path(self.path)
        if not root.is_dir():
            raise ConfigurationError(f"key directory {root} does not exist")
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            cert_path, key_path = folder / "dsc.pem", folder / "dsc.key.pem"
            if cert_path.is_file() and key_path.is_file():
                yield cert_path, key_path

    def claimable(self) -> list[str] | None:
        """The facility ids of the DSCs, or None when a ministry DSC signs for all (no private key is read)."""
        found: list[str] = []
        for cert_path, _ in self._folders():
            certificate = load_certificate_file(cert_path)[0]
            if is_ministry_signer(certificate):
                return None
            found.append(facility_id_of(certificate) or cert_path.parent.name)
        return sorted(found)

    def load(self) -> KeyRing:
        root = Path(self.path)
        if not root.is_dir():
            raise ConfigurationError(f"key directory {root} does not exist")
        password = password_from_env()
        signers: dict[str, Signer] = {}
        ministry: Signer | None = None
        for cert_path, key_path in self._folders():
            certificate = load_certificate_file(cert_path)[0]
            if is_ministry_signer(certificate):
                ministry = KeySigner.from_files(key_path, cert_path, password)
                continue
            facility = facility_id_of(certificate)
            if facility is None:
                raise ConfigurationError(f"{cert_path}: the DSC names no facility and is not a ministry DSC")
            signers[facility] = KeySigner.from_files(key_path, cert_path, password)
        if not signers and ministry is None:
            raise ConfigurationError(f"{root}: no facility folders with dsc.pem and dsc.key.pem")
        return KeyRing(signers, ministry=ministry, issuer_name=self.issuer_name,
                       validity=dt.timedelta(days=self.validity_days))  # fmt: skip


# --------------------------------------------------------------------------- one worker


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


def build_payload(row: Sequence[Any], is_text: str, ci: str) -> dict[str, Any]:
    """The DCC payload of a claimed row (:data:`~.protocol.CLAIM_COLUMNS`)."""
    _, _, fn, fnt, gn, gnt, dob, tg, vp, mp, ma, dn, sd, date, co, _ = row
    nam = {"fn": fn, "fnt": fnt, "gn": gn, "gnt": gnt} if gn else {"fn": fn, "fnt": fnt}
    return {
        "ver": DCC_VERSION, "nam": nam, "dob": dob,
        "v": [{"tg": tg, "vp": vp, "mp": mp, "ma": ma, "dn": dn, "sd": sd, "dt": date, "co": co,
               "is": is_text, "ci": ci}],
    }  # fmt: skip


_STAGE_COLUMNS = ("person_key", "record_version", "uvci", "hc1", "kid", "facility_id", "cert_type", "dn", "sd",
                  "issued_at", "expires_at")  # fmt: skip


def _stage_table(tx: Any) -> None:
    tx.execute(
        "CREATE TEMP TABLE IF NOT EXISTS staged_certs (person_key TEXT NOT NULL, record_version BIGINT NOT NULL,"
        " uvci TEXT NOT NULL, hc1 TEXT NOT NULL, kid TEXT NOT NULL, facility_id TEXT NOT NULL,"
        " cert_type TEXT NOT NULL, dn BIGINT, sd BIGINT, issued_at BIGINT NOT NULL, expires_at BIGINT NOT NULL)"
    )
    tx.execute("DELETE FROM staged_certs")


def persist(
    registry: Registry,
    rows: Sequence[tuple[Any, ...]],
    *,
    worker: str,
    stamp: int,
    failures: Sequence[tuple[str, str]] = (),
) -> int:
    """Store signed certificates (rows of ``_STAGE_COLUMNS``) in one transaction; return how many won.

    ``failures`` are ``(person_key, reason)`` of persons that could not be signed: they are
    held (``held_error``) so that they are not claimed again and again.
    """
    with registry.transaction() as tx:
        new_table = "SELECT to_regclass('pg_temp.staged_certs') IS NULL"
        analyze = registry.backend == "postgresql" and tx.query(new_table)[0][0]
        _stage_table(tx)
        tx.copy_rows("staged_certs", _STAGE_COLUMNS, rows)
        if analyze:  # a new temp table has no statistics: give the planner a chunk's row count, once
            tx.execute("ANALYZE staged_certs")
        # The staged keys as an index condition on persons / certificates, so that each chunk costs
        # primary-key probes and never a scan of every person (PostgreSQL plans IN (SELECT ...)
        # as a hash join over a sequential scan; = ANY(ARRAY(...)) as index probes).
        staged = ("= ANY(ARRAY(SELECT person_key FROM staged_certs))" if registry.backend == "postgresql"
                  else "IN (SELECT person_key FROM staged_certs)")  # fmt: skip
        tx.execute(
            "UPDATE persons SET issued_version = s.record_version, lease_owner = NULL, lease_until = NULL"  # noqa: S608
            f" FROM staged_certs s WHERE persons.person_key {staged} AND persons.person_key = s.person_key"
            " AND persons.issued_version < s.record_version"
        )
        tx.execute(
            "UPDATE certificates SET status = 'superseded' FROM staged_certs s"  # noqa: S608
            f" WHERE certificates.person_key {staged} AND certificates.person_key = s.person_key"
            " AND certificates.status = 'current' AND certificates.record_version < s.record_version"
        )
        won = tx.execute(
            "INSERT INTO certificates (person_key, record_version, uvci, hc1, kid, facility_id, cert_type, dn, sd,"  # noqa: S608
            " issued_at, expires_at, status, worker, created_at)"
            " SELECT s.person_key, s.record_version, s.uvci, s.hc1, s.kid, s.facility_id, s.cert_type, s.dn, s.sd,"
            f" s.issued_at, s.expires_at, 'current', ?, ? FROM staged_certs s JOIN persons p"
            f" ON p.person_key = s.person_key WHERE p.person_key {staged} AND p.issued_version = s.record_version"
            " ON CONFLICT (person_key, record_version) DO NOTHING",
            (worker, stamp),
        )
        if failures:
            tx.executemany(
                "UPDATE persons SET state = 'held_error', state_reason = ?, lease_owner = NULL, lease_until = NULL"
                " WHERE person_key = ?",
                [(reason, key) for key, reason in failures],
            )
        if won < len(rows):  # persons another worker issued first: free the leases we still hold
            keys = [r[0] for r in rows]
            tx.execute(
                "UPDATE persons SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?"  # noqa: S608
                f" AND person_key IN ({placeholders(len(keys))})",
                (worker, *keys),
            )
    return won


def _sign_chunk(
    keyring: KeyRing, rows: Sequence[tuple[Any, ...]], now: dt.datetime
) -> tuple[list[tuple[Any, ...]], list[tuple[str, str]]]:
    staged: list[tuple[Any, ...]] = []
    failures: list[tuple[str, str]] = []
    for row in rows:
        facility = row[15]
        signer = keyring.for_facility(facility)
        if signer is None:  # the claim filters on the key ring's facilities; be safe anyway
            failures.append((row[0], "no key for the facility of the last dose"))
            continue
        try:
            cert = signer.issuer.issue(build_payload(row, signer.is_text, signer.uvci()), now=now)
        except InputError as exc:
            failures.append((row[0], f"cannot issue: {exc.field}: {exc.message}"))
            continue
        staged.append((row[0], row[1], cert.uvci, cert.hc1, cert.kid.hex(), facility, cert.cert_type, row[11],
                       row[12], cert.issued_at, cert.expires_at))  # fmt: skip
    return staged, failures


_PENDING = "state = 'ready' AND record_version > issued_version"

#: What the persisting thread hands back: (stored, signed, failures) of one chunk, and the next claim.
_Step = tuple[tuple[int, int, list[tuple[str, str]]], list[tuple[Any, ...]]]


def pending_count(registry: Registry, facilities: Sequence[str] | None = None) -> tuple[int, float | None]:
    """Persons waiting for a certificate (among ``facilities``), and the latest lease on them."""
    sql = f"SELECT COUNT(*), MAX(lease_until) FROM persons WHERE {_PENDING}"  # noqa: S608
    params: list[Any] = []
    if facilities is not None:
        if not facilities:
            return 0, None
        sql += f" AND last_facility IN ({placeholders(len(facilities))})"
        params = list(facilities)
    with registry.transaction() as tx:
        count, lease = tx.query(sql, params)[0]
    return int(count), (float(lease) if lease is not None else None)


def release_leases(registry: Registry) -> int:
    """Clear every lease (only when no other worker is running, e.g. after a crash)."""
    with registry.transaction() as tx:
        return tx.execute("UPDATE persons SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL")


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

    def claim() -> list[tuple[Any, ...]]:
        return writer.claim(worker=name, limit=chunk_size, now=clock(), lease_seconds=lease_seconds,
                            facilities=facilities)  # fmt: skip

    def record(won: int, staged: int, failures: list[tuple[str, str]]) -> None:
        result.issued += won
        result.superseded_by_others += staged - won
        result.failed += len(failures)
        for _, reason in failures:
            result.failures[reason] = result.failures.get(reason, 0) + 1
        result.chunks += 1
        if on_chunk is not None:
            on_chunk(won)

    def store_and_claim(staged: list[tuple[Any, ...]], failures: list[tuple[str, str]]) -> _Step:
        """Persist one signed chunk, then claim the next (both on the writer connection)."""
        won = persist(writer, staged, worker=name, stamp=stamp, failures=failures)
        return (won, len(staged), failures), claim()

    chunks: deque[list[tuple[Any, ...]]] = deque()
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
                    staged, failures = _sign_chunk(keyring, chunks.popleft(), now)
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
                remaining, latest = pending_count(writer, facilities)
                if remaining == 0:
                    break
                time.sleep(min(max((latest or 0.0) - clock(), 0.05), 0.5))
    finally:
        if writer is not registry:
            writer.close()
    result.seconds = time.perf_counter() - started
    return result


def _reopen(registry: Registry) -> Registry:
    from . import open_registry

    return open_registry(registry.spec)


def issue_person(registry: Registry, keyring: KeyRing, person_key: str, *, now: dt.datetime) -> bool:
    """Issue the pending certificate of one person right away (e.g. after a correction)."""
    worker = f"single:{uuid.uuid4().hex[:12]}"
    clock = time.time()
    with registry.transaction() as tx:
        rows = tx.query(
            f"UPDATE persons SET lease_owner = ?, lease_until = ? WHERE person_key = ? AND {_PENDING}"  # noqa: S608
            f" AND (lease_until IS NULL OR lease_until < ?) RETURNING {', '.join(CLAIM_COLUMNS)}",
            (worker, clock + 300, person_key, clock),
        )
    if not rows:
        return False
    staged, failures = _sign_chunk(keyring, rows, now)
    return persist(registry, staged, worker=worker, stamp=int(clock), failures=failures) == 1


# --------------------------------------------------------------------------- many workers


def _worker_main(
    spec: RegistrySpec, keys: KeyDirectory, options: dict[str, Any], queue: Any, index: int
) -> None:  # pragma: no cover - runs in a child process (covered by the batch tests through run())
    from . import open_registry

    try:
        registry = open_registry(spec)
        keyring = keys.load()
        result = issue_pending(
            registry, keyring, now=options["now"], chunk_size=options["chunk_size"],
            lease_seconds=options["lease_seconds"], on_chunk=lambda n: queue.put(("progress", index, n)),
        )  # fmt: skip
        registry.close()
        queue.put(("done", index, asdict(result)))
    except VaxcertError as exc:
        queue.put(("error", index, str(exc)))
    except Exception as exc:
        queue.put(("error", index, f"worker failed: {type(exc).__name__}"))


def run(
    registry: Registry,
    keys: KeyDirectory | KeyRing,
    *,
    now: dt.datetime,
    workers: int | None = None,
    chunk_size: int = 1000,
    lease_seconds: float = 300.0,
    progress: bool = True,
    break_leases: bool = False,
) -> BatchResult:
    """Issue every pending certificate with ``workers`` processes (default: one per core).

    With one worker (or an in-memory :class:`KeyRing`) the work runs in this process.
    ``break_leases`` first clears leases left by crashed workers (only safe when no other
    worker is running); otherwise those persons are taken when their leases expire.
    """
    count = workers if workers is not None else (os.cpu_count() or 1)
    if count < 1:
        raise ConfigurationError("workers must be at least 1")
    if break_leases:
        release_leases(registry)
    keyring = keys if isinstance(keys, KeyRing) else None
    if keyring is None and count == 1:
        assert isinstance(keys, KeyDirectory)
        keyring = keys.load()
    if keyring is not None:
        facilities = keyring.claimable
    else:
        assert isinstance(keys, KeyDirectory)
        facilities = keys.claimable()
    total, _ = pending_count(registry, facilities)
    bar = Progress("issue", total or None, unit="certificates", enabled=progress)
    started = time.perf_counter()
    if keyring is not None:
        if count > 1:
            raise ConfigurationError("several worker processes need keys on disk (a KeyDirectory)")
        result = issue_pending(registry, keyring, now=now, chunk_size=chunk_size, lease_seconds=lease_seconds,
                               on_chunk=lambda n: bar.update(n))  # fmt: skip
    else:
        assert isinstance(keys, KeyDirectory)
        result = _run_processes(registry.spec, keys, count, bar, {
            "now": now, "chunk_size": chunk_size, "lease_seconds": lease_seconds})  # fmt: skip
    result.seconds = time.perf_counter() - started
    result.workers = count
    remaining, _ = pending_count(registry)
    served, _ = pending_count(registry, facilities)
    result.waiting_no_key = max(remaining - served, 0)
    bar.close(f"issue: {result.summary()}")
    return result


def _run_processes(
    spec: RegistrySpec, keys: KeyDirectory, count: int, bar: Progress, options: dict[str, Any]
) -> BatchResult:
    if not os.environ.get(PASSWORD_ENV):
        raise ConfigurationError(f"set {PASSWORD_ENV}: worker processes load the facility keys themselves")
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_worker_main, args=(spec, keys, options, queue, i), daemon=True)
             for i in range(count)]  # fmt: skip
    for p in procs:
        p.start()
    total = BatchResult()
    done: set[int] = set()
    errors: list[str] = []
    for message in _messages(queue, procs, done):
        kind, index, value = message
        if kind == "progress":
            bar.update(value)
        elif kind == "done":
            done.add(index)
            total.merge(BatchResult(**{k: v for k, v in value.items() if k != "failures"},
                                    failures=value["failures"]))  # fmt: skip
        else:
            done.add(index)
            errors.append(str(value))
    for p in procs:
        p.join()
    if errors:
        raise ConfigurationError(errors[0])
    crashed = [p.exitcode for p in procs if p.exitcode != 0]
    if crashed:
        raise ConfigurationError(f"{len(crashed)} worker process(es) died (exit codes {crashed})")
    return total


def _messages(queue: Any, procs: Sequence[Any], done: set[int]) -> Iterator[tuple[str, int, Any]]:
    import queue as queue_mod

    while len(done) < len(procs):
        try:
            yield queue.get(timeout=0.5)
        except queue_mod.Empty:
            dead = [i for i, p in enumerate(procs) if not p.is_alive() and i not in done]
            if dead:
                # one last look: a message may have arrived just before the process exited
                try:
                    while True:
                        yield queue.get(timeout=0.2)
                except queue_mod.Empty:
                    pass
                for i in dead:
                    if i not in done:
                        done.add(i)
                        yield ("error", i, f"worker {i} died (exit code {procs[i].exitcode})")
