"""The checkpoint server (vaxcert.checkpoint) without a browser: API, pairing, host check, privacy, refresh, CLI."""

from __future__ import annotations

import copy
import datetime as dt
import http.server
import ipaddress
import json
import logging
import ssl
import stat
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.testclient import TestClient

from browser.conftest import start_server, stop_server
from checkpoint_support import CCCD_GREEN, CCCD_OTHER, GRACE_AT, GREEN_PAYLOAD, TOO_OLD_AT, World, make_world
from cli_inprocess import run
from conftest import NOW, make_pki
from test_checkpoint_rules import ONLY_VN
from vaxcert import (
    DocumentError,
    Issuer,
    KeySigner,
    RuleBook,
    SequenceState,
    Station,
    build_bundle,
    publish,
    render_png,
)
from vaxcert.checkpoint import CheckpointSettings, Counter, create_app, new_token

LOOPBACK = "http://127.0.0.1:8080"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """A bundle and GREEN / YELLOW / RED certificates."""
    return make_world(tmp_path_factory.mktemp("server"), make_pki())


def client(world: World, at: dt.datetime = NOW, **kwargs: object) -> TestClient:
    """A test client on a fresh station whose clock stands at ``at``."""
    station = Station.open(world.bundle, [world.pki.csca], now=at)
    settings = CheckpointSettings(bundle_path=world.bundle, country="VN", clock=lambda: at, **kwargs)  # type: ignore[arg-type]
    return TestClient(create_app(station, settings), base_url=LOOPBACK)


def test_page_and_assets_are_served_from_the_package(world: World) -> None:
    """/ and /static/* answer with the page, script, style sheet, fonts and icon, with strict headers."""
    with client(world) as c:
        page = c.get("/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        for asset in ("app.js", "app.css", "fonts/vx-sans.woff", "fonts/vx-sans-bold.woff", "icon.svg"):
            assert c.get(f"/static/{asset}").status_code == 200, asset
        for src in ("static/app.js", "static/app.css", "static/icon.svg"):
            assert src in page.text
        assert "http" not in page.text.replace("http-equiv", "")  # nothing from the internet
        csp = page.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp
        assert page.headers["referrer-policy"] == "no-referrer"
        assert page.headers["cache-control"] == "no-store"
        assert "set-cookie" not in page.headers


def test_state(world: World) -> None:
    """/api/state: the page's settings, the bundle's freshness and the counts."""
    with client(world, GRACE_AT, lang="en", clear_after=7, region="Hà Nội") as c:
        state = c.get("/api/state").json()
    assert state["config"] == {"lang": "en", "clear_after": 7, "country": "VN", "region": "Hà Nội",
                               "token_required": False}
    assert state["bundle"]["state"] == "grace" and state["bundle"]["sequence"] == 100
    assert state["counts"] == {"GREEN": 0, "YELLOW": 0, "RED": 0}


def test_text_gives_the_verdict_screen(world: World) -> None:
    """A scanned certificate gives colour, words in both languages, holder, dose facts and validity days."""
    with client(world) as c:
        answer = c.post("/api/text", json={"text": world.green}).json()
    assert answer["kind"] == "verdict"
    verdict = answer["verdict"]
    assert (verdict["colour"], verdict["reason"], verdict["code"]) == ("GREEN", "FULLY_VACCINATED", "OK")
    assert verdict["label"] == {"vi": "XANH", "en": "GREEN"}
    assert verdict["message"]["en"].startswith("Fully vaccinated")
    assert verdict["holder"] == {"family": "Nguyễn", "given": "Văn An", "family_std": "NGUYEN",
                                 "given_std": "VAN<AN", "birth_date": "1990-05-15"}
    facts = verdict["facts"]
    assert (facts["type"], facts["dose_number"], facts["series_doses"], facts["last_date"]) == ("v", 2, 2, "2026-04-02")
    assert facts["last_day"] == "2027-04-01"  # in Viet Nam's time zone, the pass's last day
    assert answer["counts"] == {"GREEN": 1, "YELLOW": 0, "RED": 0}


def test_the_same_code_counts_once(world: World) -> None:
    """Consecutive frames of one code count one verdict; another code counts again."""
    with client(world) as c:
        for _ in range(4):
            c.post("/api/text", json={"text": world.red})
        answer = c.post("/api/text", json={"text": world.yellow}).json()
    assert answer["counts"] == {"GREEN": 0, "YELLOW": 1, "RED": 1}


def test_frames(world: World) -> None:
    """A camera frame with a code gives its verdict; an empty frame NONE; an oversized one 413."""
    with client(world) as c:
        answer = c.post("/api/frame", content=render_png(world.yellow), headers={"content-type": "image/png"})
        assert answer.json()["verdict"]["colour"] == "YELLOW"
        assert c.post("/api/frame", content=b"").json()["kind"] == "none"
        assert c.post("/api/frame", content=b"\xff\xd8 not really a jpeg").json()["kind"] == "none"
        assert c.post("/api/frame", content=b"\0" * (7 * 1024 * 1024)).status_code == 413


def test_bundle_too_old_gives_no_verdict(world: World) -> None:
    """Past the grace period a certificate gives 'bundle too old', never a RED, and is not counted."""
    with client(world, TOO_OLD_AT) as c:
        answer = c.post("/api/text", json={"text": world.green}).json()
    assert answer["kind"] == "bundle_too_old" and "verdict" not in answer
    assert answer["bundle"]["state"] == "too_old"
    assert answer["counts"] == {"GREEN": 0, "YELLOW": 0, "RED": 0}


def test_id_card_and_match(world: World) -> None:
    """An ID card text is read; /api/match compares it with a holder."""
    with client(world) as c:
        card = c.post("/api/text", json={"text": CCCD_GREEN}).json()
        assert card["kind"] == "idcard" and card["card"] == {"name": "NGUYỄN VĂN AN", "birth_date": "1990-05-15"}
        holder = c.post("/api/text", json={"text": world.green}).json()["verdict"]["holder"]
        match = c.post("/api/match", json={"holder": holder, "card": card["card"]}).json()
        assert match["identity"]["result"] == "match"
        other = c.post("/api/text", json={"text": CCCD_OTHER}).json()["card"]
        assert c.post("/api/match", json={"holder": holder, "card": other}).json()["identity"] == {
            "result": "mismatch", "name": "match", "birth_date": "mismatch", "birth_date_precision": None}


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"text": 5}', b'{"holder": {"family": 5}, "card": {"name": "A"}}',
     b'{"holder": {}, "card": {"name": ""}}', b'{"holder": {"birth_date": "Nguyen"}, "card": {"name": "A"}}'],
)
def test_bad_requests_are_refused_without_echo(world: World, body: bytes) -> None:
    """Malformed requests get 400 and a message that repeats nothing sent."""
    with client(world) as c:
        for path in ("/api/text", "/api/match"):
            answer = c.post(path, content=body)
            assert answer.status_code == 400, (path, body)
            assert "Nguyen" not in answer.text


