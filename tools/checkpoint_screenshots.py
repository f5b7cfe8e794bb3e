"""Screenshots of the checkpoint page for docs/checkpoint.md, taken on the demo (tests and CI do not use this).

    ./scripts/demo.sh
    .venv/bin/python tools/checkpoint_screenshots.py [--out docs/img]

Starts ``vaxcert checkpoint serve`` on the demo's bundle twice (now, and 30 hours past the
bundle's freshness limit for the grace banner), drives Debian's headless chromium (selenium) with
a keyboard-wedge "scanner" — the demo's QR codes read back from demo-out/qr/*.png and the ID card
texts of demo-out/cccd.txt — and saves small PNGs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from vaxcert import decode_file, load_bundle, load_certificate_file

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "demo-out"


@contextmanager
def server(*extra: str) -> Iterator[str]:
    """``vaxcert checkpoint serve`` on the demo bundle on a free port; yields its URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(  # noqa: S603 - vaxcert itself, fixed arguments
        [sys.executable, "-m", "vaxcert", "checkpoint", "serve", "--bundle", str(DEMO / "bundle.cose"),
         "--csca", str(DEMO / "ministry" / "csca.pem"), "--country", "VN", "--region", "Hà Nội",
         "--clear-after", "120",
         "--port", str(port), "--state-file", str(DEMO / "screenshots.state.json"), *extra],
        stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        process.wait(10)


def browser(size: tuple[int, int], profile: Path) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
                 "--hide-scrollbars", "--force-device-scale-factor=1", f"--user-data-dir={profile}",
                 f"--window-size={size[0]},{size[1]}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    driver.set_window_size(*size)
    return driver


def scan(driver: webdriver.Chrome, text: str) -> None:
    ActionChains(driver).send_keys(text + Keys.ENTER).perform()
    time.sleep(1.0)


def save(driver: webdriver.Chrome, path: Path) -> None:
    driver.save_screenshot(str(path))
    Image.open(path).convert("RGB").quantize(colors=96, dither=Image.Dither.NONE).save(path, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    codes = [decode_file(p)[0].text for p in sorted((DEMO / "qr").glob("*.png"))]
    cards = (DEMO / "cccd.txt").read_text(encoding="utf-8").splitlines()
    csca = load_certificate_file(DEMO / "ministry" / "csca.pem")
    fresh_until = load_bundle(DEMO / "bundle.cose", csca, dt.datetime.now(dt.UTC)).expires_at
    with tempfile.TemporaryDirectory() as tmp, server() as url:
        laptop = browser((1280, 800), Path(tmp) / "a")
        laptop.get(url)
        time.sleep(1.5)
        save(laptop, args.out / "checkpoint-idle-laptop.png")
        scan(laptop, codes[0])
        scan(laptop, cards[0])
        save(laptop, args.out / "checkpoint-green-match-laptop.png")
        scan(laptop, codes[3])
        save(laptop, args.out / "checkpoint-yellow-laptop.png")
        laptop.quit()
        phone = browser((390, 844), Path(tmp) / "b")
        phone.get(url + "?lang=en")
        time.sleep(1.5)
        scan(phone, codes[1])
        scan(phone, cards[0])  # someone else's card: does not match
        save(phone, args.out / "checkpoint-mismatch-phone-en.png")
        scan(phone, codes[2])  # a pass that expired: RED, with the holder shown
        save(phone, args.out / "checkpoint-red-phone-en.png")
        phone.quit()
    grace = (fresh_until + dt.timedelta(hours=30)).isoformat()
    with tempfile.TemporaryDirectory() as tmp, server("--at", grace) as url:
        laptop = browser((1280, 800), Path(tmp) / "c")
        laptop.get(url)
        time.sleep(1.5)
        scan(laptop, codes[4])
        save(laptop, args.out / "checkpoint-grace-laptop.png")
        laptop.quit()
    (DEMO / "screenshots.state.json").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
