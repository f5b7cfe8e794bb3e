"""EU gateway rules: loading, selection as in the EU apps, evaluation, and `vaxcert rules test`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from cli_inprocess import run
from conftest import SHARED
from strategies_dcc import mutated_payloads
from vaxcert.dcc.valuesets import ValueSets
from vaxcert.errors import ConfigurationError
from vaxcert.rules.gateway import (
    ENGINE_VERSION,
    Outcome,
    Rule,
    RuleFormatError,
    RuleSet,
    evaluate_rules,
    external_value_sets,
    rule_data,
)
from vaxcert.rules.ruletests import run_rule_tests

BUSINESS_RULES = SHARED / "business-rules"
AT = dt.datetime(2021, 7, 10, 12, 0, tzinfo=dt.UTC)


def make_rule(identifier: str = "VR-XX-0001", **fields: Any) -> dict[str, Any]:
    """A complete gateway rule object; ``fields`` override or (None) remove members."""
    rule: dict[str, Any] = {
        "Identifier": identifier,
        "Type": "Acceptance",
        "Country": "XX",
        "Version": "1.0.0",
        "SchemaVersion": "1.0.0",
        "Engine": "CERTLOGIC",
        "EngineVersion": "0.7.5",
        "CertificateType": "Vaccination",
        "Description": [{"lang": "en", "desc": "Only dose numbers of at least two are accepted."},
                        {"lang": "de", "desc": "Nur Dosisnummern ab zwei werden akzeptiert."}],
        "ValidFrom": "2021-07-01T00:00:00Z",
        "ValidTo": "2030-06-01T00:00:00Z",
        "AffectedFields": ["v.0.dn"],
        "Logic": {"if": [{"var": "payload.v.0"}, {">=": [{"var": "payload.v.0.dn"}, 2]}, True]},
    }
    for key, value in fields.items():
        if value is None:
            rule.pop(key, None)
        else:
            rule[key] = value
    return rule


def payload(dn: int = 2, ver: str = "1.3.0") -> dict[str, Any]:
    """A vaccination payload."""
    return {"ver": ver, "nam": {"fnt": "MUSTER"}, "dob": "1990-01-01",
            "v": [{"tg": "840539006", "mp": "EU/1/20/1528", "dn": dn, "sd": 2, "dt": "2021-06-01"}]}


# --- `vaxcert rules test` on ../shared/business-rules -------------------------------------------


def test_every_shared_rule_test_agrees() -> None:
    """`vaxcert rules test ../shared/business-rules --format json`: one exact line per test file, all agree."""
    result = run("rules", "test", str(BUSINESS_RULES), "--format", "json")
    assert result.returncode == 0, result.stdout[-2000:]
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    files = sorted(BUSINESS_RULES.glob("*/*/tests/*.json"))
    assert len(lines) == len(files) >= 250
    assert all(list(line) == ["rule", "test", "expected", "actual", "agree"] for line in lines)
    assert all(line["agree"] and line["actual"] is line["expected"] for line in lines)
    assert {line["rule"] for line in lines} == {json.loads(p.read_text())["Identifier"]
                                                for p in BUSINESS_RULES.glob("*/*/rule.json")}


def test_text_output_and_one_country(tmp_path: Path) -> None:
    """Text output ends with a summary; a country folder or a single rule folder can be given."""
    result = run("rules", "test", str(BUSINESS_RULES / "DE"), str(BUSINESS_RULES / "NL" / "GR-NL-0002"))
    assert result.returncode == 0
    assert result.stdout.splitlines()[-1].endswith("agree, 0 disagree")
    assert "GR-NL-0002" in result.stdout and "VR-DE-0001" in result.stdout and "AT-0" not in result.stdout


def write_rule_folder(root: Path, rule: Any, tests: dict[str, Any], country: str = "XX") -> Path:
    """Write <root>/<country>/<id>/rule.json and tests/*.json."""
    folder = root / country / (rule["Identifier"] if isinstance(rule, dict) else "R-XX-0001")
    (folder / "tests").mkdir(parents=True)
    (folder / "rule.json").write_text(rule if isinstance(rule, str) else json.dumps(rule), encoding="utf-8")
    for name, test in tests.items():
        (folder / "tests" / name).write_text(test if isinstance(test, str) else json.dumps(test), encoding="utf-8")
    return folder


def test_disagreement_and_errors_exit_1(tmp_path: Path) -> None:
    """A wrong expectation, a rule error and an unreadable test each give agree false, exit 1."""
    write_rule_folder(tmp_path, make_rule(), {
        "ok.json": {"payload": payload(2), "external": {}, "expected": True},
        "wrong.json": {"payload": payload(1), "external": {}, "expected": True},
        "error.json": {"payload": {"v": [{"dn": "two"}]}, "external": {}, "expected": False},
        "broken.json": "{not json",
    })
    result = run("rules", "test", str(tmp_path), "--format", "json")
    assert result.returncode == 1
    lines = {line["test"]: line for line in map(json.loads, result.stdout.splitlines())}
    assert lines["ok.json"]["agree"] is True
    assert lines["wrong.json"] == {"rule": "VR-XX-0001", "test": "wrong.json", "expected": True, "actual": False,
                                   "agree": False}
    assert lines["error.json"]["actual"] is None and lines["error.json"]["agree"] is False
    assert lines["broken.json"]["agree"] is False
    text = run("rules", "test", str(tmp_path))
    assert text.returncode == 1 and "DISAGREE" in text.stdout and "must be integers" in text.stdout


def test_real_world_variations_are_tolerated(tmp_path: Path) -> None:
    """BOM, a test list, top-level validationClock, missing payload, Description by language, offsets."""
    rule = make_rule("TR-XX-0001", CertificateType="Test", Description={"en": "Tests at most 72 hours old."},
                     ValidFrom="2021-06-01T00:00:00+02:00", ValidTo=None, AffectedFields=None, Region=None,
                     Logic={"if": [{"var": "payload.t.0"},
                                   {"before": [{"plusTime": [{"var": "external.validationClock"}, 0, "hour"]},
                                               {"plusTime": [{"var": "payload.t.0.sc"}, 72, "hour"]}]}, True]})
    folder = write_rule_folder(tmp_path, rule, {
        "list.json": [
            {"name": "fresh", "payload": {"t": [{"sc": "2021-06-02T10:00:00Z"}]},
             "validationClock": "2021-06-03T10:00:00Z", "expected": True},
            {"name": "old", "payload": {"t": [{"sc": "2021-06-02T10:00:00Z"}]},
             "external": {"validationClock": "2021-06-05T13:00:00+02:00"}, "expected": False},
        ],
        "no-payload.json": {"expected": True},
    })
    (folder / "rule.json").write_bytes(b"\xef\xbb\xbf" + (folder / "rule.json").read_bytes())
    report = run_rule_tests([tmp_path])
    assert report.ok, report
    assert [r.test for r in report.results] == ["list.json#0", "list.json#1", "no-payload.json"]
    assert report.warnings == ()


def test_valuesets_option_fills_missing_value_sets(tmp_path: Path) -> None:
    """--valuesets supplies external.valueSets to tests that carry none; tests with their own keep them."""
    rule = make_rule(Logic={"in": [{"var": "payload.v.0.mp"},
                                   {"var": "external.valueSets.vaccines-covid-19-names"}]})
    write_rule_folder(tmp_path, rule, {
        "a.json": {"payload": payload(), "external": {}, "expected": True},
        "b.json": {"payload": payload(), "external": {"valueSets": {"vaccines-covid-19-names": []}},
                   "expected": False},
    })
    assert not run_rule_tests([tmp_path]).ok
    assert run_rule_tests([tmp_path], valuesets={"vaccines-covid-19-names": ["EU/1/20/1528"]}).ok
    result = run("rules", "test", str(tmp_path), "--valuesets",
                 str(BUSINESS_RULES / "valuesets" / "valueSets.json"))
    assert result.returncode == 0, result.stdout
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    assert run("rules", "test", str(tmp_path), "--valuesets", str(bad)).returncode == 2


def test_rules_test_usage_errors(tmp_path: Path) -> None:
    """A folder without rule folders is a usage error (exit 2) naming it, without a traceback."""
    result = run("rules", "test", str(tmp_path))
    assert result.returncode == 2
    assert "no <RULE-ID>/rule.json" in result.stderr and "Traceback" not in result.stderr


def test_warnings_for_metadata_and_clock(tmp_path: Path) -> None:
    """Bad metadata and a clock outside ValidFrom..ValidTo are warnings; the logic still runs."""
    write_rule_folder(tmp_path, make_rule(Version="one"), {
        "t.json": {"payload": payload(), "external": {"validationClock": "2020-01-01T00:00:00Z"}, "expected": True},
    })
    write_rule_folder(tmp_path, make_rule("VR-XX-0002", ValidFrom="2022-01-01T00:00:00Z"), {
        "t.json": {"payload": payload(), "external": {"validationClock": "2021-01-01T00:00:00Z"}, "expected": True},
    })
    report = run_rule_tests([tmp_path])
    assert report.ok
    assert any("Version" in w for w in report.warnings)
    assert any("outside ValidFrom..ValidTo" in w for w in report.warnings)


# --- loading -----------------------------------------------------------------------------------


def test_load_shared_rules_and_round_trip() -> None:
    """All shared rules load (folder layout), and to_json/from_json round-trips them."""
    rules = RuleSet.load(BUSINESS_RULES)
    assert len(rules) == len(list(BUSINESS_RULES.glob("*/*/rule.json")))
    again = RuleSet.from_json(json.dumps(rules.to_json()))
    assert again.to_json() == rules.to_json()
    assert all(rule.problems() == [] and rule.supported for rule in rules)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"Identifier": None}, "Identifier"),
        ({"Logic": None}, "Logic is missing"),
        ({"Country": "XXX"}, "Country"),
        ({"CertificateType": "Passport"}, "CertificateType"),
        ({"Type": "Other"}, "Type"),
        ({"Version": "latest"}, "Version"),
        ({"Version": "²"}, "Version"),
        ({"Version": "9" * 5000}, "Version"),  # past int()'s 4,300 digits
        ({"ValidFrom": "yesterday"}, "ValidFrom"),
        ({"ValidFrom": None}, "ValidFrom"),
        ({"Description": 5}, "Description"),
        ({"Description": [{"lang": "en"}]}, "Description"),
        ({"AffectedFields": "v.0"}, "AffectedFields"),
    ],
)
def test_rule_format_errors_name_the_field(fields: dict[str, Any], message: str) -> None:
    """A malformed rule raises RuleFormatError naming the rule and the field."""
    with pytest.raises(RuleFormatError, match=message) as caught:
        Rule.from_json(make_rule(**fields))
    if "Identifier" not in fields:
        assert "VR-XX-0001" in str(caught.value)


