"""Reports by facility and province match counts computed independently from the records; the CLI."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from registry_support import (
    BACKENDS,
    NOW,
    citizen_id,
    facility_signers,
    fresh_registry,
    key_directory,
    keyring,
    register_rows,
    write_csv,
)
from vaxcert.cli import cli
from vaxcert.registry import Registry, issue_pending
from vaxcert.registry.corrections import reject, request_correction
from vaxcert.registry.identity import load_register
from vaxcert.registry.importer import import_file
from vaxcert.registry.reconciliation import reconcile
from vaxcert.registry.reports import COUNT_FIELDS, province_of, render, report

FACILITIES = ("VN-HN-001", "VN-HN-002", "VN-HCM-014", "VN-DN-003", "CLINIC7")
SIGNING = ("VN-HN-001", "VN-HCM-014", "VN-DN-003")  # facilities with keys
REGISTER_HEADER = ("citizen_id", "family_name", "given_name", "dob")


@pytest.fixture(params=BACKENDS)
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Registry]:
    """A fresh registry of each backend."""
    with fresh_registry(request.param, tmp_path) as reg:
        yield reg


def generate(seed: int, n: int) -> tuple[list[dict[str, Any]], set[str]]:
    """Random people with 1-3 doses at random facilities; returns rows and the citizen IDs left out of the register."""
    rng = random.Random(seed)
    data: list[dict[str, Any]] = []
    unregistered: set[str] = set()
    for i in range(n):
        cid = citizen_id(i)
        doses = rng.choice([1, 2, 2, 3])
        for dn in range(1, doses + 1):
            data.append({"citizen_id": cid, "family_name": "Đặng", "given_name": "Thu Hà", "dob": "1990-03-03",
                         "facility": rng.choice(FACILITIES), "dose_number": dn, "series_total": 3 if dn == 3 else 2,
                         "date": f"2021-{(7, 9, 12)[dn - 1]:02d}-{1 + i % 28:02d}",
                         "product": "EU/1/20/1528"})  # fmt: skip
        if rng.random() < 0.2:
            unregistered.add(cid)
    return data, unregistered


def expected_counts(data: list[dict[str, Any]], unregistered: set[str], corrections: list[tuple[str, bool]],
                    now: dt.datetime) -> dict[str, Counter[str]]:  # fmt: skip
    """The report computed straight from the generated records, without the registry."""
    counts: dict[str, Counter[str]] = {f: Counter() for f in FACILITIES}
    people: dict[str, list[dict[str, Any]]] = {}
    for row in data:
        counts[row["facility"]]["doses"] += 1
        people.setdefault(row["citizen_id"], []).append(row)
    for cid, doses in people.items():
        last = max(doses, key=lambda d: d["date"])
        c = counts[last["facility"]]
        complete = last["dose_number"] >= last["series_total"]
        c["people_complete" if complete else "people_partial"] += 1
        if complete and any(d["dose_number"] >= d["series_total"] for d in doses if d is not last):
            c["booster"] += 1
        if cid in unregistered:
            c["held_identity"] += 1
        elif last["facility"] in SIGNING:
            c["certificates_issued"] += 1
            c["certificates_current"] += 1
    for facility, overdue in corrections:
        counts[facility]["corrections_pending"] += 1
        counts[facility]["corrections_overdue"] += int(overdue)
    return counts


def build(registry: Registry, tmp_path: Path, pki: Any, seed: int = 7, n: int = 80) -> dict[str, Counter[str]]:
    """Load a generated data set, issue, file corrections; return the independently expected counts."""
    data, unregistered = generate(seed, n)
    write_csv(tmp_path / "d.csv", data)
    write_csv(tmp_path / "r.csv", [r for r in register_rows(data) if r["citizen_id"] not in unregistered],
              header=REGISTER_HEADER)  # fmt: skip
    assert import_file(registry, tmp_path / "d.csv", now=NOW).rejected == 0
    load_register(registry, tmp_path / "r.csv", now=NOW)
    reconcile(registry, now=NOW)
    issue_pending(registry, keyring(facility_signers(pki, SIGNING)), now=NOW)
    corrections: list[tuple[str, bool]] = []
    for i, hours_ago in enumerate((1, 30, 50, 70, 100)):
        first = next(r for r in data if r["citizen_id"] == citizen_id(i) and r["dose_number"] == 1)
        when = NOW - dt.timedelta(hours=hours_ago)
        rid = request_correction(registry, person_key=f"cccd:{citizen_id(i)}", kind="remove_dose", dose_number=1,
                                 proposed={}, requested_by="citizen", now=when)
        if i == 4:
            reject(registry, rid, reviewer="x", reason="dose confirmed", now=NOW, ministry=True)
        else:
            corrections.append((first["facility"], hours_ago > 48))
    return expected_counts(data, unregistered, corrections, NOW)


def test_facility_report_matches_records(registry: Registry, tmp_path: Path, pki) -> None:  # type: ignore[no-untyped-def]
    """Every count of every facility equals the count taken from the generated records."""
    expected = build(registry, tmp_path, pki)
    got = {r.key: r for r in report(registry, now=NOW)}
    for facility in FACILITIES:
        for name in COUNT_FIELDS:
            if name == "held_conflict":
                continue
            assert getattr(got[facility], name) == expected[facility][name], (facility, name)
    total = got["TOTAL"]
    assert total.doses == sum(e["doses"] for e in expected.values())
    assert total.people_complete + total.people_partial == 80


def test_province_report_sums_facilities(registry: Registry, tmp_path: Path, pki) -> None:  # type: ignore[no-untyped-def]
    """Province rows are the sums of their facilities' rows; the totals agree."""
    build(registry, tmp_path, pki)
    facilities = report(registry, now=NOW)
    provinces = {r.key: r for r in report(registry, now=NOW, by="province")}
    assert set(provinces) == {"HN", "HCM", "DN", "UNKNOWN", "TOTAL"}
    for province in ("HN", "HCM", "DN", "UNKNOWN"):
        for name in COUNT_FIELDS:
            assert getattr(provinces[province], name) == sum(getattr(r, name) for r in facilities[:-1]
                                                             if r.province == province)  # fmt: skip
    assert provinces["TOTAL"] == facilities[-1].__class__("TOTAL", "", **{n: getattr(facilities[-1], n)
                                                                           for n in COUNT_FIELDS})  # fmt: skip


