"""Viet Nam's pass as CertLogic rules: the same verdicts as the Python Policy, and HCMC's variant."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import NOW
from strategies_dcc import mutated_payloads, payloads
from vaxcert import FailureCode, Stage, VerificationResult
from vaxcert.errors import ConfigurationError
from vaxcert.rules import DEFAULT_POLICY, VN_2021_PRODUCTS, Pass, Reason, assess
from vaxcert.rules.gateway import Outcome, RuleSet
from vaxcert.rules.passrules import PassRules, payload_type

VN = dt.timezone(dt.timedelta(hours=7))
DETECTED, NOT_DETECTED = "260373001", "260415000"
NAAT, RAT = "LP6464-4", "LP217198-3"
RULES = PassRules.bundled()
EXP = NOW + dt.timedelta(days=700)


def verified(payload: dict[str, Any], *, now: dt.datetime = NOW, exp: dt.datetime = EXP) -> VerificationResult:
    """A valid VerificationResult around ``payload``, issued a day before ``now``."""
    kind = next(k for k in ("v", "t", "r") if k in payload)
    return VerificationResult(True, FailureCode.OK, Stage.DONE, "valid", cert_type=kind, payload=payload,
                              issued_at=now - dt.timedelta(days=1), expires_at=exp)


def both(payload: dict[str, Any], now: dt.datetime = NOW, exp: dt.datetime = EXP) -> tuple[Any, Any]:
    """(Policy's (colour, reason), the rules' (colour, reason))."""
    policy = assess(verified(payload, now=now, exp=exp), DEFAULT_POLICY, now=now)
    rules = RULES.evaluate(payload, now=now, exp=exp, iat=now - dt.timedelta(days=1))
    return (policy.colour, policy.reason), (rules.colour, rules.reason)


def local_day(moment: dt.datetime, offset: int = 0) -> str:
    """The Viet Nam calendar date of ``moment`` plus ``offset`` days."""
    return (moment.astimezone(VN).date() + dt.timedelta(days=offset)).isoformat()


NAME = {"fn": "Nguyễn", "gn": "Văn An", "fnt": "NGUYEN", "gnt": "VAN<AN"}


def vacc(dn: int, sd: int, offset: int, mp: str = "EU/1/20/1528") -> dict[str, Any]:
    """A vaccination payload with the dose ``offset`` days from NOW (VN calendar)."""
    return {"ver": "1.3.0", "nam": NAME, "dob": "1990-05-17",
            "v": [{"tg": "840539006", "vp": "1119349007", "mp": mp, "ma": "ORG-100030215", "dn": dn, "sd": sd,
                   "dt": local_day(NOW, offset), "co": "VN", "is": "Bộ Y tế", "ci": "URN:UVCI:01:VN:ABC123#X"}]}


def recovery(fr: int, df: int, du: int, name: dict[str, str] | None = None, dob: str = "1990-05-17") -> dict[str, Any]:
    """A recovery payload with dates as day offsets from NOW."""
    return {"ver": "1.3.0", "nam": name or NAME, "dob": dob,
            "r": [{"tg": "840539006", "fr": local_day(NOW, fr), "df": local_day(NOW, df), "du": local_day(NOW, du),
                   "co": "VN", "is": "Bộ Y tế", "ci": "URN:UVCI:01:VN:DEF456#Y"}]}


def lab_test(hours_ago: float, tr: str = NOT_DETECTED, tt: str = NAAT) -> dict[str, Any]:
    """A test payload with the sample ``hours_ago`` before NOW."""
    sc = (NOW - dt.timedelta(hours=hours_ago)).isoformat().replace("+00:00", "Z")
    return {"ver": "1.3.0", "nam": NAME, "dob": "1990-05-17",
            "t": [{"tg": "840539006", "tt": tt, "sc": sc, "tr": tr, "tc": "Bạch Mai", "co": "VN", "is": "Bộ Y tế",
                   "ci": "URN:UVCI:01:VN:GHI789#Z"}]}


# --- the shipped rule sets -----------------------------------------------------------------------


def test_bundled_rules_are_valid_certlogic() -> None:
    """Every shipped rule is valid CertLogic, an Acceptance rule of VN, with English and Vietnamese text."""
    for rules in (RULES.green, RULES.yellow):
        assert len(rules) > 5
        for rule in rules:
            assert rule.problems() == [], rule
            assert rule.supported and rule.type == "Acceptance" and rule.country == "VN"
            assert set(rule.descriptions) == {"en", "vi"} and all(len(t) >= 20 for t in rule.descriptions.values())


def test_bundled_products_match_the_policy() -> None:
    """The product rule lists exactly the Policy's accepted products."""
    (rule,) = [r for r in RULES.green if r.identifier == "VR-VN-0001"]
    assert set(rule.logic["in"][1]) == set(VN_2021_PRODUCTS)