def test_optional_fields_and_descriptions() -> None:
    """Missing optional fields get defaults; descriptions fall back to English, then any language."""
    rule = Rule.from_json(make_rule(Type=None, SchemaVersion=None, Engine=None, ValidTo=None, AffectedFields=None,
                                    CertificateType="vaccination", ValidFrom="2021-07-01T00:00:00"))
    assert (rule.type, rule.schema_version, rule.engine, rule.valid_to, rule.certificate_type) == (
        "Acceptance", "1.0.0", "CERTLOGIC", None, "Vaccination")
    assert rule.valid_from == dt.datetime(2021, 7, 1, tzinfo=dt.UTC)
    assert rule.description("de").startswith("Nur") and rule.description("de-AT").startswith("Nur")
    assert rule.description("vi") == rule.description("en")
    only_german = Rule.from_json(make_rule(Description=[{"lang": "de", "desc": "Nur zwei oder mehr Dosen."}]))
    assert only_german.description("vi").startswith("Nur")
    assert "VR-XX-0001" in repr(rule) and "Logic" not in repr(rule)


def test_load_files_and_folders(tmp_path: Path) -> None:
    """A file may hold a rule, a list or {"rules": [...]}; a flat folder loads every *.json in it."""
    (tmp_path / "one.json").write_text(json.dumps(make_rule("VR-XX-0001")))
    (tmp_path / "list.json").write_text(json.dumps([make_rule("VR-XX-0002"), make_rule("VR-XX-0003")]))
    (tmp_path / "wrapped.json").write_text(json.dumps({"rules": [make_rule("VR-XX-0004")]}))
    rules = RuleSet.load(tmp_path)
    assert sorted(r.identifier for r in rules) == ["VR-XX-0001", "VR-XX-0002", "VR-XX-0003", "VR-XX-0004"]
    assert len(RuleSet.load(tmp_path / "list.json", tmp_path / "one.json")) == 3
    with pytest.raises(ConfigurationError, match="not found"):
        RuleSet.load(tmp_path / "missing")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(RuleFormatError, match="not valid JSON"):
        RuleSet.load(tmp_path)