@pytest.mark.parametrize(("facility", "province"), [("VN-HN-001", "HN"), ("VN-HCM-014", "HCM"), ("VN-DN-3-X", "DN"),
                                                    ("CLINIC7", "UNKNOWN"), ("HN-001", "UNKNOWN"), (None, "UNKNOWN")])
def test_province_of(facility: str | None, province: str) -> None:
    """The province is the second block of a country-province-number facility id."""
    assert province_of(facility) == province


def test_renderings_agree(registry: Registry, tmp_path: Path, pki) -> None:  # type: ignore[no-untyped-def]
    """CSV, JSON and the table carry the same numbers."""
    build(registry, tmp_path, pki, n=30)
    rows = report(registry, now=NOW)
    parsed = list(csv.DictReader(io.StringIO(render(rows, "csv"))))
    document = json.loads(render(rows, "json", generated_at=NOW))
    assert document["generated_at"] == "2026-06-01T08:00:00Z"
    for row, line, item in zip(rows, parsed, document["rows"], strict=True):
        assert line["facility"] == item["key"] == row.key
        for name in COUNT_FIELDS:
            assert int(line[name]) == item[name] == getattr(row, name)
    table = render(rows, "table").splitlines()
    assert table[0].split()[:3] == ["facility", "province", "doses"]
    assert table[-1].split()[1:] == [str(getattr(rows[-1], n)) for n in COUNT_FIELDS]


def test_csv_by_province_names_each_column_once(registry: Registry, tmp_path: Path, pki) -> None:  # type: ignore[no-untyped-def]
    """``--by province --format csv`` has one province column; by facility, facility then province."""
    build(registry, tmp_path, pki, n=12)
    for by, first in (("province", ["province"]), ("facility", ["facility", "province"])):
        rows = report(registry, now=NOW, by=by)  # type: ignore[arg-type]
        lines = list(csv.reader(io.StringIO(render(rows, "csv", by=by))))
        assert lines[0] == [*first, *COUNT_FIELDS]
        assert len(set(lines[0])) == len(lines[0])
        assert all(len(line) == len(lines[0]) for line in lines)
        assert [line[0] for line in lines[1:]] == [r.key for r in rows]
        assert lines[-1][0] == "TOTAL"


