"""Correction requests: 48-hour deadline, facility review, reissue and revocation, audit trail."""

from __future__ import annotations

import datetime as dt
import json
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
from vaxcert.codes import FailureCode
from vaxcert.errors import InputError
from vaxcert.registry import KeyRing, Registry, issue_pending
from vaxcert.registry.corrections import (
    approve,
    audit_trail,
    list_requests,
    reject,
    request_correction,
    revocation_list,
)
from vaxcert.registry.identity import load_register
from vaxcert.registry.importer import import_file
from vaxcert.registry.reconciliation import reconcile
from vaxcert.verifier import Verifier

FACILITIES = ("VN-HN-001", "VN-SG-002")


@pytest.fixture(params=BACKENDS)
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Registry]:
    """A fresh registry of each backend with three people, two doses each, certificates issued."""
    with fresh_registry(request.param, tmp_path) as reg:
        data = [dose_row(i, d, facility=FACILITIES[d - 1]) for i in range(3) for d in (1, 2)]
        write_csv(tmp_path / "d.csv", data)
        write_csv(tmp_path / "r.csv", register_rows(data), header=("citizen_id", "family_name", "given_name", "dob"))
        import_file(reg, tmp_path / "d.csv", now=NOW)
        load_register(reg, tmp_path / "r.csv", now=NOW)
        reconcile(reg, now=NOW)
        yield reg


@pytest.fixture
def ring(pki) -> KeyRing:  # type: ignore[no-untyped-def]
    """Keys of both facilities."""
    return keyring(facility_signers(pki, FACILITIES))


PERSON = f"cccd:{dose_row(0)['citizen_id']}"


def test_request_has_48_hour_deadline(registry: Registry) -> None:
    """A request is pending, due 48 hours later, and reviewed by the facility that recorded the dose."""
    rid = request_correction(registry, person_key=PERSON, kind="change_dose", dose_number=2,
                             proposed={"date": "2021-08-20"}, requested_by="citizen", now=NOW)  # fmt: skip
    (request,) = list_requests(registry)
    assert (request.request_id, request.status, request.facility_id) == (rid, "pending", "VN-SG-002")
    assert request.deadline - request.requested_at == 48 * 3600
    assert not request.overdue(NOW + dt.timedelta(hours=47))
    assert request.overdue(NOW + dt.timedelta(hours=49))


def test_invalid_requests_name_the_field(registry: Registry) -> None:
    """Bad proposals are refused at request time, naming the field."""
    with pytest.raises(InputError) as bad_date:
        request_correction(registry, person_key=PERSON, kind="change_dose", dose_number=2,
                           proposed={"date": "2030-01-01"}, requested_by="citizen", now=NOW)  # fmt: skip
    assert bad_date.value.field == "date"
    with pytest.raises(InputError) as no_dose:
        request_correction(registry, person_key=PERSON, kind="change_dose", dose_number=7,
                           proposed={"date": "2021-08-20"}, requested_by="citizen", now=NOW)  # fmt: skip
    assert no_dose.value.field == "dose_number"
    with pytest.raises(InputError) as nobody:
        request_correction(registry, person_key=PERSON, kind="remove_dose", dose_number=1, proposed={},
                           requested_by=" ", now=NOW)  # fmt: skip
    assert nobody.value.field == "requested_by"
    with pytest.raises(InputError):
        request_correction(registry, person_key="cccd:000000000000", kind="remove_dose", dose_number=1, proposed={},
                           requested_by="x", now=NOW)  # fmt: skip
    assert list_requests(registry) == []