# --- selection ---------------------------------------------------------------------------------


def ids(rules: list[Rule]) -> list[tuple[str, str]]:
    """(identifier, version) of each rule."""
    return [(rule.identifier, rule.version) for rule in rules]


def test_select_as_the_eu_apps() -> None:
    """Country of arrival, General + own type, validity at the time, highest version per identifier."""
    rules = RuleSet.from_json([
        make_rule("VR-XX-0001", Version="1.0.0"),
        make_rule("VR-XX-0001", Version="1.2.0", ValidFrom="2021-07-05T00:00:00+02:00"),
        make_rule("VR-XX-0001", Version="2.0.0", ValidFrom="2021-08-01T00:00:00Z"),
        make_rule("GR-XX-0001", CertificateType="General"),
        make_rule("TR-XX-0001", CertificateType="Test"),
        make_rule("VR-XX-0002", ValidTo="2021-07-09T00:00:00Z"),
        make_rule("VR-YY-0001", Country="YY"),
        make_rule("IR-YY-0001", Country="YY", Type="Invalidation", CertificateType="General"),
    ])
    chosen = rules.select(country="xx", cert_type="v", at=AT)
    assert ids(chosen) == [("GR-XX-0001", "1.0.0"), ("VR-XX-0001", "1.2.0")]
    assert ids(rules.select(country="XX", cert_type="Test", at=AT)) == [("GR-XX-0001", "1.0.0"),
                                                                         ("TR-XX-0001", "1.0.0")]
    later = dt.datetime(2021, 8, 2, tzinfo=dt.UTC)
    assert ("VR-XX-0001", "2.0.0") in ids(rules.select(country="XX", cert_type="v", at=later))
    with_issuer = rules.select(country="XX", cert_type="r", at=AT, issuer_country="YY")
    assert ids(with_issuer) == [("GR-XX-0001", "1.0.0"), ("IR-YY-0001", "1.0.0")]
    with pytest.raises(ValueError, match="timezone"):
        rules.select(country="XX", cert_type="v", at=dt.datetime(2021, 7, 10))
    with pytest.raises(ValueError, match="certificate type"):
        rules.select(country="XX", cert_type="x", at=AT)


