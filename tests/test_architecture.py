"""The shape of the package: layering contracts, module-level imports, and a CLI that uses only public names."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import vaxcert
import vaxcert.registry
import vaxcert.service

REPO = Path(__file__).resolve().parents[1]
SRC = Path(vaxcert.__file__).parent

#: Modules that need an optional extra: the only ones imported inside functions (when first used).
OPTIONAL_MODULES = frozenset({"vaxcert.qr.photo", "vaxcert.card", "vaxcert.pki.hsm", "vaxcert.registry.postgres",
                              "vaxcert.service", "vaxcert.checkpoint"})
#: Top-level names that come from those modules (see ``vaxcert._LAZY``).
LAZY_NAMES = frozenset(vaxcert._LAZY)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(path: Path, node: ast.ImportFrom) -> str:
    """The absolute module an ``import from`` names."""
    if node.level == 0:
        return node.module or ""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _function_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.extend(n for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom))
    return found


def test_imports_are_at_module_level_except_optional_extras() -> None:
    """Inside functions, vaxcert imports only what needs an optional extra; everything else is at module level."""
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in _function_imports(tree):
            if isinstance(node, ast.Import):
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno} import {node.names[0].name}")
                continue
            target = _resolve(path, node)
            names = {alias.name for alias in node.names}
            if target in OPTIONAL_MODULES or {f"{target}.{n}" for n in names} <= OPTIONAL_MODULES:
                continue
            if target == "vaxcert" and names <= LAZY_NAMES:
                continue
            offenders.append(f"{path.relative_to(SRC)}:{node.lineno} from {target} import {', '.join(sorted(names))}")
    assert offenders == []


def _declared_all(path: Path) -> set[str]:
    """A module's ``__all__`` read from its source (the module may need an extra to import)."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return {elt.value for elt in node.value.elts if isinstance(elt, ast.Constant)}  # type: ignore[attr-defined]
    return set()


def test_cli_imports_only_public_names() -> None:
    """cli/ imports public names of vaxcert, vaxcert.registry and the front ends vaxcert.service and
    vaxcert.checkpoint (their __all__), its own helpers, nothing else."""
    public = {"vaxcert": set(vaxcert.__all__), "vaxcert.registry": set(vaxcert.registry.__all__),
              "vaxcert.service": set(vaxcert.service.__all__),
              "vaxcert.checkpoint": _declared_all(SRC / "checkpoint" / "__init__.py")}
    offenders = []
    for path in sorted((SRC / "cli").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import) and any(a.name.startswith("vaxcert") for a in node.names):
                offenders.append(f"{path.name}:{node.lineno} import vaxcert…")
            if not isinstance(node, ast.ImportFrom):
                continue
            target = _resolve(path, node)
            if not target.startswith("vaxcert") or target.startswith("vaxcert.cli"):
                continue
            names = {alias.name for alias in node.names}
            missing = names - public.get(target, set())
            if missing:
                offenders.append(f"{path.name}:{node.lineno} {target}: {', '.join(sorted(missing))}")
    assert offenders == []


def test_registry_workflows_hold_no_sql() -> None:
    """SQL lives in the adapters and the shared store; workflows and the CLI call domain methods."""
    sql_words = ("SELECT ", "INSERT INTO", "UPDATE persons", "DELETE FROM", "tx.query", "tx.execute")
    allowed = {"store.py", "sqlite.py", "postgres.py", "_migrations.py", "protocol.py", "opening.py"}
    offenders = []
    for path in sorted([*(SRC / "registry").glob("*.py"), *(SRC / "cli").glob("*.py")]):
        if path.name in allowed:
            continue
        text = path.read_text(encoding="utf-8")
        offenders.extend(f"{path.relative_to(SRC)}: {w.strip()}" for w in sql_words if w in text)
        if ".backend ==" in text or '== "postgresql"' in text:
            offenders.append(f"{path.relative_to(SRC)}: backend branching")
    assert offenders == []


def test_layering_contracts_hold() -> None:
    """import-linter's contracts (pyproject.toml: layers, no cycles, a thin CLI) are kept."""
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint is not None, "import-linter is a test dependency (pip install -e '.[test]')"
    done = subprocess.run([lint, "--no-cache"], cwd=REPO, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "Contracts: 5 kept, 0 broken." in done.stdout


def test_library_reads_no_environment_and_draws_nothing() -> None:
    """Outside cli/, no module reads environment variables or writes to the terminal (callbacks and parameters do)."""
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if "cli" in path.relative_to(SRC).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if (node.value.id, node.attr) in {("os", "environ"), ("os", "getenv"), ("sys", "stderr"),
                                                  ("sys", "stdout")}:  # fmt: skip
                    offenders.append(f"{path.relative_to(SRC)}:{node.lineno} {node.value.id}.{node.attr}")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in {"print", "input"}:
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno} {node.func.id}()")
    assert offenders == []
