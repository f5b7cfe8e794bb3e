"""Time DCC schema validation: vaxcert.schema (jsonschema-rs) against the Python jsonschema library.

Run from the repository root:  PYTHONPATH=src python benchmarks/bench_schema.py [--number N]

Prints microseconds per validation of a typical vaccination payload (valid and invalid) for:
  * vaxcert.schema.validate             — the public function (projection + jsonschema-rs + messages)
  * jsonschema-rs alone                 — the compiled bundled schema, ``is_valid``
  * jsonschema (Python), official schema — the reference verdict, ``is_valid``
"""

from __future__ import annotations

import argparse
import json
import os
import timeit
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs

from vaxcert.dcc import schema

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VAXCERT_SHARED", ROOT.parent / "shared"))
VERSION = "1.3.2"

VALID: dict[str, Any] = {
    "ver": VERSION,
    "nam": {"fn": "Nguyễn", "fnt": "NGUYEN", "gn": "Văn An", "gnt": "VAN<AN"},
    "dob": "1990-01-02",
    "v": [
        {
            "tg": "840539006",
            "vp": "1119349007",
            "mp": "EU/1/20/1528",
            "ma": "ORG-100030215",
            "dn": 2,
            "sd": 2,
            "dt": "2021-08-01",
            "co": "VN",
            "is": "Ministry of Health of Viet Nam",
            "ci": "URN:UVCI:01:VN:8E1A4C92B0F14D6A9F2C#K",
        }
    ],
}
INVALID: dict[str, Any] = {**VALID, "dob": "90-01-02", "v": [{**VALID["v"][0], "dn": 0}]}


def per_call_us(func: Callable[[], object], number: int) -> float:
    """Best of five runs, in microseconds per call."""
    return min(timeit.repeat(func, number=number, repeat=5)) / number * 1e6


def main() -> None:
    """Print the timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=20_000, help="calls per timing run")
    number = parser.parse_args().number

    ours = json.loads((ROOT / "schemas" / f"dcc-{VERSION}.schema.json").read_text(encoding="utf-8"))
    official_path = SHARED / "reference" / "dcc-schema" / VERSION / "DCC.combined-schema.json"
    official = json.loads(official_path.read_text(encoding="utf-8"))
    rs_validator = jsonschema_rs.validator_for(ours, validate_formats=False)
    py_validator = jsonschema.Draft202012Validator(official)

    assert schema.validate(VALID) == [] and py_validator.is_valid(VALID)
    assert schema.validate(INVALID) and not py_validator.is_valid(INVALID)
    print(f"DCC {VERSION}, µs per validation (best of 5 × {number} calls)")
    for label, payload in (("valid", VALID), ("invalid", INVALID)):
        timings = {
            "vaxcert.schema.validate": per_call_us(partial(schema.validate, payload), number),
            "jsonschema-rs is_valid": per_call_us(partial(rs_validator.is_valid, payload), number),
            "jsonschema (Python) official": per_call_us(partial(py_validator.is_valid, payload), number // 10),
        }
        for name, micros in timings.items():
            print(f"  {label:8} {name:30} {micros:9.2f}")


if __name__ == "__main__":
    main()