def test_select_regions() -> None:
    """Without a region only national rules apply; a region's rule replaces the national one of its id."""
    rules = RuleSet.from_json([
        make_rule("VR-XX-0001", Version="1.5.0"),
        make_rule("VR-XX-0001", Region="north"),
        make_rule("VR-XX-0002", Region="NORTH"),
        make_rule("VR-XX-0003", Region="SOUTH"),
    ])
    assert [(r.identifier, r.region) for r in rules.select(country="XX", cert_type="v", at=AT)] == [
        ("VR-XX-0001", None)]
    assert [(r.identifier, r.region) for r in rules.select(country="XX", cert_type="v", at=AT, region="North")] == [
        ("VR-XX-0001", "NORTH"), ("VR-XX-0002", "NORTH")]


def test_select_on_shared_rules() -> None:
    """The shared DE vaccination rules: VR-DE-0003 applies from its ValidFrom (2021-10-03) on."""
    rules = RuleSet.load(BUSINESS_RULES)
    assert [r.identifier for r in rules.select(country="DE", cert_type="v", at=AT)] == [
        "VR-DE-0001", "VR-DE-0002", "VR-DE-0004"]
    later = dt.datetime(2021, 11, 1, tzinfo=dt.UTC)
    assert [r.identifier for r in rules.select(country="DE", cert_type="Vaccination", at=later)] == [
        "VR-DE-0001", "VR-DE-0002", "VR-DE-0003", "VR-DE-0004"]


