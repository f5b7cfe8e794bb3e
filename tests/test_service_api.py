"""The signing service over HTTP: each role's allowed and refused actions, jobs, citizens, overload (no network)."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cli_inprocess import run
from registry_support import (
    NOW,
    dose_row,
    facility_signers,
    keyring,
    register_rows,
    windows_1258,
    write_csv,
)
from vaxcert import JsonFormatter
from vaxcert.registry import (
    KeyRing,
    RateLimit,
    Registry,
    add_account,
    import_file,
    issue_pending,
    load_register,
    open_registry,
    process_next_job,
    reconcile,
    request_correction,
    set_facility_district,
)
from vaxcert.service import ServiceSettings, create_app

FACILITIES = ("VN-HN-001", "VN-HN-002", "VN-SG-002")
ROLES = {  # account name -> (role, area)
    "hn1": ("facility", "VN-HN-001"),
    "hn2": ("facility", "VN-HN-002"),
    "sg": ("facility", "VN-SG-002"),
    "hanoi": ("province", "HN"),
    "saigon": ("province", "SG"),
    "badinh": ("district", "BA-DINH"),
    "moh": ("ministry", None),
}
PERSON0 = dose_row(0)["citizen_id"]


@dataclass
class Service:
    """A test client, one token per account, the registry behind it and the facilities' keys."""

    client: TestClient
    tokens: dict[str, str]
    registry: Registry
    ring: KeyRing
    path: Path

    def as_(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}

    def work(self) -> None:
        """What a `registry worker` does: import queued jobs, reconcile, issue."""
        while process_next_job(self.registry, worker="test", now=NOW) is not None:
            pass
        reconcile(self.registry, now=NOW)
        issue_pending(self.registry, self.ring, now=NOW, pipeline=False)


def _make(tmp_path: Path, pki: Any, **options: Any) -> Iterator[Service]:
    db = tmp_path / "registry.db"
    registry = open_registry(f"sqlite:///{db}", migrate=True)
    data = [dose_row(i, d, facility=FACILITIES[(i + d) % 2]) for i in range(3) for d in (1, 2)]
    later = [dose_row(i, 1, facility="VN-SG-002") for i in range(10, 13)]
    write_csv(tmp_path / "d.csv", data + later)
    write_csv(tmp_path / "r.csv", register_rows(data + later),
              header=("citizen_id", "family_name", "given_name", "dob"))  # fmt: skip
    import_file(registry, tmp_path / "d.csv", now=NOW)
    load_register(registry, tmp_path / "r.csv", now=NOW)
    set_facility_district(registry, "VN-HN-001", "BA-DINH", now=NOW)
    ring = keyring(facility_signers(pki, FACILITIES))
    reconcile(registry, now=NOW)
    issue_pending(registry, ring, now=NOW, pipeline=False)
    tokens = {name: add_account(registry, name=name, role=role, area=area, created_by="test", now=NOW)[1]
              for name, (role, area) in ROLES.items()}  # fmt: skip
    settings = ServiceSettings(registry=f"sqlite:///{db}", clock=lambda: NOW, pool_size=4, **options)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Service(client, tokens, registry, ring, tmp_path)
    registry.close()


@pytest.fixture
def svc(tmp_path: Path, pki: Any) -> Iterator[Service]:
    """A service on a SQLite registry with three people certified and an account per role."""
    yield from _make(tmp_path, pki)


def _csv(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    header = ("citizen_id", "family_name", "given_name", "dob", "facility", "dose_number", "series_total", "date",
              "product")  # fmt: skip
    out.write(",".join(header) + "\n")
    for row in rows:
        out.write(",".join(str(row.get(h, "")) for h in header) + "\n")
    return out.getvalue().encode()


def _is_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "detail"} and body["error"] == code


