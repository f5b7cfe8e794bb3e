"""Helpers shared by the registry tests: opening each backend fresh, facility keys, sample rows."""

from __future__ import annotations

import csv
import datetime as dt
import unicodedata
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from conftest import NOW, Pki, require_service
from vaxcert.pki.certificates import certificate_pem, create_dsc
from vaxcert.pki.keys import KeySigner, generate_private_key, save_private_key
from vaxcert.registry import KeyDirectory, KeyRing, Registry, open_registry
from vaxcert.trust.store import TrustList

BACKENDS = ("sqlite", "postgresql")
PASSWORD = "registry-test-password"
HEADER = ("citizen_id", "passport_number", "nationality", "family_name", "given_name", "dob", "facility",
          "dose_number", "series_total", "date", "product")  # fmt: skip


@contextmanager
def fresh_registry(backend: str, tmp_path: Path) -> Iterator[Registry]:
    """A new, migrated registry: a SQLite file in ``tmp_path`` or a new PostgreSQL schema."""
    if backend == "sqlite":
        registry = open_registry(f"sqlite:///{tmp_path}/registry.db", migrate=True)
        try:
            yield registry
        finally:
            registry.close()
        return
    dsn = require_service("VAXCERT_PG_DSN")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    registry = open_registry(dsn, schema=schema, migrate=True)
    try:
        yield registry
    finally:
        registry.drop_schema()  # type: ignore[attr-defined]
        registry.close()


def citizen_id(i: int, birth_year: int = 1990) -> str:
    """A well-formed 12-digit citizen ID (Hà Nội province code, century digit, birth year)."""
    return f"0010{birth_year % 100:02d}{i:06d}"


def dose_row(i: int, dose: int = 1, *, series: int = 2, facility: str = "VN-HN-001",
             date: str | None = None, family: str = "Nguyễn", given: str = "Văn Đức",
             dob: str = "1990-04-12", product: str = "EU/1/20/1528") -> dict[str, Any]:  # fmt: skip
    """One import row for citizen number ``i``."""
    return {
        "citizen_id": citizen_id(i, int(dob[:4])), "family_name": family, "given_name": given, "dob": dob,
        "facility": facility, "dose_number": str(dose), "series_total": str(series),
        "date": date or f"2021-{6 + dose:02d}-{1 + i % 27:02d}", "product": product,
    }  # fmt: skip


def windows_1258(text: str) -> bytes:
    """``text`` as Excel's Vietnamese ANSI export writes it (Windows-1258: tone marks as combining characters)."""
    out: list[str] = []
    for ch in unicodedata.normalize("NFD", text):
        if out and ch in "\u0302\u0306\u031b":  # circumflex, breve, horn: precomposed letters in Windows-1258
            out[-1] = unicodedata.normalize("NFC", out[-1] + ch)
        else:
            out.append(ch)
    return "".join(out).encode("cp1258")


def write_csv(path: Path, rows: Sequence[Mapping[str, Any]], header: Sequence[str] = HEADER) -> Path:
    """Write rows as a facility CSV export."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(header))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in header})
    return path


def register_rows(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Population-register entries that match the people of ``rows``."""
    seen: dict[str, dict[str, str]] = {}
    for row in rows:
        if row.get("citizen_id"):
            seen[row["citizen_id"]] = {"citizen_id": row["citizen_id"], "family_name": row["family_name"],
                                       "given_name": row.get("given_name", ""), "dob": row["dob"]}  # fmt: skip
    return list(seen.values())


def facility_signers(pki: Pki, facilities: Sequence[str]) -> dict[str, KeySigner]:
    """An ES256 DSC per facility, signed by the test ministry, valid around NOW."""
    out = {}
    for facility in facilities:
        key = generate_private_key("ec")
        cert = create_dsc(key, csca=pki.csca, csca_key=pki.csca_key, facility_id=facility, facility_name=facility,
                          now=NOW - dt.timedelta(days=30))  # fmt: skip
        out[facility] = KeySigner(key, cert)
    return out


def key_directory(root: Path, signers: Mapping[str, KeySigner], env: pytest.MonkeyPatch) -> KeyDirectory:
    """Write the signers as ``root/<facility>/dsc.pem + dsc.key.pem``; put the password in the environment too.

    The returned KeyDirectory carries the password (the library reads no environment variable); the
    environment is for CLI runs in the same test.
    """
    env.setenv("VAXCERT_KEY_PASSWORD", PASSWORD)
    for facility, signer in signers.items():
        folder = root / facility
        folder.mkdir(parents=True, exist_ok=True)
        save_private_key(signer._key, folder / "dsc.key.pem", PASSWORD.encode())
        (folder / "dsc.pem").write_bytes(certificate_pem(signer.certificate))
    return KeyDirectory(str(root), password=PASSWORD.encode())


def keyring(signers: Mapping[str, KeySigner]) -> KeyRing:
    """An in-memory key ring."""
    return KeyRing(dict(signers))


def trust_of(signers: Mapping[str, KeySigner]) -> TrustList:
    """A trust list of the facility DSCs."""
    return TrustList.from_certificates([s.certificate for s in signers.values()])


def scalar(registry: Registry, sql: str, params: Sequence[Any] = ()) -> Any:
    """The single value of a query."""
    with registry.transaction() as tx:
        return tx.query(sql, params)[0][0]


def rows(registry: Registry, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """All rows of a query."""
    with registry.transaction() as tx:
        return tx.query(sql, params)


__all__ = [
    "BACKENDS", "HEADER", "NOW", "PASSWORD", "citizen_id", "dose_row", "facility_signers", "fresh_registry",
    "key_directory", "keyring", "register_rows", "rows", "scalar", "trust_of", "windows_1258", "write_csv",
]  # fmt: skip
