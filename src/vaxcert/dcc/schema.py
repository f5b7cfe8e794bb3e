"""Validation of DCC payloads against the bundled JSON schemas, one per DCC version.

The bundled schemas (``schemas/dcc-<version>.schema.json``) are vaxcert's own compact rewrite of
the official EU DCC combined schemas.  Each gives the *same verdict* as the official schema of
its version under the reference validator: the Python ``jsonschema`` library's Draft 2020-12
validator with its defaults.  Two consequences are worth knowing:

* ``format`` is **not asserted**.  The official schemas mark ``dt``, ``sc``, ``fr``, ``df``,
  ``du`` (and ``dob`` in 1.0.x) as ``date`` / ``date-time`` but, in Draft 2020-12, ``format`` is
  an annotation unless a validator opts in; reference verdicts therefore accept any string there.
  Our schemas leave ``format`` out, so no validator can assert it by accident.  The only date
  that is checked is ``dob``, by the official ``pattern`` of each version.  Date semantics belong
  to the business rules, not to the schema stage.
* ``pattern`` follows Python ``re`` semantics, because that is what the reference validator
  uses: ``\\d`` matches any Unicode decimal digit (Unicode 14, the database of Python 3.11), ``.``
  matches anything but a newline and ``$`` also matches before one final newline.  Our patterns
  spell these out (an explicit digit class, ``[^\\n]``, ``\\n?$``) so that jsonschema-rs, whose
  regex dialect differs, reaches the same verdicts.

Validation runs on jsonschema-rs; one compiled validator per version is built lazily, once.
Before validation the payload is projected onto what the schema looks at (see
:func:`_coerce`): values Python would treat differently from JSON (tuples, ``Decimal``,
subclasses, lone surrogates, non-string keys, ...) are mapped to JSON values with the same
verdict, and members the schema never reads are dropped, so hostile input never makes the
validator raise and its cost is bounded by the schema, not by the payload.

Error messages are ``"<json path>: <reason>"`` and are built from the schema only: they never
contain the offending value (payloads carry names and birth dates).
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jsonschema_rs

from ..errors import ConfigurationError

__all__ = ["UNSUPPORTED_VERSION", "format_problems", "is_valid_plain", "resolve_version", "validate", "versions"]

_SCHEMA_GLOB = "dcc-*.schema.json"
_SCHEMA_NAME = re.compile(r"dcc-([0-9]+\.[0-9]+\.[0-9]+)\.schema\.json")
#: At most 18 digits a part: int() of a hostile ``ver`` of 4,300+ digits raises ValueError.
_SEMVER = re.compile(r"(0|[1-9][0-9]{0,17})\.(0|[1-9][0-9]{0,17})\.(0|[1-9][0-9]{0,17})")

UNSUPPORTED_VERSION = "ver: unsupported schema version"

# An invalid payload is explained from the first items of each array only, so that a payload of
# thousands of broken entries costs a bounded number of messages (the verdict covers every item).
_EXPLAINED_ITEMS = 20
_BEYOND_SAMPLE = f"$: an array item after the first {_EXPLAINED_ITEMS} is invalid"

# Keywords our projection (:func:`_shape_of`, :func:`_coerce`) understands.  A schema using any
# other validation keyword is refused, because the projection could then change its verdict.
_STRUCTURE_KEYWORDS = frozenset({"$ref", "allOf", "anyOf", "oneOf", "properties", "items", "required"})
_VALUE_KEYWORDS = frozenset({"type", "pattern", "maxLength", "minLength", "minimum", "maximum", "minItems", "maxItems"})
_ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "$comment", "title", "description", "examples"})
# Projection maps foreign values to null; that keeps verdicts only if null and other numbers are
# never accepted, so schemas may use just these types.
_ALLOWED_TYPES = frozenset({"object", "array", "string", "integer"})


@dataclass(frozen=True, slots=True)
class _Shape:
    """The part of an instance a schema reads: named members of an object, items of an array.

    ``leaves`` and ``branches`` split ``members`` into members read only as a whole and members
    whose own members or items are read (precomputed for :func:`_is_plain`).
    """

    members: Mapping[str, _Shape]
    items: _Shape | None
    leaves: tuple[str, ...] = ()
    branches: tuple[tuple[str, _Shape], ...] = ()

    @classmethod
    def of(cls, members: Mapping[str, _Shape], items: _Shape | None) -> _Shape:
        """Build a shape, precomputing its leaves and branches."""
        leaves = tuple(name for name, shape in members.items() if shape.is_leaf)
        branches = tuple((name, shape) for name, shape in members.items() if not shape.is_leaf)
        return cls(MappingProxyType(dict(members)), items, leaves, branches)

    @property
    def is_leaf(self) -> bool:
        """True when nothing inside the value is read."""
        return not self.members and self.items is None


_LEAF = _Shape.of({}, None)
# Exact types jsonschema-rs judges like Python jsonschema (surrogates aside: those make it raise).
_PLAIN_TYPES = frozenset({str, int, float, bool, type(None)})
# What jsonschema-rs raises when it cannot convert a Python value.
_CONVERSION_ERRORS = (ValueError, TypeError, OverflowError, RecursionError)


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A bundled schema ready for use: its JSON, its compiled validator and its shape."""

    schema: Mapping[str, Any]
    validator: jsonschema_rs.Validator
    shape: _Shape


