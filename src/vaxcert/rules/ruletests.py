"""Run business-rule tests laid out as in the EU business-rules repository.

The layout (``../shared/business-rules``, and the published ``dgc-business-rules`` repository)::

    <COUNTRY>/<RULE-ID>/rule.json          one rule in the gateway format
    <COUNTRY>/<RULE-ID>/tests/*.json       one test per file: payload, external, expected

A test file holds an object (or a list of them) with ``payload`` (the DCC payload; may be
missing), ``external`` (``validationClock``, ``valueSets``, ...) or a top-level
``validationClock``, and ``expected``.  The rule's ``Logic`` is evaluated on
``{"payload": payload, "external": external}`` exactly as the repository's own tooling does:
no selection, no engine or schema-version checks.  A test agrees when the result equals
``expected`` (an error never agrees).

Problems with a rule's metadata or with a test's clock outside the rule's validity are
reported as warnings: they do not change whether the logic agrees.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from .certlogic import CertLogicError, compile_expression, validate
from .gateway import Rule, RuleFormatError

__all__ = ["RuleTestReport", "RuleTestResult", "find_rule_folders", "render_text", "run_rule_tests"]


@dataclass(frozen=True, slots=True)
class RuleTestResult:
    """One test of one rule: what it expected, what the rule gave (None on error or non-boolean)."""

    rule: str
    test: str
    expected: Any
    actual: bool | None
    agree: bool
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON line: exactly ``rule``, ``test``, ``expected``, ``actual``, ``agree``."""
        return {"rule": self.rule, "test": self.test, "expected": self.expected, "actual": self.actual,
                "agree": self.agree}


@dataclass(frozen=True, slots=True)
class RuleTestReport:
    """Every test result, and warnings about rules and tests (never personal data)."""

    results: tuple[RuleTestResult, ...]
    warnings: tuple[str, ...]
    rules: int

    @property
    def ok(self) -> bool:
        """True when there is at least one test and every test agrees."""
        return bool(self.results) and all(result.agree for result in self.results)

    @property
    def disagreements(self) -> tuple[RuleTestResult, ...]:
        """The tests that do not agree."""
        return tuple(result for result in self.results if not result.agree)


def find_rule_folders(paths: Iterable[str | Path]) -> list[Path]:
    """The folders holding a ``rule.json`` at or below each path (a ``rule.json`` file counts too)."""
    folders: list[Path] = []
    for path in paths:
        source = Path(path)
        if source.is_file() and source.name == "rule.json":
            found = [source.parent]
        elif source.is_dir():
            found = _rule_folders_below(source)
        elif source.exists():
            raise ConfigurationError(f"{source}: expected a rule folder or a rule.json file")
        else:
            raise ConfigurationError(f"rule tests not found: {source}")
        if not found:
            raise ConfigurationError(f"{source}: no <RULE-ID>/rule.json below it")
        folders.extend(folder for folder in found if folder not in folders)
    return folders


def _rule_folders_below(root: Path) -> list[Path]:
    """Folders holding a rule.json at or below ``root``, skipping hidden folders and node_modules
    (a checkout of the rules repository with its tooling built)."""
    found = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(".") and d != "node_modules")
        if "rule.json" in files:
            found.append(Path(folder))
    return sorted(found)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        raise RuleFormatError(f"{path.name}: not a readable JSON file") from None


def _same(value: Any, expected: Any) -> bool:
    """JSON equality that tells ``true`` from ``1``."""
    try:
        return json.dumps(value, sort_keys=True) == json.dumps(expected, sort_keys=True)
    except (TypeError, ValueError):  # a date-time result is never what a test expects
        return False


def run_rule_tests(
    paths: Iterable[str | Path], *, valuesets: Mapping[str, Sequence[str]] | None = None
) -> RuleTestReport:
    """Run every test of every rule folder found at or below ``paths``.

    ``valuesets`` (``{gateway id: [codes]}``) is used for tests whose ``external`` has no
    ``valueSets``; tests that carry their own keep them.  Raises
    :class:`~vaxcert.errors.ConfigurationError` when a path holds no rule folder.
    """
    results: list[RuleTestResult] = []
    warnings: list[str] = []
    folders = find_rule_folders(paths)
    for folder in folders:
        results.extend(_run_folder(folder, valuesets, warnings))
    return RuleTestReport(tuple(results), tuple(warnings), len(folders))


