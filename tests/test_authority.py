"""Who may sign what: the facility rule, ministry signers, signing periods and DSC rotation."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from cli_inprocess import run
from conftest import NOW, Pki
from test_issue_verify import VACCINATION
from vaxcert import FailureCode, InputError, Issuer, TrustList, Verifier
from vaxcert.dcc.model import DoseRecord
from vaxcert.errors import ConfigurationError
from vaxcert.pki.authority import check_facility, check_signer_for_record, check_signing_period
from vaxcert.pki.certificates import (
    OID_MINISTRY_SIGNER,
    create_dsc,
    facility_id_of,
    is_ministry_signer,
    signing_period,
)
from vaxcert.pki.keys import KeySigner, generate_private_key

RECORD: dict[str, Any] = {
    "format": "vaxcert.dose-record/1",
    "person": {"name": {"family": "Trần", "given": "Thị Ánh"}, "dob": "1990-02-03",
               "identity": {"type": "cccd", "number": "001190012345"}},
    "doses": [
        {"date": "2021-09-20", "product": "EU/1/20/1528", "dose_number": 2, "series_total": 2,
         "facility": "VN-HN-001"},
        {"date": "2021-07-12", "product": "EU/1/20/1528", "dose_number": 1, "series_total": 2,
         "facility": "VN-SG-002"},
    ],
}


def _record(**facilities: str) -> DoseRecord:
    data = copy.deepcopy(RECORD)
    for index, facility in facilities.items():
        data["doses"][int(index[1:])]["facility"] = facility
    return DoseRecord.from_json(data)


def _dsc(pki: Pki, **kwargs: Any) -> x509.Certificate:
    options: dict[str, Any] = {"facility_id": "VN-HN-001", "facility_name": "Facility",
                               "now": NOW - dt.timedelta(days=1)}
    options.update(kwargs)
    return create_dsc(generate_private_key("ec"), csca=pki.csca, csca_key=pki.csca_key, **options)


def test_facility_may_sign_its_own_last_dose(pki: Pki) -> None:
    """The DSC of the facility that gave the last dose (highest dose number) may sign."""
    check_facility(_record(), pki.dsc)  # last dose: doses[0], VN-HN-001


def test_other_facility_is_refused_with_a_clear_error(pki: Pki) -> None:
    """Another facility's DSC is refused; the error names the field and both facilities, not the person."""
    with pytest.raises(InputError) as info:
        check_facility(_record(), pki.rsa_dsc)  # VN-SG-002 gave only the first dose
    assert info.value.field == "doses[0].facility"
    message = str(info.value)
    assert "VN-HN-001" in message and "VN-SG-002" in message and "ministry" in message
    assert "Trần" not in message and "001190012345" not in message


def test_ministry_signer_may_sign_for_any_facility(pki: Pki) -> None:
    """A ministry DSC (policy OID, no facility id) signs for every facility."""
    ministry = _dsc(pki, facility_id=None, facility_name="MoH Document Signer", ministry=True)
    assert is_ministry_signer(ministry) and facility_id_of(ministry) is None
    check_facility(_record(d0="VN-DN-777"), ministry)
    assert not is_ministry_signer(pki.dsc)


def test_no_facility_is_not_authority(pki: Pki) -> None:
    """A DSC that names no facility and lacks the ministry policy may not sign dose records."""
    key = generate_private_key("ec")
    bare = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                                     x509.NameAttribute(NameOID.COMMON_NAME, "Unnamed")]))
            .issuer_name(pki.csca.subject).public_key(key.public_key()).serial_number(1)
            .not_valid_before(NOW - dt.timedelta(days=1)).not_valid_after(NOW + dt.timedelta(days=30))
            .sign(pki.csca_key, hashes.SHA256()))
    with pytest.raises(InputError, match="names no facility"):
        check_facility(_record(), bare)


