"""SHC trust: issuer key sets from files, directories and VCI directory documents; checks on every key."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from conftest import NOW
from shc_support import EXAMPLE_ISS, EXAMPLE_KID, X5C_KID, card, example_jwks, make_claims, new_issuer, qr_text, sign
from strategies_shc import trust_documents
from vaxcert import ConfigurationError
from vaxcert.formats.shc import ShcTrust, ShcTrustError, jwk_thumbprint, verify_shc
from vaxcert.formats.shc.jws import b64url_encode
from vaxcert.formats.shc.trust import parse_jwk, parse_jwks


def _write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _example_document(**extra: Any) -> dict[str, Any]:
    return {"iss": EXAMPLE_ISS, "keys": example_jwks()["keys"], **extra}


def test_thumbprints_are_recomputed() -> None:
    """kid is the RFC 7638 thumbprint (members crv, kty, x, y in order, no spaces), not the JWKS's word."""
    for jwk in example_jwks()["keys"]:
        assert jwk_thumbprint(jwk) == jwk["kid"]
    _, kid, jwk = new_issuer()
    without_kid = {k: v for k, v in jwk.items() if k != "kid"}
    key = parse_jwk(without_kid)
    assert key is not None and key.kid == kid and key.jwk["kid"] == kid


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda k: k.update(d="AAAA"), "private key material"),
        (lambda k: k.update(kty="RSA"), "kty must be EC"),
        (lambda k: k.update(crv="secp256k1"), "crv must be P-256"),
        (lambda k: k.update(alg="ES384"), "alg must be ES256"),
        (lambda k: k.update(x=k["x"][:-3]), "x must be 32 bytes"),
        (lambda k: k.update(y="!!!"), "y is not base64url"),
        (lambda k: k.pop("y"), "y missing"),
        (lambda k: k.update(y=b64url_encode(bytes(32))), "not a point on P-256"),
        (lambda k: k.update(kid="3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s"), "thumbprint"),
        (lambda k: k.update(x5c=example_jwks()["keys"][1]["x5c"]), "x5c leaf certificate holds a different key"),
        (lambda k: k.update(x5c=["not base64!"]), "x5c leaf certificate unreadable"),
        (lambda k: k.update(x5c=[]), "x5c must be"),
        (lambda k: k.update(crlVersion="1"), "crlVersion"),
    ],
)
def test_key_refusals(change: Any, reason: str) -> None:
    """Each way a JWK can be unfit is refused with a reason that holds no key material."""
    _, _, jwk = new_issuer()
    change(jwk)
    with pytest.raises(ShcTrustError, match=reason) as info:
        parse_jwk(jwk)
    assert jwk["x"] not in str(info.value) if "x" in jwk else True


def test_non_signing_keys_are_skipped() -> None:
    """Keys with use other than sig are neither trusted nor refused; a key without use or alg is accepted."""
    _, _, jwk = new_issuer()
    assert parse_jwk(dict(jwk, use="enc")) is None
    bare = {k: v for k, v in jwk.items() if k not in ("use", "alg")}
    assert parse_jwk(bare) is not None
    assert parse_jwks({"keys": [dict(jwk, use="enc")]}) == ([], [])
    assert parse_jwks({"nokeys": 1}) == ([], [(-1, "no keys list")])


def test_x5c_leaf_matching_is_accepted() -> None:
    """The example issuer's key with an x5c chain holds the same key as its leaf certificate."""
    trust = ShcTrust.from_documents([_example_document()])
    assert set(trust.issuers[EXAMPLE_ISS].keys) == {EXAMPLE_KID, X5C_KID}
    assert "x5c" in trust.issuers[EXAMPLE_ISS].keys[X5C_KID].jwk


def test_private_jwks_is_refused(shared_dir: Path) -> None:
    """Loading the private key set as trust is refused, naming the file and the key."""
    private = json.loads((shared_dir / "shc" / "issuer" / "jwks.private.json").read_text())
    with pytest.raises(ShcTrustError, match="key #0: private key material"):
        ShcTrust.from_jwks(EXAMPLE_ISS, private)


def test_directory_of_issuer_files(tmp_path: Path) -> None:
    """A directory of {iss, keys} files loads; files for one iss merge; non-JSON files are ignored."""
    _, kid_a, jwk_a = new_issuer()
    _, kid_b, jwk_b = new_issuer()
    _write(tmp_path / "example.json", _example_document(name="Example issuer", country="US"))
    _write(tmp_path / "a1.json", {"iss": "https://a.example", "keys": [jwk_a]})
    _write(tmp_path / "a2.JSON", {"iss": "https://a.example", "keys": [jwk_b]})
    (tmp_path / "README.txt").write_text("not a trust file")
    trust = ShcTrust.from_paths([tmp_path])
    assert sorted(trust.issuers) == ["https://a.example", EXAMPLE_ISS]
    assert set(trust.issuers["https://a.example"].keys) == {kid_a, kid_b}
    example = trust.issuers[EXAMPLE_ISS]
    assert (example.name, example.country) == ("Example issuer", "US")
    assert trust.candidates(kid_a)[0][0].iss == "https://a.example"
    assert trust.candidates("nope") == ()
    result = verify_shc(qr_text(card()), trust, now=NOW)
    assert (result.valid, result.issuer_name, result.issuer_country) == (True, "Example issuer", "US")
    single = ShcTrust.from_paths([tmp_path / "a1.json"])
    assert list(single.issuers) == ["https://a.example"]


