"""The vector runner on the published EU DCC vectors (../shared/dgc-testdata), and the file format."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaxcert.cli import cli
from vaxcert.vectors import CHECKS, KnownDefects, Report, VectorFormatError, evaluate, find_files, load, parse, run
from vaxcert.vectors.format import UNREADABLE, parse_clock

REPO = Path(__file__).resolve().parents[1]
KNOWN_DEFECTS = REPO / "test_vectors" / "KNOWN_DEFECTS.md"
OWN_CO3 = REPO / "test_vectors" / "common" / "2DCode" / "raw" / "CO3.json"


@pytest.fixture(scope="module")
def published(vectors_dir: Path) -> Report:
    """The published set run once with the repository's known-defects list."""
    return run([vectors_dir], KnownDefects.from_file(KNOWN_DEFECTS))


def _result(report: Report, suffix: str) -> Any:
    (match,) = [f for f in report.files if f.path.endswith(suffix)]
    return match


# -- agreement with the published set ----------------------------------------------------------


def test_published_set_agrees_except_listed_defects(published: Report) -> None:
    """Every stated expectation agrees, except exactly the entries of KNOWN_DEFECTS.md."""
    assert published.ok
    disagreements = {(f.path.split("dgc-testdata/")[1], name)
                     for f in published.files for name, c in f.checks.items() if c.failed}
    assert disagreements == set(KnownDefects.from_file(KNOWN_DEFECTS).entries)
    assert published.stale_defects() == []


def test_every_published_file_is_read(published: Report, vectors_dir: Path) -> None:
    """All 162 files are found, read, and have checks evaluated."""
    assert len(published.files) == len(list(vectors_dir.glob("*/2DCode/raw/*.json"))) == 162
    assert all(f.error is None and f.checks for f in published.files)
    assert published.counts()["agree"] >= 1180


@pytest.mark.parametrize(("suffix", "check", "actual"), [
    ("common/2DCode/raw/CBO2.json", "EXPECTEDVERIFY", False),  # wrong CWT structure
    ("common/2DCode/raw/DGC2.json", "EXPECTEDSCHEMAVALIDATION", False),  # several entries
    ("common/2DCode/raw/CO15.json", "EXPECTEDKEYUSAGE", True),  # empty extended-key-usage sequence
    ("common/2DCode/raw/CO19.json", "EXPECTEDVERIFY", True),  # kid only unprotected
    ("common/2DCode/raw/CO21.json", "EXPECTEDVERIFY", True),  # protected kid wins
    ("common/2DCode/raw/CO22.json", "EXPECTEDVERIFY", False),
    ("common/2DCode/raw/CO23.json", "EXPECTEDVERIFY", False),
    ("common/2DCode/raw/CO28.json", "EXPECTEDVERIFY", True),  # double tagged
    ("common/2DCode/raw/CO16.json", "EXPECTEDEXPIRATIONCHECK", False),
    ("common/2DCode/raw/CO17.json", "EXPECTEDEXPIRATIONCHECK", False),
    ("common/2DCode/raw/Q1.json", "EXPECTEDPICTUREDECODE", False),
    ("common/2DCode/raw/Z2.json", "EXPECTEDCOMPRESSION", False),
    ("ES/2DCode/raw/1501.json", "EXPECTEDEXPIRATIONCHECK", True),  # float iat / exp
    ("SK/2DCode/raw/3.json", "EXPECTEDKEYUSAGE", True),  # two vaccinations, a DSC for all types
])
def test_rule_cases_agree(published: Report, suffix: str, check: str, actual: bool) -> None:
    """The BasicDgcTestsList rules reach the published verdicts for the reasons expected."""
    result = _result(published, suffix).checks[check]
    assert result.actual is actual
    assert result.expected is None or result.agree


