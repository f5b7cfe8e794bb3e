"""The CertLogic engine against the specification's own test suites (run from ../shared/certlogic)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from conftest import SHARED
from vaxcert.rules.certlogic import (
    CertLogicError,
    compile_expression,
    evaluate,
    is_falsy,
    is_truthy,
    validate,
    validation_issues,
)

SUITE = SHARED / "certlogic" / "testSuite"
VALIDATION_SUITE = SHARED / "certlogic" / "validation-testSuite"


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _evaluation_cases() -> list[Any]:
    """One pytest parameter per assertion: (expression, data, expected), id file::case::n."""
    params = []
    for path in sorted(SUITE.glob("*.json")) if SUITE.is_dir() else []:
        suite = _load(path)
        for number, case in enumerate(suite["cases"]):
            for index, assertion in enumerate(case["assertions"]):
                expression = assertion.get("certLogicExpression", case.get("certLogicExpression"))
                skip = "skip" in (suite.get("directive"), case.get("directive"), assertion.get("directive"))
                marks = [pytest.mark.skip(reason="marked skip in the suite")] if skip else []
                params.append(pytest.param(expression, assertion["data"], assertion["expected"],
                                           id=f"{path.stem}::{number}:{case['name']}::{index}", marks=marks))
    return params


def _validation_cases() -> list[Any]:
    """One pytest parameter per validation case: (expression, issues), id file::n."""
    params = []
    for path in sorted(VALIDATION_SUITE.glob("*.json")) if VALIDATION_SUITE.is_dir() else []:
        suite = _load(path)
        for number, case in enumerate(suite["cases"]):
            name = case.get("name") or json.dumps(case["certLogicExpression"])
            params.append(pytest.param(case["certLogicExpression"], case["issues"], id=f"{path.stem}::{number}:{name}"))
    return params


EVALUATION_CASES = _evaluation_cases()
#: The same expressions without the suite's skip marks: a skipped assertion's expression is still valid.
EXPRESSIONS = [pytest.param(*case.values[:1], id=case.id) for case in EVALUATION_CASES]
VALIDATION_CASES = _validation_cases()


def test_suites_are_present() -> None:
    """The shared suites exist and are not empty (so the parametrised tests below cannot vanish)."""
    assert len(EVALUATION_CASES) >= 200
    assert len(VALIDATION_CASES) >= 20


def _same(actual: Any, expected: Any) -> bool:
    """JSON equality without Python's True == 1."""
    return json.dumps(actual, sort_keys=True) == json.dumps(expected, sort_keys=True)


@pytest.mark.parametrize(("expression", "data", "expected"), EVALUATION_CASES)
def test_evaluation_suite(expression: Any, data: Any, expected: Any) -> None:
    """The interpreter gives the suite's expected value."""
    assert _same(evaluate(expression, data), expected)


@pytest.mark.parametrize(("expression", "data", "expected"), EVALUATION_CASES)
def test_evaluation_suite_compiled(expression: Any, data: Any, expected: Any) -> None:
    """The compiled expression gives the suite's expected value too."""
    assert _same(compile_expression(expression)(data), expected)


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_suite_expressions_are_valid(expression: Any) -> None:
    """Every expression of the evaluation suite passes static validation."""
    assert validate(expression) == []


@pytest.mark.parametrize(("expression", "issues"), VALIDATION_CASES)
def test_validation_suite(expression: Any, issues: list[dict[str, Any]]) -> None:
    """validate() reports exactly the suite's issues, with their messages and sub-expressions."""
    found = validation_issues(expression)
    assert [(i.message, json.dumps(i.expr, sort_keys=True)) for i in found] == [
        (i["message"], json.dumps(i["expr"], sort_keys=True)) for i in issues
    ]
    assert validate(expression) == [i["message"] for i in issues]


# --- the specification's prose, beyond the suites ----------------------------------------------


