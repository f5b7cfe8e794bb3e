"""The registry workflows of issue 14, on both backends: job queue, worker, accounts, citizens, export,
identity corrections, the register's correction list, case-folded person check, no needless revocation,
whole-file import problems, and reviews that always check the reviewer."""

from __future__ import annotations

import datetime as dt
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cli_inprocess import run
from registry_support import (
    BACKENDS,
    HEADER,
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
    windows_1258,
    write_csv,
)
from vaxcert.errors import InputError
from vaxcert.registry import (
    KeyRing,
    Overloaded,
    Registry,
    RegistrySpec,
    add_account,
    approve,
    authenticate,
    citizen_certificate,
    citizen_correction,
    export_certificates,
    import_file,
    issue_pending,
    job_errors,
    job_status,
    list_requests,
    load_register,
    load_register_corrections,
    open_registry,
    process_next_job,
    reconcile,
    reject,
    request_correction,
    revoke_account,
    run_worker,
    submit_job,
)

FACILITIES = ("VN-HN-001", "VN-SG-002")
REGISTER_HEADER = ("citizen_id", "family_name", "given_name", "dob")


def _csv_bytes(tmp_path: Path, data: list[dict[str, Any]], name: str = "job.csv") -> bytes:
    return write_csv(tmp_path / name, data).read_bytes()


@pytest.fixture(params=BACKENDS)
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Registry]:
    """A fresh, empty registry of each backend."""
    with fresh_registry(request.param, tmp_path) as reg:
        yield reg


@pytest.fixture
def ring(pki: Any) -> KeyRing:
    """Keys of both facilities."""
    return keyring(facility_signers(pki, FACILITIES))


def _register(registry: Registry, tmp_path: Path, data: list[dict[str, Any]]) -> None:
    write_csv(tmp_path / "register.csv", register_rows(data), header=REGISTER_HEADER)
    load_register(registry, tmp_path / "register.csv", now=NOW)


def test_job_queue_imports_once_with_per_row_errors(registry: Registry, tmp_path: Path) -> None:
    """A queued job is imported whole in one transaction: counts, errors by line and field, no duplicates."""
    good = [dose_row(i, 1) for i in range(5)]
    bad = {**dose_row(9, 1), "date": "2021-13-01"}
    job = submit_job(registry, _csv_bytes(tmp_path, [*good, bad]), "csv", account="hn1", facility="VN-HN-001",
                     now=NOW, origin="test")  # fmt: skip
    assert (job.status, job.records) == ("queued", 6)
    assert job_status(registry, job.job_id).status == "queued"  # type: ignore[union-attr]
    done = process_next_job(registry, worker="w1", now=NOW)
    assert done is not None and (done.status, done.inserted, done.rejected) == ("done", 5, 1)
    assert process_next_job(registry, worker="w1", now=NOW) is None
    row = job_status(registry, job.job_id)
    assert row is not None and (row.status, row.rows_read, row.inserted, row.rejected) == ("done", 6, 5, 1)
    assert [(e.line, e.field) for e in job_errors(registry, job.job_id)] == [(7, "date")]
    # the same file again is accepted and changes nothing: the doses are keyed by their natural key
    again = submit_job(registry, _csv_bytes(tmp_path, [*good, bad]), "csv", account="hn1", facility="VN-HN-001",
                       now=NOW)  # fmt: skip
    process_next_job(registry, worker="w2", now=NOW)
    assert job_status(registry, again.job_id).unchanged == 5  # type: ignore[union-attr]
    assert scalar(registry, "SELECT COUNT(*) FROM doses") == 5
    assert scalar(registry, "SELECT body FROM jobs WHERE job_id = ?", (job.job_id,)) is None
    assert [a.action for a in registry.audit_trail(f"job:{job.job_id}")] == ["job.submit"]


