"""CertLogic: the EU DCC business-rule language, specification 1.3.3 (``../shared/certlogic``).

CertLogic is a restricted JsonLogic with date-time operations.  An *expression* is JSON; it
is evaluated against a *data context* (JSON), in the EU business rules
``{"payload": <DCC payload>, "external": {"validationClock": ..., "valueSets": ..., ...}}``.

Two evaluators give the same results:

* :func:`evaluate` - the direct interpreter, written to follow the specification line by line;
  it is the reference.
* :func:`compile_expression` - turns an expression once into nested closures (no dispatch on
  operator names at evaluation time, literal ``in`` lists as sets, parsed ``var`` paths).  Use
  it when one rule is evaluated many times.  Tests check it against :func:`evaluate`.

Both raise :class:`CertLogicError` for an invalid expression (found when the bad part is
reached, as the reference implementations do) and for a type mismatch at run time (``<`` on a
string, ``plusTime`` on something that is not a date-time string, ``in`` on a non-array, ...).
A rule engine counts such an error as a failed rule (see :mod:`vaxcert.rules.gateway`); it
never escapes as another exception type.  Error messages name the operation and the kind of
problem, never a value from the data (which holds personal data).

:func:`validate` checks an expression statically, with the messages of the specification's
validation test suite.

Values: the JSON values, plus *date-times*, which only ``plusTime`` and ``dccDateOfBirth``
produce; they are :class:`datetime.datetime` objects in UTC (millisecond precision).  A JSON
number with an integral value (``1.0``, as some CBOR encoders write dose numbers) is an integer,
as it is in JavaScript.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import json
import operator as operator_module
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from ..errors import VaxcertError

__all__ = [
    "OPERATORS",
    "SPEC_VERSION",
    "TIME_UNITS",
    "CertLogicError",
    "CompiledExpression",
    "ValidationIssue",
    "compile_expression",
    "evaluate",
    "is_falsy",
    "is_truthy",
    "validate",
    "validation_issues",
]

#: The version of the CertLogic specification implemented.
SPEC_VERSION: Final = "1.3.3"

#: The operations CertLogic defines (``!==`` is not one of them: write ``{"!": [{"===": ...}]}``).
OPERATORS: Final = (
    "var",
    "if",
    "===",
    "and",
    "<",
    ">",
    "<=",
    ">=",
    "in",
    "+",
    "after",
    "before",
    "not-after",
    "not-before",
    "!",
    "plusTime",
    "reduce",
    "extractFromUVCI",
    "dccDateOfBirth",
)

#: Time units of ``plusTime``.
TIME_UNITS: Final = ("year", "month", "day", "hour")

_INFIX_COMPARISONS: Final = frozenset({"<", ">", "<=", ">="})
_DATE_COMPARISONS: Final = frozenset({"after", "before", "not-after", "not-before"})
_BINARY: Final = frozenset({"===", "in", "+"})
_UTC: Final = dt.UTC
_MAX_NAME: Final = 40


class CertLogicError(VaxcertError):
    """An invalid CertLogic expression, or a type mismatch while evaluating one."""


@dataclass(frozen=True, slots=True)
class ValidationIssue:
    """One problem :func:`validation_issues` found: the offending (sub-)expression and what is wrong."""

    expr: Any
    message: str


# --------------------------------------------------------------------------------------------
# values


def _is_int(value: object) -> bool:
    """An integer in the JSON sense (``True`` is not one; ``2.0`` is)."""
    kind = type(value)
    if kind is int:
        return True
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, int) and not isinstance(value, bool)


def _is_array(value: object) -> bool:
    return type(value) is list or isinstance(value, tuple)


def _is_object(value: object) -> bool:
    return type(value) is dict or isinstance(value, Mapping)


def is_falsy(value: Any) -> bool:
    """``false``, ``null``, ``""``, ``0``, ``[]`` and ``{}``: the specification's falsy values."""
    if value is False or value is None:
        return True
    kind = type(value)
    if kind is str or kind is list or kind is dict or kind is tuple:
        return len(value) == 0
    if kind is int or kind is float:
        return bool(value == 0)
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return bool(value == 0)
    if isinstance(value, str | Mapping | tuple):
        return len(value) == 0
    return False


