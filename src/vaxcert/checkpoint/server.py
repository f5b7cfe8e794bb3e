"""The checkpoint web server: one page and its assets, and a small JSON API over a :class:`~vaxcert.Station`.

Routes (all answers ``Cache-Control: no-store``; the API needs the pairing token when one is set):

* ``GET /`` — the page; ``/static/…`` — its script, style sheet, icons and fonts (package data);
* ``GET /api/state`` — settings for the page, the bundle's freshness, counts by colour;
* ``POST /api/frame`` — one camera frame (JPEG/PNG bytes) → a reading;
* ``POST /api/text`` — ``{"text": …}`` from a scanner or the browser's own decoder → a reading;
* ``POST /api/match`` — ``{"holder": …, "card": …}`` → the identity check.

Privacy: the server keeps no per-citizen state.  It counts verdicts by colour and reason (a code
seen in consecutive frames counts once: recent codes are remembered for a minute by a keyed
hash only) and logs nothing but those counts; the access log is off.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import hmac
import json
import logging
import secrets
import time
import urllib.request
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import (
    DEFAULT_GRACE,
    CitizenCard,
    ConfigurationError,
    DocumentError,
    Holder,
    PartialDate,
    Pass,
    Reading,
    ReadingKind,
    Station,
    Verdict,
    colour_label,
    log_event,
    match_identity,
    write_atomic,
)

__all__ = ["STATIC_DIR", "CheckpointSettings", "Counter", "create_app"]

STATIC_DIR: Final = Path(__file__).parent / "static"
MAX_FRAME_BYTES: Final = 6 * 1024 * 1024
MAX_JSON_BYTES: Final = 32 * 1024
MAX_BUNDLE_BYTES: Final = 64 * 1024 * 1024
TOKEN_HEADER: Final = "x-vaxcert-token"  # noqa: S105 - a header name
_TOKEN_ALPHABET: Final = "abcdefghijkmnpqrstuvwxyz23456789"  # noqa: S105 - no look-alikes
_LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
log = logging.getLogger("vaxcert.checkpoint")


def new_token() -> str:
    """A pairing token: 12 characters without look-alikes (about 60 bits), grouped for reading aloud."""
    raw = "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def _normal_token(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


@dataclass
class CheckpointSettings:
    """Everything ``vaxcert checkpoint serve`` configures."""

    bundle_path: Path
    country: str
    region: str | None = None
    lang: str = "vi"
    clear_after: float = 20.0
    grace: dt.timedelta = DEFAULT_GRACE
    token: str | None = None
    loopback_only: bool = True
    bundle_url: str | None = None
    refresh_every: dt.timedelta = dt.timedelta(minutes=15)
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))


class Counter:
    """Verdicts by colour and reason; a code seen again within ``window`` seconds counts once."""

    def __init__(self, window: float = 60.0) -> None:
        self.window = window
        self.colours: collections.Counter[str] = collections.Counter()
        self.reasons: collections.Counter[str] = collections.Counter()
        self._recent: collections.OrderedDict[str, float] = collections.OrderedDict()

    def add(self, key: str | None, colour: str, reason: str) -> None:
        now = time.monotonic()
        while self._recent and next(iter(self._recent.values())) < now - self.window:
            self._recent.popitem(last=False)
        if key is not None:
            seen = key in self._recent
            self._recent[key] = now
            self._recent.move_to_end(key)
            if seen:
                return
        self.colours[colour] += 1
        self.reasons[reason] += 1

    def log(self) -> None:
        """Log the counts (the ``checkpoint.counts`` event): by colour, and ``REASON=n`` by reason."""
        log_event(log, "checkpoint.counts", green=self.colours["GREEN"], yellow=self.colours["YELLOW"],
                  red=self.colours["RED"], reasons=[f"{r}={n}" for r, n in sorted(self.reasons.items())])


# ---------------------------------------------------------------------------------------------
# JSON for the page


def _date(value: PartialDate | None) -> str | None:
    return value.isoformat() if value is not None else None


def _local_day(moment: dt.datetime | None, zone: dt.tzinfo, *, exclusive: bool = False) -> str | None:
    """The calendar day of ``moment`` in the policy's time zone (the day before, for an exclusive end)."""
    if moment is None:
        return None
    if exclusive:
        moment -= dt.timedelta(microseconds=1)
    return moment.astimezone(zone).date().isoformat()


def _local_time(moment: dt.datetime | None, zone: dt.tzinfo) -> str | None:
    """``HH:MM`` when a pass ends during a day (at the certificate's expiry), None when it ends at midnight."""
    if moment is None:
        return None
    local = moment.astimezone(zone)
    return None if local.time() == dt.time(0) else local.strftime("%H:%M")


