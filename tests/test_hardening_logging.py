"""Issue 10, item 16: structured log events, JSON lines from the CLI, internal errors with their traceback."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from cli_inprocess import run
from conftest import NOW, Pki
from registry_support import dose_row, write_csv
from test_issue_verify import VACCINATION
from vaxcert import FailureCode, Issuer, JsonFormatter, Verifier, log_event
from vaxcert import verifier as verifier_mod
from vaxcert.registry import open_registry, submit_job

AT = ["--at", NOW.isoformat()]


def test_log_event_allows_only_listed_fields() -> None:
    """Unknown field names, long text and structured values are refused: no event can carry a record."""
    log = logging.getLogger("vaxcert.test")
    log_event(log, "x.ok", rows=3, facility="VN-HN-001", kids=["a1b2"], seconds=0.5)
    for bad in ({"name": "NGUYEN"}, {"facility": "x" * 200}, {"rows": {"fn": "NGUYEN"}}):
        with pytest.raises(ValueError):
            log_event(log, "x.bad", **bad)


def test_json_formatter() -> None:
    """One JSON object per record: ts, level, logger, event and the fields."""
    log = logging.getLogger("vaxcert.test.json")
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        log_event(log, "import.done", rows=5, rejected=1, seconds=0.25)
    finally:
        log.removeHandler(handler)
    line = json.loads(JsonFormatter().format(records[0]))
    assert line["event"] == "import.done" and line["rows"] == 5 and line["level"] == "INFO"
    assert line["logger"] == "vaxcert.test.json" and line["ts"].endswith("Z")


def test_internal_error_keeps_its_traceback_without_the_message(
    pki: Pki, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug inside the verifier: INTERNAL_ERROR, and an ERROR event with the frames but not the message."""
    cert = Issuer(pki.signer, facility_override=True).issue(VACCINATION, now=NOW)

    def broken(payload: bytes) -> object:
        raise KeyError("NGUYEN VAN A 1985-04-12")

    monkeypatch.setattr(verifier_mod.cwt, "decode", broken)
    caplog.set_level(logging.DEBUG, logger="vaxcert")
    result = Verifier(pki.trust).verify(cert.hc1, now=NOW)
    assert result.code == FailureCode.INTERNAL_ERROR
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    fields = errors[0].vaxcert_event  # type: ignore[attr-defined]
    assert fields["event"] == "verify.internal_error" and fields["exc_type"] == "KeyError"
    assert "verifier.py" in fields["traceback"] and "in _verify" in fields["traceback"]
    assert "in broken" in fields["traceback"]
    assert "NGUYEN" not in caplog.text and "1985" not in caplog.text and "NGUYEN" not in fields["traceback"]


def test_cli_json_log_lines(tmp_path: Path) -> None:
    """vaxcert -v --log-format json: JSON lines on stderr with counts and durations; quiet by default."""
    url = f"sqlite:///{tmp_path}/registry.db"
    assert run("registry", "init", "--db", url).returncode == 0
    path = write_csv(tmp_path / "d.csv", [dose_row(1), dose_row(2), {**dose_row(3), "dob": "x"}])
    r = run("-v", "--log-format", "json", "registry", "import", "--db", url, "--quiet", *AT, str(path))
    assert r.returncode == 1
    lines = [json.loads(line) for line in r.stderr.splitlines() if line.startswith("{")]
    done = next(line for line in lines if line["event"] == "import.done")
    assert (done["rows"], done["inserted"], done["rejected"], done["backend"]) == (3, 2, 1, "sqlite")
    assert isinstance(done["seconds"], float) and any(line["event"] == "reconcile.done" for line in lines)
    assert not any(line["event"] == "import.chunk" for line in lines)  # DEBUG: only with -vv / --debug
    r = run("--debug", "--log-format", "json", "--log-file", str(tmp_path / "log.jsonl"), "registry", "import",
            "--db", url, "--quiet", *AT, str(path))  # fmt: skip
    logged = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert any(line["event"] == "import.chunk" for line in logged) and not r.stderr.startswith("{")
    r = run("registry", "import", "--db", url, "--quiet", *AT, str(path))
    assert "import.done" not in r.stderr
    for text in (r.stderr, (tmp_path / "log.jsonl").read_text()):
        assert dose_row(1)["citizen_id"] not in text and "Nguy" not in text


def _log_lines(stderr: str) -> list[dict[str, Any]]:
    """The JSON log lines of a command's stderr."""
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


def test_worker_logs_each_event_once(tmp_path: Path) -> None:
    """vaxcert -v registry worker: its events and the registry's as JSON lines, each once (no second handler)."""
    url = f"sqlite:///{tmp_path}/registry.db"
    registry = open_registry(url, migrate=True)
    try:
        data = write_csv(tmp_path / "d.csv", [dose_row(1), dose_row(2)]).read_bytes()
        submit_job(registry, data, "csv", account="hn1", facility="VN-HN-001", now=NOW)
    finally:
        registry.close()
    r = run("-v", "registry", "worker", "--db", url, "--once")
    assert r.returncode == 0, r.stderr
    logged = [line for line in r.stderr.splitlines() if line.strip() and not line.startswith("worker stopped")]
    assert logged and all(line.startswith("{") for line in logged)  # JSON lines only, no text copy
    assert r.stderr.count("import.done") == 1 and r.stderr.count("reconcile.done") >= 1
    r = run("--log-format", "text", "registry", "worker", "--db", url, "--once", "--log-level", "warning")
    assert r.returncode == 0 and "reconcile.done" not in r.stderr  # the command's --log-level holds


def test_serve_logs_each_event_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """vaxcert -v serve: request events and uvicorn's own lines go to one handler, as JSON lines, each once."""
    import uvicorn
    from fastapi.testclient import TestClient

    def run_server(self: uvicorn.Server) -> None:
        logging.getLogger("uvicorn.error").info("Uvicorn running")
        with TestClient(self.config.app) as client:
            assert client.get("/health").status_code == 200

    monkeypatch.setattr(uvicorn.Server, "run", run_server)
    url = f"sqlite:///{tmp_path}/registry.db"
    open_registry(url, migrate=True).close()
    r = run("-v", "serve", "--db", url)
    assert r.returncode == 0, r.stderr
    lines = _log_lines(r.stderr)
    requests = [line for line in lines if line["event"] == "service.request"]
    assert len(requests) == 1 and requests[0]["route"] == "/health" and requests[0]["status"] == 200
    assert [line["logger"] for line in lines if line.get("message") == "Uvicorn running"] == ["uvicorn.error"]
    assert r.stderr.count("service.request") == 1 and r.stderr.count("Uvicorn running") == 1
    r = run("--log-format", "text", "serve", "--db", url, "--log-level", "warning")
    assert r.returncode == 0 and "service.request" not in r.stderr and "Uvicorn running" not in r.stderr
    assert logging.getLogger("uvicorn").propagate  # restored when the command ends
