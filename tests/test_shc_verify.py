"""SMART Health Cards built with the spec's example issuer key: every verdict of the pipeline."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import logging
from typing import Any

import pytest

from conftest import NOW
from shc_support import (
    EXAMPLE_ISS,
    EXAMPLE_KID,
    NBF,
    bundle_of,
    card,
    example_jwks,
    example_key,
    example_trust,
    fixture_bundle,
    immunization,
    make_claims,
    minify,
    new_issuer,
    qr_chunks,
    qr_text,
    raw_deflate,
    shc_file,
    sign,
)
from vaxcert import FailureCode, Stage
from vaxcert.events import COVID_19, CVX, ICD11_MMS, SNOMED_CT, PartialDate
from vaxcert.formats.shc import ShcTrust, ShcVerifier, verify_shc, verify_shc_all
from vaxcert.formats.shc.jws import MAX_INFLATED, MAX_JSON_DEPTH, MAX_JWS_CHARS, b64url_encode
from vaxcert.formats.shc.numeric import MAX_QR_CHARS
from vaxcert.formats.shc.verify import MAX_FILE_BYTES


def _verify(source: Any, trust: ShcTrust | None = None, **kwargs: Any) -> Any:
    return verify_shc(source, trust or example_trust(), now=kwargs.pop("now", NOW), **kwargs)


def _fails(source: Any, code: FailureCode, stage: Stage, trust: ShcTrust | None = None, **kwargs: Any) -> Any:
    result = _verify(source, trust, **kwargs)
    assert (result.valid, result.code, result.stage) == (False, code, stage), result.reason
    assert result.holder is None and result.events == ()
    return result


# -- valid cards --------------------------------------------------------------------------------


def test_fixture_card_as_qr() -> None:
    """The spec's COVID fixture, signed and numerically encoded, verifies with holder and events."""
    result = _verify(qr_text(card()))
    assert result.valid, result.reason
    assert (result.source, result.iss, result.kid, result.format) == ("qr", EXAMPLE_ISS, EXAMPLE_KID, "shc")
    assert result.issuer_name == "SMART Health Cards example issuer"
    assert result.issued_at == dt.datetime(2021, 6, 1, 12, 0, tzinfo=dt.UTC)
    assert result.expires_at is None
    assert "https://smarthealth.cards#immunization" in result.types
    holder = result.holder
    assert holder is not None
    assert (holder.family, holder.given, holder.birth_date) == ("Anyperson", "John B.", PartialDate(1951, 1, 20))
    assert [(e.product.code, e.eu_product, e.date.isoformat() if e.date else None, e.lot) for e in result.events] == [
        ("207", "EU/1/20/1507", "2021-01-01", "0000001"),
        ("207", "EU/1/20/1507", "2021-01-29", "0000007"),
        ("229", "EU/1/20/1507", "2022-09-05", "0000001"),
    ]
    first = result.events[0]
    assert (first.product.system, first.disease, first.vaccine_type, first.manufacturer) == (
        CVX, COVID_19, "1119349007", "ORG-100031184")
    assert first.performer == "ABC General Hospital"
    assert first.dose_number is None and first.country is None
    assert result.trace.jws is not None and result.trace.claims_json is not None


def test_forms_of_one_card() -> None:
    """QR text (any case, whitespace around), bytes with BOM, bare JWS and files give the same verdict."""
    jws = card()
    text = qr_text(jws)
    sources: list[Any] = [text, "  " + text + "\n", "SHC:/" + text[5:], text.encode(), b"\xef\xbb\xbf" + text.encode(),
                          jws, jws.encode(), shc_file(jws), shc_file(jws).decode(), [text], bytearray(text.encode()),
                          memoryview(shc_file(jws))]
    kinds = []
    for source in sources:
        result = _verify(source)
        assert result.valid, (type(source), result.reason)
        kinds.append(result.source)
    assert kinds == ["qr"] * 5 + ["jws"] * 2 + ["file"] * 2 + ["qr", "qr", "file"]


