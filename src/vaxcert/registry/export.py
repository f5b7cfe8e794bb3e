"""Handing out certificates: the current certificate of a person, or of a facility's people, as files.

:func:`export_certificates` writes one file per current certificate into a folder — the HC1 text
(``.hc1.txt``), a QR code (``.png``, :func:`vaxcert.qr.render_png`) or the printable card
(``.pdf``, :func:`vaxcert.card.render_card`, the ``vaxcert[card]`` extra) — named by the holder's
document (``cccd-001090012345.png``, ``passport-FR-21AB12345.pdf``), since the files are what a
facility hands to each person.  :func:`certificate_file` renders one certificate the same way
(the service's citizen endpoint uses it).  The files hold personal data by nature; nothing is logged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigurationError, InputError
from ..qr import render_png
from .protocol import ProgressCallback, Registry
from .rows import ExportedCertificate

__all__ = ["EXPORT_FORMATS", "ExportResult", "certificate_file", "export_certificates"]

#: Output formats and their file suffixes.
EXPORT_FORMATS = {"hc1": ".hc1.txt", "png": ".png", "pdf": ".pdf"}


@dataclass
class ExportResult:
    """The files written (one per current certificate)."""

    written: int = 0
    files: list[Path] = field(default_factory=list)

    def summary(self) -> str:
        return f"exported {self.written} certificate(s)"


def certificate_file(hc1: str, fmt: str, *, created: dt.datetime | None = None) -> bytes:
    """One certificate as ``hc1`` text, a QR ``png`` or a ``pdf`` card (``vaxcert[card]``)."""
    if fmt == "hc1":
        return (hc1 + "\n").encode("ascii")
    if fmt == "png":
        return render_png(hc1, scale=6)
    if fmt == "pdf":
        from ..card import render_card  # the [card] extra, loaded when a card is asked for

        return render_card(hc1, created=created)[0]
    raise InputError("format", f"must be one of {', '.join(EXPORT_FORMATS)}")


def _file_name(cert: ExportedCertificate, fmt: str) -> str:
    if cert.id_kind == "cccd":
        stem = f"cccd-{cert.id_number}"
    else:
        stem = f"{cert.id_kind}-{cert.nationality}-{cert.id_number}"
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in stem)
    return safe + EXPORT_FORMATS[fmt]


def export_certificates(
    registry: Registry,
    out_dir: str | Path,
    *,
    person_key: str | None = None,
    facility: str | None = None,
    since: dt.datetime | None = None,
    fmt: str = "png",
    now: dt.datetime | None = None,
    progress: ProgressCallback | None = None,
) -> ExportResult:
    """Write the current certificate of ``person_key``, or of everyone whose certificate ``facility``
    signed (issued at or after ``since``), into ``out_dir`` as ``fmt`` files.

    Exactly one of ``person_key`` and ``facility`` is given.  Files of the same person are
    overwritten (each person has one current certificate).
    """
    if (person_key is None) == (facility is None):
        raise InputError("person", "give a person or a facility (one of them)")
    if fmt not in EXPORT_FORMATS:
        raise InputError("format", f"must be one of {', '.join(EXPORT_FORMATS)}")
    if since is not None and person_key is not None:
        raise InputError("since", "applies to a facility export")
    certs = registry.certificates_to_export(person_key=person_key,
                                            facility=facility.strip().upper() if facility else None,
                                            since=int(since.timestamp()) if since is not None else None)  # fmt: skip
    target = Path(out_dir)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(f"cannot create {target}: {exc.strerror}") from None
    result = ExportResult()
    for n, cert in enumerate(certs, start=1):
        path = target / _file_name(cert, fmt)
        try:
            path.write_bytes(certificate_file(cert.hc1, fmt, created=now))
        except OSError as exc:
            raise ConfigurationError(f"cannot write {path}: {exc.strerror}") from None
        result.written += 1
        result.files.append(path)
        if progress is not None:
            progress(n, len(certs))
    return result
