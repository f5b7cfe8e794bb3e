"""``vaxcert keys``: a ministry CSCA and facility Document Signer Certificates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from ..errors import ConfigurationError
from ..keys import generate_private_key, load_private_key, password_from_env, save_private_key
from ..pki import certificate_pem, create_csca, create_dsc, load_certificate_file

ALGORITHMS = click.Choice(["ec", "rsa2048", "rsa3072"])


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
@click.option("--force", is_flag=True, help="Replace existing files.")
def init_ministry(country: str, name: str | None, out: Path, algorithm: str, valid_days: int, force: bool) -> None:
    """Create the ministry CSCA: OUT/csca.pem and the encrypted key OUT/csca.key.pem.

    The key password is read from VAXCERT_KEY_PASSWORD.
    """
    password = password_from_env()
    _prepare_out(out, ["csca.pem", "csca.key.pem"], force)
    key = generate_private_key(algorithm)  # type: ignore[arg-type]
    now = dt.datetime.now(dt.UTC)
    cert = create_csca(key, country=country.upper(), name=name or f"Ministry of Health {country.upper()}",
                       now=now, valid_days=valid_days)
    save_private_key(key, out / "csca.key.pem", password)
    (out / "csca.pem").write_bytes(certificate_pem(cert))
    click.echo(f"wrote {out / 'csca.pem'} and {out / 'csca.key.pem'}")


@keys.command("issue-dsc")
@click.option("--ministry", required=True, type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Directory holding csca.pem and csca.key.pem.")
@click.option("--facility-id", required=True, help="Facility identifier, e.g. VN-HN-001.")
@click.option("--name", required=True, help="Facility name.")
@click.option("--types", default="v,t,r", show_default=True, help="Certificate types this DSC may sign.")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--algorithm", type=ALGORITHMS, default="ec", show_default=True)
@click.option("--valid-days", type=click.IntRange(1, 36500), default=730, show_default=True)
@click.option("--force", is_flag=True, help="Replace existing files.")
def issue_dsc(ministry: Path, facility_id: str, name: str, types: str, out: Path, algorithm: str,
              valid_days: int, force: bool) -> None:
    """Create a facility Document Signer Certificate: OUT/dsc.pem and OUT/dsc.key.pem."""
    password = password_from_env()
    csca = load_certificate_file(ministry / "csca.pem")[0]
    csca_key = load_private_key(ministry / "csca.key.pem", password)
    type_list = [t.strip() for t in types.split(",") if t.strip()]
    _prepare_out(out, ["dsc.pem", "dsc.key.pem"], force)
    key = generate_private_key(algorithm)  # type: ignore[arg-type]
    cert = create_dsc(key, csca=csca, csca_key=csca_key, facility_id=facility_id, facility_name=name,
                      now=dt.datetime.now(dt.UTC), types=type_list, valid_days=valid_days)
    save_private_key(key, out / "dsc.key.pem", password)
    (out / "dsc.pem").write_bytes(certificate_pem(cert))
    click.echo(f"wrote {out / 'dsc.pem'} and {out / 'dsc.key.pem'}")
