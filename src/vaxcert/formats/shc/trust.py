"""Trust for SMART Health Cards: issuer key sets (JWKS) keyed by the issuer's ``iss`` URL.

A verifier trusts an issuer by holding its public keys; nothing is fetched at verification
time.  :class:`ShcTrust` is built from JSON documents in three shapes:

1. one issuer: ``{"iss": URL, "keys": [JWK, ...]}`` (optional ``name``, ``country`` (ISO 3166
   alpha-2, a vaxcert extension), ``crls``): what ``<iss>/.well-known/jwks.json`` holds, plus
   the ``iss`` it belongs to;
2. a VCI directory snapshot: ``{"issuerInfo": [{"issuer": {"iss", "name", ...}, "keys": [...],
   "crls": [...]}, ...]}`` (the daily snapshot the VCI directory publishes);
3. a VCI issuer list: ``{"participating_issuers": [{"iss", "name", ...}, ...]}``.  Entries
   name issuers; those carrying ``keys`` add them, the others only add the display name to keys
   loaded from elsewhere (:attr:`ShcTrust.issuers_without_keys` lists issuers left without keys).

:meth:`ShcTrust.from_paths` reads files and directories of ``*.json`` documents;
:meth:`ShcTrust.to_json` writes shape 2, deterministically, for the offline bundle.

Every key is checked as the specification requires (``kty`` EC, ``crv`` P-256, ``alg`` ES256,
a point on the curve, ``kid`` equal to its RFC 7638 thumbprint, no private ``d``, an ``x5c``
leaf certificate holding the same key); ``kid`` is recomputed, never taken on trust.  Keys with
``use`` other than ``sig`` are not signing keys and are skipped.  With ``strict=True`` (the
default) any rejected key or document raises :class:`ShcTrustError` naming the file, issuer,
key index and problem; with ``strict=False`` it is skipped and listed in
:attr:`ShcTrust.rejected`.  Card revocation lists (``{"kid", "method": "rid", "ctr", "rids"}``)
come in an issuer's ``crls``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from ...errors import ConfigurationError, DecodeError
from ...jsonio import ascii_digits
from .jws import b64url_decode, b64url_encode

__all__ = [
    "MAX_TRUST_FILE_BYTES",
    "RejectedKey",
    "RevocationList",
    "ShcIssuer",
    "ShcKey",
    "ShcTrust",
    "ShcTrustError",
    "jwk_thumbprint",
    "parse_jwk",
    "parse_jwks",
]

#: The largest trust document read (a VCI directory snapshot is a few MB at most).
MAX_TRUST_FILE_BYTES: Final = 64 * 1024 * 1024
_FORMAT: Final = "vaxcert-shc-trust/1"
_PUBLIC_MEMBERS: Final = ("kty", "kid", "use", "alg", "crv", "x", "y", "x5c", "crlVersion")
_RID = re.compile(r"([A-Za-z0-9_-]{1,64})(?:\.([0-9]{1,12}))?")
_COUNTRY = re.compile(r"[A-Z]{2}")


class ShcTrustError(ConfigurationError):
    """A trust document, issuer entry or key is unusable (the message names which and why)."""


class _KeyProblem(Exception):
    """Internal: why one JWK is refused."""


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 SHA-256 thumbprint of an EC public JWK, base64url (what ``kid`` must be)."""
    members = {name: jwk[name] for name in ("crv", "kty", "x", "y")}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return b64url_encode(hashlib.sha256(canonical.encode("utf-8")).digest())


@dataclass(frozen=True, slots=True)
class ShcKey:
    """One trusted ES256 signing key.  ``kid`` is the recomputed thumbprint."""

    kid: str
    public_key: ec.EllipticCurvePublicKey = field(repr=False, compare=False)
    jwk: Mapping[str, Any] = field(repr=False)
    crl_version: int | None = None

    def __repr__(self) -> str:
        return f"ShcKey(kid={self.kid!r})"


@dataclass(frozen=True, slots=True)
class RevocationList:
    """An issuer's card revocation list for one key: ``rid`` → revoked-before time (None: always)."""

    kid: str
    counter: int
    rids: Mapping[str, int | None]

    def revokes(self, rid: str, issued_at: float) -> bool:
        """True when the card with revocation id ``rid`` and ``nbf`` ``issued_at`` is revoked."""
        if rid not in self.rids:
            return False
        before = self.rids[rid]
        return before is None or issued_at < before

    def to_document(self) -> dict[str, Any]:
        """The published JSON form."""
        rids = sorted(rid if ts is None else f"{rid}.{ts}" for rid, ts in self.rids.items())
        return {"kid": self.kid, "method": "rid", "ctr": self.counter, "rids": rids}

    def __repr__(self) -> str:
        return f"RevocationList(kid={self.kid!r}, ctr={self.counter}, entries={len(self.rids)})"


