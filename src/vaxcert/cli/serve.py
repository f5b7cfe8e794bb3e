"""``vaxcert serve``: the signing service over HTTP (the ``vaxcert[service]`` extra)."""

from __future__ import annotations

from pathlib import Path

import click

from .. import KeySigner
from ..registry import RateLimit, open_registry
from ._common import key_password
from ._logging import LOG_LEVEL_OPTION, long_running

__all__ = ["serve_cmd"]


@click.command("serve")
@click.option("--db", "db", required=True, envvar="VAXCERT_DB", metavar="URL",
              help="sqlite:///PATH (one process) or postgresql://... (env VAXCERT_DB).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--pool", "pool_size", default=8, show_default=True, type=click.IntRange(1, 256),
              help="Registry connections of this process (requests beyond wait up to --acquire-timeout, then 429).")
@click.option("--acquire-timeout", default=1.0, show_default=True, type=click.FloatRange(0.01, 60))
@click.option("--max-inflight", default=64, show_default=True, type=click.IntRange(1, 10_000),
              help="Requests this process works on at once; more get 429 + Retry-After at once.")
@click.option("--queue-limit", default=200_000, show_default=True, type=click.IntRange(1),
              help="Records waiting in the job queue beyond which submissions get 429 + Retry-After.")
@click.option("--drain-rate", default=2_000.0, show_default=True, type=click.FloatRange(1),
              help="Records/s the workers import, for the Retry-After estimate.")
@click.option("--citizen-per-client", default="30/60", show_default=True, metavar="N/SECONDS",
              help="Citizen requests allowed per client address per window.")
@click.option("--citizen-per-id", default="10/3600", show_default=True, metavar="N/SECONDS",
              help="Citizen requests allowed per ID number per window.")
@click.option("--trust-forwarded-for", is_flag=True,
              help="Take the client address from X-Forwarded-For (only behind a proxy that sets it).")
@click.option("--list-signer-key", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="Key that signs revocation lists (POST /v1/revocation-list); password in VAXCERT_KEY_PASSWORD.")
@click.option("--list-signer-cert", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None)
@LOG_LEVEL_OPTION
def serve_cmd(db: str, host: str, port: int, pool_size: int, acquire_timeout: float, max_inflight: int,
              queue_limit: int,
              drain_rate: float, citizen_per_client: str, citizen_per_id: str, trust_forwarded_for: bool,
              list_signer_key: Path | None, list_signer_cert: Path | None, log_level: str) -> None:  # fmt: skip
    """Serve the signing service's HTTP API (JSON logs on standard error; OpenAPI at /openapi.json)."""
    from ..service import ServiceSettings, serve  # the [service] extra: MissingExtraError names it if missing

    registry = open_registry(db)  # refuse a registry that is not initialised before listening
    registry.close()
    signer = None
    if (list_signer_key is None) != (list_signer_cert is None):
        raise click.UsageError("give --list-signer-key and --list-signer-cert together")
    if list_signer_key is not None and list_signer_cert is not None:
        signer = KeySigner.from_files(list_signer_key, list_signer_cert, key_password())
    settings = ServiceSettings(
        registry=db, pool_size=pool_size, acquire_timeout=acquire_timeout, max_inflight=max_inflight,
        queue_limit=queue_limit,
        drain_rate=drain_rate, citizen_per_client=_limit(citizen_per_client, "--citizen-per-client"),
        citizen_per_id=_limit(citizen_per_id, "--citizen-per-id"), trust_forwarded_for=trust_forwarded_for,
        list_signer=signer,
    )  # fmt: skip

    def ready() -> None:
        click.echo(f"vaxcert serve: http://{host}:{port}/  (OpenAPI: /openapi.json; Ctrl+C to stop)", err=True)

    long_running(log_level, log_format="json", others=("uvicorn",))
    serve(settings, host=host, port=port, log_level=log_level, on_ready=ready)


def _limit(text: str, option: str) -> RateLimit:
    count, sep, window = (part.strip() for part in text.partition("/"))
    if not sep or not _whole(count) or not _whole(window):
        raise click.BadParameter("use N/SECONDS, e.g. 30/60", param_hint=option)
    if int(count) < 1 or int(window) < 1:
        raise click.BadParameter("N and SECONDS must be at least 1", param_hint=option)
    return RateLimit(int(count), int(window))


def _whole(text: str) -> bool:
    """1 to 18 ASCII digits (as jsonio.ascii_digits, below the CLI's layer): '²' is isdigit() but not int()."""
    return 0 < len(text) <= 18 and text.isascii() and text.isdigit()