def test_raw_fixture_with_ids_and_long_urls_verifies() -> None:
    """A bundle not minified for QR codes (ids, long fullUrls) verifies; the long URIs give a warning."""
    bundle = fixture_bundle()
    for index, entry in enumerate(bundle["entry"]):
        entry["fullUrl"] = f"https://example.org/fhir/{index}"
    for entry in bundle["entry"][1:]:
        entry["resource"]["patient"]["reference"] = "https://example.org/fhir/0"
    result = _verify(sign(make_claims(bundle)))
    assert result.valid, result.reason
    assert any("resource:N" in w for w in result.warnings)


def test_float_nbf_and_future_exp() -> None:
    """nbf may be a float (the spec's examples are); a future exp is reported."""
    exp = NOW + dt.timedelta(days=30)
    result = _verify(card(nbf=NBF + 0.512, exp=exp.timestamp()))
    assert result.valid, result.reason
    assert result.expires_at == exp


def test_times() -> None:
    """nbf after now is NOT_YET_VALID, exp before now EXPIRED; clock_skew widens both."""
    future = (NOW + dt.timedelta(minutes=5)).timestamp()
    _fails(card(nbf=future), FailureCode.NOT_YET_VALID, Stage.TIME)
    assert _verify(card(nbf=future), clock_skew=600).valid
    past = (NOW - dt.timedelta(minutes=5)).timestamp()
    _fails(card(exp=past), FailureCode.EXPIRED, Stage.TIME)
    assert _verify(card(exp=past), clock_skew=600).valid


@pytest.mark.parametrize("nbf", [None, "1622548800", True, 1e300, -1, [1]])
def test_bad_nbf(nbf: Any) -> None:
    """nbf is required and must be a plausible NumericDate."""
    claims = make_claims()
    if nbf is None:
        del claims["nbf"]
    else:
        claims["nbf"] = nbf
    _fails(sign(claims), FailureCode.SHC_CLAIMS_INVALID, Stage.PAYLOAD)


def test_bad_exp() -> None:
    """exp, when present, must be a number."""
    claims = make_claims()
    claims["exp"] = "soon"
    _fails(sign(claims), FailureCode.SHC_CLAIMS_INVALID, Stage.PAYLOAD)


def test_vc_type() -> None:
    """vc.type must hold the health-card type (extra types are ignored) and be a list of strings."""
    assert _verify(card(types=["https://smarthealth.cards#health-card", "https://example.org#other"])).valid
    _fails(card(types=["https://smarthealth.cards#immunization"]), FailureCode.SHC_NOT_HEALTH_CARD, Stage.PAYLOAD)
    claims = make_claims()
    claims["vc"]["type"] = "https://smarthealth.cards#health-card"
    _fails(sign(claims), FailureCode.SHC_CLAIMS_INVALID, Stage.PAYLOAD)


@pytest.mark.parametrize("change", ["no_vc", "no_iss", "not_object", "no_subject"])
def test_claims_shape(change: str) -> None:
    """Signed claims without vc, iss, an object shape or credentialSubject fail at the payload."""
    claims: Any = make_claims()
    expected = (FailureCode.SHC_CLAIMS_INVALID, Stage.PAYLOAD)
    if change == "no_vc":
        del claims["vc"]
    elif change == "no_iss":
        del claims["iss"]
    elif change == "not_object":
        claims = [claims]
    else:
        del claims["vc"]["credentialSubject"]
        expected = (FailureCode.FHIR_BUNDLE_INVALID, Stage.FHIR)
    _fails(sign(minify(claims)), *expected)


# -- chunks ---------------------------------------------------------------------------------------


def _long_card() -> str:
    """A card too long for one QR code (more than 1,195 JWS characters)."""
    doses = [immunization(date=f"2021-{month:02d}-{day:02d}",
                          lotNumber=hashlib.sha256(f"{month}/{day}".encode()).hexdigest()[:16])
             for month in range(1, 13) for day in (3, 17)]
    jws = card(bundle_of(*doses))
    assert len(jws) > 1195
    return jws


def test_chunked_card_in_any_order() -> None:
    """The deprecated chunked form verifies whatever order the chunks are scanned in."""
    chunks = qr_chunks(_long_card(), 3)
    assert [c.split("/")[1:3] for c in chunks] == [["1", "3"], ["2", "3"], ["3", "3"]]
    for order in itertools.permutations(chunks):
        result = _verify(list(order))
        assert result.valid, result.reason
        assert result.source == "qr-chunks"
        assert len(result.events) == 24