def test_known_defects_are_the_argued_findings(published: Report) -> None:
    """Each listed defect fails for the reason argued in KNOWN_DEFECTS.md."""
    notes = {(f.path.split("dgc-testdata/")[1], n): c.note for f in published.files
             for n, c in f.checks.items() if c.known_defect}
    assert notes[("ES/2DCode/raw/401.json", "EXPECTEDVERIFY")] == "ALGORITHM_KEY_MISMATCH"
    assert notes[("IS/2DCode/raw/3.json", "EXPECTEDKEYUSAGE")] == ""
    assert notes[("SK/2DCode/raw/3.json", "EXPECTEDSCHEMAVALIDATION")] == "PAYLOAD_MULTIPLE_ENTRIES"
    assert "dob" in notes[("BE/2DCode/raw/4.json", "EXPECTEDSCHEMAVALIDATION")]
    assert "must be of type array" in notes[("BG/2DCode/raw/2.json", "EXPECTEDVALIDOBJECT")]
    assert "JSON" in notes[("FR/2DCode/raw/test_pcr_ok.json", "EXPECTEDDECODE")]


def test_stated_without_input_is_reported_not_failed(published: Report) -> None:
    """A stated check whose input is absent has actual and agree null and does not fail the run."""
    check = _result(published, "common/2DCode/raw/B1.json").checks["EXPECTEDPICTUREDECODE"]
    assert (check.actual, check.expected, check.agree) == (None, True, None)
    assert published.counts()["unevaluated"] == 22


def test_unstated_checks_are_evaluated(published: Report) -> None:
    """Checks whose input is present are reported even when the file states nothing about them."""
    checks = _result(published, "common/2DCode/raw/CO3.json").checks
    assert checks["EXPECTEDEXPIRATIONCHECK"].expected is None
    assert checks["EXPECTEDEXPIRATIONCHECK"].actual is True


# -- the command line --------------------------------------------------------------------------


def test_cli_json_lines(vectors_dir: Path) -> None:
    """--format json prints one object per file with exactly file, description and checks."""
    out = CliRunner().invoke(cli, ["vectors", "run", str(vectors_dir / "common"), "--format", "json",
                                   "--known-defects", str(KNOWN_DEFECTS)])
    assert out.exit_code == 0, out.output
    lines = [json.loads(line) for line in out.output.splitlines()]
    assert len(lines) == len(list((vectors_dir / "common").glob("2DCode/raw/*.json")))
    for obj in lines:
        assert set(obj) == {"file", "description", "checks"}
        assert obj["file"].startswith(str(vectors_dir / "common"))
        for name, check in obj["checks"].items():
            assert name in CHECKS
            assert set(check) - {"known_defect"} == {"actual", "expected", "agree"}


def test_cli_exit_codes(vectors_dir: Path) -> None:
    """Exit 1 with unlisted disagreements, 0 when they are listed known defects (marked in JSON)."""
    runner = CliRunner()
    failing = runner.invoke(cli, ["vectors", "run", str(vectors_dir / "ES")])
    assert failing.exit_code == 1
    assert "EXPECTEDVERIFY: expected true, actual false (ALGORITHM_KEY_MISMATCH)" in failing.output
    passing = runner.invoke(cli, ["vectors", "run", str(vectors_dir / "ES"), "--known-defects", str(KNOWN_DEFECTS),
                                  "--format", "json"])
    assert passing.exit_code == 0
    marked = [obj for obj in map(json.loads, passing.output.splitlines())
              if obj["checks"].get("EXPECTEDVERIFY", {}).get("known_defect")]
    assert len(marked) == 3


def test_text_report_has_table_and_summary(vectors_dir: Path) -> None:
    """The text output is a table with a column per check and a closing summary."""
    out = CliRunner().invoke(cli, ["vectors", "run", str(vectors_dir / "common" / "2DCode" / "raw" / "CO1.json")])
    assert out.exit_code == 0
    header = next(line for line in out.output.splitlines() if line.startswith("file "))
    assert header.split() == ["file", "UNP", "B45", "ZIP", "DEC", "VER", "EXP", "KEY", "SCH", "JSN", "OBJ", "ENC"]
    assert "1 files (0 unreadable)" in out.output and out.output.rstrip().endswith("PASS")


def test_unreadable_file_fails_the_run(tmp_path: Path) -> None:
    """A file that is not JSON is reported with an error and makes the run fail."""
    raw = tmp_path / "XX" / "2DCode" / "raw"
    raw.mkdir(parents=True)
    (raw / "1.json").write_bytes(b"{not json")
    report = run([tmp_path])
    assert not report.ok and report.files[0].error is not None
    assert report.files[0].to_dict()["error"].endswith("not a JSON document")


