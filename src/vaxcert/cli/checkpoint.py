"""``vaxcert checkpoint serve``: the checkpoint web page on an offline bundle."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

import click

from .. import DEFAULT_POLICY, ConfigurationError, DocumentError, Policy, SequenceState, Station
from ._common import parse_time
from ._context import load_csca
from ._logging import LOG_LEVEL_OPTION, long_running
from ._messages import lang_option, translate
from ._messages import text as message

__all__ = ["checkpoint"]

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


@click.group("checkpoint")
def checkpoint() -> None:
    """The checkpoint web page (camera, scanner, ID card check), served locally."""


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@checkpoint.command("serve")
@click.option("--bundle", "bundle_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Signed offline bundle (vaxcert bundle build); replaced in place by --bundle-url refreshes.")
@click.option("--csca", "csca", multiple=True, required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The ministry's CSCA certificate(s) the bundle is signed under (repeatable).")
@click.option("--country", required=True,
              help="Country of this checkpoint (ISO 3166-1 alpha-2, e.g. VN): selects the bundle's business rules.")
@click.option("--region", default=None,
              help="Region of this checkpoint (e.g. HCM): selects the bundle's regional rules; shown on the page.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback requires the pairing code printed at start.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@lang_option("vi", what="the page at start (staff can switch) and of the messages here")
@click.option("--clear-after", default=20.0, show_default=True, type=click.FloatRange(1, 600),
              help="Seconds a verdict stays on screen.")
@click.option("--grace-hours", default=72.0, show_default=True, type=click.FloatRange(0, 24 * 365),
              help="Hours past the bundle's freshness limit during which verdicts are still given (under a warning).")
@click.option("--bundle-url", default=None, help="Ministry URL to refresh the bundle from (http or https).")
@click.option("--refresh-minutes", default=15.0, show_default=True, type=click.FloatRange(0.05, 24 * 60),
              help="How often to try --bundle-url.")
@click.option("--state-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where the highest sequences seen are kept (vaxcert.SequenceState, as verify/scan --state; "
                   "default: BUNDLE.state.json).")
@click.option("--policy", "policy_path", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="Pass policy (JSON or .toml); default: Viet Nam 2021-22 rules.")
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="HTTPS certificate chain (PEM); with --tls-key.  Phones and tablets on a LAN need HTTPS for "
                   "the camera.")
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="HTTPS private key (PEM, unencrypted) for --tls-cert.")
@click.option("--at", "at", default=None, help="Fixed checking time (ISO 8601), for demonstrations and tests.")
@LOG_LEVEL_OPTION
def serve_cmd(bundle_path: Path, csca: tuple[Path, ...], country: str, region: str | None, host: str, port: int,
              lang: str, clear_after: float, grace_hours: float, bundle_url: str | None, refresh_minutes: float,
              state_file: Path | None, policy_path: Path | None, tls_cert: Path | None, tls_key: Path | None,
              at: str | None, log_level: str) -> None:
    """Serve the checkpoint page on BUNDLE (open http://127.0.0.1:8080/ in a browser)."""
    # the [checkpoint] extra (Starlette, uvicorn): without it the import names the extra to install
    from ..checkpoint import CheckpointSettings, new_token, serve

    if len(country) != 2 or not country.isalpha():
        raise click.BadParameter(message("checkpoint.bad_country"), param_hint="--country")
    if bundle_url is not None and not bundle_url.startswith(("http://", "https://")):
        raise click.BadParameter(message("checkpoint.bad_url"), param_hint="--bundle-url")
    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError(message("checkpoint.tls_pair"))
    tls = (tls_cert, tls_key) if tls_cert is not None and tls_key is not None else None
    fixed = parse_time(at) if at is not None else None

    def clock() -> dt.datetime:
        return fixed if fixed is not None else dt.datetime.now(dt.UTC)

    cscas = load_csca(csca) or []
    policy = Policy.from_file(policy_path) if policy_path is not None else DEFAULT_POLICY
    state = SequenceState.load(state_file or bundle_path.with_name(bundle_path.name + ".state.json"))
    grace = dt.timedelta(hours=grace_hours)
    try:
        station = Station.open(bundle_path, cscas, now=clock(), state=state, grace=grace, policy=policy,
                               country=country.upper(), region=region)  # fmt: skip
    except DocumentError as exc:
        raise click.ClickException(message("checkpoint.bundle_refused", code=exc.code,
                                           detail=translate(exc.message))) from None  # fmt: skip
    try:
        state.save()
    except ConfigurationError as exc:
        click.echo(message("cli.warning", detail=translate(str(exc))), err=True)
    loopback = _is_loopback(host)
    token = None if loopback else new_token()
    settings = CheckpointSettings(
        bundle_path=bundle_path, country=country.upper(), region=region, lang=lang, clear_after=clear_after,
        grace=grace, token=token, loopback_only=loopback, bundle_url=bundle_url,
        refresh_every=dt.timedelta(minutes=refresh_minutes), clock=clock)
    status = station.status(clock())

    def ready() -> None:
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - a comparison, not a bind
        where = f"[{shown}]" if ":" in shown else shown
        scheme = "https" if tls else "http"
        click.echo(message("checkpoint.listening", url=f"{scheme}://{where}:{port}/"))
        click.echo(message("checkpoint.bundle", sequence=status.sequence, signed=f"{status.issued_at:%Y-%m-%d %H:%M}",
                           fresh_until=f"{status.fresh_until:%Y-%m-%d %H:%M}",
                           state=message(f"checkpoint.state.{status.state}")))  # fmt: skip
        if token is not None:
            click.echo(message("checkpoint.pairing_code", token=token))
            click.echo(message("checkpoint.pairing_open", scheme=scheme, port=port, token=token))
            if tls is None:
                click.echo(message("checkpoint.no_tls"))

    long_running(log_level, log_format="text", others=("uvicorn",))
    serve(station, settings, host=host, port=port, tls=tls, on_ready=ready)