# --- evaluation --------------------------------------------------------------------------------


def test_rule_data_shape() -> None:
    """Rules see payload and external with validationClock, valueSets (lists of codes), country, exp, iat."""
    now = dt.datetime(2021, 7, 10, 12, 0, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    data = rule_data(payload(), now=now, country="de", exp=now + dt.timedelta(days=1), iat=None, region="by",
                     external={"holderCertificates": []})
    assert data["payload"] == payload()
    external = data["external"]
    assert external["validationClock"] == "2021-07-10T10:00:00.123Z"
    assert (external["countryCode"], external["exp"], external["iat"], external["region"]) == (
        "DE", "2021-07-11T10:00:00.123Z", None, "BY")
    assert external["holderCertificates"] == []
    sets = external["valueSets"]
    assert "EU/1/20/1528" in sets["vaccines-covid-19-names"] and sets["disease-agent-targeted"] == ["840539006"]
    assert set(sets) >= {"covid-19-lab-test-type", "covid-19-lab-result", "sct-vaccines-covid-19",
                         "vaccines-covid-19-auth-holders", "covid-19-lab-test-manufacturer-and-name", "country-2-codes"}
    assert external_value_sets(ValueSets.bundled()) == sets


def test_evaluate_rules_outcomes() -> None:
    """Passed, failed, and open (error, non-boolean, unsupported engine, other schema major) results."""
    rules = RuleSet.from_json([
        make_rule("VR-XX-0001"),
        make_rule("VR-XX-0002", Logic={"plusTime": [{"var": "payload.v.0.dn"}, 0, "day"]}),
        make_rule("VR-XX-0003", Logic={"var": "payload.v.0.dn"}),
        make_rule("VR-XX-0004", EngineVersion="2.0.0"),
        make_rule("VR-XX-0005", Engine="OTHER"),
        make_rule("VR-XX-0006", SchemaVersion="2.0.0"),
        make_rule("VR-XX-0007", SchemaVersion="1.3.1"),
        make_rule("VR-XX-0008", Logic={"!==": [1, 2]}),
    ])
    results = {r.identifier: r for r in evaluate_rules(rules, payload(1), now=AT, country="XX")}
    assert results["VR-XX-0001"].outcome is Outcome.FAILED and results["VR-XX-0001"].error is None
    assert results["VR-XX-0002"].outcome is Outcome.OPEN and "plusTime" in str(results["VR-XX-0002"].error)
    assert results["VR-XX-0003"].outcome is Outcome.OPEN and "true or false" in str(results["VR-XX-0003"].error)
    assert results["VR-XX-0004"].outcome is Outcome.OPEN and ENGINE_VERSION in str(results["VR-XX-0004"].error)
    assert results["VR-XX-0005"].outcome is Outcome.OPEN
    assert results["VR-XX-0006"].outcome is Outcome.OPEN and "schema" in str(results["VR-XX-0006"].error)
    assert results["VR-XX-0007"].outcome is Outcome.OPEN
    assert results["VR-XX-0008"].outcome is Outcome.OPEN and "unrecognised" in str(results["VR-XX-0008"].error)
    assert not any(r.passed for r in results.values())
    passed = evaluate_rules(rules.rules[:1], payload(2, ver="1.3.2"), now=AT)
    assert passed[0].passed and passed[0].to_dict("de")["description"].startswith("Nur")
    no_version = evaluate_rules(rules.rules[:1], {"v": []}, now=AT)
    assert no_version[0].outcome is Outcome.OPEN


def test_shared_rules_on_published_vectors(vectors_dir: Path) -> None:
    """Every shared rule on every payload of dgc-testdata: a result for each, never an exception."""
    rules = RuleSet.load(BUSINESS_RULES)
    count = 0
    for path in sorted(vectors_dir.rglob("*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, ValueError):
            continue
        if not isinstance(document, dict) or not isinstance(document.get("JSON"), dict):
            continue
        results = evaluate_rules(rules, document["JSON"], now=AT, country="DE")
        assert len(results) == len(rules)
        count += 1
    assert count > 50


@settings(max_examples=150, deadline=None)
@given(mutated_payloads())
def test_hostile_payloads_give_results(hostile: dict[str, Any]) -> None:
    """Mutated payloads never make rule evaluation raise."""
    rules = RuleSet.load(BUSINESS_RULES / "EU")
    for result in evaluate_rules(rules, hostile, now=AT, country="EU"):
        assert result.outcome in tuple(Outcome)


def test_public_names() -> None:
    """vaxcert.rules and the rule modules list in __all__ only names they define, each once."""
    import vaxcert.rules
    from vaxcert.rules import certlogic, gateway, passrules, ruletests

    for module in (vaxcert.rules, certlogic, gateway, passrules, ruletests):
        assert len(module.__all__) == len(set(module.__all__))
        for name in module.__all__:
            assert hasattr(module, name), (module.__name__, name)
    assert {"RuleSet", "evaluate_rules", "PassRules", "CertLogicError"} <= set(vaxcert.rules.__all__)


def test_rules_validate_command(tmp_path: Path) -> None:
    """`vaxcert rules validate`: 0 for the shared rules, 1 naming an invalid Logic, 2 for a non-rule file."""
    ok = run("rules", "validate", str(BUSINESS_RULES))
    count = len(RuleSet.load(BUSINESS_RULES))
    assert ok.returncode == 0 and ok.stdout.splitlines()[-1] == f"{count} rules, 0 with invalid Logic"
    rules = [make_rule(Logic={"and": [True]}), make_rule("VR-XX-0002", EngineVersion="9.0.0")]
    (tmp_path / "r.json").write_text(json.dumps(rules))
    bad = run("rules", "validate", str(tmp_path / "r.json"))
    assert bad.returncode == 1
    assert 'an "and" operation must have at least 2 operands, but it has 1' in bad.stdout
    assert "not supported" in bad.stdout
    (tmp_path / "x.json").write_text(json.dumps({"foo": 1}))
    usage = run("rules", "validate", str(tmp_path / "x.json"))
    assert usage.returncode == 2 and "Identifier" in usage.stderr


def test_runner_skips_hidden_folders_and_node_modules(tmp_path: Path) -> None:
    """Rule folders under .git or node_modules (a built tooling checkout) are not taken for rules."""
    write_rule_folder(tmp_path, make_rule(), {"t.json": {"payload": payload(), "external": {}, "expected": True}})
    write_rule_folder(tmp_path / "tooling" / "node_modules", make_rule("VR-XX-0009", Logic=False),
                      {"t.json": {"payload": payload(), "external": {}, "expected": True}})
    write_rule_folder(tmp_path / ".git", make_rule("VR-XX-0008", Logic=False),
                      {"t.json": {"payload": payload(), "external": {}, "expected": True}})
    report = run_rule_tests([tmp_path])
    assert report.ok and [r.rule for r in report.results] == ["VR-XX-0001"]


def test_deeply_nested_rules_are_errors_not_crashes(tmp_path: Path) -> None:
    """A hostile, deeply nested Logic is a format error when loaded, a disagreement when tested."""
    deep = "[" * 100_000 + "]" * 100_000
    text = json.dumps(make_rule()).replace('"Logic": {', '"Logic": {"x": ' + deep + ', "y": {', 1)
    with pytest.raises(RuleFormatError, match="nested too deeply"):
        RuleSet.from_json(text)
    logic: Any = True
    for _ in range(3000):
        logic = {"!": [logic]}
    with pytest.raises(RuleFormatError, match="nested too deeply"):
        Rule.from_json(make_rule(Logic=logic))
    nested = json.dumps(make_rule()).replace('"Logic": {', '"Logic": ' + '{"!": [' * 3000 + "true" + "]}" * 3000
                                             + ', "Unused": {', 1)
    for name, rule_text in (("VR-XX-0001", text), ("VR-XX-0002", nested)):
        folder = tmp_path / "XX" / name
        (folder / "tests").mkdir(parents=True)
        (folder / "rule.json").write_text(rule_text)
        (folder / "tests" / "t.json").write_text(json.dumps({"payload": payload(), "expected": True}))
    result = run("rules", "test", str(tmp_path), "--format", "json")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert all(not json.loads(line)["agree"] for line in result.stdout.splitlines())
