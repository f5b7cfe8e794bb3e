"""The SHC vaccine code table: consistent with the EU value sets, documented row by row, replaceable."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import REPO
from vaxcert import ConfigurationError
from vaxcert.dcc.valuesets import ValueSets
from vaxcert.events import CVX, ICD11_MMS, SNOMED_CT
from vaxcert.formats.shc import ProductMap
from vaxcert.rules import VN_2021_PRODUCTS

TABLE = ProductMap.bundled()


def test_every_row_uses_eu_value_set_codes() -> None:
    """mp, ma, vp and disease of every row are codes of the bundled EU value sets."""
    sets = ValueSets.bundled()
    for row in TABLE.rows:
        assert row.system in (CVX, SNOMED_CT, ICD11_MMS), row
        assert row.mp is None or sets.contains("vaccine-medicinal-product", row.mp), row
        assert row.ma is None or sets.contains("vaccine-mah-manf", row.ma), row
        assert row.vp is not None and sets.contains("vaccine-prophylaxis", row.vp), row
        assert row.disease == "840539006"
        assert row.source in TABLE.sources, row
        assert (row.mp is None) == (row.ma is None), row


def test_main_products() -> None:
    """The codes most SHCs carry map to the products Viet Nam's policy counts."""
    expected = {
        (CVX, "207"): "EU/1/20/1507", (CVX, "208"): "EU/1/20/1528", (CVX, "210"): "EU/1/21/1529",
        (CVX, "212"): "EU/1/20/1525", (CVX, "510"): "BBIBP-CorV", (CVX, "505"): "Sputnik-V",
        (CVX, "502"): "Covaxin", (SNOMED_CT, "28581000087106"): "EU/1/20/1528",
    }
    for (system, code), mp in expected.items():
        row = TABLE.lookup(system, code)
        assert row is not None and row.mp == mp
        assert mp in VN_2021_PRODUCTS
    assert TABLE.lookup(CVX, "213") is not None and TABLE.lookup(CVX, "213").mp is None  # unspecified
    assert TABLE.lookup(CVX, "140") is None  # influenza: not a COVID-19 vaccine
    assert TABLE.lookup("http://id.who.int/icd11/mms", "XM68M6") == TABLE.lookup(ICD11_MMS, "XM68M6")
    assert TABLE.lookup(CVX, " 207 ") == TABLE.lookup(CVX, "207")


def test_every_row_is_documented() -> None:
    """docs/foreign-certificates.md lists every code of the table with its EU product."""
    text = (REPO / "docs" / "foreign-certificates.md").read_text(encoding="utf-8")
    for row in TABLE.rows:
        line = re.search(rf"^\| *`{re.escape(row.code)}` *\|.*$", text, re.MULTILINE)
        assert line is not None, row.code
        assert (row.mp or "—") in line.group(0), row.code


def test_replacement_and_extension(tmp_path: Path) -> None:
    """A deployment can load its own table or add rows; bad tables are configuration errors naming the row."""
    document = {"format": "vaxcert-shc-vaccine-codes/1", "sources": {"local": "ministry list"},
                "codes": [{"system": CVX, "code": "999", "mp": "CoronaVac", "ma": "Sinovac-Biotech",
                           "vp": "1157024006", "disease": "840539006", "source": "local"},
                          {"system": CVX, "code": "207", "mp": None, "ma": None, "vp": "1119349007",
                           "disease": "840539006", "source": "local"}]}
    path = tmp_path / "codes.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    local = ProductMap.load(path)
    assert len(local) == 2 and local.lookup(CVX, "999").mp == "CoronaVac"
    merged = TABLE.merged(local)
    assert merged.lookup(CVX, "999").mp == "CoronaVac"
    assert merged.lookup(CVX, "207").mp is None  # the local table wins
    assert merged.lookup(CVX, "208").mp == "EU/1/20/1528"
    assert repr(merged).startswith("ProductMap(rows=")
    for broken, message in [
        ({"format": "other"}, "not a vaxcert-shc-vaccine-codes/1"),
        ({"format": "vaxcert-shc-vaccine-codes/1", "codes": {}}, "codes must be a list"),
        ({"format": "vaxcert-shc-vaccine-codes/1", "codes": [1]}, r"codes\[0\]: must be an object"),
        ({"format": "vaxcert-shc-vaccine-codes/1", "codes": [{"code": "1"}]}, "system and code are required"),
        ({"format": "vaxcert-shc-vaccine-codes/1", "codes": [{"system": CVX, "code": "1", "mp": 5}]}, "mp must be"),
        ({"format": "vaxcert-shc-vaccine-codes/1", "codes": [{"system": CVX, "code": "1"}] * 2}, "appears twice"),
        ({"format": "vaxcert-shc-vaccine-codes/1", "codes": [], "sources": []}, "sources must map"),
    ]:
        path.write_text(json.dumps(broken), encoding="utf-8")
        with pytest.raises(ConfigurationError, match=message):
            ProductMap.load(path)
    path.write_text("{", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="not valid JSON"):
        ProductMap.load(path)
    with pytest.raises(ConfigurationError, match="cannot read"):
        ProductMap.load(tmp_path / "missing.json")
