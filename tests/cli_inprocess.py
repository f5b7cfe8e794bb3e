"""Run the vaxcert CLI in-process (same entry point and exit-code mapping, no interpreter start-up)."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from click.testing import CliRunner

from vaxcert.cli import cli
from vaxcert.cli._common import run_main

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Run:
    """Exit code and captured output of one command."""

    returncode: int
    stdout: str
    stderr: str


def run(*args: str, stdin: str | None = None, env: dict[str, str | None] | None = None) -> Run:
    """``vaxcert ARGS`` through :func:`vaxcert.cli._common.run_main`, as the console script runs it."""
    runner = CliRunner()
    saved = sys.argv
    code = 0
    with runner.isolation(input=stdin, env={"VAXCERT_KEY_PASSWORD": PASSWORD, **(env or {})}) as (out, err, _):
        sys.argv = ["vaxcert", *args]
        try:
            run_main(cli)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
        finally:
            sys.argv = saved
        stdout, stderr = out.getvalue().decode(), err.getvalue().decode()
    return Run(code, stdout, stderr)
