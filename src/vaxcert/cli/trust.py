"""``vaxcert trust publish|import|show|verify``: signed trust lists and the DCCG JSON format."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click

from .. import (
    DocumentError,
    LoadedTrustList,
    TrustedSigner,
    certificate_pem,
    dccg_kid,
    export_dccg,
    facility_id_of,
    load_certificate_file,
    load_private_key,
    load_trust_source,
    pem_from_der,
    publish,
    read_unverified,
    sniff,
)
from ._common import EXIT_INVALID, EXIT_OK, key_password, parse_time
from ._context import load_certificate_files, load_csca, load_signer, max_list_days_option, signer_options

CSCA_OPTION = click.option("--csca", "csca", multiple=True,
                           type=click.Path(dir_okay=False, exists=True, path_type=Path),
                           help="Trusted CSCA certificate (repeatable).")
UPLOAD_OPTION = click.option("--upload", "upload", multiple=True,
                             type=click.Path(dir_okay=False, exists=True, path_type=Path),
                             help="Trusted DCCG upload certificate (repeatable); checks item signatures.")
AT_OPTION = click.option("--at", "at", default=None, help="Time of the check (ISO 8601); default now.")
FORMAT_OPTION = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                             show_default=True)


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if moment else None


def _entry(signer: TrustedSigner) -> dict[str, Any]:
    facility = facility_id_of(signer.certificate) if signer.certificate is not None else None
    return {
        "kid": signer.kid.hex(),
        "kid_b64": dccg_kid(signer.der),
        "country": signer.country,
        "types": "".join(sorted(signer.types)),
        "facility": facility,
        "subject": signer.subject,
        "not_before": _iso(signer.not_before),
        "not_after": _iso(signer.not_after),
    }


def _summary(source: LoadedTrustList) -> dict[str, Any]:
    document = source.document
    return {
        "kind": source.kind,
        "signers": len(source),
        "rejected": [{"kid": r.kid, "reason": r.reason} for r in source.rejected],
        "sequence": document.sequence if document else None,
        "issued_at": _iso(document.issued_at) if document else None,
        "expires_at": _iso(document.expires_at) if document else None,
        "list_signer": document.signer.subject.rfc4514_string() if document else None,
    }


def _write(out: Path, data: bytes) -> None:
    temporary = out.with_name(f".{out.name}.tmp")
    temporary.write_bytes(data)
    temporary.replace(out)


@click.group("trust")
def trust() -> None:
    """Publish, import, show and check trust lists (signed vaxcert lists, DCCG JSON, PEM folders)."""


@trust.command("publish")
@click.argument("dscs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["vaxcert", "dccg"]), default="vaxcert", show_default=True,
              help="A signed vaxcert list, or DCCG trust-list JSON signed with an upload certificate.")
@signer_options
@CSCA_OPTION
@click.option("--valid-days", type=click.FloatRange(min=0.01, max=3650), default=7.0, show_default=True,
              help="Freshness limit of the signed list.")
@click.option("--sequence", type=click.IntRange(min=0), default=None,
              help="Sequence number [default: the issue time in epoch seconds].")
@click.option("--upload-key", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="DCCG: the upload certificate's encrypted key.")
@click.option("--upload-cert", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="DCCG: the country's upload certificate.")
@AT_OPTION
@max_list_days_option
def publish_cmd(dscs: tuple[Path, ...], out: Path, fmt: str, signer_key: Path | None, signer_cert: Path | None,
                hsm_key: str | None, csca: tuple[Path, ...], valid_days: float, sequence: int | None,
                upload_key: Path | None, upload_cert: Path | None, at: str | None, max_list_days: float) -> None:
    """Publish the DSCs in DSCS (files or folders) as a signed list or as DCCG JSON.

    Every DSC must chain to the CSCA (--csca, or the signer certificate when it is the CSCA).
    """
    now = parse_time(at)
    blobs: list[bytes] = []
    for path in dscs:
        blobs.extend(s.der for s in load_trust_source(path, cscas=None, now=now))
    if fmt == "dccg":
        if upload_key is None or upload_cert is None:
            raise click.UsageError("--format dccg needs --upload-key and --upload-cert")
        cert = load_certificate_file(upload_cert)[0]
        key = load_private_key(upload_key, key_password())
        items = export_dccg(blobs, upload_cert=cert, upload_key=key, now=now, cscas=load_csca(csca))
        _write(out, (json.dumps(items, indent=1) + "\n").encode())
        click.echo(f"wrote {out}: {len(items)} DSC items (DCCG JSON)")
        return
    signer = load_signer(signer_key, signer_cert, hsm_key)
    anchors = load_csca(csca) or [signer.certificate]
    data = publish(blobs, signer, cscas=anchors, now=now, valid_for=dt.timedelta(days=valid_days),
                   sequence=sequence, max_lifetime=dt.timedelta(days=max_list_days))
    _write(out, data)
    click.echo(f"wrote {out}: {len(set(blobs))} DSCs, valid until "
               f"{_iso(now + dt.timedelta(days=valid_days))}")


@trust.command("import")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the accepted DSCs into (one <kid>.pem each).")
@CSCA_OPTION
@UPLOAD_OPTION
@AT_OPTION
def import_cmd(source: Path, out: Path, csca: tuple[Path, ...], upload: tuple[Path, ...], at: str | None) -> None:
    """Check SOURCE (signed list, DCCG JSON or PEM) against the CSCAs and write the good DSCs to OUT."""
    anchors = load_csca(csca)
    if anchors is None:
        raise click.UsageError("give --csca: imported DSCs must chain to a trusted CSCA")
    now = parse_time(at)
    loaded = load_trust_source(source, cscas=anchors, now=now, upload_certs=load_certificate_files(upload))
    if loaded.kind == "dccg" and not upload:
        click.echo("note: upload signatures not checked (no --upload); DSCs were chain-checked", err=True)
    out.mkdir(parents=True, exist_ok=True)
    for signer in loaded:
        pem = certificate_pem(signer.certificate) if signer.certificate is not None else pem_from_der(signer.der)
        (out / f"{signer.kid.hex()}.pem").write_bytes(pem)
    for rejected in loaded.rejected:
        click.echo(f"rejected kid={rejected.kid}: {rejected.reason}", err=True)
    click.echo(f"imported {len(loaded)} DSCs into {out}; rejected {len(loaded.rejected)}")


@trust.command("show")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@CSCA_OPTION
@AT_OPTION
@FORMAT_OPTION
def show_cmd(source: Path, csca: tuple[Path, ...], at: str | None, fmt: str) -> None:
    """Show the DSCs in SOURCE.  Without --csca a signed list is shown UNCHECKED."""
    now = parse_time(at)
    anchors = load_csca(csca)
    checked = True
    if source.is_file() and sniff(source.read_bytes()) == "signed" and anchors is None:
        body = read_unverified(source.read_bytes())
        raw = body.get("dsc")
        blobs = raw if isinstance(raw, list) else []
        signers = [TrustedSigner.from_der(b) for b in blobs if isinstance(b, bytes)]
        summary: dict[str, Any] = {
            "kind": "signed", "signers": len(signers), "rejected": [],
            "sequence": body.get("seq"), "issued_at": _epoch_iso(body.get("iat")),
            "expires_at": _epoch_iso(body.get("exp")), "list_signer": None,
        }
        checked = False
    else:
        loaded = load_trust_source(source, cscas=anchors, now=now)
        signers = list(loaded)
        summary = _summary(loaded)
    summary["checked"] = checked
    summary["entries"] = [_entry(s) for s in signers]
    if fmt == "json":
        click.echo(json.dumps(summary, ensure_ascii=False, indent=1))
        return
    head = [f"{summary['kind']} list: {summary['signers']} DSCs"]
    if summary["sequence"] is not None:
        head.append(f"seq={summary['sequence']} issued={summary['issued_at']} expires={summary['expires_at']}")
    head.append("signature checked" if checked else "SIGNATURE NOT CHECKED (give --csca)")
    click.echo("; ".join(head))
    for entry in summary["entries"]:
        click.echo(f"  {entry['kid']} {entry['country'] or '--'} types={entry['types']} "
                   f"{entry['not_before']}..{entry['not_after']} {entry['subject']}")
    for rejected in summary["rejected"]:
        click.echo(f"  rejected {rejected['kid']}: {rejected['reason']}")


def _epoch_iso(value: object) -> str | None:
    if type(value) is not int:
        return None
    try:
        return _iso(dt.datetime.fromtimestamp(value, dt.UTC))
    except (OverflowError, OSError, ValueError):
        return None


@trust.command("verify")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@CSCA_OPTION
@UPLOAD_OPTION
@AT_OPTION
@click.option("--min-sequence", type=click.IntRange(min=0), default=0, help="Refuse older lists (rollback).")
@FORMAT_OPTION
@max_list_days_option
def verify_cmd(source: Path, csca: tuple[Path, ...], upload: tuple[Path, ...], at: str | None,
               min_sequence: int, fmt: str, max_list_days: float) -> None:
    """Check SOURCE: signature, expiry and every DSC's chain.  Exit 0 good, 1 not, 2 usage error."""
    anchors = load_csca(csca)
    if anchors is None:
        raise click.UsageError("give --csca: a trust list is checked against the CSCA")
    now = parse_time(at)
    try:
        loaded = load_trust_source(source, cscas=anchors, now=now, upload_certs=load_certificate_files(upload),
                                   min_sequence=min_sequence, max_lifetime=dt.timedelta(days=max_list_days))
    except DocumentError as exc:
        _verdict(fmt, {"valid": False, "code": str(exc.code), "reason": exc.message})
        sys.exit(EXIT_INVALID)
    summary = _summary(loaded)
    problem = loaded.problem(now)
    if problem is not None:
        verdict = {"valid": False, "code": str(problem), "reason": "list past its freshness limit", **summary}
    elif loaded.rejected:
        verdict = {"valid": False, "code": "DSC_CHAIN_INVALID",
                   "reason": f"{len(loaded.rejected)} certificates rejected", **summary}
    else:
        verdict = {"valid": True, "code": "OK", "reason": "valid", **summary}
    _verdict(fmt, verdict)
    sys.exit(EXIT_OK if verdict["valid"] else EXIT_INVALID)


def _verdict(fmt: str, verdict: dict[str, Any]) -> None:
    if fmt == "json":
        click.echo(json.dumps(verdict, ensure_ascii=False))
        return
    if verdict["valid"]:
        line = f"VALID kind={verdict['kind']} signers={verdict['signers']}"
    else:
        line = f"INVALID code={verdict['code']} reason={verdict['reason']}"
    if verdict.get("sequence") is not None:
        line += f" seq={verdict['sequence']} issued_at={verdict['issued_at']} expires_at={verdict['expires_at']}"
    click.echo(line)
    for rejected in verdict.get("rejected", []):
        click.echo(f"  rejected {rejected['kid']}: {rejected['reason']}")