# ---------------------------------------------------------------------------------------------
# Locating and choosing schemas


def _schema_dir() -> Path:
    """Return the directory of bundled schemas: the installed package first, then the repository."""
    package = Path(__file__).resolve().parents[1]  # vaxcert/
    for candidate in (package / "schemas", package.parents[1] / "schemas"):
        if any(candidate.glob(_SCHEMA_GLOB)):
            return candidate
    raise ConfigurationError("bundled DCC schemas not found (expected vaxcert/schemas or ./schemas)")


def _version_key(version: str) -> tuple[int, int, int]:
    """Sort key of a ``MAJOR.MINOR.PATCH`` string."""
    major, minor, patch = (int(part) for part in version.split("."))
    return major, minor, patch


@functools.cache
def _schema_files() -> Mapping[str, Path]:
    """Map each bundled version to its schema file."""
    found: dict[str, Path] = {}
    for path in _schema_dir().glob(_SCHEMA_GLOB):
        match = _SCHEMA_NAME.fullmatch(path.name)
        if match:
            found[match.group(1)] = path
    return MappingProxyType(dict(sorted(found.items(), key=lambda item: _version_key(item[0]))))


def versions() -> tuple[str, ...]:
    """Return the DCC schema versions bundled with vaxcert, oldest first."""
    return tuple(_schema_files())


def resolve_version(ver: object) -> str | None:
    """Return the bundled schema version that validates a payload whose ``ver`` is ``ver``.

    The rule, in order:

    1. ``ver`` is a bundled version: that version.
    2. ``ver`` is a well-formed ``MAJOR.MINOR.PATCH`` (1 to 18 ASCII digits a part, no leading
       zeros, no pre-release or build suffix) whose ``MAJOR.MINOR`` is bundled: the highest bundled patch
       of that ``MAJOR.MINOR`` (patches only fix the schema, so the newest one is the best).
    3. ``ver`` is well-formed with a bundled major but a minor newer than any bundled one: the
       newest bundled version of that major.  This is forward compatibility, the way EU
       verifiers validate unknown newer payloads against the latest schema they have.
    4. Anything else (not a string, malformed, unknown major, a minor between bundled ones):
       ``None``.
    """
    if type(ver) is str:
        known = _RESOLVED.get(ver)  # the handful of versions certificates carry, looked up first
        if known is not None:
            return known
    if not isinstance(ver, str):
        return None
    resolved = _resolve_str(str.__str__(ver))
    if resolved is not None and type(ver) is str and len(_RESOLVED) < 64:
        _RESOLVED[ver] = resolved
    return resolved


_RESOLVED: dict[str, str] = {}


@functools.lru_cache(maxsize=64)
def _resolve_str(ver: str) -> str | None:
    """:func:`resolve_version` for strings (cached: payloads repeat a handful of versions)."""
    files = _schema_files()
    if ver in files:
        return ver
    match = _SEMVER.fullmatch(ver)
    if match is None:
        return None
    major, minor = int(match.group(1)), int(match.group(2))
    same_major = [v for v in files if _version_key(v)[0] == major]
    same_minor = [v for v in same_major if _version_key(v)[1] == minor]
    if same_minor:
        return same_minor[-1]
    if same_major and minor > _version_key(same_major[-1])[1]:
        return same_major[-1]
    return None


# ---------------------------------------------------------------------------------------------
# Compiling