def test_policy_with_facility_id_is_not_a_ministry_signer(pki: Pki) -> None:
    """The ministry policy on a DSC that also names a facility does not widen its authority."""
    policy = x509.CertificatePolicies([x509.PolicyInformation(x509.ObjectIdentifier(OID_MINISTRY_SIGNER), None)])
    key = generate_private_key("ec")
    mixed = (x509.CertificateBuilder().subject_name(pki.rsa_dsc.subject).issuer_name(pki.csca.subject)
             .public_key(key.public_key()).serial_number(2)
             .not_valid_before(NOW - dt.timedelta(days=1)).not_valid_after(NOW + dt.timedelta(days=30))
             .add_extension(policy, critical=False).sign(pki.csca_key, hashes.SHA256()))
    assert not is_ministry_signer(mixed)
    with pytest.raises(InputError):
        check_facility(_record(), mixed)


def test_create_dsc_ministry_options_are_consistent(pki: Pki) -> None:
    """A ministry DSC cannot name a facility, and a facility DSC needs one."""
    with pytest.raises(ConfigurationError):
        _dsc(pki, ministry=True)
    with pytest.raises(ConfigurationError):
        _dsc(pki, facility_id=None)


# -- signing period and rotation ---------------------------------------------------------------


def test_signing_period_recorded_and_enforced(pki: Pki) -> None:
    """The DSC records [start, start + signing days]; signing is refused outside it, allowed inside."""
    start = NOW - dt.timedelta(days=1)
    dsc = _dsc(pki, signing_days=90, valid_days=90 + 365)
    assert signing_period(dsc) == (start, start + dt.timedelta(days=90))
    assert dsc.not_valid_after_utc == start + dt.timedelta(days=455)
    check_signing_period(dsc, NOW)
    with pytest.raises(ConfigurationError, match="ended"):
        check_signing_period(dsc, start + dt.timedelta(days=91))
    with pytest.raises(ConfigurationError, match="starts"):
        check_signing_period(dsc, start - dt.timedelta(seconds=1))
    check_signing_period(pki.dsc, NOW + dt.timedelta(days=600))  # no period: only validity applies
    with pytest.raises(ConfigurationError):
        _dsc(pki, signing_days=800, valid_days=730)
    with pytest.raises(ConfigurationError, match="ended"):
        check_signer_for_record(_record(), dsc, start + dt.timedelta(days=91))


def test_rotation_keeps_old_certificates_verifiable(pki: Pki) -> None:
    """After rotation the new DSC signs, the old one may not, and what the old one signed verifies until it expires."""
    start = NOW
    old_key, new_key = generate_private_key("ec"), generate_private_key("ec")
    old = create_dsc(old_key, csca=pki.csca, csca_key=pki.csca_key, facility_id="VN-HN-001", facility_name="F",
                     now=start, signing_days=90, valid_days=90 + 365)
    late_in_period = start + dt.timedelta(days=89)
    old_cert = Issuer(KeySigner(old_key, old), facility_override=True).issue(VACCINATION, now=late_in_period,
                                                                             validity=dt.timedelta(days=365))
    rotation = start + dt.timedelta(days=85)
    new = create_dsc(new_key, csca=pki.csca, csca_key=pki.csca_key, facility_id="VN-HN-001", facility_name="F",
                     now=rotation, signing_days=90, valid_days=90 + 365)
    after = start + dt.timedelta(days=200)
    with pytest.raises(ConfigurationError, match="successor"):
        check_signing_period(old, after)
    check_signing_period(new, rotation + dt.timedelta(days=10))
    new_cert = Issuer(KeySigner(new_key, new), facility_override=True).issue(VACCINATION,
                                                                             now=rotation + dt.timedelta(days=10))
    verifier = Verifier(TrustList.from_certificates([old, new]))
    assert verifier.verify(old_cert.hc1, now=after).valid
    assert verifier.verify(new_cert.hc1, now=after).valid
    last_day = dt.datetime.fromtimestamp(old_cert.expires_at, dt.UTC)
    assert last_day <= old.not_valid_after_utc and verifier.verify(old_cert.hc1, now=last_day).valid
    assert verifier.verify(old_cert.hc1, now=last_day + dt.timedelta(seconds=1)).code == FailureCode.EXPIRED