def test_chunk_failures() -> None:
    """Missing chunks, disagreeing counts and different codes for one chunk are refused."""
    jws = _long_card()
    chunks = qr_chunks(jws, 3)
    _fails(chunks[:2], FailureCode.SHC_CHUNKS_INCOMPLETE, Stage.PREFIX)
    _fails(chunks[:1], FailureCode.SHC_CHUNKS_INCOMPLETE, Stage.PREFIX)
    other = qr_chunks(jws, 2)
    _fails([chunks[0], other[1], chunks[2]], FailureCode.SHC_CHUNK_INVALID, Stage.PREFIX)
    altered = chunks[1][:-2] + ("00" if not chunks[1].endswith("00") else "01")
    _fails([chunks[0], chunks[1], altered, chunks[2]], FailureCode.SHC_CHUNK_INVALID, Stage.PREFIX)
    assert _verify([chunks[2], chunks[0], chunks[1], chunks[0]]).valid  # the same chunk scanned twice
    _fails([chunks[0], 42, chunks[2]], FailureCode.INPUT_NOT_TEXT, Stage.INPUT)
    _fails([], FailureCode.PREFIX_MISSING, Stage.PREFIX)


# -- trust --------------------------------------------------------------------------------------


def test_unknown_issuer_and_unknown_key() -> None:
    """A card from an issuer not in the trust set is ISSUER_UNKNOWN; a new key of a trusted issuer KID_UNKNOWN."""
    key, kid, _ = new_issuer()
    stranger = sign(make_claims(iss="https://stranger.example"), key, kid=kid)
    result = _fails(stranger, FailureCode.ISSUER_UNKNOWN, Stage.TRUST)
    assert (result.iss, result.kid, result.claims) == ("https://stranger.example", kid, None)
    _fails(sign(make_claims(), key, kid=kid), FailureCode.KID_UNKNOWN, Stage.TRUST)
    _fails(sign(b"not deflated json", key, kid=kid, compress=False,
                header={"zip": "DEF", "alg": "ES256", "kid": kid}), FailureCode.KID_UNKNOWN, Stage.TRUST)


def test_key_trusted_for_another_issuer() -> None:
    """A trusted key signing for an issuer it does not belong to is refused; shared keys work for both issuers."""
    key, kid, jwk = new_issuer()
    other = ShcTrust.from_documents([{"iss": "https://other.example", "keys": [jwk]}])
    trust = example_trust().merged(other)
    _fails(sign(make_claims(iss="https://other.example")), FailureCode.KID_UNKNOWN, Stage.TRUST, trust)
    _fails(sign(make_claims(iss=EXAMPLE_ISS), key, kid=kid), FailureCode.KID_UNKNOWN, Stage.TRUST, trust)
    assert _verify(sign(make_claims(iss="https://other.example"), key, kid=kid), trust).valid
    both = trust.merged(ShcTrust.from_documents([{"iss": "https://alias.example", "keys": [jwk]}]))
    for iss in ("https://other.example", "https://alias.example"):
        result = _verify(sign(make_claims(iss=iss), key, kid=kid), both)
        assert (result.valid, result.iss) == (True, iss)


def test_signatures() -> None:
    """A signature by another key under a trusted kid, or over altered content, is SIGNATURE_INVALID."""
    key, _, _ = new_issuer()
    _fails(sign(make_claims(), key, kid=EXAMPLE_KID), FailureCode.SIGNATURE_INVALID, Stage.SIGNATURE)
    header, _, signature = card().split(".")
    claims = make_claims()
    claims["vc"]["credentialSubject"]["fhirBundle"]["entry"][0]["resource"]["birthDate"] = "1971-01-20"
    forged = ".".join((header, b64url_encode(raw_deflate(minify(claims))), signature))
    _fails(forged, FailureCode.SIGNATURE_INVALID, Stage.SIGNATURE)
    _fails(sign(make_claims(), der=True), FailureCode.SIGNATURE_DER_ENCODED, Stage.SIGNATURE)


