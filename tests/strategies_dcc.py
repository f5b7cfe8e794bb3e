"""Hypothesis strategies for DCC payload JSON: realistic payloads, and mutations of them.

``payloads()`` draws well-formed payloads (valid under most schema versions, with codes from the
bundled value sets); ``mutated_payloads()`` breaks them in the ways schemas care about (missing
members, wrong types, extra members, bad patterns, over-long strings, empty or doubled arrays,
several certificate groups, odd dose numbers, ``null``); ``exotic_values()`` yields Python values
outside the JSON data model, which a CBOR decoder or a careless caller may hand over.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import OrderedDict
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Any

from hypothesis import strategies as st

from vaxcert.dcc.valuesets import ValueSets

__all__ = [
    "SCHEMA_VERSIONS",
    "TRICKY_STRINGS",
    "exotic_values",
    "json_values",
    "lab_test_entries",
    "mutated_payloads",
    "payloads",
    "recovery_entries",
    "vaccination_entries",
]

SCHEMA_VERSIONS = ("1.0.0", "1.0.1", "1.1.0", "1.2.0", "1.2.1", "1.3.0", "1.3.1", "1.3.2")

_VS = ValueSets.bundled()

# Strings on the edge of the official patterns, as Python ``re`` reads them.
TRICKY_STRINGS = (
    "",
    "\n",
    "\n\n",
    "\r",
    "\u2028",
    "1.3.2",
    "1.3.2\n",
    "1.3.2\n\n",
    "1.3.2 ",
    " 1.3.2",
    "1x3y2",
    "1.3",
    "01.03.02",
    "1.3.2-rc1",
    "١.٣.٢",
    "１.３.２",
    "1979-04-14",
    "1979-04-14\n",
    "1979-04-14\n\n",
    "1979-04-14T00:00:00",
    "x1979-04-14x",
    "19790414",
    "1979-4-14",
    "1979",
    "1979-04",
    "2099-12-31",
    "2100-01-01",
    "1899-12-31",
    "１９７９-０４-１４",
    "١٩٧٩-٠٤-١٤",
    "19٧٩",
    "𝟏𝟗𝟕𝟗",
    "DCERVENKOVA<PANKLOVA",
    "ABC\n",
    "ABC\n\n",
    "abc",
    "ÄBC",
    "<<<",
    "VN",
    "vn",
    "v1",
    "1",
    "\ud800",
    "A\udfff",
)

# Dose numbers around the official bounds (and of the wrong type).
_DOSES = (0, -1, 1, 9, 10, 1.0, 9.0, 2.5, True, False, 10**20, -(10**20), "1", None)

_LENGTHS = (0, 1, 49, 50, 51, 79, 80, 81, 200)


def _sorted_codes(name: str) -> list[str]:
    """Return the codes of a bundled value set, in a stable order."""
    return sorted(_VS.codes(name))


def _code(name: str) -> st.SearchStrategy[str]:
    """Draw a code of a bundled value set."""
    return st.sampled_from(_sorted_codes(name))


_dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31)).map(dt.date.isoformat)
_date_times = st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 1, 1)).map(
    lambda moment: moment.isoformat(timespec="seconds") + "Z"
)
_texts = st.text(max_size=50)
_names = st.text(st.characters(categories=("L", "M", "Zs", "Pd")), min_size=1, max_size=50)
_std_names = st.from_regex(r"[A-Z<]{1,50}", fullmatch=True)
_uvcis = st.from_regex(r"URN:UVCI:01:VN:[A-Z0-9]{10,26}#[A-Z0-9]", fullmatch=True)
_doses = st.integers(min_value=1, max_value=9)


def json_values(max_leaves: int = 6) -> st.SearchStrategy[Any]:
    """Draw any JSON value (objects, arrays, strings, numbers, booleans, null)."""
    scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
        max_leaves=max_leaves,
    )


class _Colour(enum.StrEnum):
    """A str enum: a ``str`` subclass."""

    RED = "RED"


class _Count(enum.IntEnum):
    """An int enum: an ``int`` subclass."""

    TWO = 2


class _Text(str):
    """A plain ``str`` subclass."""


class _Real(float):
    """A plain ``float`` subclass."""


def exotic_values() -> st.SearchStrategy[Any]:
    """Draw Python values outside the JSON data model (or subclasses of its types)."""
    return st.one_of(
        st.tuples(st.integers()),
        st.tuples(),
        st.decimals(allow_nan=False, places=2),
        st.just(Decimal(3)),
        st.fractions(),
        st.just(Fraction(2)),
        st.binary(max_size=4),
        st.dates(),
        st.just(_Colour.RED),
        st.just(_Count.TWO),
        st.text(max_size=4).map(_Text),
        st.sampled_from((1.0, 2.5)).map(_Real),
        st.just(OrderedDict(fnt="ABC")),
        st.just(MappingProxyType({"fnt": "ABC"})),
        st.frozensets(st.integers(), max_size=2),
        st.dictionaries(st.integers(), st.integers(), min_size=1, max_size=2),
        st.just({1: "x", "fnt": "ABC"}),
        st.sampled_from(("\ud800", "AB\udc00C", "1979-04-1\udfff")),
        st.sampled_from((float("nan"), float("inf"), -0.0, 10**40)),
        st.just(complex(1, 0)),
    )


def vaccination_entries() -> st.SearchStrategy[dict[str, Any]]:
    """Draw a vaccination entry (``v[i]``) with coded values from the bundled value sets."""
    return st.fixed_dictionaries(
        {
            "tg": _code("disease-agent-targeted"),
            "vp": _code("vaccine-prophylaxis"),
            "mp": _code("vaccine-medicinal-product"),
            "ma": _code("vaccine-mah-manf"),
            "dn": _doses,
            "sd": _doses,
            "dt": _dates,
            "co": _code("country-2-codes"),
            "is": _texts,
            "ci": _uvcis,
        }
    )


def lab_test_entries() -> st.SearchStrategy[dict[str, Any]]:
    """Draw a test entry (``t[i]``); ``nm``, ``ma`` and ``tc`` are optional."""
    return st.fixed_dictionaries(
        {
            "tg": _code("disease-agent-targeted"),
            "tt": _code("test-type"),
            "sc": _date_times,
            "tr": _code("test-result"),
            "co": _code("country-2-codes"),
            "is": _texts,
            "ci": _uvcis,
        },
        optional={"nm": _texts, "ma": _code("test-manf"), "tc": _texts},
    )


def recovery_entries() -> st.SearchStrategy[dict[str, Any]]:
    """Draw a recovery entry (``r[i]``)."""
    return st.fixed_dictionaries(
        {
            "tg": _code("disease-agent-targeted"),
            "fr": _dates,
            "co": _code("country-2-codes"),
            "is": _texts,
            "df": _dates,
            "du": _dates,
            "ci": _uvcis,
        }
    )


_GROUPS: dict[str, Callable[[], st.SearchStrategy[dict[str, Any]]]] = {
    "v": vaccination_entries,
    "t": lab_test_entries,
    "r": recovery_entries,
}


@st.composite
def payloads(draw: st.DrawFn, ver: st.SearchStrategy[str] | None = None) -> dict[str, Any]:
    """Draw a well-formed payload: one certificate group holding one entry."""
    name = draw(st.fixed_dictionaries({"fnt": _std_names}, optional={"fn": _names, "gn": _names, "gnt": _std_names}))
    dob = draw(st.one_of(_dates, _dates.map(lambda day: day[:7]), _dates.map(lambda day: day[:4]), st.just("")))
    group = draw(st.sampled_from(sorted(_GROUPS)))
    return {
        "ver": draw(st.sampled_from(SCHEMA_VERSIONS) if ver is None else ver),
        "nam": name,
        "dob": dob,
        group: [draw(_GROUPS[group]())],
    }


# -- mutations ----------------------------------------------------------------------------------

_Location = tuple[str | int, ...]


def _paths(node: Any, prefix: _Location = ()) -> list[_Location]:
    """List the location of every value below ``node`` (not ``node`` itself)."""
    found: list[_Location] = []
    children: list[tuple[str | int, Any]] = []
    if isinstance(node, dict):
        children = list(node.items())
    elif isinstance(node, list):
        children = list(enumerate(node))
    for key, child in children:
        found.append((*prefix, key))
        found.extend(_paths(child, (*prefix, key)))
    return found


def _parent(payload: Any, path: _Location) -> Any:
    """Return the container holding the value at ``path``."""
    node = payload
    for key in path[:-1]:
        node = node[key]
    return node


def _groups(payload: dict[str, Any]) -> list[str]:
    """Return the certificate groups present."""
    return [group for group in _GROUPS if isinstance(payload.get(group), list)]


def _mutate(draw: st.DrawFn, payload: dict[str, Any]) -> None:
    """Apply one random mutation to ``payload`` in place."""
    paths = _paths(payload)
    dict_paths = [path for path in paths if isinstance(_parent(payload, path), dict)]
    kind = draw(
        st.sampled_from(
            ("delete", "retype", "exotic", "extra", "pattern", "long", "empty", "double", "group", "dose", "null")
        )
    )
    if kind == "delete" and dict_paths:
        path = draw(st.sampled_from(dict_paths))
        del _parent(payload, path)[path[-1]]
    elif kind in ("retype", "exotic", "null", "pattern", "long") and paths:
        path = draw(st.sampled_from(paths))
        _parent(payload, path)[path[-1]] = draw(_replacement(kind, _parent(payload, path)[path[-1]]))
    elif kind == "extra":
        containers = [payload] + [_parent(payload, path)[path[-1]] for path in paths]
        target = draw(st.sampled_from([node for node in containers if isinstance(node, dict)]))
        target[draw(st.text(max_size=4))] = draw(json_values())
    elif kind in ("empty", "double", "group"):
        _reshape_groups(draw, payload, kind)
    elif kind == "dose":
        group = payload.get("v")
        entries = [entry for entry in group if isinstance(entry, dict)] if isinstance(group, list) else []
        if entries:
            draw(st.sampled_from(entries))[draw(st.sampled_from(("dn", "sd")))] = draw(st.sampled_from(_DOSES))


def _replacement(kind: str, current: Any) -> st.SearchStrategy[Any]:
    """Draw what replaces a value for the mutations that overwrite one."""
    if kind == "retype":
        return json_values().filter(lambda value: type(value) is not type(current))
    if kind == "exotic":
        return exotic_values()
    if kind == "null":
        return st.none()
    if kind == "pattern":
        return st.sampled_from(TRICKY_STRINGS) | st.text(max_size=12)
    return st.sampled_from(_LENGTHS).flatmap(lambda size: st.text(min_size=size, max_size=size))


def _reshape_groups(draw: st.DrawFn, payload: dict[str, Any], kind: str) -> None:
    """Empty a group, double its entry, or add a second group."""
    present = _groups(payload)
    if kind == "group":
        group = draw(st.sampled_from(sorted(_GROUPS)))
        kept = payload[group] if group in present else []
        payload[group] = [*kept, draw(_GROUPS[group]())]
    elif present:
        group = draw(st.sampled_from(present))
        payload[group] = [] if kind == "empty" else [*payload[group], *payload[group]]


@st.composite
def mutated_payloads(draw: st.DrawFn, max_mutations: int = 3) -> dict[str, Any]:
    """Draw a well-formed payload and break it with one to ``max_mutations`` mutations."""
    payload = draw(payloads())
    for _ in range(draw(st.integers(min_value=1, max_value=max_mutations))):
        _mutate(draw, payload)
    return payload