@dataclass(frozen=True, slots=True)
class ShcIssuer:
    """A trusted issuer: its ``iss`` URL, display name, optional country, keys and revocation lists."""

    iss: str
    name: str | None = None
    country: str | None = None
    keys: Mapping[str, ShcKey] = field(default_factory=lambda: MappingProxyType({}))
    crls: Mapping[str, RevocationList] = field(default_factory=lambda: MappingProxyType({}))
    canonical_iss: str | None = None

    def to_document(self) -> dict[str, Any]:
        """The VCI-snapshot entry for this issuer."""
        issuer: dict[str, Any] = {"iss": self.iss}
        if self.name is not None:
            issuer["name"] = self.name
        if self.canonical_iss is not None:
            issuer["canonical_iss"] = self.canonical_iss
        if self.country is not None:
            issuer["country"] = self.country
        out: dict[str, Any] = {"issuer": issuer, "keys": [dict(self.keys[k].jwk) for k in sorted(self.keys)]}
        if self.crls:
            out["crls"] = [self.crls[k].to_document() for k in sorted(self.crls)]
        return out

    def __repr__(self) -> str:
        return f"ShcIssuer(iss={self.iss!r}, keys={len(self.keys)})"


@dataclass(frozen=True, slots=True)
class RejectedKey:
    """A key (``index`` >= 0) or an issuer entry or document (``index`` = -1) that was refused."""

    source: str
    iss: str | None
    index: int
    reason: str

    def __str__(self) -> str:
        where = self.source
        if self.iss is not None:
            where += f", issuer {self.iss}"
        if self.index >= 0:
            where += f", key #{self.index}"
        return f"{where}: {self.reason}"


def _coordinate(jwk: Mapping[str, Any], name: str) -> int:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise _KeyProblem(f"{name} missing")
    try:
        raw = b64url_decode(value, name)
    except DecodeError:
        raise _KeyProblem(f"{name} is not base64url") from None
    if len(raw) != 32:
        raise _KeyProblem(f"{name} must be 32 bytes for P-256")
    return int.from_bytes(raw, "big")


def _check_x5c(jwk: Mapping[str, Any], key: ec.EllipticCurvePublicKey) -> None:
    chain = jwk["x5c"]
    if not isinstance(chain, list) or not chain or not all(isinstance(c, str) for c in chain):
        raise _KeyProblem("x5c must be a non-empty list of base64 certificates")
    try:
        leaf = x509.load_der_x509_certificate(base64.b64decode(chain[0], validate=True))
        leaf_key = leaf.public_key()
    except (binascii.Error, ValueError):
        raise _KeyProblem("x5c leaf certificate unreadable") from None
    if not isinstance(leaf_key, ec.EllipticCurvePublicKey) or leaf_key.public_numbers() != key.public_numbers():
        raise _KeyProblem("x5c leaf certificate holds a different key")


def parse_jwk(jwk: Any) -> ShcKey | None:
    """Check one JWK as a Health Card signing key.

    Returns None for keys that are not signing keys (``use`` other than ``sig``); raises
    :class:`ShcTrustError` (no key material in the message) for a key that must be refused.
    """
    try:
        return _parse_jwk(jwk)
    except _KeyProblem as exc:
        raise ShcTrustError(str(exc)) from None


def _parse_jwk(jwk: Any) -> ShcKey | None:
    if not isinstance(jwk, Mapping):
        raise _KeyProblem("key is not a JSON object")
    use = jwk.get("use")
    if use is not None and use != "sig":
        return None
    if "d" in jwk:
        raise _KeyProblem("private key material (d) present; publish public keys only")
    if jwk.get("kty") != "EC":
        raise _KeyProblem("kty must be EC")
    if jwk.get("crv") != "P-256":
        raise _KeyProblem("crv must be P-256")
    alg = jwk.get("alg")
    if alg is not None and alg != "ES256":
        raise _KeyProblem("alg must be ES256")
    x, y = _coordinate(jwk, "x"), _coordinate(jwk, "y")
    try:
        key = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    except ValueError:
        raise _KeyProblem("x, y is not a point on P-256") from None
    thumbprint = jwk_thumbprint(jwk)
    kid = jwk.get("kid")
    if kid is not None and kid != thumbprint:
        raise _KeyProblem("kid is not the key's RFC 7638 JWK thumbprint")
    if "x5c" in jwk:
        _check_x5c(jwk, key)
    crl_version = jwk.get("crlVersion")
    if crl_version is not None and (
        isinstance(crl_version, bool) or not isinstance(crl_version, int) or crl_version < 0
    ):
        raise _KeyProblem("crlVersion must be a whole number")
    public = {name: jwk[name] for name in _PUBLIC_MEMBERS if name in jwk}
    public["kid"] = thumbprint
    return ShcKey(kid=thumbprint, public_key=key, jwk=MappingProxyType(public), crl_version=crl_version)