def test_header_failures() -> None:
    """alg, zip, kid and crit in the protected header are checked before anything else."""
    kid = EXAMPLE_KID
    cases = [
        ({"alg": "ES256", "kid": kid}, FailureCode.NOT_COMPRESSED),
        ({"zip": "GZIP", "alg": "ES256", "kid": kid}, FailureCode.NOT_COMPRESSED),
        ({"zip": "DEF", "kid": kid}, FailureCode.ALGORITHM_MISSING),
        ({"zip": "DEF", "alg": "ES384", "kid": kid}, FailureCode.ALGORITHM_UNSUPPORTED),
        ({"zip": "DEF", "alg": "none", "kid": kid}, FailureCode.ALGORITHM_UNSUPPORTED),
        ({"zip": "DEF", "alg": "ES256"}, FailureCode.KID_MISSING),
        ({"zip": "DEF", "alg": "ES256", "kid": ""}, FailureCode.KID_MISSING),
        ({"zip": "DEF", "alg": "ES256", "kid": 7}, FailureCode.KID_MISSING),
        ({"zip": "DEF", "alg": "ES256", "kid": kid, "crit": ["b64"], "b64": False}, FailureCode.JWS_INVALID),
    ]
    for header, code in cases:
        result = _verify(sign(make_claims(), header=header))
        assert (result.valid, result.code) == (False, code), header
    # extra, non-critical header members are fine
    assert _verify(sign(make_claims(), header={"zip": "DEF", "alg": "ES256", "kid": kid, "typ": "JWT"})).valid


def test_deflate_failures() -> None:
    """A zlib-wrapped payload, trailing bytes and a decompression bomb are refused after the signature."""
    import zlib

    claims = minify(make_claims())
    header = {"zip": "DEF", "alg": "ES256", "kid": EXAMPLE_KID}
    _fails(sign(zlib.compress(claims), header=header, compress=False), FailureCode.DECOMPRESSION_FAILED,
           Stage.COMPRESSION)
    _fails(sign(raw_deflate(claims) + b"\x00", header=header, compress=False), FailureCode.DECOMPRESSION_FAILED,
           Stage.COMPRESSION)
    _fails(sign(raw_deflate(claims)[:-3], header=header, compress=False), FailureCode.DECOMPRESSION_FAILED,
           Stage.COMPRESSION)
    bomb = raw_deflate(b'{"iss":"' + b"a" * (MAX_INFLATED + 1) + b'"}')
    _fails(sign(bomb, header=header, compress=False), FailureCode.DECOMPRESSED_TOO_LARGE, Stage.COMPRESSION)


def test_json_failures() -> None:
    """Signed claims that are not JSON, repeat keys, or nest too deeply are refused."""
    for payload in (b"\xff\xfe{}", b'{"iss": 1, "iss": 2}', b"{", b'{"nbf": NaN}'):
        _fails(sign(payload), FailureCode.JSON_INVALID, Stage.PAYLOAD)
    def nested(depth: int) -> bytes:
        return b'{"a":' * depth + b"1" + b"}" * depth

    _fails(sign(nested(MAX_JSON_DEPTH)), FailureCode.SHC_CLAIMS_INVALID, Stage.PAYLOAD)  # deep enough, no iss
    _fails(sign(nested(MAX_JSON_DEPTH + 1)), FailureCode.JSON_TOO_DEEP, Stage.PAYLOAD)
    very_deep = b"[" * 100_000 + b"]" * 100_000
    _fails(sign(very_deep), FailureCode.JSON_TOO_DEEP, Stage.PAYLOAD)


