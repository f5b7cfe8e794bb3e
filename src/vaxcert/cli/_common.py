"""Shared helpers for the CLI: time parsing, input reading, error → exit-code mapping."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from ..errors import ConfigurationError, InputError, VaxcertError

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2


def parse_time(value: str | None) -> dt.datetime:
    """ISO 8601 (``Z``, offsets, fractions accepted; naive means UTC); now when None."""
    if value is None:
        return dt.datetime.now(dt.UTC)
    try:
        moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"not an ISO 8601 time: {value!r}", param_hint="--at") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def read_text_arg(arg: str) -> str:
    """The argument itself, or standard input for ``-``; surrounding whitespace removed."""
    if arg == "-":
        return sys.stdin.read().strip()
    return arg.strip()


def read_file_arg(arg: str) -> bytes:
    """A file's bytes, or standard input for ``-``."""
    if arg == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(arg).read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"cannot read {arg}: {exc.strerror}") from None


def run_main(group: click.Group) -> None:
    """Run the group, mapping vaxcert errors to exit code 2 with a one-line message."""
    try:
        group.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(EXIT_USAGE)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except InputError as exc:
        click.echo(f"error: invalid input: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except VaxcertError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_OK)
