"""The published test keys: anyone can sign with them, so no real verifier should trust them.

vaxcert's own test vectors are signed with keys published in the repository
(``test_vectors/keys``, written by ``tools/generate_vectors.py``).  Their kids and public-key
fingerprints (SHA-256 of the SubjectPublicKeyInfo) are kept as data in
``vaxcert/data/published_test_keys.json`` — current and retired ones, since a key once published
stays published.  :func:`find_published_test_keys` finds them among trusted signers, by key (so a
new certificate for an old test key is caught too) or by kid, and also any signer whose subject
says ``TEST ONLY``; :func:`vaxcert.load_verifier` turns each into a warning.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Final

from cryptography.hazmat.primitives import serialization

from ..errors import ConfigurationError
from .store import TrustedSigner

__all__ = ["TEST_ONLY_MARK", "PublishedTestKey", "find_published_test_keys", "published_test_keys"]

#: Test certificates say this in their subject.
TEST_ONLY_MARK: Final = "TEST ONLY"


@dataclass(frozen=True, slots=True)
class PublishedTestKey:
    """One published test key: its name in the test set, its certificate's kid and key fingerprint."""

    name: str
    kid: bytes
    spki_sha256: bytes
    status: str  # "current" or "retired"


@functools.cache
def published_test_keys() -> tuple[PublishedTestKey, ...]:
    """The published test keys listed in ``vaxcert/data/published_test_keys.json``."""
    resource = resources.files("vaxcert").joinpath("data", "published_test_keys.json")
    try:
        document = json.loads(resource.read_text(encoding="utf-8"))
        return tuple(
            PublishedTestKey(entry["name"], bytes.fromhex(entry["kid"]), bytes.fromhex(entry["spki_sha256"]),
                             entry.get("status", "current"))
            for entry in document["keys"]
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:  # a broken installation
        raise ConfigurationError(f"the list of published test keys is unreadable ({type(exc).__name__})") from None


def _spki_sha256(signer: TrustedSigner) -> bytes | None:
    public_bytes = getattr(signer.public_key, "public_bytes", None)
    if public_bytes is None:
        return None
    der = public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).digest() if isinstance(der, bytes) else None


def find_published_test_keys(signers: Iterable[TrustedSigner]) -> list[tuple[TrustedSigner, str]]:
    """The signers that are published test keys, each with what gives it away (no personal data).

    A signer matches by public key or kid of a listed key, or by ``TEST ONLY`` in its subject.
    """
    keys = published_test_keys()
    by_spki: Mapping[bytes, PublishedTestKey] = {k.spki_sha256: k for k in keys}
    by_kid: Mapping[bytes, PublishedTestKey] = {k.kid: k for k in keys}
    found: list[tuple[TrustedSigner, str]] = []
    for signer in signers:
        known = by_spki.get(_spki_sha256(signer) or b"") or by_kid.get(signer.kid)
        if known is not None:
            found.append((signer, f"published test key {known.name}"))
        elif TEST_ONLY_MARK in signer.subject.upper().replace("-", " "):
            found.append((signer, f"certificate marked {TEST_ONLY_MARK}"))
    return found
