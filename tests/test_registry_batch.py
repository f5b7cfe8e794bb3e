"""Batch issuance: versions, holds, several worker processes, and a worker killed mid-batch (kill -9)."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cli_inprocess import run as run_cli
from conftest import Pki, make_pki
from registry_support import (
    BACKENDS,
    NOW,
    PASSWORD,
    dose_row,
    facility_signers,
    fresh_registry,
    key_directory,
    keyring,
    register_rows,
    rows,
    scalar,
    trust_of,
    write_csv,
)
from strategies_records import doses_for, persons
from vaxcert import (
    InputError,
    KeySigner,
    TrustList,
    create_dsc,
    generate_private_key,
    load_bundle,
    load_certificate_file,
)
from vaxcert.cli._progress import Progress
from vaxcert.dcc import payload as payload_mod
from vaxcert.dcc import uvci
from vaxcert.dcc.model import Dose, DoseRecord, IdentityDocument, Name, Person
from vaxcert.dcc.uvci import UvciMaker
from vaxcert.errors import ConfigurationError, StorageError
from vaxcert.issuer import Issuer
from vaxcert.registry import ClaimedPerson, KeyDirectory, KeyRing, Registry, issue_pending, open_registry
from vaxcert.registry.batch import DEFAULT_CHUNK, chunk_for, sign_chunk
from vaxcert.registry.identity import IdentityVerdict, load_register
from vaxcert.registry.importer import import_file
from vaxcert.registry.reconciliation import reconcile
from vaxcert.registry.workers import run
from vaxcert.stages import compression
from vaxcert.stages.hc1 import wrap as hc1_wrap
from vaxcert.stages.hc1 import wrap_many as hc1_wrap_many
from vaxcert.verifier import Verifier

REGISTER_HEADER = ("citizen_id", "family_name", "given_name", "dob")


class Terminal(io.StringIO):
    """A standard error that says it is a terminal, so progress bars are drawn."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(params=BACKENDS)
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Registry]:
    """A fresh registry of each backend."""
    with fresh_registry(request.param, tmp_path) as reg:
        yield reg


def load(registry: Registry, tmp_path: Path, data: list[dict[str, str]], *, register: bool = True) -> None:
    """Import rows (and a matching population register), then reconcile."""
    name = f"doses-{time.monotonic_ns()}.csv"
    write_csv(tmp_path / name, data)
    assert import_file(registry, tmp_path / name, now=NOW).rejected == 0
    if register:
        write_csv(tmp_path / "register.csv", register_rows(data), header=REGISTER_HEADER)
        load_register(registry, tmp_path / "register.csv", now=NOW)
    reconcile(registry, now=NOW)


def assert_exactly_one_current(registry: Registry, persons: int) -> None:
    """Every person has exactly one certificate and it is current; none was issued twice."""
    total, distinct, current = rows(
        registry,
        "SELECT COUNT(*), COUNT(DISTINCT person_key), SUM(CASE WHEN status = 'current' THEN 1 ELSE 0 END)"
        " FROM certificates",
    )[0]
    assert (total, distinct, current) == (persons, persons, persons)
    assert scalar(registry, "SELECT COUNT(*) FROM persons WHERE issued_version = record_version") == persons
    assert scalar(registry, "SELECT COUNT(DISTINCT uvci) FROM certificates") == persons


def test_fast_uvcis_are_valid_and_distinct() -> None:
    """UvciMaker writes UVCIs whose check character vaxcert.dcc.uvci accepts, all different."""
    make = UvciMaker("VN", "VNHN001")
    made = {make() for _ in range(2000)}
    assert len(made) == 2000
    for value in list(made)[:300]:
        assert uvci.is_valid(value, require_checksum=True)
        assert uvci.parse(value).issuer == ("VNHN001",)