def test_vci_directory_snapshot(tmp_path: Path) -> None:
    """The VCI daily snapshot shape (issuerInfo: issuer, keys, crls) loads, revocation lists included."""
    _, kid, jwk = new_issuer()
    snapshot = {
        "directory": "https://example.org/vci-issuers.json",
        "time": "2022-01-27T04:22:11Z",
        "issuerInfo": [
            {"issuer": {"iss": EXAMPLE_ISS, "name": "Example"}, "keys": example_jwks()["keys"],
             "crls": [{"kid": EXAMPLE_KID, "method": "rid", "ctr": 1, "rids": ["abc", "def.1636977600"]}]},
            {"issuer": {"iss": "https://b.example", "name": "B", "canonical_iss": "https://b2.example"},
             "keys": [jwk]},
        ],
    }
    trust = ShcTrust.from_paths([_write(tmp_path / "vci_snapshot.json", snapshot)])
    assert trust.issuers["https://b.example"].canonical_iss == "https://b2.example"
    crl = trust.issuers[EXAMPLE_ISS].crls[EXAMPLE_KID]
    assert crl.counter == 1 and crl.revokes("abc", 0) and crl.revokes("def", 1636977599)
    assert not crl.revokes("def", 1636977600) and not crl.revokes("ghi", 0)
    assert trust.candidates(kid)[0][0].name == "B"


def test_vci_issuer_list_names_issuers(tmp_path: Path) -> None:
    """participating_issuers adds names (and keys where an entry carries them); keyless issuers are listed."""
    _, kid, jwk = new_issuer()
    listing = {"participating_issuers": [
        {"iss": EXAMPLE_ISS, "name": "Example (from the list)"},
        {"iss": "https://c.example", "name": "C", "keys": [jwk]},
        {"iss": "https://d.example", "name": "D, keys not fetched"},
    ]}
    _write(tmp_path / "vci-issuers.json", listing)
    _write(tmp_path / "example.json", _example_document())
    trust = ShcTrust.from_paths([tmp_path])
    assert trust.issuers[EXAMPLE_ISS].name == "Example (from the list)"
    assert set(trust.issuers[EXAMPLE_ISS].keys) == {EXAMPLE_KID, X5C_KID}
    assert trust.candidates(kid)[0][0].iss == "https://c.example"
    assert trust.issuers_without_keys == ("https://d.example",)
    result = verify_shc(sign(make_claims(iss="https://d.example"), new_issuer()[0]), trust, now=NOW)
    assert result.code == "KID_UNKNOWN"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"keys": []}, 'bare JWKS: add "iss"'),
        ({"iss": "http://insecure.example", "keys": []}, "https URL"),
        ({"iss": "https://slash.example/", "keys": []}, "without a trailing /"),
        ({"iss": "https://x.example"}, "keys must be a list"),
        ({"iss": "https://x.example", "keys": [], "country": "USA"}, "ISO 3166-1 alpha-2"),
        ({"iss": "https://x.example", "keys": [], "crls": {}}, "crls must be a list"),
        ({"iss": "https://x.example", "keys": [], "crls": [{"kid": "k", "method": "other", "ctr": 1, "rids": []}]},
         "method must be rid"),
        ({"iss": "https://x.example", "keys": [], "crls": [{"kid": "k", "method": "rid", "ctr": 1, "rids": ["a b"]}]},
         "malformed rid"),
        ({"iss": "https://x.example", "keys": [], "crls": [{"kid": "k", "method": "rid", "ctr": -1, "rids": []}]},
         "ctr must be"),
        ({"iss": "https://x.example", "keys": [], "crls": [{"kid": "k", "method": "rid", "ctr": "²", "rids": []}]},
         "ctr must be"),
        ({"iss": "https://x.example", "keys": [], "crls": [{"kid": "k", "method": "rid", "ctr": "٣", "rids": []}]},
         "ctr must be"),
        ({"iss": "https://x.example", "keys": [],
          "crls": [{"kid": "k", "method": "rid", "ctr": "9" * 5000, "rids": []}]}, "ctr must be"),
        ({"iss": "https://x.example", "keys": [], "crls": [{"method": "rid", "ctr": 1, "rids": []}]}, "no kid"),
        ({"issuerInfo": {}}, "issuerInfo must be a list"),
        ({"issuerInfo": [{"keys": []}]}, "no issuer object"),
        ({"participating_issuers": [1]}, "not a JSON object"),
        ({"something": "else"}, "not an SHC trust document"),
        ([1, 2], "not a JSON object"),
    ],
)
def test_document_refusals(tmp_path: Path, document: Any, message: str) -> None:
    """Unusable documents raise an error naming the file and the problem (strict), or are listed (lenient)."""
    path = _write(tmp_path / "issuer.json", document)
    with pytest.raises(ShcTrustError, match=message) as info:
        ShcTrust.from_paths([path])
    assert "issuer.json" in str(info.value)
    assert isinstance(info.value, ConfigurationError)
    lenient = ShcTrust.from_paths([path], strict=False)
    assert any(message in problem.reason for problem in lenient.rejected)
    assert all(not issuer.keys for issuer in lenient.issuers.values())