def test_pairing_token(world: World) -> None:
    """With a token the API needs it (any case or separators); the page and assets do not; guessing is braked."""
    token = new_token()
    assert len(token.replace("-", "")) == 12
    with client(world, token=token, loopback_only=False) as c:
        assert c.get("/").status_code == 200
        assert c.get("/static/app.js").status_code == 200
        assert c.get("/api/state").status_code == 401
        assert c.get("/api/state", headers={"x-vaxcert-token": token}).status_code == 200
        spoken = token.upper().replace("-", " ")
        assert c.post("/api/text", json={"text": "x"}, headers={"x-vaxcert-token": spoken}).status_code == 200
        statuses = [c.get("/api/state", headers={"x-vaxcert-token": "wrong"}).status_code for _ in range(21)]
        assert statuses[:19] == [401] * 19 and statuses[-1] == 429
        assert c.get("/api/state", headers={"x-vaxcert-token": token}).status_code == 429


def test_loopback_mode_refuses_other_host_names(world: World) -> None:
    """On 127.0.0.1 only loopback Host headers are answered (no DNS rebinding)."""
    with client(world) as c:
        assert c.get("/api/state").status_code == 200
        assert c.get("/api/state", headers={"host": "localhost:8080"}).status_code == 200
        assert c.get("/api/state", headers={"host": "[::1]:8080"}).status_code == 200
        assert c.get("/api/state", headers={"host": "evil.example:8080"}).status_code == 403
        assert c.get("/", headers={"host": "127.0.0.1.evil.example"}).status_code == 403


