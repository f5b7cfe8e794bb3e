"""Recognising foreign doses: a person's verified EU DCC or SMART Health Card → recognised doses in the registry.

A facility presents a person's foreign certificate (HC1 text, ``shc:/`` text or chunks, a
``.smart-health-card`` file; :func:`vaxcert.image_codes` reads them from a picture) and the
person's identity document.  :func:`recognise`:

1. verifies the certificate against the loaded trust at ``now`` (:class:`vaxcert.Verifier`: DCC
   trust list and SMART Health Card issuers).  Only a valid certificate is accepted;
2. refuses a certificate already recognised: its hash over the *signed content*
   (:attr:`vaxcert.VerificationResult.content_hash`: re-encoding the text, or the other ECDSA
   signature of the same content, gives the same hash) is ``UNIQUE`` in ``recognitions``;
3. checks identity: a citizen (``cccd:…``) against the population register, a foreigner
   (``passport:NAT:NUMBER``) against their registry record or, when new to the registry, the
   passport's names and birth date given by the facility.  The certificate's names must match, ICAO
   9303-transliterated (so case- and accent-insensitive), and its birth date must agree on every
   part both state;
4. turns the certificate's vaccinations into doses (see below), each checked as an import row is
   (:func:`vaxcert.registry.importer.parse_row`: value sets, dates not in the future, the DCC
   schema), recorded at the recognising facility with their real country (``co``) and issuer
   (``is``), and linked to the recognition: format, issuer country, issuer key (DCC kid / SHC key
   thumbprint), issuer (DCC ``is`` / SHC ``iss``), certificate id (DCC ``ci`` / SHC ``rid``), who
   recognised it, where and when (also in the audit log);
5. reconciles the person, so the doses count toward their Viet Nam status; ``registry issue`` (or
   ``keyring=`` here) then issues the Viet Nam certificate, which shows the last dose with its real
   ``co`` and ``is`` when that dose was recognised.

Each refusal raises :class:`RecognitionRefused` with a machine-readable ``reason`` (:data:`REFUSALS`)
and a message without personal data; nothing is written then.

**Dose numbers.**  An EU DCC states ``dn``/``sd``; they are kept, except that a booster written
``dn > sd`` (3/2) is recorded as ``dn/dn`` (3/3), as the EU encodes boosters.  A SMART Health Card
rarely states them: its doses are numbered by date over the person's whole record (the doses
already in the registry and the card's), ``sd`` is the product's primary series
(:data:`vaxcert.dcc.codes.PRIMARY_SERIES_DOSES`), and a dose beyond the series is a booster
``dn/dn``.  A card dose on a day the registry already has a dose takes that dose's number (the
same dose seen twice: reconciliation merges it).  Doses with only a year or month, or whose
vaccine code maps to no EU product, cannot be recorded: they are listed in ``skipped``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from ..codes import FailureCode
from ..dcc.codes import COVID_19, PRIMARY_SERIES_DOSES
from ..dcc.payload import PLACEHOLDER_UVCI, check_issuer_fields
from ..dcc.translit import to_icao
from ..errors import ConfigurationError, InputError
from ..events import Holder, PartialDate, VaccinationEvent, normalise_name
from ..formats.dccview import DEFAULT_SERIES_DOSES
from ..verifier import FORMAT_DCC, FORMAT_SHC, Presentation, VerificationResult, Verifier
from .batch import issue_person
from .importer import dose_key, parse_row
from .keyring import KeyRing
from .protocol import Registry
from .reconciliation import reconcile
from .reports import province_of
from .rows import NewDose, PersonRow, RecognitionRow, StoredDose

__all__ = [
    "ALREADY_RECOGNISED",
    "EXPIRED",
    "IDENTITY_MISMATCH",
    "INVALID",
    "NOT_FOREIGN",
    "NO_DOSES",
    "REFUSALS",
    "UNKNOWN_ISSUER",
    "Recognition",
    "RecognitionRefused",
    "recognise",
]

UNKNOWN_ISSUER: Final = "unknown_issuer"
INVALID: Final = "invalid"
EXPIRED: Final = "expired"
IDENTITY_MISMATCH: Final = "identity_mismatch"
ALREADY_RECOGNISED: Final = "already_recognised"
NO_DOSES: Final = "no_doses"
NOT_FOREIGN: Final = "not_foreign"
#: Every refusal reason and what it means.
REFUSALS: Final[Mapping[str, str]] = {
    UNKNOWN_ISSUER: "the certificate's issuer is not in the loaded trust",
    INVALID: "the certificate does not verify",
    EXPIRED: "the certificate has expired",
    IDENTITY_MISMATCH: "the certificate is not the person's",
    ALREADY_RECOGNISED: "the certificate was recognised before",
    NO_DOSES: "the certificate holds no dose the registry can record",
    NOT_FOREIGN: "the certificate was issued in Viet Nam; its doses are in the registry already",
}

_UNKNOWN_ISSUER_CODES: Final = frozenset({FailureCode.KID_UNKNOWN, FailureCode.ISSUER_UNKNOWN})
_EXPIRED_CODES: Final = frozenset({FailureCode.EXPIRED, FailureCode.DSC_EXPIRED})
_STALE_TRUST_CODES: Final = frozenset({FailureCode.TRUST_LIST_STALE, FailureCode.TRUST_LIST_INVALID,
                                       FailureCode.REVOCATION_LIST_STALE, FailureCode.REVOCATION_LIST_INVALID})
_HOME: Final = "VN"
_MAX_IS: Final = 80
_PERSON_KEY: Final = re.compile(r"cccd:[0-9]{12}|passport:[A-Z]{2}:[A-Z0-9]{5,20}")


class RecognitionRefused(InputError):
    """A foreign certificate is not recognised.  ``reason`` is one of :data:`REFUSALS`; the message
    names the problem and never holds personal data."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__("certificate" if reason != IDENTITY_MISMATCH else "identity", f"{reason}: {message}")
        self.reason = reason


