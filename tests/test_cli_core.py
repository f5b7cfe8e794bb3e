"""The command line: keys, issue, verify (exit codes, JSON fields, no personal data by default)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from test_issue_verify import VACCINATION

PASSWORD = "correct horse battery staple"


def run(
    *args: str, stdin: str | None = None, env_extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the vaxcert CLI in a subprocess."""
    env = {**os.environ, "VAXCERT_KEY_PASSWORD": PASSWORD, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "vaxcert.cli", *args], input=stdin, capture_output=True,
                          text=True, env=env, timeout=60)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ministry and one facility created through the CLI."""
    base = tmp_path_factory.mktemp("keys")
    r = run("keys", "init-ministry", "--country", "VN", "--out", str(base / "ministry"))
    assert r.returncode == 0, r.stderr
    r = run("keys", "issue-dsc", "--ministry", str(base / "ministry"), "--facility-id", "VN-HN-001",
            "--name", "Bach Mai Hospital", "--types", "v,t,r", "--out", str(base / "hn001"))
    assert r.returncode == 0, r.stderr
    return base


def test_key_files_are_encrypted(keys: Path) -> None:
    """Private keys are password-encrypted PKCS#8 PEM."""
    for key in (keys / "ministry" / "csca.key.pem", keys / "hn001" / "dsc.key.pem"):
        assert key.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
        assert key.stat().st_mode & 0o077 == 0


def test_missing_password_is_a_usage_error(tmp_path: Path) -> None:
    """Without VAXCERT_KEY_PASSWORD the command exits 2 and says why."""
    r = run("keys", "init-ministry", "--country", "VN", "--out", str(tmp_path), env_extra={"VAXCERT_KEY_PASSWORD": ""})
    assert r.returncode == 2 and "VAXCERT_KEY_PASSWORD" in r.stderr


def test_issue_and_verify_json(keys: Path, tmp_path: Path) -> None:
    """issue prints an HC1 string that verify accepts; JSON has the documented fields, no payload."""
    payload = tmp_path / "p.json"
    payload.write_text(json.dumps(VACCINATION, ensure_ascii=False), encoding="utf-8")
    r = run("issue", "--key", str(keys / "hn001" / "dsc.key.pem"), "--cert", str(keys / "hn001" / "dsc.pem"),
            "--facility-override", str(payload))
    assert r.returncode == 0, r.stderr
    hc1 = r.stdout.strip()
    assert hc1.startswith("HC1:")
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).astimezone(dt.timezone(dt.timedelta(hours=7)))
    r = run("verify", "--trust", str(keys / "hn001"), "--at", tomorrow.isoformat(), "--format", "json", hc1)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert {"valid", "code", "stage", "kid", "type", "issued_at", "expires_at"} <= set(out)
    assert out["valid"] is True and out["type"] == "v" and out["code"] == "OK"
    assert "Nguy" not in r.stdout and "payload" not in out
    r = run("verify", "--trust", str(keys / "hn001" / "dsc.pem"), "--show-payload",
            "--format", "json", "-", stdin=hc1 + "\n")
    assert json.loads(r.stdout)["payload"]["nam"]["fn"] == "Nguyễn"


def test_verify_invalid_exit_1(keys: Path) -> None:
    """An invalid certificate exits 1 with the code and stage."""
    r = run("verify", "--trust", str(keys / "hn001"), "HC2:XYZ")
    assert r.returncode == 1 and "PREFIX_UNSUPPORTED" in r.stdout


def test_verify_without_trust_is_usage_error() -> None:
    """No trust configured: exit 2 with a message naming the option."""
    r = run("verify", "HC1:XYZ")
    assert r.returncode == 2 and "--trust" in r.stderr


def test_issue_refuses_bad_input(keys: Path, tmp_path: Path) -> None:
    """Bad input: exit 2 and a message naming the field, without personal data."""
    bad = dict(VACCINATION, v=[dict(VACCINATION["v"][0], dn=3, sd=2)])
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    r = run("issue", "--key", str(keys / "hn001" / "dsc.key.pem"), "--cert", str(keys / "hn001" / "dsc.pem"),
            "--facility-override", str(path))
    assert r.returncode == 2
    assert "dn" in r.stderr and "NGUYEN" not in r.stderr


def test_bad_time_is_usage_error(keys: Path) -> None:
    """A malformed --at exits 2."""
    r = run("verify", "--trust", str(keys / "hn001"), "--at", "yesterday", "HC1:X")
    assert r.returncode == 2 and "--at" in r.stderr
