"""The public API: explicit __all__, everything importable, redacted reprs."""

from __future__ import annotations

import vaxcert
from conftest import Pki


def test_all_names_importable() -> None:
    """Every name in vaxcert.__all__ exists and nothing public is left out."""
    for name in vaxcert.__all__:
        assert hasattr(vaxcert, name), name
    assert sorted(vaxcert.__all__) == sorted(set(vaxcert.__all__))
    assert {"issue", "verify", "Issuer", "Verifier", "FailureCode", "Stage", "VaxcertError"} <= set(vaxcert.__all__)


def test_failure_codes_are_stable_strings() -> None:
    """Failure codes serialise as their own names (tools parse them)."""
    for code in vaxcert.FailureCode:
        assert str(code) == code.name


def test_signer_repr_redacts_key(pki: Pki) -> None:
    """A signer's repr names the algorithm and kid, never key material."""
    text = repr(pki.signer)
    assert "ES256" in text and "redacted" in text
    assert isinstance(pki.signer, vaxcert.Signer)


def test_core_does_not_import_cli_or_registry() -> None:
    """Core modules never import the CLI or registry layers (the front ends above them, cli/ and service/, may)."""
    import ast
    from pathlib import Path

    src = Path(vaxcert.__file__).parent
    core = [p for p in src.rglob("*.py")
            if not ({"cli", "service", "registry", "__main__.py"} & set(p.relative_to(src).parts))]
    for path in core:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                module = node.module.lstrip(".")
                assert not module.startswith(("cli", "registry", "vaxcert.cli", "vaxcert.registry")), path