def test_empty_folder_is_a_usage_error(tmp_path: Path) -> None:
    """A folder without vector files is an error (exit 2), not a silent pass."""
    out = CliRunner().invoke(cli, ["vectors", "run", str(tmp_path)])
    assert out.exit_code != 0


# -- tolerant reading --------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("2021-05-03T18:00:00Z", dt.datetime(2021, 5, 3, 18, tzinfo=dt.UTC)),
    ("2021-05-14T00:00:01+02:00", dt.datetime(2021, 5, 13, 22, 0, 1, tzinfo=dt.UTC)),
    ("2021-06-09T15:15:34+0200", dt.datetime(2021, 6, 9, 13, 15, 34, tzinfo=dt.UTC)),
    ("2021-06-08T20:17:27.9906293Z", dt.datetime(2021, 6, 8, 20, 17, 27, 990629, tzinfo=dt.UTC)),
    ("2021-05-26T17:54:18.376733", dt.datetime(2021, 5, 26, 17, 54, 18, 376733, tzinfo=dt.UTC)),
    (" 2021-05-17 09:10:47.327z ", dt.datetime(2021, 5, 17, 9, 10, 47, 327000, tzinfo=dt.UTC)),
    (1620064800, dt.datetime(2021, 5, 3, 18, tzinfo=dt.UTC)),
    ("yesterday", None),
    (True, None),
])
def test_clock_formats(text: object, expected: dt.datetime | None) -> None:
    """Clocks with fractions, offsets with or without a colon, naive (UTC) or epoch seconds."""
    assert parse_clock(text) == expected


def _co3_document() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(OWN_CO3.read_text(encoding="utf-8"))
    return doc


def _evaluate(doc: dict[str, Any], encoding: str = "utf-8", bom: bytes = b"") -> Any:
    return evaluate(parse(bom + json.dumps(doc, ensure_ascii=False).encode(encoding), "X/2DCode/raw/1.json"))


@pytest.mark.parametrize(("bom", "encoding"), [(b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"),
                                               (b"\xfe\xff", "utf-16-be")])
def test_byte_order_marks(bom: bytes, encoding: str) -> None:
    """Files with a UTF-8 or UTF-16 byte-order mark are read like plain UTF-8 ones."""
    result = _evaluate(_co3_document(), encoding, bom)
    assert not result.failures and len(result.checks) == len(CHECKS)


def test_certificate_with_pem_armour_and_messy_fields() -> None:
    """PEM armour, wrapped base64, upper-case hex with spaces, a data: URI and string booleans are read."""
    doc = _co3_document()
    cert = doc["TESTCTX"]["CERTIFICATE"]
    lines = [cert[i:i + 64] for i in range(0, len(cert), 64)]
    doc["TESTCTX"]["CERTIFICATE"] = "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"
    doc["COSE"] = " ".join(doc["COSE"][i:i + 8] for i in range(0, len(doc["COSE"]), 8)).upper()
    doc["2DCODE"] = "data:image/png;base64," + doc["2DCODE"]
    doc["EXPECTEDRESULTS"] = {k: str(v).lower() for k, v in doc["EXPECTEDRESULTS"].items()}
    del doc["TESTCTX"]["VALIDATIONCLOCK"]
    doc["TESTCTX"]["validationClockInstant"] = "2026-06-01T08:00:00.000+00:00"
    result = _evaluate(doc)
    assert not result.failures and all(c.agree for c in result.checks.values())


def test_missing_fields_give_null_and_unreadable_fields_give_false() -> None:
    """An absent input makes a check null (and unreported); a present but unreadable one makes it false."""
    doc = _co3_document()
    del doc["TESTCTX"]["CERTIFICATE"]
    doc["COMPRESSED"] = "not hex"
    doc["EXPECTEDRESULTS"] = {"EXPECTEDVERIFY": True, "EXPTECTEDEXPIRED": True}
    vf = parse(json.dumps(doc).encode(), "X/2DCode/raw/1.json")
    assert vf.compressed is UNREADABLE and vf.ignored_keys == ("EXPTECTEDEXPIRED",)
    result = evaluate(vf)
    assert (result.checks["EXPECTEDVERIFY"].actual, result.checks["EXPECTEDVERIFY"].agree) == (None, None)
    assert "EXPECTEDKEYUSAGE" not in result.checks
    assert result.checks["EXPECTEDCOMPRESSION"].actual is False
    assert result.ok


def test_not_a_vector_file() -> None:
    """Bytes that are not a JSON object raise VectorFormatError naming the file only."""
    for data in (b"\x00\x01", b"[1, 2]", b""):
        with pytest.raises(VectorFormatError, match=r"^X\.json: "):
            parse(data, "X.json")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(["CBOR", "COSE", "COMPRESSED"]), data=st.binary(max_size=300))
