"""The ``vaxcert`` command line: a thin layer over the public API.

Exit codes: 0 success / valid, 1 invalid certificate (or a failed check), 2 usage or
configuration error.  Personal data is printed only where the user asks for it
(``--show-payload``) or where it is the requested output (an HC1 string from ``issue``).
"""

from __future__ import annotations

from pathlib import Path

import click

from ._common import reset_language, run_main
from ._logging import configure_logging
from .bundle import bundle
from .card import card_cmd
from .certs import issue_cmd, qr_cmd, verify_cmd
from .checkpoint import checkpoint
from .keys import keys
from .registry import registry
from .revoke import revoke
from .rules import rules
from .scan import scan_cmd
from .serve import serve_cmd
from .trust import trust
from .vectors import vectors

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="vaxcert")
@click.option("-v", "--verbose", count=True, help="Log more on stderr: -v progress events, -vv debug events.")
@click.option("--debug", is_flag=True, help="Log debug events (as -vv).")
@click.option("--log-format", type=click.Choice(["text", "json"]), default=None,
              help="Log lines as text or as JSON objects (one per line) for a log pipeline [default: text; "
                   "json for serve and registry worker].")
@click.option("--log-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Append log lines to this file instead of stderr.")
def cli(verbose: int, debug: bool, log_format: str | None, log_file: Path | None) -> None:
    """Issue and verify EU DCC-style vaccination certificates (HC1 QR codes).

    Logs (never personal data) go to stderr: warnings by default, more with -v / --debug; serve,
    registry worker and checkpoint serve log at their --log-level (default info).
    """
    reset_language()  # each command starts from VAXCERT_LANG (or English); --lang then chooses
    configure_logging(verbose, debug, log_format, log_file)


cli.add_command(keys)
cli.add_command(issue_cmd)
cli.add_command(verify_cmd)
cli.add_command(qr_cmd)
cli.add_command(scan_cmd)
cli.add_command(card_cmd)
cli.add_command(trust)
cli.add_command(revoke)
cli.add_command(bundle)
cli.add_command(registry)
cli.add_command(vectors)
cli.add_command(rules)
cli.add_command(serve_cmd)
cli.add_command(checkpoint)


def main() -> None:
    """Console-script entry point."""
    run_main(cli)
