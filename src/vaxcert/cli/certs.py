"""``vaxcert issue``, ``vaxcert verify`` and ``vaxcert qr``."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click

from .. import InputError, VerificationResult, issue, render_terminal, save_qr, verify_image
from ._common import EXIT_INVALID, EXIT_OK, parse_time, read_file_arg, read_text_arg
from ._context import load_signer, load_verifier, verification_options


def _json_document(data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError("input", f"not valid JSON ({type(exc).__name__})") from None


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
@click.argument("source", default="-")
def issue_cmd(key_path: Path | None, hsm_key: str | None, cert_path: Path, valid_days: int, at: str | None,
              qr_out: Path | None, source: str) -> None:
    """Sign SOURCE (a vaxcert dose record or a DCC JSON payload; '-' = stdin); print the HC1 string.

    A dose record is signed only by the key of the facility that gave its last dose, or a ministry key.
    """
    signer = load_signer(key_path, cert_path, hsm_key, key_option="--key")
    now = parse_time(at)
    document = _json_document(read_file_arg(source))
    if not isinstance(document, dict):
        raise InputError("input", "must be a JSON object")
    cert = issue(document, signer, now=now, validity=dt.timedelta(days=valid_days))
    if qr_out is not None:
        save_qr(cert.hc1, qr_out)
    click.echo(cert.hc1)


def _text_line(result: VerificationResult) -> str:
    if result.valid:
        return (f"VALID type={result.cert_type} kid={result.kid.hex() if result.kid else '-'} "
                f"issuer={result.issuer_country} issued_at={_fmt(result.issued_at)} "
                f"expires_at={_fmt(result.expires_at)}")
    return f"INVALID code={result.code} stage={result.stage} reason={result.reason}"


def _fmt(moment: dt.datetime | None) -> str:
    return moment.isoformat().replace("+00:00", "Z") if moment else "-"


@click.command("verify")
@verification_options
@click.option("--at", "at", default=None, help="Validation time (ISO 8601); default now.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--show-payload", is_flag=True, help="Also print the certificate contents (personal data).")
@click.option("--image", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Read the QR code from an image instead of an HC1 argument.")
@click.argument("hc1", required=False)
def verify_cmd(trust_paths: tuple[Path, ...], bundle: Path | None, csca: tuple[Path, ...],
               revocation: tuple[Path, ...], strict: bool, at: str | None, fmt: str, show_payload: bool,
               image: Path | None, hc1: str | None) -> None:
    """Verify HC1 (or '-' for stdin, or --image FILE).  Exit 0 valid, 1 invalid, 2 usage error."""
    now = parse_time(at)
    if image is None and hc1 is None:
        raise click.UsageError("give an HC1 string, '-' for stdin, or --image FILE")
    verifier = load_verifier(trust_paths, bundle, csca, revocation, now, strict=strict)
    if image is not None:
        result = verify_image(image, verifier, now=now)
    else:
        assert hc1 is not None
        result = verifier.verify(read_text_arg(hc1), now=now)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(show_payload=show_payload), ensure_ascii=False))
    else:
        click.echo(_text_line(result))
        for warning in result.warnings:
            click.echo(f"warning: {warning}")
        if show_payload and result.payload is not None:
            click.echo(json.dumps(result.payload, ensure_ascii=False, indent=2))
    sys.exit(EXIT_OK if result.valid else EXIT_INVALID)


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