def test_hostile_fields_never_crash(field: str, data: bytes) -> None:
    """Arbitrary bytes in a hex field give a verdict for every check, never an internal error."""
    doc = _co3_document()
    doc[field] = data.hex()
    result = _evaluate(doc)
    assert all("INTERNAL_ERROR" not in c.note for c in result.checks.values())


# -- discovery and known-defect lists ----------------------------------------------------------


def test_find_files_reports_paths_as_given(vectors_dir: Path) -> None:
    """Folders are searched for */raw/*.json, naturally sorted, reported under the folder as given."""
    found = [shown for shown, _ in find_files([vectors_dir / "DK", vectors_dir / "DK/2DCode/raw/10.json"])]
    assert found[:3] == [str(vectors_dir / "DK/2DCode/raw/1.json"), str(vectors_dir / "DK/2DCode/raw/2.json"),
                         str(vectors_dir / "DK/2DCode/raw/3.json")]
    assert len(found) == len(set(found)) == 10


def test_find_files_sorts_names_with_other_digits(tmp_path: Path) -> None:
    """Names holding '²', '①' or another script's digits sort as text, after the ASCII numbers, and never crash."""
    raw = tmp_path / "XX" / "2DCode" / "raw"
    raw.mkdir(parents=True)
    names = ["10.json", "2.json", "1².json", "1²2.json", "①.json", "٣.json"]
    for name in names:
        (raw / name).write_bytes(b"{}")
    found = [Path(shown).name for shown, _ in find_files([tmp_path])]
    assert found == ["1²2.json", "1².json", "2.json", "10.json", "٣.json", "①.json"]


def test_known_defects_parsing_and_stale_entries(vectors_dir: Path) -> None:
    """Entry headings are parsed; a listed check that agrees is reported as stale."""
    defects = KnownDefects.parse("# title\n### `common/2DCode/raw/CO3.json` — EXPECTEDVERIFY, EXPECTEDDECODE\ntext\n"
                                 "## not/an/entry.json\n")
    assert defects.entries == (("common/2DCode/raw/CO3.json", "EXPECTEDVERIFY"),
                               ("common/2DCode/raw/CO3.json", "EXPECTEDDECODE"))
    report = run([vectors_dir / "common/2DCode/raw/CO3.json"], defects)
    assert report.ok and len(report.stale_defects()) == 2


def test_known_defect_marks_only_disagreements() -> None:
    """Listing a check marks it only where it disagrees; other checks of the file still fail."""
    doc = _co3_document()
    doc["EXPECTEDRESULTS"] = {"EXPECTEDVERIFY": False, "EXPECTEDDECODE": False}
    vf = parse(json.dumps(doc).encode(), "a/b/X/2DCode/raw/1.json")
    result = evaluate(vf, KnownDefects((("X/2DCode/raw/1.json", "EXPECTEDVERIFY"),)))
    assert result.checks["EXPECTEDVERIFY"].known_defect
    assert result.failures == ["EXPECTEDDECODE"]
    assert dataclasses.replace(result, checks={"EXPECTEDVERIFY": result.checks["EXPECTEDVERIFY"]}).ok


def test_certificate_field_variants_decode_to_the_same_der() -> None:
    """A certificate as bare base64 and inside PEM armour gives the same DER."""
    doc = _co3_document()
    bare = parse(json.dumps(doc).encode(), "a.json").certificate
    doc["TESTCTX"]["CERTIFICATE"] = ("-----BEGIN CERTIFICATE-----\n" + doc["TESTCTX"]["CERTIFICATE"]
                                     + "\n-----END CERTIFICATE-----")
    armoured = parse(json.dumps(doc).encode(), "a.json").certificate
    assert bare == armoured == base64.b64decode(_co3_document()["TESTCTX"]["CERTIFICATE"])
    assert isinstance(load(OWN_CO3).certificate, bytes)