def test_size_caps() -> None:
    """Every stage has a cap: input, QR text, JWS."""
    _fails("x" * (MAX_FILE_BYTES + 1), FailureCode.INPUT_TOO_LARGE, Stage.INPUT)
    _fails(b"x" * (MAX_FILE_BYTES + 1), FailureCode.INPUT_TOO_LARGE, Stage.INPUT)
    _fails("shc:/" + "56" * MAX_QR_CHARS, FailureCode.INPUT_TOO_LARGE, Stage.INPUT)
    _fails(["shc:/1/2/" + "5" * (MAX_FILE_BYTES // 2 + 2)] * 2, FailureCode.INPUT_TOO_LARGE, Stage.INPUT)
    long_jws = "eyJ" + "A" * MAX_JWS_CHARS + ".AA.AA"
    _fails(long_jws, FailureCode.INPUT_TOO_LARGE, Stage.JWS)
    _fails(shc_file(*[card()] * 17), FailureCode.SHC_FILE_INVALID, Stage.INPUT)


def test_inputs_that_are_not_cards() -> None:
    """Other text, non-UTF-8 bytes, other types and broken files fail at the input."""
    _fails("HC1:6BFOXN*TS0BI$ZD8UHYKMO", FailureCode.PREFIX_MISSING, Stage.PREFIX)
    _fails("", FailureCode.PREFIX_MISSING, Stage.PREFIX)
    _fails(b"\xff\x00shc:/", FailureCode.INPUT_NOT_TEXT, Stage.INPUT)
    _fails(12345, FailureCode.INPUT_NOT_TEXT, Stage.INPUT)
    _fails("[]", FailureCode.PREFIX_MISSING, Stage.PREFIX)
    for document in ("{", "{}", '{"verifiableCredential": "x"}', '{"verifiableCredential": []}',
                     '{"verifiableCredential": [1]}', '{"resourceType": "Parameters", "parameter": {}}',
                     '{"resourceType": "Parameters", "parameter": []}', '{"a": {"b": {"c": {"d": {"e": {"f": '
                     '{"g": {"h": {"i": 1}}}}}}}}}'):
        _fails(document, FailureCode.SHC_FILE_INVALID, Stage.INPUT)
    _fails("{" + '"verifiableCredential": ["not.a.jws"]}', FailureCode.JWS_INVALID, Stage.JWS)
    _fails("a.b", FailureCode.PREFIX_MISSING, Stage.PREFIX)
    _fails("shc:/" + qr_text(card())[5:] + "x", FailureCode.SHC_NUMERIC_INVALID, Stage.NUMERIC)


def test_naive_now_is_refused_as_result() -> None:
    """A naive 'now' is a caller bug, reported as INTERNAL_ERROR without raising."""
    result = verify_shc(qr_text(card()), example_trust(), now=dt.datetime(2026, 1, 1))
    assert (result.valid, result.code) == (False, FailureCode.INTERNAL_ERROR)


def test_file_with_one_bad_card() -> None:
    """Each card of a file gets its own verdict; a bad one does not hide a good one."""
    key, kid, _ = new_issuer()
    results = verify_shc_all(shc_file(card(), sign(make_claims(), key, kid=kid)), example_trust(), now=NOW)
    assert [(r.valid, r.code, r.index) for r in results] == [
        (True, FailureCode.OK, 0), (False, FailureCode.KID_UNKNOWN, 1)]
    assert len(verify_shc_all(qr_text(card()), example_trust(), now=NOW)) == 1


# -- the FHIR bundle --------------------------------------------------------------------------


def _bundle_verdict(bundle: Any) -> Any:
    claims = make_claims()
    claims["vc"]["credentialSubject"]["fhirBundle"] = bundle
    return _verify(sign(claims))


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda b: b.update(type="document"), FailureCode.FHIR_BUNDLE_INVALID),
        (lambda b: b.update(resourceType="Parameters"), FailureCode.FHIR_BUNDLE_INVALID),
        (lambda b: b.update(entry=[]), FailureCode.FHIR_BUNDLE_INVALID),
        (lambda b: b["entry"].pop(0), FailureCode.FHIR_BUNDLE_INVALID),
        (lambda b: b["entry"].append(dict(b["entry"][0], fullUrl="resource:9")), FailureCode.FHIR_BUNDLE_INVALID),
        (lambda b: b["entry"][2].update(fullUrl="resource:1"), FailureCode.FHIR_BUNDLE_INVALID),
        (lambda b: b["entry"][1]["resource"]["patient"].update(reference="resource:5"),
         FailureCode.FHIR_BUNDLE_INVALID),
        (lambda b: b["entry"][1]["resource"].pop("patient"), FailureCode.FHIR_BUNDLE_INVALID),
        (lambda b: b["entry"][0]["resource"].update(birthDate="20/01/1951"), FailureCode.FHIR_BUNDLE_INVALID),
        (lambda b: b["entry"][0]["resource"].pop("name"), FailureCode.FHIR_BUNDLE_INVALID),
        (lambda b: b["entry"][0]["resource"].update(name=[{"use": "official"}]), FailureCode.FHIR_BUNDLE_INVALID),
        (lambda b: b["entry"][1]["resource"].pop("occurrenceDateTime"), FailureCode.FHIR_BUNDLE_INVALID),
        (lambda b: b["entry"][1]["resource"].update(occurrenceDateTime="yesterday"), FailureCode.FHIR_BUNDLE_INVALID),
        (lambda b: b["entry"][1]["resource"].pop("status"), FailureCode.FHIR_BUNDLE_INVALID),
        (lambda b: b["entry"][1]["resource"]["vaccineCode"].update(coding=[{"code": "207"}]),
         FailureCode.FHIR_BUNDLE_INVALID),
        (lambda b: b.update(entry=b["entry"][:1]), FailureCode.FHIR_NO_IMMUNIZATION),
        (lambda b: b["entry"].__setitem__(1, 5), FailureCode.FHIR_BUNDLE_INVALID),
    ],
)
def test_bundle_failures(change: Any, code: FailureCode) -> None:
    """Structural problems in the bundle fail at the FHIR stage, naming the element."""
    bundle = bundle_of(immunization(), immunization(date="2021-02-01"))
    change(bundle)
    result = _bundle_verdict(bundle)
    assert (result.valid, result.code, result.stage) == (False, code, Stage.FHIR), result.reason
    assert result.claims is not None  # the signature held
    assert "Anyperson" not in result.reason and "1951" not in result.reason