def test_pass_rules_round_trip() -> None:
    """to_json / from_json give the same rules, reasons and labels (what a bundle will carry)."""
    document = RULES.to_json()
    again = PassRules.from_json(json.dumps(document))
    assert again.to_json() == document
    assert [r.identifier for r in again.green] == [r.identifier for r in RULES.green]


def test_pass_rules_format_errors() -> None:
    """A document that is not a pass rule set is refused with a message naming the problem."""
    with pytest.raises(ConfigurationError, match="vaxcert-pass-rules/1"):
        PassRules.from_json({"GREEN": []})
    document = RULES.to_json()
    document["reasons"] = [["VR-VN-0001", "NOT_A_REASON"]]
    with pytest.raises(ConfigurationError, match="reason"):
        PassRules.from_json(document)
    document = RULES.to_json()
    document["GREEN"][0]["Country"] = "DE"
    with pytest.raises(ConfigurationError, match="Acceptance rule of VN"):
        PassRules.from_json(document)


# --- the same verdicts as the Policy -------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (vacc(2, 2, -30), (Pass.GREEN, Reason.FULLY_VACCINATED)),
        (vacc(2, 2, -5), (Pass.YELLOW, Reason.TOO_SOON_AFTER_DOSE)),
        (vacc(1, 1, -5, "EU/1/20/1525"), (Pass.RED, Reason.TOO_SOON_AFTER_DOSE)),
        (vacc(1, 1, -20, "EU/1/20/1525"), (Pass.GREEN, Reason.FULLY_VACCINATED)),
        (vacc(1, 2, -20), (Pass.YELLOW, Reason.PARTIALLY_VACCINATED)),
        (vacc(1, 2, -5), (Pass.RED, Reason.TOO_SOON_AFTER_DOSE)),
        (vacc(3, 4, -5), (Pass.RED, Reason.TOO_SOON_AFTER_DOSE)),
        (vacc(3, 3, 0), (Pass.GREEN, Reason.BOOSTER)),
        (vacc(3, 2, -1), (Pass.GREEN, Reason.BOOSTER)),
        (vacc(3, 3, -3, "Abdala"), (Pass.YELLOW, Reason.TOO_SOON_AFTER_DOSE)),
        (vacc(4, 4, -3, "Abdala"), (Pass.GREEN, Reason.BOOSTER)),
        (vacc(2, 2, -365), (Pass.RED, Reason.PASS_EXPIRED)),
        (vacc(2, 2, -364), (Pass.GREEN, Reason.FULLY_VACCINATED)),
        (vacc(1, 2, -400), (Pass.RED, Reason.PASS_EXPIRED)),
        (vacc(2, 2, 1), (Pass.RED, Reason.VACCINATION_IN_FUTURE)),
        (vacc(2, 2, -30, "CoronaVac"), (Pass.RED, Reason.PRODUCT_NOT_ACCEPTED)),
        (lab_test(10), (Pass.YELLOW, Reason.NEGATIVE_TEST)),
        (lab_test(10, tt=RAT), (Pass.YELLOW, Reason.NEGATIVE_TEST)),
        (lab_test(72), (Pass.RED, Reason.PASS_EXPIRED)),
        (lab_test(10, tr=DETECTED), (Pass.RED, Reason.TEST_DETECTED)),
        (lab_test(-1), (Pass.RED, Reason.SAMPLE_IN_FUTURE)),
        (lab_test(10, tt="LP000-0"), (Pass.RED, Reason.TEST_TYPE_NOT_ACCEPTED)),
        (lab_test(10, tr="123"), (Pass.RED, Reason.CERTIFICATE_INVALID)),
        (recovery(-40, -29, 150), (Pass.GREEN, Reason.RECOVERED)),
        (recovery(-40, 2, 150), (Pass.RED, Reason.PASS_NOT_YET_VALID)),
        (recovery(-200, -190, 150), (Pass.RED, Reason.PASS_EXPIRED)),
        (recovery(-40, -29, -1), (Pass.RED, Reason.PASS_EXPIRED)),
        (recovery(-40, -50, 150), (Pass.RED, Reason.CERTIFICATE_INVALID)),
    ],
    ids=lambda value: None if isinstance(value, dict) else f"{value[0]}-{value[1]}",
)
def test_examples_agree_with_policy(payload: dict[str, Any], expected: tuple[Pass, Reason]) -> None:
    """Hand-picked cases from docs/checkpoint-pass.md: the rules and the Policy give the expected verdict."""
    policy, rules = both(payload)
    assert policy == expected
    assert rules == expected


