"""Liberal where the signature protects the content, strict where it does not (issue 17).

Every case is a certificate made that way and signed with test keys: the quirks real issuers
produce verify by default (with a warning where useful) and meet the full schema in strict
mode; what the signature does not protect is refused with its own failure code.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import zlib
from pathlib import Path
from typing import Any

import cbor2
import pytest
import qrcode
import segno
from click.testing import CliRunner
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import given, settings
from hypothesis import strategies as st

import strategies_dcc
from conftest import NOW, Pki
from vaxcert import FailureCode, Stage, Verifier, qr
from vaxcert.cli import cli
from vaxcert.dcc import lenient
from vaxcert.dcc.uvci import generate
from vaxcert.errors import DecodeError
from vaxcert.rules import Pass, assess
from vaxcert.stages import base45, cbor, compression, cose, cwt, prefix
from vaxcert.verifier import certificate_type

AUSTRIA_IS = "Bundesministerium für Soziales, Gesundheit, Pflege und Konsumentenschutz (BMSGPK)"

VACCINATION: dict[str, Any] = {
    "ver": "1.3.0",
    "nam": {"fn": "Nguyễn", "fnt": "NGUYEN", "gn": "Thị Thu Hà", "gnt": "THI<THU<HA"},
    "dob": "1985-04-12",
    "v": [{"tg": "840539006", "vp": "1119349007", "mp": "EU/1/20/1528", "ma": "ORG-100030215", "dn": 2,
           "sd": 2, "dt": "2026-04-01", "co": "VN", "is": "Bộ Y tế", "ci": generate("VN")}],
}
TEST: dict[str, Any] = {
    "ver": "1.3.0",
    "nam": {"fn": "Trần", "fnt": "TRAN", "gn": "Văn Đức", "gnt": "VAN<DUC"},
    "dob": "1990-01-31",
    "t": [{"tg": "840539006", "tt": "LP6464-4", "nm": "Roche LightCycler qPCR", "sc": "2026-05-31T20:00:00Z",
           "tr": "260415000", "tc": "Bệnh viện Bạch Mai", "co": "VN", "is": "Bộ Y tế",
           "ci": generate("VN")}],
}


def payload(base: dict[str, Any] = VACCINATION, **changes: Any) -> dict[str, Any]:
    """A deep copy of ``base`` with top-level members replaced."""
    out = copy.deepcopy(base)
    out.update(changes)
    return out


def entry(base: dict[str, Any] = VACCINATION, **changes: Any) -> dict[str, Any]:
    """A deep copy of ``base`` with members of its one entry replaced."""
    out = copy.deepcopy(base)
    kind = next(k for k in ("v", "t", "r") if k in out)
    out[kind][0].update(changes)
    return out


def cose_message(pki: Pki, content: dict[str, Any], *, protected: dict[int, Any] | None = None,
                 unprotected: dict[int, Any] | None = None, iss: str = "VN") -> bytes:
    """A COSE_Sign1 (tag 18) over CWT claims holding ``content``, signed by the ES256 test DSC."""
    claims = cwt.encode(content, issuer=iss, issued_at=int(NOW.timestamp()) - 3600,
                        expires_at=int(NOW.timestamp()) + 86400)
    prot = cbor2.dumps(protected if protected is not None else {1: cose.ALG_ES256, 4: pki.signer.kid})
    signature = pki.signer.sign(cose.sig_structure(prot, claims))
    return cbor2.dumps(cbor2.CBORTag(18, [prot, unprotected or {}, claims, signature]))


def hc1(message: bytes, *, after_zlib: bytes = b"") -> str:
    """The HC1 text of a COSE message (standard zlib), optionally with bytes after the zlib stream."""
    return prefix.add(base45.encode(compression.compress(message) + after_zlib))


def make(pki: Pki, content: dict[str, Any], **kwargs: Any) -> str:
    """The HC1 text of ``content`` signed by the ES256 test DSC."""
    return hc1(cose_message(pki, content, **kwargs))


def verify(pki: Pki, text: str | bytes, *, strict: bool = False) -> Any:
    """Verify at NOW against the test PKI."""
    return Verifier(pki.trust, strict=strict).verify(text, now=NOW)


# -- what real issuers produce: verifies by default, full schema in strict mode --------------------


QUIRKS: dict[str, tuple[dict[str, Any], str, bool]] = {
    # name: (payload, a warning fragment expected by default, valid in strict mode)
    "null-type-members": (payload(t=None, r=None), "t: null member dropped", False),
    "null-optional-member": (entry(TEST, ma=None, nm=None), "t[0].ma: null member dropped", False),
    "whitespace": (payload(nam={"fn": " Nguyễn ", "fnt": "NGUYEN ", "gn": "Thị Thu Hà\n", "gnt": "THI<THU<HA"}),
                   "nam.fnt: whitespace around the value removed", False),
    "float-doses": (entry(dn=2.0, sd=2.0), "v[0].dn: integer written as a decimal number", True),
    "dob-as-datetime": (payload(dob="1985-04-12T00:00:00"), "dob: date written in another ISO 8601 form", False),
    "dt-as-datetime": (entry(dt="2026-04-01T00:00:00Z"), "v[0].dt: date written in another ISO 8601 form", False),
    "dt-basic-format": (entry(dt="20260401"), "v[0].dt: date written in another ISO 8601 form", False),
    "sc-without-offset": (entry(TEST, sc="2026-05-31 20:00:00"), "no UTC offset: read as UTC", False),
    "sc-fraction-and-compact-offset": (entry(TEST, sc="2026-05-31T22:00:00.000+0200"),
                                       "t[0].sc: date-time written in another ISO 8601 form", False),
    "fnt-gnt-outside-pattern": (payload(nam={"fn": "Nguyễn", "fnt": "NGUYỄN", "gn": "Thị Thu Hà", "gnt": "thi thu ha"}),
                                "nam.fnt: does not match the required pattern", False),
    "issuer-longer-than-80": (entry(**{"is": AUSTRIA_IS}), "v[0].is: must be at most 80 characters long", False),
    "extra-fields": (payload(xx="issuer extension", v=[{**VACCINATION["v"][0], "foo": [1, 2]}]), "", True),
    "empty-list-beside-entry": (payload(t=[]), "t: empty list dropped", False),
}


@pytest.mark.parametrize("name", list(QUIRKS))
def test_quirk_verifies_by_default(pki: Pki, name: str) -> None:
    """Each production quirk verifies by default, with a warning saying what was read how."""
    content, warning, _ = QUIRKS[name]
    result = verify(pki, make(pki, content))
    assert result.valid, (result.code, result.reason)
    if warning:
        assert any(warning in w for w in result.warnings), result.warnings
    assert result.trace.claims.payload == content  # the signed payload is kept as signed
    assert result.payload is not None and None not in _leaves(result.payload)


@pytest.mark.parametrize("name", list(QUIRKS))
def test_quirk_meets_the_full_schema_in_strict_mode(pki: Pki, name: str) -> None:
    """Strict verification validates the payload as signed against the full schema (with formats)."""
    content, _, valid = QUIRKS[name]
    result = verify(pki, make(pki, content), strict=True)
    assert result.valid is valid, (result.code, result.reason)
    if not valid:
        assert (result.code, result.stage) == (FailureCode.SCHEMA_INVALID, Stage.SCHEMA)
        assert result.payload == content  # authentic: the content may be shown as signed


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def test_normalised_payload_is_what_it_means(pki: Pki) -> None:
    """The default result's payload is the plain reading: no nulls, stripped text, ints, ISO dates."""
    content = payload(nam={"fn": " Nguyễn", "fnt": "NGUYEN", "gn": None, "gnt": "THI<THU<HA"}, t=None,
                      dob="1985-04-12T00:00:00", v=[{**VACCINATION["v"][0], "dn": 2.0, "dt": "2026-04-01T08:00:00Z"}])
    result = verify(pki, make(pki, content))
    assert result.valid
    assert result.payload == payload(nam={"fn": "Nguyễn", "fnt": "NGUYEN", "gnt": "THI<THU<HA"})
    assert type(result.payload["v"][0]["dn"]) is int
    sample = verify(pki, make(pki, entry(TEST, sc="2026-05-31T22:00:00.5+0200")))
    assert sample.payload["t"][0]["sc"] == "2026-05-31T22:00:00.500000+02:00"


