"""``vaxcert keys``: a ministry CSCA and facility Document Signer Certificates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from .. import (
    ConfigurationError,
    PrivateKey,
    PublicKey,
    allowed_types,
    certificate_pem,
    create_csca,
    create_dsc,
    create_list_signer,
    csr_public_key,
    facility_id_of,
    generate_private_key,
    is_ministry_signer,
    load_certificate_file,
    load_private_key,
    save_private_key,
)
from ..registry import HSM_LABEL_FILE
from ._common import key_password, parse_time, read_file_arg
from ._context import hsm_token

ALGORITHMS = click.Choice(["ec", "rsa2048", "rsa3072"])
#: PS256 in the DCC specification is RSA-2048; a larger document signer key is valid RSA-PSS, but
#: verifiers built for the specification may refuse it (docs/interop.md). A CSCA signs only
#: certificates and trust lists, which DCC verifiers do not check with a fixed size: no warning.
RSA3072_WARNING = ("warning: a PS256 document signer with an RSA-3072 key is outside the DCC specification "
                   "(PS256 with RSA-2048); some verifiers refuse its certificates. Use ec (ES256, recommended) "
                   "or rsa2048 for certificates every EU verifier reads.")


def _prepare_out(out: Path, names: list[str], force: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    existing = [n for n in names if (out / n).exists()]
    if existing and not force:
        raise ConfigurationError(f"{out}: {', '.join(existing)} already exist (use --force to replace)")


@click.group()
def keys() -> None:
    """Create ministry (CSCA) and facility (DSC) keys and certificates."""


@keys.command("init-ministry")
@click.option("--country", required=True, help="ISO 3166-1 alpha-2 country code, e.g. VN.")
@click.option("--name", default=None, help="Ministry name (default: 'Ministry of Health <COUNTRY>').")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--algorithm", type=ALGORITHMS, default="ec", show_default=True)
@click.option("--valid-days", type=click.IntRange(1, 36500), default=3650, show_default=True)
@click.option("--at", "at", default=None, help="Start of validity (ISO 8601); default now.")
@click.option("--force", is_flag=True, help="Replace existing files.")
def init_ministry(country: str, name: str | None, out: Path, algorithm: str, valid_days: int, at: str | None,
                  force: bool) -> None:
    """Create the ministry CSCA: OUT/csca.pem and the encrypted key OUT/csca.key.pem.

    The key password is read from VAXCERT_KEY_PASSWORD.
    """
    password = key_password()
    _prepare_out(out, ["csca.pem", "csca.key.pem"], force)
    key = generate_private_key(algorithm)  # type: ignore[arg-type]
    now = parse_time(at)
    cert = create_csca(key, country=country.upper(), name=name or f"Ministry of Health {country.upper()}",
                       now=now, valid_days=valid_days)
    save_private_key(key, out / "csca.key.pem", password)
    (out / "csca.pem").write_bytes(certificate_pem(cert))
    click.echo(f"wrote {out / 'csca.pem'} and {out / 'csca.key.pem'}")


@keys.command("issue-dsc")
@click.option("--ministry", required=True, type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Directory holding csca.pem and csca.key.pem.")
@click.option("--facility-id", default=None, help="Facility identifier, e.g. VN-HN-001.")
@click.option("--name", required=True, help="Facility name.")
@click.option("--types", default="v,t,r", show_default=True, help="Certificate types this DSC may sign.")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--algorithm", type=ALGORITHMS, default="ec", show_default=True,
              help="ec = ES256 (P-256); rsa2048 = PS256 as the DCC specification has it; rsa3072 works with "
                   "vaxcert but some verifiers refuse it (a warning is printed).")
@click.option("--valid-days", type=click.IntRange(1, 36500), default=None,
              help="Validity in days [default: 730, or --signing-days plus --max-cert-days].")
@click.option("--signing-days", type=click.IntRange(1, 36500), default=None,
              help="Signing period in days (PrivateKeyUsagePeriod); the key may sign only within it.")
@click.option("--max-cert-days", type=click.IntRange(1, 3650), default=365, show_default=True,
              help="Longest certificate lifetime, added to the signing period to give the validity.")
@click.option("--ministry-signer", is_flag=True,
              help="A ministry DSC: names no facility and may sign for doses given at any facility.")
@click.option("--hsm", "hsm_label", default=None, metavar="LABEL",
              help="Generate the key inside the HSM under LABEL (no key file is written).")
@click.option("--csr", "csr_path", default=None, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Issue the DSC for the key of this PKCS#10 request (see 'keys csr').")
@click.option("--at", "at", default=None, help="Start of validity (ISO 8601); default now.")
@click.option("--force", is_flag=True, help="Replace existing files.")
def issue_dsc(ministry: Path, facility_id: str | None, name: str, types: str, out: Path, algorithm: str,
              valid_days: int | None, signing_days: int | None, max_cert_days: int, ministry_signer: bool,
              hsm_label: str | None, csr_path: Path | None, at: str | None, force: bool) -> None:
    """Create a Document Signer Certificate: OUT/dsc.pem and (for a file key) OUT/dsc.key.pem.

    With --hsm, OUT/dsc.hsm names the key's label, so OUT can be a facility folder of
    'registry issue --keys' / 'registry worker --keys'.

    The key is a new encrypted key file, a new key inside the HSM (--hsm), or the key of a
    certificate request (--csr).  With --signing-days the DSC records its signing period and
    stays valid for --max-cert-days after it (key rotation, see docs/trust.md).
    """
    if not ministry_signer and not facility_id:
        raise click.UsageError("give --facility-id, or --ministry-signer for a ministry DSC")
    if algorithm == "rsa3072":
        click.echo(RSA3072_WARNING, err=True)
    now = parse_time(at)
    type_list = [t.strip() for t in types.split(",") if t.strip()]
    _issue_dsc(ministry, out, facility_id=None if ministry_signer else facility_id, name=name, types=type_list,
               algorithm=algorithm, valid_days=valid_days, signing_days=signing_days,
               max_cert_days=max_cert_days, ministry_signer=ministry_signer, hsm_label=hsm_label,
               csr_path=csr_path, now=now, force=force)


def _issue_dsc(ministry: Path, out: Path, *, facility_id: str | None, name: str, types: list[str], algorithm: str,
               valid_days: int | None, signing_days: int | None, max_cert_days: int, ministry_signer: bool,
               hsm_label: str | None, csr_path: Path | None, now: dt.datetime, force: bool) -> None:
    if hsm_label is not None and csr_path is not None:
        raise click.UsageError("give at most one of --hsm and --csr")
    password = key_password()
    csca = load_certificate_file(ministry / "csca.pem")[0]
    csca_key = load_private_key(ministry / "csca.key.pem", password)
    file_key = hsm_label is None and csr_path is None
    _prepare_out(out, ["dsc.pem", "dsc.key.pem"] if file_key else ["dsc.pem", HSM_LABEL_FILE], force)
    if valid_days is None:
        valid_days = signing_days + max_cert_days if signing_days is not None else 730
    key: PrivateKey | PublicKey
    if hsm_label is not None:
        with hsm_token() as token:
            key = token.generate_key(hsm_label, algorithm)  # type: ignore[arg-type]
    elif csr_path is not None:
        key = csr_public_key(read_file_arg(str(csr_path)))
    else:
        key = generate_private_key(algorithm)  # type: ignore[arg-type]
    cert = create_dsc(key, csca=csca, csca_key=csca_key, facility_id=facility_id, facility_name=name,
                      now=now, types=types, valid_days=valid_days, signing_days=signing_days,
                      ministry=ministry_signer)
    (out / "dsc.pem").write_bytes(certificate_pem(cert))
    if isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        save_private_key(key, out / "dsc.key.pem", password)
        click.echo(f"wrote {out / 'dsc.pem'} and {out / 'dsc.key.pem'}")
    elif hsm_label is not None:
        (out / HSM_LABEL_FILE).write_text(hsm_label + "\n", encoding="utf-8")  # registry key folders read it
        click.echo(f"wrote {out / 'dsc.pem'} and {out / HSM_LABEL_FILE}; the key is in the HSM under label {hsm_label}")
    else:
        click.echo(f"wrote {out / 'dsc.pem'} for the key of {csr_path}")


@keys.command("rotate-dsc")
@click.option("--ministry", required=True, type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Directory holding csca.pem and csca.key.pem.")
@click.option("--current", "current_path", required=True,
              type=click.Path(dir_okay=False, exists=True, path_type=Path), help="The DSC being replaced.")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--algorithm", type=ALGORITHMS, default="ec", show_default=True)
@click.option("--signing-days", type=click.IntRange(1, 36500), default=365, show_default=True,
              help="Signing period of the successor.")
@click.option("--max-cert-days", type=click.IntRange(1, 3650), default=365, show_default=True,
              help="Longest certificate lifetime (the successor's validity is the two added).")
@click.option("--hsm", "hsm_label", default=None, metavar="LABEL", help="Generate the new key in the HSM.")
@click.option("--at", "at", default=None, help="Start of the new signing period (ISO 8601); default now.")
@click.option("--force", is_flag=True, help="Replace existing files.")
def rotate_dsc(ministry: Path, current_path: Path, out: Path, algorithm: str, signing_days: int,
               max_cert_days: int, hsm_label: str | None, at: str | None, force: bool) -> None:
    """Issue the successor of a DSC: same facility, name and types, a new key and signing period.

    Publish a trust list holding both: the old DSC keeps verifying what it signed until it
    expires, and the new one signs from now on.
    """
    current = load_certificate_file(current_path)[0]
    names = current.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    ministry_signer = is_ministry_signer(current)
    now = parse_time(at)
    _issue_dsc(ministry, out, facility_id=None if ministry_signer else facility_id_of(current),
               name=str(names[0].value) if names else "Document Signer", types=sorted(allowed_types(current)),
               algorithm=algorithm, valid_days=None, signing_days=signing_days, max_cert_days=max_cert_days,
               ministry_signer=ministry_signer, hsm_label=hsm_label, csr_path=None, now=now, force=force)
    click.echo(f"the replaced DSC stays valid (for verification) until "
               f"{current.not_valid_after_utc.isoformat()}; stop signing with it now")


@keys.command("csr")
@click.option("--hsm", "hsm_label", required=True, metavar="LABEL", help="The HSM key to make the request for.")
@click.option("--generate", is_flag=True, help="First generate the key in the HSM under LABEL.")
@click.option("--algorithm", type=ALGORITHMS, default="ec", show_default=True, help="Key type for --generate.")
@click.option("--name", required=True, help="Facility name (the requested common name).")
@click.option("--country", default="VN", show_default=True)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the PEM request.")
def csr_cmd(hsm_label: str, generate: bool, algorithm: str, name: str, country: str, out: Path) -> None:
    """Write a PKCS#10 request for a key in the HSM (signed inside the token) for the ministry."""
    with hsm_token() as token:
        if generate:
            token.generate_key(hsm_label, algorithm)  # type: ignore[arg-type]
        der = token.create_csr(hsm_label, common_name=name, country=country.upper())
    request = x509.load_der_x509_csr(der)
    out.write_bytes(request.public_bytes(serialization.Encoding.PEM))
    click.echo(f"wrote {out}")


