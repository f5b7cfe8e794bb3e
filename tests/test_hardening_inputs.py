"""Issue 10, items 9 and 12: deeply nested JSON and 4,300+ digit numbers through every named command;
``verify --show-payload`` on an authentic certificate holding a huge integer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from cli_inprocess import PASSWORD, run
from conftest import NOW, Pki
from registry_support import HEADER, dose_row, write_csv
from test_issue_verify import VACCINATION
from vaxcert import InputError, Issuer, dump_json, load_json
from vaxcert.jsonio import MAX_DEPTH
from vaxcert.pki.keys import save_private_key

AT = ["--at", NOW.isoformat()]
DEEP = "[" * 100_000 + "]" * 100_000
BIG = '{"x": ' + "9" * 5000 + "}"
HOSTILE = {"deep": (DEEP, "nested too deeply"), "big": (BIG, "more than 4300 digits")}


@pytest.fixture
def files(pki: Pki, tmp_path: Path) -> Path:
    """Key and certificate files of the test PKI, and the two hostile JSON documents."""
    save_private_key(pki.csca_key, tmp_path / "csca.key.pem", PASSWORD.encode())
    save_private_key(pki.dsc_key, tmp_path / "dsc.key.pem", PASSWORD.encode())
    (tmp_path / "csca.pem").write_bytes(pki.csca.public_bytes(Encoding.PEM))
    (tmp_path / "dsc.pem").write_bytes(pki.dsc.public_bytes(Encoding.PEM))
    for name, (text, _) in HOSTILE.items():
        (tmp_path / f"{name}.json").write_text(text)
    return tmp_path


def _refused(args: list[str], expected: str, code: int = 2) -> None:
    r = run(*args)  # an exception other than vaxcert's would escape run() and fail the test
    assert r.returncode == code, r.stdout + r.stderr
    assert expected in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_loader_limits() -> None:
    """load_json refuses deep nesting, 4,300+ digit numbers, NaN, and nesting just over MAX_DEPTH."""
    for text, expected in HOSTILE.values():
        with pytest.raises(InputError, match=expected):
            load_json(text)
    with pytest.raises(InputError, match="NaN"):
        load_json('{"a": NaN}')
    assert load_json("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(InputError, match="nested too deeply"):
        load_json("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_issue(files: Path, kind: str) -> None:
    """vaxcert issue of a hostile JSON document: exit 2 with a clear message."""
    _refused(["issue", "--key", str(files / "dsc.key.pem"), "--cert", str(files / "dsc.pem"), *AT,
              str(files / f"{kind}.json")], HOSTILE[kind][1])  # fmt: skip


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_verify_trust(files: Path, kind: str) -> None:
    """vaxcert verify --trust with a hostile (DCCG) JSON trust file: exit 2 with a clear message."""
    _refused(["verify", "--trust", str(files / f"{kind}.json"), "HC1:6BF"], HOSTILE[kind][1])


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_scan_policy(files: Path, kind: str) -> None:
    """vaxcert scan --policy with a hostile JSON policy: exit 2 with a clear message."""
    _refused(["scan", "-", "--lang", "en", "--trust", str(files / "dsc.pem"), "--policy",
              str(files / f"{kind}.json")], HOSTILE[kind][1])  # fmt: skip


def test_scan_policy_deep_toml(files: Path) -> None:
    """A deeply nested TOML policy is refused too."""
    (files / "deep.toml").write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    _refused(["scan", "-", "--lang", "en", "--trust", str(files / "dsc.pem"), "--policy", str(files / "deep.toml")],
             "deep")


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_bundle_build_valuesets(files: Path, kind: str) -> None:
    """vaxcert bundle build --valuesets with a hostile JSON file: exit 2 with a clear message."""
    signer = ["--signer-key", str(files / "csca.key.pem"), "--signer-cert", str(files / "csca.pem")]
    assert run("trust", "publish", str(files / "dsc.pem"), "-o", str(files / "tl.cose"), *signer, *AT).returncode == 0
    _refused(["bundle", "build", "--trust-list", str(files / "tl.cose"), "--valuesets", str(files / f"{kind}.json"),
              *signer, *AT, "-o", str(files / "b.cose")], HOSTILE[kind][1])  # fmt: skip
    assert not (files / "b.cose").exists()


def test_registry_import_keeps_going(files: Path) -> None:
    """registry import: deep and huge JSON lines, and a 5,000-digit CSV dose number, are rejected rows."""
    url = f"sqlite:///{files}/registry.db"
    assert run("registry", "init", "--db", url).returncode == 0
    lines = [json.dumps(dose_row(1)), '{"citizen_id": ' + DEEP + "}", json.dumps(dose_row(2)),
             '{"dose_number": ' + "9" * 5000 + "}", json.dumps(dose_row(3))]  # fmt: skip
    (files / "d.jsonl").write_text("\n".join(lines) + "\n")
    r = run("registry", "import", "--db", url, "--quiet", *AT, str(files / "d.jsonl"))
    assert r.returncode == 1 and "3 new doses" in r.stdout and "2 rejected" in r.stdout, r.stdout + r.stderr
    assert "line 2: $: JSON nested too deeply" in r.stderr and "line 4: $: a number has more than" in r.stderr
    rows = [dose_row(4), {**dose_row(5), "dose_number": "9" * 5000}, dose_row(6)]
    r = run("registry", "import", "--db", url, "--quiet", *AT, str(write_csv(files / "d.csv", rows, HEADER)))
    assert r.returncode == 1 and "2 new doses" in r.stdout
    assert "dose_number: must be a whole number of at most" in r.stderr


def test_correct_request_huge_number(files: Path) -> None:
    """registry correct request --set dose_number=<5,000 digits>: exit 2 with a clear message."""
    url = f"sqlite:///{files}/registry.db"
    assert run("registry", "init", "--db", url).returncode == 0
    assert run("registry", "import", "--db", url, "--quiet", *AT, str(write_csv(files / "d.csv", [dose_row(1)]))
               ).returncode == 0  # fmt: skip
    person = dose_row(1)["citizen_id"]
    _refused(["registry", "correct", "request", "--db", url, "--person", person, "--kind", "missing_dose", "--set",
              "dose_number=" + "9" * 5000, "--set", "series_total=2", "--set", "date=2021-09-01", "--set",
              "product=EU/1/20/1528", "--set", "facility=VN-HN-001", "--by", "citizen", *AT],
             "at most 6 digits")  # fmt: skip


# -- item 12 ----------------------------------------------------------------------------------------


def test_dump_json_never_fails() -> None:
    """dump_json writes an integer too long to print as a note instead of failing."""
    assert json.loads(dump_json({"x": 10**5000, "y": 2**64})) == {"x": "<integer of 16610 bits>", "y": 2**64}


@pytest.mark.parametrize("number", [10**5000, 2**300], ids=["5000-digits", "91-digits"])
def test_verify_show_payload_with_huge_integer(pki: Pki, files: Path, number: int) -> None:
    """verify --show-payload (text and JSON) on an authentic certificate holding a huge integer never crashes."""
    payload = dict(VACCINATION, x=number)
    cert = Issuer(pki.signer, check=False, facility_override=True).issue(payload, now=NOW)
    for fmt in ("text", "json"):
        r = run("verify", "--trust", str(files / "dsc.pem"), *AT, "--show-payload", "--format", fmt, cert.hc1)
        assert r.returncode in (0, 1) and "Traceback" not in r.stderr, r.stderr
        if number < 2**512:  # decodable: the payload is printed with the number as it is
            assert str(number) in r.stdout
        else:  # past the CBOR stage's bignum cap: refused before any payload is shown
            assert "CBOR_INVALID" in r.stdout
