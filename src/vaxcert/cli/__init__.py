"""The ``vaxcert`` command line: a thin layer over the public API.

Exit codes: 0 success / valid, 1 invalid certificate (or a failed check), 2 usage or
configuration error.  Personal data is printed only where the user asks for it
(``--show-payload``) or where it is the requested output (an HC1 string from ``issue``).
"""

from __future__ import annotations

import click

from ._common import reset_language, run_main
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
def cli() -> None:
    """Issue and verify EU DCC-style vaccination certificates (HC1 QR codes)."""
    reset_language()  # each command starts from VAXCERT_LANG (or English); --lang then chooses


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