def is_truthy(value: Any) -> bool:
    """``true``, non-empty strings, non-zero integers, non-empty arrays and objects.

    Some values are neither truthy nor falsy: non-integral numbers and date-times.
    """
    if value is True:
        return True
    kind = type(value)
    if kind is str or kind is list or kind is dict or kind is tuple:
        return len(value) > 0
    if kind is int:
        return bool(value != 0)
    if isinstance(value, bool):
        return False
    if kind is float or isinstance(value, int | float):
        return _is_int(value) and bool(value != 0)
    if isinstance(value, str | Mapping | tuple):
        return len(value) > 0
    return False


def _strict_equal(left: Any, right: Any) -> bool:
    """``===``: no type coercion.  Strings, integers, booleans, null and date-times by value;
    arrays and objects item by item (as the Kotlin implementation of the EU apps compares them)."""
    lkind, rkind = type(left), type(right)
    if lkind is str:
        return rkind is str and bool(left == right)
    if left is None or right is None:
        return left is right
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    if _is_number(left):
        return _is_number(right) and bool(left == right)
    if isinstance(left, dt.datetime):
        return isinstance(right, dt.datetime) and left == right
    if isinstance(left, str):
        return isinstance(right, str) and str(left) == str(right)
    if _is_array(left):
        return (_is_array(right) and len(left) == len(right)
                and all(_strict_equal(a, b) for a, b in zip(left, right, strict=True)))
    if _is_object(left):
        if not _is_object(right) or len(left) != len(right):
            return False
        return all(key in right and _strict_equal(value, right[key]) for key, value in left.items())
    return False


def _is_number(value: object) -> bool:
    return (type(value) in (int, float) or isinstance(value, int | float)) and not isinstance(value, bool)


def _contains(array: Sequence[Any], item: Any) -> bool:
    """``in``: strict membership."""
    if type(item) is str:
        return item in array  # a str equals only a str
    return any(_strict_equal(item, element) for element in array)


def _name(text: object) -> str:
    """An operator name for a message: JSON-quoted, bounded."""
    shown = json.dumps(text, ensure_ascii=False) if isinstance(text, str) else type(text).__name__
    return shown if len(shown) <= _MAX_NAME else shown[: _MAX_NAME - 1] + "…"


