"""One verification front for EU DCCs and SMART Health Cards: detection, one result type, the DCC view."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
import segno
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from cli_inprocess import run
from conftest import NOW, SHARED, Pki
from shc_support import (
    EXAMPLE_ISS,
    bundle_of,
    card,
    example_jwks,
    example_trust,
    immunization,
    make_claims,
    qr_chunks,
    qr_text,
    shc_file,
    sign,
)
from test_issue_verify import VACCINATION
from vaxcert import (
    DEFAULT_POLICY,
    FORMAT_DCC,
    FORMAT_SHC,
    FailureCode,
    Issuer,
    Pass,
    PassRules,
    Reason,
    Scanner,
    Stage,
    Verifier,
    assess,
    detect_format,
    scan,
    verify,
    verify_image,
)
from vaxcert.formats.dccview import dcc_view
from vaxcert.formats.shc import ShcTrust
from vaxcert.formats.shc.jws import b64url_decode, b64url_encode
from vaxcert.stages import cbor, cose, hc1

#: The P-256 group order: (r, n - s) is the other valid ECDSA signature of the same content.
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
AFTER = NOW + dt.timedelta(hours=1)


def _verifier(pki: Pki) -> Verifier:
    return Verifier(pki.trust, shc_trust=example_trust())


def _hc1(pki: Pki, payload: dict[str, Any] | None = None) -> str:
    return Issuer(pki.signer, facility_override=True).issue(payload or VACCINATION, now=NOW).hc1


def _recent_card(*dates: str, code: str = "208", **immunization_fields: Any) -> str:
    """A card of the example issuer with Pfizer (CVX 208) doses on ``dates``."""
    doses = [immunization(code=code, date=day, **immunization_fields) for day in dates]
    return card(bundle_of(*doses))


def _days_ago(days: int) -> str:
    return (NOW.astimezone(dt.timezone(dt.timedelta(hours=7))).date() - dt.timedelta(days=days)).isoformat()


# -- detection -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("HC1:NCFOXN", FORMAT_DCC),
        ("  HC1:NCFOXN", FORMAT_DCC),
        (b"\xd2\x84C\xa1", FORMAT_DCC),
        ("shc:/5676", FORMAT_SHC),
        ("SHC:/1/2/5676", FORMAT_SHC),
        ("\ufeff{\"verifiableCredential\": []}", FORMAT_SHC),
        (b"\xef\xbb\xbf {\"verifiableCredential\": []}", FORMAT_SHC),
        ("eyJhbGciOiJFUzI1NiJ9.eyJ4IjoxfQ.c2ln", FORMAT_SHC),
        (["shc:/1/2/56", "shc:/2/2/76"], FORMAT_SHC),
        ("https://example.org", None),
        ("NCFOXN%TS3DH", None),
        ([], None),
        ([1, 2], None),
    ],
)
def test_detect_format(data: Any, expected: str | None) -> None:
    """The format is told from the first characters: HC1:/COSE, shc:/, JWS, a card file, chunk lists."""
    assert detect_format(data) == expected


# -- one result type ------------------------------------------------------------------------------


def test_dcc_result_has_format_holder_and_events(pki: Pki) -> None:
    """An HC1 result says eu-dcc and gives the normalised holder and its one event, computed on access."""
    result = _verifier(pki).verify(_hc1(pki), now=AFTER)
    assert result.valid and result.format == FORMAT_DCC and result.shc is None
    assert result.key_id == result.kid.hex() and result.iss is None  # type: ignore[union-attr]
    assert result.holder is not None and result.holder.family == "Nguyễn" and result.holder.given_std == "VAN<DUC"
    (event,) = result.events
    assert (event.eu_product, event.dose_number, event.series_doses, event.country) == ("EU/1/20/1528", 2, 2, "VN")
    data = result.to_dict()
    assert data["format"] == "eu-dcc" and "holder" not in data and "Nguyễn" not in json.dumps(data)
    shown = result.to_dict(show_payload=True)
    assert shown["holder"]["family"] == "Nguyễn" and shown["events"][0]["eu_product"] == "EU/1/20/1528"


def test_invalid_dcc_has_no_holder(pki: Pki) -> None:
    """Without a verified signature there is no holder, no events and no content hash."""
    result = Verifier(shc_trust=example_trust()).verify(_hc1(pki), now=AFTER)
    assert (result.valid, result.code, result.format) == (False, FailureCode.KID_UNKNOWN, FORMAT_DCC)
    assert result.holder is None and result.events == () and result.content_hash is None


@pytest.mark.parametrize("presentation", ["qr", "chunks", "jws", "file-text", "file-bytes"])
def test_shc_presentations_give_one_result_type(pki: Pki, presentation: str) -> None:
    """shc:/ text, chunk lists, a bare JWS and .smart-health-card content all verify to a VerificationResult."""
    jws = card()
    source: Any = {"qr": qr_text(jws), "chunks": list(reversed(qr_chunks(jws, 3))), "jws": jws,
                   "file-text": shc_file(jws).decode(), "file-bytes": shc_file(jws)}[presentation]
    result = _verifier(pki).verify(source, now=NOW)
    assert result.valid, result.reason
    assert result.format == FORMAT_SHC and result.cert_type == "v" and result.algorithm == "ES256"
    assert result.iss == EXAMPLE_ISS and result.key_id == result.shc.kid  # type: ignore[union-attr]
    assert result.holder is not None and result.holder.family == "Anyperson"
    assert [e.product.code for e in result.events] == ["207", "207", "229"]
    assert result.payload is not None and result.payload["v"][0]["mp"] == "EU/1/20/1507"
    assert result.payload["v"][0]["dn"] == 3
    assert result.issued_at is not None and result.kid is None and result.signer is None
    data = result.to_dict()
    assert (data["format"], data["iss"], data["kid"]) == ("shc", EXAMPLE_ISS, result.key_id)
    assert "Anyperson" not in json.dumps(data) and "Anyperson" not in repr(result)


def test_shc_failures_keep_their_codes(pki: Pki) -> None:
    """Health Card failures keep the SHC pipeline's codes and stages through the front."""
    verifier = _verifier(pki)
    der = verifier.verify(sign(make_claims(), der=True), now=NOW)
    assert (der.code, der.stage, der.format) == (FailureCode.SIGNATURE_DER_ENCODED, Stage.SIGNATURE, FORMAT_SHC)
    assert verifier.verify("shc:/567", now=NOW).code == FailureCode.SHC_NUMERIC_INVALID
    assert verifier.verify(qr_chunks(card(), 3)[:2], now=NOW).code == FailureCode.SHC_CHUNKS_INCOMPLETE
    untrusted = Verifier(pki.trust).verify(qr_text(card()), now=NOW)
    assert (untrusted.code, untrusted.stage) == (FailureCode.ISSUER_UNKNOWN, Stage.TRUST)
    assert untrusted.payload is None and untrusted.holder is None and untrusted.cert_type is None
    family = shc_file(card(), card())
    assert verifier.verify(family, now=NOW).code == FailureCode.SHC_FILE_INVALID
    assert [r.valid for r in verifier.verify_all(family, now=NOW)] == [True, True]
    assert verifier.verify_all(_hc1(pki), now=AFTER)[0].format == FORMAT_DCC