@dataclass(frozen=True, slots=True, repr=False)
class Recognition:
    """What a recognition recorded.  ``skipped`` says (without personal data) which events were not recorded."""

    recognition_id: int
    person_key: str
    certificate_hash: str
    source_format: str
    issuer_country: str
    doses: tuple[StoredDose, ...]
    skipped: tuple[str, ...]
    new_person: bool
    state: str | None
    reissued: bool

    def __repr__(self) -> str:
        return (f"Recognition(id={self.recognition_id}, format={self.source_format}, country={self.issuer_country}, "
                f"doses={len(self.doses)}, <redacted>)")


def _actor(value: str) -> str:
    text = (value or "").strip()
    if not text:
        raise InputError("by", "is required (who recognises the certificate)")
    return text[:200]


def _refuse_failed(result: VerificationResult) -> None:
    """Raise the refusal (or configuration error) for a certificate that did not verify."""
    if result.valid:
        return
    where = f"{result.code} at {result.stage}"
    if result.code in _STALE_TRUST_CODES:
        raise ConfigurationError(f"the loaded trust is unusable ({result.code}): update the trust list or bundle")
    if result.code in _UNKNOWN_ISSUER_CODES:
        raise RecognitionRefused(UNKNOWN_ISSUER, f"the issuer is not in the loaded trust ({where})")
    if result.code in _EXPIRED_CODES:
        raise RecognitionRefused(EXPIRED, f"the certificate has expired ({where})")
    raise RecognitionRefused(INVALID, f"the certificate does not verify ({where}: {result.reason})")


# -- identity ------------------------------------------------------------------------------------


def _icao(name: str | None) -> str:
    """The ICAO 9303 form of a name ('' for none); names without a transliteration compare normalised."""
    if not name:
        return ""
    try:
        return to_icao(name, max_length=1000)
    except InputError:
        return normalise_name(name).upper().replace(" ", "<")


def _names_match(family: str, given: str | None, holder: Holder) -> bool:
    cert_family = _icao(holder.family) if holder.family else (holder.family_std or "")
    cert_given = _icao(holder.given) if holder.given else (holder.given_std or "")
    return _icao(family) == cert_family and _icao(given) == cert_given


def _dob_matches(dob: str, holder: Holder) -> bool:
    if holder.birth_date is None:
        return False
    try:
        return PartialDate.parse(dob).compatible(holder.birth_date)
    except ValueError:
        return False