def test_fast_payload_matches_the_core_builder() -> None:
    """The batch payload equals vaxcert.dcc.payload's for the same person and dose, and is issuable."""
    person = Person(Name("Nguyễn", "Văn Đức"), "1990-04-12", IdentityDocument("cccd", "001090000001"))
    dose = Dose(dt.date(2021, 9, 10), "EU/1/20/1528", 2, 2, "VN-HN-001")
    ci = UvciMaker("VN", "VNHN001")()
    expected = payload_mod.build_payload(person, payload_mod.entry_from_dose(dose, ci=ci, issuer="Ministry of Health"))
    row = ClaimedPerson("cccd:001090000001", 1, "Nguyễn", "NGUYEN", "Văn Đức", "VAN<DUC", "1990-04-12",
                        "840539006", "1119349007", "EU/1/20/1528", "ORG-100030215", 2, 2, "2021-09-10", "VN",
                        "VN-HN-001")  # fmt: skip
    built = row.payload(issuer="Ministry of Health", ci=ci, version="1.3.0")
    assert built == expected
    payload_mod.check_issuable(built, now=NOW)


def _claimed(i: int, facility: str = "VN-HN-001") -> ClaimedPerson:
    """A claimed person whose names, birth date and dose vary with ``i`` (so HC1 lengths vary)."""
    given = ("Văn Đức", "VAN<DUC") if i % 3 else (None, None)
    return ClaimedPerson(f"cccd:{i:012d}", 1 + i % 3, "Nguyễn" + "x" * (i % 5), "NGUYEN" + "X" * (i % 4), given[0],
                         given[1], f"19{50 + i % 40}-0{1 + i % 9}-1{i % 10}", "840539006", "1119349007",
                         "EU/1/20/1528", "ORG-100030215", 1 + i % 2, 2, f"2021-0{1 + i % 9}-2{i % 8}", "VN",
                         facility)  # fmt: skip


def test_issue_many_gives_the_certificates_of_issue_one_by_one(pki: Pki) -> None:
    """Issuer.issue_many signs exactly what Issuer.issue signs for each payload (deterministic ES256: same bytes)."""
    signer = KeySigner(pki.dsc_key, pki.dsc, deterministic=True)
    issuer = Issuer(signer, check=False)
    # fixed UVCIs and a deterministic signature: the same streams, odd and even lengths, on every run
    payloads = [_claimed(i).payload(issuer="Ministry of Health", ci=f"URN:UVCI:01:VN:VNHN001/{i:026d}#A",
                                    version="1.3.0") for i in range(60)]  # fmt: skip
    many = issuer.issue_many(payloads, now=NOW, facility="VN-HN-001")
    one_by_one = [issuer.issue(p, now=NOW, facility="VN-HN-001") for p in payloads]
    assert many == one_by_one
    assert {len(compression.pack(c.cose)) % 2 for c in many} == {0, 1}  # both Base45 tails were exercised
    assert issuer.issue_many([], now=NOW, facility="VN-HN-001") == []


