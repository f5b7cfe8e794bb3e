"""Worker processes for batch issuance: one per core on this machine, each claiming its own chunks.

:func:`run` is what ``vaxcert registry issue`` calls.  Each worker process opens the registry
again (:class:`~.protocol.RegistrySpec`) and loads the keys itself (:class:`~.keyring.KeyDirectory`,
with the password the caller passed in); progress and results come back through a queue and are
reported to a callback.  A worker's internal error is logged with its traceback (never personal
data) and reported as an error of the run.  The workers' log events (:mod:`vaxcert.logs`) come back
through the same queue and are handed to this process's ``vaxcert`` loggers, so ``vaxcert -v
registry issue`` shows every worker's chunks in one log.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import multiprocessing
import os
import queue as queue_mod
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from typing import Any

from ..errors import ConfigurationError, VaxcertError
from ..logs import log_event, safe_traceback
from .batch import BatchResult, chunk_for, issue_pending
from .keyring import KeyDirectory, KeyRing
from .opening import open_registry
from .protocol import ProgressCallback, Registry, RegistrySpec

__all__ = ["run"]

log = logging.getLogger(__name__)
_EVENT = "vaxcert_event"


class _QueueLogHandler(logging.Handler):
    """In a worker process: send vaxcert's log events to the parent (``("log", index, record)``)."""

    def __init__(self, queue: Any, index: int) -> None:
        super().__init__()
        self.queue = queue
        self.index = index

    def emit(self, record: logging.LogRecord) -> None:
        fields = getattr(record, _EVENT, None)
        if fields is None:  # only structured events cross: they are known to hold no personal data
            return
        self.queue.put(("log", self.index, (record.name, record.levelno, record.getMessage(), dict(fields))))


def _relay(message: tuple[str, int, str, dict[str, Any]]) -> None:
    name, level, text, fields = message
    logger = logging.getLogger(name)
    if logger.isEnabledFor(level):
        logger.handle(logger.makeRecord(name, level, "(worker)", 0, "%s", (text,), None, extra={_EVENT: fields}))


def _worker_main(
    spec: RegistrySpec, keys: KeyDirectory, options: dict[str, Any], queue: Any, index: int
) -> None:  # pragma: no cover - runs in a child process (covered by the batch tests through run())
    root = logging.getLogger("vaxcert")
    root.setLevel(options.get("log_level", logging.WARNING))
    root.addHandler(_QueueLogHandler(queue, index))
    root.propagate = False
    try:
        registry = open_registry(spec)
        keyring = keys.load()
        # The process lives for this batch: what start-up left (modules, keys) is moved out of the
        # collector's reach, and young collections run every 10,000 allocations instead of 700 (a
        # chunk allocates some 20 containers per certificate).  Measured in one worker: the
        # collector's time 3.9 → 1.3 µs per certificate.
        gc.freeze()
        gc.set_threshold(10_000, 10, 10)
        result = issue_pending(
            registry, keyring, now=options["now"], chunk_size=options["chunk_size"],
            lease_seconds=options["lease_seconds"], on_chunk=lambda n: queue.put(("progress", index, n)),
        )  # fmt: skip
        registry.close()
        queue.put(("done", index, asdict(result)))
    except VaxcertError as exc:
        queue.put(("error", index, str(exc)))
    except Exception as exc:
        log_event(log, "issue.worker_failed", level=logging.ERROR, worker=str(index), exc_type=type(exc).__name__,
                  traceback=safe_traceback(exc))  # fmt: skip
        queue.put(("error", index, f"worker failed: {type(exc).__name__} (see the worker's log)"))


def run(
    registry: Registry,
    keys: KeyDirectory | KeyRing,
    *,
    now: dt.datetime,
    workers: int | None = None,
    chunk_size: int | None = None,
    lease_seconds: float = 300.0,
    progress: ProgressCallback | None = None,
    break_leases: bool = False,
) -> BatchResult:
    """Issue every pending certificate with ``workers`` processes (default: one per core).

    ``chunk_size`` is the number of persons a worker claims at once (default: :func:`~.batch.chunk_for`,
    up to 5,000, fewer when the batch is small).

    With one worker (or an in-memory :class:`KeyRing`) the work runs in this process.
    ``break_leases`` first clears leases left by crashed workers (only safe when no other
    worker is running); otherwise those persons are taken when their leases expire.  ``progress``
    is called with the certificates issued so far and the number waiting at the start.
    """
    count = workers if workers is not None else (os.cpu_count() or 1)
    if count < 1:
        raise ConfigurationError("workers must be at least 1")
    if break_leases:
        registry.release_leases()
    keyring = keys if isinstance(keys, KeyRing) else None
    if isinstance(keys, KeyDirectory):
        keys.check()  # refuse an is text the DCC does not allow before any key is read
        if count == 1:
            keyring = keys.load()
    if keyring is not None:
        facilities = keyring.claimable
    else:
        assert isinstance(keys, KeyDirectory)
        facilities = keys.claimable()
    total, _ = registry.pending(facilities)
    if chunk_size is None:
        chunk_size = chunk_for(total, count)
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done, total or None)

    started = time.perf_counter()
    if keyring is not None:
        if count > 1:
            raise ConfigurationError("several worker processes need keys on disk (a KeyDirectory)")
        result = issue_pending(registry, keyring, now=now, chunk_size=chunk_size, lease_seconds=lease_seconds,
                               on_chunk=tick)  # fmt: skip
    else:
        assert isinstance(keys, KeyDirectory)
        result = _run_processes(registry.spec, keys, count, tick, {
            "now": now, "chunk_size": chunk_size, "lease_seconds": lease_seconds,
            "log_level": logging.getLogger("vaxcert").getEffectiveLevel()})  # fmt: skip
    result.seconds = time.perf_counter() - started
    result.workers = count
    remaining, _ = registry.pending()
    served, _ = registry.pending(facilities)
    result.waiting_no_key = max(remaining - served, 0)
    log_event(log, "issue.done", issued=result.issued, failed=result.failed, workers=count, chunks=result.chunks,
              waiting=result.waiting_no_key, seconds=round(result.seconds, 3), backend=registry.backend)
    return result


def _run_processes(
    spec: RegistrySpec, keys: KeyDirectory, count: int, tick: Callable[[int], None], options: dict[str, Any]
) -> BatchResult:
    if not keys.password:
        raise ConfigurationError("worker processes load the facility keys themselves: give the key password")
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
        if kind == "log":
            _relay(value)
        elif kind == "progress":
            tick(value)
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