def _check_identity(label: str, family: str, given: str | None, dob: str, holder: Holder) -> None:
    if not _names_match(family, given, holder):
        raise RecognitionRefused(IDENTITY_MISMATCH, f"the name on the certificate does not match {label}")
    if not _dob_matches(dob, holder):
        raise RecognitionRefused(IDENTITY_MISMATCH, f"the birth date on the certificate does not match {label}")


def _identity_columns(person_key: str) -> dict[str, str]:
    kind, _, rest = person_key.partition(":")
    if kind == "cccd":
        return {"citizen_id": rest}
    nationality, _, number = rest.partition(":")
    return {"passport_number": number, "nationality": nationality}


def _person(
    registry: Registry, person_key: str, holder: Holder, passport: tuple[str | None, str | None, str | None],
) -> tuple[dict[str, Any], PersonRow | None]:  # fmt: skip
    """Check the certificate's holder against every identity source; the person's identity columns
    (for the dose rows) and their stored row (None for a person new to the registry)."""
    stored = registry.person(person_key)
    family_name, given_name, dob = passport
    reference: tuple[str, str | None, str] | None = None
    if person_key.startswith("cccd:"):
        citizen = person_key[5:]
        entry = registry.register_entries([citizen]).get(citizen)
        if entry is None:
            raise RecognitionRefused(IDENTITY_MISMATCH, "the citizen ID is not in the population register")
        _check_identity("the population register", *entry, holder)
        reference = entry
    if stored is not None:
        _check_identity("the registry record", stored.fn, stored.gn, stored.dob, holder)
        reference = reference or (stored.fn, stored.gn, stored.dob)
    if family_name or given_name or dob:  # what the facility read from the passport must match too
        if not family_name or not dob:
            raise InputError("family_name", "and dob are both needed to check the passport")
        document = (family_name.strip(), (given_name or "").strip() or None, dob.strip())
        _check_identity("the passport", *document, holder)
        reference = reference or document
    if reference is None:
        raise InputError("family_name", "and dob are required for a foreigner new to the registry "
                                        "(as in the passport)")
    columns: dict[str, Any] = {**_identity_columns(person_key), "family_name": reference[0], "dob": reference[2]}
    if reference[1]:
        columns["given_name"] = reference[1]
    return columns, stored


# -- doses -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Dose:
    """One vaccination to record: its columns (as an import row) and the issuer a certificate shows for it."""

    columns: dict[str, Any]
    issuer: str | None


def _issuer_text(text: str | None) -> str | None:
    """The foreign ``is`` a Viet Nam certificate may show (None: the key ring's own text)."""
    if not text:
        return None
    shown = text.strip()[:_MAX_IS].strip()
    try:
        check_issuer_fields(shown, PLACEHOLDER_UVCI)
    except InputError:
        return None
    return shown


def _dcc_doses(result: VerificationResult, facility: str) -> tuple[list[_Dose], list[str]]:
    payload = result.payload or {}
    entries = payload.get("v")
    if result.cert_type != "v" or not isinstance(entries, list) or len(entries) != 1:
        raise RecognitionRefused(NO_DOSES, "not a vaccination certificate (a test or recovery holds no dose)")
    entry = entries[0]
    dn, sd = entry.get("dn"), entry.get("sd")
    if not isinstance(dn, int) or not isinstance(sd, int):
        raise RecognitionRefused(NO_DOSES, "the vaccination has no dose number")
    day = entry.get("dt")
    columns = {"facility": facility, "dose_number": dn, "series_total": max(sd, dn),
               "date": day[:10] if isinstance(day, str) else day,
               "product": entry.get("mp"), "manufacturer": entry.get("ma"), "prophylaxis": entry.get("vp"),
               "country": entry.get("co"), "disease": entry.get("tg")}  # fmt: skip
    return [_Dose(columns, _issuer_text(entry.get("is")))], []


