"""The checkpoint station recipe (vaxcert.Station): bundle freshness, grace, refresh, readings of texts and frames."""

from __future__ import annotations

import copy
import datetime as dt
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from checkpoint_support import (
    BUNDLE_SIGNED,
    CCCD_GREEN,
    DAY,
    FRESH_UNTIL,
    GRACE_AT,
    GREEN_PAYLOAD,
    NOT_A_CERTIFICATE,
    RED_PAYLOAD,
    TOO_OLD_AT,
    World,
    corrupt,
    make_world,
)
from conftest import NOW, make_pki
from shc_support import bundle_of, card, example_trust, immunization, qr_text
from test_checkpoint_rules import ONLY_VN
from vaxcert import (
    DEFAULT_GRACE,
    BundleState,
    DocumentError,
    FailureCode,
    Issuer,
    KeySigner,
    Pass,
    ReadingKind,
    RevocationList,
    RuleBook,
    SequenceState,
    ShcTrust,
    Station,
    build_bundle,
    publish,
    render_png,
)

SECOND = dt.timedelta(seconds=1)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """A bundle and GREEN / YELLOW / RED certificates."""
    return make_world(tmp_path_factory.mktemp("station"), make_pki())


def station(world: World, *, grace: dt.timedelta = DEFAULT_GRACE, state: SequenceState | None = None) -> Station:
    return Station.open(world.bundle, [world.pki.csca], now=NOW, grace=grace, state=state)


def png(text: str) -> bytes:
    return render_png(text, scale=4)


def test_status_states_and_edges(world: World) -> None:
    """FRESH up to the freshness limit, GRACE for 72 h after it, TOO_OLD afterwards."""
    s = station(world)
    assert s.grace == DEFAULT_GRACE == dt.timedelta(hours=72)
    assert s.status(NOW).state is BundleState.FRESH
    assert s.status(FRESH_UNTIL).state is BundleState.FRESH
    assert s.status(FRESH_UNTIL + SECOND).state is BundleState.GRACE
    assert s.status(FRESH_UNTIL + DEFAULT_GRACE).state is BundleState.GRACE
    assert s.status(FRESH_UNTIL + DEFAULT_GRACE + SECOND).state is BundleState.TOO_OLD
    status = s.status(GRACE_AT)
    assert (status.issued_at, status.fresh_until, status.sequence) == (BUNDLE_SIGNED, FRESH_UNTIL, 100)
    assert status.age == GRACE_AT - BUNDLE_SIGNED
    assert status.overdue == dt.timedelta(hours=30)
    assert status.grace_left == dt.timedelta(hours=42)
    data = status.to_dict()
    assert data["state"] == "grace" and data["grace_hours"] == 72 and data["overdue_seconds"] == 30 * 3600


def test_freshness_limit_is_the_earliest_part(world: World, tmp_path: Path) -> None:
    """A revocation list expiring before the bundle sets the limit."""
    pki = world.pki
    ministry = KeySigner(pki.csca_key, pki.csca)
    trust_list = publish([pki.dsc], ministry, cscas=[pki.csca], now=NOW, valid_for=7 * DAY)
    short = RevocationList().sign(ministry, now=NOW, valid_for=dt.timedelta(hours=6))
    path = tmp_path / "short.cose"
    path.write_bytes(build_bundle(ministry, trust_list=trust_list, revocation=[short], now=NOW, fresh_for=DAY,
                                  sequence=5, cscas=[pki.csca]))
    s = Station.open(path, [pki.csca], now=NOW)
    assert s.status(NOW).fresh_until == NOW + dt.timedelta(hours=6)
    assert s.status(NOW + dt.timedelta(hours=7)).state is BundleState.GRACE
    # within the grace period the stale revocation list does not turn citizens RED
    assert s.read_text(world.green, now=NOW + dt.timedelta(hours=7)).verdict.colour is Pass.GREEN  # type: ignore[union-attr]


