"""``vaxcert issue``, ``vaxcert verify`` and ``vaxcert qr``."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from ..codes import FailureCode, Stage
from ..errors import InputError
from ..issuer import Issuer
from ..pki.keys import Signer
from ..verifier import VerificationResult
from ._common import EXIT_INVALID, EXIT_OK, parse_time, read_file_arg, read_text_arg
from ._context import verification_options

RECORD_FORMAT_PREFIX = "vaxcert.dose-record/"


def load_issue_input(data: bytes, *, signer: Signer, now: dt.datetime) -> Mapping[str, Any]:
    """A DCC payload from either a vaxcert dose record or a plain DCC JSON payload.

    A dose record is refused unless the signer may sign for its last dose's facility
    (:func:`vaxcert.pki.authority.check_facility`).
    """
    from ..dcc import payload as payload_mod
    from ..dcc.model import DoseRecord
    from ..pki.authority import check_facility
    from ..pki.certificates import country_of, subject_summary

    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError("input", f"not valid JSON ({type(exc).__name__})") from None
    if not isinstance(document, dict):
        raise InputError("input", "must be a JSON object")
    if str(document.get("format", "")).startswith(RECORD_FORMAT_PREFIX):
        from ..dcc.uvci import generate as new_uvci

        record = DoseRecord.from_json(document)
        check_facility(record, signer.certificate)
        country = country_of(signer.certificate) or "VN"
        issuer_name = _issuer_name(signer) or subject_summary(signer.certificate)
        return payload_mod.payload_from_record(record, ci=new_uvci(country), issuer=issuer_name, now=now)
    return document


def _issuer_name(signer: Signer) -> str | None:
    from cryptography.x509.oid import NameOID

    attrs = signer.certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return str(attrs[0].value) if attrs else None


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
    """Sign SOURCE (a vaxcert dose record or a DCC JSON payload; '-' = stdin); print the HC1 string."""
    from ._context import load_signer

    signer = load_signer(key_path, cert_path, hsm_key, key_option="--key")
    now = parse_time(at)
    payload = load_issue_input(read_file_arg(source), signer=signer, now=now)
    cert = Issuer(signer).issue(payload, now=now, validity=dt.timedelta(days=valid_days))
    if qr_out is not None:
        from .. import qr

        qr.save(cert.hc1, qr_out)
    click.echo(cert.hc1)


def _text_line(result: VerificationResult) -> str:
    if result.valid:
        return (f"VALID type={result.cert_type} kid={result.kid.hex() if result.kid else '-'} "
                f"issuer={result.issuer_country} issued_at={_fmt(result.issued_at)} "
                f"expires_at={_fmt(result.expires_at)}")
    return f"INVALID code={result.code} stage={result.stage} reason={result.reason}"


def _fmt(moment: dt.datetime | None) -> str:
    return moment.isoformat().replace("+00:00", "Z") if moment else "-"


def _image_input(image: Path) -> tuple[str | None, VerificationResult | None]:
    """The HC1 text found in an image, or a ready failure result."""
    from .. import qr

    try:
        codes = qr.decode_file(image)
    except Exception:
        return None, VerificationResult(False, FailureCode.IMAGE_UNREADABLE, Stage.IMAGE, "image unreadable")
    if not codes:
        return None, VerificationResult(False, FailureCode.NO_QR_FOUND, Stage.IMAGE, "no QR code found")
    for code in codes:
        if code.text.startswith("HC1:"):
            if not code.alphanumeric:
                return None, VerificationResult(False, FailureCode.QR_NOT_ALPHANUMERIC, Stage.IMAGE,
                                                "QR code not in alphanumeric mode")
            return code.text, None
    return None, VerificationResult(False, FailureCode.NOT_A_CERTIFICATE, Stage.PREFIX,
                                    "QR code is not a health certificate")


@click.command("verify")
@verification_options
@click.option("--at", "at", default=None, help="Validation time (ISO 8601); default now.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--show-payload", is_flag=True, help="Also print the certificate contents (personal data).")
@click.option("--image", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Read the QR code from an image instead of an HC1 argument.")
@click.argument("hc1", required=False)
def verify_cmd(trust_paths: tuple[Path, ...], bundle: Path | None, csca: tuple[Path, ...],
               revocation: tuple[Path, ...], at: str | None, fmt: str, show_payload: bool,
               image: Path | None, hc1: str | None) -> None:
    """Verify HC1 (or '-' for stdin, or --image FILE).  Exit 0 valid, 1 invalid, 2 usage error."""
    from ._context import load_verifier

    now = parse_time(at)
    verifier = load_verifier(trust_paths, bundle, csca, revocation, now)
    if image is not None:
        text, failure = _image_input(image)
    elif hc1 is None:
        raise click.UsageError("give an HC1 string, '-' for stdin, or --image FILE")
    else:
        text, failure = read_text_arg(hc1), None
    result = failure if failure is not None else verifier.verify(
        text or "", now=now)
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
    from .. import qr

    text = read_text_arg(hc1)
    if output is None:
        click.echo(qr.render_terminal(text))
        return
    qr.save(text, output, scale=scale, size_mm=size_mm, dpi=dpi)
    click.echo(f"wrote {output}")
