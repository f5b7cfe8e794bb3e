"""One contract suite for every registry adapter: SQLite (a file) and PostgreSQL (a fresh schema)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry_support import (
    BACKENDS,
    NOW,
    dose_row,
    facility_signers,
    fresh_registry,
    keyring,
    register_rows,
    rows,
    scalar,
    trust_of,
    write_csv,
)
from vaxcert.errors import ConfigurationError
from vaxcert.registry import ClaimedPerson, Registry, issue_pending, open_registry
from vaxcert.registry._migrations import load_migrations
from vaxcert.registry.identity import load_register
from vaxcert.registry.importer import import_file
from vaxcert.registry.protocol import CLAIM_COLUMNS
from vaxcert.registry.protocol import Registry as RegistryProtocol
from vaxcert.registry.reconciliation import reconcile
from vaxcert.registry.rows import StagedCertificate
from vaxcert.verifier import Verifier


@pytest.fixture(params=BACKENDS)
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Registry]:
    """A fresh registry of each backend."""
    with fresh_registry(request.param, tmp_path) as reg:
        yield reg


def _load(registry: Registry, tmp_path: Path, n: int = 6, facilities: tuple[str, ...] = ("VN-HN-001",)) -> None:
    """n persons with two doses each (at the given facilities, round robin), register loaded, reconciled."""
    data = [dose_row(i, d, facility=facilities[i % len(facilities)]) for i in range(n) for d in (1, 2)]
    write_csv(tmp_path / "doses.csv", data)
    write_csv(tmp_path / "register.csv", register_rows(data), header=("citizen_id", "family_name", "given_name", "dob"))
    assert import_file(registry, tmp_path / "doses.csv", now=NOW).rejected == 0
    load_register(registry, tmp_path / "register.csv", now=NOW)
    reconcile(registry, now=NOW)


def test_implements_protocol(registry: Registry) -> None:
    """Each adapter satisfies the Registry Protocol."""
    assert isinstance(registry, RegistryProtocol)
    assert registry.backend in ("sqlite", "postgresql")


def test_migrations_versioned_and_idempotent(registry: Registry) -> None:
    """The schema is at the latest version; migrating again applies nothing."""
    latest = len(load_migrations("sqlite" if registry.backend == "sqlite" else "postgres"))
    assert registry.schema_version() == latest
    assert registry.migrate() == []
    assert scalar(registry, "SELECT COUNT(*) FROM schema_version") == latest


def test_transaction_rolls_back_on_error(registry: Registry) -> None:
    """A transaction that raises leaves nothing behind; one that returns is committed."""
    with pytest.raises(RuntimeError), registry.transaction() as tx:
        tx.execute("INSERT INTO facilities (facility_id, province, created_at) VALUES (?, ?, ?)", ("VN-HN-9", "HN", 1))
        raise RuntimeError("boom")
    assert scalar(registry, "SELECT COUNT(*) FROM facilities") == 0
    with registry.transaction() as tx:
        tx.execute("INSERT INTO facilities (facility_id, province, created_at) VALUES (?, ?, ?)", ("VN-HN-9", "HN", 1))
    assert scalar(registry, "SELECT COUNT(*) FROM facilities") == 1


def test_copy_rows_and_executemany(registry: Registry) -> None:
    """Bulk copy and executemany store every row."""
    with registry.transaction() as tx:
        new = [(f"VN-HN-{i}", "HN", i) for i in range(50)]
        tx.copy_rows("facilities", ("facility_id", "province", "created_at"), new)
        tx.executemany("UPDATE facilities SET name = ? WHERE facility_id = ?", [("x", f"VN-HN-{i}") for i in range(10)])
    assert scalar(registry, "SELECT COUNT(*) FROM facilities") == 50
    assert scalar(registry, "SELECT COUNT(*) FROM facilities WHERE name = 'x'") == 10


def test_copy_rows_many_statements(registry: Registry) -> None:
    """A bulk copy of several hundred rows (multi-row statements and a rest) stores each row as given."""
    new = [(f"VN-HN-{i:04d}", f"Tr\u1ea7n 'x' \\ {i}" if i % 3 else None, "HN", i) for i in range(613)]
    with registry.transaction() as tx:
        tx.copy_rows("facilities", ("facility_id", "name", "province", "created_at"), iter(new))
    assert rows(registry, "SELECT facility_id, name, province, created_at FROM facilities ORDER BY facility_id") == new


@pytest.mark.parametrize("count", [0, 1, 2, 127, 249, 250, 251, 499, 613])
def test_copy_rows_every_count(registry: Registry, count: int) -> None:
    """Any number of rows, full statements and the rest in a few sizes, arrives whole and in order."""
    new = [(f"VN-HN-{i:04d}", "HN", i) for i in range(count)]
    with registry.transaction() as tx:
        tx.copy_rows("facilities", ("facility_id", "province", "created_at"), new)
    assert rows(registry, "SELECT facility_id, province, created_at FROM facilities ORDER BY facility_id") == new


def test_sqlite_copy_rows_steps_a_few_times_for_the_rest() -> None:
    """The rows after the full statements take at most eight statements of fixed sizes (never one
    step per row, which hands the GIL to another thread each time; never a new text per count)."""
    from vaxcert.registry.sqlite import _statement_sizes

    for count in range(1, 251):
        sizes = _statement_sizes(count, 250)
        assert sum(sizes) == count and len(sizes) <= 8
        assert all(size == 250 or size & (size - 1) == 0 for size in sizes)


def test_copy_rows_refuses_a_short_row(registry: Registry) -> None:
    """A row with a value missing is refused, even when a longer row beside it would make the count right."""
    new = [(f"VN-HN-{i:04d}", "HN", i) for i in range(600)]
    new[10] = ("VN-HN-0010", "HN")
    new[11] = ("VN-HN-0011", "HN", 11, 99)
    with pytest.raises(Exception), registry.transaction() as tx:  # noqa: B017
        tx.copy_rows("facilities", ("facility_id", "province", "created_at"), new)
    assert scalar(registry, "SELECT COUNT(*) FROM facilities") == 0


def test_claim_returns_what_is_stored(registry: Registry, tmp_path: Path) -> None:
    """A claimed person's fields are the stored values with their types (names with quotes, NULLs)."""
    _load(registry, tmp_path, n=6)
    with registry.transaction() as tx:
        tx.execute("UPDATE persons SET fn = ?, gn = NULL, gnt = NULL WHERE person_key IN"
                   " (SELECT MIN(person_key) FROM persons)", ("Nguy\u1ec5n \"O'Brien\" \\ \u00e9",))  # fmt: skip
    stored = rows(registry, f"SELECT {', '.join(CLAIM_COLUMNS)} FROM persons ORDER BY person_key")
    got = registry.claim(worker="a", limit=10, now=time.time(), lease_seconds=60, facilities=["VN-HN-001"])
    assert sorted(tuple(r) for r in got) == [tuple(r) for r in stored]
    assert all(type(a) is type(b) for r, s in zip(sorted(got), stored, strict=True) for a, b in zip(r, s, strict=True))
    assert all(isinstance(r, ClaimedPerson) for r in got)
    assert scalar(registry, "SELECT COUNT(*) FROM persons WHERE lease_owner = 'a'") == 6


