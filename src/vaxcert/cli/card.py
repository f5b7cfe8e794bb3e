"""``vaxcert card``: a printable PDF card (QR code + bilingual fields) for one certificate."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .. import ConfigurationError, DoseRecord, InputError
from ._common import EXIT_INVALID, environment, parse_time, read_file_arg, read_text_arg
from ._context import load_verifier

if TYPE_CHECKING:
    from .. import CardFonts

#: Environment variables naming other TrueType files for the card (regular, bold, mono).
FONT_ENV = ("VAXCERT_CARD_FONT", "VAXCERT_CARD_FONT_BOLD", "VAXCERT_CARD_FONT_MONO")


def card_fonts() -> CardFonts:
    """The card's fonts: the files named in VAXCERT_CARD_FONT (and _BOLD, _MONO), else DejaVu."""
    from .. import find_fonts  # the [card] extra, loaded when a card is printed

    env = environment()
    regular, bold, mono = (env.get(name) or None for name in FONT_ENV)
    if regular is None:
        return find_fonts()
    try:
        return find_fonts(regular, bold=bold, mono=mono)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{FONT_ENV[0]} / _BOLD / _MONO: {exc}") from None


@click.command("card")
@click.option("--hc1", "hc1", required=True, help="The HC1 string, or '-' to read it from stdin.")
@click.option("--record", "record_path", default=None, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The holder's dose record (vaxcert.dose-record/1 JSON) to list every dose.")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The PDF file to write.")
@click.option("--page", type=click.Choice(["A6", "A5"], case_sensitive=False), default="A6", show_default=True,
              help="Page size (A6 is a quarter of an A4 sheet).")
@click.option("--trust", "trust_paths", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Verify the certificate against these signer certificates first (repeatable).")
@click.option("--at", "at", default=None, help="Time for --trust verification (ISO 8601); default now.")
def card_cmd(hc1: str, record_path: Path | None, output: Path, page: str, trust_paths: tuple[Path, ...],
             at: str | None) -> None:
    """Write a printable certificate card (PDF) for HC1.

    Without --trust the certificate is read but its signature is not checked: the card is for a
    certificate the holder already has.  With --trust an invalid certificate is refused (exit 1).
    """
    from .. import read_card_payload, save_card  # the [card] extra, loaded when a card is printed

    text = read_text_arg(hc1)
    payload = None
    if trust_paths:
        now = parse_time(at)
        result = load_verifier(trust_paths, None, (), (), now).verify(text, now=now)
        if not result.valid or result.payload is None:
            click.echo(f"not printed: certificate invalid: code={result.code} stage={result.stage}", err=True)
            sys.exit(EXIT_INVALID)
        payload = result.payload
    else:
        payload = read_card_payload(text)
    record = None
    if record_path is not None:
        try:
            document = json.loads(read_file_arg(str(record_path)).decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError("record", f"not valid JSON ({type(exc).__name__})") from None
        record = DoseRecord.from_json(document)
    layout = save_card(output, text, payload, record=record, page="A5" if page.upper() == "A5" else "A6",
                       fonts=card_fonts())
    click.echo(f"wrote {output} ({layout.page}, QR {layout.qr_symbol_mm:.1f} mm, "
               f"diagonal {layout.qr_diagonal_mm:.1f} mm)")