def test_approval_changes_record_revokes_and_reissues(registry: Registry, ring: KeyRing, pki) -> None:  # type: ignore[no-untyped-def]
    """Approving a wrong date fixes the dose, revokes the old certificate and issues a new one."""
    issue_pending(registry, ring, now=NOW)
    old_hc1 = scalar(registry, "SELECT hc1 FROM certificates WHERE person_key = ?", (PERSON,))
    rid = request_correction(registry, person_key=PERSON, kind="change_dose", dose_number=2,
                             proposed={"date": "2021-08-20"}, requested_by="citizen", now=NOW)  # fmt: skip
    result = approve(registry, rid, reviewer="dr. Hoa", reason="vaccination log checked", now=NOW,
                     facility="VN-SG-002", keyring=ring)  # fmt: skip
    assert (result.revoked, result.reissued) == (1, True)
    assert scalar(registry, "SELECT vaccination_date FROM doses WHERE person_key = ? AND dose_number = 2",
                  (PERSON,)) == "2021-08-20"  # fmt: skip
    certs = rows(registry, "SELECT record_version, status FROM certificates WHERE person_key = ? ORDER BY 1",
                 (PERSON,))  # fmt: skip
    assert certs == [(1, "revoked"), (2, "current")]
    new_hc1 = scalar(registry, "SELECT hc1 FROM certificates WHERE person_key = ? AND status = 'current'", (PERSON,))
    verifier = Verifier(trust_of({f: ring.for_facility(f).issuer.signer for f in FACILITIES}),  # type: ignore[union-attr]
                        revocation=revocation_list(registry))
    assert verifier.verify(old_hc1, now=NOW).code == FailureCode.REVOKED
    fresh = verifier.verify(new_hc1, now=NOW)
    assert fresh.valid and fresh.payload is not None and fresh.payload["v"][0]["dt"] == "2021-08-20"
    assert scalar(registry, "SELECT COUNT(*) FROM revocations WHERE request_id = ?", (rid,)) == 1


def test_audit_trail_keeps_who_when_why(registry: Registry, ring: KeyRing) -> None:
    """Request, dose change, revocation and approval are all in the audit log with actor and reason."""
    issue_pending(registry, ring, now=NOW)
    later = NOW + dt.timedelta(hours=3)
    rid = request_correction(registry, person_key=PERSON, kind="change_dose", dose_number=1,
                             proposed={"product": "EU/1/20/1507"}, requested_by="citizen", now=NOW,
                             note="it was Moderna")  # fmt: skip
    approve(registry, rid, reviewer="nurse Lan", reason="batch record says Spikevax", now=later, facility="VN-HN-001")
    trail = audit_trail(registry)
    actions = [(a[2], a[1]) for a in trail]
    # dose 1 is not the dose the certificate is for: the signed content is unchanged, the certificate is kept
    assert actions == [("correction.request", "citizen"), ("dose.change", "nurse Lan"),
                       ("correction.approve", "nurse Lan"), ("certificate.keep", "nurse Lan")]  # fmt: skip
    change = next(a for a in trail if a[2] == "dose.change")
    assert change[0] == int(later.timestamp()) and change[4] == "batch record says Spikevax"
    detail = json.loads(change[5])
    assert (detail["before"]["product"], detail["after"]["product"]) == ("EU/1/20/1528", "EU/1/20/1507")
    # the new product's manufacturer comes with it (Moderna), not the old one's (BioNTech)
    assert (detail["before"]["manufacturer"], detail["after"]["manufacturer"]) == ("ORG-100030215", "ORG-100031184")
    assert trail[0][4] == "it was Moderna"