@keys.command("list-signer")
@click.option("--ministry", required=True, type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Directory holding csca.pem and csca.key.pem.")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", default="Trust List Signer", show_default=True)
@click.option("--algorithm", type=ALGORITHMS, default="ec", show_default=True)
@click.option("--valid-days", type=click.IntRange(1, 36500), default=730, show_default=True)
@click.option("--hsm", "hsm_label", default=None, metavar="LABEL", help="Generate the key in the HSM.")
@click.option("--at", "at", default=None, help="Start of validity (ISO 8601); default now.")
@click.option("--force", is_flag=True, help="Replace existing files.")
def list_signer(ministry: Path, out: Path, name: str, algorithm: str, valid_days: int, hsm_label: str | None,
                at: str | None, force: bool) -> None:
    """Create a dedicated key for signing trust lists, revocation lists and bundles.

    Writes OUT/list-signer.pem (and OUT/list-signer.key.pem unless --hsm), so the CSCA key can
    stay offline.
    """
    password = key_password()
    csca = load_certificate_file(ministry / "csca.pem")[0]
    csca_key = load_private_key(ministry / "csca.key.pem", password)
    _prepare_out(out, ["list-signer.pem"] if hsm_label else ["list-signer.pem", "list-signer.key.pem"], force)
    key: PrivateKey | PublicKey
    if hsm_label is not None:
        with hsm_token() as token:
            key = token.generate_key(hsm_label, algorithm)  # type: ignore[arg-type]
    else:
        key = generate_private_key(algorithm)  # type: ignore[arg-type]
    cert = create_list_signer(key, csca=csca, csca_key=csca_key, name=name, now=parse_time(at),
                              valid_days=valid_days)
    (out / "list-signer.pem").write_bytes(certificate_pem(cert))
    if isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        save_private_key(key, out / "list-signer.key.pem", password)
    click.echo(f"wrote {out / 'list-signer.pem'}")