#: What the lenient schema leaves out, per member name: the constraints real issuers break while
#: the signature still protects the content (see :mod:`vaxcert.dcc.lenient`).  ``fnt`` / ``gnt``
#: outside ICAO 9303's ``[A-Z<]`` (lower case, spaces, diacritics), and issuer names longer
#: than 80 characters (the Austrian ministry's is 81).
_LENIENT_DROPS: dict[str, frozenset[str]] = {
    "fnt": frozenset({"pattern"}),
    "gnt": frozenset({"pattern"}),
    "is": frozenset({"maxLength"}),
}


def _relaxed(node: Any, root: Mapping[str, Any]) -> Any:
    """A copy of a schema node with the :data:`_LENIENT_DROPS` constraints removed."""
    if isinstance(node, list):
        return [_relaxed(item, root) for item in node]
    if not isinstance(node, Mapping):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties" and isinstance(value, Mapping):
            out[key] = {name: _relaxed_member(name, sub, root) for name, sub in value.items()}
        else:
            out[key] = _relaxed(value, root)
    return out


def _relaxed_member(name: str, node: Any, root: Mapping[str, Any]) -> Any:
    """A property's schema, relaxed; a relaxed member's ``$ref`` is inlined so siblings keep theirs."""
    drops = _LENIENT_DROPS.get(name)
    if drops is None or not isinstance(node, Mapping):
        return _relaxed(node, root)
    merged = dict(node)
    while "$ref" in merged:
        target = _resolve_ref(merged.pop("$ref"), root)
        merged = {**target, **merged}
    return {key: _relaxed(value, root) for key, value in merged.items() if key not in drops}


@functools.cache
def _compiled(version: str, lenient: bool = False) -> _Compiled:
    """Load, check and compile the bundled schema of ``version`` (once per process and mode)."""
    path = _schema_files().get(version)
    if path is None:
        raise ConfigurationError(f"unknown DCC schema version {version!r}; bundled: {', '.join(versions())}")
    schema = json.loads(path.read_text(encoding="utf-8"))
    if lenient:
        schema = _relaxed(schema, schema)
    shape = _shape_of(schema, schema, ())
    validator = jsonschema_rs.validator_for(schema, validate_formats=False)
    return _Compiled(schema=schema, validator=validator, shape=shape)