def test_module_verify_takes_both_trusts(pki: Pki) -> None:
    """vaxcert.verify checks a Health Card against shc_trust and a DCC against trust."""
    assert verify(qr_text(card()), shc_trust=example_trust(), now=NOW).valid
    assert verify(_hc1(pki), pki.trust, now=AFTER).valid


# -- the signed-content hash ------------------------------------------------------------------------


def _other_signature(signature: bytes) -> bytes:
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    return r.to_bytes(32, "big") + (N - s).to_bytes(32, "big")


def test_content_hash_survives_reencoding_of_a_dcc(pki: Pki) -> None:
    """The other ECDSA signature, another compression and an untagged COSE give the same hash, another text."""
    text = _hc1(pki)
    original = _verifier(pki).verify(text, now=AFTER)
    message = hc1.unwrap(text).message
    untagged = cbor.dumps([message.protected_bytes, {}, message.payload, _other_signature(message.signature)])
    other = hc1.wrap(untagged)
    assert other != text and cose.decode(untagged).signature != message.signature
    again = _verifier(pki).verify(other, now=AFTER)
    assert again.valid and again.content_hash == original.content_hash is not None
    assert len(original.content_hash) == 64  # type: ignore[arg-type]
    changed = _verifier(pki).verify(_hc1(pki, {**VACCINATION, "dob": "1985-04-13"}), now=AFTER)
    assert changed.content_hash != original.content_hash


def test_content_hash_survives_the_other_shc_signature(pki: Pki) -> None:
    """(r, n - s) re-signs nothing: same signed content, same hash, another JWS text."""
    jws = card()
    head, body, signature = jws.split(".")
    twin = f"{head}.{body}.{b64url_encode(_other_signature(b64url_decode(signature)))}"
    first, second = (_verifier(pki).verify(j, now=NOW) for j in (jws, twin))
    assert first.valid and second.valid and twin != jws
    assert first.content_hash == second.content_hash is not None
    other = _verifier(pki).verify(_recent_card(_days_ago(30)), now=NOW)
    assert other.content_hash != first.content_hash