def test_texts_give_verdicts(world: World) -> None:
    """GREEN, YELLOW, RED (revoked), a damaged code, and another app's code."""
    s = station(world)
    expected = [(world.green, Pass.GREEN, FailureCode.OK), (world.yellow, Pass.YELLOW, FailureCode.OK),
                (world.red, Pass.RED, FailureCode.REVOKED),
                (NOT_A_CERTIFICATE, Pass.RED, FailureCode.NOT_A_CERTIFICATE)]
    for text, colour, code in expected:
        reading = s.read_text(f"  {text}\r\n", now=NOW)
        assert reading.kind is ReadingKind.VERDICT
        assert reading.verdict is not None
        assert (reading.verdict.colour, reading.verdict.result.code) == (colour, code)
    damaged = s.read_text(corrupt(world.green), now=NOW)
    assert damaged.verdict is not None and damaged.verdict.colour is Pass.RED and not damaged.verdict.result.valid


def test_verdict_carries_holder_and_events(world: World) -> None:
    """An authentic certificate's verdict has the holder and the vaccination events; repr stays redacted."""
    reading = station(world).read_text(world.red, now=NOW)
    assert reading.verdict is not None
    record = reading.verdict.result.record
    assert record is not None
    holder = record.holder
    assert (holder.family, holder.given, holder.given_std) == ("Lê", "Văn Cường", "VAN<CUONG")
    assert str(holder.birth_date) == RED_PAYLOAD["dob"]
    assert [e.dose_number for e in record.events] == [2]
    assert "Cường" not in repr(reading) and "1972" not in repr(reading)
    assert station(world).read_text(NOT_A_CERTIFICATE, now=NOW).verdict.result.record is None  # type: ignore[union-attr]


def test_grace_period_keeps_verdicts_and_too_old_gives_none(world: World) -> None:
    """In the grace period certificates are judged as usual; once too old, no verdict at all (never a RED)."""
    s = station(world)
    assert s.read_text(world.green, now=GRACE_AT).verdict.colour is Pass.GREEN  # type: ignore[union-attr]
    assert s.read_text(world.red, now=GRACE_AT).verdict.result.code is FailureCode.REVOKED  # type: ignore[union-attr]
    for text in (world.green, world.red, NOT_A_CERTIFICATE):
        reading = s.read_text(text, now=TOO_OLD_AT)
        assert (reading.kind, reading.verdict) == (ReadingKind.BUNDLE_TOO_OLD, None)
    assert station(world, grace=dt.timedelta(0)).read_text(world.green, now=GRACE_AT).kind is ReadingKind.BUNDLE_TOO_OLD
    with pytest.raises(ValueError, match="negative"):
        station(world, grace=-SECOND)


def test_id_cards_are_recognised(world: World) -> None:
    """A CCCD text gives an IDCARD reading with the name and birth date only, whatever the bundle's state."""
    for moment in (NOW, TOO_OLD_AT):
        reading = station(world).read_text(CCCD_GREEN, now=moment)
        assert reading.kind is ReadingKind.IDCARD
        assert reading.card is not None and reading.card.name == "NGUYỄN VĂN AN"
    bad = "001090012345||Nguyễn Văn An|99999999|Nam|x|y"  # shaped like a card, but not one
    assert station(world).read_text(bad, now=NOW).verdict.result.code is FailureCode.NOT_A_CERTIFICATE  # type: ignore[union-attr]


def test_frames(world: World) -> None:
    """Rendered codes in pictures give readings; empty or broken frames give NONE."""
    s = station(world)
    reading = s.read_image(png(world.yellow), now=NOW)
    assert reading.kind is ReadingKind.VERDICT and reading.verdict.colour is Pass.YELLOW  # type: ignore[union-attr]
    blank = io.BytesIO()
    Image.new("L", (1280, 720), 200).save(blank, "JPEG")
    assert s.read_image(blank.getvalue(), now=NOW).kind is ReadingKind.NONE
    assert s.read_image(b"not a picture", now=NOW).kind is ReadingKind.NONE
    assert s.read_image(blank.getvalue(), now=TOO_OLD_AT).kind is ReadingKind.BUNDLE_TOO_OLD