def _run_folder(
    folder: Path, valuesets: Mapping[str, Sequence[str]] | None, warnings: list[str]
) -> list[RuleTestResult]:
    name = folder.name
    tests = sorted((folder / "tests").glob("*.json")) if (folder / "tests").is_dir() else []
    if not tests:
        warnings.append(f"{name}: no tests (tests/*.json)")
    try:
        document = _read_json(folder / "rule.json")
        if not isinstance(document, Mapping) or "Logic" not in document:
            raise RuleFormatError("rule.json: not a rule object with Logic")
    except RuleFormatError as error:
        return [RuleTestResult(name, test.name, None, None, False, str(error)) for test in tests]
    identifier = document.get("Identifier")
    rule_id = identifier if isinstance(identifier, str) and identifier.strip() else name
    rule: Rule | None = None
    try:
        rule = Rule.from_json(document, origin=f"rule {rule_id}")
    except RuleFormatError as error:
        warnings.append(str(error))
    warnings.extend(f"rule {rule_id}: Logic: {problem}" for problem in validate(document["Logic"]))
    compiled = compile_expression(document["Logic"])
    out: list[RuleTestResult] = []
    for test_file in tests:
        try:
            content = _read_json(test_file)
        except RuleFormatError as error:
            out.append(RuleTestResult(rule_id, test_file.name, None, None, False, str(error)))
            continue
        cases = content if isinstance(content, list) else [content]
        for index, case in enumerate(cases):
            label = test_file.name if not isinstance(content, list) else f"{test_file.name}#{index}"
            if not isinstance(case, Mapping) or "expected" not in case:
                out.append(RuleTestResult(rule_id, label, None, None, False, "a test needs an object with expected"))
                continue
            out.append(_run_case(rule_id, label, compiled, case, rule, valuesets, warnings))
    return out


def _run_case(
    rule_id: str,
    label: str,
    compiled: Any,
    case: Mapping[str, Any],
    rule: Rule | None,
    valuesets: Mapping[str, Sequence[str]] | None,
    warnings: list[str],
) -> RuleTestResult:
    external_in = case.get("external")
    external: dict[str, Any] = dict(external_in) if isinstance(external_in, Mapping) else {}
    if "validationClock" in case and "validationClock" not in external:
        external["validationClock"] = case["validationClock"]
    if valuesets is not None and "valueSets" not in external:
        external["valueSets"] = valuesets
    if rule is not None and isinstance(external.get("validationClock"), str):
        _check_clock(rule, external["validationClock"], label, warnings)
    expected = case["expected"]
    try:
        value = compiled({"payload": case.get("payload"), "external": external})
    except CertLogicError as error:
        return RuleTestResult(rule_id, label, expected, None, False, str(error))
    actual = value if isinstance(value, bool) else None
    return RuleTestResult(rule_id, label, expected, actual, _same(value, expected))


def _check_clock(rule: Rule, clock: str, label: str, warnings: list[str]) -> None:
    try:
        moment = dt.datetime.fromisoformat(clock.replace("Z", "+00:00"))
    except ValueError:
        warnings.append(f"rule {rule.identifier}: {label}: validationClock is not an ISO 8601 timestamp")
        return
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    if not rule.valid_at(moment):
        warnings.append(f"rule {rule.identifier}: {label}: validationClock lies outside ValidFrom..ValidTo")


def render_text(report: RuleTestReport) -> str:
    """One line per test, the warnings, and a summary."""
    lines = []
    for result in report.results:
        status = "agree   " if result.agree else "DISAGREE"
        got = json.dumps(result.actual)
        detail = f"expected {json.dumps(result.expected)}, got {got}"
        if result.error:
            detail += f" ({result.error})"
        lines.append(f"{status}  {result.rule}  {result.test}  {detail}")
    lines.extend(f"warning: {warning}" for warning in report.warnings)
    agree = sum(1 for r in report.results if r.agree)
    lines.append(f"{len(report.results)} tests of {report.rules} rules: {agree} agree, "
                 f"{len(report.results) - agree} disagree")
    return "\n".join(lines)