def test_reopen_from_spec(registry: Registry) -> None:
    """A registry reopened from its spec (as a worker process does) sees the same data."""
    with registry.transaction() as tx:
        tx.execute("INSERT INTO facilities (facility_id, province, created_at) VALUES (?, ?, ?)", ("VN-DN-1", "DN", 1))
    again = open_registry(registry.spec)
    try:
        assert scalar(again, "SELECT facility_id FROM facilities") == "VN-DN-1"
    finally:
        again.close()


def test_claim_leases_exclude_other_workers(registry: Registry, tmp_path: Path) -> None:
    """A claimed person is not handed to another worker until the lease expires."""
    _load(registry, tmp_path, n=6)
    now = time.time()
    first = registry.claim(worker="a", limit=4, now=now, lease_seconds=60, facilities=["VN-HN-001"])
    second = registry.claim(worker="b", limit=10, now=now, lease_seconds=60, facilities=["VN-HN-001"])
    assert len(first) == 4 and len(second) == 2
    assert not {r[0] for r in first} & {r[0] for r in second}
    assert registry.claim(worker="c", limit=10, now=now, lease_seconds=60, facilities=["VN-HN-001"]) == []
    expired = registry.claim(worker="c", limit=10, now=now + 61, lease_seconds=60, facilities=["VN-HN-001"])
    assert len(expired) == 6
    assert len(first[0]) == len(CLAIM_COLUMNS)


def test_claim_only_facilities_with_keys(registry: Registry, tmp_path: Path) -> None:
    """Persons whose last dose was at a facility the worker has no key for are not claimed."""
    _load(registry, tmp_path, n=6, facilities=("VN-HN-001", "VN-SG-002"))
    got = registry.claim(worker="a", limit=100, now=time.time(), lease_seconds=60, facilities=["VN-SG-002"])
    assert len(got) == 3 and {r.last_facility for r in got} == {"VN-SG-002"}
    assert registry.claim(worker="a", limit=100, now=time.time(), lease_seconds=60, facilities=[]) == []