def _kind(value: object) -> str:
    """A value's type for an error message (never the value itself: it may be personal data)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if _is_int(value):
        return "an integer"
    if isinstance(value, float):
        return "a non-integer number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dt.datetime):
        return "a date-time"
    if _is_array(value):
        return "an array"
    if _is_object(value):
        return "an object"
    return "a non-JSON value"


# --------------------------------------------------------------------------------------------
# date-times

_DATETIME: Final = re.compile(
    r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2})"
    r"(?:T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?(?:(Z)|([+-])([0-9]{1,2})(?::?([0-9]{2}))?)?)?"
    r")?)?"
)
_DATE_OF_BIRTH: Final = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


@functools.lru_cache(maxsize=4096)
def _parse_datetime(text: str) -> dt.datetime:
    """A date(-time) string in one of the formats ``plusTime`` allows, as a UTC date-time."""
    match = _DATETIME.fullmatch(text)
    if match is None:
        raise CertLogicError("plusTime: the date operand is not a date or date-time in an allowed format")
    year_s, month_s, day_s, hh, mm, ss, frac, zulu, sign, off_h, off_m = match.groups()
    try:
        year = int(year_s)
        if day_s is None:  # a partial date: the last day it can mean, as dccDateOfBirth reads it
            month = int(month_s) if month_s is not None else 12
            return dt.datetime(year, month, _last_day(year, month), tzinfo=_UTC)
        day = dt.date(year, int(month_s), int(day_s))
        if hh is None:
            return dt.datetime(day.year, day.month, day.day, tzinfo=_UTC)
        millis = int((frac or "0")[:3].ljust(3, "0"))
        zone = _UTC
        if sign is not None and zulu is None:
            minutes = int(off_h) * 60 + int(off_m or 0)
            if int(off_m or 0) >= 60:
                raise ValueError("offset minutes")
            zone = dt.timezone(dt.timedelta(minutes=-minutes if sign == "-" else minutes))
        moment = dt.datetime(day.year, day.month, day.day, int(hh), int(mm), int(ss), millis * 1000, tzinfo=zone)
        return moment.astimezone(_UTC)
    except (ValueError, OverflowError):
        raise CertLogicError("plusTime: the date operand is not a valid date or date-time") from None


@functools.lru_cache(maxsize=4096)
def _date_of_birth(text: str) -> dt.datetime:
    """``dccDateOfBirth``: the last instant-start consistent with a YYYY[-MM[-DD]] date of birth."""
    match = _DATE_OF_BIRTH.fullmatch(text)
    if match is None:
        raise CertLogicError("dccDateOfBirth: the operand is not a date of birth of the form YYYY[-MM[-DD]]")
    year_s, month_s, day_s = match.groups()
    try:
        year = int(year_s)
        month = int(month_s) if month_s is not None else 12
        day = int(day_s) if day_s is not None else _last_day(year, month)
        return dt.datetime(year, month, day, tzinfo=_UTC)
    except ValueError:
        raise CertLogicError("dccDateOfBirth: the operand is not a valid date") from None


def _plus_time(moment: dt.datetime, amount: int, unit: str) -> dt.datetime:
    """``Date.setUTC<unit>(getUTC<unit>() + amount)``: days overflow into the next month."""
    try:
        if unit == "day":
            return moment + dt.timedelta(days=amount)
        if unit == "hour":
            return moment + dt.timedelta(hours=amount)
        if unit == "month":
            total = moment.month - 1 + amount
            year, month = moment.year + total // 12, total % 12 + 1
        else:
            year, month = moment.year + amount, moment.month
        return moment.replace(year=year, month=month, day=1) + dt.timedelta(days=moment.day - 1)
    except (ValueError, OverflowError):
        raise CertLogicError("plusTime: the resulting date-time is out of range") from None


def _to_datetime(value: Any, amount: int, unit: str) -> dt.datetime:
    if not isinstance(value, str):
        raise CertLogicError(f"plusTime: the date operand must be a string, but it is {_kind(value)}")
    moment = _parse_datetime(str(value))
    return moment if amount == 0 else _plus_time(moment, amount, unit)


@functools.lru_cache(maxsize=4096)
def _offset_cached(text: str, amount: int, unit: str) -> dt.datetime:
    """``plusTime`` on a string, remembered (rules offset the same few dates again and again)."""
    moment = _parse_datetime(text)
    return moment if amount == 0 else _plus_time(moment, amount, unit)


def _date_of_birth_value(value: Any) -> dt.datetime:
    if not isinstance(value, str):
        raise CertLogicError(f"dccDateOfBirth: the operand must be a string, but it is {_kind(value)}")
    return _date_of_birth(str(value))


# --------------------------------------------------------------------------------------------
# extractFromUVCI

_UVCI_SEPARATORS: Final = re.compile(r"[/#:]")
_UVCI_PREFIX: Final = "URN:UVCI:"


def _extract_from_uvci(value: Any, index: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise CertLogicError(f"extractFromUVCI: the operand must be a string or null, but it is {_kind(value)}")
    if index < 0:
        return None
    text = str(value)
    fragments = _UVCI_SEPARATORS.split(text[len(_UVCI_PREFIX):] if text.startswith(_UVCI_PREFIX) else text)
    return fragments[index] if index < len(fragments) else None


# --------------------------------------------------------------------------------------------
# data access

#: An array index: 1 to 18 ASCII digits (int() of 4,300+ digits raises ValueError; no array is that long).
_INDEX: Final = re.compile(r"[0-9]{1,18}")
_Path = tuple[tuple[str, int | None], ...]


def _parse_path(path: str) -> _Path | None:
    """Path fragments with their array index (None if not an index); None for an invalid path."""
    if path == "":
        return ()
    fragments = path.split(".")
    if any(fragment == "" for fragment in fragments):
        return None
    return tuple((f, int(f) if _INDEX.fullmatch(f) else None) for f in fragments)


def _lookup(data: Any, path: _Path) -> Any:
    for key, index in path:
        kind = type(data)
        if kind is dict:
            data = data.get(key)
        elif kind is list:
            data = data[index] if index is not None and index < len(data) else None
        elif data is None:
            return None
        elif isinstance(data, Mapping):
            data = data.get(key)
        elif isinstance(data, tuple):
            data = data[index] if index is not None and index < len(data) else None
        else:
            return None
    return data


def _var_path(values: Any) -> _Path:
    if not isinstance(values, str):
        raise CertLogicError('not of the form { "var": "<path>" }')
    path = _parse_path(values)
    if path is None:
        raise CertLogicError("data access path doesn't have a valid format")
    return path


# --------------------------------------------------------------------------------------------
# shared checks


def _arity_error(operator: str, count: int) -> str | None:
    """What is wrong with the number of operands of ``operator`` (None when it is right)."""
    if operator == "if":
        return None if count == 3 else f"an if-operation must have exactly 3 operands, but it has {count}"
    if operator == "and":
        return None if count >= 2 else f'an "and" operation must have at least 2 operands, but it has {count}'
    if operator in _INFIX_COMPARISONS or operator in _DATE_COMPARISONS:
        if count in (2, 3):
            return None
        return f'an operation with operator "{operator}" must have 2 or 3 operands, but it has {count}'
    if operator in _BINARY:
        if count == 2:
            return None
        return f'an operation with operator "{operator}" must have 2 operands, but it has {count}'
    if operator == "!":
        return None if count == 1 else f"a not-operation must have exactly 1 operand, but it has {count}"
    expected = {"plusTime": 3, "reduce": 3, "extractFromUVCI": 2, "dccDateOfBirth": 1}[operator]
    if count == expected:
        return None
    plural = "s" if expected > 1 else ""
    return f'a "{operator}" operation must have exactly {expected} operand{plural}, but it has {count}'


def _check_operands(operator: str, values: Sequence[Any]) -> None:
    """Arity and literal operands of an operation, before any operand is evaluated."""
    problem = _arity_error(operator, len(values))
    if problem is not None:
        raise CertLogicError(problem)
    if operator == "plusTime":
        if not _is_int(values[1]):
            raise CertLogicError('the amount (operand #2) of "plusTime" must be an integer')
        if values[2] not in TIME_UNITS:
            raise CertLogicError(f'the unit (operand #3) of "plusTime" must be one of: {", ".join(TIME_UNITS)}')
    elif operator == "extractFromUVCI" and not _is_int(values[1]):
        raise CertLogicError('the index (operand #2) of "extractFromUVCI" must be an integer')


def _operation(expr: Mapping[Any, Any]) -> tuple[str, Any]:
    """The operator and its values of an expression object (checked for one key)."""
    if len(expr) != 1:
        raise CertLogicError(f"expression object must have exactly one key, but it has {len(expr)}")
    ((operator, values),) = expr.items()
    if not isinstance(operator, str):
        raise CertLogicError("invalid CertLogic expression: an operator must be a string")
    return operator, values


def _operation_values(operator: str, values: Any) -> list[Any]:
    if not _is_array(values):
        raise CertLogicError('operation not of the form { "<operator>": [ <values...> ] }')
    if operator not in OPERATORS:
        raise CertLogicError(f"unrecognised operator: {_name(operator)}")
    operands: list[Any] = list(values)
    _check_operands(operator, operands)
    return operands


def _compare_ints(operator: str, operands: Sequence[Any]) -> bool:
    if not all(_is_int(x) for x in operands):
        raise CertLogicError(f'all operands of "{operator}" must be integers')
    return _chain(operator, operands)


def _compare_dates(operator: str, operands: Sequence[Any]) -> bool:
    if not all(isinstance(x, dt.datetime) for x in operands):
        raise CertLogicError(f'all operands of "{operator}" must be date-times (made by plusTime or dccDateOfBirth)')
    return _chain(operator, operands)


def _chain(operator: str, operands: Sequence[Any]) -> bool:
    test = _ORDER[operator]
    if len(operands) == 2:
        return test(operands[0], operands[1])
    return test(operands[0], operands[1]) and test(operands[1], operands[2])


_ORDER: Final[Mapping[str, Callable[[Any, Any], bool]]] = {
    "<": operator_module.lt,
    ">": operator_module.gt,
    "<=": operator_module.le,
    ">=": operator_module.ge,
    "before": operator_module.lt,
    "after": operator_module.gt,
    "not-after": operator_module.le,
    "not-before": operator_module.ge,
}


def _plus(left: Any, right: Any) -> int:
    if not (_is_int(left) and _is_int(right)):
        raise CertLogicError('both operands of "+" must be integers')
    return int(left) + int(right)


def _in(item: Any, array: Any) -> bool:
    if not _is_array(array):
        raise CertLogicError(f'the right-hand operand of "in" must be an array, but it is {_kind(array)}')
    return _contains(array, item)


def _neither(what: str) -> CertLogicError:
    return CertLogicError(f"{what} evaluates to something neither truthy nor falsy")


# --------------------------------------------------------------------------------------------
# the reference interpreter


def evaluate(expression: Any, data: Any) -> Any:
    """The value of ``expression`` on the data context ``data`` (the reference interpreter).

    Raises :class:`CertLogicError` for an invalid expression or a type mismatch; nothing else.
    """
    try:
        return _eval(expression, data)
    except RecursionError:
        raise CertLogicError("expression nested too deeply") from None


def _eval(expr: Any, data: Any) -> Any:
    kind = type(expr)
    if kind is str or kind is bool or kind is int:
        return expr
    if expr is None:
        raise CertLogicError("invalid CertLogic expression: null")
    if isinstance(expr, bool):
        return bool(expr)
    if isinstance(expr, int | float):
        if _is_int(expr):
            return int(expr)
        raise CertLogicError("invalid CertLogic expression: a non-integer number")
    if isinstance(expr, str):
        return str(expr)
    if _is_array(expr):
        return [_eval(item, data) for item in expr]
    if not _is_object(expr):
        raise CertLogicError(f"invalid CertLogic expression: {_kind(expr)}")
    operator, values = _operation(expr)
    if operator == "var":
        return _lookup(data, _var_path(values))
    values = _operation_values(operator, values)
    if operator == "if":
        guard = _eval(values[0], data)
        if is_truthy(guard):
            return _eval(values[1], data)
        if is_falsy(guard):
            return _eval(values[2], data)
        raise _neither("the guard of an if-operation")
    if operator == "and":
        result: Any = True
        for position, operand in enumerate(values):
            result = _eval(operand, data)
            if position == len(values) - 1 or is_falsy(result):
                return result
            if not is_truthy(result):
                raise _neither('an operand of "and"')
        return result
    if operator == "!":
        operand = _eval(values[0], data)
        if is_falsy(operand):
            return True
        if is_truthy(operand):
            return False
        raise _neither('the operand of "!"')
    if operator == "plusTime":
        return _to_datetime(_eval(values[0], data), int(values[1]), values[2])
    if operator == "dccDateOfBirth":
        return _date_of_birth_value(_eval(values[0], data))
    if operator == "extractFromUVCI":
        return _extract_from_uvci(_eval(values[0], data), int(values[1]))
    if operator == "reduce":
        operand = _eval(values[0], data)
        if operand is None:
            return _eval(values[2], data)
        if not _is_array(operand):
            raise CertLogicError(f'the operand of "reduce" must be an array or null, but it is {_kind(operand)}')
        accumulator = _eval(values[2], data)
        for current in operand:
            accumulator = _eval(values[1], {"accumulator": accumulator, "current": current})
        return accumulator
    operands = [_eval(operand, data) for operand in values]
    if operator == "===":
        return _strict_equal(operands[0], operands[1])
    if operator == "in":
        return _in(operands[0], operands[1])
    if operator == "+":
        return _plus(operands[0], operands[1])
    if operator in _INFIX_COMPARISONS:
        return _compare_ints(operator, operands)
    return _compare_dates(operator, operands)


# --------------------------------------------------------------------------------------------
# the compiler

_Fn = Callable[[Any], Any]


class CompiledExpression:
    """An expression turned into closures once: ``compiled(data)`` is ``evaluate(expression, data)``."""

    __slots__ = ("_fn", "expression")

    def __init__(self, expression: Any) -> None:
        self.expression = expression
        try:
            self._fn = _compile(expression)
        except RecursionError:
            self._fn = _raiser(CertLogicError("expression nested too deeply"))

    def __call__(self, data: Any) -> Any:
        try:
            return self._fn(data)
        except RecursionError:
            raise CertLogicError("expression nested too deeply") from None

    def __repr__(self) -> str:
        return "CompiledExpression(<CertLogic>)"


def compile_expression(expression: Any) -> CompiledExpression:
    """``expression`` compiled into closures; calling it gives what :func:`evaluate` gives.

    Never raises: an invalid part becomes a closure that raises :class:`CertLogicError` when
    (and only when) it is evaluated, exactly as the interpreter would.
    """
    return CompiledExpression(expression)


def _raiser(error: CertLogicError) -> _Fn:
    message = str(error)

    def fail(data: Any) -> Any:
        raise CertLogicError(message)

    return fail


def _constant(value: Any) -> _Fn:
    def constant(data: Any) -> Any:
        return value

    return constant


def _compile(expr: Any) -> _Fn:
    kind = type(expr)
    if kind is str or kind is bool or kind is int:
        return _constant(expr)
    try:
        if not (_is_array(expr) or _is_object(expr)):
            return _constant(_eval(expr, None))
        if _is_array(expr):
            return _compile_array([_compile(item) for item in expr])
        operator, values = _operation(expr)
        if operator == "var":
            return _compile_var(_var_path(values))
        values = _operation_values(operator, values)
    except CertLogicError as error:
        return _raiser(error)
    return _COMPILERS[operator](operator, values)


def _compile_array(items: list[_Fn]) -> _Fn:
    def array(data: Any) -> Any:
        return [item(data) for item in items]

    return array


def _compile_var(path: _Path) -> _Fn:
    """A path lookup unrolled for up to four fragments over dicts and lists (the usual JSON);
    anything else (tuples, read-only mappings, ...) takes the general loop."""
    if not path:
        return lambda data: data
    if len(path) > 4:
        return lambda data: _lookup(data, path)
    padded: list[tuple[str, int | None]] = [*path, *[("", None)] * (4 - len(path))]
    (k0, i0), (k1, i1), (k2, i2), (k3, i3) = padded
    depth = len(path)

    def var(data: Any) -> Any:
        kind = type(data)
        if kind is dict:
            a = data.get(k0)
        elif kind is list and i0 is not None:
            a = data[i0] if i0 < len(data) else None
        else:
            return _lookup(data, path)
        if depth == 1 or a is None:
            return a
        kind = type(a)
        if kind is dict:
            a = a.get(k1)
        elif kind is list and i1 is not None:
            a = a[i1] if i1 < len(a) else None
        else:
            return _lookup(data, path)
        if depth == 2 or a is None:
            return a
        kind = type(a)
        if kind is dict:
            a = a.get(k2)
        elif kind is list and i2 is not None:
            a = a[i2] if i2 < len(a) else None
        else:
            return _lookup(data, path)
        if depth == 3 or a is None:
            return a
        kind = type(a)
        if kind is dict:
            return a.get(k3)
        if kind is list and i3 is not None:
            return a[i3] if i3 < len(a) else None
        return _lookup(data, path)

    return var


def _compile_if(operator: str, values: list[Any]) -> _Fn:
    guard, then, otherwise = (_compile(v) for v in values)

    def if_(data: Any) -> Any:
        value = guard(data)
        if value is True:
            return then(data)
        if value is False or value is None:
            return otherwise(data)
        if is_truthy(value):
            return then(data)
        if is_falsy(value):
            return otherwise(data)
        raise _neither("the guard of an if-operation")

    return if_


def _compile_and(operator: str, values: list[Any]) -> _Fn:
    first = tuple(_compile(v) for v in values[:-1])
    last = _compile(values[-1])

    def and_(data: Any) -> Any:
        for operand in first:
            value = operand(data)
            if value is True:
                continue
            if is_falsy(value):
                return value
            if not is_truthy(value):
                raise _neither('an operand of "and"')
        return last(data)

    return and_


def _compile_not(operator: str, values: list[Any]) -> _Fn:
    operand = _compile(values[0])

    def not_(data: Any) -> Any:
        value = operand(data)
        if value is True:
            return False
        if value is False or value is None:
            return True
        if is_falsy(value):
            return True
        if is_truthy(value):
            return False
        raise _neither('the operand of "!"')

    return not_


def _compile_equal(operator: str, values: list[Any]) -> _Fn:
    left, right = _compile(values[0]), _compile(values[1])

    def equal(data: Any) -> Any:
        a, b = left(data), right(data)
        if type(a) is str:
            return type(b) is str and a == b
        return _strict_equal(a, b)

    return equal


def _compile_in(operator: str, values: list[Any]) -> _Fn:
    item = _compile(values[0])
    array_expr = values[1]
    if _is_array(array_expr) and all(type(e) is str for e in array_expr):
        strings = frozenset(array_expr)
        # the array is still "evaluated" (a literal array of strings evaluates to itself)

        def in_strings(data: Any) -> Any:
            value = item(data)
            if type(value) is str:
                return value in strings
            return isinstance(value, str) and str(value) in strings

        return in_strings
    array = _compile(array_expr)

    def in_(data: Any) -> Any:
        value = item(data)
        return _in(value, array(data))

    return in_


def _compile_plus(operator: str, values: list[Any]) -> _Fn:
    left, right = _compile(values[0]), _compile(values[1])

    def plus(data: Any) -> Any:
        a, b = left(data), right(data)
        if type(a) is int and type(b) is int:
            return a + b
        return _plus(a, b)

    return plus


def _compile_compare(operator: str, values: list[Any]) -> _Fn:
    operands = tuple(_compile(v) for v in values)
    test = _ORDER[operator]
    # the usual operand type: a fast exact-type check, the general check otherwise
    usual: type = dt.datetime if operator in _DATE_COMPARISONS else int
    checker = _compare_dates if operator in _DATE_COMPARISONS else _compare_ints
    if len(operands) == 2:
        first, second = operands

        def compare2(data: Any) -> Any:
            a, b = first(data), second(data)
            if type(a) is usual and type(b) is usual:
                return test(a, b)
            return checker(operator, (a, b))

        return compare2

    def compare3(data: Any) -> Any:
        evaluated = [operand(data) for operand in operands]
        return checker(operator, evaluated)

    return compare3


def _compile_plus_time(operator: str, values: list[Any]) -> _Fn:
    operand = _compile(values[0])
    amount, unit = int(values[1]), values[2]

    def plus_time(data: Any) -> Any:
        value = operand(data)
        if type(value) is str:
            return _offset_cached(value, amount, unit)
        return _to_datetime(value, amount, unit)

    return plus_time


def _compile_date_of_birth(operator: str, values: list[Any]) -> _Fn:
    operand = _compile(values[0])

    def date_of_birth(data: Any) -> Any:
        return _date_of_birth_value(operand(data))

    return date_of_birth


def _compile_extract(operator: str, values: list[Any]) -> _Fn:
    operand = _compile(values[0])
    index = int(values[1])

    def extract(data: Any) -> Any:
        return _extract_from_uvci(operand(data), index)

    return extract


def _compile_reduce(operator: str, values: list[Any]) -> _Fn:
    operand, lambda_, initial = (_compile(v) for v in values)

    def reduce(data: Any) -> Any:
        array = operand(data)
        if array is None:
            return initial(data)
        if not _is_array(array):
            raise CertLogicError(f'the operand of "reduce" must be an array or null, but it is {_kind(array)}')
        accumulator = initial(data)
        for current in array:
            accumulator = lambda_({"accumulator": accumulator, "current": current})
        return accumulator

    return reduce


_COMPILERS: Final[Mapping[str, Callable[[str, list[Any]], _Fn]]] = {
    "if": _compile_if,
    "and": _compile_and,
    "!": _compile_not,
    "===": _compile_equal,
    "in": _compile_in,
    "+": _compile_plus,
    "<": _compile_compare,
    ">": _compile_compare,
    "<=": _compile_compare,
    ">=": _compile_compare,
    "after": _compile_compare,
    "before": _compile_compare,
    "not-after": _compile_compare,
    "not-before": _compile_compare,
    "plusTime": _compile_plus_time,
    "dccDateOfBirth": _compile_date_of_birth,
    "extractFromUVCI": _compile_extract,
    "reduce": _compile_reduce,
}


# --------------------------------------------------------------------------------------------
# static validation


def validate(expression: Any) -> list[str]:
    """The problems of ``expression`` as messages; an empty list for a valid expression."""
    return [issue.message for issue in validation_issues(expression)]


def validation_issues(expression: Any) -> list[ValidationIssue]:
    """The problems of ``expression``, each with the sub-expression it is about.

    The messages are those of the CertLogic validation test suite (the JavaScript validator's).
    """
    try:
        return _issues(expression)
    except RecursionError:
        return [ValidationIssue(None, "expression nested too deeply")]


def _issues(expr: Any) -> list[ValidationIssue]:
    kind = type(expr)
    if kind is str or kind is bool or kind is int:
        return []
    if isinstance(expr, bool | str) or _is_int(expr):
        return []
    if expr is None:
        return [ValidationIssue(expr, "invalid CertLogic expression")]
    if isinstance(expr, float):
        return [ValidationIssue(expr, f"{_js_number(expr)} is a non-integer number")]
    if _is_array(expr):
        return [issue for item in expr for issue in _issues(item)]
    if not _is_object(expr):
        return [ValidationIssue(expr, "invalid CertLogic expression")]
    if len(expr) != 1:
        return [ValidationIssue(expr, f"expression object must have exactly one key, but it has {len(expr)}")]
    ((operator, values),) = expr.items()
    if operator == "var":
        if not isinstance(values, str):
            return [ValidationIssue(expr, 'not of the form { "var": "<path>" }')]
        if _parse_path(values) is None:
            return [ValidationIssue(expr, f"data access path doesn't have a valid format: {values}")]
        return []
    if not _is_array(values):
        return [ValidationIssue(expr, 'operation not of the form { "<operator>": [ <values...> ] }')]
    if not isinstance(operator, str) or operator not in OPERATORS:
        return [ValidationIssue(expr, f"unrecognised operator: {_name(operator)}")]
    values = list(values)
    issues: list[ValidationIssue] = []
    problem = _arity_error(operator, len(values))
    if problem is not None:
        issues.append(ValidationIssue(expr, problem))
    if operator == "plusTime":
        issues.extend(_issues(values[0]) if values else [])
        if len(values) > 1 and not _is_int(values[1]):
            issues.append(ValidationIssue(values[1], f"{_js_value(values[1])} is not an integer"))
        if len(values) > 2 and values[2] not in TIME_UNITS:
            issues.append(ValidationIssue(values[2], f"{_js_value(values[2])} is not an allowed time unit"))
    elif operator == "extractFromUVCI":
        issues.extend(_issues(values[0]) if values else [])
        if len(values) > 1 and not _is_int(values[1]):
            issues.append(ValidationIssue(values[1], f"{_js_value(values[1])} is not an integer"))
    else:
        for operand in values:
            issues.extend(_issues(operand))
    return issues


def _js_number(value: float) -> str:
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def _js_value(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = _kind(value)
    return text if len(text) <= _MAX_NAME else text[: _MAX_NAME - 1] + "…"