def _raw_post(svc: Service, path: str, headers: dict[str, Any], body: bytes) -> int:
    """The status of a POST sent straight to the ASGI app, with header bytes as given (latin-1, as servers decode).

    The test client re-encodes header values as UTF-8, and uvicorn's HTTP parser refuses a Content-Length that is
    not ASCII digits before the app sees it; another ASGI server in front of the app need not.
    """
    raw = [(k.lower().encode("latin-1"), v if isinstance(v, bytes) else v.encode("latin-1"))
           for k, v in headers.items()]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"host", b"testserver"), *raw], "client": ("127.0.0.1", 1), "server": ("testserver", 80)}
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def call() -> None:
        with contextlib.suppress(Exception):  # the app re-raises what it answered 500 for
            await svc.client.app(scope, receive, send)

    svc.client.portal.call(call)  # type: ignore[union-attr]
    return next(int(m["status"]) for m in sent if m["type"] == "http.response.start")


def test_openapi_health_and_readiness(svc: Service) -> None:
    """OpenAPI is published, health answers without the registry, readiness checks the schema."""
    spec = svc.client.get("/openapi.json").json()
    assert {"/v1/jobs", "/v1/jobs/{job_id}", "/v1/citizen/certificate", "/v1/reports", "/v1/corrections"} <= set(
        spec["paths"])
    assert svc.client.get("/health").json() == {"status": "ok"}
    assert svc.client.get("/ready").json() == {"status": "ready"}
    _is_error(svc.client.get("/nowhere"), 404, "not_found")


def test_accounts_are_required_and_tokens_checked(svc: Service) -> None:
    """No token, a wrong token or a revoked account get 401; the token itself is not stored."""
    _is_error(svc.client.get("/v1/me"), 401, "unauthenticated")
    _is_error(svc.client.get("/v1/me", headers={"Authorization": "Bearer vxc_wrong"}), 401, "unauthenticated")
    assert svc.client.get("/v1/me", headers=svc.as_("hn1")).json() == {"name": "hn1", "role": "facility",
                                                                        "area": "VN-HN-001"}  # fmt: skip
    with svc.registry.transaction() as tx:
        stored = [r[0] for r in tx.query("SELECT token_hash FROM accounts")]
    assert all(t not in stored for t in svc.tokens.values())
    assert svc.client.delete("/v1/accounts/hn2", headers=svc.as_("moh")).status_code == 204
    _is_error(svc.client.get("/v1/me", headers=svc.as_("hn2")), 401, "unauthenticated")


#: (method, path, body, content type) -> the accounts allowed; every other account is refused with 403.
MATRIX: list[tuple[str, str, Any, set[str]]] = [
    ("POST", "/v1/jobs", "csv", {"hn1", "hn2", "sg", "moh"}),
    ("GET", "/v1/reports", None, {"hanoi", "saigon", "badinh", "moh"}),
    ("GET", "/v1/corrections", None, {"hn1", "hn2", "sg", "hanoi", "saigon", "badinh", "moh"}),
    ("POST", "/v1/corrections", {"person": PERSON0, "kind": "identity", "proposed": {"given_name": "Văn Đức Anh"}},
     {"hn1", "hn2", "sg", "moh"}),
    ("GET", "/v1/status", None, {"moh"}),
    ("GET", "/v1/accounts", None, {"moh"}),
    ("POST", "/v1/accounts", {"name": "new-{who}", "role": "province", "area": "DN"}, {"moh"}),
    ("PUT", "/v1/facilities/VN-HN-002/district", {"district": "CAU-GIAY"}, {"moh"}),
    ("GET", "/v1/audit", None, {"moh"}),
]