# -- the DCC view: how a Health Card meets the pass policy and the rules ----------------------------


def test_dcc_view_counts_doses_when_the_card_does_not_say(pki: Pki) -> None:
    """Two Pfizer doses: dn 2 (counted), sd 2 (the product's series), the last date, co from the trust file."""
    text = _recent_card(_days_ago(60), _days_ago(30))
    result = _verifier(pki).verify(text, now=NOW)
    entry = result.payload["v"][0]  # type: ignore[index]
    assert (entry["mp"], entry["dn"], entry["sd"], entry["dt"]) == ("EU/1/20/1528", 2, 2, _days_ago(30))
    assert entry["tg"] == "840539006" and entry["is"] == "SMART Health Cards example issuer" and "ci" not in entry
    assert "co" not in entry  # the example issuer's trust entry names no country
    with_country = ShcTrust.from_documents([{"iss": EXAMPLE_ISS, "country": "US", **example_jwks()}])
    assert Verifier(shc_trust=with_country).verify(text, now=NOW).payload["v"][0]["co"] == "US"  # type: ignore[index]
    assert result.payload["nam"] == {"fn": "Anyperson", "fnt": "ANYPERSON", "gn": "John B.", "gnt": "JOHN<B"}  # type: ignore[index]


@pytest.mark.parametrize(
    ("doses", "expected"),
    [
        ([("208", "2021-03-01"), ("208", "2021-03-01")], (1, 2)),  # one day listed twice is one dose
        ([("212", "2021-03-01")], (1, 1)),  # Janssen: a one-dose series
        ([("208", "2021-03-01"), ("208", "2021-03-22"), ("208", "2021-10-01")], (3, 2)),  # a booster
        ([("208", "2021-03"), ("208", "2021-03-22")], (1, 2)),  # a month-only date is not counted
    ],
)
def test_dcc_view_dose_numbers(doses: list[tuple[str, str]], expected: tuple[int, int]) -> None:
    """dn counts distinct complete dates; sd comes from the product; more doses than the series is a booster."""
    from vaxcert.events import CVX, Holder, NormalisedRecord, PartialDate, ProductCode, VaccinationEvent

    products = {"208": ("EU/1/20/1528", None), "212": ("EU/1/20/1525", None)}
    events = tuple(VaccinationEvent(ProductCode(CVX, code), products[code][0], PartialDate.parse(day),
                                    disease="840539006") for code, day in doses)
    view = dcc_view(NormalisedRecord(Holder("A", "B", PartialDate.parse("1990")), events))
    assert (view["v"][0]["dn"], view["v"][0]["sd"]) == expected and view["dob"] == "1990"


def test_dcc_view_uses_stated_dose_numbers_and_keeps_unknown_codes() -> None:
    """A stated doseNumber/seriesDoses wins; a code outside the table stays as mp (COVID only on a #covid19 card)."""
    from vaxcert.events import CVX, Holder, NormalisedRecord, PartialDate, ProductCode, VaccinationEvent

    stated = VaccinationEvent(ProductCode(CVX, "208"), "EU/1/20/1528", PartialDate.parse("2021-06-01"),
                              dose_number=3, series_doses=3, disease="840539006")
    assert dcc_view(NormalisedRecord(Holder("A", None, None), (stated,)))["v"][0]["dn"] == 3
    unknown = VaccinationEvent(ProductCode(CVX, "999"), None, PartialDate.parse("2021-06-01"))
    plain = dcc_view(NormalisedRecord(Holder("A", None, None), (unknown,)))["v"][0]
    covid = dcc_view(NormalisedRecord(Holder("A", None, None), (unknown,)), covid_card=True)["v"][0]
    assert (plain["mp"], plain["tg"], covid["tg"]) == ("999", "", "840539006")
    assert dcc_view(NormalisedRecord(Holder("A", None, None), ()))["v"] == []


@pytest.mark.parametrize(
    ("dates", "colour", "reason"),
    [
        ((60, 30), Pass.GREEN, Reason.FULLY_VACCINATED),
        ((30,), Pass.YELLOW, Reason.PARTIALLY_VACCINATED),
        ((60, 5), Pass.YELLOW, Reason.TOO_SOON_AFTER_DOSE),
        ((400, 380), Pass.RED, Reason.PASS_EXPIRED),
        ((200, 170, 3), Pass.GREEN, Reason.BOOSTER),
    ],
)
def test_policy_and_pass_rules_agree_on_health_cards(pki: Pki, dates: tuple[int, ...], colour: Pass,
                                                      reason: Reason) -> None:
    """The Python Policy and the VN pass as rules give the same verdict on a Health Card's DCC view."""
    result = _verifier(pki).verify(_recent_card(*(_days_ago(d) for d in dates)), now=NOW)
    assert result.valid, result.reason
    policy = assess(result, DEFAULT_POLICY, now=NOW)
    rules = PassRules.bundled().evaluate(result.payload, now=NOW, exp=result.expires_at, iat=result.issued_at)
    assert (policy.colour, policy.reason) == (colour, reason)
    assert (rules.colour, rules.reason) == (colour, reason)