def test_lab_card_is_not_a_vaccination_record() -> None:
    """A valid card without Immunizations (the spec's lab report fixture) is FHIR_NO_IMMUNIZATION."""
    bundle = fixture_bundle("dr-bundle")
    bundle["entry"].insert(0, bundle_of()["entry"][0])
    result = _bundle_verdict(bundle)
    assert (result.code, result.stage) == (FailureCode.FHIR_NO_IMMUNIZATION, Stage.FHIR)


def test_bundle_details() -> None:
    """Partial birth dates, official names, dose numbers, not-done doses and other resources are read as stated."""
    patient = {"resourceType": "Patient", "birthDate": "1951-01",
               "name": [{"use": "nickname", "given": ["Johnny"]},
                        {"use": "official", "family": " Anyperson ", "given": ["John", "B."]}]}
    bundle = bundle_of(
        immunization(date="2021-02-01", protocolApplied=[{"doseNumberPositiveInt": 2, "seriesDosesPositiveInt": 2}]),
        immunization(date="2021-01-01T09:30:00-05:00", protocolApplied=[{"doseNumberString": "1"}]),
        immunization(status="not-done"),
        immunization(code="XM0GQ8", system=ICD11_MMS, date="2021-12-01"),
        {"resourceType": "Observation", "status": "final"},
        patient=patient,
    )
    result = _bundle_verdict(bundle)
    assert result.valid, result.reason
    assert result.holder.birth_date == PartialDate(1951, 1)
    assert (result.holder.family, result.holder.given) == ("Anyperson", "John B.")
    assert [(e.date.isoformat(), e.dose_number, e.series_doses) for e in result.events] == [
        ("2021-01-01", 1, None), ("2021-02-01", 2, 2), ("2021-12-01", None, None)]
    generic = result.events[2]
    assert (generic.product.system, generic.eu_product, generic.vaccine_type) == (ICD11_MMS, None, "1119349007")
    assert any("not a completed vaccination" in w for w in result.warnings)
    assert any("other than Patient and Immunization" in w for w in result.warnings)


@pytest.mark.parametrize("written", ["²", "①", "٣", " ³ ", "1²", "9" * 5000])
def test_dose_numbers_in_other_digits_are_unknown(written: str) -> None:
    """A dose number in '²', '①', other scripts' digits or past int()'s 4,300 digits is unknown, not INTERNAL_ERROR."""
    bundle = bundle_of(immunization(protocolApplied=[{"doseNumberString": written, "seriesDosesString": written}]))
    result = _bundle_verdict(bundle)
    assert result.valid, result.reason
    assert [(e.dose_number, e.series_doses) for e in result.events] == [(None, None)]