def _shc_doses(
    result: VerificationResult, facility: str, existing: Sequence[StoredDose], country: str,
) -> tuple[list[_Dose], list[str]]:  # fmt: skip
    card = result.shc
    assert card is not None
    covid_card = "https://smarthealth.cards#covid19" in card.types
    skipped: list[str] = []
    usable: list[tuple[str, VaccinationEvent]] = []
    for index, event in enumerate(result.events):
        if event.date is None or not event.date.complete:
            skipped.append(f"event {index}: the date is not a full date")
        elif event.eu_product is None:
            skipped.append(f"event {index}: vaccine code {event.product.code} maps to no EU product")
        elif event.disease not in (COVID_19, None) or (event.disease is None and not covid_card):
            skipped.append(f"event {index}: not a COVID-19 vaccination")
        else:
            usable.append((event.date.isoformat(), event))
    known = {dose.date: dose.dn for dose in existing}
    days = sorted({dose.date for dose in existing} | {day for day, _ in usable})
    issuer = _issuer_text(card.issuer_name or card.iss)
    doses: list[_Dose] = []
    seen: set[str] = set()
    for day, event in sorted(usable, key=lambda pair: pair[0]):
        if day in seen:  # one dose per day: the card lists this day twice
            skipped.append("a second dose on one day: recorded once")
            continue
        seen.add(day)
        dn = event.dose_number or known.get(day) or days.index(day) + 1
        series = event.series_doses or PRIMARY_SERIES_DOSES.get(event.eu_product or "", DEFAULT_SERIES_DOSES)
        columns = {"facility": facility, "dose_number": dn, "series_total": max(series, dn), "date": day,
                   "product": event.eu_product, "manufacturer": event.manufacturer,
                   "prophylaxis": event.vaccine_type, "country": event.country or country,
                   "disease": event.disease or COVID_19}  # fmt: skip
        doses.append(_Dose(columns, issuer))
    return doses, skipped


def _rows(
    person_key: str, identity: Mapping[str, Any], doses: Sequence[_Dose], content_hash: str, facility: str,
    now: dt.datetime, source: str,
) -> tuple[list[NewDose], PersonRow, list[str]]:  # fmt: skip
    """Each dose checked as an import row; the person row the identity gives; problems of refused doses."""
    out: list[NewDose] = []
    problems: list[str] = []
    person: PersonRow | None = None
    for index, dose in enumerate(doses):
        columns = {**identity, **{k: v for k, v in dose.columns.items() if v is not None and v != ""}}
        try:
            (row,) = parse_row(0, columns, now=now)
        except InputError as exc:
            if exc.field in ("family_name", "given_name", "dob", "citizen_id", "passport_number", "nationality"):
                raise
            problems.append(f"dose {index}: {exc.field}: {exc.message}")
            continue
        person = row.person
        stored = row.dose._replace(key=dose_key(person_key, row.dose.dn, row.dose.date, f"{facility}#{content_hash}"),
                                   issuer=dose.issuer)  # fmt: skip
        out.append(NewDose(stored, person_key, row.row_hash, source, None))
    if person is None:
        (probe,) = parse_row(0, {**identity, "facility": facility, "dose_number": 1, "series_total": 2,
                                 "date": "2021-06-01", "product": "EU/1/20/1528"}, now=now)  # fmt: skip
        person = probe.person
    return out, person, problems


# -- the workflow ----------------------------------------------------------------------------------


