"""``vaxcert revoke init|add|show``: the ministry's signed revocation list.

UVCIs and HC1 codes to revoke are read from files (one per line, '-' for standard input),
never from the command line, so they do not end up in shell histories or process lists;
nothing personal is printed, only counts.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from cryptography import x509

from .. import ConfigurationError, DecodeError, HashType, RevocationList, Signer, country_uci_hash, hc1_hashes, uci_hash
from ._common import parse_time, read_file_arg
from ._context import load_csca, load_signer, max_list_days_option, signer_options

TYPES = click.Choice([t.value for t in HashType])


def _lines(source: str) -> list[str]:
    text = read_file_arg(source).decode("utf-8-sig", errors="strict")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _hashes(text: str, line: int) -> dict[HashType, bytes]:
    try:
        return hc1_hashes(text)
    except DecodeError as exc:
        raise ConfigurationError(f"line {line}: not a readable HC1 code ({exc.code})") from None


def _write(out: Path, data: bytes) -> None:
    temporary = out.with_name(f".{out.name}.tmp")
    temporary.write_bytes(data)
    temporary.replace(out)


def _anchors(csca: Sequence[Path], signer: Signer) -> list[x509.Certificate]:
    return load_csca(csca) or [signer.certificate]


@click.group("revoke")
def revoke() -> None:
    """Create and extend the signed revocation list (UCI, COUNTRYCODEUCI and SIGNATURE hashes)."""


@revoke.command("init")
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@signer_options
@click.option("--country", default="VN", show_default=True)
@click.option("--valid-days", type=click.FloatRange(min=0.01, max=3650), default=2.0, show_default=True,
              help="Freshness limit of the signed list.")
@click.option("--at", "at", default=None, help="Issue time (ISO 8601); default now.")
@click.option("--force", is_flag=True, help="Replace an existing list.")
@max_list_days_option
def init_cmd(out: Path, signer_key: Path | None, signer_cert: Path | None, hsm_key: str | None, country: str,
             valid_days: float, at: str | None, force: bool, max_list_days: float) -> None:
    """Write an empty signed revocation list."""
    if out.exists() and not force:
        raise ConfigurationError(f"{out} already exists (use --force to replace)")
    signer = load_signer(signer_key, signer_cert, hsm_key)
    now = parse_time(at)
    _write(out, RevocationList(country=country.upper()).sign(signer, now=now, valid_for=dt.timedelta(days=valid_days),
                                                              max_lifetime=dt.timedelta(days=max_list_days)))
    click.echo(f"wrote {out}: empty revocation list")


@revoke.command("add")
@click.option("--list", "list_path", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The signed revocation list to extend (rewritten in place).")
@signer_options
@click.option("--csca", "csca", multiple=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="CSCA anchoring the current list [default: the signer certificate].")
@click.option("--uvci-file", default=None, help="File of UVCIs to revoke, one per line ('-' = stdin).")
@click.option("--hc1-file", default=None, help="File of HC1 codes to revoke, one per line ('-' = stdin).")
@click.option("--hash", "raw_hashes", multiple=True, metavar="TYPE:HEX",
              help="A ready hash entry, e.g. UCI:0123... (16 bytes hex, or at least 8).")
@click.option("--type", "types", multiple=True, type=TYPES,
              help="Hash types to add for each UVCI / HC1 (repeatable) [default: UCI].")
@click.option("--country", default="VN", show_default=True, help="Country code (co) for COUNTRYCODEUCI of UVCIs.")
@click.option("--valid-days", type=click.FloatRange(min=0.01, max=3650), default=2.0, show_default=True,
              help="Freshness limit of the re-signed list.")
@click.option("--at", "at", default=None, help="Issue time (ISO 8601); default now.")
@max_list_days_option
def add_cmd(list_path: Path, signer_key: Path | None, signer_cert: Path | None, hsm_key: str | None,
            csca: tuple[Path, ...], uvci_file: str | None, hc1_file: str | None, raw_hashes: tuple[str, ...],
            types: tuple[str, ...], country: str, valid_days: float, at: str | None, max_list_days: float) -> None:
    """Add entries to the list, raise its sequence number and re-sign it."""
    signer = load_signer(signer_key, signer_cert, hsm_key)
    now = parse_time(at)
    lifetime = dt.timedelta(days=max_list_days)
    current = RevocationList.load(list_path.read_bytes(), _anchors(csca, signer), now=now, max_lifetime=lifetime)
    kinds = [HashType(t) for t in types] or [HashType.UCI]
    new: dict[HashType, list[bytes]] = {t: [] for t in HashType}
    if uvci_file is not None:
        if HashType.SIGNATURE in kinds:
            raise click.UsageError("SIGNATURE hashes need the HC1 code (--hc1-file), not the UVCI")
        for uvci in _lines(uvci_file):
            if HashType.UCI in kinds:
                new[HashType.UCI].append(uci_hash(uvci))
            if HashType.COUNTRYCODEUCI in kinds:
                new[HashType.COUNTRYCODEUCI].append(country_uci_hash(country.upper(), uvci))
    if hc1_file is not None:
        for number, text in enumerate(_lines(hc1_file), start=1):
            hashes = _hashes(text, number)
            for kind in kinds:
                if kind not in hashes:
                    raise ConfigurationError(f"line {number}: the certificate has no {kind} hash")
                new[kind].append(hashes[kind])
    for raw in raw_hashes:
        kind_text, _, hex_text = raw.partition(":")
        try:
            kind, digest = HashType(kind_text.upper()), bytes.fromhex(hex_text)
        except ValueError:
            raise click.BadParameter(f"expected TYPE:HEX, got {kind_text!r}:…", param_hint="--hash") from None
        if len(digest) < 8:
            raise click.BadParameter("a hash needs at least 8 bytes", param_hint="--hash")
        new[kind].append(digest)
    if not any(new.values()):
        raise click.UsageError("nothing to add: give --uvci-file, --hc1-file or --hash")
    updated = current
    for kind, digests in new.items():
        if digests:
            updated = updated.with_hashes(kind, digests)
    _write(list_path, updated.sign(signer, now=now, valid_for=dt.timedelta(days=valid_days), max_lifetime=lifetime))
    added = len(updated) - len(current)
    click.echo(f"added {added} new entries ({sum(len(d) for d in new.values()) - added} already listed); "
               f"the list holds {len(updated)}; valid until "
               f"{(now + dt.timedelta(days=valid_days)).isoformat().replace('+00:00', 'Z')}")


@revoke.command("show")
@click.argument("source", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--csca", "csca", multiple=True, required=True,
              type=click.Path(dir_okay=False, exists=True, path_type=Path), help="Trusted CSCA certificate.")
@click.option("--at", "at", default=None, help="Time of the check (ISO 8601); default now.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@max_list_days_option
def show_cmd(source: Path, csca: tuple[Path, ...], at: str | None, fmt: str, max_list_days: float) -> None:
    """Check a revocation list and show its counts, sequence number and freshness."""
    now = parse_time(at)
    anchors = load_csca(csca) or []
    lst = RevocationList.load(source.read_bytes(), anchors, now=now, max_lifetime=dt.timedelta(days=max_list_days))
    info: dict[str, Any] = {
        "country": lst.country,
        "sequence": lst.sequence,
        "issued_at": lst.issued_at.isoformat().replace("+00:00", "Z") if lst.issued_at else None,
        "expires_at": lst.expires_at.isoformat().replace("+00:00", "Z") if lst.expires_at else None,
        "stale": lst.is_stale(now),
        "entries": {str(k): len(s) for k, s in lst.sets.items()},
        "bytes": sum(s.nbytes for s in lst.sets.values()),
    }
    if fmt == "json":
        click.echo(json.dumps(info))
        return
    counts = " ".join(f"{k}={v}" for k, v in info["entries"].items())
    click.echo(f"revocation list {info['country']} seq={info['sequence']} issued_at={info['issued_at']} "
               f"expires_at={info['expires_at']}{' STALE' if info['stale'] else ''}: {counts}")
