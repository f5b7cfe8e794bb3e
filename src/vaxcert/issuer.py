"""The issuing pipeline: DCC payload → CWT → COSE_Sign1 → zlib → Base45 → ``HC1:`` string.

:class:`Issuer` binds a :class:`vaxcert.pki.keys.Signer` (a facility's or the ministry's key and
its DSC).  It refuses bad input with :class:`vaxcert.errors.InputError` naming the field, and
refuses to sign a certificate type the DSC's key usage does not allow or outside the DSC's
validity or its signing period (the PrivateKeyUsagePeriod of a rotated DSC).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .dcc import payload as payload_mod
from .errors import ConfigurationError, InputError
from .pki.authority import check_signing_period
from .pki.certificates import allowed_types, country_of, signing_period
from .pki.keys import Signer
from .stages import base45, compression, cose, cwt, prefix
from .verifier import certificate_type

__all__ = ["DEFAULT_VALIDITY", "IssuedCertificate", "Issuer", "issue"]

DEFAULT_VALIDITY = dt.timedelta(days=365)


@dataclass(frozen=True, slots=True)
class IssuedCertificate:
    """A signed certificate.  ``repr`` hides the HC1 text and identifiers (personal data)."""

    hc1: str
    uvci: str
    cert_type: str
    kid: bytes
    issued_at: int
    expires_at: int
    cose: bytes = field(repr=False)

    def __repr__(self) -> str:
        return (
            f"IssuedCertificate(type={self.cert_type}, kid={self.kid.hex()}, issued_at={self.issued_at}, "
            f"expires_at={self.expires_at}, hc1=<redacted>)"
        )


class Issuer:
    """Signs DCC payloads with one signer.

    ``issuer_country`` defaults to the DSC's country; ``validity`` is how long certificates
    stay valid (never beyond the DSC's own expiry).  ``check`` runs the issuance checks of
    :func:`vaxcert.dcc.payload.check_issuable` (schema, value sets, dates, dose numbers).
    """

    def __init__(
        self,
        signer: Signer,
        *,
        issuer_country: str | None = None,
        validity: dt.timedelta = DEFAULT_VALIDITY,
        check: bool = True,
        allow_dn_over_sd: bool = False,
    ) -> None:
        country = issuer_country or country_of(signer.certificate)
        if not country:
            raise ConfigurationError("the signer certificate names no country; pass issuer_country")
        self.signer = signer
        self.country = country
        self.validity = validity
        self.check = check
        self.allow_dn_over_sd = allow_dn_over_sd
        self._types = allowed_types(signer.certificate)
        self._protected = cose.protected_header(signer.algorithm, signer.kid)
        self._not_before = signer.certificate.not_valid_before_utc
        self._not_after = signer.certificate.not_valid_after_utc
        self._signing_period = signing_period(signer.certificate)

    def issue(
        self, payload: Mapping[str, Any], *, now: dt.datetime, validity: dt.timedelta | None = None
    ) -> IssuedCertificate:
        """Sign one payload at ``now``; raise InputError / ConfigurationError on refusal."""
        if now.tzinfo is None:
            raise ConfigurationError("now must be timezone-aware")
        if self.check:
            payload_mod.check_issuable(payload, now=now, allow_dn_over_sd=self.allow_dn_over_sd)
        try:
            kind = certificate_type(payload)
        except Exception as exc:
            raise InputError("payload", "needs exactly one of v, t, r with one entry") from exc
        if kind not in self._types:
            raise InputError(f"{kind}", "the signer's certificate may not sign this certificate type")
        if not self._not_before <= now <= self._not_after:
            raise ConfigurationError("the signer certificate is not valid at the issuing time")
        if self._signing_period is not None:
            check_signing_period(self.signer.certificate, now)
        iat = int(now.timestamp())
        exp = int(min(now + (validity or self.validity), self._not_after).timestamp())
        claims = cwt.encode(payload, issuer=self.country, issued_at=iat, expires_at=exp)
        message = cose.encode(claims, self.signer, protected=self._protected)
        hc1 = prefix.add(base45.encode(compression.compress(message)))
        uvci = str(payload[kind][0].get("ci", ""))
        return IssuedCertificate(hc1, uvci, kind, self.signer.kid, iat, exp, message)


def issue(
    payload: Mapping[str, Any],
    signer: Signer,
    *,
    now: dt.datetime | None = None,
    validity: dt.timedelta = DEFAULT_VALIDITY,
) -> IssuedCertificate:
    """Sign one DCC payload with ``signer`` (the top-level recipe; ``now`` defaults to the clock)."""
    moment = now if now is not None else dt.datetime.now(dt.UTC)
    return Issuer(signer, validity=validity).issue(payload, now=moment)
