"""Interoperability with independent DCC implementations, both ways (issue 17).

vaxcert's certificates (ES256 and PS256; vaccination, test and recovery; Vietnamese names with
diacritics) must verify in the eHN reference verifiers, PathCheck's SDK, pycose and python-cwt
with the payload intact; certificates those peers make must verify in vaxcert with identical
payloads.  The peers are installed by ``scripts/setup-interop.sh`` (``scripts/test.sh`` runs
it); see ``peers.py``.  A run without ``-n`` writes the peer matrix to ``.interop/matrix.md``
(``scripts/interop-matrix.sh`` puts it into docs/interop.md).
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import peers
import pytest

from conftest import NOW, Pki, make_pki
from vaxcert import Issuer, TrustList, Verifier
from vaxcert.dcc.uvci import generate
from vaxcert.stages import base45, compression, cose, prefix

PEER_NAMES = ("eHN Python (hc1_verify.py / hc1_sign.py)", "eHN JavaScript (cose_verify.js / cose_sign.js)",
              "PathCheck @pathcheck/dcc-sdk", "pycose", "python-cwt")
EHN_PY, EHN_JS, PATHCHECK, PYCOSE, CWT = PEER_NAMES

NAMES = {"fn": "Nguyễn Thị", "fnt": "NGUYEN<THI", "gn": "Thu Hà Ưng Đạt", "gnt": "THU<HA<UNG<DAT"}


def payloads() -> dict[str, dict[str, Any]]:
    """One vaccination, test and recovery payload, all with Vietnamese diacritics."""
    person = {"ver": "1.3.0", "nam": NAMES, "dob": "1979-11-23"}
    return {
        "v": {**person, "v": [{"tg": "840539006", "vp": "1119349007", "mp": "EU/1/20/1528", "ma": "ORG-100030215",
                               "dn": 3, "sd": 3, "dt": "2026-04-20", "co": "VN", "is": "Bộ Y tế Việt Nam",
                               "ci": generate("VN")}]},
        "t": {**person, "t": [{"tg": "840539006", "tt": "LP217198-3", "ma": "1232", "sc": "2026-05-31T21:30:00Z",
                               "tr": "260415000", "tc": "Trung tâm Kiểm soát Bệnh tật Hà Nội", "co": "VN",
                               "is": "Bộ Y tế Việt Nam", "ci": generate("VN")}]},
        "r": {**person, "r": [{"tg": "840539006", "fr": "2026-03-02", "co": "VN", "is": "Bộ Y tế Việt Nam",
                               "df": "2026-03-13", "du": "2026-08-29", "ci": generate("VN")}]},
    }


# -- the matrix -----------------------------------------------------------------------------------


@dataclass
class Matrix:
    """Outcomes per peer, direction and algorithm, for docs/interop.md."""

    cells: dict[tuple[str, str, str], list[bool]] = field(default_factory=dict)

    def record(self, peer: str, direction: str, alg: str, ok: bool) -> None:
        self.cells.setdefault((peer, direction, alg), []).append(ok)

    def cell(self, peer: str, direction: str, alg: str) -> str:
        got = self.cells.get((peer, direction, alg))
        if got is None:
            return "—"
        return f"✓ {len(got)}/{len(got)}" if all(got) else f"✗ {sum(got)}/{len(got)}"


def versions() -> dict[str, str]:
    """Each peer and what it was run with (from the installs themselves)."""
    py = peers.ehn_python_versions()
    js = peers.ehn_js_versions()
    pc = peers.pathcheck_versions()
    pp = peers.pypeers([{"op": "versions"}])[0]
    return {
        EHN_PY: f"ehn-python-trivial {peers.commit_of(peers.EHN_PY)}; cose {py['cose']}, cbor2 {py['cbor2']}, "
                f"base45 {py['base45']}, cryptography {py['cryptography']}",
        EHN_JS: f"ehn-javascript-trivial {peers.commit_of(peers.EHN_JS)}; cose-js {js['cose-js']}, "
                f"cbor {js['cbor']}, pako {js['pako']}, base45-js {js['base45-js']}",
        PATHCHECK: f"@pathcheck/dcc-sdk {pc['@pathcheck/dcc-sdk']}; cbor {pc['cbor']}, pako {pc['pako']}, "
                   f"@peculiar/webcrypto {pc['@peculiar/webcrypto']}",
        PYCOSE: f"pycose {pp['pycose']}; cbor2 {pp['cbor2']}, base45 {pp['base45']}",
        CWT: f"cwt {pp['cwt']}; cbor2 {pp['cbor2']}, cryptography {pp['cryptography']}",
    }


def render(matrix: Matrix, used: dict[str, str]) -> str:
    """The Markdown table of docs/interop.md."""
    head = ("| peer | versions | vaxcert → peer ES256 | vaxcert → peer PS256 | peer → vaxcert ES256 "
            "| peer → vaxcert PS256 |\n|---|---|---|---|---|---|\n")
    rows = [f"| {peer} | {used[peer]} | " + " | ".join(matrix.cell(peer, d, a) for d in ("out", "in")
                                                        for a in ("ES256", "PS256")) + " |" for peer in PEER_NAMES]
    return head + "\n".join(rows) + "\n"


@pytest.fixture(scope="module")
def matrix() -> Iterator[Matrix]:
    """Collects outcomes; written to .interop/matrix.md when the whole module ran in one process."""
    if peers.missing():
        message = "interop peers not installed (run scripts/setup-interop.sh): " + ", ".join(peers.missing())
        if os.environ.get("VAXCERT_REQUIRE_INTEROP"):
            pytest.fail(message)
        pytest.skip(message)
    found = Matrix()
    yield found
    if "PYTEST_XDIST_WORKER" not in os.environ and len(found.cells) >= 14:
        (peers.INTEROP / "matrix.md").write_text(render(found, versions()), encoding="utf-8")


# -- vaxcert → peers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Issued:
    alg: str
    kind: str
    hc1: str
    payload: dict[str, Any]
    cert: Any


@pytest.fixture(scope="module")
def issued(pki: Pki) -> list[Issued]:
    """Six certificates from vaxcert's Issuer: ES256 and PS256 (RSA-2048) × v, t, r."""
    out = []
    for alg, signer, cert in (("ES256", pki.signer, pki.dsc), ("PS256", pki.rsa_signer, pki.rsa_dsc)):
        for kind, content in payloads().items():
            hc1 = Issuer(signer, facility_override=True).issue(content, now=NOW).hc1
            out.append(Issued(alg, kind, hc1, content, cert))
    return out


