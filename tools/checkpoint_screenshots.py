"""Screenshots of the checkpoint page for docs/checkpoint.md, taken on the demo (tests and CI do not use this).

    ./scripts/demo.sh && ./scripts/checkpoint.sh &          # the page on http://127.0.0.1:8080/
    .venv/bin/python tools/checkpoint_screenshots.py [--url http://127.0.0.1:8080/] [--out docs/img]

Drives Debian's headless chromium (selenium) with a keyboard-wedge "scanner": the demo's QR codes
(read back from demo-out/qr/*.png) and ID card texts (demo-out/cccd.txt), then saves small PNGs.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from vaxcert import decode_file

REPO = Path(__file__).resolve().parents[1]


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
    parser.add_argument("--url", default="http://127.0.0.1:8080/")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    codes = [decode_file(p)[0].text for p in sorted((REPO / "demo-out" / "qr").glob("*.png"))]
    cards = (REPO / "demo-out" / "cccd.txt").read_text(encoding="utf-8").splitlines()
    with tempfile.TemporaryDirectory() as tmp:
        laptop = browser((1280, 800), Path(tmp) / "a")
        laptop.get(args.url)
        time.sleep(1.5)
        save(laptop, args.out / "checkpoint-idle-laptop.png")
        scan(laptop, codes[0])
        scan(laptop, cards[0])
        save(laptop, args.out / "checkpoint-green-match-laptop.png")
        scan(laptop, codes[3])
        save(laptop, args.out / "checkpoint-yellow-laptop.png")
        laptop.quit()
        phone = browser((390, 844), Path(tmp) / "b")
        phone.get(args.url + "?lang=en")
        time.sleep(1.5)
        scan(phone, codes[1])
        scan(phone, cards[0])  # someone else's card: does not match
        save(phone, args.out / "checkpoint-mismatch-phone-en.png")
        scan(phone, "https://example.org/menu")
        save(phone, args.out / "checkpoint-red-phone-en.png")
        phone.quit()


if __name__ == "__main__":
    main()
