"""``vaxcert issue``, ``vaxcert verify`` and ``vaxcert qr``."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import click

from .. import (
    InputError,
    Pass,
    RulesVerdict,
    VerificationResult,
    dump_json,
    issue,
    load_json,
    render_terminal,
    save_qr,
    verify_image,
)
from ._common import EXIT_INVALID, EXIT_OK, parse_time, read_file_arg, read_text_arg
from ._context import load_signer, load_verification, rules_options, verification_options
from ._messages import lang_option, language, text, translate


def _json_document(data: bytes) -> Any:
    return load_json(data, what="input")


@click.command("issue")
@click.option("--key", "key_path", default=None, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The DSC's encrypted private key (password in VAXCERT_KEY_PASSWORD).")
@click.option("--hsm-key", "hsm_key", default=None, metavar="LABEL",
              help="Sign with this HSM key instead of --key (VAXCERT_PKCS11_MODULE, _HSM_TOKEN, _HSM_PIN).")
@click.option("--cert", "cert_path", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The Document Signer Certificate.")
@click.option("--valid-days", type=click.IntRange(1, 3650), default=365, show_default=True)
@click.option("--at", "at", default=None, help="Issuing time (ISO 8601); default now.")
@click.option("--qr", "qr_out", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the QR code to this .png or .svg file.")
@click.option("--facility-override", is_flag=True,
              help="Let a facility's key sign a plain DCC payload (it names no facility to check); logged.")
@click.argument("source", default="-")
def issue_cmd(key_path: Path | None, hsm_key: str | None, cert_path: Path, valid_days: int, at: str | None,
              qr_out: Path | None, facility_override: bool, source: str) -> None:
    """Sign SOURCE (a vaxcert dose record or a DCC JSON payload; '-' = stdin); print the HC1 string.

    A dose record is signed only by the key of the facility that gave its last dose, or a ministry key.
    A plain DCC payload needs a ministry key, or a facility key with --facility-override (logged).
    """
    signer = load_signer(key_path, cert_path, hsm_key, key_option="--key")
    now = parse_time(at)
    document = _json_document(read_file_arg(source))
    if not isinstance(document, dict):
        raise InputError("input", "must be a JSON object")
    cert = issue(document, signer, now=now, validity=dt.timedelta(days=valid_days),
                 facility_override=facility_override)
    if qr_out is not None:
        save_qr(cert.hc1, qr_out)
    click.echo(cert.hc1)


def _text_line(result: VerificationResult) -> str:
    """One line: VALID and the certificate's facts, or INVALID with code, stage and reason (in --lang)."""
    if result.valid:
        issuer = f" iss={result.iss}" if result.iss else ""
        return (f"{text('verify.valid')} format={result.format} type={result.cert_type} kid={result.key_id or '-'} "
                f"issuer={result.issuer_country}{issuer} issued_at={_fmt(result.issued_at)} "
                f"expires_at={_fmt(result.expires_at)}")
    # English keeps the verifier's own (more detailed) reason; other languages say what the code means.
    reason = result.reason if language() == "en" else text(f"failure.{result.code}")
    return f"{text('verify.invalid')} format={result.format} code={result.code} stage={result.stage} reason={reason}"


def rules_lines(verdict: RulesVerdict, lang: str) -> list[str]:
    """The rules' verdict as text lines: the colour and reason, then each rule that did not pass."""
    where = verdict.country + (f"/{verdict.region}" if verdict.region else "")
    colour = f"{verdict.colour} {verdict.reason}" if verdict.colour is not None else text("verify.no_pass_rules")
    lines = [text("verify.rules", where=where, verdict=colour)]
    lines.extend(f"  {r.outcome} {r.identifier}: {r.description(lang)}" for r in verdict.failed)
    return lines


def _fmt(moment: dt.datetime | None) -> str:
    return moment.isoformat().replace("+00:00", "Z") if moment else "-"