def _check(matrix: Matrix, peer: str, item: Issued, outcome: peers.Outcome) -> None:
    matrix.record(peer, "out", item.alg, outcome.ok and outcome.payload == item.payload)
    assert outcome.ok, f"{peer} refused {item.alg}/{item.kind}: {outcome.detail}"
    assert outcome.payload == item.payload
    assert outcome.iss in (None, "VN")


def test_every_certificate_starts_with_standard_zlib(issued: list[Issued]) -> None:
    """What the peers are given: zlib streams starting 78 DA, the only start they inflate."""
    for item in issued:
        assert base45.decode(prefix.strip(item.hc1))[:2] == b"\x78\xda"


def test_ehn_python_verifies_vaxcert(matrix: Matrix, issued: list[Issued]) -> None:
    """The eHN Python reference verifier (pinned cose 0.9.dev7 / cbor2 5.2.0) accepts ES256 and PS256."""
    for item in issued:
        _check(matrix, EHN_PY, item, peers.ehn_python_verify(item.hc1, item.cert))


def test_ehn_js_verifies_vaxcert(matrix: Matrix, issued: list[Issued]) -> None:
    """The eHN JavaScript reference verifier (cose-js) accepts vaxcert's ES256 certificates (its only algorithm)."""
    for item in issued:
        if item.alg == "ES256":
            _check(matrix, EHN_JS, item, peers.ehn_js_verify(item.hc1, item.cert))


def test_pathcheck_verifies_vaxcert(matrix: Matrix, issued: list[Issued]) -> None:
    """PathCheck's SDK, keys injected and no network, accepts ES256 and PS256."""
    answers = peers.pathcheck([peers.pathcheck_verify_request(item.hc1, item.cert) for item in issued])
    for item, answer in zip(issued, answers, strict=True):
        _check(matrix, PATHCHECK, item, peers.pathcheck_outcome(answer))