def _verdict_json(verdict: Verdict, zone: dt.tzinfo) -> dict[str, Any]:
    result, assessment = verdict.result, verdict.assessment
    record = result.record
    colour = assessment.colour
    out: dict[str, Any] = {
        "colour": str(colour),
        "reason": str(assessment.reason),
        "code": str(result.code),
        "label": {lang: colour_label(colour, lang) for lang in ("vi", "en")},
        "message": {lang: assessment.message(lang) for lang in ("vi", "en")},
        "holder": None,
        "facts": None,
        "failed_rules": {lang: [] for lang in ("vi", "en")},
    }
    if verdict.rules is not None:  # the business rules of the bundle that did not pass (no personal data)
        for lang in ("vi", "en"):
            out["failed_rules"][lang] = [f"{r.rule.identifier}: {r.description(lang)}" for r in verdict.rules.failed]
    if record is not None:
        holder = record.holder
        out["holder"] = {"family": holder.family, "given": holder.given, "family_std": holder.family_std,
                         "given_std": holder.given_std, "birth_date": _date(holder.birth_date)}
        dated = [e for e in record.events if e.date is not None]
        last = max(dated, key=lambda e: e.date.isoformat() if e.date else "") if dated else None
        out["facts"] = {
            "type": result.cert_type,
            "dose_number": last.dose_number if last else None,
            "series_doses": last.series_doses if last else None,
            "last_date": _date(last.date) if last else None,
            "valid_from": _iso(assessment.valid_from),
            "valid_until": _iso(assessment.valid_until),
            "first_day": _local_day(assessment.valid_from, zone),
            "last_day": _local_day(assessment.valid_until, zone, exclusive=_local_time(assessment.valid_until, zone)
                                   is None),
            "until_time": _local_time(assessment.valid_until, zone),
        }
    return out


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _holder_from(data: object) -> Holder:
    if not isinstance(data, Mapping):
        raise ValueError("holder must be an object")
    parts: dict[str, str | None] = {}
    for key in ("family", "given", "family_std", "given_std", "birth_date"):
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"holder.{key} must be a string")
        parts[key] = value
    birth = parts.pop("birth_date")
    return Holder(birth_date=PartialDate.parse(birth) if birth else None, **parts)


def _card_from(data: object) -> CitizenCard:
    if not isinstance(data, Mapping):
        raise ValueError("card must be an object")
    name, birth = data.get("name"), data.get("birth_date")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("card.name must be a non-empty string")
    if birth is not None and not isinstance(birth, str):
        raise ValueError("card.birth_date must be a string")
    return CitizenCard(name, PartialDate.parse(birth) if birth else None)


# ---------------------------------------------------------------------------------------------
# middleware: host check, pairing token, security headers