def test_frame_with_card_and_certificate_prefers_the_certificate(world: World) -> None:
    """When an ID card and a certificate are both in view, the certificate is read."""
    import segno

    card = io.BytesIO()
    segno.make(CCCD_GREEN, error="m").save(card, kind="png", scale=4)
    both = Image.new("L", (1400, 700), 255)
    both.paste(Image.open(card).convert("L"), (20, 20))
    both.paste(Image.open(io.BytesIO(png(world.green))).convert("L"), (700, 20))
    reading = station(world).read_image(both, now=NOW)
    assert reading.kind is ReadingKind.VERDICT and reading.verdict.colour is Pass.GREEN  # type: ignore[union-attr]
    card.seek(0)
    assert station(world).read_image(card.getvalue(), now=NOW).kind is ReadingKind.IDCARD


def test_code_keys(world: World) -> None:
    """The same code gives the same key on one station; keys differ between codes and between stations."""
    a, b = station(world), station(world)
    assert a.read_text(world.green, now=NOW).code_key == a.read_text(world.green, now=NOW).code_key
    assert a.code_key(world.green) != a.code_key(world.yellow)
    assert a.code_key(world.green) != b.code_key(world.green)
    assert a.read_image(png(world.green), now=NOW).code_key == a.code_key(world.green)


def test_update_keeps_the_highest_sequence(world: World) -> None:
    """A newer bundle replaces the current one; the same sequence is not newer; an older one is a rollback."""
    s = station(world)
    assert s.update(world.newer_bundle(sequence=101), now=NOW) is True
    assert s.bundle.sequence == 101 and s.status(NOW).issued_at == NOW
    assert s.update(world.newer_bundle(sequence=101), now=NOW) is False
    with pytest.raises(DocumentError, match="rollback"):
        s.update(world.bundle_bytes, now=NOW)
    with pytest.raises(DocumentError):
        s.update(b"\x00garbage", now=NOW)
    assert s.bundle.sequence == 101
    assert s.read_text(world.green, now=NOW).verdict.colour is Pass.GREEN  # type: ignore[union-attr]


def test_update_refuses_a_foreign_ministry(world: World) -> None:
    """A bundle signed under another CSCA is refused, and the station keeps its bundle."""
    foreign = make_world(world.root / "foreign", make_pki()).newer_bundle(sequence=500)
    s = station(world)
    with pytest.raises(DocumentError):
        s.update(foreign, now=NOW)
    assert s.bundle.sequence == 100


def test_open_refuses_a_rollback(world: World, tmp_path: Path) -> None:
    """Opening with a state that recorded a newer bundle (saved, reloaded) refuses the older file."""
    newer = tmp_path / "newer.cose"
    newer.write_bytes(world.newer_bundle(sequence=101))
    state = SequenceState(tmp_path / "state.json")
    Station.open(newer, [world.pki.csca], now=NOW, state=state)
    state.save()
    key = SequenceState.key_of(station(world).bundle.document)
    assert key.startswith("vaxcert.bundle/1:")
    assert SequenceState.load(tmp_path / "state.json").minimum(key) == 101
    with pytest.raises(DocumentError, match="rollback"):
        station(world, state=SequenceState.load(tmp_path / "state.json"))
    assert station(world, state=SequenceState(tmp_path / "other.json")).bundle.sequence == 100


def test_update_records_in_the_state(world: World) -> None:
    """With a state, update records the new bundle's sequences and refuses one older than any recorded."""
    state = SequenceState()
    s = station(world, state=state)
    key = state.key_of(s.bundle.document)
    assert state.minimum(key) == 100 and len(state.items()) == 3  # the bundle, its trust list, its revocation list
    assert s.update(world.newer_bundle(sequence=101), now=NOW) is True
    assert state.minimum(key) == 101
    elsewhere = SequenceState(None, {**state.items(), key: 150})  # another process saw 150
    t = station(world, state=SequenceState())
    t.state = elsewhere
    before = elsewhere.items()
    with pytest.raises(DocumentError, match="rollback"):
        t.update(world.newer_bundle(sequence=120), now=NOW)
    assert t.bundle.sequence == 100 and elsewhere.items() == before  # nothing taken, nothing recorded