def test_logs_hold_counts_only(world: World, caplog: pytest.LogCaptureFixture) -> None:
    """What the server logs is counts by colour and reason, nothing about anyone."""
    caplog.set_level(logging.DEBUG)
    with client(world) as c:
        for text in (world.green, world.yellow, world.red, CCCD_GREEN, "https://example.org/"):
            c.post("/api/text", json={"text": text})
    ours = [r for r in caplog.records if r.name.startswith("vaxcert")]
    assert all(hasattr(r, "vaxcert_event") for r in ours if r.name == "vaxcert.checkpoint")  # vaxcert.logs events
    counts = [e for e in (getattr(r, "vaxcert_event", {}) for r in ours) if e.get("event") == "checkpoint.counts"]
    assert len(counts) == 1 and (counts[0]["green"], counts[0]["yellow"], counts[0]["red"]) == (1, 1, 2)
    assert {"REVOKED=1", "NOT_A_CERTIFICATE=1"} <= set(counts[0]["reasons"])
    logged = caplog.text + " ".join(str(getattr(r, "vaxcert_event", "")) for r in ours)
    for private in ("Nguy", "NGUY", "Trần", "1990", "1985", "HC1:", "001090012345", "example.org", "URN:UVCI"):
        assert private not in logged


def test_counter_window() -> None:
    """The counter forgets codes after its window."""
    counter = Counter(window=0)
    counter.add("k", "GREEN", "FULLY_VACCINATED")
    counter.add("k", "GREEN", "FULLY_VACCINATED")
    counter.add(None, "RED", "NOT_A_CERTIFICATE")
    assert counter.colours == {"GREEN": 2, "RED": 1}