def test_wrong_disease_and_two_entries() -> None:
    """Not COVID-19 gives WRONG_DISEASE; two entries give CERTIFICATE_INVALID, as the Policy says."""
    payload = vacc(2, 2, -30)
    payload["v"][0]["tg"] = "840539007"
    assert both(payload) == ((Pass.RED, Reason.WRONG_DISEASE),) * 2
    payload = vacc(2, 2, -30)
    payload["v"].append(dict(payload["v"][0]))
    assert both(payload) == ((Pass.RED, Reason.CERTIFICATE_INVALID),) * 2


def test_malformed_field_is_certificate_invalid() -> None:
    """A dose number that is not a number makes a rule open: RED CERTIFICATE_INVALID, like the Policy."""
    payload = vacc(2, 2, -30)
    payload["v"][0]["dn"] = "2"
    verdict = RULES.evaluate(payload, now=NOW, exp=EXP)
    assert (verdict.colour, verdict.reason) == (Pass.RED, Reason.CERTIFICATE_INVALID)
    assert verdict.deciding is not None and verdict.deciding.outcome is Outcome.OPEN
    assert both(payload)[0] == (Pass.RED, Reason.CERTIFICATE_INVALID)


_NOW_RANGE = st.datetimes(dt.datetime(2021, 9, 1), dt.datetime(2035, 6, 1), timezones=st.just(dt.UTC))


@st.composite
def moments(draw: st.DrawFn) -> dt.datetime:
    """A validation time: anywhere, or within a second of a Viet Nam midnight (where the waits flip)."""
    moment = draw(_NOW_RANGE)
    if draw(st.booleans()):
        midnight = dt.datetime.combine(moment.astimezone(VN).date(), dt.time(), VN)
        moment = (midnight + dt.timedelta(seconds=draw(st.sampled_from((-1, 0, 1))))).astimezone(dt.UTC)
    return moment


_RAW = (True,) + (False,) * 14
#: Days since the dose around each boundary of the Policy (0, 14, 365) and anywhere up to 420.
_DAYS_AGO = st.sampled_from((-2, -1, 0, 1, 13, 14, 15, 364, 365, 366)) | st.integers(-20, 420)
_DOSES = ((1, 1), (1, 2), (2, 2), (2, 1), (3, 3), (3, 2), (2, 3), (1, 3), (4, 4), (3, 4))