def test_unmapped_vaccine_is_not_accepted(pki: Pki) -> None:
    """A card whose vaccine code is outside the table gives PRODUCT_NOT_ACCEPTED, not a pass."""
    result = _verifier(pki).verify(_recent_card(_days_ago(60), _days_ago(30), code="999"), now=NOW)
    assert result.valid and assess(result, DEFAULT_POLICY, now=NOW).reason is Reason.PRODUCT_NOT_ACCEPTED


# -- pictures and scans -----------------------------------------------------------------------------


def _png(*texts: str) -> bytes:
    """One picture holding a QR code per text, side by side (segno picks numeric mode for shc:/)."""
    images = []
    for text in texts:
        buffer = io.BytesIO()
        segno.make_qr(text, error="l").save(buffer, kind="png", scale=3, border=4)
        images.append(Image.open(io.BytesIO(buffer.getvalue())).convert("L"))
    width = sum(i.width for i in images) + 40 * len(images)
    height = max(i.height for i in images) + 40
    canvas = Image.new("L", (width, height), 255)
    x = 20
    for image in images:
        canvas.paste(image, (x, 20))
        x += image.width + 40
    out = io.BytesIO()
    canvas.save(out, format="PNG")
    return out.getvalue()


def test_verify_image_reads_a_photographed_health_card(pki: Pki) -> None:
    """The validation SDK's photographed card verifies through verify_image (at a time the card allows)."""
    photo = SHARED / "shc" / "validation-testdata" / "test-example-00-g-qr-code-0-scaled-85.jpg"
    result = verify_image(photo, _verifier(pki), now=NOW)
    assert result.format == FORMAT_SHC and result.valid, result.reason


def test_chunks_in_one_picture_reassemble(pki: Pki) -> None:
    """Three chunk codes in one picture give one verified card (verify_image and scan)."""
    picture = _png(*qr_chunks(card(), 3))
    assert verify_image(picture, _verifier(pki), now=NOW).valid
    (verdict,) = scan(picture, _verifier(pki), now=NOW)
    assert verdict.result.valid and verdict.result.shc.source == "qr-chunks"  # type: ignore[union-attr]


def test_chunks_across_pictures_reassemble(pki: Pki, tmp_path: Path) -> None:
    """Chunks spread over pictures wait in the Scanner; a card still missing a chunk is SHC_CHUNKS_INCOMPLETE."""
    first, second, third = qr_chunks(_recent_card(_days_ago(60), _days_ago(30)), 3)
    scanner = Scanner(_verifier(pki), now=NOW)
    assert scanner.scan(_png(first, second)) == []
    (done,) = scanner.scan(_png(third))
    assert done.result.valid and done.colour is Pass.GREEN
    assert scanner.finish() == []
    paths = [tmp_path / "a.png", tmp_path / "b.png"]
    paths[0].write_bytes(_png(third))
    paths[1].write_bytes(_png(first))
    (incomplete,) = scan(paths, _verifier(pki), now=NOW)
    assert (incomplete.result.code, incomplete.colour) == (FailureCode.SHC_CHUNKS_INCOMPLETE, Pass.RED)


def test_scan_mixes_formats_and_card_files(pki: Pki, tmp_path: Path) -> None:
    """One picture with an HC1 and an shc:/ code, and a card file with two cards: one verdict per certificate."""
    verdicts = scan(_png(_hc1(pki), qr_text(card())), _verifier(pki), now=AFTER)
    assert sorted(v.result.format for v in verdicts) == ["eu-dcc", "shc"] and all(v.result.valid for v in verdicts)
    path = tmp_path / "family.smart-health-card"
    path.write_bytes(shc_file(card(), card()))
    assert [v.index for v in scan(path, _verifier(pki), now=NOW)] == [0, 1]
    assert scan("shc:/1/2/5676", _verifier(pki), now=NOW)[0].result.code == FailureCode.SHC_CHUNKS_INCOMPLETE
    assert scan(json.dumps({"x": 1}), _verifier(pki), now=NOW)[0].result.code == FailureCode.SHC_FILE_INVALID


