"""Coded values and versions of the EU DCC, each defined once.

Data tables only: SNOMED CT / LOINC codes vaxcert refers to by name, the DCC versions it issues,
and which payload field is coded with which value set.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

__all__ = [
    "CERT_TYPES",
    "CODED_FIELDS",
    "COVID_19",
    "DCC_VERSION",
    "NAAT",
    "PRIMARY_SERIES_DOSES",
    "RAPID_ANTIGEN_TEST",
    "SUPPORTED_VERSIONS",
    "TEST_DETECTED",
    "TEST_NOT_DETECTED",
]

#: SNOMED CT code of COVID-19 (value set ``disease-agent-targeted``).
COVID_19: Final = "840539006"
#: LOINC: nucleic acid amplification test (RT-PCR), value set ``test-type``.
NAAT: Final = "LP6464-4"
#: LOINC: rapid antigen test, value set ``test-type``.
RAPID_ANTIGEN_TEST: Final = "LP217198-3"
#: SNOMED CT: test result "not detected" (value set ``test-result``).
TEST_NOT_DETECTED: Final = "260415000"
#: SNOMED CT: test result "detected".
TEST_DETECTED: Final = "260373001"

#: The DCC version vaxcert writes into the payloads it builds.
DCC_VERSION: Final = "1.3.0"
#: DCC versions vaxcert issues.  Older versions differ in entries and limits (50 characters).
SUPPORTED_VERSIONS: Final = ("1.3.0", "1.3.1", "1.3.2")

#: The certificate types: vaccination, test, recovery (the payload keys v, t, r).
CERT_TYPES: Final = ("v", "t", "r")

#: Which field of which certificate group is coded with which value set, in schema order.
CODED_FIELDS: Final[Mapping[str, tuple[tuple[str, str], ...]]] = MappingProxyType(
    {
        "v": (("tg", "disease-agent-targeted"), ("vp", "vaccine-prophylaxis"), ("mp", "vaccine-medicinal-product"),
              ("ma", "vaccine-mah-manf"), ("co", "country-2-codes")),
        "t": (("tg", "disease-agent-targeted"), ("tt", "test-type"), ("ma", "test-manf"), ("tr", "test-result"),
              ("co", "country-2-codes")),
        "r": (("tg", "disease-agent-targeted"), ("co", "country-2-codes")),
    }
)  # fmt: skip

#: Doses of the standard primary series of each vaccine product (``mp``): the series length a
#: certificate that does not state ``sd`` (a SMART Health Card, usually) is read with.  Data from
#: the products' authorisations (WHO EUL / EMA): one dose for the adenovirus single-shot vaccines,
#: three for Abdala, two for the others.  A product not listed here is read as a two-dose series.
PRIMARY_SERIES_DOSES: Final[Mapping[str, int]] = MappingProxyType(
    {
        "EU/1/20/1528": 2,  # Comirnaty (Pfizer-BioNTech)
        "EU/1/20/1507": 2,  # Spikevax (Moderna)
        "EU/1/21/1529": 2,  # Vaxzevria (AstraZeneca)
        "Covishield": 2,  # Serum Institute of India
        "EU/1/20/1525": 1,  # COVID-19 Vaccine Janssen / Jcovden
        "EU/1/21/1618": 2,  # Nuvaxovid (Novavax)
        "Sputnik-V": 2,
        "Sputnik-Light": 1,
        "Convidecia": 1,  # CanSino
        "BBIBP-CorV": 2,  # Sinopharm (Beijing)
        "Inactivated-SARS-CoV-2-Vero-Cell": 2,  # Sinopharm, deprecated code
        "CoronaVac": 2,  # Sinovac
        "Hayat-Vax": 2,
        "Covaxin": 2,  # Bharat Biotech
        "Abdala": 3,  # CIGB
        "EpiVacCorona": 2,
        "CoviVac": 2,
    }
)