@pytest.mark.parametrize("lib", ["pycose", "cwt"])
def test_python_cose_libraries_verify_vaxcert(matrix: Matrix, issued: list[Issued], lib: str) -> None:
    """pycose and python-cwt verify ES256 and PS256 signatures and read the same claims."""
    answers = peers.pypeers([{"op": "verify", "lib": lib, "hc1": item.hc1, "cert_pem": peers.pem(item.cert)}
                             for item in issued])
    for item, answer in zip(issued, answers, strict=True):
        _check(matrix, PYCOSE if lib == "pycose" else CWT, item, peers.pypeers_outcome(answer))


# -- the suite catches what it is for -------------------------------------------------------------


@pytest.fixture(scope="module")
def variants(pki: Pki) -> dict[str, str]:
    """One ES256 message as standard zlib, with the small window vaxcert used to write (18 D3),
    and with a broken signature."""
    message = Issuer(pki.signer, facility_override=True).issue(payloads()["v"], now=NOW).cose
    small = zlib.compressobj(9, zlib.DEFLATED, 9)
    tampered = bytearray(message)
    tampered[-1] ^= 1
    return {
        "standard": prefix.add(base45.encode(compression.compress(message))),
        "small-window": prefix.add(base45.encode(small.compress(message) + small.flush())),
        "bad-signature": prefix.add(base45.encode(compression.compress(bytes(tampered)))),
    }


def test_small_window_header_is_what_vaxcert_used_to_write(variants: dict[str, str]) -> None:
    """The refused variant has exactly the header of the bug (18 D3), and vaxcert itself still reads it."""
    assert base45.decode(prefix.strip(variants["small-window"]))[:2] == b"\x18\xd3"


@pytest.mark.usefixtures("matrix")
def test_peers_refuse_the_zlib_header_bug(pki: Pki, variants: dict[str, str]) -> None:
    """eHN Python, eHN JavaScript and PathCheck refuse an 18 D3 stream and accept the same message as 78 DA:
    this suite would have caught the bug that made every vaxcert certificate unreadable to them."""
    assert Verifier(pki.trust).verify(variants["small-window"], now=NOW).valid
    for name in ("standard", "small-window"):
        expected = name == "standard"
        assert peers.ehn_python_verify(variants[name], pki.dsc).ok is expected
        assert peers.ehn_js_verify(variants[name], pki.dsc).ok is expected
        (answer,) = peers.pathcheck([peers.pathcheck_verify_request(variants[name], pki.dsc)])
        assert peers.pathcheck_outcome(answer).ok is expected, answer


@pytest.mark.usefixtures("matrix")
def test_peers_really_check_signatures(pki: Pki, variants: dict[str, str]) -> None:
    """Every peer refuses a certificate whose signature is broken (their acceptance means something)."""
    hc1 = variants["bad-signature"]
    assert not peers.ehn_python_verify(hc1, pki.dsc).ok
    assert not peers.ehn_js_verify(hc1, pki.dsc).ok
    (answer,) = peers.pathcheck([peers.pathcheck_verify_request(hc1, pki.dsc)])
    assert not peers.pathcheck_outcome(answer).ok
    for lib in ("pycose", "cwt"):
        (answer,) = peers.pypeers([{"op": "verify", "lib": lib, "hc1": hc1, "cert_pem": peers.pem(pki.dsc)}])
        assert not peers.pypeers_outcome(answer).ok


# -- peers → vaxcert ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live_pki() -> Pki:
    """A PKI around the real clock, for peers that stamp iat / exp from it (hc1_sign.py, PathCheck)."""
    return make_pki(dt.datetime.now(dt.UTC))


def _verify_live(pki: Pki, hc1: str) -> Any:
    """vaxcert's verdict at the real time (these certificates were stamped with it)."""
    return Verifier(pki.trust).verify(hc1, now=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5))


def _accept(matrix: Matrix, peer: str, alg: str, result: Any, content: dict[str, Any]) -> None:
    matrix.record(peer, "in", alg, result.valid and result.payload == content)
    assert result.valid, (peer, alg, result.code, result.reason)
    assert result.payload == content and result.trace.claims.payload == content


def test_vaxcert_verifies_ehn_python(matrix: Matrix, live_pki: Pki) -> None:
    """hc1_sign.py's certificates (ES256, iss NL) verify with the same payloads, iss reported as a warning."""
    for content in payloads().values():
        hc1 = peers.ehn_python_sign(content, live_pki.dsc_key, live_pki.dsc)
        result = _verify_live(live_pki, hc1)
        _accept(matrix, EHN_PY, "ES256", result, content)
        assert result.issuer_country == "NL"
        assert "iss: issuing country differs from the signer certificate's country" in result.warnings


