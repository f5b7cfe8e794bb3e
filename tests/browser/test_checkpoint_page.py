"""The checkpoint page in a real browser: scanner input, verdicts, ID card check, bundle states, languages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from browser.conftest import PHONE, Server
from checkpoint_support import CCCD_GREEN, CCCD_OTHER, CCCD_YELLOW, GRACE_AT, NOT_A_CERTIFICATE, NOW, TOO_OLD_AT, World

pytestmark = pytest.mark.browser


def _iso(moment: Any) -> str:
    return str(moment.isoformat())


def wait_for(driver: Any, script: str, timeout: float = 10) -> Any:
    """Poll a JavaScript expression until it is truthy; return its value."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(lambda d: d.execute_script(f"return {script}"))


def scan(driver: Any, text: str) -> None:
    """Type like a keyboard-wedge scanner: the characters then Enter, into whatever has focus (no click)."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    ActionChains(driver).send_keys(text + Keys.ENTER).perform()


def open_page(driver: Any, server: Server, suffix: str = "") -> None:
    driver.get(server.url + suffix)
    wait_for(driver, "document.getElementById('bundle-text').textContent.length > 2")
    wait_for(driver, "document.activeElement && document.activeElement.id === 'scanner' || "
                     "document.body.dataset.screen === 'too_old'")


def text_of(driver: Any, element_id: str) -> str:
    return str(driver.execute_script(f"return document.getElementById('{element_id}').innerText"))


def verdict(driver: Any, colour: str) -> dict[str, str]:
    """Wait for a verdict of this colour and return what it shows."""
    wait_for(driver, f"document.getElementById('verdict').dataset.colour === '{colour}' && "
                     "!document.getElementById('verdict').hidden")
    shown = {key: text_of(driver, key) for key in ("verdict-word", "verdict-reason", "holder-name", "holder-std",
                                                    "holder-dob", "fact-doses", "fact-last", "fact-validity")}
    shown["reason"] = driver.execute_script("return document.getElementById('verdict').dataset.reason")
    return shown


def shot(driver: Any, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def test_scanner_verdicts_in_vietnamese(world: World, serve: Callable[..., Server], browser: Callable[..., Any],
                                        tmp_path: Path) -> None:
    """Scanner text + Enter (no click) gives GREEN, YELLOW, RED with word, reason, holder and dose facts."""
    server = serve(_iso(NOW), "--clear-after", "60")
    driver = browser()
    open_page(driver, server)
    assert text_of(driver, "camera-off")  # no camera in this browser: said so, scanner still works

    scan(driver, world.green)
    shown = verdict(driver, "GREEN")
    assert shown["verdict-word"] == "XANH"
    assert shown["reason"] == "FULLY_VACCINATED"
    assert "Đã tiêm đủ liều (2/2 mũi)" in shown["verdict-reason"]
    assert shown["holder-name"] == "Nguyễn Văn An"
    assert shown["holder-std"] == "NGUYEN<<VAN<AN"
    assert shown["holder-dob"] == "15/05/1990"
    assert shown["fact-doses"] == "2/2"
    assert shown["fact-last"] == "02/04/2026"
    assert shown["fact-validity"] == "đến hết ngày 01/04/2027"
    shot(driver, tmp_path, "green-vi-laptop")

    scan(driver, world.yellow)  # a new scan replaces the verdict on screen
    shown = verdict(driver, "YELLOW")
    assert (shown["verdict-word"], shown["reason"], shown["holder-dob"]) == ("VÀNG", "PARTIALLY_VACCINATED", "1985")
    assert shown["fact-doses"] == "1/2"
    shot(driver, tmp_path, "yellow-vi-laptop")

    scan(driver, world.red)
    shown = verdict(driver, "RED")
    assert (shown["verdict-word"], shown["reason"]) == ("ĐỎ", "REVOKED")
    shot(driver, tmp_path, "red-vi-laptop")

    scan(driver, NOT_A_CERTIFICATE)
    shown = verdict(driver, "RED")
    wait_for(driver, "document.getElementById('verdict').dataset.reason === 'NOT_A_CERTIFICATE'")
    assert driver.execute_script("return document.getElementById('verdict').classList.contains('no-holder')")

    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    ActionChains(driver).send_keys(Keys.ESCAPE).perform()
    wait_for(driver, "document.getElementById('verdict').hidden")
    assert text_of(driver, "holder-name") == ""  # nothing personal left in the page
    assert driver.switch_to.active_element.get_attribute("id") == "scanner"
    counts = [text_of(driver, f"count-{c}") for c in ("green", "yellow", "red")]
    assert counts == ["1", "1", "2"]
    assert driver.execute_script("return document.cookie") == ""
    assert driver.execute_script("return localStorage.length + sessionStorage.length") == 0


def test_verdict_clears_itself(world: World, serve: Callable[..., Server], browser: Callable[..., Any]) -> None:
    """A verdict disappears after --clear-after seconds and the page is ready for the next person."""
    server = serve(_iso(NOW), "--clear-after", "1.5")
    driver = browser()
    open_page(driver, server)
    scan(driver, world.green)
    verdict(driver, "GREEN")
    wait_for(driver, "document.getElementById('verdict').hidden && document.body.dataset.screen === 'idle'", 6)
    assert text_of(driver, "holder-name") == ""


def test_id_card_match_and_mismatch(world: World, serve: Callable[..., Server], browser: Callable[..., Any],
                                    tmp_path: Path) -> None:
    """Scanning the CCCD after a certificate shows match, mismatch, or a year-only match."""
    server = serve(_iso(NOW), "--clear-after", "60")
    driver = browser()
    open_page(driver, server)
    scan(driver, world.green)
    verdict(driver, "GREEN")
    scan(driver, CCCD_GREEN)
    wait_for(driver, "document.getElementById('identity').dataset.result === 'match'")
    assert text_of(driver, "identity-title") == "Khớp với CCCD"
    assert "NGUYỄN VĂN AN" in text_of(driver, "identity-detail")
    assert driver.execute_script("return document.getElementById('verdict').dataset.colour") == "GREEN"
    shot(driver, tmp_path, "id-match-vi-laptop")

    scan(driver, CCCD_OTHER)
    wait_for(driver, "document.getElementById('identity').dataset.result === 'mismatch'")
    assert text_of(driver, "identity-title") == "KHÔNG khớp với CCCD"
    assert "Ngày sinh: không khớp" in text_of(driver, "identity-detail")
    shot(driver, tmp_path, "id-mismatch-vi-laptop")

    # card first, then the certificate (its holder has a year-only birth date)
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    ActionChains(driver).send_keys(Keys.ESCAPE).perform()
    scan(driver, CCCD_YELLOW)
    wait_for(driver, "document.getElementById('scan-status').textContent.length > 0")
    scan(driver, world.yellow)
    verdict(driver, "YELLOW")
    wait_for(driver, "document.getElementById('identity').dataset.result === 'match'")
    assert "chỉ năm" in text_of(driver, "identity-detail")


def test_english_and_phone_layout(world: World, serve: Callable[..., Server], browser: Callable[..., Any],
                                  tmp_path: Path) -> None:
    """--lang en gives English texts; on a phone-sized window nothing important is cut off."""
    server = serve(_iso(NOW), "--clear-after", "60", "--lang", "en")
    driver = browser(size=PHONE)
    open_page(driver, server)
    assert text_of(driver, "scan-title") == "Scan the certificate's QR code"
    shot(driver, tmp_path, "idle-en-phone")
    scan(driver, world.green)
    shown = verdict(driver, "GREEN")
    assert shown["verdict-word"] == "GREEN"
    assert shown["verdict-reason"].startswith("Fully vaccinated")
    assert shown["holder-dob"] == "1990-05-15"
    scan(driver, CCCD_GREEN)
    wait_for(driver, "document.getElementById('identity').dataset.result === 'match'")
    assert text_of(driver, "identity-title") == "Matches the ID card"
    shot(driver, tmp_path, "green-en-phone")
    width = driver.execute_script("return document.documentElement.scrollWidth")
    assert width <= PHONE[0]  # no sideways scrolling
    for element_id in ("verdict-word", "holder-name", "holder-dob", "identity-title"):
        right = driver.execute_script(f"return document.getElementById('{element_id}').getBoundingClientRect().right")
        assert right <= PHONE[0], element_id

    driver.find_element("css selector", ".lang[data-lang='vi']").click()  # staff can switch language
    wait_for(driver, "document.getElementById('verdict-word').textContent === 'XANH'")
    assert text_of(driver, "holder-dob") == "15/05/1990"
    shot(driver, tmp_path, "green-vi-phone")


def test_stale_bundle_banner_then_too_old(world: World, serve: Callable[..., Server], browser: Callable[..., Any],
                                          tmp_path: Path) -> None:
    """Within the grace period verdicts come under an amber banner; after it, 'too old' and no verdict at all."""
    server = serve(_iso(GRACE_AT), "--clear-after", "60")
    driver = browser()
    open_page(driver, server)
    wait_for(driver, "!document.getElementById('banner').hidden")
    assert "Hãy cập nhật" in text_of(driver, "banner-text")
    assert driver.execute_script("return document.body.dataset.bundle") == "grace"
    scan(driver, world.green)
    verdict(driver, "GREEN")
    shot(driver, tmp_path, "grace-vi-laptop")

    server = serve(_iso(TOO_OLD_AT), "--lang", "en")
    driver = browser(size=PHONE)
    open_page(driver, server)
    wait_for(driver, "document.body.dataset.screen === 'too_old'")
    assert text_of(driver, "too-old").startswith("The trust bundle is too old")
    scan(driver, world.green)
    scan(driver, world.red)
    wait_for(driver, "document.getElementById('count-red').textContent === '0'")
    assert driver.execute_script("return document.getElementById('verdict').hidden")
    assert driver.execute_script("return document.body.dataset.screen") == "too_old"
    shot(driver, tmp_path, "too-old-en-phone")


def test_lan_mode_asks_for_the_pairing_code(world: World, serve: Callable[..., Server], browser: Callable[..., Any],
                                            tmp_path: Path) -> None:
    """With --host 0.0.0.0 the page asks for the console's pairing code once, then works; the fragment works too."""
    server = serve(_iso(NOW), "--host", "0.0.0.0", "--clear-after", "60")
    token = server.token
    assert token is not None
    driver = browser(size=PHONE)
    driver.get(server.url)
    wait_for(driver, "document.body.dataset.screen === 'pair'")
    shot(driver, tmp_path, "pair-vi-phone")
    scan(driver, "wrong-code")
    wait_for(driver, "document.getElementById('pair-status').textContent.length > 0")
    scan(driver, token.upper().replace("-", " "))  # spelled out loud: case and separators do not matter
    wait_for(driver, "document.body.dataset.screen === 'idle'")
    scan(driver, world.green)
    verdict(driver, "GREEN")

    other = browser()
    other.get(server.url + f"#token={token}")
    wait_for(other, "document.body.dataset.screen === 'idle'")
    scan(other, world.yellow)
    verdict(other, "YELLOW")
