"""The library's recipes: issue a dose record under the facility rule, verify a picture, scan at a checkpoint."""

from __future__ import annotations

import copy
import datetime as dt
import io
import subprocess
import sys
from typing import Any

import pytest
from PIL import Image

import vaxcert
from conftest import NOW, Pki
from test_authority import RECORD, _record
from vaxcert import (
    FailureCode,
    InputError,
    Pass,
    Stage,
    Verifier,
    create_dsc,
    issue,
    issue_record,
    render_png,
    scan,
    scan_image,
    scan_text,
    verify_image,
)
from vaxcert.pki.keys import KeySigner, generate_private_key

AFTER = NOW + dt.timedelta(hours=1)


def _ministry(pki: Pki) -> KeySigner:
    key = generate_private_key("ec")
    cert = create_dsc(key, csca=pki.csca, csca_key=pki.csca_key, facility_id=None, facility_name="MoH signer",
                      now=NOW - dt.timedelta(days=1), ministry=True)  # fmt: skip
    return KeySigner(key, cert)


def test_issue_record_signs_for_the_facility_of_the_last_dose(pki: Pki) -> None:
    """issue_record with the last dose's facility key gives a certificate that verifies, for that dose."""
    cert = issue_record(_record(), pki.signer, now=NOW)
    result = Verifier(pki.trust).verify(cert.hc1, now=AFTER)
    assert result.valid and result.payload is not None
    entry = result.payload["v"][0]
    assert (entry["dn"], entry["sd"], entry["dt"]) == (2, 2, "2021-09-20")
    assert cert.uvci.startswith("URN:UVCI:01:VN:") and vaxcert.dcc.uvci.is_valid(cert.uvci, require_checksum=True)


def test_issue_record_refuses_another_facilitys_key(pki: Pki) -> None:
    """A facility key may not sign a record whose last dose was given elsewhere: InputError on the field."""
    with pytest.raises(InputError) as info:
        issue_record(_record(), pki.rsa_signer, now=NOW)  # VN-SG-002 gave only the first dose
    assert info.value.field == "doses[0].facility"
    assert "Trần" not in str(info.value)


def test_issue_record_accepts_a_ministry_key_for_any_facility(pki: Pki) -> None:
    """A ministry DSC signs for a facility without a key of its own."""
    cert = issue_record(_record(d0="VN-DN-777"), _ministry(pki), now=NOW)
    assert cert.cert_type == "v"


def test_issue_takes_dose_records_too(pki: Pki) -> None:
    """vaxcert.issue accepts a DoseRecord and dose-record JSON (facility rule applied), not only payloads."""
    assert issue(_record(), pki.signer, now=NOW).cert_type == "v"
    assert issue(copy.deepcopy(RECORD), pki.signer, now=NOW).cert_type == "v"
    with pytest.raises(InputError, match=r"^doses\[0\]\.facility: "):
        issue(copy.deepcopy(RECORD), pki.rsa_signer, now=NOW)


def test_issue_record_names_record_fields(pki: Pki) -> None:
    """A problem in the record is reported against the record's own field, never with its value."""
    data: dict[str, Any] = copy.deepcopy(RECORD)
    data["doses"][0]["date"] = "2030-01-01"
    with pytest.raises(InputError) as info:
        issue(data, pki.signer, now=NOW)
    assert info.value.field == "doses[0].date"


def _png(text: str) -> bytes:
    return render_png(text, scale=4)


def _blank() -> bytes:
    out = io.BytesIO()
    Image.new("L", (120, 120), 255).save(out, format="PNG")
    return out.getvalue()