def test_vaxcert_verifies_ehn_js(matrix: Matrix, pki: Pki) -> None:
    """cose_sign.js signs plain CBOR (no CWT claims): vaxcert verifies its signature and reads the same content,
    and its verifier stops at the CWT stage, past trust and signature."""
    for content in payloads().values():
        hc1 = peers.ehn_js_sign(content, pki.dsc_key, pki.dsc)
        stream = base45.decode(prefix.strip(hc1))
        assert stream[:2] == b"\x78\x9c"  # pako's default level: another standard header vaxcert reads
        message = cose.decode(compression.decompress(stream))
        cose.verify_signature(message, pki.dsc.public_key())
        import cbor2

        same = cbor2.loads(message.payload) == content
        result = Verifier(pki.trust).verify(hc1, now=NOW)
        assert result.signer is not None and result.stage == "cwt"
        matrix.record(EHN_JS, "in", "ES256", same)
        assert same


@pytest.mark.parametrize("alg", ["ES256", "PS256"])
def test_vaxcert_verifies_pathcheck(matrix: Matrix, live_pki: Pki, alg: str) -> None:
    """PathCheck's makeCWT + signAndPack (WebCrypto; PS256 from an RSA-2048 DSC) verify in vaxcert."""
    key, cert = (live_pki.dsc_key, live_pki.dsc) if alg == "ES256" else (live_pki.rsa_key, live_pki.rsa_dsc)
    contents = list(payloads().values())
    answers = peers.pathcheck([{"op": "sign", "payload": content, "cert_pem": peers.pem(cert),
                                "key_p8": peers.key_pem(key), "iss": "VN", "months": 6} for content in contents])
    for content, answer in zip(contents, answers, strict=True):
        result = _verify_live(live_pki, answer["hc1"])
        _accept(matrix, PATHCHECK, alg, result, content)
        assert result.algorithm == alg and result.warnings == ()


@pytest.mark.parametrize("lib", ["pycose", "cwt"])
@pytest.mark.parametrize("alg", ["ES256", "PS256"])
def test_vaxcert_verifies_python_cose_libraries(matrix: Matrix, pki: Pki, lib: str, alg: str) -> None:
    """Certificates signed with pycose and python-cwt (ES256, PS256) verify in vaxcert with identical payloads."""
    key, cert = (pki.dsc_key, pki.dsc) if alg == "ES256" else (pki.rsa_key, pki.rsa_dsc)
    contents = list(payloads().values())
    iat = int(NOW.timestamp()) - 60
    answers = peers.pypeers([{"op": "sign", "lib": lib, "alg": alg, "payload": content, "key_pem": peers.key_pem(key),
                              "cert_pem": peers.pem(cert), "iss": "VN", "iat": iat, "exp": iat + 86400 * 30}
                             for content in contents])
    for content, answer in zip(contents, answers, strict=True):
        result = Verifier(pki.trust).verify(answer["hc1"], now=NOW)
        _accept(matrix, PYCOSE if lib == "pycose" else CWT, alg, result, content)
        assert result.algorithm == alg


def test_matrix_in_the_docs_names_the_installed_versions(matrix: Matrix) -> None:
    """docs/interop.md's matrix was produced with the peer versions installed now (regenerate it when they change)."""
    text = (peers.REPO / "docs" / "interop.md").read_text(encoding="utf-8")
    for peer, used in versions().items():
        assert f"| {peer} | {used} |" in text, f"docs/interop.md is stale for {peer}: run scripts/interop-matrix.sh"


def test_trust_list_is_the_only_trust(pki: Pki) -> None:
    """Certificates the peers sign with another key are refused by vaxcert (its acceptance means something)."""
    other = make_pki(NOW)
    iat = int(NOW.timestamp())
    (answer,) = peers.pypeers([{"op": "sign", "lib": "cwt", "alg": "ES256", "payload": copy.deepcopy(payloads()["v"]),
                                "key_pem": peers.key_pem(other.dsc_key), "cert_pem": peers.pem(pki.dsc), "iss": "VN",
                                "iat": iat, "exp": iat + 3600}])
    result = Verifier(TrustList.from_certificates([pki.dsc])).verify(answer["hc1"], now=NOW)
    assert (result.valid, result.code) == (False, "SIGNATURE_INVALID")
