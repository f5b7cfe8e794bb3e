"""Wheel build hook: compile the optional C shortcuts into the wheel when a C compiler is there.

A wheel built with them is tagged for its platform and interpreter; without a compiler, or with
``VAXCERT_PURE_PYTHON=1``, the wheel stays pure Python and vaxcert runs its reference code
(scripts/build_speedups.py says more).  Editable installs build in place (scripts/setup.sh).
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

_SCRIPT = Path(__file__).resolve().parent / "scripts" / "build_speedups.py"


class SpeedupsBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Adds vaxcert/stages/_speedups.<abi>.so to a regular wheel build."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Compile into a temporary folder and force-include the module; warn and go pure on failure."""
        if self.target_name != "wheel" or version == "editable" or os.environ.get("VAXCERT_PURE_PYTHON"):
            return
        spec = importlib.util.spec_from_file_location("build_speedups", _SCRIPT)
        assert spec is not None and spec.loader is not None
        script = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(script)
        folder = Path(tempfile.mkdtemp(prefix="vaxcert-speedups-"))
        target = folder / script.MODULE_NAME
        problem = script.compile_to(target)
        if problem is not None:
            self.app.display_warning(f"vaxcert: building a pure-Python wheel (no C shortcuts): {problem}")
            return
        build_data["force_include"][str(target)] = f"vaxcert/stages/{script.MODULE_NAME}"
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
