"""Browser tests of the checkpoint page: Debian's chromium + chromium-driver, driven by selenium, headless.

``scripts/test.sh`` installs the browser, its driver and ffmpeg with apt (never a browser downloaded
by a tool).  Each browser gets a fresh ``--user-data-dir`` and no network but loopback.  The page
is served by ``vaxcert checkpoint serve`` in a subprocess, exactly as a user starts it, with
``--at`` fixing the checking time.  Screenshots go to the test's temporary folder.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from checkpoint_support import World, make_world
from conftest import make_pki

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
LAPTOP = (1366, 768)
PHONE = (390, 844)


def _require_browser() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
    if missing:
        message = f"browser tests need Debian's chromium and chromium-driver (missing: {', '.join(missing)})"
        if os.environ.get("VAXCERT_REQUIRE_SERVICES"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """A ministry, a signed bundle and GREEN / YELLOW / RED certificates."""
    return make_world(tmp_path_factory.mktemp("world"), make_pki())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running ``vaxcert checkpoint serve``."""

    process: subprocess.Popen[str]
    url: str
    output: list[str]
    reader: threading.Thread

    @property
    def token(self) -> str | None:
        for line in self.output:
            match = re.search(r"#token=(\S+)", line)  # the same line in either language
            if match:
                return match.group(1)
        return None


def start_server(world: World, at: str, *extra: str, bundle: Path | None = None) -> Server:
    """Start the page server on a free port and wait until it has printed its address and answers."""
    port = _free_port()
    args = [sys.executable, "-m", "vaxcert", "checkpoint", "serve", "--bundle", str(bundle or world.bundle),
            "--csca", str(world.csca), "--country", "VN", "--region", "Hà Nội", "--port", str(port), "--at", at,
            *extra]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []

    def reader() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line.rstrip())

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    wanted = "#token=" if "--host" in extra else f"://127.0.0.1:{port}/"  # in either language
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        if any(wanted in line for line in output):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return Server(process, f"http://127.0.0.1:{port}/", output, thread)
            except OSError:
                pass
        time.sleep(0.05)
    process.kill()
    process.wait()
    thread.join(5)
    if process.stdout is not None:
        process.stdout.close()
    raise AssertionError("checkpoint server did not start: " + "\n".join(output))


def stop_server(server: Server) -> str:
    """Stop the server (Ctrl+C, as a user would) and return everything it printed."""
    server.process.send_signal(signal.SIGINT)
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
    server.reader.join(5)  # the reader thread takes the last lines
    if server.process.stdout is not None:
        server.process.stdout.close()
    return "\n".join(server.output)


@pytest.fixture
def serve(world: World) -> Iterator[Callable[..., Server]]:
    """Start servers for a test; all are stopped afterwards."""
    started: list[Server] = []

    def factory(at: str, *extra: str, bundle: Path | None = None) -> Server:
        server = start_server(world, at, *extra, bundle=bundle)
        started.append(server)
        return server

    yield factory
    for server in started:
        if server.process.poll() is None:
            stop_server(server)


def chrome(tmp: Path, *, size: tuple[int, int] = LAPTOP, camera_file: Path | None = None) -> object:
    """A headless Debian Chromium with a fresh profile; a fake camera playing ``camera_file`` if given."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    _require_browser()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tmp / f"profile-{time.monotonic_ns()}"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
                 "--disable-dev-shm-usage", "--disable-default-apps", "--disable-extensions",
                 "--use-fake-ui-for-media-stream", "--hide-scrollbars", "--force-device-scale-factor=1",
                 "--lang=vi", f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}"):
        options.add_argument(flag)
    if camera_file is not None:
        options.add_argument("--use-fake-device-for-media-stream")
        options.add_argument(f"--use-file-for-fake-video-capture={camera_file}")
    else:
        # no camera at all: the page must say so and keep the scanner path working
        options.add_argument("--use-fake-device-for-media-stream")
        options.add_argument("--use-file-for-fake-video-capture=/nonexistent.y4m")
    service = Service(executable_path=CHROMEDRIVER, log_output=str(tmp / "chromedriver.log"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_window_size(*size)
    driver.set_page_load_timeout(30)
    return driver


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Callable[..., object]]:
    """Open browsers for a test (closed afterwards)."""
    opened: list[object] = []

    def factory(**kwargs: object) -> object:
        driver = chrome(tmp_path, **kwargs)  # type: ignore[arg-type]
        opened.append(driver)
        return driver

    yield factory
    for driver in opened:
        driver.quit()  # type: ignore[attr-defined]