def test_lenient_loading_keeps_the_good_keys(tmp_path: Path) -> None:
    """With strict=False a bad key is skipped and reported while the issuer's good keys stay trusted."""
    _, kid, jwk = new_issuer()
    bad = dict(copy.deepcopy(jwk), crv="P-384")
    _write(tmp_path / "mixed.json", {"iss": "https://m.example", "keys": [bad, jwk]})
    trust = ShcTrust.from_paths([tmp_path], strict=False)
    assert set(trust.issuers["https://m.example"].keys) == {kid}
    assert [str(p) for p in trust.rejected] == ["mixed.json, issuer https://m.example, key #0: crv must be P-256"]


def test_unreadable_files(tmp_path: Path) -> None:
    """Missing paths and invalid JSON are configuration errors."""
    with pytest.raises(ShcTrustError, match="does not exist"):
        ShcTrust.from_paths([tmp_path / "missing.json"])
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    with pytest.raises(ShcTrustError, match="not valid JSON"):
        ShcTrust.from_paths([tmp_path])
    with pytest.raises(ShcTrustError, match="not valid JSON"):
        ShcTrust.from_json(b"[NaN]")


def test_serialisation_round_trip() -> None:
    """to_json is deterministic, public-only and loads back to an equal trust set (for the offline bundle)."""
    _, _, jwk = new_issuer()
    trust = ShcTrust.from_documents([
        _example_document(name="Example", country="US",
                          crls=[{"kid": EXAMPLE_KID, "method": "rid", "ctr": "2", "rids": ["b", "a.5", "a"]}]),
        {"iss": "https://b.example", "keys": [jwk]},
    ])
    data = trust.to_json()
    assert data == ShcTrust.from_json(data).to_json()
    assert ShcTrust.from_json(data) == trust and hash(ShcTrust.from_json(data)) == hash(trust)
    document = json.loads(data)
    assert document["format"] == "vaxcert-shc-trust/1"
    assert [entry["issuer"]["iss"] for entry in document["issuerInfo"]] == ["https://b.example", EXAMPLE_ISS]
    assert '"d"' not in data.decode()
    crl = document["issuerInfo"][1]["crls"][0]
    assert crl == {"kid": EXAMPLE_KID, "method": "rid", "ctr": 2, "rids": ["a", "b"]}
    assert ShcTrust().to_json() == b'{"format":"vaxcert-shc-trust/1","issuerInfo":[]}'


def test_merge_and_duplicates() -> None:
    """merged() unions keys of the same issuer; constructing with one iss twice is an error."""
    _, kid, jwk = new_issuer()
    first = ShcTrust.from_documents([_example_document()])
    second = ShcTrust.from_documents([{"iss": EXAMPLE_ISS, "keys": [jwk]}])
    merged = first.merged(second)
    assert set(merged.issuers[EXAMPLE_ISS].keys) == {EXAMPLE_KID, X5C_KID, kid}
    assert len(merged) == 1
    with pytest.raises(ShcTrustError, match="given twice"):
        ShcTrust([first.issuers[EXAMPLE_ISS], second.issuers[EXAMPLE_ISS]])


def test_reprs_hold_no_key_material() -> None:
    """Trust objects print counts and kids, never coordinates."""
    trust = ShcTrust.from_documents([_example_document()])
    issuer = trust.issuers[EXAMPLE_ISS]
    x = example_jwks()["keys"][0]["x"]
    for shown in (repr(trust), repr(issuer), repr(issuer.keys[EXAMPLE_KID])):
        assert x not in shown
    assert repr(trust) == "ShcTrust(issuers=1, keys=2)"



@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trust_documents)
def test_hostile_trust_documents(document: Any) -> None:
    """Arbitrary documents load (lenient) or raise ShcTrustError (strict), nothing else."""
    ShcTrust.from_documents([document], strict=False)
    try:
        ShcTrust.from_documents([document])
    except ShcTrustError:
        pass