def test_reject_needs_reason_and_changes_nothing(registry: Registry, ring: KeyRing) -> None:
    """A rejection records the reason; the dose and certificate stay as they were."""
    issue_pending(registry, ring, now=NOW)
    rid = request_correction(registry, person_key=PERSON, kind="remove_dose", dose_number=1, proposed={},
                             requested_by="citizen", now=NOW)  # fmt: skip
    with pytest.raises(InputError):
        reject(registry, rid, reviewer="nurse Lan", reason="", now=NOW, facility="VN-HN-001")
    reject(registry, rid, reviewer="nurse Lan", reason="dose is in the paper log", now=NOW, facility="VN-HN-001")
    (request,) = list_requests(registry)
    assert (request.status, request.reviewed_by, request.review_reason) == ("rejected", "nurse Lan",
                                                                            "dose is in the paper log")  # fmt: skip
    assert scalar(registry, "SELECT COUNT(*) FROM doses WHERE person_key = ?", (PERSON,)) == 2
    assert rows(registry, "SELECT status FROM certificates WHERE person_key = ?", (PERSON,)) == [("current",)]
    with pytest.raises(InputError, match="already rejected"):
        approve(registry, rid, reviewer="x", reason="y", now=NOW, facility="VN-HN-001")


def test_only_the_reviewing_facility_may_decide(registry: Registry) -> None:
    """A facility other than the one that recorded the dose cannot approve."""
    rid = request_correction(registry, person_key=PERSON, kind="remove_dose", dose_number=1, proposed={},
                             requested_by="citizen", now=NOW)  # fmt: skip
    with pytest.raises(InputError) as err:
        approve(registry, rid, reviewer="x", reason="y", now=NOW, facility="VN-SG-002")
    assert err.value.field == "facility"


def test_missing_dose_added_then_issued_by_batch(registry: Registry, ring: KeyRing) -> None:
    """An approved missing dose (a booster) becomes the new last dose; the next batch issues it."""
    issue_pending(registry, ring, now=NOW)
    booster = {"facility": "VN-HN-001", "dose_number": 3, "series_total": 3, "date": "2022-01-10",
               "product": "EU/1/20/1528"}  # fmt: skip
    rid = request_correction(registry, person_key=PERSON, kind="missing_dose", proposed=booster,
                             requested_by="citizen", now=NOW)  # fmt: skip
    assert list_requests(registry, facility="VN-HN-001")[0].request_id == rid
    assert approve(registry, rid, reviewer="nurse Lan", reason="found in log", now=NOW,
                   facility="VN-HN-001").reissued is False
    assert issue_pending(registry, ring, now=NOW).issued == 1
    assert rows(registry, "SELECT doses, booster, dn FROM persons WHERE person_key = ?", (PERSON,)) == [(3, 1, 3)]


def test_removing_a_dose_reissues_for_the_remaining_one(registry: Registry, ring: KeyRing) -> None:
    """Removing the second dose leaves a partial status and a new certificate for dose 1."""
    issue_pending(registry, ring, now=NOW)
    rid = request_correction(registry, person_key=PERSON, kind="remove_dose", dose_number=2, proposed={},
                             requested_by="citizen", now=NOW)  # fmt: skip
    approve(registry, rid, reviewer="dr. Hoa", reason="entered twice by mistake", now=NOW, keyring=ring,
            facility="VN-SG-002")
    assert rows(registry, "SELECT dn, status FROM certificates WHERE person_key = ? ORDER BY cert_id",
                (PERSON,)) == [(2, "revoked"), (1, "current")]  # fmt: skip


def test_overdue_listing(registry: Registry) -> None:
    """Only pending requests past their deadline are listed as overdue."""
    old = request_correction(registry, person_key=PERSON, kind="remove_dose", dose_number=1, proposed={},
                             requested_by="a", now=NOW - dt.timedelta(hours=50))  # fmt: skip
    request_correction(registry, person_key=PERSON, kind="remove_dose", dose_number=2, proposed={},
                       requested_by="b", now=NOW - dt.timedelta(hours=10))  # fmt: skip
    done = request_correction(registry, person_key=PERSON, kind="change_dose", dose_number=1,
                              proposed={"date": "2021-07-02"}, requested_by="c",
                              now=NOW - dt.timedelta(hours=60))  # fmt: skip
    reject(registry, done, reviewer="x", reason="no", now=NOW, ministry=True)
    assert [r.request_id for r in list_requests(registry, overdue_at=NOW)] == [old]
