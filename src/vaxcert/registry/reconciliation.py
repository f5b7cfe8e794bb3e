"""Merging each person's doses from several facilities into one current status.

Doses are sorted by date (then dose number).  What is found is recorded in the ``problems``
table, never silently kept or dropped:

==========================  ========  =====================================================
kind                        blocking  meaning
==========================  ========  =====================================================
``duplicate_dose``          no        the same dose (number, date, product) recorded more
                                      than once, e.g. by two facilities: merged into one
``conflicting_duplicate``   yes       the same dose number and date with different products
``two_doses_one_day``       yes       two different dose numbers on one day
``dose_number_repeated``    yes       one dose number on different dates
``out_of_order``            yes       a higher dose number dated before a lower one
``dn_over_sd``              yes       a dose number above its series total (a booster is n/n)
==========================  ========  =====================================================

A person with a blocking problem is held (``held_conflict``) until a correction fixes the
record; a citizen who fails the population-register check is held (``held_identity``).
Otherwise the person is ``ready`` and the status is: the number of doses (after merging),
``complete`` when the last dose's number reaches its series total, ``booster`` when a series
had already been completed before the last dose (3/3 after 2/2, 2/2 after a single-dose 1/1),
and the facility of the last dose, whose key signs the certificate.

Each person has a ``record_version`` that goes up by one whenever what their certificate
would say changes (a hash of the names, birth date and last dose); batch issuance issues a
certificate for every person whose ``record_version`` is above the version of their last
certificate.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..logs import log_event
from .identity import REASONS, IdentityCheck, RegisterTable
from .protocol import ProgressCallback, Registry
from .rows import PersonRow, ProblemRow, StatusUpdate, StoredDose

__all__ = [
    "BLOCKING",
    "Problem",
    "ReconcileResult",
    "Status",
    "merge_doses",
    "reconcile",
]

BLOCKING = frozenset(
    {"conflicting_duplicate", "two_doses_one_day", "dose_number_repeated", "out_of_order", "dn_over_sd"}
)


@dataclass(frozen=True, slots=True)
class Problem:
    """A duplicate or conflict found in a person's doses (detail holds no personal data)."""

    kind: str
    detail: str
    dose_keys: tuple[str, ...]

    @property
    def blocking(self) -> bool:
        return self.kind in BLOCKING


@dataclass(frozen=True, slots=True)
class Status:
    """A person's current vaccination status."""

    doses: int
    complete: bool
    booster: bool
    last: StoredDose | None


def _facilities(group: Sequence[StoredDose]) -> str:
    return ", ".join(sorted({d.facility for d in group}))


def merge_doses(doses: Sequence[StoredDose]) -> tuple[list[StoredDose], list[Problem], Status]:
    """Merge duplicates, detect conflicts and compute the status of one person's doses."""
    ordered = sorted(doses, key=lambda d: (d.date, d.dn, d.facility, d.key))
    problems: list[Problem] = []
    groups: dict[tuple[int, str], list[StoredDose]] = defaultdict(list)
    for d in ordered:
        groups[(d.dn, d.date)].append(d)
    kept: list[StoredDose] = []
    for (dn, _), group in groups.items():
        kept.append(group[0])
        if len(group) > 1:
            keys = tuple(d.key for d in group)
            if len({d.mp for d in group}) > 1:
                problems.append(Problem("conflicting_duplicate",
                                        f"dose {dn} recorded {len(group)} times with different products "
                                        f"({_facilities(group)})", keys))  # fmt: skip
            else:
                problems.append(Problem("duplicate_dose",
                                        f"dose {dn} recorded {len(group)} times ({_facilities(group)}); merged",
                                        keys))  # fmt: skip
    kept.sort(key=lambda d: (d.date, d.dn, d.facility, d.key))
    by_day: dict[str, list[StoredDose]] = defaultdict(list)
    by_number: dict[int, list[StoredDose]] = defaultdict(list)
    for d in kept:
        by_day[d.date].append(d)
        by_number[d.dn].append(d)
    for group in by_day.values():
        if len(group) > 1:
            numbers = ", ".join(str(d.dn) for d in group)
            problems.append(Problem("two_doses_one_day", f"doses {numbers} on the same day ({_facilities(group)})",
                                    tuple(d.key for d in group)))  # fmt: skip
    for dn, group in by_number.items():
        if len(group) > 1:
            problems.append(Problem("dose_number_repeated",
                                    f"dose {dn} recorded on {len(group)} different dates ({_facilities(group)})",
                                    tuple(d.key for d in group)))  # fmt: skip
    highest: StoredDose | None = None
    for d in kept:
        if highest is not None and d.dn < highest.dn and d.date > highest.date:
            problems.append(Problem("out_of_order", f"dose {d.dn} is dated after dose {highest.dn}",
                                    (highest.key, d.key)))  # fmt: skip
        if highest is None or d.dn > highest.dn:
            highest = d
    for d in kept:
        if d.dn > d.sd:
            problems.append(Problem("dn_over_sd", f"dose {d.dn} of a series of {d.sd} ({d.facility})", (d.key,)))
    if not kept:
        return kept, problems, Status(0, False, False, None)
    last = kept[-1]
    complete = last.dn >= last.sd
    booster = complete and any(d.dn >= d.sd for d in kept[:-1])
    return kept, problems, Status(len(kept), complete, booster, last)


