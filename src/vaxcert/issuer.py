"""The issuing pipeline: DCC payload → CWT → COSE_Sign1 → zlib → Base45 → ``HC1:`` string.

:class:`Issuer` binds a :class:`vaxcert.pki.keys.Signer` (a facility's or the ministry's key and
its DSC).  It refuses bad input with :class:`vaxcert.errors.InputError` naming the field, and
refuses to sign a certificate type the DSC's key usage does not allow or outside the DSC's
validity or its signing period (the PrivateKeyUsagePeriod of a rotated DSC).

Who may sign what (:mod:`vaxcert.pki.authority`): a dose record is signed under the facility
rule; a plain DCC payload by a ministry DSC, by the DSC of the facility the caller names
(``facility=``), or by any DSC with ``facility_override=True`` — each certificate signed under the
override is logged (event ``issue.facility_override`` with the facility id, kid and type).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .dcc import payload as payload_mod
from .dcc.model import DoseRecord
from .dcc.payload import certificate_type
from .dcc.uvci import generate as new_uvci
from .errors import ConfigurationError, InputError
from .logs import log_event
from .pki.authority import check_plain_payload_signer, check_signer_for_record, check_signing_period
from .pki.certificates import (
    allowed_types,
    country_of,
    facility_id_of,
    is_ministry_signer,
    issuer_name_of,
    signing_period,
    subject_summary,
)
from .pki.keys import Signer
from .stages import cbor, cose, cwt, hc1
from .stages.records import maker

__all__ = ["DEFAULT_VALIDITY", "RECORD_FORMAT_PREFIX", "IssuedCertificate", "Issuer", "issue", "issue_record"]

DEFAULT_VALIDITY = dt.timedelta(days=365)
log = logging.getLogger(__name__)


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


#: ``IssuedCertificate(*fields)`` without the frozen dataclass's ``__init__`` cost (vaxcert.stages.records).
_new_certificate = maker(IssuedCertificate)


class Issuer:
    """Signs DCC payloads with one signer.

    ``issuer_country`` defaults to the DSC's country; ``validity`` is how long certificates
    stay valid (never beyond the DSC's own expiry).  ``check`` runs the issuance checks of
    :func:`vaxcert.dcc.payload.check_issuable` (schema, value sets, dates, dose numbers).
    ``facility_override`` lets a facility's DSC sign plain payloads for any facility (logged per
    certificate; see the module docstring).
    """

    def __init__(
        self,
        signer: Signer,
        *,
        issuer_country: str | None = None,
        validity: dt.timedelta = DEFAULT_VALIDITY,
        check: bool = True,
        allow_dn_over_sd: bool = False,
        facility_override: bool = False,
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
        self.facility_override = facility_override
        self._ministry = is_ministry_signer(signer.certificate)
        self._facility = facility_id_of(signer.certificate)
        self._last_times: tuple[dt.datetime | None, dt.timedelta, tuple[int, int]] = (None, validity, (0, 0))

    def issue(
        self,
        payload: Mapping[str, Any],
        *,
        now: dt.datetime,
        validity: dt.timedelta | None = None,
        facility: str | None = None,
    ) -> IssuedCertificate:
        """Sign one payload at ``now``; raise InputError / ConfigurationError on refusal.

        A facility's DSC signs only when ``facility`` (the facility that gave the dose) is its own,
        or under ``facility_override`` (logged); a ministry DSC signs any payload.
        """
        if now.tzinfo is None:
            raise ConfigurationError("now must be timezone-aware")
        overridden = self._facility_rule(facility)
        if self.check:
            payload_mod.check_issuable(payload, now=now, allow_dn_over_sd=self.allow_dn_over_sd)
        issued = self._sign(payload, now=now, validity=validity)
        if overridden:
            log_event(log, "issue.facility_override", level=logging.WARNING, facility=self._facility or "-",
                      kid=issued.kid.hex(), type=issued.cert_type)  # fmt: skip
        return issued

    def issue_many(
        self, payloads: Sequence[Mapping[str, Any]], *, now: dt.datetime, facility: str | None = None
    ) -> list[IssuedCertificate]:
        """Sign many payloads at one ``now`` (batch issuance): the certificates :meth:`issue` gives one
        by one (byte for byte with a deterministic signer), with the work every call repeats done
        once: the facility rule, the signing times, the claims' heads, and Base45 for the whole list.

        Raises as :meth:`issue` does at the first payload it refuses (nothing is returned then).
        """
        if now.tzinfo is None:
            raise ConfigurationError("now must be timezone-aware")
        overridden = self._facility_rule(facility)
        iat, exp = self._times(now, self.validity)
        # The claims {1: iss, 6: iat, 4: exp, -260: {1: payload}} end with the payload's encoding:
        # their head is the same for every payload of the call ({} is the one byte a0).
        head = cwt.encode({}, issuer=self.country, issued_at=iat, expires_at=exp)[:-1]
        protected, signer, check, dumps = self._protected, self.signer, self.check, cbor.dumps
        kinds: list[str] = []
        messages: list[bytes] = []
        for payload in payloads:
            if check:
                payload_mod.check_issuable(payload, now=now, allow_dn_over_sd=self.allow_dn_over_sd)
            kind = self._signable_kind(payload)
            kinds.append(kind)
            messages.append(cose.encode(head + dumps(payload), signer, protected=protected))
        kid = signer.kid
        texts = hc1.wrap_many(messages)
        issued = [_new_certificate(text, str(payload[kind][0].get("ci", "")), kind, kid, iat, exp, message)
                  for text, payload, kind, message in zip(texts, payloads, kinds, messages, strict=True)]  # fmt: skip
        if overridden:
            for cert in issued:
                log_event(log, "issue.facility_override", level=logging.WARNING, facility=self._facility or "-",
                          kid=kid.hex(), type=cert.cert_type)  # fmt: skip
        return issued

    def _facility_rule(self, facility: str | None) -> bool:
        """Refuse a facility's DSC for another facility's dose; True when ``facility_override`` lets it sign."""
        if self._ministry or (facility is not None and facility == self._facility):
            return False
        return check_plain_payload_signer(self.signer.certificate, facility=facility,
                                          facility_override=self.facility_override)

    def _signable_kind(self, payload: Mapping[str, Any]) -> str:
        """The payload's certificate type, refused when the signer's DSC may not sign it."""
        kind = _kind(payload)
        if kind not in self._types:
            raise InputError(f"{kind}", "the signer's certificate may not sign this certificate type")
        return kind

    def _sign(
        self, payload: Mapping[str, Any], *, now: dt.datetime, validity: dt.timedelta | None
    ) -> IssuedCertificate:
        kind = self._signable_kind(payload)
        iat, exp = self._times(now, validity or self.validity)
        claims = cwt.encode(payload, issuer=self.country, issued_at=iat, expires_at=exp)
        message = cose.encode(claims, self.signer, protected=self._protected)
        text = hc1.wrap(message)
        uvci = str(payload[kind][0].get("ci", ""))
        return _new_certificate(text, uvci, kind, self.signer.kid, iat, exp, message)

    def _times(self, now: dt.datetime, validity: dt.timedelta) -> tuple[int, int]:
        """``iat`` and ``exp`` at ``now``, after checking the signer may sign then.

        Remembered for the last ``now`` (a batch signs many certificates at one ``now``).
        """
        last = self._last_times
        if last[0] is now and last[1] == validity:
            return last[2]
        if not self._not_before <= now <= self._not_after:
            raise ConfigurationError("the signer certificate is not valid at the issuing time")
        if self._signing_period is not None:
            check_signing_period(self.signer.certificate, now)
        times = int(now.timestamp()), int(min(now + validity, self._not_after).timestamp())
        self._last_times = (now, validity, times)
        return times


    def issue_record(
        self,
        record: DoseRecord,
        *,
        now: dt.datetime,
        uvci: str | None = None,
        issuer_name: str | None = None,
        validity: dt.timedelta | None = None,
    ) -> IssuedCertificate:
        """Sign the certificate for the last dose of ``record``, under the facility rule.

        The signer must be the DSC of the facility that gave the last dose, or a ministry DSC
        (:func:`vaxcert.pki.authority.check_facility`), inside its signing period.  ``uvci``
        defaults to a new one for the DSC's country; ``issuer_name`` (the DCC ``is`` text) to the
        DSC's organisation.  The payload is built and fully checked by
        :func:`vaxcert.dcc.payload.payload_from_record`, problems named by the record's fields.
        """
        if now.tzinfo is None:
            raise ConfigurationError("now must be timezone-aware")
        if not isinstance(record, DoseRecord):
            raise InputError("record", "must be a DoseRecord")
        certificate = self.signer.certificate
        check_signer_for_record(record, certificate, now)
        name = issuer_name or issuer_name_of(certificate) or subject_summary(certificate)
        ci = uvci if uvci is not None else new_uvci(self.country)
        payload = payload_mod.payload_from_record(record, ci=ci, issuer=name, now=now,
                                                  allow_dn_over_sd=self.allow_dn_over_sd)  # fmt: skip
        return self._sign(payload, now=now, validity=validity)


def _kind(payload: Mapping[str, Any]) -> str:
    try:
        return certificate_type(payload)
    except Exception as exc:
        raise InputError("payload", "needs exactly one of v, t, r with one entry") from exc


#: A dose-record JSON document says so in ``format`` (``vaxcert.dose-record/1``).
RECORD_FORMAT_PREFIX = "vaxcert.dose-record/"


def issue(
    document: DoseRecord | Mapping[str, Any],
    signer: Signer,
    *,
    now: dt.datetime | None = None,
    validity: dt.timedelta = DEFAULT_VALIDITY,
    facility_override: bool = False,
) -> IssuedCertificate:
    """Sign one certificate with ``signer`` (the top-level recipe; ``now`` defaults to the clock).

    ``document`` is a DCC payload, a :class:`~vaxcert.dcc.model.DoseRecord`, or a dose record as
    JSON (``"format": "vaxcert.dose-record/1"``); a dose record is issued by :func:`issue_record`,
    so the facility rule holds.  A plain payload needs a ministry DSC, or ``facility_override``
    (logged) for a facility's.
    """
    moment = now if now is not None else dt.datetime.now(dt.UTC)
    if isinstance(document, DoseRecord):
        return issue_record(document, signer, now=moment, validity=validity)
    if isinstance(document, Mapping) and str(document.get("format", "")).startswith(RECORD_FORMAT_PREFIX):
        return issue_record(DoseRecord.from_json(document), signer, now=moment, validity=validity)
    return Issuer(signer, validity=validity, facility_override=facility_override).issue(document, now=moment)


def issue_record(
    record: DoseRecord,
    signer: Signer,
    *,
    now: dt.datetime | None = None,
    validity: dt.timedelta = DEFAULT_VALIDITY,
    uvci: str | None = None,
    issuer_name: str | None = None,
) -> IssuedCertificate:
    """Sign the certificate for the last dose of a dose record, applying the facility rule.

    A facility's key signs only records whose last dose was given at that facility; a ministry
    key signs any (see :meth:`Issuer.issue_record`).  Raises :class:`~vaxcert.errors.InputError`
    naming the record's field (``doses[2].facility``, ``person.dob``, ...).
    """
    moment = now if now is not None else dt.datetime.now(dt.UTC)
    return Issuer(signer, validity=validity).issue_record(record, now=moment, uvci=uvci, issuer_name=issuer_name)