def parse_jwks(jwks: Any) -> tuple[list[ShcKey], list[tuple[int, str]]]:
    """Check every key of a JWKS ``{"keys": [...]}``: (accepted keys, [(index, reason), ...] refused).

    Keys that are not signing keys are neither accepted nor refused.
    """
    keys_value = jwks.get("keys") if isinstance(jwks, Mapping) else None
    if not isinstance(keys_value, list):
        return [], [(-1, "no keys list")]
    accepted: list[ShcKey] = []
    refused: list[tuple[int, str]] = []
    for index, jwk in enumerate(keys_value):
        try:
            key = _parse_jwk(jwk)
        except _KeyProblem as exc:
            refused.append((index, str(exc)))
            continue
        if key is not None:
            accepted.append(key)
    return accepted, refused


def _parse_crl(document: Any) -> RevocationList:
    if not isinstance(document, Mapping):
        raise _KeyProblem("revocation list is not a JSON object")
    kid = document.get("kid")
    if not isinstance(kid, str) or not kid:
        raise _KeyProblem("revocation list has no kid")
    if document.get("method") != "rid":
        raise _KeyProblem("revocation list method must be rid")
    counter = document.get("ctr")
    if isinstance(counter, str) and ascii_digits(counter):
        counter = int(counter)
    if isinstance(counter, bool) or not isinstance(counter, int) or counter < 0:
        raise _KeyProblem("revocation list ctr must be a whole number")
    entries = document.get("rids")
    if not isinstance(entries, list):
        raise _KeyProblem("revocation list rids must be a list")
    rids: dict[str, int | None] = {}
    for entry in entries:
        match = _RID.fullmatch(entry) if isinstance(entry, str) else None
        if match is None:
            raise _KeyProblem("revocation list holds a malformed rid")
        rid, ts = match.group(1), match.group(2)
        if rid in rids and rids[rid] is None:
            continue
        if ts is None:
            rids[rid] = None
        else:
            previous = rids.get(rid)
            rids[rid] = max(int(ts), previous) if previous is not None else int(ts)
    return RevocationList(kid=kid, counter=counter, rids=MappingProxyType(rids))


def _valid_iss(iss: object) -> bool:
    return (
        isinstance(iss, str)
        and iss.startswith("https://")
        and len(iss) > len("https://")
        and not iss.endswith("/")
        and len(iss) <= 2048
        and not any(ch.isspace() for ch in iss)
    )