def _resolve_ref(ref: str, root: Mapping[str, Any]) -> Mapping[str, Any]:
    """Return the node a local ``#/...`` reference points to."""
    if not ref.startswith("#/"):
        raise ConfigurationError(f"only local $ref is supported in bundled schemas, got {ref!r}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    if not isinstance(node, Mapping):
        raise ConfigurationError(f"$ref {ref!r} does not point to a schema object")
    return node


def _check_keywords(node: Mapping[str, Any]) -> None:
    """Refuse schema nodes whose keywords the projection does not understand."""
    unknown = set(node) - _STRUCTURE_KEYWORDS - _VALUE_KEYWORDS - _ANNOTATIONS
    if unknown:
        raise ConfigurationError(f"unsupported keywords in bundled schema: {sorted(unknown)}")
    types = node.get("type", "object")
    for name in [types] if isinstance(types, str) else types:
        if name not in _ALLOWED_TYPES:
            raise ConfigurationError(f"unsupported type {name!r} in bundled schema")
    if set(node) & _VALUE_KEYWORDS - {"type"} and "type" not in node:
        raise ConfigurationError("bundled schema constrains values without naming their type")


def _alternatives(
    node: Mapping[str, Any], root: Mapping[str, Any], trail: tuple[str, ...]
) -> Iterator[tuple[Mapping[str, Any], tuple[str, ...]]]:
    """Yield every subschema applied to the same instance as ``node`` ($ref, allOf/anyOf/oneOf).

    Each comes with the trail of ``$ref`` followed to reach it, so that recursion is refused.
    """
    _check_keywords(node)
    yield node, trail
    if "$ref" in node:
        ref = node["$ref"]
        if ref in trail:
            raise ConfigurationError(f"recursive $ref {ref!r} is not supported in bundled schemas")
        yield from _alternatives(_resolve_ref(ref, root), root, (*trail, ref))
    for keyword in ("allOf", "anyOf", "oneOf"):
        for branch in node.get(keyword, ()):
            yield from _alternatives(branch, root, trail)


def _merge(left: _Shape | None, right: _Shape) -> _Shape:
    """Combine two shapes read at the same instance location."""
    if left is None:
        return right
    members = dict(left.members)
    for name, shape in right.members.items():
        members[name] = _merge(members.get(name), shape)
    items = (
        right.items if left.items is None else left.items if right.items is None else _merge(left.items, right.items)
    )
    return _Shape.of(members, items)


def _shape_of(node: Mapping[str, Any], root: Mapping[str, Any], trail: tuple[str, ...]) -> _Shape:
    """Compute which members and items of an instance the schema ``node`` reads."""
    members: dict[str, _Shape] = {}
    items: _Shape | None = None
    for sub, sub_trail in _alternatives(node, root, trail):
        for name in sub.get("required", ()):
            members.setdefault(name, _LEAF)
        for name, child in sub.get("properties", {}).items():
            members[name] = _merge(members.get(name), _shape_of(child, root, sub_trail))
        if "items" in sub:
            items = _merge(items, _shape_of(sub["items"], root, sub_trail))
    return _Shape.of(members, items)


# ---------------------------------------------------------------------------------------------
# Projecting a payload onto the JSON data model


def _is_plain(value: object, shape: _Shape) -> bool:
    """True if every value the schema reads has an exact JSON type (jsonschema-rs may take it as is).

    This is the fast path: it allocates nothing and leaves the members the schema does not read
    alone (jsonschema-rs does not convert those either).
    """
    kind = type(value)
    if kind is dict:
        get = value.get  # type: ignore[attr-defined]
        for name in shape.leaves:
            if type(get(name)) not in _PLAIN_TYPES:
                return False
        for name, child in shape.branches:
            member = get(name)
            if member is not None and not _is_plain(member, child):
                return False
        return True
    if kind is list:
        items = shape.items
        if items is None:
            return False
        for item in value:  # type: ignore[attr-defined]
            if not _is_plain(item, items):
                return False
        return True
    return kind in _PLAIN_TYPES


def _coerce(value: object, shape: _Shape, limit: int | None = None) -> object:
    """Return the JSON value jsonschema-rs must see to judge ``value`` as Python ``jsonschema`` does.

    Python ``jsonschema`` types values with ``isinstance`` (``dict`` objects, ``list`` arrays,
    ``str`` strings, ``int`` or integral ``float`` integers); anything else (tuples, ``Decimal``,
    bytes, dates, ...) fails every type our schemas allow, exactly like ``null`` does, so it
    becomes ``None``.  Objects keep only the members the schema reads, array items the schema
    never reads become ``None``; neither changes the verdict, and both bound the work.

    ``limit`` keeps only the first items of each array: that sample is for explaining an invalid
    payload in a bounded number of messages, never for the verdict.
    """
    kind = type(value)
    if kind is str:
        return _coerce_str(value)  # type: ignore[arg-type]
    if kind is int or kind is float or kind is bool or value is None:
        return value
    if kind is dict:
        return _coerce_object(value, shape, limit)  # type: ignore[arg-type]
    if kind is list:
        return _coerce_array(value, shape, limit)  # type: ignore[arg-type]
    return _coerce_subclass(value, shape, limit)


def _coerce_subclass(value: object, shape: _Shape, limit: int | None) -> object:
    """Coerce values of subclasses of the JSON types (and foreign values, to ``None``)."""
    if isinstance(value, int):  # bool cannot be subclassed: only int subclasses get here
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return _coerce_str(str.__str__(value))
    if isinstance(value, dict):
        return _coerce_object(value, shape, limit)
    if isinstance(value, list):
        return _coerce_array(value, shape, limit)
    return None


def _coerce_str(value: str) -> str:
    """Replace lone surrogates (not encodable, so refused by jsonschema-rs) with U+FFFD.

    No bundled pattern gives a surrogate and U+FFFD different outcomes, and lengths stay equal.
    """
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "".join("\ufffd" if "\ud800" <= char <= "\udfff" else char for char in value)
    return value


def _coerce_object(value: dict[Any, Any], shape: _Shape, limit: int | None) -> dict[str, object]:
    """Keep the members the schema reads, looked up the way Python ``jsonschema`` does."""
    return {name: _coerce(value[name], child, limit) for name, child in shape.members.items() if name in value}


def _coerce_array(value: list[Any], shape: _Shape, limit: int | None) -> list[object]:
    """Coerce the items of an array (or blank them when the schema never reads them)."""
    kept = value if limit is None else value[:limit]
    items = shape.items
    if items is None:
        return [None] * len(kept)
    return [_coerce(item, items, limit) for item in kept]


# ---------------------------------------------------------------------------------------------
# Messages


def _format_path(parts: Sequence[str | int]) -> str:
    """Render an instance location as ``v[0].dn`` (``$`` for the payload itself)."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "$"


def _schema_node(schema: Mapping[str, Any], location: Sequence[str | int]) -> Any:
    """Return the schema node at a (resolved) schema location, or ``None``."""
    node: Any = schema
    for part in location:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _required_alternatives(branches: Any) -> list[str] | None:
    """Return the names if every branch is just ``{"required": [name]}``, else ``None``."""
    names: list[str] = []
    if not isinstance(branches, list):
        return None
    for branch in branches:
        if not isinstance(branch, Mapping) or set(branch) != {"required"} or len(branch["required"]) != 1:
            return None
        names.append(branch["required"][0])
    return names


def _with_description(reason: str, node: Any) -> str:
    """Append the schema node's description (written for this purpose in our schemas)."""
    if isinstance(node, Mapping) and isinstance(node.get("description"), str):
        return f"{reason} ({node['description']})"
    return reason


def _reason(error: jsonschema_rs.ValidationError, schema: Mapping[str, Any]) -> str:
    """Explain an error from the schema alone, never quoting the instance."""
    kind = error.kind
    location = error.schema_path
    match kind:
        case jsonschema_rs.ValidationErrorKind.Type(types=types):
            return f"must be of type {' or '.join(types)}"
        case jsonschema_rs.ValidationErrorKind.Required():
            return "required property is missing"
        case jsonschema_rs.ValidationErrorKind.Pattern():
            node = _schema_node(schema, location[:-1])
            return _with_description("does not match the required pattern", node)
        case jsonschema_rs.ValidationErrorKind.MaxLength(limit=limit):
            return f"must be at most {limit} characters long"
        case jsonschema_rs.ValidationErrorKind.MinLength(limit=limit):
            return f"must be at least {limit} characters long"
        case jsonschema_rs.ValidationErrorKind.Minimum(limit=limit):
            return f"must be at least {limit}"
        case jsonschema_rs.ValidationErrorKind.Maximum(limit=limit):
            return f"must be at most {limit}"
        case jsonschema_rs.ValidationErrorKind.MinItems(limit=limit):
            return f"must contain at least {limit} item{'s' if limit != 1 else ''}"
        case jsonschema_rs.ValidationErrorKind.MaxItems(limit=limit):
            return f"must contain at most {limit} item{'s' if limit != 1 else ''}"
        case jsonschema_rs.ValidationErrorKind.AnyOf():
            names = _required_alternatives(_schema_node(schema, location))
            return f"must contain at least one of {', '.join(names)}" if names else "matches no alternative"
        case jsonschema_rs.ValidationErrorKind.OneOfNotValid():
            names = _required_alternatives(_schema_node(schema, location))
            return f"must contain one of {', '.join(names)}" if names else "matches no alternative"
        case jsonschema_rs.ValidationErrorKind.OneOfMultipleValid():
            names = _required_alternatives(_schema_node(schema, location))
            return f"must contain only one of {', '.join(names)}" if names else "matches several alternatives"
    return f"violates {kind.name}"


def _message(error: jsonschema_rs.ValidationError, schema: Mapping[str, Any]) -> str:
    """Render one error as ``"<json path>: <reason>"``."""
    path: list[str | int] = list(error.instance_path)
    if isinstance(error.kind, jsonschema_rs.ValidationErrorKind.Required):
        path.append(str(error.kind.property))
    return f"{_format_path(path)}: {_reason(error, schema)}"


# ---------------------------------------------------------------------------------------------
# Public entry point


# ``format`` declarations of the official schemas (bundled schemas leave them out, see above):
# (type member or None for the payload itself, member name, format, versions declaring it).
_FORMATS: tuple[tuple[str | None, str, str, tuple[str, ...]], ...] = (
    (None, "dob", "date", ("1.0.",)),
    ("v", "dt", "date", ("1.",)),
    ("t", "sc", "date-time", ("1.",)),
    ("t", "dr", "date-time", ("1.0.", "1.1.")),
    ("r", "fr", "date", ("1.",)),
    ("r", "df", "date", ("1.",)),
    ("r", "du", "date", ("1.",)),
)
_RFC3339_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_RFC3339_DATETIME = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]+)?(?:[Zz]|([+-])([0-9]{2}):([0-9]{2}))"
)


