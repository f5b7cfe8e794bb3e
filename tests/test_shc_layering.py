"""The layering of the new modules: events at the bottom, formats/ above stages and the DCC level only."""

from __future__ import annotations

import ast
from pathlib import Path

import vaxcert
import vaxcert.formats.shc

SRC = Path(vaxcert.__file__).parent
#: What formats/ may import from vaxcert (DCC-level modules may live in vaxcert.dcc after the reshape).
FORMATS_MAY_IMPORT = ("codes", "errors", "events", "stages", "jsonio", "dcc", "model", "translit", "valuesets",
                      "formats", "logs")


def _vaxcert_imports(path: Path) -> set[str]:
    """The vaxcert modules a file imports (first component below vaxcert)."""
    package = path.relative_to(SRC.parent).with_suffix("").parts[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[: len(package) - node.level + 1])
                parts = base + (node.module.split(".") if node.module else [])
                if not node.module:
                    parts += [alias.name for alias in node.names]
            else:
                parts = (node.module or "").split(".")
            if parts[:1] == ["vaxcert"] and len(parts) > 1:
                found.add(parts[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "vaxcert" and len(parts) > 1:
                    found.add(parts[1])
    return found


def test_events_is_bottom_level() -> None:
    """vaxcert.events imports nothing from vaxcert but codes, errors and the DCC's coded values (defined once)."""
    assert _vaxcert_imports(SRC / "events.py") <= {"codes", "errors", "dcc"}


def test_formats_import_only_lower_layers() -> None:
    """formats/ never imports the verifier, issuer, registry, rules, qr, trust lists or front ends."""
    files = sorted((SRC / "formats").rglob("*.py"))
    assert len(files) >= 7
    for path in files:
        imported = _vaxcert_imports(path)
        assert imported <= set(FORMATS_MAY_IMPORT), (path.name, imported - set(FORMATS_MAY_IMPORT))


def test_public_names() -> None:
    """Every name in vaxcert.formats.shc.__all__ exists."""
    for name in vaxcert.formats.shc.__all__:
        assert hasattr(vaxcert.formats.shc, name), name
    assert {"verify_shc", "verify_shc_all", "ShcTrust", "ShcResult", "ShcVerifier"} <= set(vaxcert.formats.shc.__all__)