class _Builder:
    """Collects issuers from documents, merging entries with the same ``iss``."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.names: dict[str, str] = {}
        self.countries: dict[str, str] = {}
        self.canonical: dict[str, str] = {}
        self.keys: dict[str, dict[str, ShcKey]] = {}
        self.crls: dict[str, dict[str, RevocationList]] = {}
        self.rejected: list[RejectedKey] = []

    def refuse(self, source: str, iss: str | None, index: int, reason: str) -> None:
        problem = RejectedKey(source, iss, index, reason)
        if self.strict:
            raise ShcTrustError(f"SHC trust: {problem}")
        self.rejected.append(problem)

    def add_document(self, document: Any, source: str) -> None:
        if not isinstance(document, Mapping):
            self.refuse(source, None, -1, "not a JSON object")
            return
        if "issuerInfo" in document:
            entries = document["issuerInfo"]
            if not isinstance(entries, list):
                self.refuse(source, None, -1, "issuerInfo must be a list")
                return
            for position, entry in enumerate(entries):
                where = f"{source} issuerInfo[{position}]"
                issuer = entry.get("issuer") if isinstance(entry, Mapping) else None
                if not isinstance(issuer, Mapping):
                    self.refuse(where, None, -1, "entry has no issuer object")
                    continue
                self.add_issuer(issuer, entry, where)
        elif "participating_issuers" in document:
            entries = document["participating_issuers"]
            if not isinstance(entries, list):
                self.refuse(source, None, -1, "participating_issuers must be a list")
                return
            for position, entry in enumerate(entries):
                where = f"{source} participating_issuers[{position}]"
                if not isinstance(entry, Mapping):
                    self.refuse(where, None, -1, "entry is not a JSON object")
                    continue
                self.add_issuer(entry, entry, where, keys_required=False)
        elif "iss" in document:
            self.add_issuer(document, document, source)
        elif "keys" in document:
            self.refuse(source, None, -1, 'a bare JWKS: add "iss": the issuer URL the keys belong to')
        else:
            self.refuse(source, None, -1, "not an SHC trust document (no iss, issuerInfo or participating_issuers)")

    def add_issuer(
        self, issuer: Mapping[str, Any], entry: Mapping[str, Any], source: str, *, keys_required: bool = True
    ) -> None:
        iss = issuer.get("iss")
        if not _valid_iss(iss):
            self.refuse(source, None, -1, "iss must be an https URL without a trailing /")
            return
        assert isinstance(iss, str)
        for attr, target in (("name", self.names), ("canonical_iss", self.canonical)):
            value = issuer.get(attr)
            if isinstance(value, str) and value.strip():
                target.setdefault(iss, value.strip())
        country = issuer.get("country")
        if country is not None:
            if isinstance(country, str) and _COUNTRY.fullmatch(country):
                self.countries.setdefault(iss, country)
            else:
                self.refuse(source, iss, -1, "country must be an ISO 3166-1 alpha-2 code")
        keys = self.keys.setdefault(iss, {})
        if "keys" in entry or keys_required:
            key_list = entry.get("keys")
            if isinstance(key_list, Mapping):  # {"keys": {"keys": [...]}} (a JWKS object)
                key_list = key_list.get("keys")
            if not isinstance(key_list, list):
                self.refuse(source, iss, -1, "keys must be a list of JWKs")
            else:
                for index, jwk in enumerate(key_list):
                    try:
                        key = _parse_jwk(jwk)
                    except _KeyProblem as exc:
                        self.refuse(source, iss, index, str(exc))
                        continue
                    if key is not None:
                        keys[key.kid] = key
        crl_list = entry.get("crls", [])
        if not isinstance(crl_list, list):
            self.refuse(source, iss, -1, "crls must be a list")
            return
        crls = self.crls.setdefault(iss, {})
        for crl_document in crl_list:
            try:
                crl = _parse_crl(crl_document)
            except _KeyProblem as exc:
                self.refuse(source, iss, -1, str(exc))
                continue
            known = crls.get(crl.kid)
            if known is None or crl.counter > known.counter:
                crls[crl.kid] = crl

    def build(self) -> ShcTrust:
        issuers = [
            ShcIssuer(
                iss=iss,
                name=self.names.get(iss),
                country=self.countries.get(iss),
                keys=MappingProxyType(dict(self.keys.get(iss, {}))),
                crls=MappingProxyType(dict(self.crls.get(iss, {}))),
                canonical_iss=self.canonical.get(iss),
            )
            for iss in sorted(set(self.keys) | set(self.names))
        ]
        return ShcTrust(issuers, rejected=self.rejected)


def _read_document(path: Path) -> Any:
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_TRUST_FILE_BYTES + 1)
    except OSError as exc:
        raise ShcTrustError(f"SHC trust: cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_TRUST_FILE_BYTES:
        raise ShcTrustError(f"SHC trust: {path} is larger than {MAX_TRUST_FILE_BYTES} bytes")
    try:
        return json.loads(data.decode("utf-8-sig"), parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise ShcTrustError(f"SHC trust: {path} is not valid JSON") from None


def _no_constant(name: str) -> Any:
    raise ValueError("NaN and Infinity are not JSON")


def _json_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    for item in paths:
        path = Path(item)
        if path.is_dir():
            yield from sorted(p for p in path.iterdir() if p.suffix.lower() == ".json" and p.is_file())
        elif path.exists():
            yield path
        else:
            raise ShcTrustError(f"SHC trust: {path} does not exist")


class ShcTrust:
    """The set of trusted SHC issuers (immutable).  Look-ups by ``iss`` and by key ``kid``."""

    __slots__ = ("_by_kid", "_issuers", "_rejected")

    def __init__(self, issuers: Iterable[ShcIssuer] = (), *, rejected: Sequence[RejectedKey] = ()) -> None:
        by_iss: dict[str, ShcIssuer] = {}
        for issuer in issuers:
            if issuer.iss in by_iss:
                raise ShcTrustError(f"SHC trust: issuer {issuer.iss} given twice")
            by_iss[issuer.iss] = issuer
        by_kid: dict[str, list[tuple[ShcIssuer, ShcKey]]] = {}
        for issuer in by_iss.values():
            for key in issuer.keys.values():
                by_kid.setdefault(key.kid, []).append((issuer, key))
        self._issuers: Mapping[str, ShcIssuer] = MappingProxyType(by_iss)
        self._by_kid = {kid: tuple(found) for kid, found in by_kid.items()}
        self._rejected = tuple(rejected)

    # -- loading -------------------------------------------------------------------------

    @classmethod
    def from_jwks(
        cls,
        iss: str,
        jwks: Mapping[str, Any],
        *,
        name: str | None = None,
        country: str | None = None,
        strict: bool = True,
    ) -> ShcTrust:
        """Trust one issuer's JWKS (``{"keys": [...]}``, as published at ``<iss>/.well-known/jwks.json``)."""
        document: dict[str, Any] = {"iss": iss, "keys": jwks.get("keys") if isinstance(jwks, Mapping) else None}
        if name is not None:
            document["name"] = name
        if country is not None:
            document["country"] = country
        if isinstance(jwks, Mapping) and "crls" in jwks:
            document["crls"] = jwks["crls"]
        return cls.from_documents([document], strict=strict)

    @classmethod
    def from_documents(cls, documents: Iterable[Any], *, strict: bool = True) -> ShcTrust:
        """Trust the issuers of parsed JSON documents (any of the three shapes, merged by ``iss``)."""
        builder = _Builder(strict)
        for position, document in enumerate(documents):
            builder.add_document(document, f"document #{position}")
        return builder.build()

    @classmethod
    def from_paths(cls, paths: Iterable[str | os.PathLike[str]], *, strict: bool = True) -> ShcTrust:
        """Trust the issuers in JSON files and directories of ``*.json`` files (merged by ``iss``)."""
        builder = _Builder(strict)
        for path in _json_files(paths):
            builder.add_document(_read_document(path), path.name)
        return builder.build()

    @classmethod
    def from_json(cls, data: bytes | str, *, strict: bool = True) -> ShcTrust:
        """Load what :meth:`to_json` wrote (or any one trust document)."""
        try:
            text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
            document = json.loads(text, parse_constant=_no_constant)
        except (ValueError, RecursionError):
            raise ShcTrustError("SHC trust: not valid JSON") from None
        return cls.from_documents([document], strict=strict)

    # -- saving --------------------------------------------------------------------------

    def to_document(self) -> dict[str, Any]:
        """A VCI-snapshot-shaped document holding every issuer, key and revocation list."""
        return {
            "format": _FORMAT,
            "issuerInfo": [self._issuers[iss].to_document() for iss in sorted(self._issuers)],
        }

    def to_json(self) -> bytes:
        """Deterministic JSON bytes of :meth:`to_document` (sorted keys, no whitespace)."""
        return json.dumps(self.to_document(), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    # -- queries ---------------------------------------------------------------------------

    @property
    def issuers(self) -> Mapping[str, ShcIssuer]:
        """Trusted issuers by ``iss``."""
        return self._issuers

    @property
    def rejected(self) -> tuple[RejectedKey, ...]:
        """Keys and entries skipped while loading with ``strict=False``."""
        return self._rejected

    @property
    def issuers_without_keys(self) -> tuple[str, ...]:
        """Issuers named (e.g. by a VCI issuer list) whose keys were not loaded."""
        return tuple(iss for iss, issuer in self._issuers.items() if not issuer.keys)

    def issuer(self, iss: str) -> ShcIssuer | None:
        """The trusted issuer with this ``iss``, or None."""
        return self._issuers.get(iss)

    def candidates(self, kid: str) -> tuple[tuple[ShcIssuer, ShcKey], ...]:
        """Every (issuer, key) whose thumbprint is ``kid`` (normally one)."""
        return self._by_kid.get(kid, ())

    def merged(self, other: ShcTrust) -> ShcTrust:
        """This trust plus ``other`` (issuers with the same ``iss`` get the union of keys)."""
        builder = _Builder(strict=True)
        for trust in (self, other):
            builder.add_document(trust.to_document(), "merge")
        merged = builder.build()
        return ShcTrust(merged.issuers.values(), rejected=self._rejected + other._rejected)

    def __len__(self) -> int:
        return len(self._issuers)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ShcTrust) and self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash(self.to_json())

    def __repr__(self) -> str:
        keys = sum(len(issuer.keys) for issuer in self._issuers.values())
        return f"ShcTrust(issuers={len(self._issuers)}, keys={keys})"