def _is_date(text: str) -> bool:
    match = _RFC3339_DATE.fullmatch(text)
    if match is None:
        return False
    try:
        _dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return False
    return True


def _is_datetime(text: str) -> bool:
    match = _RFC3339_DATETIME.fullmatch(text)
    if match is None or not _is_date(match.group(1)):
        return False
    hour, minute, second = int(match.group(2)), int(match.group(3)), int(match.group(4))
    if hour > 23 or minute > 59 or second > 60:
        return False
    return match.group(5) is None or (int(match.group(6)) <= 23 and int(match.group(7)) <= 59)


def format_problems(payload: object, version: str) -> list[str]:
    """The ``format`` assertions of the official schema of ``version`` that ``payload`` breaks.

    In Draft 2020-12 ``format`` is an annotation, so :func:`validate` does not assert it; strict
    verification does (RFC 3339 ``full-date`` and ``date-time``).  Messages name the path only.
    """
    if not isinstance(payload, dict):
        return []
    problems: list[str] = []
    for kind, name, fmt, declared in _FORMATS:
        if not version.startswith(declared):
            continue
        check = _is_date if fmt == "date" else _is_datetime
        if kind is None:
            value = payload.get(name)
            if isinstance(value, str) and not check(value):
                problems.append(f"{name}: is not a valid RFC 3339 {'full-date' if fmt == 'date' else fmt}")
            continue
        entries = payload.get(kind)
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            value = entry.get(name) if isinstance(entry, dict) else None
            if isinstance(value, str) and not check(value):
                problems.append(f"{kind}[{index}].{name}: is not a valid RFC 3339 "
                                f"{'full-date' if fmt == 'date' else fmt}")
    return problems


