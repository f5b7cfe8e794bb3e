"""``vaxcert rules``: run business-rule tests and check rule files (CertLogic, EU gateway format)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from .. import ConfigurationError, RuleSet, render_rule_tests, run_rule_tests
from ._common import EXIT_INVALID, EXIT_OK


@click.group("rules")
def rules() -> None:
    """Business rules as data: CertLogic rules in the EU DCC gateway format."""


def _value_sets(path: Path | None) -> dict[str, list[str]] | None:
    if path is None:
        return None
    try:
        document: Any = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        raise ConfigurationError(f"{path}: not a readable JSON file") from None
    if not isinstance(document, dict) or not all(
        isinstance(codes, list) and all(isinstance(code, str) for code in codes) for codes in document.values()
    ):
        raise ConfigurationError(f"{path}: value sets must be an object of value-set id -> list of codes")
    return document


@rules.command("test")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="One line per test and a summary, or one JSON object per test.")
@click.option("--valuesets", "valuesets_path", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Value sets ({id: [codes]}, e.g. business-rules/valuesets/valueSets.json) for tests "
                   "whose external carries none.")
def test_cmd(paths: tuple[Path, ...], fmt: str, valuesets_path: Path | None) -> None:
    """Run the tests of every rule folder (<COUNTRY>/<RULE-ID>/rule.json + tests/*.json) in PATHS.

    Exit 0 when every test agrees with its expected result, 1 otherwise.
    """
    report = run_rule_tests(paths, valuesets=_value_sets(valuesets_path))
    if fmt == "json":
        for result in report.results:
            click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        for warning in report.warnings:
            click.echo(f"warning: {warning}", err=True)
    else:
        click.echo(render_rule_tests(report))
    sys.exit(EXIT_OK if report.ok else EXIT_INVALID)


@rules.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def validate_cmd(paths: tuple[Path, ...]) -> None:
    """Load rule files or folders and check every rule's Logic statically.

    Exit 0 when every rule is well-formed and its Logic valid CertLogic, 1 when a Logic has
    problems; a rule file that is not in the gateway format is a usage error (2).
    """
    ruleset = RuleSet.load(*paths)
    bad = 0
    for rule in ruleset:
        problems = rule.problems()
        status = "ok" if not problems else "INVALID"
        engine = "" if rule.supported else f"  (engine {rule.engine} {rule.engine_version} not supported)"
        click.echo(f"{status:7}  {rule.identifier}  {rule.version}  {rule.certificate_type}{engine}")
        for problem in problems:
            click.echo(f"         {problem}")
        bad += bool(problems)
    click.echo(f"{len(ruleset)} rules, {bad} with invalid Logic")
    sys.exit(EXIT_OK if bad == 0 else EXIT_INVALID)
