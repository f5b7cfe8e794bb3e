"""The checkpoint page's camera loop in a real browser, on a fake camera feed built with ffmpeg."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from browser.conftest import Server
from browser.feed import Segment, build_feed, duration
from browser.test_checkpoint_page import wait_for
from checkpoint_support import CCCD_GREEN, NOT_A_CERTIFICATE, NOW, World, corrupt

pytestmark = pytest.mark.browser

# Records every verdict and identity result the page shows (test-side: the page keeps no history).
RECORDER = """
window.__seen = [];
const verdict = document.getElementById('verdict'), identity = document.getElementById('identity');
const note = () => {
  const v = verdict.dataset;
  if (v.colour && !verdict.hidden) {
    const entry = `${v.colour}/${v.reason}/${document.getElementById('holder-name').textContent}`;
    if (window.__seen[window.__seen.length - 1] !== entry) window.__seen.push(entry);
  }
  if (identity.dataset.result) {
    const entry = `identity/${identity.dataset.result}`;
    if (window.__seen[window.__seen.length - 1] !== entry) window.__seen.push(entry);
  }
};
new MutationObserver(note).observe(verdict, { attributes: true, subtree: true, childList: true });
new MutationObserver(note).observe(identity, { attributes: true });
"""


def test_camera_feed(world: World, serve: Callable[..., Server], browser: Callable[..., Any], tmp_path: Path) -> None:
    """GREEN, the ID card, rotated YELLOW, blurred RED (revoked), a damaged code, a URL and an unreadable code."""
    segments = [
        Segment(world.green, 2.5),
        Segment(CCCD_GREEN, 2.0),                   # the holder's ID card, while the verdict is on screen
        Segment(None, 1.0),
        Segment(world.yellow, 2.5, rotate=25),
        Segment(None, 1.0),
        Segment(world.red, 2.5, blur=1.6),          # revoked: RED
        Segment(None, 1.0),
        Segment(corrupt(world.green), 2.5),         # an HC1 code whose content is damaged: RED
        Segment(None, 1.0),
        Segment(NOT_A_CERTIFICATE, 2.5, rotate=-12),  # another app's code: RED
        Segment(None, 1.0),
        Segment(world.booster, 2.5, blur=9),        # too blurred to read: no verdict at all
        Segment(None, 1.5),
    ]
    feed = build_feed(segments, tmp_path / "camera.mjpeg")
    server = serve(NOW.isoformat(), "--clear-after", "4")
    driver = browser(camera_file=feed)
    driver.get(server.url)
    wait_for(driver, "!!document.getElementById('video').srcObject && document.getElementById('video').readyState >= 2",
             15)
    assert driver.execute_script("return document.getElementById('camera-off').hidden")
    driver.execute_script(RECORDER)
    wait_for(driver, "document.getElementById('identity').dataset.result === 'match'", duration(segments) + 10)
    driver.save_screenshot(str(tmp_path / "camera-green-id-match.png"))
    time.sleep(duration(segments) + 1)  # one more full loop of the feed
    seen = driver.execute_script("return window.__seen")
    shown = set(seen)
    assert {
        "GREEN/FULLY_VACCINATED/Nguyễn Văn An",
        "identity/match",
        "YELLOW/PARTIALLY_VACCINATED/Trần Thị Bình",
        "RED/REVOKED/Lê Văn Cường",
        "RED/NOT_AUTHENTIC/",
        "RED/NOT_A_CERTIFICATE/",
    } <= shown, seen
    assert not any("Phạm" in entry or "BOOSTER" in entry for entry in seen), seen
    assert not any(entry.startswith(("RED/NO_QR_FOUND", "RED/IMAGE_UNREADABLE")) for entry in seen), seen
    assert len(shown) == 6, seen


# A stand-in for the browser's own QR decoder (Chrome on Android, Safari; not in Linux Chromium):
# it "sees" whatever the test puts in window.__code.
FAKE_DETECTOR = """
window.BarcodeDetector = class {
  static async getSupportedFormats() { return ["qr_code", "ean_13"]; }
  constructor(options) { this.options = options; }
  async detect(source) { return window.__code ? [{ rawValue: window.__code, format: "qr_code" }] : []; }
};
"""


def test_in_page_decoding_with_barcode_detector(world: World, serve: Callable[..., Server],
                                                browser: Callable[..., Any], tmp_path: Path) -> None:
    """Where the browser decodes QR codes itself, the page sends the text, never the frames."""
    feed = build_feed([Segment(None, 1.0)], tmp_path / "empty.mjpeg")
    server = serve(NOW.isoformat(), "--clear-after", "30")
    driver = browser(camera_file=feed)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": FAKE_DETECTOR})
    driver.get(server.url)
    wait_for(driver, "document.getElementById('video').readyState >= 2", 15)
    time.sleep(0.6)  # a few empty detections
    driver.execute_script(f"window.__code = {world.yellow!r}")
    wait_for(driver, "document.getElementById('verdict').dataset.colour === 'YELLOW'", 10)
    driver.execute_script(f"window.__code = {CCCD_GREEN!r}")
    wait_for(driver, "document.getElementById('identity').dataset.result === 'mismatch'", 10)
    calls = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => new URL(e.name).pathname)")
    assert "/api/text" in calls and "/api/match" in calls
    assert "/api/frame" not in calls
