"""Every command shown in README.md and docs/*.md ``console`` blocks runs, and prints what the page says.

The convention (README: "Commands in the documentation"): a fenced block with the info string
``console`` is a terminal session.  Lines starting with ``$ `` are commands (a line ending in
``\\`` continues on the next, which may start with ``> ``); the lines after a command, up to
the next ``$ ``, are its expected output, stdout and stderr together.  ``...`` in expected output
matches anything (within a line, or whole lines); a command shown without output is run, but its
output is not compared.  The exit status must be 0, unless the last expected line is
``[exit N]``.  Other blocks (synopses with placeholders, Python, JSON) are not run.

Each page runs in its own temporary folder, block after block like a reader following it, with:
``demo-out/`` (the demo's output: keys, registry, QR codes, HC1 texts, the offline bundle),
``examples/``, ``tools/``, a copy of ``test_vectors/``, ``.venv`` and ``../shared``.  ``vaxcert``
is the test environment's console script; ``VAXCERT_KEY_PASSWORD`` is the demo's password and an
``export`` line holds for the rest of the page.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import SHARED

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
DEMO_PASSWORD = "vaxcert-demo-password"
_FENCE = re.compile(r"^(?P<indent>[ ]*)```(?P<info>\S*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S)
_EXIT = re.compile(r"^\[exit (\d+)\]$")


@dataclass(frozen=True)
class Command:
    """One ``$`` command of a page, its expected output lines and exit status."""

    page: str
    line: int
    command: str
    expected: tuple[str, ...]
    status: int


def commands_of(page: Path) -> list[Command]:
    """The commands of every ``console`` block of ``page``, in order."""
    text = page.read_text(encoding="utf-8")
    found: list[Command] = []
    for block in _FENCE.finditer(text):
        if block["info"] != "console":
            continue
        first_line = text.count("\n", 0, block.start("body")) + 1
        indent = len(block["indent"])
        lines = [line[indent:] if line[:indent].isspace() else line for line in block["body"].splitlines()]
        i = 0
        while i < len(lines):
            if not lines[i].startswith("$ "):
                raise AssertionError(f"{page.name}:{first_line + i}: console block text before a '$ ' command")
            start = i
            command = lines[i][2:]
            while command.endswith("\\") and i + 1 < len(lines):
                i += 1
                continued = lines[i].strip()
                command = command[:-1] + " " + (continued[2:] if continued.startswith("> ") else continued)
            i += 1
            expected: list[str] = []
            while i < len(lines) and not lines[i].startswith("$ "):
                expected.append(lines[i].rstrip())
                i += 1
            while expected and not expected[-1]:
                expected.pop()
            status = 0
            if expected and (exit_line := _EXIT.match(expected[-1])):
                status = int(exit_line[1])
                expected.pop()
            found.append(Command(page.name, first_line + start, command, tuple(expected), status))
    return found


def output_matches(expected: tuple[str, ...], output: str) -> bool:
    """Doctest-style comparison with ``...`` as a wildcard (a whole ``...`` line spans any lines)."""
    got = "\n".join(line.rstrip() for line in output.rstrip().splitlines())
    pattern = "\n".join(".*?" if line.strip() == "..." else ".*?".join(map(re.escape, line.split("...")))
                        for line in expected)  # fmt: skip
    pattern = pattern.replace("\n.*?\n", "(?:\n.*?)?\n")
    return re.fullmatch(pattern, got, re.S) is not None


@pytest.fixture(scope="session")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's outputs, made once (without its final scan)."""
    out = tmp_path_factory.mktemp("docs-demo") / "demo-out"
    env = {**os.environ, "VAXCERT_KEY_PASSWORD": DEMO_PASSWORD}
    made = subprocess.run([sys.executable, str(REPO / "examples" / "demo.py"), "--out", str(out), "--no-scan"],
                          env=env, capture_output=True, text=True, check=False, timeout=600)  # fmt: skip
    assert made.returncode == 0, made.stdout + made.stderr
    return out


def workspace(root: Path, demo_out: Path) -> Path:
    """A reader's folder: demo-out (a copy), examples, tools, test_vectors (a copy), .venv, ../shared."""
    work = root / "work"
    work.mkdir()
    shutil.copytree(demo_out, work / "demo-out")
    shutil.copytree(REPO / "test_vectors", work / "test_vectors")
    for name in ("examples", "tools"):
        (work / name).symlink_to(REPO / name)
    (work / ".venv").symlink_to(Path(sys.prefix))
    (root / "shared").symlink_to(SHARED)
    return work


def test_console_blocks_are_well_formed() -> None:
    """Every console block has commands; the README and several pages have runnable commands."""
    counts = {page.name: len(commands_of(page)) for page in PAGES}
    assert counts["README.md"] >= 8
    assert sum(1 for n in counts.values() if n) >= 6
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for block in _FENCE.finditer(text):
            if block["info"] == "console":
                assert block["body"].lstrip().startswith("$ "), f"{page.name}: a console block must start with '$ '"


@pytest.mark.parametrize("page", [p for p in PAGES if commands_of(p)], ids=lambda p: p.name)
def test_page_commands_run_as_shown(page: Path, demo_out: Path, tmp_path: Path) -> None:
    """Each command of the page exits as shown and prints the output shown (with ... wildcards)."""
    work = workspace(tmp_path, demo_out)
    exports = tmp_path / "exports.sh"
    exports.write_text(f"export VAXCERT_KEY_PASSWORD='{DEMO_PASSWORD}'\n", encoding="utf-8")
    bin_dir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if k not in {"VAXCERT_LANG", "VAXCERT_DB", "VAXCERT_KEY_PASSWORD"}}
    env.update({"PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", "COLUMNS": "120", "NO_COLOR": "1",
                "PYTHONUNBUFFERED": "1"})  # output in the order a terminal shows it
    for command in commands_of(page):
        if command.command.startswith("export "):
            with exports.open("a", encoding="utf-8") as fh:
                fh.write(command.command + "\n")
        script = f"set -o pipefail\n. {exports}\n{command.command}\n"
        done = subprocess.run(["bash", "-c", script], cwd=work, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, check=False, timeout=600)  # fmt: skip
        output = done.stdout
        where = f"{command.page}:{command.line}: $ {command.command}"
        assert done.returncode == command.status, f"{where}\nexit {done.returncode}\n{output}"
        if command.expected:
            assert output_matches(command.expected, output), (
                f"{where}\n--- expected\n" + "\n".join(command.expected) + f"\n--- got\n{output}")


def test_output_matching_convention() -> None:
    """The matcher: exact lines, ... within a line, ... spanning lines, and mismatches caught."""
    assert output_matches(("VALID type=v kid=... issuer=VN",), "VALID type=v kid=00ff issuer=VN\n")
    assert output_matches(("first", "...", "last"), "first\nsecond\nthird\nlast\n")
    assert output_matches(("first", "...", "last"), "first\nlast\n")
    assert not output_matches(("VALID",), "INVALID\n")
    assert not output_matches(("a", "b"), "a\nb\nc\n")