@pytest.mark.parametrize(("method", "path", "body", "allowed"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
def test_role_matrix(svc: Service, method: str, path: str, body: Any, allowed: set[str]) -> None:
    """Each role may do what the issue lists and gets 403 (with the JSON error shape) for the rest."""
    for who in ROLES:
        kwargs: dict[str, Any] = {"headers": svc.as_(who)}
        if body == "csv":
            area = ROLES[who][1] if ROLES[who][0] == "facility" else "VN-HN-001"
            kwargs["content"] = _csv([dose_row(50, 1, facility=area)])
            kwargs["headers"] = {**kwargs["headers"], "Content-Type": "text/csv"}
        elif isinstance(body, dict):
            kwargs["json"] = {k: (v.format(who=who) if isinstance(v, str) else v) for k, v in body.items()}
        response = svc.client.request(method, path, **kwargs)
        if who in allowed:
            assert response.status_code in (200, 201, 202, 204), (who, response.text)
        else:
            _is_error(response, 403, "forbidden")


def test_facility_submits_for_itself_only(svc: Service) -> None:
    """A facility's job keeps its own rows and rejects others by line and field; it cannot target another facility."""
    body = _csv([dose_row(20, 1, facility="VN-HN-001"), dose_row(21, 1, facility="VN-SG-002"),
                 {**dose_row(22, 1, facility="VN-HN-001"), "product": "nope"}])  # fmt: skip
    headers = {**svc.as_("hn1"), "Content-Type": "text/csv"}
    _is_error(svc.client.post("/v1/jobs?facility=VN-SG-002", content=body, headers=headers), 403, "forbidden")
    accepted = svc.client.post("/v1/jobs", content=body, headers=headers)
    assert accepted.status_code == 202 and accepted.headers["Location"] == accepted.json()["location"]
    job = accepted.json()
    assert (job["status"], job["records"]) == ("queued", 3)
    assert svc.client.get(job["location"], headers=svc.as_("hn1")).json()["status"] == "queued"
    _is_error(svc.client.get(job["location"], headers=svc.as_("sg")), 404, "not_found")  # not theirs
    svc.work()
    done = svc.client.get(job["location"], headers=svc.as_("hn1")).json()
    assert (done["status"], done["inserted"], done["rejected"]) == ("done", 1, 2)
    assert [(e["line"], e["field"]) for e in done["errors"]] == [(3, "facility"), (4, "product")]
    assert "Nguyễn" not in str(done)
    errors = svc.client.get(job["location"] + "/errors?offset=1", headers=svc.as_("moh")).json()
    assert [(e["line"], e["field"]) for e in errors["errors"]] == [(4, "product")]


def test_bulk_submission_limits(tmp_path: Path, pki: Any) -> None:
    """Too many records, too many bytes, a wrong media type and whole-file problems are refused before queueing."""
    for svc in _make(tmp_path, pki, max_records=2, max_body_bytes=4000):
        headers = {**svc.as_("hn1"), "Content-Type": "text/csv"}
        rows = [dose_row(30 + i, 1) for i in range(3)]
        too_many = svc.client.post("/v1/jobs", content=_csv(rows), headers=headers)
        _is_error(too_many, 400, "invalid_input")
        assert too_many.json()["detail"]["field"] == "file"
        _is_error(svc.client.post("/v1/jobs", content=b"x" * 5000, headers=headers), 413, "too_large")
        _is_error(svc.client.post("/v1/jobs", content=_csv(rows[:1]), headers={**svc.as_("hn1")}), 415,
                  "unsupported_media_type")  # fmt: skip
        # '²' and '¹³' in latin-1 (str.isdigit() is True, int() refuses them) and past int()'s 4,300 digits
        for declared in (b"\xb2", b"\xb9\xb3", b"9" * 5000):
            assert _raw_post(svc, "/v1/jobs", {**headers, "Content-Length": declared}, b"x" * 5000) == 413
        header_only = svc.client.post("/v1/jobs", content=_csv([]), headers=headers)
        assert header_only.status_code == 400 and "no rows" in header_only.json()["detail"]["message"]
        semicolons = svc.client.post("/v1/jobs", content=b"citizen_id;family_name;dob\n1;2;3\n", headers=headers)
        assert "semicolons" in semicolons.json()["detail"]["message"]
        ansi = windows_1258(_csv(rows[:1]).decode())
        legacy = svc.client.post("/v1/jobs", content=ansi, headers=headers)
        assert legacy.status_code == 400 and "Windows-1258" in legacy.json()["detail"]["message"]
        assert svc.registry.jobs_summary() == {}


def test_overload_answers_429_with_retry_after(tmp_path: Path, pki: Any) -> None:
    """Past the queue bound a submission gets 429 + Retry-After; once workers drain the queue it is accepted."""
    for svc in _make(tmp_path, pki, queue_limit=4, drain_rate=1):
        headers = {**svc.as_("hn1"), "Content-Type": "application/x-ndjson"}
        lines = [dose_row(40 + i, 1) for i in range(3)]
        body = "\n".join(json.dumps(r) for r in lines).encode()
        assert svc.client.post("/v1/jobs", content=body, headers=headers).status_code == 202
        full = svc.client.post("/v1/jobs", content=body, headers=headers)
        _is_error(full, 429, "overloaded")
        assert int(full.headers["Retry-After"]) == 2  # (3 + 3 - 4) records at 1 record/s
        svc.work()
        assert svc.client.post("/v1/jobs", content=body, headers=headers).status_code == 202
        assert svc.registry.jobs_summary()["done"] == (1, 3)


def test_citizen_certificate_formats_and_constant_answers(svc: Service) -> None:
    """HC1, PNG and PDF for the right ID and birth date; unknown ID and wrong birth date get identical answers."""
    query = {"id": PERSON0, "dob": "1990-04-12"}
    hc1 = svc.client.post("/v1/citizen/certificate", json=query).json()["hc1"]
    assert hc1.startswith("HC1:")
    png = svc.client.post("/v1/citizen/certificate", json={**query, "format": "png"})
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")
    pdf = svc.client.post("/v1/citizen/certificate", json={**query, "format": "pdf"})
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    wrong = svc.client.post("/v1/citizen/certificate", json={**query, "dob": "1990-04-13"})
    unknown = svc.client.post("/v1/citizen/certificate", json={**query, "id": "001090999999"})
    assert (wrong.status_code, wrong.content, dict(wrong.headers)) == (404, unknown.content, dict(unknown.headers))
    _is_error(wrong, 404, "not_found")


def test_citizen_rate_limits_per_id_and_per_client(tmp_path: Path, pki: Any) -> None:
    """The per-ID limit holds across clients; the per-client limit holds across IDs; both answer 429 + Retry-After."""
    for svc in _make(tmp_path, pki, citizen_per_id=RateLimit(3, 3600), citizen_per_client=RateLimit(6, 60)):
        query = {"id": PERSON0, "dob": "1990-04-12"}
        assert [svc.client.post("/v1/citizen/certificate", json=query).status_code for _ in range(3)] == [200] * 3
        limited = svc.client.post("/v1/citizen/certificate", json=query)
        _is_error(limited, 429, "rate_limited")
        assert 1 <= int(limited.headers["Retry-After"]) <= 3600
        other = {"id": dose_row(1)["citizen_id"], "dob": "1990-04-12"}
        assert svc.client.post("/v1/citizen/certificate", json=other).status_code == 200
        statuses = [svc.client.post("/v1/citizen/certificate", json=other).status_code for _ in range(2)]
        assert statuses == [200, 429]  # the client's 7th request in the minute
        with svc.registry.transaction() as tx:
            buckets = " ".join(r[0] for r in tx.query("SELECT bucket FROM rate_limits"))
        assert PERSON0 not in buckets and "testclient" not in buckets


def test_citizen_correction_routed_and_reviewed(svc: Service) -> None:
    """A citizen's correction goes to the disputed dose's facility; only it (or the ministry) reviews it."""
    filed = svc.client.post("/v1/citizen/corrections", json={
        "id": PERSON0, "dob": "1990-04-12", "kind": "change_dose", "dose_number": 1,
        "proposed": {"date": "2021-07-02"}})  # fmt: skip
    assert filed.status_code == 201, filed.text
    request_id, facility = filed.json()["request_id"], filed.json()["facility"]
    assert facility == "VN-HN-002" and filed.json()["deadline"] == "2026-06-03T08:00:00Z"
    nobody = svc.client.post("/v1/citizen/corrections", json={
        "id": PERSON0, "dob": "1990-04-13", "kind": "remove_dose", "dose_number": 1})  # fmt: skip
    _is_error(nobody, 404, "not_found")
    queue = svc.client.get("/v1/corrections", headers=svc.as_("hn2")).json()
    assert [c["id"] for c in queue] == [request_id] and PERSON0 not in str(queue)
    assert svc.client.get("/v1/corrections", headers=svc.as_("hn1")).json() == []
    reason = {"reason": "log checked"}
    _is_error(svc.client.post(f"/v1/corrections/{request_id}/approve", json=reason, headers=svc.as_("hn1")),
              404, "not_found")  # fmt: skip
    _is_error(svc.client.post(f"/v1/corrections/{request_id}/approve", json=reason, headers=svc.as_("hanoi")),
              403, "forbidden")  # fmt: skip
    approved = svc.client.post(f"/v1/corrections/{request_id}/approve", json=reason, headers=svc.as_("hn2"))
    assert approved.json() == {"request_id": request_id, "status": "approved", "revoked": 0}
    trail = svc.client.get("/v1/audit", headers=svc.as_("moh")).json()
    approval = next(a for a in trail if a["action"] == "correction.approve")
    assert (approval["actor"], approval["origin"]) == ("hn2", "service:testclient")


def test_reports_and_overdue_lists_cover_only_the_area(svc: Service) -> None:
    """A province sees its facilities, a district its own, the ministry everything; overdue lists follow the area."""
    keys = {who: [r["key"] for r in svc.client.get("/v1/reports", headers=svc.as_(who)).json()["rows"]]
            for who in ("hanoi", "saigon", "badinh", "moh")}  # fmt: skip
    assert keys == {"hanoi": ["VN-HN-001", "VN-HN-002", "TOTAL"], "saigon": ["VN-SG-002", "TOTAL"],
                    "badinh": ["VN-HN-001", "TOTAL"], "moh": [*FACILITIES, "TOTAL"]}  # fmt: skip
    by_province = svc.client.get("/v1/reports?by=province", headers=svc.as_("hanoi")).json()["rows"]
    assert [r["key"] for r in by_province] == ["HN", "TOTAL"]
    filed = svc.client.post("/v1/corrections", headers=svc.as_("sg"), json={
        "person": dose_row(10)["citizen_id"], "kind": "remove_dose", "dose_number": 1})  # fmt: skip
    assert filed.status_code == 201 and filed.json()["facility"] == "VN-SG-002"
    old = request_correction(svc.registry, person_key=f"cccd:{dose_row(11)['citizen_id']}", kind="remove_dose",
                             dose_number=1, proposed={}, requested_by="citizen", now=NOW - dt.timedelta(hours=50))
    overdue = svc.client.get("/v1/corrections", params={"overdue": "true"}, headers=svc.as_("saigon")).json()
    assert [(c["id"], c["overdue"]) for c in overdue] == [(old, True)]
    assert len(svc.client.get("/v1/corrections", headers=svc.as_("saigon")).json()) == 2
    assert svc.client.get("/v1/corrections", params={"overdue": "true"}, headers=svc.as_("hanoi")).json() == []


def test_ministry_operations(svc: Service, pki: Any) -> None:
    """The ministry creates accounts whose tokens work at once; the revocation list needs a configured signer."""
    made = svc.client.post("/v1/accounts", headers=svc.as_("moh"),
                           json={"name": "danang", "role": "province", "area": "dn"}).json()  # fmt: skip
    assert made["area"] == "DN"
    assert svc.client.get("/v1/me", headers={"Authorization": f"Bearer {made['token']}"}).json()["role"] == "province"
    dup = svc.client.post("/v1/accounts", headers=svc.as_("moh"), json={"name": "danang", "role": "ministry"})
    _is_error(dup, 400, "invalid_input")
    _is_error(svc.client.post("/v1/revocation-list", headers=svc.as_("moh")), 503, "not_configured")
    status = svc.client.get("/v1/status", headers=svc.as_("moh")).json()
    assert status["certificates"] == {"current": 6}


def test_logs_hold_no_personal_data(svc: Service, caplog: pytest.LogCaptureFixture,
                                    monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """The service's events (requests, errors, job retries) are vaxcert.logs events, free of personal data.

    Everything the service and the registry log at DEBUG is searched, as text and as JSON lines:
    citizen requests (found, wrong birth date), a correction with a proposed name, a submission with
    names and birth dates, a registry error and a bug whose messages quote a person, a job that fails.
    """
    from vaxcert import StorageError
    from vaxcert.registry import jobs as jobs_mod
    from vaxcert.service import app as app_mod

    caplog.set_level(logging.DEBUG, logger="vaxcert")
    secret_name, secret_dob = "Hoàng Thị Lụa", "1990-04-12"
    found = svc.client.post("/v1/citizen/certificate", json={"id": PERSON0, "dob": secret_dob}).json()["hc1"]
    svc.client.post("/v1/citizen/certificate", json={"id": PERSON0, "dob": "1990-04-13"})
    svc.client.post("/v1/citizen/corrections", json={"id": PERSON0, "dob": secret_dob, "kind": "identity",
                                                      "proposed": {"given_name": secret_name}})  # fmt: skip
    svc.client.get("/v1/reports", headers=svc.as_("hanoi"))
    body = _csv([dose_row(30, 1, family="Hoàng", given="Thị Lụa", facility="VN-HN-001")])
    svc.client.post("/v1/jobs", content=body, headers={**svc.as_("hn1"), "Content-Type": "text/csv"})
    svc.work()

    def fails(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"{PERSON0} {secret_name} {secret_dob}")

    monkeypatch.setattr(jobs_mod, "import_data", fails)
    svc.client.post("/v1/jobs", content=body, headers={**svc.as_("hn1"), "Content-Type": "text/csv"})
    assert process_next_job(svc.registry, worker="test", now=NOW) is not None  # job.retry
    monkeypatch.setattr(app_mod, "report", fails)
    _is_error(svc.client.get("/v1/reports", headers=svc.as_("hanoi")), 500, "server_error")

    def storage(*args: Any, **kwargs: Any) -> Any:
        raise StorageError(f"cannot store {PERSON0} {secret_name}")

    monkeypatch.setattr(app_mod, "report", storage)
    _is_error(svc.client.get("/v1/reports", headers=svc.as_("hanoi")), 500, "server_error")

    ours = [r for r in caplog.records if r.name.startswith("vaxcert")]
    assert all(hasattr(r, "vaxcert_event") for r in ours)  # every record is a structured event
    events = {r.vaxcert_event["event"] for r in ours}  # type: ignore[attr-defined]
    assert {"service.request", "service.error", "service.internal_error", "job.retry", "import.done"} <= events
    lines = [json.loads(JsonFormatter().format(r)) for r in ours]
    assert any(line.get("route") == "/v1/citizen/certificate" and line.get("status") == 200 for line in lines)
    assert any(line.get("role") == "province" and line.get("account") == "hanoi" for line in lines)
    internal = next(line for line in lines if line["event"] == "service.internal_error")
    assert internal["exc_type"] == "RuntimeError" and "in fails" in internal["traceback"]
    text = caplog.text + "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
    for secret in (PERSON0, secret_dob, "1990-04-13", "Hoàng", "Lụa", "HOANG", "HC1:", found[4:40], "testclient"):
        assert secret not in text


def test_serve_command_checks_before_listening(tmp_path: Path) -> None:
    """`vaxcert serve` refuses an uninitialised registry and malformed limits (exit 2) before it listens."""
    empty = run("serve", "--db", f"sqlite:///{tmp_path}/none.db")
    assert empty.returncode == 2 and "registry init" in empty.stderr
    open_registry(f"sqlite:///{tmp_path}/ok.db", migrate=True).close()
    bad = run("serve", "--db", f"sqlite:///{tmp_path}/ok.db", "--citizen-per-id", "ten")
    assert bad.returncode == 2 and "--citizen-per-id" in bad.stderr
    for limit in ("²/60", "30/①", "٣/60"):  # str.isdigit() is True for each; int() refuses the first two
        odd = run("serve", "--db", f"sqlite:///{tmp_path}/ok.db", "--citizen-per-client", limit)
        assert odd.returncode == 2 and "--citizen-per-client" in odd.stderr and "Traceback" not in odd.stderr, limit
