"""The language of the CLI's user-facing messages: ``--lang vi|en`` (or ``VAXCERT_LANG``).

One table per language (:mod:`.messages_en`, :mod:`.messages_vi`, the same keys).  Commands
print their own texts with :func:`text`; library errors and warnings, which the library writes
in English, go through :func:`translate`, which finds the ``lib.*`` pattern a message matches
(placeholders for paths, kids, counts) and writes it in the chosen language, translating nested
messages too (``path: message``, ``message (CODE)``, ``message (value-set-name)``, ``{detail}``).
A message with no pattern is shown as the library wrote it.  Help texts stay English.

The language is process state of the command line (set by the option's callback while click
parses, read by :func:`vaxcert.cli._common.run_main` when it prints an error); the library never
sees it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar

import click

from . import messages_en, messages_vi

__all__ = ["LANGUAGES", "TABLES", "lang_option", "language", "set_language", "text", "translate"]

#: The languages every message exists in.
LANGUAGES: Final = ("vi", "en")
#: The tables, by language.
TABLES: Final[Mapping[str, Mapping[str, str]]] = {"en": messages_en.MESSAGES, "vi": messages_vi.MESSAGES}
#: Placeholders whose values are messages themselves (translated in turn).
_NESTED: Final = frozenset({"detail", "what", "purpose", "label"})

_state = {"lang": "en"}

F = TypeVar("F", bound=Callable[..., Any])


def set_language(lang: str) -> None:
    """Use ``lang`` for the messages printed from now on."""
    if lang not in TABLES:
        raise ValueError(f"unsupported language {lang!r}")
    _state["lang"] = lang


def language() -> str:
    """The language messages are printed in."""
    return _state["lang"]


def text(key: str, /, **values: object) -> str:
    """The message ``key`` in the current language, with ``values`` filled in."""
    table = TABLES[_state["lang"]]
    return (table.get(key) or TABLES["en"][key]).format(**values)


@functools.cache
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """The ``lib.*`` English templates as regular expressions, most literal text first."""
    out = []
    for key, template in TABLES["en"].items():
        if not key.startswith("lib."):
            continue
        parts = re.split(r"\{(\w+)\}", template)
        regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts))
        literal = sum(len(p) for p in parts[::2])
        out.append((literal, key, re.compile(regex, re.S)))
    out.sort(key=lambda item: -item[0])
    return tuple((key, pattern) for _, key, pattern in out)


#: A failure code or a value-set name in parentheses at the end: kept as it is, the rest translated.
_CODE_SUFFIX: Final = re.compile(r"(?P<message>.+) \((?P<code>[A-Z][A-Z0-9_]+|[a-z][a-z0-9]*(?:-[a-z0-9]+)+)\)", re.S)


def translate(message: str) -> str:
    """A library message (English) in the current language; unchanged when English or unknown."""
    if _state["lang"] == "en" or not message:
        return message
    return _translate(message, 0)


def _translate(message: str, depth: int) -> str:
    if depth > 4:
        return message
    table = TABLES[_state["lang"]]
    for key, pattern in _patterns():
        found = pattern.fullmatch(message)
        if found is None:
            continue
        values = {name: _translate(value, depth + 1) if name in _NESTED else value
                  for name, value in found.groupdict().items()}  # fmt: skip
        return table[key].format(**values)
    coded = _CODE_SUFFIX.fullmatch(message)
    if coded is not None:
        inner = _translate(coded["message"], depth + 1)
        if inner != coded["message"]:
            return f"{inner} ({coded['code']})"
    head, sep, tail = message.partition(": ")
    if sep:
        translated = _translate(tail, depth + 1)
        if translated != tail:
            return f"{head}: {translated}"
    return message


def _remember(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        set_language(value)
    return value


def lang_option(default: str | None = "en", *, expose_value: bool = True,
                what: str = "messages, error messages and rule descriptions") -> Callable[[F], F]:  # fmt: skip
    """``--lang vi|en`` (default from ``VAXCERT_LANG``, else ``default``): messages and errors in that language.

    ``default=None`` keeps the language chosen before (a subcommand under a group's ``--lang``);
    ``what`` names what the language applies to in the help text.
    """
    return click.option(
        "--lang", type=click.Choice(list(LANGUAGES)), default=default, show_default=default is not None,
        envvar="VAXCERT_LANG", expose_value=expose_value, is_eager=True, callback=_remember,
        help=f"Language of {what} (help stays English); env VAXCERT_LANG.",
    )  # fmt: skip