@click.command("verify")
@verification_options
@rules_options
@lang_option("en")
@click.option("--at", "at", default=None, help="Validation time (ISO 8601); default now.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--show-payload", is_flag=True, help="Also print the certificate contents (personal data).")
@click.option("--image", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Read the QR code(s) from an image instead of an argument.")
@click.option("--file", "card_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="A .smart-health-card file (one result per card), or a text file holding a code.")
@click.argument("codes", nargs=-1)
def verify_cmd(trust_paths: tuple[Path, ...], bundle: Path | None, csca: tuple[Path, ...],
               revocation: tuple[Path, ...], shc_issuers: tuple[Path, ...], rule_paths: tuple[Path, ...],
               strict: bool, country: str, region: str | None, lang: str, at: str | None, fmt: str,
               show_payload: bool, image: Path | None, card_file: Path | None, codes: tuple[str, ...]) -> None:
    """Verify a certificate: HC1:... or shc:/... (several shc:/C/N/ chunks of one card as several
    arguments), '-' for stdin, --image FILE or --file CARD.

    With business rules (in the --bundle, or --rules) they are evaluated for --country/--region and
    each rule that did not pass is listed.  Exit 0 valid (and not refused by the rules), 1 invalid or
    refused, 2 usage error.
    """
    now = parse_time(at)
    if sum((image is not None, card_file is not None, bool(codes))) != 1:
        raise click.UsageError(text("verify.need_input"))
    loaded = load_verification(trust_paths, bundle, csca, revocation, now, shc_issuers=shc_issuers,
                               rules=rule_paths, strict=strict)
    verifier = loaded.verifier
    if image is not None:
        results: tuple[VerificationResult, ...] = (verify_image(image, verifier, now=now),)
    elif card_file is not None:
        results = verifier.verify_all(read_file_arg(str(card_file)), now=now)
    elif len(codes) == 1:
        results = verifier.verify_all(read_text_arg(codes[0]), now=now)
    else:
        results = (verifier.verify([c.strip() for c in codes], now=now),)
    checkpoint = loaded.country_rules(country, region)
    ok = True
    for result in results:
        verdict = checkpoint.evaluate(result, now=now) if checkpoint is not None else None
        ok = ok and result.valid and (verdict is None or verdict.colour is not Pass.RED)
        if fmt == "json":
            out = result.to_dict(show_payload=show_payload)
            if verdict is not None:
                out["rules"] = verdict.to_dict(lang)
            click.echo(dump_json(out, ensure_ascii=False))
            continue
        click.echo(_text_line(result))
        for warning in result.warnings:
            click.echo(text("cli.warning", detail=translate(warning)))
        if verdict is not None:
            for line in rules_lines(verdict, lang):
                click.echo(line)
        if show_payload and result.payload is not None:
            shown = result.to_dict(show_payload=True)
            click.echo(dump_json({k: shown[k] for k in ("payload", "holder", "events")}, ensure_ascii=False,
                                 indent=2))
    sys.exit(EXIT_OK if ok else EXIT_INVALID)


@click.command("qr")
@click.argument("hc1", default="-")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write a .png or .svg file; without it, preview in the terminal.")
@click.option("--size-mm", type=click.FloatRange(5, 500), default=None, help="Printed size (side) in mm.")
@click.option("--dpi", type=click.IntRange(72, 2400), default=300, show_default=True)
@click.option("--scale", type=click.IntRange(1, 100), default=None, help="Pixels per module.")
def qr_cmd(hc1: str, output: Path | None, size_mm: float | None, dpi: int, scale: int | None) -> None:
    """Render HC1 (or '-' for stdin) as a QR code (error correction Q, alphanumeric mode)."""
    text = read_text_arg(hc1)
    if output is None:
        click.echo(render_terminal(text))
        return
    save_qr(text, output, scale=scale, size_mm=size_mm, dpi=dpi)
    click.echo(f"wrote {output}")
