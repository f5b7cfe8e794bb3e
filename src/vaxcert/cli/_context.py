"""CLI helpers shared by commands that verify (verify, scan) or sign lists (trust, revoke, bundle).

:func:`load_verifier` turns the ``--trust / --bundle / --csca / --revocation``
options into the trust store and revocation checker a :class:`vaxcert.verifier.Verifier`
takes.  :func:`signer_options` and :func:`load_signer` give signing commands one way to name
a key: an encrypted key file with its certificate, or a key label in the HSM.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
from cryptography import x509

from ..dcc.valuesets import ValueSets
from ..errors import ConfigurationError
from ..pki.certificates import load_certificate_file
from ..pki.keys import KeySigner, Signer, password_from_env
from ..trust.store import TrustStore
from ..verifier import RevocationChecker, Verifier

__all__ = [
    "VerificationContext",
    "load_certificate_files",
    "load_context",
    "load_csca",
    "load_signer",
    "load_verifier",
    "signer_options",
]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class VerificationContext:
    """What a verifying command needs; ``valuesets`` is set when a bundle carried them."""

    trust: TrustStore
    revocation: RevocationChecker | None
    valuesets: Any = None
    warnings: tuple[str, ...] = ()


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


def load_context(
    trust_paths: Sequence[Path],
    bundle: Path | None,
    csca: Sequence[Path],
    revocation: Sequence[Path],
    now: dt.datetime,
) -> VerificationContext:
    """Trust store, revocation checker and (from a bundle) value sets for these options.

    * ``--trust`` accepts certificate files / folders (trusted as given, or chain-checked
      when ``--csca`` is given), signed trust lists and DCCG JSON (both need ``--csca``
      to be anchored).
    * ``--bundle`` needs ``--csca``; its revocation lists are used along with ``--revocation``.
    * Signature failures raise :class:`vaxcert.trust.signeddoc.DocumentError` (exit 2); stale lists
      load and make each verification answer TRUST_LIST_STALE / REVOCATION_LIST_STALE.
    """
    from ..trust import CombinedTrust, load_trust_source
    from ..trust.revocation import RevocationList, RevocationSet

    cscas = load_csca(csca)
    stores: list[TrustStore] = []
    lists: list[RevocationList] = []
    warnings: list[str] = []
    valuesets: Any = None
    if bundle is not None:
        from ..trust.bundle import load_bundle

        if cscas is None:
            raise ConfigurationError("--bundle needs the ministry's CSCA certificate (--csca FILE)")
        loaded = load_bundle(bundle, cscas, now)
        stores.append(loaded.trust)
        lists.extend(loaded.revocation.lists)
        valuesets = loaded.valuesets
        warnings.extend(f"{bundle}: rejected DSC kid {r.kid}: {r.reason}" for r in loaded.trust.trust.rejected)
    for path in trust_paths:
        source = load_trust_source(path, cscas=cscas, now=now)
        stores.append(source)
        warnings.extend(f"{path}: rejected DSC kid {r.kid}: {r.reason}" for r in source.rejected)
    if not stores:
        raise ConfigurationError(
            "no trust configured: pass --trust FILE_OR_DIR (signer certificates or a signed list) or --bundle FILE")
    for path in revocation:
        if cscas is None:
            raise ConfigurationError("--revocation needs the ministry's CSCA certificate (--csca FILE)")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigurationError(f"cannot read revocation list {path}: {exc.strerror}") from None
        lists.append(RevocationList.load(data, cscas, now=now))
    trust: TrustStore = stores[0] if len(stores) == 1 else CombinedTrust(stores)
    checker: RevocationChecker | None = RevocationSet(lists) if lists else None
    return VerificationContext(trust, checker, valuesets, tuple(warnings))


def load_verifier(
    trust_paths: Sequence[Path],
    bundle: Path | None,
    csca: Sequence[Path],
    revocation: Sequence[Path],
    now: dt.datetime,
) -> Verifier:
    """A Verifier for the options of ``verify`` / ``scan`` / ``card``.

    It checks revocation when lists are given, and reports codes outside the value sets (the
    bundle's, else the bundled snapshot) as warnings.  Rejected signer certificates are
    reported on standard error (by kid and reason only).
    """
    context = load_context(trust_paths, bundle, csca, revocation, now)
    for warning in context.warnings:
        click.echo(f"warning: {warning}", err=True)
    valuesets = context.valuesets if context.valuesets is not None else ValueSets.bundled()
    return Verifier(context.trust, revocation=context.revocation, valuesets=valuesets)


def verification_options(func: F) -> F:
    """Add --trust / --bundle / --csca / --revocation (see :func:`load_verifier`)."""
    func = click.option("--revocation", "revocation", multiple=True,
                        type=click.Path(dir_okay=False, exists=True, path_type=Path),
                        help="Signed revocation list (repeatable); needs --csca.")(func)
    func = click.option("--csca", "csca", multiple=True,
                        type=click.Path(dir_okay=False, exists=True, path_type=Path),
                        help="Trusted CSCA certificate anchoring signed lists and chain-checking --trust "
                             "(repeatable).")(func)
    func = click.option("--bundle", "bundle", default=None,
                        type=click.Path(dir_okay=False, exists=True, path_type=Path),
                        help="Signed offline bundle (trust list, revocation lists, value sets); needs --csca.")(func)
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


def load_signer(key_path: Path | None, cert_path: Path | None, hsm_label: str | None, *,
                key_option: str = "--signer-key") -> Signer:
    """A signer from a key file or an HSM key label, for the certificate in ``cert_path``."""
    if cert_path is None:
        raise click.UsageError("give --signer-cert (the CSCA or a list signer)")
    if (key_path is None) == (hsm_label is None):
        raise click.UsageError(f"give exactly one of {key_option} FILE or --hsm-key LABEL")
    if key_path is not None:
        return KeySigner.from_files(key_path, cert_path, password_from_env())
    from ..pki.hsm import HsmConfig, HsmToken

    assert hsm_label is not None
    certificate = load_certificate_file(cert_path)[0]
    token = HsmToken(HsmConfig.from_env())  # closed at process exit
    return token.signer(hsm_label, certificate)