def recognise(
    registry: Registry,
    presentation: Presentation,
    *,
    verifier: Verifier,
    person: str,
    facility: str,
    by: str,
    now: dt.datetime,
    family_name: str | None = None,
    given_name: str | None = None,
    dob: str | None = None,
    keyring: KeyRing | None = None,
) -> Recognition:
    """Recognise the doses of a person's foreign certificate (see the module notes).

    ``presentation``: HC1 text, ``shc:/`` text, the chunk texts of one card, a JWS, or the content
    of a ``.smart-health-card`` file holding one card.  ``person``: the registry key
    (``cccd:<12 digits>`` or ``passport:<NAT>:<NUMBER>``, see :func:`vaxcert.registry.person_key`).
    ``family_name`` / ``given_name`` / ``dob``: as in the passport of a foreigner new to the
    registry (checked against the certificate too whenever given).  ``keyring``: issue the new
    certificate at once.  Raises :class:`RecognitionRefused` for a refusal,
    :class:`~vaxcert.errors.InputError` for a bad argument.
    """
    if now.tzinfo is None:
        raise ConfigurationError("now must be timezone-aware")
    key = (person or "").strip()
    if not _PERSON_KEY.fullmatch(key):
        raise InputError("person", "must be cccd:<12 digits> or passport:<NATIONALITY>:<NUMBER>")
    who = _actor(by)
    place = (facility or "").strip().upper()
    result = verifier.verify(presentation, now=now)
    _refuse_failed(result)
    content_hash = result.content_hash
    holder = result.holder
    if content_hash is None or holder is None:
        raise RecognitionRefused(INVALID, "the certificate's content cannot be read")
    earlier = registry.recognition(content_hash)
    if earlier is not None:
        when = dt.datetime.fromtimestamp(earlier.recognised_at, dt.UTC).date().isoformat()
        raise RecognitionRefused(ALREADY_RECOGNISED, f"recognised on {when} at {earlier.facility_id}")
    country = (result.issuer_country or "").upper()
    if result.format == FORMAT_DCC:
        issuer_key, issuer = result.key_id or "", _dcc_issuer(result)
        certificate_id = _dcc_ci(result)
    else:
        assert result.shc is not None
        issuer_key, issuer, certificate_id = result.shc.kid or "", result.shc.iss or "", result.shc.rid
        if not country:
            raise RecognitionRefused(UNKNOWN_ISSUER, "the issuer's country is not in its trust entry "
                                                     "(add \"country\" to the issuer's file)")
    if country == _HOME:
        raise RecognitionRefused(NOT_FOREIGN, "issued in Viet Nam: its doses are in the registry already")
    identity, stored = _person(registry, key, holder, (family_name, given_name, dob))
    existing = registry.doses_of([key]).get(key, []) if stored is not None else []
    if result.format == FORMAT_SHC:
        doses, skipped = _shc_doses(result, place, existing, country)
    else:
        doses, skipped = _dcc_doses(result, place)
    source = f"recognition:{result.format}"
    rows, person_row, problems = _rows(key, identity, doses, content_hash, place, now, source)
    skipped = [*skipped, *problems]
    if not rows:
        detail = f" ({'; '.join(skipped[:3])})" if skipped else ""
        raise RecognitionRefused(NO_DOSES, f"no dose the registry can record{detail}")
    stamp = int(now.timestamp())
    recognition = RecognitionRow(None, content_hash, key, result.format, country, issuer_key, issuer[:500],
                                 certificate_id, len(rows), place, who, stamp)  # fmt: skip
    with registry.transaction():
        if stored is None:
            registry.add_persons([person_row], stamp=stamp)
        recognition_id = registry.add_recognition(recognition, rows, stamp=stamp)
        if recognition_id is None:  # recognised meanwhile by another facility
            raise RecognitionRefused(ALREADY_RECOGNISED, "recognised at the same time elsewhere")
        registry.mark_changed([key], stamp=stamp)
        registry.add_facilities([(place, province_of(place))], stamp=stamp)
        registry.audit(at=stamp, actor=who, action="recognise", subject=key, reason=None,
                       detail={"recognition": recognition_id, "format": result.format, "issuer_country": country,
                               "facility": place, "doses": len(rows), "skipped": len(skipped)})  # fmt: skip
    reconcile(registry, now=now, persons=[key])
    reissued = issue_person(registry, keyring, key, now=now) if keyring is not None else False
    status = registry.person_status(key)
    return Recognition(recognition_id, key, content_hash, result.format, country, tuple(r.dose for r in rows),
                       tuple(skipped), stored is None, status.state if status is not None else None, reissued)


def _dcc_entry(result: VerificationResult) -> Mapping[str, Any]:
    entries = (result.payload or {}).get("v") or (result.payload or {}).get("t") or (result.payload or {}).get("r")
    return entries[0] if isinstance(entries, list) and entries and isinstance(entries[0], Mapping) else {}


def _dcc_issuer(result: VerificationResult) -> str:
    value = _dcc_entry(result).get("is")
    return value if isinstance(value, str) else ""


def _dcc_ci(result: VerificationResult) -> str | None:
    value = _dcc_entry(result).get("ci")
    return value if isinstance(value, str) else None
