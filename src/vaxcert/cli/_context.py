"""CLI helpers shared by commands that verify (verify, scan, card) or sign lists (trust, revoke, bundle).

:func:`load_verification` turns the ``--trust / --bundle / --csca / --revocation / --shc-issuers /
--rules`` options into a :class:`vaxcert.LoadedVerifier` (through :func:`vaxcert.load_verifier`:
the verifier for both formats and the business rules) and prints its warnings;
:func:`load_verifier` gives just the verifier.
:func:`signer_options` and :func:`load_signer` give signing commands one way to name a key: an
encrypted key file with its certificate, or a key label in the HSM.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from cryptography import x509

from .. import DEFAULT_MAX_LIFETIME, KeySigner, LoadedVerifier, SequenceState, Signer, Verifier, load_certificate_file
from .. import load_verifier as build_verifier
from ._common import environment, key_password
from ._messages import text, translate

if TYPE_CHECKING:
    from .. import HsmConfig, HsmToken

__all__ = [
    "load_certificate_files",
    "load_csca",
    "load_signer",
    "load_verification",
    "load_verifier",
    "max_list_days_option",
    "rules_options",
    "signer_options",
    "trust_options",
    "verification_options",
]

F = TypeVar("F", bound=Callable[..., Any])


def load_certificate_files(paths: Sequence[Path]) -> list[x509.Certificate] | None:
    """Certificates from files given as options (several per file allowed); None when none given."""
    if not paths:
        return None
    certs: list[x509.Certificate] = []
    for path in paths:
        certs.extend(load_certificate_file(path))
    return certs


def load_csca(paths: Sequence[Path]) -> list[x509.Certificate] | None:
    """CSCA certificates from --csca files; None when none given."""
    return load_certificate_files(paths)


def load_verification(
    trust_paths: Sequence[Path],
    bundle: Path | None,
    csca: Sequence[Path],
    revocation: Sequence[Path],
    now: dt.datetime,
    *,
    shc_issuers: Sequence[Path] = (),
    rules: Sequence[Path] = (),
    strict: bool = False,
) -> LoadedVerifier:
    """The verifier and rules for the options of ``verify`` / ``scan`` (see :func:`vaxcert.load_verifier`).

    Rejected signer certificates are reported on standard error (by kid and reason only).  ``strict``
    makes a strict verifier (the full schema, rule Q2 for pictures; see :class:`vaxcert.Verifier`).
    The ``--state`` and ``--max-list-days`` options of :func:`trust_options` are read from the click
    context: with a state file, older lists and bundles are refused and the sequence numbers seen are
    saved.
    """
    context = click.get_current_context(silent=True)
    options = context.meta if context is not None else {}
    state_path: Path | None = options.get(_STATE_KEY)
    days: float | None = options.get(_DAYS_KEY)
    state = SequenceState.load(state_path) if state_path is not None else None
    lifetime = dt.timedelta(days=days) if days is not None else DEFAULT_MAX_LIFETIME
    loaded = build_verifier(trust=trust_paths, bundle=bundle, cscas=load_csca(csca), revocation=revocation,
                            shc_issuers=shc_issuers, rules=rules, now=now, strict=strict, state=state,
                            max_lifetime=lifetime)  # fmt: skip
    if state is not None:
        state.save()
    for warning in loaded.warnings:
        click.echo(text("cli.warning", detail=translate(warning)), err=True)
    return loaded


def load_verifier(
    trust_paths: Sequence[Path],
    bundle: Path | None,
    csca: Sequence[Path],
    revocation: Sequence[Path],
    now: dt.datetime,
    *,
    strict: bool = False,
) -> Verifier:
    """A Verifier for the options of ``card`` (see :func:`load_verification`)."""
    return load_verification(trust_paths, bundle, csca, revocation, now, strict=strict).verifier


_STATE_KEY = "vaxcert.state"
_DAYS_KEY = "vaxcert.max_list_days"
_DEFAULT_DAYS = DEFAULT_MAX_LIFETIME.total_seconds() / 86_400


def _remember(key: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        ctx.meta[key] = value
        return value

    return callback


def _max_list_days(**kwargs: Any) -> Callable[[F], F]:
    """--max-list-days: the longest life a signed list or bundle may have (days)."""
    return click.option("--max-list-days", "max_list_days", type=click.FloatRange(min=0.01, max=3650),
                        default=_DEFAULT_DAYS, show_default=True,
                        help="Longest lifetime (exp - iat) of a signed trust list, revocation list or bundle; "
                             "longer ones are refused.", **kwargs)  # fmt: skip


def max_list_days_option(func: F) -> F:
    """Add --max-list-days (the longest life a signed list or bundle may have) as ``max_list_days``."""
    return _max_list_days()(func)


def rules_options(func: F) -> F:
    """Add --country / --region: which business rules of the bundle (or --rules) apply."""
    func = click.option("--region", "region", default=None, metavar="CODE",
                        help="Region of the checkpoint (e.g. HCM): its rules replace or add to the "
                             "country's.")(func)
    func = click.option("--country", "country", default="VN", show_default=True, metavar="CC",
                        help="Country of the checkpoint: the bundle's (or --rules') rules for it are "
                             "evaluated.")(func)
    return func


def verification_options(func: F) -> F:
    """Add --trust / --bundle / --csca / --revocation / --shc-issuers / --rules / --strict
    (see :func:`load_verification`)."""
    func = click.option("--strict", "strict", is_flag=True,
                        help="Refuse what real issuers get wrong but the signature protects: QR codes not "
                             "in alphanumeric mode (rule Q2) and payloads outside the full schema "
                             "(default: accept them with a warning; see docs/interop.md).")(func)
    func = click.option("--rules", "rule_paths", multiple=True, type=click.Path(exists=True, path_type=Path),
                        help="Business rules (EU gateway rule files or folders, pass rule sets), beside the "
                             "bundle's; not signed, for trying rules out (repeatable).")(func)
    return trust_options(func)


def trust_options(func: F) -> F:
    """Add --trust / --bundle / --csca / --revocation / --shc-issuers, and --state / --max-list-days:
    what a certificate is verified against."""
    func = _max_list_days(expose_value=False, callback=_remember(_DAYS_KEY))(func)
    func = click.option("--state", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        expose_value=False, callback=_remember(_STATE_KEY),
                        help="Checkpoint state file: remembers the highest sequence of every signed list and "
                             "bundle seen, and refuses older ones (rollback).")(func)
    func = click.option("--shc-issuers", "shc_issuers", multiple=True, type=click.Path(exists=True, path_type=Path),
                        help="Trusted SMART Health Card issuers: {iss, keys} JSON files, a folder of them, "
                             "or a VCI directory snapshot (repeatable).")(func)
    func = click.option("--revocation", "revocation", multiple=True,
                        type=click.Path(dir_okay=False, exists=True, path_type=Path),
                        help="Signed revocation list (repeatable); needs --csca.")(func)
    func = click.option("--csca", "csca", multiple=True,
                        type=click.Path(dir_okay=False, exists=True, path_type=Path),
                        help="Trusted CSCA certificate anchoring signed lists and chain-checking --trust "
                             "(repeatable).")(func)
    func = click.option("--bundle", "bundle", default=None,
                        type=click.Path(dir_okay=False, exists=True, path_type=Path),
                        help="Signed offline bundle (trust list, revocation lists, value sets, business rules, "
                             "SMART Health Card issuers); needs --csca.")(func)
    func = click.option("--trust", "trust_paths", multiple=True, type=click.Path(exists=True, path_type=Path),
                        help="Signer certificate file or directory, a signed trust list, or EU DCCG JSON "
                             "(repeatable).")(func)
    return func


def signer_options(func: F) -> F:
    """Add --signer-key / --signer-cert / --hsm-key to a signing command."""
    func = click.option("--hsm-key", "hsm_key", default=None, metavar="LABEL",
                        help="Sign with this key in the HSM (VAXCERT_PKCS11_MODULE, VAXCERT_HSM_TOKEN, "
                             "VAXCERT_HSM_PIN) instead of --signer-key.")(func)
    func = click.option("--signer-cert", "signer_cert", default=None,
                        type=click.Path(dir_okay=False, exists=True, path_type=Path),
                        help="Certificate of the signing key: the CSCA, or a list signer it issued.")(func)
    func = click.option("--signer-key", "signer_key", default=None,
                        type=click.Path(dir_okay=False, exists=True, path_type=Path),
                        help="Encrypted private key file (password in VAXCERT_KEY_PASSWORD).")(func)
    return func


def hsm_config() -> HsmConfig:
    """The HSM named by VAXCERT_PKCS11_MODULE, VAXCERT_HSM_TOKEN and VAXCERT_HSM_PIN."""
    from .. import HsmConfig  # the [hsm] extra, loaded when an HSM is used

    return HsmConfig.from_env(environment())


def hsm_token() -> HsmToken:
    """A session on the HSM named by VAXCERT_PKCS11_MODULE, VAXCERT_HSM_TOKEN and VAXCERT_HSM_PIN."""
    from .. import HsmToken  # the [hsm] extra, loaded when an HSM is used

    return HsmToken(hsm_config())


def load_signer(key_path: Path | None, cert_path: Path | None, hsm_label: str | None, *,
                key_option: str = "--signer-key") -> Signer:
    """A signer from a key file or an HSM key label, for the certificate in ``cert_path``."""
    if cert_path is None:
        raise click.UsageError("give --signer-cert (the CSCA or a list signer)")
    if (key_path is None) == (hsm_label is None):
        raise click.UsageError(f"give exactly one of {key_option} FILE or --hsm-key LABEL")
    if key_path is not None:
        return KeySigner.from_files(key_path, cert_path, key_password())
    assert hsm_label is not None
    certificate = load_certificate_file(cert_path)[0]
    return hsm_token().signer(hsm_label, certificate)  # the token closes at process exit
