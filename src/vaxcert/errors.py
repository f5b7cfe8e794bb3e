"""Exceptions raised by vaxcert.

Issuing with bad input raises; verifying never raises for bad input (it returns a
:class:`vaxcert.verifier.VerificationResult`).  Stage functions raise :class:`DecodeError`,
which the verifier turns into a result.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from .codes import FailureCode, Stage

__all__ = [
    "ConfigurationError",
    "DecodeError",
    "InputError",
    "KeyLoadError",
    "MissingExtraError",
    "SigningError",
    "StorageError",
    "VaxcertError",
    "needs_extra",
]


class VaxcertError(Exception):
    """Root of every exception vaxcert raises on purpose."""


class InputError(VaxcertError, ValueError):
    """Input to issuance is invalid.  ``field`` names the offending field (a JSON path)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def __reduce__(self) -> tuple[type[InputError], tuple[str, str]]:
        # pickled with its two arguments (an import's reading process hands it over)
        return type(self), (self.field, self.message)


class DecodeError(VaxcertError):
    """A stage could not decode its input.  Carries a failure code and the stage."""

    def __init__(self, code: FailureCode, stage: Stage, message: str) -> None:
        super().__init__(f"{stage}: {code}: {message}")
        self.code = code
        self.stage = stage
        self.message = message


class ConfigurationError(VaxcertError):
    """Keys, certificates, trust lists or options are unusable (the user must fix a setup)."""


class KeyLoadError(ConfigurationError):
    """A key cannot be loaded (wrong password, wrong format, unsupported algorithm)."""


class StorageError(VaxcertError):
    """The registry's database cannot be used now: locked by another process, read-only, full,
    unreachable.  The message names the database and what to do; data already stored is intact."""


class SigningError(VaxcertError):
    """A signer failed to produce a signature (HSM unavailable, key refused, ...)."""


class MissingExtraError(ConfigurationError, ImportError):
    """An optional part of vaxcert is used without its extra installed.

    The message names the extra to install, e.g. ``pip install 'vaxcert[qr]'``.
    """

    def __init__(self, extra: str, purpose: str) -> None:
        super().__init__(f"{purpose} needs the '{extra}' extra: pip install 'vaxcert[{extra}]'")
        self.extra = extra


@contextlib.contextmanager
def needs_extra(extra: str, purpose: str) -> Iterator[None]:
    """Around the module-level imports of an optional extra: an ImportError becomes
    :class:`MissingExtraError` naming the extra (``with needs_extra("qr", "decoding QR codes in pictures"):``)."""
    try:
        yield
    except MissingExtraError:
        raise
    except ImportError as exc:
        raise MissingExtraError(extra, purpose) from exc
