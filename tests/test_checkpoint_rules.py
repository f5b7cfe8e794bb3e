"""Business rules and SHC issuers in the signed offline bundle, evaluated at the checkpoint for a country/region."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from cli_inprocess import run
from conftest import NOW, Pki
from shc_support import EXAMPLE_ISS, bundle_of, card, example_jwks, example_trust, immunization, qr_text
from vaxcert import (
    DocumentError,
    FailureCode,
    Issuer,
    Pass,
    Reason,
    RuleBook,
    RuleFormatError,
    ShcTrust,
    bundle_rules,
    bundle_shc_trust,
    load_verifier,
    scan,
)
from vaxcert.pki.keys import KeySigner
from vaxcert.rules.passrules import PassRules
from vaxcert.trust.bundle import FORMAT, build_bundle, open_bundle
from vaxcert.trust.lists import publish
from vaxcert.trust.signeddoc import sign_document

VN = dt.timezone(dt.timedelta(hours=7))
AT = NOW + dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
NAME = {"fn": "Nguyễn", "gn": "Văn An", "fnt": "NGUYEN", "gnt": "VAN<AN"}
ONLY_VN = {
    "Identifier": "VR-VN-0100", "Type": "Acceptance", "Country": "VN", "Version": "1.0.0",
    "SchemaVersion": "1.0.0", "Engine": "CERTLOGIC", "EngineVersion": "0.7.5", "CertificateType": "Vaccination",
    "Description": [{"lang": "en", "desc": "Only doses given in Viet Nam or the United States are accepted."}],
    "ValidFrom": "2021-01-01T00:00:00Z", "ValidTo": "2030-01-01T00:00:00Z", "AffectedFields": ["v.0.co"],
    "Logic": {"if": [{"var": "payload.v.0"}, {"in": [{"var": "payload.v.0.co"}, ["VN", "US"]]}, True]},
}  # fmt: skip


def day(offset: int) -> str:
    """The Viet Nam calendar date ``offset`` days from NOW."""
    return (NOW.astimezone(VN).date() + dt.timedelta(days=offset)).isoformat()


def vacc(dn: int, sd: int, offset: int, co: str = "VN", mp: str = "EU/1/20/1528") -> dict[str, Any]:
    """A vaccination payload with the dose ``offset`` days from NOW."""
    return {"ver": "1.3.0", "nam": NAME, "dob": "1990-05-17",
            "v": [{"tg": "840539006", "vp": "1119349007", "mp": mp, "ma": "ORG-100030215", "dn": dn, "sd": sd,
                   "dt": day(offset), "co": co, "is": "Bộ Y tế", "ci": "URN:UVCI:01:VN:ABC123#T"}]}


def recovery(fr: int, df: int, du: int) -> dict[str, Any]:
    """A recovery payload with dates as day offsets from NOW."""
    return {"ver": "1.3.0", "nam": NAME, "dob": "1990-05-17",
            "r": [{"tg": "840539006", "fr": day(fr), "df": day(df), "du": day(du), "co": "VN", "is": "Bộ Y tế",
                   "ci": "URN:UVCI:01:VN:DEF456#4"}]}


def hc1(pki: Pki, payload: dict[str, Any]) -> str:
    return Issuer(pki.signer, facility_override=True).issue(payload, now=NOW).hc1


def _ministry(pki: Pki) -> KeySigner:
    return KeySigner(pki.csca_key, pki.csca)


def _bundle_file(pki: Pki, tmp_path: Path, *, rules: RuleBook | None = None, shc: ShcTrust | None = None) -> Path:
    trust_list = publish([pki.dsc, pki.rsa_dsc], _ministry(pki), cscas=[pki.csca], now=NOW, valid_for=DAY * 7)
    data = build_bundle(_ministry(pki), trust_list=trust_list, now=NOW, fresh_for=DAY, cscas=[pki.csca],
                        rules=rules.to_bytes() if rules is not None else None,
                        shc_issuers=shc.to_json() if shc is not None else None)
    path = tmp_path / "bundle.cose"
    path.write_bytes(data)
    return path


# -- the bundle ----------------------------------------------------------------------------------


def test_bundle_carries_rules_and_shc_issuers(pki: Pki, tmp_path: Path) -> None:
    """Rules and SHC issuers go into the signed bundle and come back out; load_verifier uses both."""
    book = RuleBook(RuleBook.from_documents([(ONLY_VN, "x")]).rules, RuleBook.bundled().passes)
    path = _bundle_file(pki, tmp_path, rules=book, shc=example_trust())
    bundle = open_bundle(path.read_bytes(), [pki.csca], now=NOW)
    assert bundle_rules(bundle).to_json() == book.to_json()
    assert bundle_shc_trust(bundle) == example_trust()
    loaded = load_verifier(bundle=path, cscas=[pki.csca], now=NOW)
    assert loaded.verifier.verify(qr_text(card()), now=NOW).valid
    assert loaded.verifier.verify(hc1(pki, vacc(2, 2, -30)), now=AT).valid
    rules = loaded.country_rules("VN", "HCM")
    assert rules is not None and rules.passes is not None and len(rules.rules) == 1 and rules.region == "HCM"
    stale = NOW + DAY + dt.timedelta(seconds=1)  # past the bundle's freshness limit: both formats are stale
    assert loaded.verifier.verify(qr_text(card()), now=stale).code == FailureCode.TRUST_LIST_STALE
    assert loaded.verifier.verify_all(qr_text(card()), now=stale)[0].code == FailureCode.TRUST_LIST_STALE
    assert loaded.verifier.verify(hc1(pki, vacc(2, 2, -30)), now=stale).code == FailureCode.TRUST_LIST_STALE


def test_old_bundles_still_read(pki: Pki, tmp_path: Path) -> None:
    """A bundle written before rules and SHC issuers (``"rules": null``, no shc_issuers) opens as before."""
    trust_list = publish([pki.dsc], _ministry(pki), cscas=[pki.csca], now=NOW, valid_for=DAY * 7)
    body = {"trust_list": trust_list, "revocation": [], "valuesets": None, "rules": None}
    path = tmp_path / "old.cose"
    path.write_bytes(sign_document(FORMAT, body, _ministry(pki), issued_at=NOW, expires_at=NOW + DAY, sequence=1))
    bundle = open_bundle(path.read_bytes(), [pki.csca], now=NOW)
    assert bundle.rules is None and bundle.shc_issuers is None
    assert not bundle_rules(bundle) and bundle_shc_trust(bundle) is None
    loaded = load_verifier(bundle=path, cscas=[pki.csca], now=NOW)
    assert loaded.country_rules("VN") is None
    assert loaded.verifier.verify(hc1(pki, vacc(2, 2, -30)), now=AT).valid
    card_result = loaded.verifier.verify(qr_text(card()), now=NOW)
    assert card_result.code == FailureCode.ISSUER_UNKNOWN


def test_malformed_bundle_parts_are_refused(pki: Pki, tmp_path: Path) -> None:
    """Rules or SHC issuers that do not parse make the bundle unusable (DocumentError), never a crash."""
    trust_list = publish([pki.dsc], _ministry(pki), cscas=[pki.csca], now=NOW, valid_for=DAY * 7)
    for part in ({"rules": b"not json"}, {"shc_issuers": b"{\"issuerInfo\": 3}"}, {"rules": "text"}):
        body = {"trust_list": trust_list, "revocation": [], "valuesets": None, "rules": None, **part}
        data = sign_document(FORMAT, body, _ministry(pki), issued_at=NOW, expires_at=NOW + DAY, sequence=1)
        path = tmp_path / "bad.cose"
        path.write_bytes(data)
        with pytest.raises(DocumentError) as info:
            load_verifier(bundle=path, cscas=[pki.csca], now=NOW)
        assert info.value.code == FailureCode.TRUST_LIST_INVALID


# -- the rule book --------------------------------------------------------------------------------


def test_rule_book_reads_gateway_rules_and_pass_rule_sets(tmp_path: Path) -> None:
    """A folder with a gateway rule and a pass rule set loads both; the document round-trips exactly."""
    (tmp_path / "only-vn.json").write_text(json.dumps(ONLY_VN), encoding="utf-8")
    (tmp_path / "pass.json").write_text(json.dumps(PassRules.bundled().to_json()), encoding="utf-8")
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "ignored.json").write_text("{}", encoding="utf-8")
    book = RuleBook.load(tmp_path)
    assert [r.identifier for r in book.rules] == ["VR-VN-0100"] and [p.name for p in book.passes] == ["vn-2021"]
    assert RuleBook.from_json(book.to_bytes()).to_json() == book.to_json()
    assert book.countries() == ("VN",) and book.problems() == []
    broken = RuleBook.from_documents([({**ONLY_VN, "Logic": {"and": [True]}}, "broken")])
    assert broken.problems() and "VR-VN-0100" in broken.problems()[0]
    with pytest.raises(RuleFormatError):
        RuleBook.from_json(b"{\"format\": \"other\"}")


@pytest.mark.parametrize("read", [RuleBook.from_json, PassRules.from_json], ids=["rule book", "pass rules"])
def test_rule_documents_refuse_bad_text_and_other_formats(read: Any) -> None:
    """Rule books and pass rule sets: text that is not JSON, nests too deeply or has another format is refused."""
    for text, why in (("{", "not valid JSON"), ("[" * 100_000, "nested too deeply"),
                      ('{"format": "other"}', "not a vaxcert-"), ("[]", "not a vaxcert-")):  # fmt: skip
        with pytest.raises(RuleFormatError, match=why):
            read(text, origin="doc")


# -- at the checkpoint ------------------------------------------------------------------------------


def _rules(region: str | None = None, *extra: dict[str, Any]) -> Any:
    return RuleBook(RuleBook.from_documents([(rule, "test") for rule in extra]).rules,
                    RuleBook.bundled().passes).for_country("VN", region)


def test_failed_rules_are_listed_in_the_chosen_language(pki: Pki) -> None:
    """A partial series is YELLOW; the GREEN rules it failed are listed with identifier and vi/en description."""
    (verdict,) = scan(hc1(pki, vacc(1, 2, -30)), pki_verifier(pki), now=AT, rules=_rules())
    assert (verdict.colour, verdict.assessment.reason) == (Pass.YELLOW, Reason.PARTIALLY_VACCINATED)
    assert verdict.rules is not None and verdict.rules.passes is not None
    failed = {r.identifier for r in verdict.rules.failed}
    assert "VR-VN-0003" in failed
    vi, en = verdict.to_dict("vi")["rules"], verdict.to_dict("en")["rules"]
    descriptions = {item["rule"]: (item["description"]) for item in vi["failed"]}
    english = {item["rule"]: item["description"] for item in en["failed"]}
    assert descriptions["VR-VN-0003"] != english["VR-VN-0003"]
    assert (vi["country"], vi["region"], vi["pass"]) == ("VN", None, "YELLOW")
    assert verdict.assessment.valid_until is not None  # the policy agreed: its window is kept


def test_a_gateway_rule_refuses_with_its_identifier(pki: Pki) -> None:
    """An Acceptance rule of VN that fails makes the verdict RED RULE_FAILED, listed with its English text."""
    (verdict,) = scan(hc1(pki, vacc(2, 2, -30, co="DE")), pki_verifier(pki), now=AT, rules=_rules(None, ONLY_VN))
    assert (verdict.colour, verdict.assessment.reason) == (Pass.RED, Reason.RULE_FAILED)
    (failed,) = verdict.rules.failed  # type: ignore[union-attr]
    assert failed.identifier == "VR-VN-0100"
    assert verdict.to_dict("vi")["rules"]["failed"][0]["description"].startswith("Only doses given")
    (fine,) = scan(hc1(pki, vacc(2, 2, -30)), pki_verifier(pki), now=AT, rules=_rules(None, ONLY_VN))
    assert fine.colour is Pass.GREEN and fine.rules is not None and fine.rules.failed == ()


def test_hcm_one_dose_plus_recovery_presented_together(pki: Pki) -> None:
    """In region HCM a dose plus a valid recovery, scanned together, is GREEN; nationally the dose is YELLOW."""
    together = [hc1(pki, vacc(1, 2, -20)), hc1(pki, recovery(-60, -49, 120))]
    dose, recovered = scan(together, pki_verifier(pki), now=AT, rules=_rules("HCM"))
    assert (dose.colour, dose.assessment.reason) == (Pass.GREEN, Reason.RECOVERED)
    assert dose.assessment.valid_until is None and "as the rules in force say" in dose.assessment.message("en")
    assert recovered.colour is Pass.GREEN
    national, _ = scan(together, pki_verifier(pki), now=AT, rules=_rules())
    assert (national.colour, national.assessment.reason) == (Pass.YELLOW, Reason.PARTIALLY_VACCINATED)
    (alone,) = scan(together[0], pki_verifier(pki), now=AT, rules=_rules("HCM"))
    assert alone.colour is Pass.YELLOW


def test_health_cards_meet_the_same_rules(pki: Pki) -> None:
    """A Health Card with two Pfizer doses is GREEN under the VN rules; with one dose YELLOW."""
    two = qr_text(card(bundle_of(immunization(code="208", date=day(-60)), immunization(code="208", date=day(-30)))))
    one = qr_text(card(bundle_of(immunization(code="208", date=day(-30)))))
    (green,) = scan(two, pki_verifier(pki), now=NOW, rules=_rules(None, ONLY_VN))
    assert (green.result.format, green.colour) == ("shc", Pass.GREEN) and green.rules.failed == ()  # type: ignore[union-attr]
    (yellow,) = scan(one, pki_verifier(pki), now=NOW, rules=_rules())
    assert yellow.colour is Pass.YELLOW and "VR-VN-0003" in {r.identifier for r in yellow.rules.failed}  # type: ignore[union-attr]


def test_invalid_certificates_are_not_judged_by_rules(pki: Pki) -> None:
    """A certificate that does not verify gets no rules verdict (RED from verification)."""
    (verdict,) = scan("HC1:NOPE", pki_verifier(pki), now=AT, rules=_rules())
    assert verdict.colour is Pass.RED and verdict.rules is None


def pki_verifier(pki: Pki) -> Any:
    from vaxcert import Verifier

    trust = ShcTrust.from_documents([{"iss": EXAMPLE_ISS, "country": "US", **example_jwks()}])
    return Verifier(pki.trust, shc_trust=trust)


# -- the CLI ----------------------------------------------------------------------------------------


def test_cli_bundle_with_rules_and_checkpoint(tmp_path: Path) -> None:
    """bundle build --rules --vn-pass --shc-issuers; bundle verify lists them; scan/verify --country/--region."""
    m, f = tmp_path / "m", tmp_path / "f"
    assert run("keys", "init-ministry", "--country", "VN", "--out", str(m), "--at", "2026-05-01").returncode == 0
    assert run("keys", "issue-dsc", "--ministry", str(m), "--facility-id", "VN-HN-001", "--name", "F",
               "--out", str(f), "--at", "2026-05-01").returncode == 0
    at = NOW.isoformat()
    signer = ["--signer-key", str(m / "csca.key.pem"), "--signer-cert", str(m / "csca.pem")]
    assert run("trust", "publish", str(f / "dsc.pem"), "-o", str(tmp_path / "tl.cose"), *signer,
               "--at", at).returncode == 0
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "only-vn.json").write_text(json.dumps(ONLY_VN), encoding="utf-8")
    issuers = tmp_path / "issuers"
    issuers.mkdir()
    (issuers / "example.json").write_text(json.dumps({"iss": EXAMPLE_ISS, "country": "US", **example_jwks()}))
    bundle = tmp_path / "b.cose"
    r = run("bundle", "build", "--trust-list", str(tmp_path / "tl.cose"), "--rules", str(rules), "--vn-pass",
            "--shc-issuers", str(issuers), *signer, "--at", at, "-o", str(bundle))
    assert r.returncode == 0 and "rules" in r.stdout and "1 SMART Health Card issuers" in r.stdout, r.stderr
    csca = ["--csca", str(m / "csca.pem")]
    r = run("bundle", "verify", str(bundle), *csca, "--at", at, "--format", "json")
    shown = json.loads(r.stdout)
    assert (shown["rules"], shown["pass_rules"], shown["shc_issuers"]) == (1, ["vn-2021 VN"], [EXAMPLE_ISS])

    def issued(payload: dict[str, Any]) -> str:
        path = tmp_path / "p.json"
        path.write_text(json.dumps(payload), encoding="utf-8")
        out = run("issue", "--key", str(f / "dsc.key.pem"), "--cert", str(f / "dsc.pem"), "--at", at,
                  "--facility-override", str(path))
        return out.stdout.strip()

    later = AT.isoformat()
    dose, recovered = issued(vacc(1, 2, -20)), issued(recovery(-60, -49, 120))
    r = run("scan", "--bundle", str(bundle), *csca, "--at", later, "--lang", "en", "-", stdin=f"{dose}\n")
    assert r.returncode == 0 and "PARTIALLY_VACCINATED" in r.stdout, r
    assert "failed VR-VN-0003: The primary series" in r.stdout
    r = run("scan", "--bundle", str(bundle), *csca, "--at", later, "--format", "json", "--region", "HCM", "-",
            stdin=f"{dose}\n{recovered}\n")
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert [x["pass"] for x in lines] == ["YELLOW", "GREEN"]  # lines of '-' are separate presentations
    r = run("scan", "--bundle", str(bundle), *csca, "--at", later, "--format", "json", "--region", "HCM",
            "--together", "-", stdin=f"{dose}\n{recovered}\n")
    assert r.returncode == 0 and [json.loads(line)["pass"] for line in r.stdout.splitlines()] == ["GREEN", "GREEN"]
    r = run("verify", "--bundle", str(bundle), *csca, "--at", later, "--format", "json", issued(vacc(2, 2, -30, "DE")))
    out = json.loads(r.stdout)
    assert r.returncode == 1 and out["valid"] and out["rules"]["pass"] == "RED"
    assert out["rules"]["failed"][0]["rule"] == "VR-VN-0100"
    r = run("verify", "--bundle", str(bundle), *csca, "--at", at, "--lang", "vi",
            qr_text(card(bundle_of(immunization(code="208", date=day(-60)), immunization(code="208", date=day(-30))))))
    assert r.returncode == 0 and "quy định VN: GREEN FULLY_VACCINATED" in r.stdout, r  # --lang vi: all of it
    r = run("verify", "--bundle", str(bundle), *csca, "--at", later, "--country", "DE", issued(vacc(1, 2, -20)))
    assert r.returncode == 0 and "rules DE: no pass rules; none refused" in r.stdout
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({**ONLY_VN, "Logic": {"and": [True]}}), encoding="utf-8")
    r = run("bundle", "build", "--trust-list", str(tmp_path / "tl.cose"), "--rules", str(broken), *signer,
            "--at", at, "-o", str(tmp_path / "x.cose"))
    assert r.returncode == 2 and "rules not bundled: VR-VN-0100" in r.stderr and not (tmp_path / "x.cose").exists()