def test_quirky_certificate_gets_its_pass(pki: Pki) -> None:
    """The pass policy reads the normalised payload: float doses and a date-time dt still give GREEN."""
    result = verify(pki, make(pki, entry(dn=2.0, sd=2.0, dt="2026-04-01T00:00:00Z", ma=" ORG-100030215")))
    assert result.valid
    assert assess(result, now=NOW).colour is Pass.GREEN


def test_warnings_never_contain_values(pki: Pki) -> None:
    """Warnings name paths and quirks, never the personal data they concern."""
    content = payload(nam={"fn": " Nguyễn ", "fnt": "NGUYỄN", "gn": "Hà", "gnt": "ha"}, dob="1985-04-12T00:00:00")
    result = verify(pki, make(pki, content))
    assert result.valid and result.warnings
    text = " ".join(result.warnings)
    for value in ("Nguyễn", "NGUYỄN", "1985", "Hà", " ha"):
        assert value not in text


@pytest.mark.parametrize("suffix", ["\n", "\r\n", "  ", " \n\t"])
@pytest.mark.parametrize("strict", [False, True])
def test_whitespace_after_hc1_text(pki: Pki, suffix: str, strict: bool) -> None:
    """A line break or spaces after the HC1 text (a file, a scanner's Enter) do not matter."""
    text = make(pki, VACCINATION)
    assert verify(pki, text + suffix, strict=strict).valid
    assert verify(pki, (text + suffix).encode(), strict=strict).valid
    assert verify(pki, " " + text, strict=strict).valid


