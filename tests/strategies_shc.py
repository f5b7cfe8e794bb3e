"""Hypothesis strategies for SMART Health Card tests: JSON shaped like cards and like trust documents."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from shc_support import EXAMPLE_KID

#: JSON values biased towards the words of Health Card claims and FHIR bundles.
json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12)
    | st.sampled_from(["resource:0", "resource:1", "completed", "Patient", "Immunization", "Bundle", "collection",
                       "2021-01-01", "1951", "http://hl7.org/fhir/sid/cvx", "207",
                       "https://smarthealth.cards#health-card"]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["resourceType", "type", "entry", "resource", "fullUrl", "name", "family",
                                       "given", "birthDate", "status", "vaccineCode", "coding", "system", "code",
                                       "patient", "reference", "occurrenceDateTime", "protocolApplied",
                                       "doseNumberPositiveInt", "performer", "actor", "display", "lotNumber",
                                       "use", "text"]) | st.text(max_size=6), children, max_size=5),
    max_leaves=20,
)

#: JSON values biased towards the words of JWKS, VCI directories and revocation lists.
trust_documents: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 2**70) | st.text(max_size=10)
    | st.sampled_from(["https://a.example", "EC", "P-256", "ES256", "sig", "rid", EXAMPLE_KID]),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(
        st.sampled_from(["iss", "keys", "crls", "issuer", "issuerInfo", "participating_issuers", "kty", "crv", "x",
                         "y", "kid", "alg", "use", "x5c", "d", "crlVersion", "method", "ctr", "rids", "name",
                         "country"]), c, max_size=5),
    max_leaves=15,
)