def test_wrap_many_equals_wrap() -> None:
    """wrap_many (Base45 over a whole list) gives hc1.wrap of each message, for odd and even stream lengths."""
    noise = random.Random(15)  # compressible and incompressible streams of every length parity, the same each run
    messages = [bytes(range(n % 256)) * (1 + n // 256) + noise.randbytes(n % 7 + n // 3) for n in range(0, 700, 7)]
    assert hc1_wrap_many(messages) == [hc1_wrap(m) for m in messages]
    assert {len(compression.pack(m)) % 2 for m in messages} == {0, 1}
    assert hc1_wrap_many([]) == []


def test_issue_many_refuses_as_issue_does(pki: Pki) -> None:
    """issue_many refuses a payload issue refuses (type the DSC may not sign, another facility's dose)."""
    issuer = Issuer(pki.signer, check=False)
    payload = _claimed(1).payload(issuer="Ministry of Health", ci=UvciMaker("VN", "VNHN001")(), version="1.3.0")
    for bad, facility in ((payload, "VN-SG-002"), ({**payload, "v": []}, "VN-HN-001")):
        with pytest.raises(InputError) as one:
            issuer.issue(bad, now=NOW, facility=facility)
        with pytest.raises(InputError) as many:
            issuer.issue_many([payload, bad], now=NOW, facility=facility)
        assert (one.value.field, one.value.message) == (many.value.field, many.value.message)
    with pytest.raises(ConfigurationError):
        issuer.issue_many([payload], now=NOW.replace(tzinfo=None), facility="VN-HN-001")


def test_sign_chunk_tells_each_refusal_against_its_person() -> None:
    """A facility whose DSC may not sign vaccinations: every person of that facility is refused, by name of the
    field, and the other facility's persons are signed."""
    limited = make_pki(types=("t",))
    other = make_pki()
    ring = KeyRing({"VN-HN-001": KeySigner(limited.dsc_key, limited.dsc),
                    "VN-SG-002": KeySigner(other.rsa_key, other.rsa_dsc)})  # fmt: skip
    chunk = [_claimed(i, "VN-HN-001" if i % 2 else "VN-SG-002") for i in range(10)]
    staged, failures = sign_chunk(ring, chunk, NOW)
    assert sorted(k for k, _ in failures) == sorted(r.person_key for r in chunk if r.last_facility == "VN-HN-001")
    assert {reason for _, reason in failures} == {"cannot issue: v: the signer's certificate may not sign this "
                                                  "certificate type"}  # fmt: skip
    assert sorted(s.person_key for s in staged) == sorted(r.person_key for r in chunk if r.last_facility != "VN-HN-001")


def test_changed_record_gets_a_new_certificate(registry: Registry, tmp_path: Path, pki) -> None:  # type: ignore[no-untyped-def]
    """A new dose makes a new version: one new certificate, the old one superseded; re-runs issue nothing."""
    signers = facility_signers(pki, ["VN-HN-001"])
    load(registry, tmp_path, [dose_row(i, 1) for i in range(4)])
    assert issue_pending(registry, keyring(signers), now=NOW).issued == 4
    assert issue_pending(registry, keyring(signers), now=NOW).issued == 0
    load(registry, tmp_path, [dose_row(0, 2)])
    assert issue_pending(registry, keyring(signers), now=NOW).issued == 1
    statuses = rows(registry, "SELECT record_version, status, dn FROM certificates WHERE person_key = ? ORDER BY 1",
                    (f"cccd:{dose_row(0)['citizen_id']}",))  # fmt: skip
    assert statuses == [(1, "superseded", 1), (2, "current", 2)]
    verifier = Verifier(trust_of(signers))
    current = scalar(registry, "SELECT hc1 FROM certificates WHERE status = 'current' AND dn = 2")
    result = verifier.verify(current, now=NOW)
    assert result.valid and result.payload is not None and result.payload["v"][0]["dn"] == 2


def test_default_chunks_are_large_but_every_worker_gets_a_share() -> None:
    """Without --chunk a batch is claimed in chunks of up to 5,000 persons; a small batch is cut into at
    least four chunks per worker (of 100 at the least), never into empty ones."""
    assert chunk_for(1_000_000, 2) == DEFAULT_CHUNK == 5000
    assert chunk_for(20_000, 2) == 2500 and chunk_for(20_001, 2) == 2501
    assert chunk_for(1000, 2) == 125 and chunk_for(1000, 16) == 100
    assert chunk_for(0, 2) == 100 and chunk_for(7, 0) == 100
    assert chunk_for(1_000_000, 2, most=700) == 700


def test_sqlite_stages_a_chunk_while_another_worker_writes(tmp_path: Path, pki) -> None:  # type: ignore[no-untyped-def]
    """SQLite: a signed chunk goes into the connection's own staging table without the write lock (so
    another worker may write meanwhile); a store that then times out on the lock stores nothing, and
    the next store of the chunk stores it exactly once (the staging table is refilled, not added to)."""
    signers = facility_signers(pki, ["VN-HN-001"])
    with fresh_registry("sqlite", tmp_path) as registry:
        load(registry, tmp_path, [dose_row(i, 1) for i in range(5)])
        chunk = registry.claim(worker="w1", limit=10, now=time.time(), lease_seconds=300, facilities=None)
        staged, failures = sign_chunk(keyring(signers), chunk, NOW)
        assert len(staged) == 5 and not failures
        hurried = open_registry(registry.spec.url, busy_timeout=0.2)
        try:
            with registry.transaction():  # another worker holds the write lock
                assert hurried._stage_ahead(staged)  # type: ignore[attr-defined]
                assert hurried._conn.execute("SELECT COUNT(*) FROM temp.staged_certs").fetchone()[0] == 5  # type: ignore[attr-defined]
                with pytest.raises(StorageError, match="locked"):
                    hurried.store_certificates(staged, worker="w1", stamp=1)
            assert scalar(registry, "SELECT COUNT(*) FROM certificates") == 0
            assert hurried.store_certificates(staged, worker="w1", stamp=1) == 5
            assert hurried._conn.execute("SELECT COUNT(*) FROM temp.staged_certs").fetchone()[0] == 5  # type: ignore[attr-defined]
        finally:
            hurried.close()
        assert_exactly_one_current(registry, 5)
        assert scalar(registry, "SELECT COUNT(*) FROM persons WHERE lease_owner IS NOT NULL") == 0


def test_held_persons_are_not_signed(registry: Registry, tmp_path: Path, pki) -> None:  # type: ignore[no-untyped-def]
    """Identity mismatches and conflicting doses hold a person; fixing the register releases them."""
    signers = facility_signers(pki, ["VN-HN-001"])
    good = [dose_row(0, 1)]
    wrong_name = dose_row(1, 1)
    conflict = [dose_row(2, 1, date="2021-07-05"), dose_row(2, 2, date="2021-07-05")]
    load(registry, tmp_path, [*good, wrong_name, *conflict], register=False)
    register = register_rows([*good, {**wrong_name, "family_name": "Trần"}, *conflict])
    write_csv(tmp_path / "register.csv", register, header=REGISTER_HEADER)
    load_register(registry, tmp_path / "register.csv", now=NOW)
    reconcile(registry, now=NOW)
    assert issue_pending(registry, keyring(signers), now=NOW).issued == 1
    states = dict(rows(registry, "SELECT id_number, state FROM persons"))
    assert states[wrong_name["citizen_id"]] == "held_identity"
    assert states[conflict[0]["citizen_id"]] == "held_conflict"
    write_csv(tmp_path / "register.csv", register_rows([wrong_name]), header=REGISTER_HEADER)
    load_register(registry, tmp_path / "register.csv", now=NOW)
    reconcile(registry, now=NOW)
    assert issue_pending(registry, keyring(signers), now=NOW).issued == 1


def test_facility_without_key_waits(registry: Registry, tmp_path: Path, pki) -> None:  # type: ignore[no-untyped-def]
    """Persons whose last dose's facility has no key are counted as waiting, not signed by another key."""
    load(registry, tmp_path, [dose_row(0, 1, facility="VN-HN-001"), dose_row(1, 1, facility="VN-DN-002")])
    result = run(registry, keyring(facility_signers(pki, ["VN-HN-001"])), now=NOW, workers=1)
    assert (result.issued, result.waiting_no_key) == (1, 1)
    assert scalar(registry, "SELECT facility_id FROM certificates") == "VN-HN-001"


def test_worker_processes_share_the_work(registry: Registry, tmp_path: Path, pki, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Two worker processes issue every pending certificate exactly once, reporting progress (the CLI's bar)."""
    terminal = Terminal()
    bar = Progress("issue", unit="certificates", stream=terminal)
    reports: list[tuple[float, float | None]] = []

    def progress(done: float, total: float | None) -> None:
        reports.append((done, total))
        bar.report(done, total)

    facilities = ["VN-HN-001", "VN-SG-002"]
    keys = key_directory(tmp_path / "keys", facility_signers(pki, facilities), monkeypatch)
    load(registry, tmp_path, [dose_row(i, 1, facility=facilities[i % 2]) for i in range(60)])
    result = run(registry, keys, now=NOW, workers=2, chunk_size=7, progress=progress)
    bar.close(f"issue: {result.summary()}")
    assert result.issued == 60 and result.workers == 2
    assert reports[-1] == (60, 60) and [d for d, _ in reports] == sorted(d for d, _ in reports)
    assert_exactly_one_current(registry, 60)
    assert "issue [" in terminal.getvalue() and "issued 60 certificates" in terminal.getvalue()
    workers = {w for (w,) in rows(registry, "SELECT DISTINCT worker FROM certificates")}
    assert len(workers) >= 1


CRASH_WORKER = r"""
import sys, time
from vaxcert.registry import open_registry
from vaxcert.registry import KeyDirectory, KeyRing, issue_pending
from conftest import NOW
from registry_support import PASSWORD

class SlowSigner:
    # A facility signer that takes a little longer, so that the parent can kill us mid-batch.
    def __init__(self, inner):
        self.inner = inner
    algorithm = property(lambda self: self.inner.algorithm)
    kid = property(lambda self: self.inner.kid)
    certificate = property(lambda self: self.inner.certificate)
    def sign(self, data):
        time.sleep(0.002)
        return self.inner.sign(data)

url, schema, keys = sys.argv[1], sys.argv[2] or None, sys.argv[3]
registry = open_registry(url, schema=schema)
ring = KeyDirectory(keys, password=PASSWORD.encode()).load()
slow = KeyRing({f: SlowSigner(ring.for_facility(f).issuer.signer) for f in ring.facilities})
issue_pending(registry, slow, now=NOW, chunk_size=10, lease_seconds=1.0)
"""


def _kill_mid_batch(registry: Registry, keys: Path, tests_dir: Path, after: int, total: int) -> int:
    """Start a worker subprocess, SIGKILL it once ``after`` certificates are committed; return the count then."""
    spec = registry.spec
    env = {**os.environ, "PYTHONPATH": str(tests_dir)}
    proc = subprocess.Popen([sys.executable, "-c", CRASH_WORKER, spec.url, spec.schema or "", str(keys)], env=env)
    try:
        deadline = time.monotonic() + 120
        while scalar(registry, "SELECT COUNT(*) FROM certificates") < after:
            assert proc.poll() is None, "the worker ended before it could be killed"
            assert time.monotonic() < deadline, "the worker made no progress"
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    committed = int(scalar(registry, "SELECT COUNT(*) FROM certificates"))
    assert after <= committed < total, "the kill must land mid-batch"
    return committed


@pytest.mark.slow
def test_kill_9_mid_batch_loses_and_duplicates_nothing(registry: Registry, tmp_path: Path, pki, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """kill -9 a worker twice mid-batch; the re-run leaves every person exactly one current certificate."""
    total = 300
    signers = facility_signers(pki, ["VN-HN-001"])
    keys = key_directory(tmp_path / "keys", signers, monkeypatch)
    load(registry, tmp_path, [dose_row(i, 1) for i in range(total)])
    tests_dir = Path(__file__).resolve().parent
    first = _kill_mid_batch(registry, tmp_path / "keys", tests_dir, after=60, total=total)
    # What was committed is consistent: each certificate's person is marked done, nobody has two.
    assert scalar(registry, "SELECT COUNT(*) FROM persons WHERE issued_version > 0") == first
    assert scalar(registry, "SELECT COUNT(DISTINCT person_key) FROM certificates") == first
    assert scalar(registry, "SELECT COUNT(*) FROM persons WHERE lease_owner IS NOT NULL") > 0  # a dead lease
    _kill_mid_batch(registry, tmp_path / "keys", tests_dir, after=first + 60, total=total)
    # Run again to the end: the dead worker's leases expire (1 s) and are taken over.
    result = run(registry, keys, now=NOW, workers=1, chunk_size=25, lease_seconds=60)
    assert result.issued + first > 0
    assert_exactly_one_current(registry, total)
    assert scalar(registry, "SELECT COUNT(*) FROM persons WHERE lease_owner IS NOT NULL") == 0
    verifier = Verifier(trust_of(signers))
    for (hc1,) in rows(registry, "SELECT hc1 FROM certificates ORDER BY cert_id LIMIT 5"):
        assert verifier.verify(hc1, now=NOW).valid


def test_break_leases_takes_over_at_once(registry: Registry, tmp_path: Path, pki) -> None:  # type: ignore[no-untyped-def]
    """After a crash, --break-leases releases dead leases so the re-run need not wait for them."""
    signers = facility_signers(pki, ["VN-HN-001"])
    load(registry, tmp_path, [dose_row(i, 1) for i in range(5)])
    registry.claim(worker="dead", limit=5, now=time.time(), lease_seconds=3600, facilities=["VN-HN-001"])
    stuck = issue_pending(registry, keyring(signers), now=NOW, wait_for_leases=False)
    assert stuck.issued == 0
    result = run(registry, keyring(signers), now=NOW, workers=1, break_leases=True)
    assert result.issued == 5
    assert_exactly_one_current(registry, 5)


def test_ministry_key_signs_for_facilities_without_keys(registry: Registry, tmp_path: Path, pki) -> None:  # type: ignore[no-untyped-def]
    """A ministry DSC signs where a facility has no key; a facility with a key still signs its own."""
    from vaxcert.pki.certificates import create_dsc
    from vaxcert.pki.keys import KeySigner, generate_private_key
    from vaxcert.registry import KeyRing

    key = generate_private_key("ec")
    ministry = KeySigner(key, create_dsc(key, csca=pki.csca, csca_key=pki.csca_key, facility_id=None,
                                         facility_name="Ministry signer", now=NOW - dt.timedelta(days=30),
                                         ministry=True))  # fmt: skip
    own = facility_signers(pki, ["VN-HN-001"])
    load(registry, tmp_path, [dose_row(0, 1, facility="VN-HN-001"), dose_row(1, 1, facility="VN-DN-002")])
    result = run(registry, KeyRing(own, ministry=ministry), now=NOW, workers=1)
    assert (result.issued, result.waiting_no_key) == (2, 0)
    kids = dict(rows(registry, "SELECT facility_id, kid FROM certificates"))
    assert kids == {"VN-HN-001": own["VN-HN-001"].kid.hex(), "VN-DN-002": ministry.kid.hex()}


def test_key_ring_refuses_a_dsc_of_another_facility(pki) -> None:  # type: ignore[no-untyped-def]
    """A facility's key ring entry must be that facility's DSC, and the ministry slot a ministry DSC."""
    from vaxcert.errors import ConfigurationError
    from vaxcert.registry import KeyRing

    other = facility_signers(pki, ["VN-SG-002"])["VN-SG-002"]
    with pytest.raises(ConfigurationError, match="names facility VN-SG-002"):
        KeyRing({"VN-HN-001": other})
    with pytest.raises(ConfigurationError, match="not a ministry DSC"):
        KeyRing({}, ministry=other)


def test_demo_runs_and_is_idempotent(tmp_path: Path) -> None:
    """The README demo verifies every sample certificate, shows GREEN, YELLOW and a RED with its reason,
    builds a loadable offline bundle, ends with the scan of its own QR codes, prints no names, and a
    re-run issues nothing."""
    demo = Path(__file__).resolve().parents[1] / "examples" / "demo.py"
    env = {**os.environ, "VAXCERT_KEY_PASSWORD": "demo-test-password"}
    first = subprocess.run([sys.executable, str(demo), "--out", str(tmp_path)], env=env, capture_output=True,
                           text=True, check=False)  # fmt: skip
    assert first.returncode == 0, first.stdout + first.stderr
    lines = [line for line in first.stdout.splitlines() if line[:2].isdigit()]
    assert len(lines) == 6 and all(line.split()[-3] == "VALID" for line in lines)
    passes = sorted(" ".join(line.split()[-2:]) for line in lines)
    assert passes == ["GREEN BOOSTER", "GREEN FULLY_VACCINATED", "GREEN FULLY_VACCINATED", "RED PASS_EXPIRED",
                      "YELLOW PARTIALLY_VACCINATED", "YELLOW TOO_SOON_AFTER_DOSE"]
    assert "Trần" not in first.stdout and "079192004321" not in first.stdout
    assert len(list((tmp_path / "qr").glob("*.png"))) == 6
    scan_part = first.stdout.split("$ vaxcert scan --bundle ", 1)[1]
    scanned = [line.split("\t") for line in scan_part.splitlines() if ".png#" in line]
    assert sorted(f"{cells[1].strip()} {cells[2]}" for cells in scanned) == passes
    assert "The pass has expired (valid through" in scan_part
    now = dt.datetime.now(dt.UTC)
    loaded = load_bundle(tmp_path / "bundle.cose", load_certificate_file(tmp_path / "ministry" / "csca.pem"), now)
    assert loaded.problem(now) is None and len(loaded.trust.trust) == 3 and loaded.valuesets is not None
    again = subprocess.run([sys.executable, str(demo), "--out", str(tmp_path), "--no-scan"], env=env,
                           capture_output=True, text=True, check=False)  # fmt: skip
    assert again.returncode == 0
    assert "issued 0 certificates" in again.stdout and "0 new doses, 12 unchanged" in again.stdout
    assert [line for line in again.stdout.splitlines() if line[:2].isdigit()] == lines


def test_no_personal_data_in_logs(tmp_path: Path, pki, caplog: pytest.LogCaptureFixture,  # type: ignore[no-untyped-def]
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Import (with bad rows), reconcile, issue (in worker processes) and verify log nothing personal at any level.

    Every structured event (message and fields, relayed from the workers too) is searched, and the
    events of issue 10 (import.chunk/done, reconcile.done, issue.chunk/worker_done/done) must appear.
    """
    import logging

    caplog.set_level(logging.DEBUG)
    with fresh_registry("sqlite", tmp_path) as registry:
        data = [dose_row(0, 1, family="Hoàng", given="Thị Lụa"), {**dose_row(1, 1), "dob": "1990-02-30"},
                dose_row(2, 1, family="Trần", given="Văn Bình")]  # fmt: skip
        write_csv(tmp_path / "d.csv", data)
        write_csv(tmp_path / "r.csv", register_rows(data), REGISTER_HEADER)
        load_register(registry, tmp_path / "r.csv", now=NOW)
        import_file(registry, tmp_path / "d.csv", now=NOW)
        reconcile(registry, now=NOW)
        keys = key_directory(tmp_path / "keys", facility_signers(pki, ["VN-HN-001"]), monkeypatch)
        result = run(registry, keys, now=NOW, workers=2, chunk_size=1)
        assert result.issued == 2
        certificates = [hc1 for _, hc1 in registry.current_certificates()]
    trust = TrustList.from_certificates([keys.load().for_facility("VN-HN-001").issuer.signer.certificate])  # type: ignore[union-attr]
    for hc1 in certificates:
        Verifier(trust).verify(hc1, now=NOW)
        Verifier(trust).verify(hc1[:-4] + "AAAA", now=NOW)
    events = {getattr(r, "vaxcert_event", {}).get("event") for r in caplog.records}
    assert {"import.chunk", "import.done", "reconcile.done", "issue.chunk", "issue.worker_done", "issue.done"} <= events
    assert any(r.name == "vaxcert.registry.batch" and r.pathname == "(worker)" for r in caplog.records)  # relayed
    text = caplog.text + " ".join(f"{r.args} {getattr(r, 'vaxcert_event', '')}" for r in caplog.records)
    secrets = ["Hoàng", "Lụa", "HOANG", "Trần", "TRAN", dose_row(0)["citizen_id"], dose_row(2)["citizen_id"],
               "1990-02-30", "1990-04-12", "HC1:", "URN:UVCI", *(c[4:40] for c in certificates)]  # fmt: skip
    for secret in secrets:
        assert secret not in text


# -- the one payload builder: what the batch stores verifies ---------------------------------


class _EveryoneInRegister:
    """An identity check that holds nobody (the property below is about issuance, not identity)."""

    def check(self, people):  # type: ignore[no-untyped-def]
        return [IdentityVerdict(True) for _ in people]


def _ministry_signer(pki: Pki) -> KeySigner:
    key = generate_private_key("ec")
    cert = create_dsc(key, csca=pki.csca, csca_key=pki.csca_key, facility_id=None, facility_name="MoH signer",
                      now=NOW - dt.timedelta(days=30), ministry=True)  # fmt: skip
    return KeySigner(key, cert)


ISSUER_NAMES = st.one_of(
    st.sampled_from(["Bộ Y tế", "Ministry of Health", "B" * 80, "B" * 81, "Sở Y tế " * 12, " padded ", "a\tb"]),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=90),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=100),
)
RECORDS = st.lists(st.builds(DoseRecord, person=persons(identity=True), doses=doses_for()), min_size=1, max_size=4)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])  # fmt: skip
@given(records=RECORDS, issuer_name=ISSUER_NAMES)
def test_every_stored_certificate_verifies(tmp_path_factory: pytest.TempPathFactory, pki: Pki,
                                           records: list[DoseRecord], issuer_name: str) -> None:  # fmt: skip
    """Whatever the records and --issuer-name, the batch stores only certificates its own verifier accepts.

    A name the DCC refuses (over 80 characters, control characters, ...) is refused when the key
    ring is built, before anything is signed; everything stored verifies.
    """
    folder = tmp_path_factory.mktemp("prop")
    lines = folder / "records.jsonl"
    lines.write_text("".join(json.dumps(r.to_json(), ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    ministry = _ministry_signer(pki)
    try:
        ring = KeyRing({}, ministry=ministry, issuer_name=issuer_name)
    except InputError as refused:
        assert refused.field == "issuer_name"
        event("issuer name refused")
        return
    with fresh_registry("sqlite", folder) as registry:
        import_file(registry, lines, now=NOW)
        reconcile(registry, now=NOW, identity=_EveryoneInRegister())
        issue_pending(registry, ring, now=NOW)
        stored = registry.current_certificates()
        waiting, _ = registry.pending()
    verifier = Verifier(TrustList.from_certificates([ministry.certificate]))
    for _, hc1 in stored:
        result = verifier.verify(hc1, now=NOW)
        assert result.valid, (result.code, result.reason)
        assert result.payload is not None and result.payload["v"][0]["is"] == issuer_name
    assert waiting == 0
    event(f"stored {'some' if stored else 'none'}")


def test_long_issuer_name_is_refused_up_front(registry: Registry, tmp_path: Path, pki, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Regression: an --issuer-name over 80 characters is refused before signing (it once stored
    certificates vaxcert's own verifier rejected with SCHEMA_INVALID); 80 characters verify."""
    load(registry, tmp_path, [dose_row(i, 1) for i in range(3)])
    signers = facility_signers(pki, ["VN-HN-001"])
    with pytest.raises(InputError) as info:
        KeyRing(signers, issuer_name="B" * 81)
    assert info.value.field == "issuer_name" and "80" in info.value.message
    keys = key_directory(tmp_path / "keys", signers, monkeypatch)
    spec = registry.spec
    url = spec.url if spec.schema is None else f"{spec.url}{'&' if '?' in spec.url else '?'}schema={spec.schema}"
    refused = run_cli("registry", "issue", "--db", url, "--keys", str(tmp_path / "keys"), "--issuer-name", "B" * 81,
                      "--workers", "1", "--quiet", env={"VAXCERT_KEY_PASSWORD": PASSWORD})  # fmt: skip
    assert refused.returncode == 2 and "issuer_name" in refused.stderr and "Traceback" not in refused.stderr
    assert scalar(registry, "SELECT COUNT(*) FROM certificates") == 0
    result = run(registry, KeyDirectory(keys.path, issuer_name="B" * 80, password=keys.password), now=NOW, workers=1)
    assert result.issued == 3
    verifier = Verifier(TrustList.from_certificates([s.certificate for s in signers.values()]))
    assert all(verifier.verify(hc1, now=NOW).valid for _, hc1 in registry.current_certificates())