@st.composite
def cases(draw: st.DrawFn) -> tuple[dict[str, Any], dt.datetime, dt.datetime]:
    """A well-formed payload (strategies_dcc.payloads) with its dates drawn around a validation time."""
    payload = draw(payloads())
    now = draw(moments())
    exp = now + dt.timedelta(seconds=draw(st.integers(1, 800 * 86400)))
    group = next(k for k in ("v", "t", "r") if k in payload)
    entry = payload[group][0]
    if draw(st.sampled_from(_RAW)):  # leave some as drawn (dates anywhere in 1900-2099)
        return payload, now, exp
    if group == "v":
        entry["dt"] = local_day(now, draw(_DAYS_AGO.map(lambda days: -days)))
        entry["dn"], entry["sd"] = draw(st.sampled_from(_DOSES) | st.tuples(st.integers(1, 5), st.integers(1, 4)))
        entry["mp"] = draw(st.sampled_from(sorted(VN_2021_PRODUCTS)) | st.just(entry["mp"]))
    elif group == "t":
        minutes = draw(st.sampled_from((-1, 0, 1, 72 * 60 - 1, 72 * 60, 72 * 60 + 1)) | st.integers(-600, 100 * 60))
        sample = now - dt.timedelta(minutes=minutes)
        zone = draw(st.sampled_from((dt.UTC, VN, dt.timezone(dt.timedelta(hours=-5)))))
        entry["sc"] = sample.astimezone(zone).isoformat(timespec="seconds").replace("+00:00", "Z")
        entry["tr"] = draw(st.sampled_from((NOT_DETECTED, NOT_DETECTED, NOT_DETECTED, DETECTED)))
        entry["tt"] = draw(st.sampled_from((NAAT, RAT, NAAT, RAT, "LP000-0")))
    else:
        first = -draw(st.sampled_from((0, 1, 179, 180, 181)) | st.integers(-10, 260))
        since = first + draw(st.sampled_from((0, 0, 11, 30, -1)) | st.integers(0, 40))
        until = since + draw(st.sampled_from((150, 179, 180, 0, -1)) | st.integers(0, 220))
        entry["fr"], entry["df"], entry["du"] = (local_day(now, d) for d in (first, since, until))
    if draw(st.sampled_from(_RAW)):
        entry["tg"] = "840539007"
    return payload, now, exp


@settings(max_examples=600, deadline=None)
@given(cases())
def test_rules_agree_with_policy(case: tuple[dict[str, Any], dt.datetime, dt.datetime]) -> None:
    """On generated well-formed certificates and times, the rules give the Policy's colour and reason."""
    payload, now, exp = case
    policy, rules = both(payload, now, exp)
    assert rules == policy


@settings(max_examples=200, deadline=None)
@given(mutated_payloads(), moments())
def test_hostile_payloads_never_raise(payload: dict[str, Any], now: dt.datetime) -> None:
    """Mutated payloads give a verdict, never an exception; a payload of no single type is RED."""
    verdict = RULES.evaluate(payload, now=now, exp=now + dt.timedelta(days=1))
    assert verdict.colour in tuple(Pass)
    if payload_type(payload) is None:
        assert (verdict.colour, verdict.reason) == (Pass.RED, Reason.CERTIFICATE_INVALID)
    json.dumps(verdict.to_dict("vi"))


def test_verdict_reports_failed_rules_in_language() -> None:
    """A RED verdict names the deciding rule; failed rules carry their description in vi (fallback en)."""
    verdict = RULES.evaluate(vacc(2, 2, -30, "CoronaVac"), now=NOW, exp=EXP)
    summary = verdict.to_dict("vi")
    assert summary["pass"] == "RED" and summary["rule"] == "VR-VN-0001"
    assert any(item["rule"] == "VR-VN-0001" and "Bộ Y tế" in item["description"] for item in summary["failed"])
    assert all(item["outcome"] in ("failed", "open") for item in summary["failed"])
    assert "CoronaVac" not in json.dumps(summary) and "NGUYEN" not in json.dumps(summary)
    assert verdict.failed[0].description("de") == verdict.failed[0].description("en")