def validate(
    payload: object, version: str | None = None, *, plain_json: bool = False, lenient: bool = False
) -> list[str]:
    """Validate a DCC payload; return the problems found (an empty list means valid).

    ``version`` picks a bundled schema explicitly (unknown versions raise
    :class:`~vaxcert.errors.ConfigurationError`); ``None`` picks the schema for the payload's
    own ``ver`` with :func:`resolve_version`, and reports ``"ver: unsupported schema version"``
    when there is none.  Messages are ``"<json path>: <reason>"`` and never contain values from
    the payload.  Only the first 20 items of an array are explained (the verdict covers all of
    them), which bounds the cost of hostile payloads.  Hostile input never raises.

    ``plain_json=True`` is the caller's promise that ``payload`` holds only dict, list, str,
    int, bool, None and finite floats (as :func:`vaxcert.stages.cwt.decode` guarantees); it
    skips the walk that checks this, the verdict staying the same.

    ``lenient=True`` validates against the schema minus the constraints real issuers break
    where the signature still protects the content (``fnt`` / ``gnt`` patterns, the length of
    ``is``); the default verifier uses it, with the full schema's findings as warnings.
    """
    if version is None:
        if not isinstance(payload, dict):
            return ["$: must be of type object"]
        if "ver" not in payload:
            return ["ver: required property is missing"]
        version = resolve_version(payload["ver"])
        if version is None:
            return [UNSUPPORTED_VERSION]
    compiled = _compiled(version, lenient)
    if _is_valid(compiled, payload, plain_json):
        return []
    sample = _coerce(payload, compiled.shape, _EXPLAINED_ITEMS)
    messages = [_message(error, compiled.schema) for error in compiled.validator.iter_errors(sample)]
    return list(dict.fromkeys(messages)) or [_BEYOND_SAMPLE]


def is_valid_plain(payload: object, version: str) -> bool:
    """``not validate(payload, version, plain_json=True)``, without building any message.

    The verifier's question on every certificate: the compiled validator is looked up directly.
    """
    compiled = _PLAIN.get(version)
    if compiled is None:
        compiled = _PLAIN[version] = _compiled(version)
    try:
        return compiled.validator.is_valid(payload)
    except _CONVERSION_ERRORS:  # e.g. a lone surrogate in a string
        return compiled.validator.is_valid(_coerce(payload, compiled.shape))


#: The full schemas' compiled validators by version, for :func:`is_valid_plain`.
_PLAIN: dict[str, _Compiled] = {}


def _is_valid(compiled: _Compiled, payload: object, plain_json: bool = False) -> bool:
    """The verdict: jsonschema-rs on the payload as is when it is plain JSON, else on its projection."""
    validator = compiled.validator
    if plain_json or _is_plain(payload, compiled.shape):
        try:
            return validator.is_valid(payload)
        except _CONVERSION_ERRORS:  # e.g. a lone surrogate in a string
            pass
    return validator.is_valid(_coerce(payload, compiled.shape))
