"""Who may sign what: the facility rule and the signing period of a DSC.

* **Facility rule.**  A facility's DSC names the facility in its subject serialNumber
  (:func:`vaxcert.pki.facility_id_of`).  It may sign a certificate only for a dose record
  whose *last* dose (the one the certificate is issued for, :attr:`vaxcert.dcc.model.DoseRecord.latest`)
  was given at that facility.  A **ministry DSC** may sign for any facility: it names no
  facility and carries the certificate policy :data:`vaxcert.pki.OID_MINISTRY_SIGNER`
  (``keys issue-dsc --ministry-signer``).  A DSC with neither a facility id nor that policy
  signs nothing from dose records: the absence of a facility is never taken as authority.
* **Plain payloads.**  A DCC payload given as it is (not built from a dose record) names no
  facility the signer could be checked against: a ministry DSC signs it; a facility DSC signs it
  only when the caller names the facility of the dose (``facility=``, e.g. the registry, which
  knows it) and it is the signer's, or with an explicit ``facility_override`` that the issuer
  logs (facility id and kid, never the person) — :func:`check_plain_payload_signer`.
* **Signing period.**  A DSC with a PrivateKeyUsagePeriod extension signs only inside it
  (:func:`check_signing_period`); its validity runs on past the period so that what it
  signed stays verifiable until it expires (see docs/trust.md, "Key rotation").

Both checks raise :class:`vaxcert.errors.InputError` / :class:`~vaxcert.errors.ConfigurationError`
with a message naming the facilities and the field, never the person.
"""

from __future__ import annotations

import datetime as dt

from cryptography import x509

from ..dcc.model import DoseRecord
from ..errors import ConfigurationError, InputError
from .certificates import facility_id_of, is_ministry_signer, signing_period

__all__ = ["check_facility", "check_plain_payload_signer", "check_signer_for_record", "check_signing_period"]


def check_facility(record: DoseRecord, signer_certificate: x509.Certificate) -> None:
    """Raise InputError unless the signer may sign for the record's last dose.

    The field named is ``doses[i].facility`` of the last dose.
    """
    if is_ministry_signer(signer_certificate):
        return
    index = record.latest_index
    dose_facility = record.doses[index].facility
    signer_facility = facility_id_of(signer_certificate)
    field = f"doses[{index}].facility"
    if signer_facility is None:
        raise InputError(
            field,
            "the signer certificate names no facility and is not a ministry signer: it may not sign dose records",
        )
    if signer_facility != dose_facility:
        raise InputError(
            field,
            f"the last dose was given at facility {dose_facility}, but the signer certificate belongs to "
            f"facility {signer_facility}; only that facility's key or the ministry's may sign it",
        )


def check_plain_payload_signer(
    signer_certificate: x509.Certificate, *, facility: str | None = None, facility_override: bool = False
) -> bool:
    """Raise InputError unless the signer may sign a plain DCC payload; True when only the override allows it.

    A ministry DSC may; a facility DSC may when ``facility`` (the facility that gave the dose) is its
    own, or with ``facility_override`` (which the caller must log).  A DSC naming neither a facility
    nor the ministry policy signs plain payloads only with ``facility_override``.
    """
    if is_ministry_signer(signer_certificate):
        return False
    own = facility_id_of(signer_certificate)
    if facility is not None:
        if own is not None and own == facility:
            return False
        raise InputError(
            "facility",
            f"the dose was given at facility {facility}, but the signer certificate belongs to "
            f"{'facility ' + own if own else 'no facility'}; only that facility's key or the ministry's may sign it",
        )
    if facility_override:
        return True
    raise InputError(
        "payload",
        "a plain DCC payload names no facility to check the signer against: sign it with a ministry key, "
        "issue a dose record instead (the facility rule applies), or pass facility_override "
        "(--facility-override), which is logged",
    )


def check_signing_period(signer_certificate: x509.Certificate, now: dt.datetime) -> None:
    """Raise ConfigurationError if ``now`` is outside the DSC's signing period (when it has one)."""
    period = signing_period(signer_certificate)
    if period is None:
        return
    start, end = period
    if start is not None and now < start:
        raise ConfigurationError(f"the signer certificate's signing period starts {start.isoformat()}")
    if end is not None and now > end:
        raise ConfigurationError(
            f"the signer certificate's signing period ended {end.isoformat()}: sign with its successor DSC "
            "(its certificates stay verifiable until they expire)"
        )


def check_signer_for_record(record: DoseRecord, signer_certificate: x509.Certificate, now: dt.datetime) -> None:
    """Both checks, as issuing from a dose record needs them."""
    check_signing_period(signer_certificate, now)
    check_facility(record, signer_certificate)