def test_no_rules_for_a_type() -> None:
    """Without rules for tests, a test certificate is RED TEST_NOT_ACCEPTED (no colour by vacuous truth)."""
    only_vaccination = PassRules(name="x", country="VN",
                                 green=RuleSet(r for r in RULES.green if r.certificate_type != "Test"),
                                 yellow=RuleSet(r for r in RULES.yellow if r.certificate_type != "Test"))
    verdict = only_vaccination.evaluate(lab_test(10), now=NOW)
    assert (verdict.colour, verdict.reason) == (Pass.RED, Reason.TEST_NOT_ACCEPTED)


def test_rules_outside_their_validity_do_not_apply() -> None:
    """After the rules' ValidTo nothing is selected: RED, not a pass by default."""
    later = dt.datetime(2036, 6, 1, tzinfo=dt.UTC)
    verdict = RULES.evaluate(vacc(2, 2, -30), now=later)
    assert verdict.colour is Pass.RED


# --- Ho Chi Minh City: one dose plus a recovery ---------------------------------------------------


def hcm(payload: dict[str, Any], *others: dict[str, Any], region: str | None = "HCM") -> tuple[Pass, Reason]:
    """The verdict in region ``region`` with the holder's other certificates."""
    verdict = RULES.evaluate(payload, now=NOW, exp=EXP, region=region, holder_certificates=others)
    return verdict.colour, verdict.reason


def test_hcm_one_dose_plus_recovery_is_green() -> None:
    """In HCMC a dose 20 days old plus a valid recovery of the same holder is GREEN; nationally YELLOW."""
    dose, recovered = vacc(1, 2, -20), recovery(-60, -49, 120)
    assert hcm(dose, recovered) == (Pass.GREEN, Reason.RECOVERED)
    assert hcm(dose, recovered, region=None) == (Pass.YELLOW, Reason.PARTIALLY_VACCINATED)
    assert hcm(dose, recovered, region="HN") == (Pass.YELLOW, Reason.PARTIALLY_VACCINATED)


@pytest.mark.parametrize(
    "other",
    [
        recovery(-60, -49, 120, dob="1991-05-17"),
        recovery(-60, -49, 120, name={"fnt": "TRAN", "gnt": "VAN<AN"}),
        recovery(-200, -190, 120),
        recovery(-60, 3, 120),
        vacc(2, 2, -100),
    ],
    ids=["other-birth-date", "other-name", "recovery-too-old", "recovery-not-yet-valid", "not-a-recovery"],
)
def test_hcm_needs_a_valid_recovery_of_the_same_holder(other: dict[str, Any]) -> None:
    """Another person's recovery, an expired or future one, or no recovery keeps one dose YELLOW."""
    assert hcm(vacc(1, 2, -20), other) == (Pass.YELLOW, Reason.PARTIALLY_VACCINATED)
    assert hcm(vacc(1, 2, -20)) == (Pass.YELLOW, Reason.PARTIALLY_VACCINATED)


def test_hcm_still_waits_14_days_and_keeps_national_rules() -> None:
    """The dose must be 14 days old; complete series and recoveries are judged as nationally."""
    recovered = recovery(-60, -49, 120)
    assert hcm(vacc(1, 2, -5), recovered) == (Pass.RED, Reason.TOO_SOON_AFTER_DOSE)
    assert hcm(vacc(1, 2, -20, "CoronaVac"), recovered) == (Pass.RED, Reason.PRODUCT_NOT_ACCEPTED)
    assert hcm(vacc(2, 2, -30)) == (Pass.GREEN, Reason.FULLY_VACCINATED)
    assert hcm(recovered) == (Pass.GREEN, Reason.RECOVERED)


def test_hcm_rule_replaces_the_national_one_only_in_its_region() -> None:
    """Selecting with region HCM gives the regional VR-VN-0003 instead of the national one."""
    at, chosen = NOW, RULES.select(Pass.GREEN, cert_type="v", at=NOW, region="HCM")
    (rule,) = [r for r in chosen if r.identifier == "VR-VN-0003"]
    assert rule.region == "HCM"
    (national,) = [r for r in RULES.select(Pass.GREEN, cert_type="v", at=at) if r.identifier == "VR-VN-0003"]
    assert national.region is None