@pytest.fixture(scope="module")
def shared(world: World) -> Station:
    """One station for the property test."""
    return station(world)


@settings(max_examples=60)
@given(st.one_of(st.text(max_size=400), st.text(max_size=40).map(lambda t: "HC1:" + t),
                 st.binary(max_size=300).map(lambda b: b.decode("latin-1"))))
def test_hostile_text_never_raises(shared: Station, text: str) -> None:
    """Any text gives a reading (hostile input never raises)."""
    assert shared.read_text(text, now=NOW).kind in set(ReadingKind)


def _rules_bundle(world: World, tmp_path: Path, *, rules: RuleBook | None = None, shc: ShcTrust | None = None) -> Path:
    pki = world.pki
    ministry = KeySigner(pki.csca_key, pki.csca)
    trust_list = publish([pki.dsc, pki.rsa_dsc], ministry, cscas=[pki.csca], now=BUNDLE_SIGNED, valid_for=7 * DAY)
    path = tmp_path / "rules.cose"
    path.write_bytes(build_bundle(ministry, trust_list=trust_list, now=BUNDLE_SIGNED, fresh_for=DAY, sequence=7,
                                  cscas=[pki.csca], rules=rules.to_bytes() if rules is not None else None,
                                  shc_issuers=shc.to_json() if shc is not None else None))
    return path


def test_the_bundles_rules_apply_for_the_station_country(world: World, tmp_path: Path) -> None:
    """A country's gateway rule from the bundle turns a pass RED and is listed; other countries' stations ignore it."""
    book = RuleBook(RuleBook.from_documents([(ONLY_VN, "test")]).rules, RuleBook.bundled().passes)
    path = _rules_bundle(world, tmp_path, rules=book)
    abroad = copy.deepcopy(GREEN_PAYLOAD)
    abroad["v"][0]["co"] = "FR"
    text = Issuer(world.pki.signer, facility_override=True).issue(abroad, now=NOW - DAY).hc1
    vn = Station.open(path, [world.pki.csca], now=NOW, country="VN", region="HN")
    verdict = vn.read_text(text, now=NOW).verdict
    assert verdict is not None and verdict.colour is Pass.RED
    assert verdict.rules is not None and [r.rule.identifier for r in verdict.rules.failed] == ["VR-VN-0100"]
    assert vn.read_text(world.green, now=NOW).verdict.colour is Pass.GREEN  # type: ignore[union-attr]
    for other in (Station.open(path, [world.pki.csca], now=NOW, country="DE"),
                  Station.open(path, [world.pki.csca], now=NOW)):
        assert other.read_text(text, now=NOW).verdict.colour is Pass.GREEN  # type: ignore[union-attr]


def test_health_cards_from_the_bundles_issuers(world: World, tmp_path: Path) -> None:
    """A SMART Health Card whose issuer the bundle carries is verified, with its holder, also in the grace period."""
    path = _rules_bundle(world, tmp_path, shc=example_trust())
    s = Station.open(path, [world.pki.csca], now=NOW)
    shc = qr_text(card(bundle_of(immunization(code="208", date="2026-01-05"),
                                 immunization(code="208", date="2026-02-02"))))
    for moment in (NOW, GRACE_AT):
        reading = s.read_text(shc, now=moment)
        assert reading.verdict is not None and reading.verdict.result.valid, reading.verdict
        assert reading.verdict.result.format == "shc"
        assert reading.verdict.result.record is not None and reading.verdict.result.record.holder is not None
    assert s.read_text(shc, now=TOO_OLD_AT).kind is ReadingKind.BUNDLE_TOO_OLD