def test_cli_workflow(tmp_path: Path, pki, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """init, import (doses and register), issue, status, correct and report through the command line."""
    db = f"sqlite:///{tmp_path}/cli.db"
    runner = CliRunner()
    data = [{"citizen_id": citizen_id(i), "family_name": "Võ", "given_name": "Minh Tâm", "dob": "1990-01-02",
             "facility": "VN-HN-001", "dose_number": d, "series_total": 2, "date": f"2021-0{6 + d}-1{i}",
             "product": "EU/1/20/1528"} for i in range(3) for d in (1, 2)]  # fmt: skip
    write_csv(tmp_path / "d.csv", [*data, {**data[0], "citizen_id": "1"}])
    write_csv(tmp_path / "r.csv", register_rows(data), header=REGISTER_HEADER)
    key_directory(tmp_path / "keys", facility_signers(pki, ["VN-HN-001"]), monkeypatch)
    at = ["--at", "2026-06-01T08:00:00Z"]

    def call(*args: str) -> Any:
        return runner.invoke(cli, ["registry", *args], catch_exceptions=False)

    assert call("init", "--db", db).exit_code == 0
    imported = call("import", "--db", db, "--quiet", *at, str(tmp_path / "d.csv"))
    assert imported.exit_code == 1 and "line 8: citizen_id" in imported.output
    assert call("import", "--db", db, "--register", "--quiet", *at, str(tmp_path / "r.csv")).exit_code == 0
    issued = call("issue", "--db", db, "--keys", str(tmp_path / "keys"), "--workers", "1", "--quiet", *at)
    assert issued.exit_code == 0 and "issued 3 certificates" in issued.output
    status = call("status", "--db", db, "--person", citizen_id(0), "--format", "json", *at)
    shown = json.loads(status.output)
    assert (shown["status"], shown["initials"], len(shown["certificates"])) == ("complete", "V.M.T.", 1)
    assert "Võ" not in status.output and citizen_id(0) not in status.output
    requested = call("correct", "request", "--db", db, "--person", citizen_id(0), "--kind", "change_dose",
                     "--dose-number", "2", "--set", "date=2021-08-20", "--by", "citizen",
                     "--at", "2026-05-29T08:00:00Z")
    assert requested.exit_code == 0, requested.output
    overdue = call("correct", "list", "--db", db, "--overdue", *at)
    assert "OVERDUE" in overdue.output and citizen_id(0) not in overdue.output
    refused = call("correct", "approve", "--db", db, "1", "--by", "dr. Hoa", "--reason", "log checked")
    assert refused.exit_code == 2 and "--facility" in refused.output  # the reviewing facility is always checked
    approved = call("correct", "approve", "--db", db, "1", "--by", "dr. Hoa", "--reason", "log checked",
                    "--facility", "VN-HN-001", "--keys", str(tmp_path / "keys"), *at)  # fmt: skip
    assert "1 certificate(s) revoked, new certificate issued" in approved.output
    from vaxcert.pki.certificates import certificate_pem
    from vaxcert.pki.keys import save_private_key
    from vaxcert.trust.revocation import RevocationList

    save_private_key(pki.csca_key, tmp_path / "csca.key.pem", b"registry-test-password")
    (tmp_path / "csca.pem").write_bytes(certificate_pem(pki.csca))
    exported = call("correct", "revocations", "--db", db, "--signer-key", str(tmp_path / "csca.key.pem"),
                    "--signer-cert", str(tmp_path / "csca.pem"), "--out", str(tmp_path / "revoked.vrl"), *at)
    assert exported.exit_code == 0, exported.output
    revoked = RevocationList.load((tmp_path / "revoked.vrl").read_bytes(), [pki.csca], now=NOW)
    assert len(revoked) == 2  # one certificate, by UVCI hash and by signature hash
    table = call("report", "--db", db, "--by", "province", *at)
    assert table.exit_code == 0
    hn = next(line for line in table.output.splitlines() if line.startswith("HN"))
    assert hn.split()[1:6] == ["6", "3", "0", "0", "4"]
    as_json = json.loads(call("report", "--db", db, "--format", "json", *at).output)
    assert as_json["rows"][-1]["certificates_current"] == 3
