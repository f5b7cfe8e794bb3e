"""Shared helpers for the CLI: time parsing, input and environment reading, error → exit-code mapping.

The library reads no environment variables: the CLI reads them here and passes the values in.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import click

from .. import ConfigurationError, InputError, VaxcertError
from ._messages import LANGUAGES, set_language, text, translate

#: The environment variable holding the password of the private key files.
PASSWORD_ENV = "VAXCERT_KEY_PASSWORD"  # noqa: S105 - the variable name, not a password
#: The environment variable choosing the language of messages (as ``--lang``).
LANG_ENV = "VAXCERT_LANG"

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


def key_password() -> bytes:
    """The key password from ``VAXCERT_KEY_PASSWORD``; a clear error when it is not set."""
    value = os.environ.get(PASSWORD_ENV)
    if not value:
        raise ConfigurationError(f"set {PASSWORD_ENV} to the password protecting the private key files")
    return value.encode("utf-8")


def environment() -> dict[str, str]:
    """The process environment, for library settings the user gives there (HSM, fonts)."""
    return dict(os.environ)


def reset_language() -> None:
    """Messages in the language of ``VAXCERT_LANG`` (English when unset or unknown) until --lang says otherwise."""
    configured = os.environ.get(LANG_ENV, "en")
    set_language(configured if configured in LANGUAGES else "en")


def run_main(group: click.Group) -> None:
    """Run the group, mapping vaxcert errors to exit code 2 with a one-line message.

    Messages are in the language of ``--lang`` (commands that have it) or ``VAXCERT_LANG``.
    """
    reset_language()
    try:
        group.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo(text("cli.aborted"), err=True)
        sys.exit(EXIT_USAGE)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except InputError as exc:
        click.echo(text("cli.error_input", detail=translate(str(exc))), err=True)
        sys.exit(EXIT_USAGE)
    except VaxcertError as exc:
        click.echo(text("cli.error", detail=translate(str(exc))), err=True)
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_OK)
