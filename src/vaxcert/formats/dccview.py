"""The DCC view of a foreign certificate: what the pass policy and business rules read of it.

The pass policy (:func:`vaxcert.rules.assess`) and CertLogic rules (:mod:`vaxcert.rules`) are
written against the EU DCC payload, which holds ONE vaccination entry: the last dose, with its
dose number ``dn`` of a series of ``sd``.  A SMART Health Card lists every dose the issuer knows
of, and rarely states dose numbers.  :func:`dcc_view` turns the normalised holder and events of
such a card (:mod:`vaxcert.events`) into a DCC-shaped payload of its *last* dose, so that both
formats meet the same rules:

* the last dose is the latest event with a complete date (events with only a year or month
  cannot grant a pass; if there is none, the latest event, whose partial ``dt`` the policy refuses);
* ``dn``: the dose number the card states (``protocolApplied.doseNumber``), otherwise the number
  of distinct vaccination days of the card up to and including that dose — *counted, not stated*.
  A card that omits earlier doses (given by another issuer) is therefore read as fewer doses:
  the error is on the side of a weaker pass, never a stronger one;
* ``sd``: the series length the card states, otherwise the product's standard primary series
  (:data:`vaxcert.dcc.codes.PRIMARY_SERIES_DOSES`; 2 for a product not listed).  A counted dose
  beyond the series is a booster (``dn > sd``, as the policy reads it);
* ``mp``/``ma``/``vp``/``tg``: the EU codes the vaccine-code table maps the card's code to
  (:mod:`vaxcert.formats.shc.products`); an unmapped code keeps its own code as ``mp`` (no policy
  accepts it) and ``tg`` is COVID-19 only when the table or the card's ``#covid19`` type says so;
* ``co``: the event's country if stated, else the issuer's country from the trust file (left out
  when unknown); ``is``: the issuer's name (else its ``iss`` URL); ``ci`` is left out (a Health
  Card has no certificate identifier);
* ``nam``: the names as printed and their ICAO 9303 forms (``fnt``/``gnt``), ``dob`` as on the
  card (``YYYY``, ``YYYY-MM`` or a full date).

The view is not a certificate: it is never signed or issued, only read by the policy and rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from ..dcc.codes import COVID_19, DCC_VERSION, PRIMARY_SERIES_DOSES
from ..dcc.translit import to_icao
from ..errors import InputError
from ..events import Holder, NormalisedRecord, VaccinationEvent

__all__ = ["DEFAULT_SERIES_DOSES", "dcc_view", "last_dose"]

#: The series length of a product not in :data:`~vaxcert.dcc.codes.PRIMARY_SERIES_DOSES`.
DEFAULT_SERIES_DOSES: Final = 2
_MAX_TEXT: Final = 80


def _icao(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return to_icao(name) or None
    except InputError:  # a character ICAO 9303 cannot write: the printed form still identifies
        return None


def _names(holder: Holder) -> dict[str, str]:
    out: dict[str, str] = {}
    family = holder.family or holder.family_std
    given = holder.given or holder.given_std
    if family:
        out["fn"] = family[:_MAX_TEXT]
        out["fnt"] = holder.family_std or _icao(family) or ""
    if given:
        out["gn"] = given[:_MAX_TEXT]
        out["gnt"] = holder.given_std or _icao(given) or ""
    return {k: v for k, v in out.items() if v}


def _counted(events: Sequence[VaccinationEvent]) -> list[VaccinationEvent]:
    """The events that are COVID-19 vaccinations (all of them when no event says its disease)."""
    covid = [e for e in events if e.disease == COVID_19]
    return covid or [e for e in events if e.disease is None]


def last_dose(events: Sequence[VaccinationEvent]) -> tuple[VaccinationEvent, int] | None:
    """The latest dose with a complete date and its counted number (distinct days up to it).

    Without a complete date, the latest event and the number of events.  None for no events.
    """
    counted = _counted(events)
    if not counted:
        return None
    dated = sorted(((e.date.isoformat(), e) for e in counted if e.date is not None and e.date.complete),
                   key=lambda pair: pair[0])
    if not dated:
        return counted[-1], len(counted)
    days = {day for day, _ in dated}  # one dose per day: a day listed twice is one dose
    return dated[-1][1], len(days)


def dcc_view(
    record: NormalisedRecord,
    *,
    issuer: str | None = None,
    issuer_country: str | None = None,
    covid_card: bool = False,
) -> dict[str, Any]:
    """A DCC-shaped payload of the record's last dose (see the module notes).  Never raises.

    ``covid_card``: the card declares itself a COVID-19 card (``https://smarthealth.cards#covid19``),
    so a vaccine code outside the table still counts as a COVID-19 vaccination (of an unknown
    product).  A record without events gives a payload with an empty ``v`` list.
    """
    holder = record.holder
    payload: dict[str, Any] = {"ver": DCC_VERSION, "nam": _names(holder),
                               "dob": holder.birth_date.isoformat() if holder.birth_date else ""}
    found = last_dose(record.events)
    if found is None:
        payload["v"] = []
        return payload
    event, counted = found
    mp = event.eu_product or event.product.code
    dn = event.dose_number or counted
    sd = event.series_doses or PRIMARY_SERIES_DOSES.get(mp, DEFAULT_SERIES_DOSES)
    disease = event.disease or (COVID_19 if covid_card else None)
    entry: dict[str, Any] = {
        "tg": disease or "", "vp": event.vaccine_type or "", "mp": mp, "ma": event.manufacturer or "",
        "dn": dn, "sd": sd, "dt": event.date.isoformat() if event.date is not None else "",
    }
    country = event.country or issuer_country
    if country:
        entry["co"] = country.upper()
    if issuer:
        entry["is"] = issuer[:_MAX_TEXT]
    payload["v"] = [entry]
    return payload