def _utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("date", "amount", "unit", "expected"),
    [
        ("2020-02-29", 1, "day", _utc(2020, 3, 1)),
        ("2020-02-29", 1, "month", _utc(2020, 3, 29)),
        ("2020-02-29", 1, "year", _utc(2021, 3, 1)),
        ("2020-02-29", 4, "year", _utc(2024, 2, 29)),
        ("2021-01-31", 1, "month", _utc(2021, 3, 3)),
        ("2020-01-31", 1, "month", _utc(2020, 3, 2)),
        ("2021-03-31", -1, "month", _utc(2021, 3, 3)),
        ("2021-12-15", 1, "month", _utc(2022, 1, 15)),
        ("2021-01-15", -13, "month", _utc(2019, 12, 15)),
        ("2021-06-01T00:00:00Z", -18, "year", _utc(2003, 6, 1)),
        ("2021-06-01T00:00:00+02:00", 0, "hour", _utc(2021, 5, 31, 22)),
        ("2021-06-01T00:00:00-2", 0, "hour", _utc(2021, 6, 1, 2)),
        ("2021-06-01T00:00:00+130", 0, "hour", _utc(2021, 5, 31, 22, 30)),
        ("2021-06-01T00:00:00+0130", 0, "hour", _utc(2021, 5, 31, 22, 30)),
        ("2021-06-01T00:00:00+1:30", 0, "hour", _utc(2021, 5, 31, 22, 30)),
        ("2021-06-01T00:00:00.1234567Z", 0, "hour", _utc(2021, 6, 1, 0, 0, 0, 123000)),
        ("2021-06-01T00:00:00.9", 0, "hour", _utc(2021, 6, 1, 0, 0, 0, 900000)),
        ("2021-06-01T23:00:00Z", 2, "hour", _utc(2021, 6, 2, 1)),
        ("2021", 0, "day", _utc(2021, 12, 31)),
        ("2021-02", 0, "day", _utc(2021, 2, 28)),
        ("2020-02", 1, "day", _utc(2020, 3, 1)),
    ],
)
def test_plus_time(date: str, amount: int, unit: str, expected: dt.datetime) -> None:
    """plusTime follows JavaScript's setUTC<unit>: leap days, month ends and offsets as specified."""
    expression = {"plusTime": [{"var": "d"}, amount, unit]}
    assert evaluate(expression, {"d": date}) == expected
    assert compile_expression(expression)({"d": date}) == expected


@pytest.mark.parametrize(("dob", "expected"), [("1990", _utc(1990, 12, 31)), ("2000-02", _utc(2000, 2, 29)),
                                              ("1990-05-17", _utc(1990, 5, 17))])
def test_date_of_birth(dob: str, expected: dt.datetime) -> None:
    """dccDateOfBirth gives the last date consistent with a partial date."""
    assert evaluate({"dccDateOfBirth": [{"var": ""}]}, dob) == expected


@pytest.mark.parametrize(
    ("expression", "data"),
    [
        ({"plusTime": [{"var": ""}, 0, "day"]}, None),
        ({"plusTime": [{"var": ""}, 0, "day"]}, 20210601),
        ({"plusTime": [{"var": ""}, 0, "day"]}, "2021-13-01"),
        ({"plusTime": [{"var": ""}, 0, "day"]}, "2021-02-30"),
        ({"plusTime": [{"var": ""}, 0, "day"]}, "1.6.2021"),
        ({"plusTime": [{"var": ""}, 0, "day"]}, "2021-06-01 10:00:00"),
        ({"plusTime": [{"var": ""}, 0, "day"]}, "2021-06-01T10:00:00+25:00"),
        ({"plusTime": [{"var": ""}, 99999, "year"]}, "2021-06-01"),
        ({"plusTime": [{"var": ""}, 0, "week"]}, "2021-06-01"),
        ({"plusTime": [{"var": ""}, {"var": "x"}, "day"]}, "2021-06-01"),
        ({"dccDateOfBirth": [{"var": ""}]}, ""),
        ({"dccDateOfBirth": [{"var": ""}]}, "1990-02-30"),
        ({"dccDateOfBirth": [{"var": ""}]}, None),
        ({"<": [{"var": "0"}, 2]}, ["1"]),
        ({"<": [{"var": "0"}, 2]}, [True]),
        ({"<": [{"var": "0"}, 2]}, [1.5]),
        ({"<": [1, 2, {"var": "0"}]}, [None]),
        ({"before": [{"var": "0"}, {"plusTime": ["2021-01-01", 0, "day"]}]}, ["2020-01-01"]),
        ({"in": ["a", {"var": "0"}]}, [None]),
        ({"in": ["a", {"var": "0"}]}, ["abc"]),
        ({"+": [{"var": "0"}, 1]}, [None]),
        ({"!": [{"var": "0"}]}, [1.5]),
        ({"if": [{"var": "0"}, 1, 2]}, [0.5]),
        ({"and": [{"var": "0"}, 1]}, [0.5]),
        ({"!": [{"plusTime": ["2021-01-01", 0, "day"]}]}, None),
        ({"reduce": [{"var": "0"}, 1, 0]}, ["abc"]),
        ({"extractFromUVCI": [{"var": "0"}, 1]}, [3]),
        ({"extractFromUVCI": [{"var": "0"}, "1"]}, ["a:b"]),
        ({"var": "x."}, {}),
        ({"var": 1}, [1, 2]),
        ({"!==": [1, 2]}, None),
        ({"or": [True, False]}, None),
        ({"if": [True, 1]}, None),
        ({"and": [True]}, None),
        ({"===": [1, 2, 3]}, None),
        ({"<": [1]}, None),
        ({"!": [True, False]}, None),
        ({"if": "x"}, None),
        ({"if": [True, 1, 2], "and": [1, 2]}, None),
        (None, None),
        (1.5, None),
        ({"===": [{}, 1]}, None),
    ],
)
def test_errors_are_certlogic_errors(expression: Any, data: Any) -> None:
    """Type mismatches and invalid expressions raise CertLogicError, in both evaluators."""
    with pytest.raises(CertLogicError):
        evaluate(expression, data)
    with pytest.raises(CertLogicError):
        compile_expression(expression)(data)


