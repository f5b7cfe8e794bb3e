"""The closure compiler against the reference interpreter, on generated expressions and data."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from strategies_dcc import exotic_values, json_values
from vaxcert.rules.certlogic import TIME_UNITS, CertLogicError, compile_expression, evaluate

_OPERATORS = ("if", "===", "and", "<", ">", "<=", ">=", "in", "+", "after", "before", "not-after",
              "not-before", "!", "reduce", "dccDateOfBirth", "!==")
_PATHS = ("", "x", "y", "x.0", "x.1", "d", "e", "n", "n", "n", "m", "s", "l", "l.0", "o.k", "o.k", "o", "current",
          "accumulator", "x.", "accumulator.0")
_STRINGS = ("", "a", "2021-06-01", "2021-06-01T10:00:00Z", "2020-02-29", "2004", "2004-02",
            "URN:UVCI:01:NL:187/37512422923", "a::c/#/f", "not a date")


_DATE_LEAVES = st.builds(lambda path, amount, unit: {"plusTime": [{"var": path}, amount, unit]},
                        st.sampled_from(("d", "e", "s", "x.0")), st.integers(-400, 400), st.sampled_from(TIME_UNITS))


def _leaves() -> st.SearchStrategy[Any]:
    valid = st.one_of(
        st.booleans(),
        st.integers(-3, 3),
        st.sampled_from(_STRINGS),
        st.sampled_from(_PATHS).map(lambda path: {"var": path}),
        _DATE_LEAVES,
        st.builds(lambda path: {"dccDateOfBirth": [{"var": path}]}, st.sampled_from(("d", "e", "s"))),
    )
    invalid = st.sampled_from((None, 1.5, 2.0, {}, {"var": 1}))
    return st.one_of(*[valid] * 12, invalid)


_ARITY = {"if": (3, 3), "===": (2, 2), "in": (2, 2), "+": (2, 2), "and": (2, 4), "!": (1, 1), "reduce": (3, 3),
          "dccDateOfBirth": (1, 1), **{op: (2, 3) for op in ("<", ">", "<=", ">=", "after", "before", "not-after",
                                                              "not-before")}}


def _operation(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A known operator with a right number of operands (mostly), or any operator with any number."""
    def build(op: str) -> st.SearchStrategy[Any]:
        low, high = _ARITY[op]
        return st.lists(children, min_size=low, max_size=high).map(lambda args: {op: args})

    right = st.sampled_from(sorted(_ARITY)).flatmap(build)
    anything = st.builds(lambda op, args: {op: args}, st.sampled_from(_OPERATORS), st.lists(children, max_size=4))
    return st.one_of(right, right, right, anything)


def _extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=3),
        _operation(children),
        _operation(children),
        st.builds(lambda date, amount, unit: {"plusTime": [date, amount, unit]}, children,
                  st.integers(-800, 800), st.sampled_from((*TIME_UNITS, "week"))),
        st.builds(lambda operand, index: {"extractFromUVCI": [operand, index]}, children, st.integers(-1, 5)),
    )


ANY_EXPRESSIONS = st.recursive(_leaves(), _extend, max_leaves=14)

# Well-typed expressions: most of them evaluate to a value, exercising every operation's result.
_INT_PATHS = st.sampled_from(("n", "l.0", "l.1", "o.k")).map(lambda path: {"var": path})
_DATE_STRINGS = st.sampled_from(("d", "e")).map(lambda path: {"var": path}) | st.sampled_from(_STRINGS[2:7])
_UNITS = st.sampled_from(TIME_UNITS)
_CMP = ("<", ">", "<=", ">=")
_DATE_CMP = ("after", "before", "not-after", "not-before")