def test_verify_image_reads_and_verifies(pki: Pki) -> None:
    """A rendered certificate verifies from its picture; pictures without one say why, never raise."""
    cert = issue_record(_record(), pki.signer, now=NOW)
    verifier = Verifier(pki.trust)
    assert verify_image(_png(cert.hc1), verifier, now=AFTER).valid
    blank = verify_image(_blank(), verifier, now=AFTER)
    assert (blank.code, blank.stage) == (FailureCode.NO_QR_FOUND, Stage.IMAGE)
    other = verify_image(_png("HTTPS://EXAMPLE.ORG/"), verifier, now=AFTER)
    assert other.code == FailureCode.NOT_A_CERTIFICATE
    broken = verify_image(b"\x89PNG not really", verifier, now=AFTER)
    assert broken.code == FailureCode.IMAGE_UNREADABLE


def _recent() -> vaxcert.DoseRecord:
    data: dict[str, Any] = copy.deepcopy(RECORD)
    data["doses"][0]["date"], data["doses"][1]["date"] = "2026-05-01", "2026-03-01"
    return vaxcert.DoseRecord.from_json(data)


def test_scan_gives_a_pass_for_text_and_pictures(pki: Pki) -> None:
    """scan: a str is scanned text, a picture gives one verdict per code; a recent complete series is GREEN."""
    cert = issue_record(_recent(), pki.signer, now=NOW)
    verifier = Verifier(pki.trust)
    [from_text] = scan(cert.hc1, verifier, now=AFTER)
    [from_picture] = scan(_png(cert.hc1), verifier, now=AFTER)
    assert from_text.result.valid and from_picture.result.valid
    assert from_text.colour is from_picture.colour is Pass.GREEN
    assert scan_text("not a certificate", verifier, now=AFTER).colour is Pass.RED
    [none] = scan_image(_blank(), verifier, now=AFTER)
    assert none.colour is Pass.RED and none.result.code == FailureCode.NO_QR_FOUND
    summary = from_text.to_dict("en")
    assert summary["pass"] == str(from_text.colour) and "Trần" not in str(summary)


def test_lazy_extra_names_resolve() -> None:
    """Names of optional extras are public and load on first use (with the extras installed)."""
    assert callable(vaxcert.save_card) and callable(vaxcert.decode_image) and vaxcert.HsmToken is not None
    with pytest.raises(AttributeError):
        vaxcert.no_such_name  # noqa: B018


def test_missing_extra_names_what_to_install() -> None:
    """Without the [qr] extra, decoding a picture raises MissingExtraError naming pip install 'vaxcert[qr]'."""
    code = (
        "import sys; sys.modules['zxingcpp'] = None\n"
        "import vaxcert\n"
        "try:\n"
        "    vaxcert.decode_image(b'')\n"
        "except vaxcert.MissingExtraError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "pip install 'vaxcert[qr]'" in out


@pytest.mark.parametrize(("hidden", "module", "extra"), [("fpdf", "vaxcert.card", "card"),
                                                        ("pkcs11", "vaxcert.pki.hsm", "hsm"),
                                                        ("fastapi", "vaxcert.service", "service"),
                                                        ("uvicorn", "vaxcert.checkpoint", "checkpoint")])  # fmt: skip
def test_each_extra_guard_names_its_extra(hidden: str, module: str, extra: str) -> None:
    """Importing a module of an extra whose library is missing raises MissingExtraError naming that extra."""
    code = (f"import sys; sys.modules[{hidden!r}] = None\n"
            "import importlib, vaxcert\n"
            "try:\n"
            f"    importlib.import_module({module!r})\n"
            "except vaxcert.MissingExtraError as exc:\n"
            "    print(exc.extra, isinstance(exc.__cause__, ImportError), exc)\n")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith(f"{extra} True ") and f"pip install 'vaxcert[{extra}]'" in out


def test_needs_extra_passes_other_errors_through() -> None:
    """needs_extra turns only ImportError into MissingExtraError; a MissingExtraError from inside keeps its extra."""
    with pytest.raises(vaxcert.MissingExtraError, match="vaxcert\\[qr\\]"), vaxcert.needs_extra("card", "cards"):
        raise vaxcert.MissingExtraError("qr", "pictures")
    with pytest.raises(ValueError), vaxcert.needs_extra("card", "cards"):
        raise ValueError("not an import problem")