def test_error_messages_hold_no_data() -> None:
    """An error names the operation and the type, never a value from the data."""
    secret = "1979-04-14-Nguyen-Van-An"
    for expression in ({"plusTime": [{"var": "x"}, 0, "day"]}, {"dccDateOfBirth": [{"var": "x"}]},
                       {"<": [{"var": "x"}, 1]}, {"in": [1, {"var": "x"}]}, {"!": [{"var": "y"}]}):
        with pytest.raises(CertLogicError) as caught:
            evaluate(expression, {"x": secret, "y": 0.5})
        assert secret not in str(caught.value) and "Nguyen" not in str(caught.value)


def test_invalid_branch_not_taken_is_not_evaluated() -> None:
    """An invalid expression in a branch that is not taken does not raise (as in certlogic-js)."""
    expression = {"if": [{"var": "x"}, 1, {"nonsense": []}]}
    assert evaluate(expression, {"x": True}) == 1
    assert compile_expression(expression)({"x": True}) == 1
    with pytest.raises(CertLogicError, match="unrecognised operator"):
        compile_expression(expression)({"x": False})
    assert validate(expression) == ['unrecognised operator: "nonsense"']


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    """A hostile, deeply nested expression is a CertLogicError (and a validation issue)."""
    expression: Any = True
    for _ in range(5000):
        expression = {"!": [expression]}
    with pytest.raises(CertLogicError, match="nested too deeply"):
        evaluate(expression, None)
    with pytest.raises(CertLogicError, match="nested too deeply"):
        compile_expression(expression)(None)
    assert validate(expression) == ["expression nested too deeply"]


def test_truthiness() -> None:
    """Truthy and falsy as specified: disjoint, some values neither, integral floats are integers."""
    for value in (False, None, "", 0, 0.0, [], {}):
        assert is_falsy(value) and not is_truthy(value)
    for value in (True, "0", 1, -1, 2.0, [0], {"a": None}):
        assert is_truthy(value) and not is_falsy(value)
    for value in (0.5, _utc(2021, 1, 1), b"x", object()):
        assert not is_truthy(value) and not is_falsy(value)


def test_integral_floats_are_integers() -> None:
    """A dose number 2.0 (as some CBOR encoders write it) compares and adds as the integer 2."""
    data = {"v": [{"dn": 2.0, "sd": 2}]}
    for expression, expected in (({">=": [{"var": "v.0.dn"}, {"var": "v.0.sd"}]}, True),
                                 ({"===": [{"var": "v.0.dn"}, 2]}, True),
                                 ({"+": [{"var": "v.0.dn"}, 1]}, 3),
                                 ({"in": [{"var": "v.0.dn"}, [1, 2]]}, True)):
        assert evaluate(expression, data) == expected
        assert compile_expression(expression)(data) == expected


def test_strict_equality_never_coerces() -> None:
    """=== and in tell true from 1 and "1" from 1."""
    for left, right in ((True, 1), (1, True), ("1", 1), (0, False), (None, False), ([], False)):
        assert evaluate({"===": [{"var": "0"}, {"var": "1"}]}, [left, right]) is False
    assert evaluate({"in": [{"var": "0"}, [1, 2]]}, [True]) is False
    assert evaluate({"in": [{"var": "0"}, {"var": "1"}]}, [1, [True, 1]]) is True


def test_var_index_and_mapping_types() -> None:
    """var drills into tuples and read-only mappings (payloads from the verifier) like lists and dicts."""
    from types import MappingProxyType

    data = MappingProxyType({"v": ({"dn": 1},)})
    assert evaluate({"var": "v.0.dn"}, data) == 1
    assert compile_expression({"var": "v.0.dn"})(data) == 1
    assert evaluate({"var": "v.-1"}, {"v": [1]}) is None
    assert evaluate({"var": "v.1"}, {"v": "abc"}) is None
    assert evaluate({"var": "v.01"}, {"v": [0, 1]}) == 1
    for fragment in ("²", "①", "١", "1" * 5000):  # not indexes: isdigit() but not int(), other digits, too long
        for run in (lambda e, d: evaluate(e, d), lambda e, d: compile_expression(e)(d)):
            assert run({"var": f"v.{fragment}"}, {"v": [0, 1]}) is None
            assert run({"var": f"v.{fragment}"}, {"v": {fragment: 7}}) == 7
