"""``vaxcert scan``: checkpoint mode — many pictures, card files (or code lines), one pass verdict per certificate.

Each certificate found (an EU DCC ``HC1:``, or a SMART Health Card ``shc:/``: its chunks are
reassembled across the pictures) gives one line: GREEN / YELLOW / RED with a reason code and a
message in Vietnamese or English (``--lang``, also for warnings and errors); with business rules
(the bundle's, or ``--rules``) for ``--country``/``--region``, each rule that did not pass follows
with its identifier and description.  A picture with no code gives one RED ``NO_QR_FOUND`` line,
a code seen but not decodable (blurred, damaged) ``QR_UNREADABLE``, both saying how to retake the
picture; a code that is not a health certificate (a URL, another app's code) gives RED
``NOT_A_CERTIFICATE``.  Nothing personal is printed: no names, birth dates, identifiers or QR
contents.

Exit codes: 0 when every code found grants a pass (GREEN or YELLOW), 1 when any line is RED
(including pictures without a code), 2 for usage or configuration errors (no trust, unreadable
policy).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final

import click

from .. import DEFAULT_POLICY, CountryRules, Pass, Policy, Scanner, Verdict, Verifier, colour_label
from ._common import EXIT_INVALID, EXIT_OK, parse_time
from ._context import load_verification, rules_options, verification_options
from ._messages import lang_option, text

__all__ = ["IMAGE_SUFFIXES", "scan_cmd"]

#: File suffixes taken from directories (files named on the command line are always read): pictures,
#: and SMART Health Card files.
IMAGE_SUFFIXES: Final = frozenset({".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff", ".pgm",
                                   ".ppm", ".pbm", ".smart-health-card"})
_STYLE: Final = {Pass.GREEN: "green", Pass.YELLOW: "yellow", Pass.RED: "red"}


@dataclass(frozen=True, slots=True)
class _Line:
    """One verdict and where its code came from (a picture's path, or '-' for standard input)."""

    source: str
    index: int
    verdict: Verdict

    def to_dict(self, lang: str) -> dict[str, Any]:
        return {"file": self.source, **self.verdict.to_dict(lang), "index": self.index}

    def text(self, lang: str) -> str:
        a, result = self.verdict.assessment, self.verdict.result
        colour = click.style(f" {colour_label(a.colour, lang)} ", fg="black", bg=_STYLE[a.colour], bold=True)
        detail = "" if result.valid else f" [{result.code}]"
        line = f"{self.source}#{self.index}\t{colour}\t{a.reason}\t{a.message(lang)}{detail}"
        rules = self.verdict.rules
        if rules is not None:
            line += "".join(f"\n\t  {r.outcome} {r.identifier}: {r.description(lang)}" for r in rules.failed)
        return line


class _Scanner:
    """Verdicts of codes at one moment under one policy and rules (through :class:`vaxcert.Scanner`):
    the chunks of a SMART Health Card wait across pictures until complete."""

    def __init__(self, verifier: Verifier, policy: Policy, now: dt.datetime, rules: CountryRules | None) -> None:
        self.session = Scanner(verifier, policy=policy, rules=rules, now=now)

    def image(self, path: Path) -> list[_Line]:
        return [_Line(str(path), v.index, v) for v in self.session.scan(path)]

    def lines(self, stream: BinaryIO) -> Iterator[_Line]:
        """One verdict per non-blank line; bytes that are not UTF-8 cannot be a certificate anyway."""
        index = 0
        for raw in stream:
            text = raw.decode("utf-8", errors="replace").strip()
            if not text:
                continue
            for verdict in self.session.scan(text):
                yield _Line("-", index, verdict)
                index += 1

    def together(self, sources: list[str | Path], stream: BinaryIO) -> list[_Line]:
        """Every source as one holder's presentation (one call: the rules see each other's certificates)."""
        items: list[str | Path] = []
        for source in sources:
            if source == "-":
                items.extend(text for raw in stream if (text := raw.decode("utf-8", errors="replace").strip()))
            else:
                items.append(Path(source))
        verdicts = [*self.session.scan(items), *self.session.finish()]
        return [_Line("(together)", index, v) for index, v in enumerate(verdicts)]

    def finish(self) -> list[_Line]:
        """Health Cards still missing chunks at the end."""
        return [_Line("(chunks)", v.index, v) for v in self.session.finish()]


def _expand(paths: tuple[str, ...]) -> list[str | Path]:
    """The sources in order: '-' as is, files as given, directories as their image files (sorted)."""
    out: list[str | Path] = []
    for raw in paths:
        if raw == "-":
            out.append("-")
            continue
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                click.echo(text("cli.warning", detail=text("scan.no_pictures", path=path,
                                                           suffixes=", ".join(sorted(IMAGE_SUFFIXES)))),
                           err=True)  # fmt: skip
            out.extend(found)
        else:
            out.append(path)
    return out


def _show_progress(flag: bool | None) -> bool:
    if flag is not None:
        return flag
    return sys.stderr.isatty()


@click.command("scan")
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(exists=True, allow_dash=True, path_type=str))
@verification_options
@rules_options
@click.option("--at", "at", default=None, help="Checking time (ISO 8601); default now.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="One text line or one JSON object per code.")
@lang_option("vi")
@click.option("--policy", "policy_path", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              default=None, help="Pass policy (JSON or .toml); default: Viet Nam 2021-22 rules.")
@click.option("--progress/--no-progress", "progress", default=None,
              help="Progress bar on stderr (default: when stderr is a terminal).")
@click.option("--together", is_flag=True,
              help="Every certificate in PATHS (and the lines of '-') is one holder's: the rules see the others "
                   "(e.g. HCM: one dose plus a recovery).")
def scan_cmd(paths: tuple[str, ...], trust_paths: tuple[Path, ...], bundle: Path | None, csca: tuple[Path, ...],
             revocation: tuple[Path, ...], shc_issuers: tuple[Path, ...], rule_paths: tuple[Path, ...],
             strict: bool, country: str, region: str | None, at: str | None, fmt: str, lang: str,
             policy_path: Path | None, progress: bool | None, together: bool) -> None:
    """Checkpoint mode: the pass of every certificate in PATHS (pictures, .smart-health-card files,
    directories, or '-' for lines of HC1:/shc:/ text).

    With business rules (in the --bundle, or --rules) for --country/--region they decide with the
    policy, and each failed rule is listed.  Exit 0 when every certificate grants a pass
    (GREEN/YELLOW), 1 when any is RED, 2 on usage errors.
    """
    if paths.count("-") > 1:
        raise click.UsageError(text("scan.stdin_once"))
    now = parse_time(at)
    loaded = load_verification(trust_paths, bundle, csca, revocation, now, shc_issuers=shc_issuers,
                               rules=rule_paths, strict=strict)
    policy = Policy.from_file(policy_path) if policy_path is not None else DEFAULT_POLICY
    scanner = _Scanner(loaded.verifier, policy, now, loaded.country_rules(country, region))
    sources = _expand(paths)
    show = _show_progress(progress)
    any_red = False

    def emit(line: _Line) -> None:
        nonlocal any_red
        any_red = any_red or line.verdict.colour is Pass.RED
        if show and sys.stderr.isatty():
            click.echo("\r\x1b[K", nl=False, err=True)  # clear the bar before printing a result line
        if fmt == "json":
            click.echo(json.dumps(line.to_dict(lang), ensure_ascii=False))
        else:
            click.echo(line.text(lang))

    if together:
        for line in scanner.together(sources, sys.stdin.buffer):
            emit(line)
        sys.exit(EXIT_INVALID if any_red else EXIT_OK)
    with _progress(sources, show) as bar:
        for source in bar:
            if source == "-":
                for line in scanner.lines(sys.stdin.buffer):
                    emit(line)
            else:
                for line in scanner.image(Path(source)):
                    emit(line)
    for line in scanner.finish():
        emit(line)
    sys.exit(EXIT_INVALID if any_red else EXIT_OK)


@contextlib.contextmanager
def _progress(sources: list[str | Path], show: bool) -> Iterator[Iterable[str | Path]]:
    """A click progress bar on a terminal; with --progress elsewhere (a log), one line per picture."""
    if show and not sys.stderr.isatty():
        yield _progress_lines(sources)
        return
    with click.progressbar(sources, label="scan", file=sys.stderr, hidden=not show,
                           item_show_func=lambda s: None if s is None else str(s)) as bar:
        yield bar


def _progress_lines(sources: list[str | Path]) -> Iterator[str | Path]:
    total = len(sources)
    for number, source in enumerate(sources, 1):
        click.echo(f"scan [{number}/{total}] {source}", err=True)
        yield source