def test_dates_that_need_a_guess_are_not_guessed(pki: Pki) -> None:
    """A day-first date is left as written: the pass policy cannot read it, so no pass is granted."""
    result = verify(pki, make(pki, entry(dt="01/04/2026")))
    assert result.valid  # the schema leaves dt to the business rules (format is an annotation)
    assert result.payload["v"][0]["dt"] == "01/04/2026"
    assert assess(result, now=NOW).colour is Pass.RED


def test_null_required_member_is_missing(pki: Pki) -> None:
    """A null required member is dropped and so missing: the schema refuses the certificate."""
    result = verify(pki, make(pki, entry(ma=None)))
    assert (result.valid, result.code) == (False, FailureCode.SCHEMA_INVALID)
    assert "v[0].ma" in result.reason


# -- QR symbols not in alphanumeric mode -----------------------------------------------------------


def _byte_mode_png(text: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(text, mode="byte", error="q").save(buffer, kind="png", scale=4)
    return buffer.getvalue()


def _mixed_segments_png(text: str) -> bytes:
    """Alphanumeric and numeric segments (the qrcode package's optimiser splits long digit runs)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q, box_size=4)
    code.add_data(text, optimize=4)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def symbols(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A DSC file, and one certificate as a byte-mode and as a mixed-segment QR picture."""
    root = tmp_path_factory.mktemp("symbols")
    (root / "dsc.pem").write_bytes(pki.dsc.public_bytes(Encoding.PEM))
    text = make(pki, VACCINATION)
    while not any(run >= 4 for run in _digit_runs(text)):  # the mixed symbol needs a numeric run
        text = make(pki, payload(dob="1985-04-1" + str(len(text) % 9 + 1)))
    (root / "byte.png").write_bytes(_byte_mode_png(text))
    (root / "mixed.png").write_bytes(_mixed_segments_png(text))
    return {"dir": root, "trust": root / "dsc.pem", "byte": root / "byte.png", "mixed": root / "mixed.png"}


def _digit_runs(text: str) -> list[int]:
    runs, count = [], 0
    for char in text:
        count = count + 1 if char.isdigit() else 0
        runs.append(count)
    return runs


@pytest.mark.parametrize("kind", ["byte", "mixed"])
def test_symbols_are_really_not_alphanumeric(symbols: dict[str, Path], kind: str) -> None:
    """The pictures hold the certificate in the segment modes they claim (not one alphanumeric segment)."""
    (code,) = qr.decode_file(symbols[kind])
    assert code.text.startswith("HC1:") and not code.alphanumeric


@pytest.mark.parametrize("kind", ["byte", "mixed"])
def test_verify_image_accepts_other_segment_modes(symbols: dict[str, Path], kind: str) -> None:
    """`verify --image` reads byte-mode and mixed-segment symbols; `--strict` applies rule Q2."""
    base = ["verify", "--trust", str(symbols["trust"]), "--at", NOW.isoformat(), "--image", str(symbols[kind])]
    assert CliRunner().invoke(cli, base).exit_code == 0
    strict = CliRunner().invoke(cli, [*base, "--strict", "--format", "json"])
    assert strict.exit_code == 1 and '"code": "QR_NOT_ALPHANUMERIC"' in strict.stdout


def test_scan_accepts_other_segment_modes(symbols: dict[str, Path]) -> None:
    """`scan` grants the pass for byte-mode and mixed symbols by default, and refuses them with --strict."""
    base = ["scan", "--trust", str(symbols["trust"]), "--at", NOW.isoformat(), "--format", "json", "--lang", "en",
            str(symbols["byte"]), str(symbols["mixed"])]
    default = CliRunner().invoke(cli, base)
    assert default.exit_code == 0, default.output
    strict = CliRunner().invoke(cli, [*base, "--strict"])
    assert strict.exit_code == 1 and strict.stdout.count("QR_NOT_ALPHANUMERIC") == 2


# -- what the signature does not protect: refused, each with its own code --------------------------


def test_algorithm_only_unprotected_is_refused(pki: Pki) -> None:
    """alg in the unprotected header only (RFC 9052 3.1) is refused, however valid the signature."""
    message = cose_message(pki, VACCINATION, protected={4: pki.signer.kid}, unprotected={1: cose.ALG_ES256})
    for strict in (False, True):
        result = verify(pki, hc1(message), strict=strict)
        assert (result.valid, result.code, result.stage) == (False, FailureCode.ALGORITHM_UNPROTECTED, Stage.COSE)


def test_algorithm_in_both_headers_uses_the_protected_one(pki: Pki) -> None:
    """An unprotected alg beside the protected one changes nothing: the protected one counts."""
    message = cose_message(pki, VACCINATION, unprotected={1: cose.ALG_PS256})
    assert verify(pki, hc1(message)).valid


@pytest.mark.parametrize(("crit", "code"), [
    ([99], FailureCode.CRITICAL_HEADER_UNKNOWN),
    (["x-issuer-extension"], FailureCode.CRITICAL_HEADER_UNKNOWN),
    ([4, 99], FailureCode.CRITICAL_HEADER_UNKNOWN),
    ([], FailureCode.COSE_INVALID_STRUCTURE),
    ("kid", FailureCode.COSE_INVALID_STRUCTURE),
])
def test_unknown_critical_header_is_refused(pki: Pki, crit: Any, code: FailureCode) -> None:
    """A crit header naming a parameter the verifier does not process is refused (RFC 9052 3.1)."""
    message = cose_message(pki, VACCINATION, protected={1: cose.ALG_ES256, 4: pki.signer.kid, 2: crit, 99: 1,
                                                        "x-issuer-extension": 1})
    result = verify(pki, hc1(message))
    assert (result.valid, result.code, result.stage) == (False, code, Stage.COSE)


def test_critical_header_naming_understood_parameters_verifies(pki: Pki) -> None:
    """crit listing only parameters the verifier processes (alg, kid) is honoured, not refused."""
    message = cose_message(pki, VACCINATION, protected={1: cose.ALG_ES256, 4: pki.signer.kid, 2: [1, 4]})
    assert verify(pki, hc1(message)).valid


def test_crit_outside_the_protected_header_is_refused(pki: Pki) -> None:
    """crit must be protected."""
    message = cose_message(pki, VACCINATION, unprotected={2: [99]})
    assert verify(pki, hc1(message)).code is FailureCode.COSE_INVALID_STRUCTURE


@pytest.mark.parametrize("extra", [b"\x00", b"\x78\xda", b"trailing text"])
def test_bytes_after_the_zlib_stream_are_refused(pki: Pki, extra: bytes) -> None:
    """Bytes after the end of the zlib stream are refused: nothing signs them."""
    result = verify(pki, hc1(cose_message(pki, VACCINATION), after_zlib=extra))
    assert (result.valid, result.code, result.stage) == (False, FailureCode.COMPRESSED_TRAILING_DATA,
                                                         Stage.COMPRESSION)


@pytest.mark.parametrize("layout", ["tag18", "untagged", "tag61", "unprotected-kid", "long-heads"])
def test_bytes_after_the_cose_item_are_refused(pki: Pki, layout: str) -> None:
    """Bytes after the COSE_Sign1 item are refused, whatever its layout (and it verifies without them)."""
    message = cose_message(pki, VACCINATION)
    items = list(cbor2.loads(message).value)
    if layout == "untagged":
        message = cbor2.dumps(items)
    elif layout == "tag61":
        message = cbor2.dumps(cbor2.CBORTag(61, cbor2.CBORTag(18, items)))
    elif layout == "unprotected-kid":
        message = cbor2.dumps(cbor2.CBORTag(18, [items[0], {4: pki.signer.kid}, items[2], items[3]]))
    elif layout == "long-heads":  # a payload head in 4 bytes where 2 would do: still one item
        head = bytes([0x5A]) + len(items[2]).to_bytes(4, "big")
        message = b"\xd2\x84" + cbor2.dumps(items[0]) + b"\xa0" + head + items[2] + cbor2.dumps(items[3])
    assert verify(pki, hc1(message)).valid
    for extra in (b"\x00", b"\xf6", cbor2.dumps(items)):
        result = verify(pki, hc1(message + extra))
        assert (result.valid, result.code, result.stage) == (False, FailureCode.COSE_TRAILING_DATA, Stage.COSE)


@pytest.mark.parametrize(("content", "code"), [
    (payload(t=TEST["t"]), FailureCode.PAYLOAD_MULTIPLE_TYPES),
    (payload(r=[{"tg": "840539006", "fr": "2026-01-01", "co": "VN", "is": "Bộ Y tế", "df": "2026-01-12",
                 "du": "2026-06-30", "ci": generate("VN")}]), FailureCode.PAYLOAD_MULTIPLE_TYPES),
    (payload(v=VACCINATION["v"] * 2), FailureCode.PAYLOAD_MULTIPLE_ENTRIES),
    (payload(v=[], t=None), FailureCode.PAYLOAD_MISSING),
])
def test_ambiguous_content_is_refused(pki: Pki, content: dict[str, Any], code: FailureCode) -> None:
    """Two of v/t/r with entries, or two entries, are refused: a verifier must not pick one."""
    for strict in (False, True):
        result = verify(pki, make(pki, content), strict=strict)
        assert (result.valid, result.code) == (False, code)


def test_refusal_codes_are_distinct() -> None:
    """Each refusal has a code of its own."""
    codes = [FailureCode.ALGORITHM_UNPROTECTED, FailureCode.CRITICAL_HEADER_UNKNOWN,
             FailureCode.COMPRESSED_TRAILING_DATA, FailureCode.COSE_TRAILING_DATA,
             FailureCode.PAYLOAD_MULTIPLE_TYPES, FailureCode.PAYLOAD_MULTIPLE_ENTRIES]
    assert len(set(codes)) == len(codes)


# -- country consistency ---------------------------------------------------------------------------


def test_iss_other_than_signer_country_is_a_warning(pki: Pki) -> None:
    """iss naming another country than the DSC's verifies, with a warning."""
    result = verify(pki, make(pki, VACCINATION, iss="NL"))
    assert result.valid
    assert "iss: issuing country differs from the signer certificate's country" in result.warnings


def test_entry_country_other_than_signer_country_is_a_warning(pki: Pki) -> None:
    """An entry's co naming another country than the DSC's verifies, with a warning."""
    result = verify(pki, make(pki, entry(co="FR")))
    assert result.valid
    assert any(w.startswith("v[0].co: country differs") for w in result.warnings)
    assert verify(pki, make(pki, VACCINATION)).warnings == ()


# -- what vaxcert emits ----------------------------------------------------------------------------


def test_compressed_stream_is_standard_zlib(pki: Pki) -> None:
    """The zlib stream starts 78 DA (32 KiB window, level 9), for ES256 and PS256 alike."""
    from vaxcert import Issuer

    for signer in (pki.signer, pki.rsa_signer):
        issued = Issuer(signer, facility_override=True).issue(VACCINATION, now=NOW)
        stream = base45.decode(prefix.strip(issued.hc1))
        assert stream[:2] == compression.HEADER == b"\x78\xda"
        assert zlib.decompressobj(wbits=15).decompress(stream) == issued.cose
    assert compression.compress(b"x" * 10)[:2] == b"\x78\xda"
    assert compression.compress(b"x" * 100_000)[:2] == b"\x78\xda"


def test_small_window_streams_are_still_read(pki: Pki) -> None:
    """Older vaxcert certificates (zlib header 18 D3, a 512-byte window) still verify."""
    message = cose_message(pki, VACCINATION)
    small = zlib.compressobj(9, zlib.DEFLATED, 9)
    stream = small.compress(message) + small.flush()
    assert stream[:2] == b"\x18\xd3"
    assert verify(pki, prefix.add(base45.encode(stream))).valid


def test_issued_message_layout(pki: Pki) -> None:
    """Tag 18, protected {1: alg, 4: kid} and nothing else, an empty unprotected header."""
    from vaxcert import Issuer

    for signer, alg in ((pki.signer, cose.ALG_ES256), (pki.rsa_signer, cose.ALG_PS256)):
        issued = Issuer(signer, facility_override=True).issue(VACCINATION, now=NOW)
        tagged = cbor2.loads(issued.cose)
        assert tagged.tag == 18
        protected, unprotected, _, _ = tagged.value
        assert cbor2.loads(protected) == {1: alg, 4: signer.kid} and unprotected == {}
    assert pki.rsa_dsc.public_key().key_size == 2048  # type: ignore[union-attr]


def test_verification_time_is_a_parameter(pki: Pki) -> None:
    """Nothing here reads the clock: the same certificate expires at the stated time."""
    text = make(pki, VACCINATION)
    assert Verifier(pki.trust).verify(text, now=NOW + dt.timedelta(days=2)).code is FailureCode.EXPIRED


@pytest.mark.parametrize(("algorithm", "warned"), [("rsa3072", True), ("rsa2048", False), ("ec", False)])
def test_rsa3072_document_signer_warns(tmp_path: Path, algorithm: str, warned: bool) -> None:
    """`keys issue-dsc --algorithm rsa3072` works but warns that some verifiers refuse RSA-3072 PS256."""
    from cli_inprocess import run

    assert run("keys", "init-ministry", "--country", "VN", "--out", str(tmp_path / "m")).returncode == 0
    done = run("keys", "issue-dsc", "--ministry", str(tmp_path / "m"), "--facility-id", "VN-HN-001",
               "--name", "Bach Mai", "--algorithm", algorithm, "--out", str(tmp_path / "d"))
    assert done.returncode == 0, done.stderr
    assert ("some verifiers refuse" in done.stderr) is warned


# -- the reading's quick paths agree with the general one (property tests) ------------------------

_QUIRKS = ("pad", "null", "float", "datetime", "basic", "empty", "none")


@st.composite
def quirky_payloads(draw: st.DrawFn) -> dict[str, Any]:
    """A generated payload with a few of the quirks real issuers write."""
    out: dict[str, Any] = draw(strategies_dcc.payloads())
    kind = next(k for k in ("v", "t", "r") if k in out)
    for quirk in draw(st.lists(st.sampled_from(_QUIRKS), max_size=4)):
        item = out[kind][0] if out.get(kind) else out
        if quirk == "pad":
            name = draw(st.sampled_from(sorted(k for k, v in item.items() if isinstance(v, str)) or ["x"]))
            item[name] = draw(st.sampled_from([" ", "\n", "\t "])) + str(item.get(name, "")) + " "
        elif quirk == "null":
            item[draw(st.sampled_from(["ma", "nm", "extra"]))] = None
        elif quirk == "float" and isinstance(item.get("dn"), int):
            item["dn"] = float(item["dn"])
        elif quirk in ("datetime", "basic"):
            for name in ("dt", "fr", "df", "du", "sc", "dob"):
                holder = out if name == "dob" else item
                value = holder.get(name)
                if isinstance(value, str) and len(value) >= 10:
                    holder[name] = value[:10] + "T00:00:00" if quirk == "datetime" else value[:10].replace("-", "")
        elif quirk == "empty":
            out[draw(st.sampled_from([k for k in ("v", "t", "r") if k != kind]))] = []
    return out


@settings(max_examples=300, deadline=None)
@given(quirky_payloads())
def test_quick_paths_agree_with_the_general_reading(content: dict[str, Any]) -> None:
    """reads_as_written / the tidy flag / times_as_written never skip a reading that would change something."""
    general = lenient._read(copy.deepcopy(content))
    unchanged = general.payload == content and general.warnings == ()
    if lenient.reads_as_written(content):
        assert unchanged
    state = cbor._plain_state(content)
    assert (state != 0) == cbor._is_plain(content)
    try:
        kind = certificate_type(content)
    except DecodeError:
        kind = None
    if state == 2 and kind is not None and lenient.tidy_as_written(content, kind):
        assert lenient.reads_as_written(content) and unchanged
    if kind is not None:
        assert certificate_type(general.payload) == kind  # the reading never changes the type
    reading = lenient.read_payload(content)
    assert (reading.payload, reading.warnings) == (general.payload, general.warnings)
    again = lenient.read_payload(reading.payload)
    assert again.payload == reading.payload and again.warnings == ()
    assert None not in [v for v in reading.payload.values()]


def _tidy_kind_agrees(content: dict[str, Any]) -> None:
    if cbor._plain_state(content) != 2:  # tidy_kind is asked about tidy payloads only
        return
    try:
        kind: str | None = certificate_type(content)
    except DecodeError:
        kind = None
    expected = kind if kind is not None and lenient.tidy_as_written(content, kind) else None
    assert lenient.tidy_kind(content) == expected


@settings(max_examples=300, deadline=None)
@given(quirky_payloads())
def test_tidy_kind_is_type_and_tidy_as_written(content: dict[str, Any]) -> None:
    """The verifier's one look (tidy_kind) answers what certificate_type and tidy_as_written answer together."""
    _tidy_kind_agrees(content)


@settings(max_examples=300, deadline=None)
@given(strategies_dcc.mutated_payloads())
def test_tidy_kind_on_mutated_payloads(content: dict[str, Any]) -> None:
    """tidy_kind agrees with certificate_type + tidy_as_written on broken payloads too (several types, no entry)."""
    try:
        plain = cbor.to_json_compatible(content)
    except DecodeError:
        return
    if isinstance(plain, dict):
        _tidy_kind_agrees(plain)


@settings(max_examples=200, deadline=None)
@given(strategies_dcc.mutated_payloads())
def test_reading_never_raises(content: dict[str, Any]) -> None:
    """Whatever the payload holds (after cwt's plain-JSON conversion), reading it never raises."""
    try:
        plain = cbor.to_json_compatible(content)
    except DecodeError:
        return
    if isinstance(plain, dict):
        lenient.read_payload(plain)