def test_state_file(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """checkpoint serve keeps its sequences in a SequenceState file (0600), never lowered; a foreign file stops it."""
    import uvicorn

    monkeypatch.setattr(uvicorn.Server, "run", lambda self: None)  # start and stop at once
    state = tmp_path / "state.json"
    done = run("checkpoint", "serve", "--bundle", str(world.bundle), "--csca", str(world.csca), "--country", "VN",
               "--state-file", str(state), "--at", NOW.isoformat())  # fmt: skip
    recorded = SequenceState.load(state)
    key = SequenceState.key_of(Station.open(world.bundle, [world.pki.csca], now=NOW).bundle.document)
    assert recorded.minimum(key) == 100 and stat.S_IMODE(state.stat().st_mode) == 0o600, done.stderr
    SequenceState(state, {key: 7}).save()
    assert SequenceState.load(state).minimum(key) == 100
    state.write_text('{"highest_sequence": 7}')
    done = run("checkpoint", "serve", "--lang", "en", "--bundle", str(world.bundle), "--csca", str(world.csca),
               "--country", "VN", "--state-file", str(state))  # fmt: skip
    assert done.returncode == 2 and "not a vaxcert checkpoint state file" in done.stderr


class _BundleServer:
    """A loopback HTTP server handing out one bundle (the ministry's endpoint in a test)."""

    def __init__(self) -> None:
        self.data = b""
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("content-length", str(len(outer.data)))
                self.end_headers()
                self.wfile.write(outer.data)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/bundle.cose"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def ministry() -> Iterator[_BundleServer]:
    """A bundle endpoint on loopback."""
    server = _BundleServer()
    yield server
    server.close()


def test_refresh_from_the_bundle_url(world: World, tmp_path: Path, ministry: _BundleServer) -> None:
    """A newer bundle is installed, written to the bundle file and recorded; an older one is refused."""
    bundle = tmp_path / "bundle.cose"
    bundle.write_bytes(world.bundle_bytes)
    state = tmp_path / "bundle.cose.state.json"
    station = Station.open(bundle, [world.pki.csca], now=NOW, state=SequenceState.load(state))
    key = SequenceState.key_of(station.bundle.document)
    settings = CheckpointSettings(bundle_path=bundle, country="VN", bundle_url=ministry.url, clock=lambda: NOW)
    app = create_app(station, settings)
    checkpoint = app.state.checkpoint
    newer = world.newer_bundle(sequence=150)
    ministry.data = newer
    assert checkpoint.fetch_once() is True
    assert station.bundle.sequence == 150
    assert bundle.read_bytes() == newer and SequenceState.load(state).minimum(key) == 150
    assert checkpoint.fetch_once() is False  # the same bundle again
    ministry.data = world.newer_bundle(sequence=120)
    with pytest.raises(DocumentError, match="rollback"):
        checkpoint.fetch_once()
    assert station.bundle.sequence == 150 and bundle.read_bytes() == newer


def test_refresher_runs_in_the_background(world: World, tmp_path: Path, ministry: _BundleServer) -> None:
    """With --bundle-url the server refreshes on start and reports when it last succeeded."""
    bundle = tmp_path / "bundle.cose"
    bundle.write_bytes(world.bundle_bytes)
    ministry.data = world.newer_bundle(sequence=170)
    station = Station.open(bundle, [world.pki.csca], now=NOW)
    settings = CheckpointSettings(bundle_path=bundle, country="VN", bundle_url=ministry.url, clock=lambda: NOW)
    with TestClient(create_app(station, settings), base_url=LOOPBACK) as c:
        for _ in range(100):
            state = c.get("/api/state").json()
            if state["refresh"]["ok_at"]:
                break
            threading.Event().wait(0.05)
    assert state["bundle"]["sequence"] == 170 and state["refresh"]["failed_at"] is None


def test_cli_refuses_bad_setups(world: World, tmp_path: Path) -> None:
    """serve exits 2 with a clear message for a rollback, a bad country, a bad URL or a foreign bundle."""
    state = tmp_path / "state.json"
    key = SequenceState.key_of(Station.open(world.bundle, [world.pki.csca], now=NOW).bundle.document)
    SequenceState(state, {key: 999}).save()
    base = ["checkpoint", "serve", "--lang", "en", "--bundle", str(world.bundle), "--csca", str(world.csca)]
    done = run(*base, "--country", "VN", "--state-file", str(state))
    assert done.returncode == 2 and "rollback" in done.stderr and "Traceback" not in done.stderr
    done = run(*base, "--country", "Viet Nam")
    assert done.returncode == 2 and "two-letter" in done.stderr
    done = run(*base, "--country", "VN", "--bundle-url", "ftp://x")
    assert done.returncode == 2 and "http" in done.stderr
    other = make_world(tmp_path / "other", make_pki())
    done = run("checkpoint", "serve", "--lang", "en", "--bundle", str(world.bundle), "--csca", str(other.csca),
               "--country", "VN", "--state-file", str(tmp_path / "s2.json"))  # fmt: skip
    assert done.returncode == 2 and "bundle refused" in done.stderr


def test_cli_messages_in_the_page_language(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The console follows --lang (default vi, or VAXCERT_LANG) like the page: address, bundle, pairing code, errors."""
    import uvicorn

    monkeypatch.setattr(uvicorn.Server, "run", lambda self: None)  # start and stop at once
    base = ["checkpoint", "serve", "--bundle", str(world.bundle), "--csca", str(world.csca), "--country", "VN",
            "--state-file", str(tmp_path / "state.json"), "--at", NOW.isoformat(), "--host", "0.0.0.0"]  # fmt: skip
    vi = run(*base)
    assert vi.returncode == 0, vi.stderr
    assert "trạm kiểm tra: http://127.0.0.1:8080/" in vi.stdout and "số thứ tự 100" in vi.stdout
    assert "mã ghép nối: " in vi.stdout and "<địa chỉ máy này>:8080/#token=" in vi.stdout and "camera" in vi.stdout
    assert "pairing" not in vi.stdout and ": còn mới" in vi.stdout
    en = run(*base, "--lang", "en")
    assert "checkpoint: http://127.0.0.1:8080/  (Ctrl+C to stop)" in en.stdout and "pairing code: " in en.stdout
    assert ": fresh" in en.stdout
    assert "pairing code: " in run(*base, env={"VAXCERT_LANG": "en"}).stdout
    bad = run(*base[:-2], "--country", "Viet Nam")
    assert bad.returncode == 2 and "hai chữ cái" in bad.stderr
    bad = run(*base, "--bundle-url", "ftp://x", "--lang", "en")
    assert bad.returncode == 2 and "must be an http:// or https:// URL" in bad.stderr


def test_cli_logs_counts_once(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """checkpoint serve logs through the CLI's one handler: the counts event once, as text (JSON with --log-format)."""
    import uvicorn

    def run_server(self: uvicorn.Server) -> None:
        logging.getLogger("uvicorn.error").warning("uvicorn warns")
        with TestClient(self.config.app, base_url=LOOPBACK) as c:
            assert c.post("/api/text", json={"text": world.green}).status_code == 200

    monkeypatch.setattr(uvicorn.Server, "run", run_server)
    base = ["checkpoint", "serve", "--bundle", str(world.bundle), "--csca", str(world.csca), "--country", "VN",
            "--state-file", str(tmp_path / "state.json"), "--at", NOW.isoformat()]  # fmt: skip
    done = run("-v", *base)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("checkpoint.counts green=1 yellow=0 red=0") == 1
    assert done.stderr.count("uvicorn warns") == 1
    done = run("--log-format", "json", *base, "--log-level", "warning")
    assert done.returncode == 0 and "checkpoint.counts" not in done.stderr
    assert [json.loads(line)["logger"] for line in done.stderr.splitlines()] == ["uvicorn.error"]


def test_missing_extra_is_named(world: World) -> None:
    """Without Starlette/uvicorn the command says which extra to install (exit 2, no traceback)."""
    script = ("import sys; sys.modules['uvicorn'] = None; sys.argv = ['vaxcert'] + sys.argv[1:]; "
              "from vaxcert.cli import main; main()")
    done = subprocess.run([sys.executable, "-c", script, "checkpoint", "serve", "--bundle", str(world.bundle),
                           "--csca", str(world.csca), "--country", "VN"], capture_output=True, text=True, check=False)
    assert done.returncode == 2, done.stderr
    assert "vaxcert[checkpoint]" in done.stderr and "Traceback" not in done.stderr


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key (PEM files)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "checkpoint")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "tls.pem", tmp_path / "tls.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_https_with_pairing(world: World, tmp_path: Path) -> None:
    """--tls-cert/--tls-key serve the page over HTTPS (the camera needs it on a LAN); the token still applies."""
    cert, key = _self_signed(tmp_path)
    server = start_server(world, NOW.isoformat(), "--host", "0.0.0.0", "--tls-cert", str(cert), "--tls-key",
                          str(key))
    try:
        assert any("https://127.0.0.1:" in line for line in server.output)
        context = ssl.create_default_context(cafile=str(cert))
        url = server.url.replace("http://", "https://")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url + "api/state", context=context, timeout=10)
        assert refused.value.code == 401
        refused.value.close()
        request = urllib.request.Request(url + "api/state", headers={"x-vaxcert-token": server.token or ""})
        with urllib.request.urlopen(request, context=context, timeout=10) as answer:
            assert answer.status == 200
    finally:
        output = stop_server(server)
    assert "Traceback" not in output