# -- the CLI ----------------------------------------------------------------------------------------


def _issuer_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "shc-issuers"
    folder.mkdir()
    (folder / "example.json").write_text(json.dumps({"iss": EXAMPLE_ISS, "name": "Example", "country": "US",
                                                     **example_jwks()}))
    return folder


def test_cli_verify_health_cards(tmp_path: Path) -> None:
    """vaxcert verify --shc-issuers: shc:/ text, chunks as arguments, a card file with two cards, a picture."""
    issuers = str(_issuer_dir(tmp_path))
    jws = card()
    r = run("verify", "--shc-issuers", issuers, "--at", NOW.isoformat(), qr_text(jws))
    assert r.returncode == 0 and r.stdout.startswith("VALID format=shc type=v") and "issuer=US" in r.stdout, r
    r = run("verify", "--shc-issuers", issuers, "--at", NOW.isoformat(), "--format", "json", *qr_chunks(jws, 2))
    assert r.returncode == 0 and json.loads(r.stdout)["iss"] == EXAMPLE_ISS
    family = tmp_path / "family.smart-health-card"
    family.write_bytes(shc_file(jws, jws))
    r = run("verify", "--shc-issuers", issuers, "--at", NOW.isoformat(), "--file", str(family))
    assert r.returncode == 0 and r.stdout.count("VALID format=shc") == 2
    picture = tmp_path / "card.png"
    picture.write_bytes(_png(*qr_chunks(jws, 2)))
    r = run("verify", "--shc-issuers", issuers, "--at", NOW.isoformat(), "--image", str(picture))
    assert r.returncode == 0, r
    r = run("verify", "--shc-issuers", issuers, "--at", NOW.isoformat(), "shc:/1/2/5676")
    assert r.returncode == 1 and "SHC_CHUNKS_INCOMPLETE" in r.stdout
    r = run("verify", "--shc-issuers", issuers, "--at", NOW.isoformat(), "--show-payload", qr_text(jws))
    assert '"family": "Anyperson"' in r.stdout
    assert run("verify", "--shc-issuers", issuers).returncode == 2


def test_cli_scan_reassembles_chunks_across_pictures(tmp_path: Path) -> None:
    """vaxcert scan: chunks of one card in two pictures give one line; a lone chunk gives a RED line at the end."""
    issuers = str(_issuer_dir(tmp_path))
    chunks = qr_chunks(_recent_card(_days_ago(60), _days_ago(30)), 2)
    (tmp_path / "one.png").write_bytes(_png(chunks[0]))
    (tmp_path / "two.png").write_bytes(_png(chunks[1]))
    r = run("scan", "--shc-issuers", issuers, "--at", NOW.isoformat(), "--format", "json",
            str(tmp_path / "one.png"), str(tmp_path / "two.png"))
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert r.returncode == 0 and [(x["format"], x["pass"]) for x in lines] == [("shc", "GREEN")], r
    r = run("scan", "--shc-issuers", issuers, "--at", NOW.isoformat(), "--format", "json", str(tmp_path / "one.png"))
    assert r.returncode == 1 and json.loads(r.stdout)["code"] == "SHC_CHUNKS_INCOMPLETE"


# -- hostile input never raises through the front ----------------------------------------------------

PRESENTATIONS = st.one_of(
    st.text(max_size=300),
    st.text(max_size=300).map(lambda t: "shc:/" + t),
    st.from_regex(r"shc:/[0-9]{1,2}/[0-9]{1,2}/[0-9]{0,40}", fullmatch=True),
    st.binary(max_size=300),
    st.binary(max_size=300).map(lambda b: b"{" + b),
    st.lists(st.text(max_size=60), max_size=20),
    st.lists(st.from_regex(r"shc:/[0-9]/[0-9]/[0-9]{0,20}", fullmatch=True), max_size=20),
    st.lists(st.integers(), max_size=3),
    st.integers(),
    st.none(),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(PRESENTATIONS)
def test_front_never_raises(pki: Pki, data: Any) -> None:
    """Any presentation gives results of either format with one failure code, never an exception."""
    verifier = _verifier(pki)
    for result in (verifier.verify(data, now=NOW), *verifier.verify_all(data, now=NOW)):
        assert result.format in (FORMAT_DCC, FORMAT_SHC)
        assert result.valid is False and result.code is not FailureCode.OK
        assert result.code is not FailureCode.INTERNAL_ERROR
        assert result.holder is None and result.content_hash is None
        json.dumps(result.to_dict(show_payload=True))
    if isinstance(data, str):
        assert all(v.colour is Pass.RED for v in scan(data, verifier, now=NOW))
