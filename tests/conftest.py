"""Shared fixtures: the location of ../shared, a demo PKI, and service requirements."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from hypothesis import HealthCheck, settings

from vaxcert.pki.certificates import create_csca, create_dsc
from vaxcert.pki.keys import KeySigner, PrivateKey, generate_private_key
from vaxcert.trust.store import TrustList

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VAXCERT_SHARED", REPO.parent / "shared"))
# Hypothesis profiles: "ci" (scripts/test.sh sets HYPOTHESIS_PROFILE=ci) turns deadlines off and
# suppresses only the too_slow health check, so a loaded CI machine cannot fail a property test
# for being slow; every other health check stays on.  "default" is Hypothesis' own settings.
settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

#: A fixed "now" for deterministic tests: certificates are issued and verified around it.
NOW = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The ../shared folder (test vectors, official schemas and value sets)."""
    if not (SHARED / "dgc-testdata").is_dir():
        pytest.fail(f"test data not found at {SHARED}; set VAXCERT_SHARED")
    return SHARED


@pytest.fixture(scope="session")
def vectors_dir(shared_dir: Path) -> Path:
    """The published EU DCC test vectors."""
    return shared_dir / "dgc-testdata"


@dataclass(frozen=True)
class Pki:
    """A ministry CSCA and two facility DSCs (one ES256, one PS256) valid around NOW."""

    csca: x509.Certificate
    csca_key: PrivateKey
    dsc: x509.Certificate
    dsc_key: PrivateKey
    rsa_dsc: x509.Certificate
    rsa_key: PrivateKey

    @property
    def signer(self) -> KeySigner:
        return KeySigner(self.dsc_key, self.dsc)

    @property
    def rsa_signer(self) -> KeySigner:
        return KeySigner(self.rsa_key, self.rsa_dsc)

    @property
    def trust(self) -> TrustList:
        return TrustList.from_certificates([self.dsc, self.rsa_dsc])


def make_pki(now: dt.datetime = NOW, types: tuple[str, ...] = ("v", "t", "r")) -> Pki:
    """Build a fresh ministry and two facilities."""
    start = now - dt.timedelta(days=30)
    csca_key = generate_private_key("ec")
    csca = create_csca(csca_key, country="VN", name="Ministry of Health VN", now=start)
    dsc_key = generate_private_key("ec")
    dsc = create_dsc(dsc_key, csca=csca, csca_key=csca_key, facility_id="VN-HN-001",
                     facility_name="Bach Mai Hospital", now=start, types=types)
    rsa_key = generate_private_key("rsa2048")
    rsa_dsc = create_dsc(rsa_key, csca=csca, csca_key=csca_key, facility_id="VN-SG-002",
                         facility_name="Cho Ray Hospital", now=start, types=types)
    return Pki(csca, csca_key, dsc, dsc_key, rsa_dsc, rsa_key)


@pytest.fixture(scope="session")
def pki() -> Pki:
    """A session-wide demo PKI."""
    return make_pki()


def require_service(env_var: str) -> str:
    """The value of a service variable set by scripts/start-services.sh.

    Fails (rather than skips) when VAXCERT_REQUIRE_SERVICES=1, as in CI.
    """
    value = os.environ.get(env_var)
    if not value:
        message = f"{env_var} not set: run scripts/start-services.sh and source .services/env"
        if os.environ.get("VAXCERT_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return value