def test_failed_business_rules_are_listed(world: World, tmp_path: Path) -> None:
    """With the bundle's rules for the station's country, a failing rule turns the pass RED and is named in both
    languages."""
    book = RuleBook(RuleBook.from_documents([(ONLY_VN, "test")]).rules, RuleBook.bundled().passes)
    ministry = KeySigner(world.pki.csca_key, world.pki.csca)
    trust_list = publish([world.pki.dsc], ministry, cscas=[world.pki.csca], now=NOW, valid_for=dt.timedelta(days=7))
    bundle = tmp_path / "rules.cose"
    bundle.write_bytes(build_bundle(ministry, trust_list=trust_list, now=NOW, fresh_for=dt.timedelta(days=1),
                                    cscas=[world.pki.csca], rules=book.to_bytes()))
    abroad = copy.deepcopy(GREEN_PAYLOAD)
    abroad["v"][0]["co"] = "FR"
    text = Issuer(world.pki.signer, facility_override=True).issue(abroad, now=NOW).hc1
    station = Station.open(bundle, [world.pki.csca], now=NOW, country="VN")
    settings = CheckpointSettings(bundle_path=bundle, country="VN", clock=lambda: NOW)
    with TestClient(create_app(station, settings), base_url=LOOPBACK) as c:
        verdict = c.post("/api/text", json={"text": text}).json()["verdict"]
        assert verdict["colour"] == "RED"
        assert verdict["failed_rules"]["en"] == [
            "VR-VN-0100: Only doses given in Viet Nam or the United States are accepted."]
        assert c.post("/api/text", json={"text": world.green}).json()["verdict"]["failed_rules"] == {"vi": [], "en": []}
