"""``vaxcert serve``: the ministry's signing service over HTTP (the ``vaxcert[service]`` extra).

FastAPI on Starlette, served by uvicorn.  FastAPI because the OpenAPI document at
``/openapi.json`` is generated from the same typed models that validate every request and shape
every answer, so it cannot drift from the code; it runs on Starlette and uvicorn, the stack of the
checkpoint page too (whose own extra, ``vaxcert[checkpoint]``, adds the QR decoder instead of
FastAPI).  The service is a thin front end: it authenticates accounts, checks roles and areas,
and calls the public workflows of :mod:`vaxcert.registry` (accounts, the job queue, citizens,
corrections, reports).  Issuance runs in ``vaxcert registry worker``
processes.  See docs/service.md.
"""

from __future__ import annotations

from collections.abc import Callable

from .. import needs_extra

with needs_extra("service", "the signing service"):
    import fastapi  # noqa: F401 - checked here, used by .app
    import uvicorn

from .app import ApiError, ServiceSettings, create_app

__all__ = ["ApiError", "ServiceSettings", "create_app", "serve"]


def serve(settings: ServiceSettings, *, host: str = "127.0.0.1", port: int = 8000, log_level: str = "info",
          on_ready: Callable[[], None] | None = None) -> None:  # fmt: skip
    """Serve the API with uvicorn until interrupted.

    Logging is the caller's (``vaxcert serve`` sends the ``vaxcert`` and ``uvicorn`` loggers to one
    handler of :mod:`vaxcert.logs`): uvicorn configures none of its own (``log_config=None``), its
    loggers are set to ``log_level``, and its access log is off (it would hold client addresses).
    """
    app = create_app(settings)
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, log_level=log_level,
                            server_header=False, timeout_graceful_shutdown=10,
                            timeout_keep_alive=30)  # fmt: skip
    server = uvicorn.Server(config)
    if on_ready is not None:
        on_ready()
    server.run()
