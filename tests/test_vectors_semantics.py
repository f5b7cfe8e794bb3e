"""`vectors run` reads the published set as its reference harness does (issue 17, section 3).

Each case is a vector file made here, signed with test keys: KEYUSAGE independent of the
signature, DECODE / VALIDJSON comparing instants rather than spellings, SCHEMAVALIDATION with
``format`` as an annotation (Draft 2020-12), and null actuals where inputs are missing.
"""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from conftest import NOW, Pki
from vaxcert import Issuer
from vaxcert.dcc.uvci import generate
from vaxcert.stages import base45, compression, cose, prefix
from vaxcert.vectors import evaluate, parse

TEST: dict[str, Any] = {
    "ver": "1.3.0",
    "nam": {"fn": "Phạm", "fnt": "PHAM", "gn": "Minh Châu", "gnt": "MINH<CHAU"},
    "dob": "1992-07-08",
    "t": [{"tg": "840539006", "tt": "LP6464-4", "nm": "Roche LightCycler qPCR", "sc": "2026-05-31T20:00:00Z",
           "tr": "260415000", "tc": "Bệnh viện Chợ Rẫy", "co": "VN", "is": "Bộ Y tế", "ci": generate("VN")}],
}


def vector(pki: Pki, content: dict[str, Any], *, json_payload: Any = None, signature: bytes | None = None,
           schema: str | None = "1.3.0", drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """A vector file for ``content`` signed by the ES256 test DSC (fields in ``drop`` left out)."""
    issued = Issuer(pki.signer, check=False, facility_override=True).issue(content, now=NOW)
    message = issued.cose
    if signature is not None:
        tagged = cbor2.loads(message)
        message = cbor2.dumps(cbor2.CBORTag(18, [*tagged.value[:3], signature]))
    compressed = compression.compress(message)
    text = base45.encode(compressed)
    doc: dict[str, Any] = {
        "JSON": content if json_payload is None else json_payload,
        "CBOR": cbor2.dumps(content).hex(),
        "COSE": message.hex(),
        "COMPRESSED": compressed.hex(),
        "BASE45": text,
        "PREFIX": prefix.add(text),
        "TESTCTX": {"VERSION": 1, "SCHEMA": schema, "VALIDATIONCLOCK": NOW.isoformat(),
                    "CERTIFICATE": base64.b64encode(pki.dsc.public_bytes(Encoding.DER)).decode(),
                    "DESCRIPTION": "made by tests/test_vectors_semantics.py"},
        "EXPECTEDRESULTS": {},
    }
    for name in drop:
        doc.pop(name, None)
        doc["TESTCTX"].pop(name, None)
    return doc


def checks(doc: dict[str, Any]) -> dict[str, Any]:
    """The runner's actual outcome per check."""
    result = evaluate(parse(json.dumps(doc, ensure_ascii=False).encode(), "VN/2DCode/raw/made.json"))
    return {name: check.actual for name, check in result.checks.items()}


def test_key_usage_is_independent_of_the_signature(pki: Pki) -> None:
    """A file may expect VERIFY false and KEYUSAGE true: key usage is the certificate's OIDs against the type."""
    broken = vector(pki, TEST, signature=bytes(64))
    actual = checks(broken)
    assert (actual["EXPECTEDVERIFY"], actual["EXPECTEDKEYUSAGE"]) == (False, True)


def test_key_usage_still_refuses_a_type_the_certificate_may_not_sign(pki: Pki) -> None:
    """Independent of the signature, but not of the OIDs: a test-only DSC may not sign a recovery."""
    from vaxcert import KeySigner, TrustList, create_dsc, generate_private_key

    key = generate_private_key("ec")
    dsc = create_dsc(key, csca=pki.csca, csca_key=pki.csca_key, facility_id="VN-HN-009", facility_name="Lab",
                     now=NOW.replace(month=5), types=("t",))
    signer = KeySigner(key, dsc)
    assert TrustList.from_certificates([dsc])  # a usable certificate
    recovery = copy.deepcopy(TEST)
    recovery["r"] = [{"tg": "840539006", "fr": "2026-03-01", "co": "VN", "is": "Bộ Y tế", "df": "2026-03-12",
                      "du": "2026-08-28", "ci": generate("VN")}]
    del recovery["t"]
    claims = cbor2.dumps({1: "VN", 4: int(NOW.timestamp()) + 3600, 6: int(NOW.timestamp()) - 60, -260: {1: recovery}})
    message = cose.encode(claims, signer)
    doc = vector(pki, recovery)
    doc["COSE"] = message.hex()
    doc["TESTCTX"]["CERTIFICATE"] = base64.b64encode(dsc.public_bytes(Encoding.DER)).decode()
    for name in ("COMPRESSED", "BASE45", "PREFIX"):
        doc.pop(name)
    assert checks(doc)["EXPECTEDKEYUSAGE"] is False


@pytest.mark.parametrize(("spelling", "equal"), [
    ("2026-05-31T20:00:00+00:00", True),
    ("2026-05-31T20:00:00.000Z", True),
    ("2026-05-31T22:00:00+02:00", True),
    ("2026-05-31T20:00:00.000+00:00", True),
    ("2026-05-31T22:00:00Z", False),  # two hours off: another instant (FR/test_pcr_ok)
    ("2026-05-31T20:00:00", False),  # no offset: not an instant at all
])
def test_decode_and_valid_json_compare_instants(pki: Pki, spelling: str, equal: bool) -> None:
    """DECODE and VALIDJSON treat equal instants in different date-time spellings as equal."""
    written = copy.deepcopy(TEST)
    written["t"][0]["sc"] = spelling
    actual = checks(vector(pki, TEST, json_payload=written))
    assert (actual["EXPECTEDDECODE"], actual["EXPECTEDVALIDJSON"]) == (equal, equal)


def test_schema_validation_treats_format_as_an_annotation(pki: Pki) -> None:
    """A date-time where the schema declares a date does not make SCHEMAVALIDATION false (2020-12)."""
    content = copy.deepcopy(TEST)
    content["t"][0]["sc"] = "2026-05-31 20:00"  # not RFC 3339
    content["dob"] = "1992-07-08"
    actual = checks(vector(pki, content))
    assert actual["EXPECTEDSCHEMAVALIDATION"] is True and actual["EXPECTEDVALIDOBJECT"] is True


def test_schema_validation_is_the_full_schema(pki: Pki) -> None:
    """What the default verifier tolerates, SCHEMAVALIDATION does not: a null member fails it."""
    content = {**copy.deepcopy(TEST), "v": None}
    assert checks(vector(pki, content))["EXPECTEDSCHEMAVALIDATION"] is False


@pytest.mark.parametrize(("drop", "check"), [
    (("CERTIFICATE",), "EXPECTEDKEYUSAGE"),
    (("CERTIFICATE",), "EXPECTEDVERIFY"),
    (("SCHEMA",), "EXPECTEDSCHEMAVALIDATION"),
    (("PREFIX",), "EXPECTEDVALIDJSON"),
    (("VALIDATIONCLOCK",), "EXPECTEDEXPIRATIONCHECK"),
])
def test_missing_inputs_give_a_null_actual(pki: Pki, drop: tuple[str, ...], check: str) -> None:
    """A stated check whose input fields are missing reports actual null (and agree null)."""
    doc = vector(pki, TEST, drop=drop)
    doc["EXPECTEDRESULTS"][check] = True
    result = evaluate(parse(json.dumps(doc).encode(), "VN/2DCode/raw/made.json")).checks[check]
    assert (result.actual, result.agree) == (None, None)