def test_product_codings() -> None:
    """The mapped coding is chosen among several; unknown codes keep their code with no EU product."""
    both = immunization(vaccineCode={"coding": [{"system": "https://example.org/local", "code": "X1"},
                                                {"system": SNOMED_CT, "code": "28581000087106"}]})
    unknown = immunization(code="99999", date="2021-03-01")
    other_icd = immunization(code="XM4YL8", system="http://id.who.int/icd11/mms", date="2021-04-01")
    result = _bundle_verdict(bundle_of(both, unknown, other_icd))
    assert result.valid, result.reason
    assert [(e.product.system, e.product.code, e.eu_product) for e in result.events] == [
        (SNOMED_CT, "28581000087106", "EU/1/20/1528"),
        (CVX, "99999", None),
        (ICD11_MMS, "XM4YL8", "EU/1/21/1529"),
    ]
    assert len(result.events[0].codes) == 2
    assert any("not in the vaccine code table" in w for w in result.warnings)


# -- revocation -----------------------------------------------------------------------------


def _trust_with_crl(rids: list[str], ctr: int = 1) -> ShcTrust:
    document = {"iss": EXAMPLE_ISS, "keys": example_jwks()["keys"],
                "crls": [{"kid": EXAMPLE_KID, "method": "rid", "ctr": ctr, "rids": rids}]}
    return ShcTrust.from_documents([document])


def test_revocation() -> None:
    """The spec's revoked fixture is REVOKED by its rid; a timestamp revokes only cards issued before it."""
    revoked = card(fixture_bundle("revoked-bundle"), rid="MKPbPMJyU3Q")
    plain = _verify(revoked)
    assert plain.valid and plain.rid == "MKPbPMJyU3Q"
    assert any("revocation list" in w for w in plain.warnings)  # the key has crlVersion 1, no list loaded
    _fails(revoked, FailureCode.REVOKED, Stage.REVOCATION, _trust_with_crl(["MKPbPMJyU3Q"]))
    _fails(revoked, FailureCode.REVOKED, Stage.REVOCATION, _trust_with_crl([f"MKPbPMJyU3Q.{NBF + 1}"]))
    assert _verify(revoked, _trust_with_crl([f"MKPbPMJyU3Q.{NBF}"])).valid
    assert _verify(card(rid="other"), _trust_with_crl(["MKPbPMJyU3Q"])).valid
    assert not _verify(card(), _trust_with_crl(["MKPbPMJyU3Q"])).warnings
    _fails(revoked, FailureCode.REVOCATION_LIST_STALE, Stage.REVOCATION, _trust_with_crl([], ctr=0))


def test_malformed_rid_is_a_warning() -> None:
    """A rid outside the base64url alphabet cannot be looked up; the card is reported with a warning."""
    result = _verify(card(rid="not a rid!"), _trust_with_crl(["x"]))
    assert result.valid and result.rid is None
    assert any("rid is malformed" in w for w in result.warnings)


# -- privacy ------------------------------------------------------------------------------------


def test_results_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    """repr, the default dict and logs never hold names, birth dates or the card text."""
    caplog.set_level(logging.DEBUG)
    text = qr_text(card())
    valid = _verify(text)
    broken = _verify(text[:-2] + "99")
    key, kid, _ = new_issuer()
    unknown = _verify(sign(make_claims(), key, kid=kid))
    for result in (valid, broken, unknown):
        for shown in (repr(result), json.dumps(result.to_dict()), repr(result.trace), repr(result.holder),
                      repr(result.events)):
            assert "Anyperson" not in shown and "1951" not in shown and text[5:40] not in shown
    assert "Anyperson" not in caplog.text and text[5:40] not in caplog.text
    shown = valid.to_dict(show_payload=True)
    assert shown["holder"]["family"] == "Anyperson"
    assert [e["eu_product"] for e in shown["events"]] == ["EU/1/20/1507"] * 3
    assert shown["claims"]["iss"] == EXAMPLE_ISS


def test_verifier_object_reuses_trust() -> None:
    """ShcVerifier holds trust, product table and clock skew for many verifications."""
    verifier = ShcVerifier(example_trust(), clock_skew=0)
    assert all(verifier.verify(qr_text(card(nbf=NBF + i)), now=NOW).valid for i in range(3))
    assert verifier.verify(qr_text(card()), now=NOW).events[0].eu_product == "EU/1/20/1507"
    assert example_key().public_key().public_numbers() == \
        example_trust().issuers[EXAMPLE_ISS].keys[EXAMPLE_KID].public_key.public_numbers()