# -- CLI ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ministry, a facility DSC with a 90-day signing period, and a ministry DSC (from 2026-05-01)."""
    base = tmp_path_factory.mktemp("authority")
    at = "2026-05-01T00:00:00Z"
    assert run("keys", "init-ministry", "--country", "VN", "--out", str(base / "m"), "--at", at).returncode == 0
    r = run("keys", "issue-dsc", "--ministry", str(base / "m"), "--facility-id", "VN-HN-001", "--name", "Bach Mai",
            "--types", "v", "--signing-days", "90", "--max-cert-days", "365", "--out", str(base / "hn"), "--at", at)
    assert r.returncode == 0, r.stderr
    r = run("keys", "issue-dsc", "--ministry", str(base / "m"), "--ministry-signer", "--name", "MoH Signer",
            "--out", str(base / "moh"), "--at", at)
    assert r.returncode == 0, r.stderr
    (base / "record.json").write_text(json.dumps(RECORD, ensure_ascii=False), encoding="utf-8")
    (base / "other.json").write_text(json.dumps(_other_record(), ensure_ascii=False), encoding="utf-8")
    return base


def _other_record() -> dict[str, Any]:
    data = copy.deepcopy(RECORD)
    data["doses"][0]["facility"] = "VN-SG-002"
    return data


def _issue(keys: Path, dsc: str, record: str, at: str) -> Any:
    return run("issue", "--key", str(keys / dsc / "dsc.key.pem"), "--cert", str(keys / dsc / "dsc.pem"),
               "--at", at, str(keys / record))


def test_cli_issue_enforces_facility(keys: Path) -> None:
    """issue: own facility signs, another facility's record exits 2 naming the field, the ministry DSC signs both."""
    at = "2026-06-01T00:00:00Z"
    own = _issue(keys, "hn", "record.json", at)
    assert own.returncode == 0 and own.stdout.startswith("HC1:"), own.stderr
    refused = _issue(keys, "hn", "other.json", at)
    assert refused.returncode == 2 and "doses[0].facility" in refused.stderr and "VN-SG-002" in refused.stderr
    assert "Trần" not in refused.stderr
    for record in ("record.json", "other.json"):
        assert _issue(keys, "moh", record, at).returncode == 0


def test_cli_signing_period_and_rotation(keys: Path) -> None:
    """After its signing period a DSC cannot issue; rotate-dsc makes a successor for the same facility that can."""
    late = "2026-08-15T00:00:00Z"
    refused = _issue(keys, "hn", "record.json", late)
    assert refused.returncode == 2 and "signing period ended" in refused.stderr
    r = run("keys", "rotate-dsc", "--ministry", str(keys / "m"), "--current", str(keys / "hn" / "dsc.pem"),
            "--out", str(keys / "hn2"), "--signing-days", "90", "--at", "2026-07-25T00:00:00Z")
    assert r.returncode == 0, r.stderr
    new = x509.load_pem_x509_certificate((keys / "hn2" / "dsc.pem").read_bytes())
    assert facility_id_of(new) == "VN-HN-001"
    assert signing_period(new) == (dt.datetime(2026, 7, 25, tzinfo=dt.UTC), dt.datetime(2026, 10, 23, tzinfo=dt.UTC))
    hc1 = _issue(keys, "hn2", "record.json", late).stdout.strip()
    old_hc1 = _issue(keys, "hn", "record.json", "2026-06-01T00:00:00Z").stdout.strip()
    trust = ["--trust", str(keys / "hn" / "dsc.pem"), "--trust", str(keys / "hn2" / "dsc.pem")]
    for code in (hc1, old_hc1):
        r = run("verify", *trust, "--at", "2026-09-01T00:00:00Z", code)
        assert r.returncode == 0 and r.stdout.startswith("VALID"), r.stdout