def _content_hash(person: PersonRow, last: StoredDose) -> str:
    values = [person.fn, person.gn, person.fnt, person.gnt, person.dob,
              last.facility, last.dn, last.sd, last.date, last.tg, last.vp, last.mp, last.ma, last.co]
    if last.issuer is not None:  # a recognised dose shows its own issuer (domestic hashes stay as they were)
        values.append(last.issuer)
    return hashlib.sha256(json.dumps(values, ensure_ascii=False).encode()).hexdigest()[:32]


@dataclass
class ReconcileResult:
    """Counts of one reconciliation run."""

    persons: int = 0
    ready: int = 0
    held_identity: int = 0
    held_conflict: int = 0
    no_doses: int = 0
    new_versions: int = 0
    problems: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        return (f"{self.persons} persons reconciled: {self.ready} ready, {self.held_identity} held for identity, "
                f"{self.held_conflict} held for conflicts, {self.new_versions} records changed")  # fmt: skip


_log = logging.getLogger(__name__)


def reconcile(
    registry: Registry,
    *,
    now: dt.datetime,
    identity: IdentityCheck | None = None,
    chunk_size: int = 1000,
    progress: ProgressCallback | None = None,
    persons: Sequence[str] | None = None,
) -> ReconcileResult:
    """Reconcile every person marked as changed (after imports, register loads, corrections).

    One transaction per chunk.  A person changed again while being reconciled stays marked and
    is reconciled by the next run.  ``persons`` limits the run to these person keys.
    """
    check = identity if identity is not None else RegisterTable(registry)
    result = ReconcileResult()
    started = time.perf_counter()
    stamp = int(now.timestamp())
    after = ""
    while True:
        with registry.transaction():
            # One reconciler at a time (several `issue` runs may start together): each chunk is read
            # and written under this lock, so no run writes a status from a stale read.
            registry.lock_reconciliation()
            people = registry.changed_persons(after=after, limit=chunk_size, only=persons)
            if not people:
                break
            after = people[-1].person.person_key
            keys = [p.person.person_key for p in people]
            doses = registry.doses_of(keys)
            verdicts = check.check([p.person for p in people])
            updates: list[StatusUpdate] = []
            problem_rows: list[ProblemRow] = []
            for changed, verdict in zip(people, verdicts, strict=True):
                person = changed.person
                key, version = person.person_key, changed.record_version
                _, problems, status = merge_doses(doses.get(key, []))
                blocking = [p for p in problems if p.blocking]
                for p in problems:
                    problem_rows.append(ProblemRow(key, p.kind, p.blocking, p.detail, p.dose_keys))
                    result.problems[p.kind] = result.problems.get(p.kind, 0) + 1
                if status.last is None:
                    state, reason = "no_doses", None
                    result.no_doses += 1
                elif not verdict.ok:
                    state, reason = "held_identity", REASONS.get(verdict.reason or "", verdict.reason)
                    result.held_identity += 1
                elif blocking:
                    state, reason = "held_conflict", ", ".join(sorted({p.kind for p in blocking}))
                    result.held_conflict += 1
                else:
                    state, reason = "ready", None
                    result.ready += 1
                content_hash = changed.content_hash
                if state == "ready" and status.last is not None:
                    new_hash = _content_hash(person, status.last)
                    if new_hash != content_hash:
                        content_hash = new_hash
                        version += 1
                        result.new_versions += 1
                updates.append(StatusUpdate(key, changed.dirty, state, reason, status.doses, status.complete,
                                            status.booster, status.last, content_hash, version))  # fmt: skip
                result.persons += 1
            registry.replace_problems(keys, problem_rows, stamp=stamp)
            registry.update_statuses(updates, stamp=stamp)
        if progress is not None:
            progress(result.persons, None)
    log_event(_log, "reconcile.done", persons=result.persons, pending=result.ready, waiting=result.held_identity
              + result.held_conflict, count=result.new_versions, seconds=round(time.perf_counter() - started, 3))
    return result