_SECURITY_HEADERS: Final = [
    (b"content-security-policy",
     b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
     b"media-src 'self' blob: mediastream:; font-src 'self'; connect-src 'self'; object-src 'none'; "
     b"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-store"),
    (b"permissions-policy", b"camera=(self), microphone=(), geolocation=()"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


class _Guard:
    """Refuses foreign Host headers in loopback mode (DNS rebinding), checks the pairing token on the
    API (with a brake on guessing), and adds the security headers to every answer."""

    def __init__(self, app: ASGIApp, settings: CheckpointSettings) -> None:
        self.app = app
        self.settings = settings
        self._failures: collections.deque[float] = collections.deque(maxlen=20)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        if self.settings.loopback_only:
            if _host_name(headers.get("host", "")) not in _LOOPBACK_HOSTS:
                await _plain(403, "this checkpoint answers on 127.0.0.1 / localhost only")(scope, receive, send)
                return
        if self.settings.token is not None and scope["path"].startswith("/api/"):
            now = time.monotonic()
            if len(self._failures) == self._failures.maxlen and now - self._failures[0] < 60:
                await _plain(429, "too many wrong pairing codes; wait a minute")(scope, receive, send)
                return
            given = _normal_token(headers.get(TOKEN_HEADER, ""))
            if not hmac.compare_digest(given.encode(), _normal_token(self.settings.token).encode()):
                self._failures.append(now)
                await _plain(401, "pairing code required")(scope, receive, send)
                return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _host_name(header: str) -> str:
    """The host of a Host header without the port (``[::1]:8080`` → ``[::1]``, ``localhost:8080`` → ``localhost``)."""
    if header.startswith("["):
        return header.split("]", 1)[0] + "]"
    return header.rsplit(":", 1)[0] if ":" in header else header


def _plain(status: int, text: str) -> Response:
    return JSONResponse({"error": text}, status_code=status, headers={"cache-control": "no-store"})


async def _body(request: Request, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


class _TooLarge(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# the application


class _Checkpoint:
    def __init__(self, station: Station, settings: CheckpointSettings) -> None:
        self.station = station
        self.settings = settings
        self.counter = Counter()
        self.refresh: dict[str, Any] = {"url": settings.bundle_url is not None, "ok_at": None, "failed_at": None}

    def now(self) -> dt.datetime:
        return self.settings.clock()

    def reading_json(self, reading: Reading) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": str(reading.kind), "bundle": reading.status.to_dict(),
                               "code_id": reading.code_key}
        if reading.kind is ReadingKind.VERDICT and reading.verdict is not None:
            verdict = reading.verdict
            self.counter.add(reading.code_key, str(verdict.colour), str(verdict.assessment.reason))
            out["verdict"] = _verdict_json(verdict, self.station.policy.timezone)
        elif reading.kind is ReadingKind.IDCARD and reading.card is not None:
            out["card"] = reading.card.to_dict()
        out["counts"] = self.counts()
        return out

    def counts(self) -> dict[str, int]:
        return {colour.value: self.counter.colours[colour.value] for colour in Pass}

    async def state(self, request: Request) -> Response:
        s = self.settings
        return JSONResponse({
            "config": {"lang": s.lang, "clear_after": s.clear_after, "country": s.country, "region": s.region,
                       "token_required": s.token is not None},
            "bundle": self.station.status(self.now()).to_dict(),
            "counts": self.counts(),
            "refresh": self.refresh,
        })

    async def frame(self, request: Request) -> Response:
        try:
            data = await _body(request, MAX_FRAME_BYTES)
        except _TooLarge:
            return _plain(413, f"a frame may have at most {MAX_FRAME_BYTES} bytes")
        now = self.now()
        reading = await asyncio.to_thread(self.station.read_image, data, now=now, fallback=False)
        return JSONResponse(self.reading_json(reading))

    async def _json(self, request: Request) -> Any:
        try:
            return json.loads(await _body(request, MAX_JSON_BYTES))
        except _TooLarge:
            raise
        except ValueError:
            return None

    async def text(self, request: Request) -> Response:
        try:
            data = await self._json(request)
        except _TooLarge:
            return _plain(413, "text too long")
        text = data.get("text") if isinstance(data, dict) else None
        if not isinstance(text, str):
            return _plain(400, 'send {"text": "…"}')
        reading = await asyncio.to_thread(self.station.read_text, text, now=self.now())
        return JSONResponse(self.reading_json(reading))

    async def match(self, request: Request) -> Response:
        try:
            data = await self._json(request)
        except _TooLarge:
            return _plain(413, "request too large")
        if not isinstance(data, dict):
            return _plain(400, 'send {"holder": {…}, "card": {…}}')
        try:
            holder, card = _holder_from(data.get("holder")), _card_from(data.get("card"))
        except ValueError as exc:
            return _plain(400, str(exc).split(":")[0])
        return JSONResponse({"identity": match_identity(card, holder).to_dict()})

    async def page(self, request: Request) -> Response:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8")

    # -- bundle refresh ------------------------------------------------------------------------

    def fetch_once(self) -> bool:
        """Download the bundle URL once; True when a newer bundle was installed."""
        url = self.settings.bundle_url
        if url is None:
            return False
        request = urllib.request.Request(url, headers={"User-Agent": "vaxcert-checkpoint"})  # noqa: S310
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - the operator's URL
            data = answer.read(MAX_BUNDLE_BYTES + 1)
        if len(data) > MAX_BUNDLE_BYTES:
            raise ValueError("bundle too large")
        newer = self.station.update(data, now=self.now())
        if newer:
            path = self.settings.bundle_path
            write_atomic(path, data, fail=lambda reason: ConfigurationError(f"cannot write {path}: {reason}"))
            state = self.station.state
            if state is not None and state.path is not None:
                state.save()  # the sequences the station recorded (vaxcert.SequenceState)
        return newer

    async def refresher(self) -> None:
        while True:
            try:
                newer = await asyncio.to_thread(self.fetch_once)
                self.refresh["ok_at"] = _iso(self.now())
                if newer:
                    log_event(log, "checkpoint.bundle_refreshed", sequence=self.station.bundle.sequence)
            except DocumentError as exc:
                self.refresh["failed_at"] = _iso(self.now())
                log_event(log, "checkpoint.bundle_refused", level=logging.WARNING, code=str(exc.code))
            except Exception as exc:  # network errors: try again later
                self.refresh["failed_at"] = _iso(self.now())
                log_event(log, "checkpoint.bundle_refresh_failed", level=logging.WARNING,
                          exc_type=type(exc).__name__)
            await asyncio.sleep(self.settings.refresh_every.total_seconds())


def create_app(station: Station, settings: CheckpointSettings) -> Starlette:
    """The checkpoint ASGI application for ``station``."""
    checkpoint = _Checkpoint(station, settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(checkpoint.refresher()) if settings.bundle_url else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
            checkpoint.counter.log()

    app = Starlette(
        lifespan=lifespan,
        routes=[
            Route("/", checkpoint.page),
            Route("/api/state", checkpoint.state),
            Route("/api/frame", checkpoint.frame, methods=["POST"]),
            Route("/api/text", checkpoint.text, methods=["POST"]),
            Route("/api/match", checkpoint.match, methods=["POST"]),
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        ],
        middleware=[Middleware(_Guard, settings=settings)],
    )
    app.state.checkpoint = checkpoint
    return app
