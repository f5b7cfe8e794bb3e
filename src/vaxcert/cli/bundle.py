"""``vaxcert bundle build|verify``: the signed offline bundle for checkpoint devices."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click

from .. import (
    ConfigurationError,
    DocumentError,
    RuleBook,
    ShcTrust,
    ValueSets,
    build_bundle,
    bundle_rules,
    bundle_shc_trust,
    load_bundle,
)
from ._common import EXIT_INVALID, EXIT_OK, parse_time
from ._context import load_csca, load_signer, max_list_days_option, signer_options


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if moment else None


@click.group("bundle")
def bundle() -> None:
    """Build and check the offline bundle (trust list, revocation lists, value sets, business rules,
    SMART Health Card issuers)."""


@bundle.command("build")
@click.option("--trust-list", "trust_list", required=True,
              type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="A signed trust list ('vaxcert trust publish').")
@click.option("--revocation", "revocation", multiple=True,
              type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="A signed revocation list (repeatable).")
@click.option("--valuesets", "valuesets", default=None, type=click.Path(exists=True, path_type=Path),
              help="Value sets (a vaxcert snapshot file or a folder of EU files) [default: the bundled snapshot].")
@click.option("--no-valuesets", is_flag=True, help="Leave value sets out.")
@click.option("--rules", "rule_paths", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Business rules: EU gateway rule files or folders (e.g. <COUNTRY>/<RULE-ID>/rule.json), "
                   "pass rule sets (vaxcert-pass-rules/1) (repeatable).")
@click.option("--vn-pass", "vn_pass", is_flag=True,
              help="Add Viet Nam's default pass as rules, shipped with vaxcert (national and HCM variant).")
@click.option("--shc-issuers", "shc_issuers", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Trusted SMART Health Card issuers: {iss, keys} JSON files, folders of them, or a VCI "
                   "directory snapshot (repeatable).")
@signer_options
@click.option("--csca", "csca", multiple=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="CSCA the parts must be signed by [default: the signer certificate].")
@click.option("--fresh-hours", type=click.FloatRange(min=0.01, max=24 * 365), default=24.0, show_default=True,
              help="Freshness limit: how long a device may use the bundle without a refresh.")
@click.option("--sequence", type=click.IntRange(min=0), default=None,
              help="Sequence number [default: the issue time in epoch seconds].")
@click.option("--at", "at", default=None, help="Issue time (ISO 8601); default now.")
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@max_list_days_option
def build_cmd(trust_list: Path, revocation: tuple[Path, ...], valuesets: Path | None, no_valuesets: bool,
              rule_paths: tuple[Path, ...], vn_pass: bool, shc_issuers: tuple[Path, ...],
              signer_key: Path | None, signer_cert: Path | None, hsm_key: str | None, csca: tuple[Path, ...],
              fresh_hours: float, sequence: int | None, at: str | None, out: Path, max_list_days: float) -> None:
    """Sign one bundle file from already signed parts (each is checked first), business rules and
    SMART Health Card issuers (checked: every rule's logic is valid CertLogic, every issuer key is sound)."""
    rules = RuleBook.load(*rule_paths) if rule_paths else RuleBook()
    if vn_pass:
        bundled = RuleBook.bundled()
        rules = RuleBook(rules.rules + bundled.rules, (*rules.passes, *bundled.passes))
    problems = rules.problems()
    if problems:
        raise ConfigurationError(f"rules not bundled: {problems[0]}" + (
            f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""))
    shc = ShcTrust.from_paths(shc_issuers) if shc_issuers else None
    signer = load_signer(signer_key, signer_cert, hsm_key)
    now = parse_time(at)
    anchors = load_csca(csca) or [signer.certificate]
    vs = None if no_valuesets else (ValueSets.load(valuesets) if valuesets is not None else ValueSets.bundled())
    data = build_bundle(
        signer,
        trust_list=trust_list.read_bytes(),
        revocation=[p.read_bytes() for p in revocation],
        valuesets=vs,
        now=now,
        fresh_for=dt.timedelta(hours=fresh_hours),
        sequence=sequence,
        cscas=anchors,
        rules=rules.to_bytes() if rules else None,
        shc_issuers=shc.to_json() if shc is not None else None,
        max_lifetime=dt.timedelta(days=max_list_days),
    )
    temporary = out.with_name(f".{out.name}.tmp")
    temporary.write_bytes(data)
    temporary.replace(out)
    extra = f", {len(rules)} rules" if rules else ""
    extra += f", {len(shc)} SMART Health Card issuers" if shc is not None else ""
    click.echo(f"wrote {out}: {len(data)} bytes{extra}, fresh until {_iso(now + dt.timedelta(hours=fresh_hours))}")


@bundle.command("verify")
@click.argument("source", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--csca", "csca", multiple=True, required=True,
              type=click.Path(dir_okay=False, exists=True, path_type=Path), help="Trusted CSCA certificate.")
@click.option("--min-sequence", type=click.IntRange(min=0), default=0, help="Refuse older bundles (rollback).")
@click.option("--at", "at", default=None, help="Time of the check (ISO 8601); default now.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@max_list_days_option
def verify_cmd(source: Path, csca: tuple[Path, ...], min_sequence: int, at: str | None, fmt: str,
               max_list_days: float) -> None:
    """Check a bundle: signatures of it and of its parts, freshness.  Exit 0 usable, 1 not."""
    now = parse_time(at)
    anchors = load_csca(csca) or []
    try:
        loaded = load_bundle(source, anchors, now, min_sequence=min_sequence,
                             max_lifetime=dt.timedelta(days=max_list_days))
        rules = bundle_rules(loaded)
        shc = bundle_shc_trust(loaded)
    except DocumentError as exc:
        verdict: dict[str, Any] = {"valid": False, "code": str(exc.code), "reason": exc.message}
    else:
        problem = loaded.problem(now)
        verdict = {
            "valid": problem is None,
            "code": str(problem) if problem else "OK",
            "reason": "past its freshness limit" if problem else "usable",
            "sequence": loaded.sequence,
            "issued_at": _iso(loaded.issued_at),
            "fresh_until": _iso(loaded.expires_at),
            "trust_list_expires_at": _iso(loaded.trust.trust.expires_at),
            "signers": len(loaded.trust.trust),
            "rejected": [{"kid": r.kid, "reason": r.reason} for r in loaded.trust.trust.rejected],
            "revocation_lists": len(loaded.revocation.lists),
            "revocation_entries": len(loaded.revocation),
            "valuesets": list(loaded.valuesets.names()) if loaded.valuesets is not None else None,
            "rules": len(rules.rules),
            "pass_rules": [f"{p.name} {p.country}" for p in rules.passes],
            "rule_countries": list(rules.countries()),
            "shc_issuers": sorted(shc.issuers) if shc is not None else [],
        }
    if fmt == "json":
        click.echo(json.dumps(verdict))
    elif verdict["valid"]:
        click.echo(f"VALID seq={verdict['sequence']} issued_at={verdict['issued_at']} "
                   f"fresh_until={verdict['fresh_until']} signers={verdict['signers']} "
                   f"revocation_entries={verdict['revocation_entries']} rules={verdict['rules']} "
                   f"pass_rules={len(verdict['pass_rules'])} shc_issuers={len(verdict['shc_issuers'])}")
    else:
        click.echo(f"INVALID code={verdict['code']} reason={verdict['reason']}")
    sys.exit(EXIT_OK if verdict["valid"] else EXIT_INVALID)