def test_concurrent_claims_are_disjoint(registry: Registry, tmp_path: Path) -> None:
    """Claimers on separate connections racing for the same work never share a person."""
    _load(registry, tmp_path, n=40)
    claimed: dict[str, list[str]] = {}

    def worker(name: str) -> None:
        reg = open_registry(registry.spec)
        try:
            got: list[str] = []
            while batch := reg.claim(worker=name, limit=3, now=time.time(), lease_seconds=60,
                                     facilities=["VN-HN-001"]):  # fmt: skip
                got.extend(r[0] for r in batch)
            claimed[name] = got
        finally:
            reg.close()

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everyone = [k for got in claimed.values() for k in got]
    assert len(everyone) == 40 and len(set(everyone)) == 40


def test_issue_verify_end_to_end(registry: Registry, tmp_path: Path, pki) -> None:  # type: ignore[no-untyped-def]
    """Imported records become certificates that verify, signed by the last dose's facility."""
    _load(registry, tmp_path, n=5, facilities=("VN-HN-001", "VN-SG-002"))
    signers = facility_signers(pki, ["VN-HN-001", "VN-SG-002"])
    result = issue_pending(registry, keyring(signers), now=NOW)
    assert result.issued == 5
    verifier = Verifier(trust_of(signers))
    for hc1, facility, kid in rows(registry, "SELECT hc1, facility_id, kid FROM certificates"):
        verdict = verifier.verify(hc1, now=NOW)
        assert verdict.valid, verdict.code
        assert kid == signers[facility].kid.hex() == verdict.kid.hex()  # type: ignore[union-attr]
    assert issue_pending(registry, keyring(signers), now=NOW).issued == 0


def test_persist_is_exactly_once(registry: Registry, tmp_path: Path, pki) -> None:  # type: ignore[no-untyped-def]
    """Persisting the same signed chunk twice stores it once; a stale version is never stored."""
    _load(registry, tmp_path, n=3)
    signers = facility_signers(pki, ["VN-HN-001"])
    ring = keyring(signers)
    claimed = registry.claim(worker="a", limit=10, now=time.time(), lease_seconds=60, facilities=ring.facilities)
    signer = ring.for_facility("VN-HN-001")
    assert signer is not None

    def stage(row: ClaimedPerson, version: int) -> StagedCertificate:
        cert = signer.issuer.issue(row.payload(issuer=signer.is_text, ci=signer.uvci(), version="1.3.0"), now=NOW,
                                   facility=row.last_facility)
        return StagedCertificate(row.person_key, version, cert.uvci, cert.hc1, cert.kid.hex(), row.last_facility, "v",
                                 row.dn, row.sd, cert.issued_at, cert.expires_at)  # fmt: skip

    assert registry.store_certificates([stage(r, r[1]) for r in claimed], worker="a", stamp=1) == 3
    assert registry.store_certificates([stage(r, r[1]) for r in claimed], worker="b", stamp=2) == 0
    assert registry.store_certificates([stage(r, r[1] - 1) for r in claimed], worker="b", stamp=3) == 0
    assert scalar(registry, "SELECT COUNT(*) FROM certificates") == 3
    assert scalar(registry, "SELECT COUNT(*) FROM persons WHERE lease_owner IS NOT NULL") == 0


def test_one_current_certificate_enforced(registry: Registry, tmp_path: Path, pki) -> None:  # type: ignore[no-untyped-def]
    """The schema refuses a second current certificate for one person."""
    _load(registry, tmp_path, n=1)
    issue_pending(registry, keyring(facility_signers(pki, ["VN-HN-001"])), now=NOW)
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"), registry.transaction() as tx:
        tx.execute(
            "INSERT INTO certificates (person_key, record_version, uvci, hc1, kid, facility_id, cert_type, issued_at,"
            " expires_at, status, created_at) SELECT person_key, record_version + 1, 'x', 'x', 'x', facility_id, 'v',"
            " 0, 0, 'current', 0 FROM certificates"
        )


def test_unmigrated_registry_refused(tmp_path: Path) -> None:
    """Opening a registry that was never initialised is a configuration error."""
    with pytest.raises(ConfigurationError, match="not initialised"):
        open_registry(f"sqlite:///{tmp_path}/empty.db")


@pytest.mark.parametrize("url", ["mysql://x", "sqlite://relative.db"])
def test_bad_urls_refused(url: str) -> None:
    """Unknown schemes and malformed SQLite URLs are refused."""
    with pytest.raises(ConfigurationError):
        open_registry(url, migrate=True)


def test_spec_repr_hides_url() -> None:
    """A registry spec's repr does not show the DSN (it may hold a password)."""
    from vaxcert.registry import RegistrySpec

    assert "secret" not in repr(RegistrySpec("postgresql://u:secret@h/db", "s"))