INTS: st.SearchStrategy[Any] = st.deferred(lambda: st.one_of(
    st.integers(-5, 5), _INT_PATHS,
    st.builds(lambda a, b: {"+": [a, b]}, INTS, INTS),
    st.builds(lambda g, a, b: {"if": [g, a, b]}, BOOLS, INTS, INTS),
    st.builds(lambda init: {"reduce": [{"var": "l"}, {"+": [{"var": "accumulator"}, {"var": "current"}]}, init]},
              INTS),
))
DATES: st.SearchStrategy[Any] = st.deferred(lambda: st.one_of(
    st.builds(lambda d, k, u: {"plusTime": [d, k, u]}, _DATE_STRINGS, st.integers(-800, 800), _UNITS),
    st.builds(lambda d: {"dccDateOfBirth": [d]}, _DATE_STRINGS),
    st.builds(lambda g, a, b: {"if": [g, a, b]}, BOOLS, DATES, DATES),
))
STRINGS: st.SearchStrategy[Any] = st.deferred(lambda: st.one_of(
    st.sampled_from(_STRINGS), st.just({"var": "s"}), _DATE_STRINGS,
    st.builds(lambda a, i: {"extractFromUVCI": [a, i]}, STRINGS, st.integers(-1, 5)),
    st.builds(lambda g, a, b: {"if": [g, a, b]}, BOOLS, STRINGS, STRINGS),
))
BOOLS: st.SearchStrategy[Any] = st.deferred(lambda: st.one_of(
    st.booleans(),
    st.builds(lambda a, b: {"===": [a, b]}, INTS | STRINGS | BOOLS, INTS | STRINGS | BOOLS),
    st.builds(lambda a, b: {"in": [a, b]}, INTS | STRINGS,
              st.lists(INTS | STRINGS, max_size=3) | st.just({"var": "l"})),
    st.builds(lambda op, args: {op: args}, st.sampled_from(_CMP), st.lists(INTS, min_size=2, max_size=3)),
    st.builds(lambda op, args: {op: args}, st.sampled_from(_DATE_CMP), st.lists(DATES, min_size=2, max_size=3)),
    st.builds(lambda a: {"!": [a]}, INTS | STRINGS | BOOLS | st.just({"var": "x"})),
    st.builds(lambda args: {"and": args}, st.lists(BOOLS | INTS | STRINGS, min_size=2, max_size=4)),
    st.builds(lambda g, a, b: {"if": [g, a, b]}, BOOLS | INTS | STRINGS, BOOLS, BOOLS),
    st.builds(lambda init: {"reduce": [{"var": "x"}, {"if": [{"var": "accumulator"}, True, {"var": "current"}]},
                                       init]}, BOOLS),
))
EXPRESSIONS = st.one_of(ANY_EXPRESSIONS, BOOLS, BOOLS, INTS, DATES, STRINGS)

_VALID_DATES = st.dates(dt.date(1950, 1, 1), dt.date(2050, 12, 31)).map(dt.date.isoformat) | st.sampled_from(
    ("2020-02-29", "2021-06-01T10:00:00Z", "2021-06-01T10:00:00.5+07:00", "2004", "2004-02"))
_DATES = st.sampled_from(_STRINGS) | st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)).map(dt.date.isoformat)
DATA = st.fixed_dictionaries(
    {"d": _VALID_DATES, "e": _VALID_DATES, "n": st.integers(-5, 5), "l": st.lists(st.integers(-2, 2), max_size=4),
     "s": st.sampled_from(_STRINGS), "o": st.fixed_dictionaries({"k": st.integers(0, 2)})},
    optional={
        "x": st.none() | st.lists(st.integers(-2, 2) | st.sampled_from(_STRINGS) | st.booleans(), max_size=3),
        "y": json_values(),
        "z": _DATES,
        "m": exotic_values(),
    },
)


def _outcome(run: Any) -> tuple[str, str]:
    """("ok", canonical JSON of the value) or ("error", "")."""
    try:
        value = run()
    except CertLogicError:
        return ("error", "")
    return ("ok", json.dumps(value, sort_keys=True, default=lambda v: f"<{type(v).__name__}:{v!r}>"))


@settings(max_examples=800, deadline=None)
@given(EXPRESSIONS, DATA)
def test_compiled_equals_interpreter(expression: Any, data: Any) -> None:
    """compile_expression(e)(d) returns what evaluate(e, d) returns, or both raise CertLogicError."""
    assert _outcome(lambda: compile_expression(expression)(data)) == _outcome(lambda: evaluate(expression, data))


@settings(max_examples=300, deadline=None)
@given(json_values(max_leaves=10), DATA)
def test_arbitrary_json_as_expression_never_crashes(expression: Any, data: Any) -> None:
    """Any JSON value as an expression gives a value or a CertLogicError, the same in both evaluators."""
    assert _outcome(lambda: compile_expression(expression)(data)) == _outcome(lambda: evaluate(expression, data))
