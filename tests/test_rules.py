"""The checkpoint pass policy (vaxcert.rules): every branch, on hand-built and real certificates."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import NOW, Pki, make_pki
from vaxcert import FailureCode, Issuer, Stage, VerificationResult, Verifier
from vaxcert.dcc.uvci import generate
from vaxcert.dcc.valuesets import ValueSets
from vaxcert.errors import ConfigurationError
from vaxcert.rules import DEFAULT_POLICY, LANGUAGES, VN_2021_PRODUCTS, Pass, Policy, Reason, assess
from vaxcert.rules.messages import render

VN = dt.timezone(dt.timedelta(hours=7))
COMIRNATY = "EU/1/20/1528"
JANSSEN = "EU/1/20/1525"
ABDALA = "Abdala"
NAAT = "LP6464-4"
RAT = "LP217198-3"
DETECTED = "260373001"
NOT_DETECTED = "260415000"
NAME = {"fn": "Nguyễn", "gn": "Văn An", "fnt": "NGUYEN", "gnt": "VAN<AN"}


def day(offset: int) -> str:
    """The VN calendar date ``offset`` days from NOW."""
    return (NOW.astimezone(VN).date() + dt.timedelta(days=offset)).isoformat()


def midnight(iso_date: str, plus: int = 0) -> dt.datetime:
    """Local (VN) midnight starting ``iso_date`` + ``plus`` days."""
    return dt.datetime.combine(dt.date.fromisoformat(iso_date) + dt.timedelta(days=plus), dt.time(), VN)


def vacc(dn: int = 2, sd: int = 2, when: str | None = None, mp: str = COMIRNATY, **extra: Any) -> dict[str, Any]:
    """A vaccination payload."""
    entry = {"tg": "840539006", "vp": "1119349007", "mp": mp, "ma": "ORG-100030215", "dn": dn, "sd": sd,
             "dt": when or day(-30), "co": "VN", "is": "Bộ Y tế", "ci": generate("VN")}
    entry.update(extra)
    return {"ver": "1.3.0", "nam": NAME, "dob": "1990-05-17", "v": [entry]}


def lab_test(tr: str = NOT_DETECTED, tt: str = NAAT, sc: dt.datetime | None = None) -> dict[str, Any]:
    """A test payload (sample ``sc``, default 10 hours before NOW)."""
    moment = sc or NOW - dt.timedelta(hours=10)
    entry = {"tg": "840539006", "tt": tt, "sc": moment.isoformat().replace("+00:00", "Z"), "tr": tr,
             "tc": "Bệnh viện Bạch Mai", "co": "VN", "is": "Bộ Y tế", "ci": generate("VN")}
    if tt == RAT:
        entry["ma"] = "1232"
    return {"ver": "1.3.0", "nam": NAME, "dob": "1990-05-17", "t": [entry]}


def recovery(fr: int = -40, df: int = -29, du: int = 150) -> dict[str, Any]:
    """A recovery payload with dates as day offsets from NOW."""
    entry = {"tg": "840539006", "fr": day(fr), "df": day(df), "du": day(du), "co": "VN", "is": "Bộ Y tế",
             "ci": generate("VN")}
    return {"ver": "1.3.0", "nam": NAME, "dob": "1990-05-17", "r": [entry]}


def hand(payload: dict[str, Any], *, expires: dt.datetime | None = None) -> VerificationResult:
    """A valid VerificationResult built by hand around ``payload``."""
    kind = next(k for k in ("v", "t", "r") if k in payload)
    return VerificationResult(True, FailureCode.OK, Stage.DONE, "valid", cert_type=kind, payload=payload,
                              issued_at=NOW - dt.timedelta(days=1),
                              expires_at=expires or NOW + dt.timedelta(days=700))


def failed(code: FailureCode, stage: Stage) -> VerificationResult:
    """A failed VerificationResult."""
    return VerificationResult(False, code, stage, "x")


def real(pki: Pki, payload: dict[str, Any], *, check: bool = True) -> VerificationResult:
    """Issue ``payload`` with the test PKI and verify it at NOW."""
    cert = Issuer(pki.signer, check=check, facility_override=True).issue(payload, now=NOW)
    result = Verifier(pki.trust).verify(cert.hc1, now=NOW)
    assert result.valid, result
    return result


# --- vaccination -------------------------------------------------------------------------------


def test_complete_series_after_14_days_is_green(pki: Pki) -> None:
    """A real 2/2 certificate 30 days after the last dose is GREEN for 12 months from the dose."""
    when = day(-30)
    a = assess(real(pki, vacc(2, 2, when)), DEFAULT_POLICY, now=NOW)
    assert (a.colour, a.reason) == (Pass.GREEN, Reason.FULLY_VACCINATED)
    assert a.valid_from == midnight(when, 14)
    assert a.valid_until == midnight(when, 365)
    assert a.passes and a.cert_type == "v"


def test_green_starts_at_local_midnight_14_days_after() -> None:
    """The 14 days count in Viet Nam time: GREEN from 00:00 +07:00, YELLOW one second before."""
    when = day(-14)
    start = midnight(when, 14)
    assert assess(hand(vacc(2, 2, when)), now=start).colour is Pass.GREEN
    before = assess(hand(vacc(2, 2, when)), now=start - dt.timedelta(seconds=1))
    assert (before.colour, before.reason) == (Pass.YELLOW, Reason.TOO_SOON_AFTER_DOSE)


def test_complete_series_within_14_days_is_yellow_until_green_starts(pki: Pki) -> None:
    """2/2 five days after the last dose: YELLOW (an earlier dose exists) until the green start."""
    when = day(-5)
    a = assess(real(pki, vacc(2, 2, when)), now=NOW)
    assert (a.colour, a.reason) == (Pass.YELLOW, Reason.TOO_SOON_AFTER_DOSE)
    assert a.valid_from == midnight(when)
    assert a.valid_until == midnight(when, 14)
    assert "14" in a.message("en") and midnight(when, 14).date().isoformat() in a.message("en")


def test_complete_series_within_14_days_is_red_when_policy_says_so() -> None:
    """With yellow_while_waiting off, a series in its waiting time is RED, saying when it starts."""
    when = day(-5)
    a = assess(hand(vacc(2, 2, when)), Policy(yellow_while_waiting=False), now=NOW)
    assert (a.colour, a.reason) == (Pass.RED, Reason.TOO_SOON_AFTER_DOSE)
    assert a.valid_from == midnight(when, 14)


def test_janssen_one_of_one_is_complete(pki: Pki) -> None:
    """Janssen 1/1 (single-dose primary series) is GREEN after 14 days."""
    a = assess(real(pki, vacc(1, 1, day(-20), mp=JANSSEN, ma="ORG-100001417", vp="29061000087103")), now=NOW)
    assert (a.colour, a.reason) == (Pass.GREEN, Reason.FULLY_VACCINATED)


def test_janssen_within_14_days_is_red() -> None:
    """1/1 within 14 days has no earlier dose to count as partial: RED TOO_SOON_AFTER_DOSE."""
    a = assess(hand(vacc(1, 1, day(-3), mp=JANSSEN)), now=NOW)
    assert (a.colour, a.reason) == (Pass.RED, Reason.TOO_SOON_AFTER_DOSE)


def test_partial_series_is_yellow(pki: Pki) -> None:
    """A real 1/2 certificate 20 days after the dose is YELLOW until 365 days after the dose."""
    result = real(pki, vacc(1, 2, day(-20)))
    a = assess(result, now=NOW)
    assert (a.colour, a.reason) == (Pass.YELLOW, Reason.PARTIALLY_VACCINATED)
    assert result.expires_at is not None
    assert a.valid_until == min(result.expires_at, midnight(day(-20), 365))


def test_partial_pass_never_outlives_a_complete_one() -> None:
    """A single dose 400 days ago grants nothing, as a complete series of that age would not."""
    partial = assess(hand(vacc(1, 2, day(-400))), now=NOW)
    complete = assess(hand(vacc(2, 2, day(-400))), now=NOW)
    assert (partial.colour, partial.reason) == (Pass.RED, Reason.PASS_EXPIRED)
    assert complete.colour == Pass.RED


def test_partial_validity_can_be_unlimited(pki: Pki) -> None:
    """partial_validity_days=None keeps yellow until the certificate expires."""
    result = real(pki, vacc(1, 2, day(-20)))
    a = assess(result, Policy(partial_validity_days=None), now=NOW)
    assert a.valid_until == result.expires_at


def test_partial_series_too_soon_is_red() -> None:
    """1/2 three days after the dose is RED until 14 days have passed."""
    a = assess(hand(vacc(1, 2, day(-3))), now=NOW)
    assert (a.colour, a.reason) == (Pass.RED, Reason.TOO_SOON_AFTER_DOSE)
    assert a.valid_from == midnight(day(-3), 14)


def test_partial_wait_is_configurable() -> None:
    """partial_wait_days=0 makes a dose given today YELLOW at once."""
    a = assess(hand(vacc(1, 2, day(0))), Policy(partial_wait_days=0), now=NOW)
    assert a.colour is Pass.YELLOW


def test_partial_not_accepted() -> None:
    """With partial_accepted off, 1/2 is RED PARTIAL_NOT_ACCEPTED and a waiting 2/2 is RED too."""
    policy = Policy(partial_accepted=False)
    assert assess(hand(vacc(1, 2, day(-60))), policy, now=NOW).reason is Reason.PARTIAL_NOT_ACCEPTED
    waiting = assess(hand(vacc(2, 2, day(-3))), policy, now=NOW)
    assert (waiting.colour, waiting.reason) == (Pass.RED, Reason.TOO_SOON_AFTER_DOSE)


def test_partial_validity_limit() -> None:
    """partial_validity_days ends a yellow pass."""
    a = assess(hand(vacc(1, 2, day(-100))), Policy(partial_validity_days=90), now=NOW)
    assert (a.colour, a.reason) == (Pass.RED, Reason.PASS_EXPIRED)


@pytest.mark.parametrize(
    ("dn", "sd", "mp", "reason"),
    [
        (3, 2, COMIRNATY, Reason.BOOSTER),
        (3, 3, COMIRNATY, Reason.BOOSTER),
        (2, 1, JANSSEN, Reason.BOOSTER),
        (3, 3, ABDALA, Reason.FULLY_VACCINATED),
        (4, 4, ABDALA, Reason.BOOSTER),
    ],
)
def test_booster_detection(dn: int, sd: int, mp: str, reason: Reason) -> None:
    """dn > sd, or 3/3 (EU booster encoding) except a three-dose primary product, is a booster."""
    a = assess(hand(vacc(dn, sd, day(-30), mp=mp)), now=NOW)
    assert (a.colour, a.reason) == (Pass.GREEN, reason)


def test_booster_is_green_on_the_day(pki: Pki) -> None:
    """A real 3/3 booster certificate is GREEN the day it is given (booster_wait_days = 0)."""
    a = assess(real(pki, vacc(3, 3, day(0))), now=NOW)
    assert (a.colour, a.reason) == (Pass.GREEN, Reason.BOOSTER)


def test_three_dose_primary_waits() -> None:
    """Abdala 3/3 completes a primary series: YELLOW during its 14 days."""
    a = assess(hand(vacc(3, 3, day(-2), mp=ABDALA)), now=NOW)
    assert (a.colour, a.reason) == (Pass.YELLOW, Reason.TOO_SOON_AFTER_DOSE)


def test_booster_min_dose_off() -> None:
    """booster_min_dose=None: 3/3 is an ordinary complete series with its waiting time."""
    a = assess(hand(vacc(3, 3, day(-2))), Policy(booster_min_dose=None), now=NOW)
    assert a.reason is Reason.TOO_SOON_AFTER_DOSE


def test_product_not_accepted(pki: Pki) -> None:
    """CoronaVac is not in the VN default list: RED PRODUCT_NOT_ACCEPTED naming the product."""
    a = assess(real(pki, vacc(2, 2, day(-60), mp="CoronaVac", ma="Sinovac-Biotech", vp="1157024006")), now=NOW)
    assert (a.colour, a.reason) == (Pass.RED, Reason.PRODUCT_NOT_ACCEPTED)
    assert "CoronaVac" in a.message("en") and "CoronaVac" in a.message("vi")


def test_accepted_products_configurable() -> None:
    """A policy listing CoronaVac accepts it."""
    policy = Policy(accepted_products=VN_2021_PRODUCTS | {"CoronaVac"})
    assert assess(hand(vacc(2, 2, day(-60), mp="CoronaVac")), policy, now=NOW).colour is Pass.GREEN


def test_default_products_are_value_set_codes() -> None:
    """Every default product is a code of the bundled vaccine-medicinal-product value set."""
    sets = ValueSets.bundled()
    assert all(sets.contains("vaccine-medicinal-product", code) for code in VN_2021_PRODUCTS)
    assert {COMIRNATY, JANSSEN, "EU/1/20/1507", "EU/1/21/1529", "Sputnik-V", "BBIBP-CorV", "Covaxin",
            ABDALA, "Hayat-Vax"} <= VN_2021_PRODUCTS


def test_complete_pass_expires_after_12_months() -> None:
    """400 days after the last dose the 365-day pass has expired: RED PASS_EXPIRED."""
    when = day(-400)
    a = assess(hand(vacc(2, 2, when)), now=NOW)
    assert (a.colour, a.reason) == (Pass.RED, Reason.PASS_EXPIRED)
    assert a.valid_until == midnight(when, 365)


def test_unlimited_validity_is_capped_by_certificate_expiry() -> None:
    """complete_validity_days=None: the pass lasts as long as the certificate."""
    expires = NOW + dt.timedelta(days=30)
    a = assess(hand(vacc(2, 2, day(-400)), expires=expires), Policy(complete_validity_days=None), now=NOW)
    assert a.colour is Pass.GREEN and a.valid_until == expires


def test_vaccination_in_future() -> None:
    """A vaccination dated tomorrow is RED VACCINATION_IN_FUTURE."""
    a = assess(hand(vacc(2, 2, day(1))), now=NOW)
    assert (a.colour, a.reason) == (Pass.RED, Reason.VACCINATION_IN_FUTURE)


def test_wrong_disease() -> None:
    """An entry for another disease than COVID-19 grants no pass."""
    a = assess(hand(vacc(2, 2, day(-30), tg="123456")), now=NOW)
    assert (a.colour, a.reason) == (Pass.RED, Reason.WRONG_DISEASE)


# --- tests -------------------------------------------------------------------------------------


def test_detected_test_is_red_dgc7(pki: Pki) -> None:
    """DGC7: an authentic test certificate with result 260373001 (detected) is RED TEST_DETECTED."""
    a = assess(real(pki, lab_test(tr=DETECTED), check=False), now=NOW)
    assert (a.colour, a.reason) == (Pass.RED, Reason.TEST_DETECTED)
    assert "dương tính" in a.message("vi")


def test_future_sample_is_red_dgc8(pki: Pki) -> None:
    """DGC8: an authentic test certificate whose sample time is after now is RED SAMPLE_IN_FUTURE."""
    sample = NOW + dt.timedelta(hours=3)
    a = assess(real(pki, lab_test(sc=sample), check=False), now=NOW)
    assert (a.colour, a.reason) == (Pass.RED, Reason.SAMPLE_IN_FUTURE)


def test_negative_naat_is_yellow_for_72_hours(pki: Pki) -> None:
    """A real negative RT-PCR 10 hours old is YELLOW until 72 hours after sampling."""
    sample = NOW - dt.timedelta(hours=10)
    a = assess(real(pki, lab_test(sc=sample)), now=NOW)
    assert (a.colour, a.reason) == (Pass.YELLOW, Reason.NEGATIVE_TEST)
    assert a.valid_from == sample and a.valid_until == sample + dt.timedelta(hours=72)
    assert "RT-PCR" in a.message("vi") and "âm tính" in a.message("vi")


def test_negative_test_expires() -> None:
    """After 72 hours a negative NAAT is RED PASS_EXPIRED; a RAT follows rat_validity_hours."""
    old = NOW - dt.timedelta(hours=73)
    assert assess(hand(lab_test(sc=old)), now=NOW).reason is Reason.PASS_EXPIRED
    rat = hand(lab_test(tt=RAT, sc=NOW - dt.timedelta(hours=30)))
    assert assess(rat, now=NOW).colour is Pass.YELLOW
    assert assess(rat, Policy(rat_validity_hours=24), now=NOW).reason is Reason.PASS_EXPIRED


def test_test_kinds_not_accepted() -> None:
    """A kind with no validity is TEST_TYPE_NOT_ACCEPTED; with neither kind, TEST_NOT_ACCEPTED."""
    rat = hand(lab_test(tt=RAT))
    a = assess(rat, Policy(rat_validity_hours=None), now=NOW)
    assert (a.colour, a.reason) == (Pass.RED, Reason.TEST_TYPE_NOT_ACCEPTED)
    none = Policy(rat_validity_hours=None, naat_validity_hours=None)
    assert assess(rat, none, now=NOW).reason is Reason.TEST_NOT_ACCEPTED
    unknown = lab_test()
    unknown["t"][0]["tt"] = "LP0000-0"
    assert assess(hand(unknown), now=NOW).reason is Reason.TEST_TYPE_NOT_ACCEPTED


def test_detected_wins_over_tests_not_accepted() -> None:
    """A positive result is reported as such even where tests are not accepted."""
    none = Policy(rat_validity_hours=None, naat_validity_hours=None)
    assert assess(hand(lab_test(tr=DETECTED)), none, now=NOW).reason is Reason.TEST_DETECTED


def test_test_pass_colour_configurable() -> None:
    """test_pass=GREEN makes a negative test GREEN."""
    assert assess(hand(lab_test()), Policy(test_pass=Pass.GREEN), now=NOW).colour is Pass.GREEN


def test_unknown_test_result_is_invalid() -> None:
    """A test result code other than detected / not detected is CERTIFICATE_INVALID."""
    a = assess(hand(lab_test(tr="1234")), now=NOW)
    assert (a.colour, a.reason) == (Pass.RED, Reason.CERTIFICATE_INVALID)


# --- recovery ----------------------------------------------------------------------------------


def test_recovery_is_green_within_180_days(pki: Pki) -> None:
    """A real recovery certificate is GREEN until fr + 180 days or du, whichever is first."""
    payload = recovery(fr=-40, df=-29, du=300)
    a = assess(real(pki, payload), now=NOW)
    assert (a.colour, a.reason) == (Pass.GREEN, Reason.RECOVERED)
    assert a.valid_from == midnight(day(-29))
    assert a.valid_until == midnight(day(-40), 180)
    short = assess(hand(recovery(fr=-40, df=-29, du=10)), now=NOW)
    assert short.valid_until == midnight(day(10), 1)


def test_recovery_not_yet_valid() -> None:
    """Before df the recovery pass has not started."""
    a = assess(hand(recovery(fr=-5, df=6, du=170)), now=NOW)
    assert (a.colour, a.reason) == (Pass.RED, Reason.PASS_NOT_YET_VALID)
    assert a.valid_from == midnight(day(6))


def test_recovery_older_than_180_days() -> None:
    """fr 200 days ago: the recovery pass has expired even if du is later."""
    a = assess(hand(recovery(fr=-200, df=-189, du=100)), now=NOW)
    assert (a.colour, a.reason) == (Pass.RED, Reason.PASS_EXPIRED)


def test_recovery_not_accepted_and_colour() -> None:
    """recovery_validity_days=None refuses recoveries; recovery_pass sets their colour."""
    r = hand(recovery())
    assert assess(r, Policy(recovery_validity_days=None), now=NOW).reason is Reason.RECOVERY_NOT_ACCEPTED
    assert assess(r, Policy(recovery_pass=Pass.YELLOW), now=NOW).colour is Pass.YELLOW


# --- verification failures, robustness -------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "stage", "reason"),
    [
        (FailureCode.REVOKED, Stage.REVOCATION, Reason.REVOKED),
        (FailureCode.EXPIRED, Stage.TIME, Reason.CERTIFICATE_EXPIRED),
        (FailureCode.NOT_YET_VALID, Stage.TIME, Reason.CERTIFICATE_NOT_YET_VALID),
        (FailureCode.KID_UNKNOWN, Stage.TRUST, Reason.NOT_AUTHENTIC),
        (FailureCode.SIGNATURE_INVALID, Stage.SIGNATURE, Reason.NOT_AUTHENTIC),
        (FailureCode.BASE45_INVALID, Stage.BASE45, Reason.NOT_AUTHENTIC),
        (FailureCode.SCHEMA_INVALID, Stage.SCHEMA, Reason.CERTIFICATE_INVALID),
        (FailureCode.TRUST_LIST_STALE, Stage.TRUST, Reason.TRUST_UNAVAILABLE),
        (FailureCode.REVOCATION_LIST_STALE, Stage.REVOCATION, Reason.TRUST_UNAVAILABLE),
        (FailureCode.NO_QR_FOUND, Stage.IMAGE, Reason.NO_QR_FOUND),
        (FailureCode.IMAGE_UNREADABLE, Stage.IMAGE, Reason.IMAGE_UNREADABLE),
        (FailureCode.NOT_A_CERTIFICATE, Stage.PREFIX, Reason.NOT_A_CERTIFICATE),
    ],
)
def test_failed_verification_is_red(code: FailureCode, stage: Stage, reason: Reason) -> None:
    """A failed verification is RED with the matching reason."""
    a = assess(failed(code, stage), now=NOW)
    assert (a.colour, a.reason) == (Pass.RED, reason)
    assert a.valid_from is None and a.valid_until is None


def test_real_certificate_from_unknown_signer_is_red(pki: Pki) -> None:
    """A certificate signed by a signer the checkpoint does not trust is RED NOT_AUTHENTIC."""
    other = make_pki()
    cert = Issuer(other.signer, facility_override=True).issue(vacc(2, 2, day(-30)), now=NOW)
    a = assess(Verifier(pki.trust).verify(cert.hc1, now=NOW), now=NOW)
    assert (a.colour, a.reason) == (Pass.RED, Reason.NOT_AUTHENTIC)


@pytest.mark.parametrize(
    "change",
    [{"dn": "two"}, {"dn": 0}, {"sd": True}, {"dt": "yesterday"}, {"dt": 20260501}, {"mp": None}],
)
def test_malformed_vaccination_is_invalid(change: dict[str, Any]) -> None:
    """Malformed fields in a (hand-built) valid result give CERTIFICATE_INVALID, not an exception."""
    a = assess(hand(vacc(**change)), now=NOW)
    assert (a.colour, a.reason) == (Pass.RED, Reason.CERTIFICATE_INVALID)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12) | st.floats(allow_nan=True),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(kind=st.sampled_from(["v", "t", "r"]),
       fields=st.dictionaries(st.sampled_from(["tg", "dn", "sd", "dt", "mp", "tr", "tt", "sc", "fr", "df", "du"]),
                              _json, max_size=6))
def test_assess_never_raises_on_odd_payloads(kind: str, fields: dict[str, Any]) -> None:
    """Whatever the entry holds, assess returns an assessment with texts in every language."""
    base = {"v": vacc(), "t": lab_test(), "r": recovery()}[kind]
    base[kind][0].update(fields)
    a = assess(hand(base), now=NOW)
    assert isinstance(a.reason, Reason)
    assert all(a.message(lang) for lang in LANGUAGES)


def test_payload_without_entries_is_invalid() -> None:
    """A valid-looking result whose entry list is empty or not a list is CERTIFICATE_INVALID."""
    for entries in ([], "x", [1]):
        result = VerificationResult(True, FailureCode.OK, Stage.DONE, "valid", cert_type="v",
                                    payload={"v": entries})
        assert assess(result, now=NOW).reason is Reason.CERTIFICATE_INVALID


def test_naive_now_is_refused() -> None:
    """A naive ``now`` is a programming error."""
    with pytest.raises(ValueError, match="timezone"):
        assess(hand(vacc()), now=dt.datetime(2026, 1, 1))


# --- messages ----------------------------------------------------------------------------------


def test_every_reason_has_text_in_both_languages() -> None:
    """Every reason and colour renders in Vietnamese and English without leftover placeholders."""
    for reason in Reason:
        for colour in Pass:
            for lang in LANGUAGES:
                text = render(reason, colour, lang, valid_from=NOW, valid_until=NOW,
                              details={"dn": 1, "sd": 2, "days": 14, "product": "X", "test": "naat"})
                assert text and "{" not in text and "?" not in text


def test_vietnamese_messages_have_diacritics_in_nfc(pki: Pki) -> None:
    """Vietnamese texts carry their diacritics, NFC-normalised, and dates as dd/mm/yyyy."""
    a = assess(real(pki, vacc(2, 2, "2026-04-01")), now=NOW)
    vi = a.message("vi")
    assert vi == "Đã tiêm đủ liều (2/2 mũi); thẻ có hiệu lực đến hết ngày 31/03/2027."
    assert unicodedata.is_normalized("NFC", vi)
    assert a.message("en") == "Fully vaccinated (2/2 doses); pass valid through 2027-03-31."


def test_messages_hold_no_personal_data(pki: Pki) -> None:
    """No name, birth date or certificate identifier appears in any message."""
    payload = vacc(2, 2, day(-30))
    a = assess(real(pki, payload), now=NOW)
    text = json.dumps(a.to_dict("vi"), ensure_ascii=False) + a.message("en")
    for secret in ("Nguyễn", "NGUYEN", "1990", payload["v"][0]["ci"]):
        assert secret not in text


def test_unknown_language_refused() -> None:
    """Only vi and en exist."""
    with pytest.raises(ValueError, match="language"):
        assess(hand(vacc()), now=NOW).message("fr")


def test_to_dict_fields() -> None:
    """to_dict gives the pass, reason, message and the window in ISO 8601."""
    d = assess(hand(vacc(2, 2, "2026-04-01")), now=NOW).to_dict("en")
    assert d == {"pass": "GREEN", "reason": "FULLY_VACCINATED", "message": d["message"],
                 "valid_from": "2026-04-15T00:00:00+07:00", "valid_until": "2027-04-01T00:00:00+07:00"}


# --- policy loading ----------------------------------------------------------------------------


def test_policy_round_trips_through_json_and_toml(tmp_path: Any) -> None:
    """to_dict → JSON file → from_file gives the same policy; a TOML file is read too."""
    policy = Policy(name="hcmc", partial_wait_days=0, rat_validity_hours=24, test_pass=Pass.GREEN)
    path = tmp_path / "p.json"
    path.write_text(json.dumps(policy.to_dict()))
    assert Policy.from_file(path) == policy
    toml = tmp_path / "p.toml"
    toml.write_text('name = "strict"\nrecovery_pass = "yellow"\naccepted_products = ["EU/1/20/1528"]\n'
                    "naat_validity_hours = 48\n")
    loaded = Policy.from_file(toml)
    assert loaded.recovery_pass is Pass.YELLOW and loaded.accepted_products == {COMIRNATY}
    assert loaded.naat_validity_hours == 48 and loaded.complete_wait_days == 14


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"complete_wait": 14}, "complete_wait"),
        ({"accepted_products": ["EU/1/20/1528", "Pfizer"]}, "Pfizer"),
        ({"accepted_products": "EU/1/20/1528"}, "accepted_products"),
        ({"complete_wait_days": -1}, "complete_wait_days"),
        ({"complete_wait_days": True}, "complete_wait_days"),
        ({"naat_validity_hours": 1.5}, "naat_validity_hours"),
        ({"partial_accepted": "yes"}, "partial_accepted"),
        ({"test_pass": "RED"}, "test_pass"),
        ({"booster_min_dose": 1}, "booster_min_dose"),
        ({"utc_offset_minutes": 2000}, "utc_offset_minutes"),
    ],
)
def test_bad_policy_settings_are_named(data: dict[str, Any], needle: str) -> None:
    """A bad setting is refused with a ConfigurationError naming it."""
    with pytest.raises(ConfigurationError, match=needle):
        Policy.from_mapping(data)


def test_unreadable_policy_files(tmp_path: Any) -> None:
    """A missing file or broken JSON/TOML is a ConfigurationError."""
    broken = tmp_path / "p.toml"
    broken.write_text("name = \n")
    for path in (tmp_path / "missing.json", broken):
        with pytest.raises(ConfigurationError, match="policy"):
            Policy.from_file(path)