def test_admission_control_bounds_the_queue(registry: Registry, tmp_path: Path) -> None:
    """Past ``queue_limit`` waiting records a submission is refused with a retry time; nothing is queued."""
    data = _csv_bytes(tmp_path, [dose_row(i, 1) for i in range(4)])
    submit_job(registry, data, "csv", account="a", facility=None, now=NOW, queue_limit=6)
    with pytest.raises(Overloaded) as full:
        submit_job(registry, data, "csv", account="a", facility=None, now=NOW, queue_limit=6, drain_rate=1)
    assert (full.value.retry_after, full.value.queued) == (2, 4)
    assert registry.jobs_summary() == {"queued": (1, 4)}
    with pytest.raises(InputError, match="at most 3"):
        submit_job(registry, data, "csv", account="a", facility=None, now=NOW, max_records=3)


def test_workers_in_parallel_issue_every_accepted_record_once(registry: Registry, tmp_path: Path,
                                                              ring: KeyRing) -> None:  # fmt: skip
    """Two worker loops over a shared registry import every job and issue one certificate per person, no more."""
    data = [dose_row(i, d, facility=FACILITIES[d - 1]) for i in range(40) for d in (1, 2)]
    _register(registry, tmp_path, data)
    for n in range(8):  # jobs overlap: doses 1 and 2 of the same people arrive in different jobs
        part = data[n * 10 : (n + 1) * 10]
        submit_job(registry, _csv_bytes(tmp_path, part, f"j{n}.csv"), "csv", account="moh", facility=None, now=NOW)
    stats = []

    def loop() -> None:
        reg = open_registry(registry.spec) if isinstance(registry.spec, RegistrySpec) else registry
        try:
            stats.append(run_worker(reg, ring, clock=lambda: NOW, once=True, poll=0.05, chunk_size=7))
        finally:
            reg.close()

    threads = [threading.Thread(target=loop) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    run_worker(registry, ring, clock=lambda: NOW, once=True)  # whatever a lost race left queued
    assert registry.jobs_summary() == {"done": (8, 80)}
    assert scalar(registry, "SELECT COUNT(*) FROM doses") == 80
    assert rows(registry, "SELECT COUNT(*), COUNT(DISTINCT person_key) FROM certificates WHERE status = 'current'") \
        == [(40, 40)]  # fmt: skip
    assert scalar(registry, "SELECT COUNT(*) FROM persons WHERE record_version <> issued_version") == 0
    assert scalar(registry, "SELECT COUNT(*) FROM certificates WHERE dn = 2") == 40


def test_accounts_tokens_hashed_and_revocable(registry: Registry) -> None:
    """A token authenticates its account until revoked; roles and areas are checked when created."""
    account, token = add_account(registry, name="hn1", role="facility", area="vn-hn-001", created_by="admin",
                                 now=NOW)  # fmt: skip
    assert (account.area, authenticate(registry, token)) == ("VN-HN-001", account)
    assert authenticate(registry, token + "x") is None and authenticate(registry, None) is None
    assert scalar(registry, "SELECT COUNT(*) FROM accounts WHERE token_hash = ?", (token,)) == 0
    with pytest.raises(InputError) as bad:
        add_account(registry, name="p", role="province", area=None, created_by="admin", now=NOW)
    assert bad.value.field == "area"
    with pytest.raises(InputError):
        add_account(registry, name="hn1", role="ministry", area=None, created_by="admin", now=NOW)
    revoke_account(registry, "hn1", revoked_by="admin", now=NOW)
    assert authenticate(registry, token) is None
    assert [a.action for a in registry.audit_trail("account:hn1")] == ["account.add", "account.revoke"]


def _certified(registry: Registry, tmp_path: Path, ring: KeyRing, n: int = 2) -> list[dict[str, Any]]:
    data = [dose_row(i, d, facility=FACILITIES[d - 1]) for i in range(n) for d in (1, 2)]
    write_csv(tmp_path / "d.csv", data)
    import_file(registry, tmp_path / "d.csv", now=NOW)
    _register(registry, tmp_path, data)
    reconcile(registry, now=NOW)
    issue_pending(registry, ring, now=NOW, pipeline=False)
    return data


def test_citizen_answers_are_identical_for_unknown_and_wrong_birth_date(registry: Registry, tmp_path: Path,
                                                                         ring: KeyRing) -> None:  # fmt: skip
    """The right ID and birth date give the HC1; unknown ID, wrong birth date and no certificate all give None."""
    _certified(registry, tmp_path, ring)
    cid = dose_row(0)["citizen_id"]
    hc1 = citizen_certificate(registry, cid, "1990-04-12")
    assert hc1 is not None and hc1.startswith("HC1:")
    assert citizen_certificate(registry, cid, "1990-04-13") is None
    assert citizen_certificate(registry, "001090999999", "1990-04-12") is None
    with pytest.raises(InputError) as malformed:
        citizen_certificate(registry, "12345", "1990-04-12")
    assert malformed.value.field == "id"
    assert citizen_correction(registry, cid, "1990-04-13", kind="remove_dose", proposed={}, dose_number=1,
                              now=NOW) is None  # fmt: skip
    rid = citizen_correction(registry, cid, "1990-04-12", kind="remove_dose", proposed={}, dose_number=1, now=NOW)
    assert rid is not None and list_requests(registry)[0].facility_id == "VN-HN-001"


def test_export_hc1_png_pdf(registry: Registry, tmp_path: Path, ring: KeyRing) -> None:
    """Export writes the current certificate of a person, or a facility's (since a time), in each format."""
    _certified(registry, tmp_path, ring, n=3)
    cid = dose_row(1)["citizen_id"]
    one = export_certificates(registry, tmp_path / "one", person_key=f"cccd:{cid}", fmt="hc1")
    assert [p.name for p in one.files] == [f"cccd-{cid}.hc1.txt"]
    assert one.files[0].read_text().strip() == citizen_certificate(registry, cid, "1990-04-12")
    png = export_certificates(registry, tmp_path / "png", facility="vn-sg-002", fmt="png")
    assert png.written == 3 and all(p.read_bytes().startswith(b"\x89PNG") for p in png.files)
    pdf = export_certificates(registry, tmp_path / "pdf", person_key=f"cccd:{cid}", fmt="pdf", now=NOW)
    assert pdf.files[0].read_bytes().startswith(b"%PDF")
    issued = int(scalar(registry, "SELECT MAX(issued_at) FROM certificates"))
    later = dt.datetime.fromtimestamp(issued + 1, dt.UTC)
    assert export_certificates(registry, tmp_path / "none", facility="VN-SG-002", since=later).written == 0
    assert export_certificates(registry, tmp_path / "none", facility="VN-HN-001").written == 0  # signed by SG
    with pytest.raises(InputError):
        export_certificates(registry, tmp_path / "x", fmt="png")


def test_identity_correction_releases_a_held_person(registry: Registry, tmp_path: Path, ring: KeyRing) -> None:
    """A misspelt name held for identity is corrected through a reviewed request and then certified."""
    data = [dose_row(0, d, facility=FACILITIES[d - 1]) for d in (1, 2)]
    _register(registry, tmp_path, data)
    write_csv(tmp_path / "d.csv", [{**r, "given_name": "Văn Dúc"} for r in data])  # misspelt at the facility
    import_file(registry, tmp_path / "d.csv", now=NOW)
    reconcile(registry, now=NOW)
    key = f"cccd:{dose_row(0)['citizen_id']}"
    assert scalar(registry, "SELECT state FROM persons WHERE person_key = ?", (key,)) == "held_identity"
    rid = request_correction(registry, person_key=key, kind="identity", proposed={"given_name": "Văn Đức"},
                             requested_by="citizen", now=NOW)  # fmt: skip
    assert list_requests(registry)[0].facility_id == "VN-SG-002"  # the facility of the last dose
    with pytest.raises(InputError) as bad:
        request_correction(registry, person_key=key, kind="identity", proposed={"dob": "1990-13-01"},
                           requested_by="citizen", now=NOW)  # fmt: skip
    assert bad.value.field == "dob"
    result = approve(registry, rid, reviewer="dr. Hoa", reason="ID card seen", now=NOW, facility="VN-SG-002",
                     keyring=ring)  # fmt: skip
    assert (result.revoked, result.reissued) == (0, True)
    assert rows(registry, "SELECT state, gn FROM persons WHERE person_key = ?", (key,)) == [("ready", "Văn Đức")]
    change = next(a for a in registry.audit_trail(f"person:{key}") if a.action == "person.identity")
    assert '"Văn Dúc"' in (change.detail or "") and '"Văn Đức"' in (change.detail or "")


def test_register_correction_list_rechecks_those_people(registry: Registry, tmp_path: Path) -> None:
    """The register's correction list releases those whose record now matches and holds those who no longer do."""
    data = [dose_row(i, 1) for i in range(3)]
    write_csv(tmp_path / "d.csv", data)
    import_file(registry, tmp_path / "d.csv", now=NOW)
    wrong = register_rows(data)
    wrong[0] = {**wrong[0], "family_name": "Nguyen"}  # the register lost the diacritics
    write_csv(tmp_path / "r.csv", wrong, header=REGISTER_HEADER)
    load_register(registry, tmp_path / "r.csv", now=NOW)
    reconcile(registry, now=NOW)
    assert scalar(registry, "SELECT COUNT(*) FROM persons WHERE state = 'held_identity'") == 1
    fixes = [register_rows(data)[0], {**register_rows(data)[1], "dob": "1991-01-01"},
             {"citizen_id": "001090555555", "family_name": "Lê", "given_name": "", "dob": "1980"},
             {"citizen_id": "12", "family_name": "Lê", "given_name": "", "dob": "1980"}]  # fmt: skip
    write_csv(tmp_path / "fix.csv", fixes, header=REGISTER_HEADER)
    result = load_register_corrections(registry, tmp_path / "fix.csv", now=NOW, by="MPS list 2021-09")
    assert (result.rows, result.changed, result.released, result.newly_held, result.not_in_registry) == \
        (4, 3, 1, 1, 1)  # fmt: skip
    assert result.rejected == 1 and [(e.line, e.field) for e in result.errors] == [(5, "citizen_id")]
    assert scalar(registry, "SELECT COUNT(*) FROM persons WHERE state = 'ready'") == 2
    assert registry.audit_trail("population_register")[0].actor == "MPS list 2021-09"


def test_person_check_is_case_and_normalisation_insensitive(registry: Registry, tmp_path: Path) -> None:
    """An all-capitals (or NFD, or double-spaced) re-export of the same person is accepted; other names are not."""
    write_csv(tmp_path / "a.csv", [dose_row(0, 1)])
    import_file(registry, tmp_path / "a.csv", now=NOW)
    caps = {**dose_row(0, 2), "family_name": "NGUYỄN", "given_name": unicodedata.normalize("NFD", "VĂN  ĐỨC")}
    write_csv(tmp_path / "b.csv", [caps])
    assert import_file(registry, tmp_path / "b.csv", now=NOW).inserted == 1
    write_csv(tmp_path / "c.csv", [{**dose_row(0, 2, date="2021-09-01"), "family_name": "Nguyen"}])
    other = import_file(registry, tmp_path / "c.csv", now=NOW)
    assert other.rejected == 1 and other.errors[0].field == "family_name"  # diacritics count


def test_no_revocation_when_the_signed_content_is_unchanged(registry: Registry, tmp_path: Path,
                                                            ring: KeyRing) -> None:  # fmt: skip
    """Adding a missing earlier dose keeps the certificate current and records the new record version."""
    data = [dose_row(0, 2, facility="VN-SG-002")]
    write_csv(tmp_path / "d.csv", data)
    import_file(registry, tmp_path / "d.csv", now=NOW)
    _register(registry, tmp_path, data)
    reconcile(registry, now=NOW)
    issue_pending(registry, ring, now=NOW, pipeline=False)
    key = f"cccd:{dose_row(0)['citizen_id']}"
    first = {k: v for k, v in dose_row(0, 1).items() if k in ("facility", "dose_number", "series_total", "date",
                                                               "product")}  # fmt: skip
    rid = request_correction(registry, person_key=key, kind="missing_dose", proposed=first, requested_by="citizen",
                             now=NOW)  # fmt: skip
    result = approve(registry, rid, reviewer="nurse Lan", reason="in the paper log", now=NOW, facility="VN-HN-001",
                     keyring=ring)  # fmt: skip
    assert (result.revoked, result.reissued) == (0, False)
    assert rows(registry, "SELECT status, record_version FROM certificates WHERE person_key = ?", (key,)) == \
        [("current", 1)]  # fmt: skip
    assert rows(registry, "SELECT doses, record_version, issued_version FROM persons WHERE person_key = ?",
                (key,)) == [(2, 2, 2)]  # fmt: skip
    assert scalar(registry, "SELECT COUNT(*) FROM revocations") == 0
    kept = [a for a in registry.audit_trail() if a.action == "certificate.keep"]
    assert len(kept) == 1 and '"record_version": 2' in (kept[0].detail or "")
    assert issue_pending(registry, ring, now=NOW, pipeline=False).issued == 0


def test_reviews_always_check_the_reviewer(registry: Registry, tmp_path: Path, ring: KeyRing) -> None:
    """Approving or rejecting without a facility is refused unless it is explicitly the ministry's."""
    _certified(registry, tmp_path, ring, n=1)
    rid = request_correction(registry, person_key=f"cccd:{dose_row(0)['citizen_id']}", kind="remove_dose",
                             dose_number=1, proposed={}, requested_by="citizen", now=NOW)  # fmt: skip
    for review in (approve, reject):
        with pytest.raises(InputError) as missing:
            review(registry, rid, reviewer="x", reason="y", now=NOW)  # type: ignore[operator]
        assert missing.value.field == "facility"
    with pytest.raises(InputError):
        approve(registry, rid, reviewer="x", reason="y", now=NOW, facility="VN-SG-002")
    reject(registry, rid, reviewer="moh", reason="paper log shows it", now=NOW, ministry=True)
    assert list_requests(registry)[0].status == "rejected"


# --------------------------------------------------------------------------- whole-file problems (SQLite, CLI)


@dataclass(frozen=True)
class _Done:
    exit_code: int
    stdout: str
    output: str


def _call(*args: str) -> _Done:
    """``vaxcert registry ARGS`` as the console script runs it (errors mapped to exit codes)."""
    done = run("registry", *args, env={"VAXCERT_KEY_PASSWORD": PASSWORD})
    return _Done(done.returncode, done.stdout, done.stdout + done.stderr)


@pytest.fixture
def db(tmp_path: Path) -> str:
    """An initialised SQLite registry URL."""
    url = f"sqlite:///{tmp_path}/cli.db"
    assert _call("init", "--db", url).exit_code == 0
    return url


def test_non_utf8_file_is_one_error_naming_the_encoding(db: str, tmp_path: Path) -> None:
    """An Excel ANSI (Windows-1258) export is refused once, naming the encoding; --encoding cp1258 reads it."""
    text = write_csv(tmp_path / "u.csv", [dose_row(i, 1) for i in range(3)]).read_text(encoding="utf-8")
    (tmp_path / "ansi.csv").write_bytes(windows_1258(text))
    refused = _call("import", "--db", db, "--quiet", str(tmp_path / "ansi.csv"))
    assert refused.exit_code == 2
    assert refused.output.count("Windows-1258") == 1 and "line" not in refused.output and "\ufffd" not in refused.output
    read = _call("import", "--db", db, "--quiet", "--encoding", "cp1258", str(tmp_path / "ansi.csv"))
    assert read.exit_code == 0 and "3 new doses" in read.output
    reg = open_registry(db)
    try:
        assert {fn for (fn,) in rows(reg, "SELECT fn FROM persons")} == {"Nguyễn"}  # NFC again
    finally:
        reg.close()


def test_wrong_delimiter_or_header_is_one_error_naming_the_columns(db: str, tmp_path: Path) -> None:
    """A semicolon file or a foreign header gives one error naming the expected columns; nothing is stored."""
    text = write_csv(tmp_path / "u.csv", [dose_row(i, 1) for i in range(3)]).read_text(encoding="utf-8")
    (tmp_path / "semi.csv").write_text(text.replace(",", ";"), encoding="utf-8")
    semi = _call("import", "--db", db, "--quiet", str(tmp_path / "semi.csv"))
    assert semi.exit_code == 2 and "semicolons" in semi.output and "family_name" in semi.output
    (tmp_path / "other.csv").write_text("id,name,birth\n1,a,b\n", encoding="utf-8")
    other = _call("import", "--db", db, "--quiet", str(tmp_path / "other.csv"))
    assert other.exit_code == 2 and other.output.count("expected columns") == 1 and "unknown column" in other.output
    reg = open_registry(db)
    try:
        assert scalar(reg, "SELECT COUNT(*) FROM doses") == 0
    finally:
        reg.close()


def test_empty_or_header_only_file_exits_non_zero(db: str, tmp_path: Path) -> None:
    """An empty file, a header-only CSV and an empty register fail with a message."""
    (tmp_path / "empty.csv").write_bytes(b"")
    write_csv(tmp_path / "header.csv", [])
    (tmp_path / "empty.jsonl").write_text("\n\n", encoding="utf-8")
    for name, words in (("empty.csv", "empty"), ("header.csv", "no rows"), ("empty.jsonl", "empty")):
        done = _call("import", "--db", db, "--quiet", str(tmp_path / name))
        assert done.exit_code == 2 and words in done.output, (name, done.output)
    write_csv(tmp_path / "reg.csv", [], header=REGISTER_HEADER)
    assert _call("import", "--db", db, "--register", "--quiet", str(tmp_path / "reg.csv")).exit_code == 2


def test_cli_accounts_export_and_worker(db: str, tmp_path: Path, pki: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """accounts add/list/revoke, a worker run with --once, then export of what it issued, from the CLI."""
    added = _call("accounts", "add", "--db", db, "hn1", "--role", "facility", "--area", "VN-HN-001", "--by", "admin")
    assert added.exit_code == 0 and added.stdout.strip().startswith("vxc_")
    listed = _call("accounts", "list", "--db", db)
    assert "hn1" in listed.output and added.stdout.strip() not in listed.output
    assert _call("accounts", "revoke", "--db", db, "hn1", "--by", "admin").exit_code == 0
    assert "revoked" in _call("accounts", "list", "--db", db).output
    key_directory(tmp_path / "keys", facility_signers(pki, ["VN-HN-001"]), monkeypatch)
    data = [dose_row(i, 1) for i in range(3)]
    reg = open_registry(db)
    try:
        _register(reg, tmp_path, data)
        submit_job(reg, write_csv(tmp_path / "j.csv", data, header=HEADER).read_bytes(), "csv", account="hn1",
                   facility="VN-HN-001", now=NOW)  # fmt: skip
    finally:
        reg.close()
    worked = _call("worker", "--db", db, "--keys", str(tmp_path / "keys"), "--once")
    assert worked.exit_code == 0 and "3 certificate(s) issued" in worked.output
    out = tmp_path / "cards"
    exported = _call("export", "--db", db, "--facility", "VN-HN-001", "--format", "hc1", "--out", str(out))
    assert exported.exit_code == 0 and len(list(out.iterdir())) == 3
    assert _call("export", "--db", db, "--out", str(out)).exit_code == 2
    nobody = _call("export", "--db", db, "--person", "001090999999", "--out", str(out))
    assert nobody.exit_code == 1
