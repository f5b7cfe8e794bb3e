"""A lean install: the wheel, installed without extras in a fresh venv, verifies an HC1 string.

It must not pull in psycopg, python-pkcs11, fpdf2, zxing-cpp, Pillow, Starlette or uvicorn (the extras), nor
ship the vector generator with its test keys; a name from an extra says which extra to install.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from conftest import NOW, Pki
from test_issue_verify import VACCINATION
from vaxcert import Issuer, certificate_pem

REPO = Path(__file__).resolve().parents[1]

CHECK = r"""
import datetime as dt, importlib.util, json, sys
import vaxcert
hc1, dsc, now = sys.argv[1], sys.argv[2], dt.datetime.fromisoformat(sys.argv[3])
result = vaxcert.verify(hc1, vaxcert.TrustList.from_paths([dsc]), now=now)
extras = {name: importlib.util.find_spec(name) is not None
          for name in ("psycopg", "psycopg_pool", "pkcs11", "fpdf", "zxingcpp", "PIL", "segno", "starlette",
                       "uvicorn")}
try:
    vaxcert.decode_image(b"")
    missing = None
except vaxcert.MissingExtraError as exc:
    missing = str(exc)
try:
    from vaxcert.registry import open_registry
    open_registry("postgresql://nobody@127.0.0.1:1/none")
    postgres = None
except vaxcert.MissingExtraError as exc:
    postgres = str(exc)
print(json.dumps({"valid": result.valid, "code": str(result.code), "extras": extras, "missing": missing,
                  "postgres": postgres, "generator": importlib.util.find_spec("vaxcert.vectors.generate") is not None,
                  "compiled": importlib.util.find_spec("vaxcert.stages._speedups") is not None}))
"""


@pytest.mark.slow
def test_wheel_without_extras_verifies(tmp_path: Path, pki: Pki) -> None:
    """pip wheel . --no-deps; install it bare in a fresh venv; it verifies HC1 (with the compiled shortcuts
    built into the wheel) and pulls in no extra."""
    wheels = tmp_path / "wheels"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation",
                            "-q", "-w", str(wheels)], capture_output=True, text=True, check=False)  # fmt: skip
    assert built.returncode == 0, built.stderr[-2000:]
    [wheel] = wheels.glob("vaxcert-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "-none-any" not in wheel.name, wheel.name  # hatch_build.py compiled the C shortcuts (gcc is set up)
    assert any(name.startswith("vaxcert/stages/_speedups.") and name.endswith(".so") for name in names)
    for asset in ("index.html", "app.js", "app.css", "icon.svg", "fonts/vx-sans.woff", "fonts/vx-sans-bold.woff",
                  "fonts/DEJAVU-LICENSE"):
        assert f"vaxcert/checkpoint/static/{asset}" in names, asset  # the page is package data
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    installed = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                                "--disable-pip-version-check", str(wheel)], capture_output=True, text=True,
                               check=False)  # fmt: skip
    assert installed.returncode == 0, installed.stderr[-2000:]

    cert = Issuer(pki.signer, facility_override=True).issue(VACCINATION, now=NOW)
    dsc = tmp_path / "dsc.pem"
    dsc.write_bytes(certificate_pem(pki.dsc))
    at = (NOW + dt.timedelta(hours=1)).isoformat()
    done = subprocess.run([str(python), "-c", CHECK, cert.hc1, str(dsc), at], capture_output=True, text=True,
                          cwd=tmp_path, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["valid"] and report["code"] == "OK"
    assert report["extras"] == dict.fromkeys(report["extras"], False), report["extras"]
    assert "pip install 'vaxcert[qr]'" in report["missing"]
    assert "pip install 'vaxcert[registry]'" in report["postgres"]
    assert report["generator"] is False
    assert report["compiled"] is True

    cli = subprocess.run([str(env_dir / "bin" / "vaxcert"), "verify", "--trust", str(dsc), "--at", at, cert.hc1],
                         capture_output=True, text=True, cwd=tmp_path, check=False)  # fmt: skip
    assert cli.returncode == 0 and cli.stdout.startswith("VALID"), cli.stdout + cli.stderr

    page = subprocess.run([str(env_dir / "bin" / "vaxcert"), "checkpoint", "serve", "--bundle", "b.cose", "--csca",
                           str(dsc), "--country", "VN"], capture_output=True, text=True, cwd=tmp_path, check=False)
    assert page.returncode == 2 and "pip install 'vaxcert[checkpoint]'" in page.stderr, page.stderr


@pytest.mark.slow
def test_pure_python_wheel_on_request(tmp_path: Path) -> None:
    """VAXCERT_PURE_PYTHON=1 at build time gives a py3-none-any wheel without the compiled module."""
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation",
                            "-q", "-w", str(tmp_path)], capture_output=True, text=True, check=False,
                           env={**os.environ, "VAXCERT_PURE_PYTHON": "1"})  # fmt: skip
    assert built.returncode == 0, built.stderr[-2000:]
    [wheel] = tmp_path.glob("vaxcert-*.whl")
    assert wheel.name.endswith("-py3-none-any.whl"), wheel.name
    assert not [name for name in zipfile.ZipFile(wheel).namelist() if name.endswith(".so")]
