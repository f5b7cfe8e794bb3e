"""``vaxcert checkpoint serve``: the checkpoint web page, served from the package.

A thin front end over the public API (:class:`vaxcert.Station` does the work): a Starlette
application (:func:`create_app`) serving one page, its script, style sheet, icons and fonts
(package data under ``static/``, nothing from the internet), and a small JSON API the page
calls about five times a second with camera frames, or with a scanner's text.  :func:`serve`
runs it with uvicorn.  Needs the ``vaxcert[checkpoint]`` extra (Starlette, uvicorn, and the QR
decoder); without it, importing this package raises :class:`vaxcert.MissingExtraError` naming
the extra.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .. import Station, needs_extra

with needs_extra("checkpoint", "the checkpoint page"):  # tests/test_checkpoint_server.py hides the modules
    import starlette  # noqa: F401
    import uvicorn

from .server import STATIC_DIR, CheckpointSettings, Counter, create_app, new_token

__all__ = [
    "STATIC_DIR",
    "CheckpointSettings",
    "Counter",
    "create_app",
    "new_token",
    "serve",
]

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def serve(station: Station, settings: CheckpointSettings, *, host: str, port: int,
          tls: tuple[Path, Path] | None = None, on_ready: Callable[[], None] | None = None) -> None:
    """Run the page on ``host:port`` until interrupted (uvicorn, one process, access log off).

    ``tls`` is (certificate chain PEM, private key PEM) for HTTPS: browsers open the camera only on
    ``localhost`` or over HTTPS, so phones and tablets on a LAN need it.  Logging is the caller's
    (``vaxcert checkpoint serve`` sends the ``vaxcert`` and ``uvicorn`` loggers to one handler of
    :mod:`vaxcert.logs`): uvicorn configures none of its own and logs its warnings only.
    """
    app = create_app(station, settings)
    config = uvicorn.Config(app, host=host, port=port, log_config=None, log_level="warning", access_log=False,
                            server_header=False, date_header=False, lifespan="on", timeout_keep_alive=30,
                            ssl_certfile=str(tls[0]) if tls else None, ssl_keyfile=str(tls[1]) if tls else None)
    server = uvicorn.Server(config)
    if on_ready is not None:
        on_ready()
    try:
        server.run()
    except KeyboardInterrupt:  # uvicorn shut down gracefully, then re-raised Ctrl+C
        pass
