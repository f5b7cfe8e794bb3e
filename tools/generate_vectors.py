"""vaxcert's own vector set, in the dgc-testdata format, byte-for-byte reproducible.

A development tool, not part of the wheel (it signs with published TEST-ONLY keys)::

    .venv/bin/python tools/generate_vectors.py test_vectors [--keys DIR] \
        [--fingerprints src/vaxcert/data/published_test_keys.json]

It refuses (exit 2) a keys folder or output folder that already holds keys or certificates other
than this set's own TEST-ONLY files, so it cannot plant test keys among a real signer's.  Every
test certificate says ``TEST ONLY`` in its subject.  ``--fingerprints FILE`` records the kid and
public-key fingerprint of every test key in the list the verifier warns about
(:mod:`vaxcert.trust.testkeys`); keys no longer used stay listed as retired (they were published).

:func:`generate` writes ``<out>/<folder>/2DCode/raw/<id>.json`` for every case in :data:`CASES`
and ``<out>/README.md`` describing how each file was made.  Reproducibility rests on:

* **fixed keys and certificates**, read from a keys folder (``test_vectors/keys/`` in the
  repository: published TEST-ONLY keys, never to be trusted anywhere).  When the folder lacks
  them, new ones are created there once (random serial numbers and keys), and from then on every
  run with that folder gives the same bytes;
* **fixed clocks** (:data:`ISSUED_AT`, :data:`VALIDATION_CLOCK`): nothing reads the system clock;
* **deterministic signatures**: ES256 with RFC 6979 nonces (``cryptography``'s
  ``deterministic_signing``); PS256 with a salt derived from the signed bytes (see
  :class:`FixedSaltPssSigner`), since ``cryptography`` draws PSS salts at random and offers no way
  to pass one;
* **deterministic encoders**: CBOR (cbor2), zlib (zlib-ng) and PNG (vaxcert.qr, Pillow, segno).
  Compressed bytes may differ between *versions* of zlib-ng or of the PNG encoders; the test
  that regenerates the set then fails, and the set is regenerated and reviewed.

Every case says what it tests, how it was made, and which expectations it states.  A case
states the checks its defect decides, the checks of the stages before the defect (which must
still pass) and the checks that read only untouched fields; checks whose outcome would depend
on how a runner reports a failure of an earlier stage are left unstated.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import io
import json
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import cbor2
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.x509.oid import NameOID

from vaxcert.dcc import uvci
from vaxcert.errors import ConfigurationError
from vaxcert.pki.certificates import create_csca, create_dsc
from vaxcert.pki.encoding import kid_of_der
from vaxcert.pki.keys import KeySigner, PrivateKey
from vaxcert.stages import base45, compression, cose, prefix
from vaxcert.vectors.format import CHECKS

__all__ = [
    "CASES",
    "ISSUED_AT",
    "SIGNERS",
    "TEST_ONLY_MARK",
    "VALIDATION_CLOCK",
    "Case",
    "FixedSaltPssSigner",
    "TestPki",
    "check_keys_folder",
    "check_output_folder",
    "fingerprints",
    "generate",
    "load_or_create_pki",
    "write_fingerprints",
]

#: When every certificate of the set was issued, and the clock the files validate at.
ISSUED_AT: Final = dt.datetime(2026, 5, 1, 8, 0, tzinfo=dt.UTC)
VALIDATION_CLOCK: Final = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
EXPIRES_AT: Final = ISSUED_AT + dt.timedelta(days=365)
#: Validity of the test CSCA and DSCs (created once; see :func:`load_or_create_pki`).
PKI_FROM: Final = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
SCHEMA_VERSION: Final = "1.3.0"
COUNTRY: Final = "VN"
ISSUER_NAME: Final = "Bộ Y tế Việt Nam (Ministry of Health of Viet Nam)"

_ISO: Final = "%Y-%m-%dT%H:%M:%SZ"
_ALG_ES384: Final = -35
#: In the subject (common name) of every test certificate.
TEST_ONLY_MARK: Final = "TEST ONLY"
#: Files that hold, or usually hold, keys or certificates.
_KEY_MATERIAL_SUFFIXES: Final = frozenset({".pem", ".key", ".crt", ".cer", ".der", ".p8", ".p12", ".pfx", ".jks",
                                           ".csr"})
_KEY_BANNER: Final = (
    b"TEST-ONLY KEY, PUBLISHED WITH VAXCERT'S TEST VECTORS. NEVER TRUST OR USE IT FOR REAL CERTIFICATES.\n"
)

# ---------------------------------------------------------------------------------------------
# The test PKI


@dataclass(frozen=True, slots=True)
class _SignerSpec:
    name: str
    kind: str  # "ec", "rsa2048", "rsa3072", "p384"
    types: tuple[str, ...] | None  # None: a DSC without any key-usage OID
    facility: str


#: The DSCs of the set (all issued by one test CSCA).
SIGNERS: Final = (
    _SignerSpec("dsc-es256", "ec", ("v", "t", "r"), "VXT-ES256"),
    _SignerSpec("dsc-ps256-rsa2048", "rsa2048", ("v", "t", "r"), "VXT-PS256-2048"),
    _SignerSpec("dsc-ps256-rsa3072", "rsa3072", ("v", "t", "r"), "VXT-PS256-3072"),
    _SignerSpec("dsc-es256-test-only", "ec", ("t",), "VXT-TEST-ONLY"),
    _SignerSpec("dsc-es256-vaccination-only", "ec", ("v",), "VXT-VACC-ONLY"),
    _SignerSpec("dsc-es256-recovery-only", "ec", ("r",), "VXT-RECOVERY-ONLY"),
    _SignerSpec("dsc-es256-no-key-usage", "ec", None, "VXT-NO-OID"),
    _SignerSpec("dsc-p384", "p384", ("v", "t", "r"), "VXT-P384"),
)


@dataclass(frozen=True, slots=True)
class TestPki:
    """The test CSCA and DSCs, by name.  ``repr`` shows names only."""

    csca: x509.Certificate
    keys: Mapping[str, PrivateKey]
    certificates: Mapping[str, x509.Certificate]

    def der(self, name: str) -> bytes:
        """The DER of one DSC."""
        return self.certificates[name].public_bytes(serialization.Encoding.DER)

    def kid(self, name: str) -> bytes:
        """The kid of one DSC: SHA-256 of its DER, first 8 bytes."""
        return kid_of_der(self.der(name))

    def __repr__(self) -> str:
        return f"TestPki(signers={sorted(self.certificates)}, keys=<redacted>)"


def _new_key(kind: str) -> PrivateKey:
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "p384":
        return ec.generate_private_key(ec.SECP384R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=int(kind[3:]))


def _dsc_without_key_usage(key: PrivateKey, csca: x509.Certificate, csca_key: PrivateKey,
                           facility: str) -> x509.Certificate:
    """A DSC with no extended-key-usage extension at all (it may sign every type)."""
    subject = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, COUNTRY),
        x509.NameAttribute(NameOID.COMMON_NAME, f"vaxcert {TEST_ONLY_MARK} signer {facility}"),
        x509.NameAttribute(NameOID.SERIAL_NUMBER, facility),
    ])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(csca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(PKI_FROM)
        .not_valid_after(PKI_FROM + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
    )
    return builder.sign(csca_key, hashes.SHA256())


def _write_key(path: Path, key: PrivateKey) -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path.write_bytes(_KEY_BANNER + pem)


def _read_key(path: Path) -> PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ConfigurationError(f"{path}: unsupported key type")
    return key


def _key_path(keys_dir: Path, name: str) -> Path:
    return keys_dir / f"TEST-ONLY-{name}.key.pem"


def _own_file_names() -> frozenset[str]:
    names = ["csca", *(spec.name for spec in SIGNERS)]
    return frozenset({*(f"TEST-ONLY-{n}.key.pem" for n in names), *(f"{n}.pem" for n in names)})


def _is_key_material(path: Path) -> bool:
    """A file that holds (or by its name would hold) a key, a certificate or a request."""
    if path.suffix.lower() in _KEY_MATERIAL_SUFFIXES:
        return True
    try:
        with path.open("rb") as fh:
            head = fh.read(65536)
    except OSError:
        return False
    return b"-----BEGIN " in head


def _refuse(path: Path, why: str) -> ConfigurationError:
    return ConfigurationError(
        f"refusing to write vaxcert's published TEST-ONLY keys here: {path} {why}. Test keys must never sit "
        f"beside real keys or certificates (a verifier trusting the folder would accept test certificates); "
        f"choose an empty folder"
    )


def check_keys_folder(keys_dir: Path) -> None:
    """Raise :class:`ConfigurationError` unless ``keys_dir`` is missing, empty, or holds only this set's files.

    This set's files are the ``TEST-ONLY-*.key.pem`` keys (under their banner) and the certificates
    whose subject says ``TEST ONLY``; any other key or certificate (a real signer's ``dsc.pem``,
    ``csca.key.pem``, ...) makes the folder unusable, as does one of ours without its marking.
    """
    if not keys_dir.exists():
        return
    if not keys_dir.is_dir():
        raise _refuse(keys_dir, "is not a folder")
    own = _own_file_names()
    for path in sorted(p for p in keys_dir.rglob("*") if p.is_file()):
        if not _is_key_material(path):
            continue
        if path.parent != keys_dir or path.name not in own:
            raise _refuse(path, "holds a key or certificate that is not one of the test set's")
        data = path.read_bytes()
        if path.name.endswith(".key.pem"):
            if not data.startswith(_KEY_BANNER):
                raise _refuse(path, "is a key without the TEST-ONLY banner")
            continue
        try:
            subject = x509.load_pem_x509_certificate(data).subject.rfc4514_string()
        except ValueError:
            raise _refuse(path, "is not a readable certificate") from None
        if TEST_ONLY_MARK not in subject:
            raise _refuse(path, f"is a certificate whose subject does not say {TEST_ONLY_MARK} (an old test set? "
                                "delete the folder to create new test keys)")


def check_output_folder(out_dir: Path, keys_dir: Path) -> None:
    """Refuse an output folder holding keys or certificates outside ``keys_dir`` (checked on its own)."""
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise _refuse(out_dir, "is not a folder")
    keys = keys_dir.resolve()
    for path in sorted(p for p in out_dir.rglob("*") if p.is_file()):
        if keys in path.resolve().parents:
            continue
        if _is_key_material(path):
            raise _refuse(path, "is a key or certificate in the output folder")


def load_or_create_pki(keys_dir: Path) -> TestPki:
    """The test PKI from ``keys_dir``; missing keys and certificates are created there first.

    A missing CSCA recreates every DSC (they must be signed by it).  Keys are written as
    unencrypted PKCS#8 PEM under a banner saying they are published test keys.  A folder holding
    other keys or certificates is refused (:func:`check_keys_folder`).
    """
    check_keys_folder(keys_dir)
    keys_dir.mkdir(parents=True, exist_ok=True)
    csca_key_path, csca_path = _key_path(keys_dir, "csca"), keys_dir / "csca.pem"
    fresh_csca = not (csca_key_path.exists() and csca_path.exists())
    if fresh_csca:
        csca_key = _new_key("ec")
        csca_cert = create_csca(csca_key, country=COUNTRY, name=f"vaxcert {TEST_ONLY_MARK} CSCA", now=PKI_FROM,
                                valid_days=7300)
        _write_key(csca_key_path, csca_key)
        csca_path.write_bytes(csca_cert.public_bytes(serialization.Encoding.PEM))
    csca_key = _read_key(csca_key_path)
    csca_cert = x509.load_pem_x509_certificate(csca_path.read_bytes())
    keys: dict[str, PrivateKey] = {}
    certs: dict[str, x509.Certificate] = {}
    for spec in SIGNERS:
        key_path, cert_path = _key_path(keys_dir, spec.name), keys_dir / f"{spec.name}.pem"
        if fresh_csca or not (key_path.exists() and cert_path.exists()):
            key = _new_key(spec.kind)
            if spec.types is None:
                cert = _dsc_without_key_usage(key, csca_cert, csca_key, spec.facility)
            else:
                cert = create_dsc(key, csca=csca_cert, csca_key=csca_key, facility_id=spec.facility,
                                  facility_name=f"vaxcert {TEST_ONLY_MARK} signer {spec.facility}", now=PKI_FROM,
                                  types=spec.types, valid_days=3650)
            _write_key(key_path, key)
            cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        keys[spec.name] = _read_key(key_path)
        certs[spec.name] = x509.load_pem_x509_certificate(cert_path.read_bytes())
    return TestPki(csca_cert, keys, certs)


# ---------------------------------------------------------------------------------------------
# Deterministic signing


class FixedSaltPssSigner:
    """RSASSA-PSS (SHA-256, MGF1-SHA-256, 32-byte salt) with a salt derived from the message.

    For reproducible *test vectors* only.  ``cryptography`` always draws a random salt, so this
    class encodes EMSA-PSS itself (RFC 8017, 9.1.1) with ``salt = SHA-256(label ‖ message)`` and
    applies the RSA private key (CRT) to it.  Every signature is checked with ``cryptography``'s
    own PSS verification before it is returned, so an encoding mistake cannot produce a vector
    silently.  A PSS verifier cannot tell this salt from a random one.
    """

    _LABEL: Final = b"vaxcert test-vector PSS salt\x00"
    _SALT_LENGTH: Final = 32

    def __init__(self, key: rsa.RSAPrivateKey, kid: bytes) -> None:
        self._key = key
        self._kid = kid

    @property
    def algorithm(self) -> int:
        return cose.ALG_PS256

    @property
    def kid(self) -> bytes:
        return self._kid

    @staticmethod
    def _mgf1(seed: bytes, length: int) -> bytes:
        out = b""
        counter = 0
        while len(out) < length:
            out += hashlib.sha256(seed + counter.to_bytes(4, "big")).digest()
            counter += 1
        return out[:length]

    def sign(self, data: bytes) -> bytes:
        """The PSS signature of ``data`` (as many bytes as the modulus)."""
        numbers = self._key.private_numbers()
        n = numbers.public_numbers.n
        mod_bits = n.bit_length()
        em_bits = mod_bits - 1
        em_len = (em_bits + 7) // 8
        h_len = 32
        salt = hashlib.sha256(self._LABEL + data).digest()[: self._SALT_LENGTH]
        m_hash = hashlib.sha256(data).digest()
        h = hashlib.sha256(b"\x00" * 8 + m_hash + salt).digest()
        db = b"\x00" * (em_len - self._SALT_LENGTH - h_len - 2) + b"\x01" + salt
        masked = bytes(a ^ b for a, b in zip(db, self._mgf1(h, em_len - h_len - 1), strict=True))
        masked = bytes([masked[0] & (0xFF >> (8 * em_len - em_bits))]) + masked[1:]
        em = int.from_bytes(masked + h + b"\xbc", "big")
        p, q = numbers.p, numbers.q
        m1, m2 = pow(em, numbers.dmp1, p), pow(em, numbers.dmq1, q)
        signature = ((numbers.iqmp * (m1 - m2)) % p * q + m2).to_bytes((mod_bits + 7) // 8, "big")
        try:
            self._key.public_key().verify(
                signature, data, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256()
            )
        except InvalidSignature:  # pragma: no cover - would be a bug in the encoding above
            raise RuntimeError("fixed-salt PSS signature failed its own check") from None
        return signature


class _EcdsaRawSigner:
    """ECDSA with RFC 6979 nonces over any curve and hash, r‖s output (for the CO4 / I-CO3 cases)."""

    def __init__(self, key: ec.EllipticCurvePrivateKey, algorithm: int, kid: bytes,
                 hash_algorithm: hashes.HashAlgorithm) -> None:
        self._key = key
        self._algorithm = algorithm
        self._kid = kid
        self._hash = hash_algorithm

    @property
    def algorithm(self) -> int:
        return self._algorithm

    @property
    def kid(self) -> bytes:
        return self._kid

    def sign(self, data: bytes) -> bytes:
        size = (self._key.curve.key_size + 7) // 8
        der = self._key.sign(data, ec.ECDSA(self._hash, deterministic_signing=True))
        r, s = decode_dss_signature(der)
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def _signer_for(pki: TestPki, name: str, alg: int | None = None) -> cose.SignerLike:
    key = pki.keys[name]
    if alg == _ALG_ES384 and isinstance(key, ec.EllipticCurvePrivateKey):
        return _EcdsaRawSigner(key, _ALG_ES384, pki.kid(name), hashes.SHA384())
    if isinstance(key, rsa.RSAPrivateKey):
        return FixedSaltPssSigner(key, pki.kid(name))
    if isinstance(key.curve, ec.SECP256R1):
        return KeySigner(key, pki.certificates[name], deterministic=True)
    return _EcdsaRawSigner(key, cose.ALG_ES256, pki.kid(name), hashes.SHA256())


# ---------------------------------------------------------------------------------------------
# Payloads (fictitious people)


def _person(fn: str, fnt: str, gn: str, gnt: str, dob: str, ver: str = SCHEMA_VERSION) -> dict[str, Any]:
    return {"ver": ver, "nam": {"fn": fn, "fnt": fnt, "gn": gn, "gnt": gnt}, "dob": dob}


def _uvci(case_id: str) -> str:
    """A canonical UVCI (with its check character) whose opaque part names the case."""
    return uvci.generate(COUNTRY, issuer_entity="VXT", unique="".join(ch for ch in case_id if ch.isalnum()))


def _vaccination(case_id: str, *, dn: int, sd: int, mp: str = "EU/1/21/1529", ma: str = "ORG-100001699",
                 vp: str = "29061000087103", day: str = "2026-04-20") -> dict[str, Any]:
    return {"v": [{"tg": "840539006", "vp": vp, "mp": mp, "ma": ma, "dn": dn, "sd": sd, "dt": day,
                   "co": COUNTRY, "is": ISSUER_NAME, "ci": _uvci(case_id)}]}


def _test(case_id: str, *, rapid: bool = False, result: str = "260415000",
          sample: str = "2026-04-30T07:30:00Z") -> dict[str, Any]:
    entry: dict[str, Any] = {"tg": "840539006", "tt": "LP217198-3" if rapid else "LP6464-4"}
    if rapid:
        entry["ma"] = "1232"
    else:
        entry["nm"] = "Xét nghiệm RT-PCR SARS-CoV-2"
    entry.update({"sc": sample, "tr": result, "tc": "Bệnh viện Bạch Mai", "co": COUNTRY, "is": ISSUER_NAME,
                  "ci": _uvci(case_id)})
    return {"t": [entry]}


def _recovery(case_id: str) -> dict[str, Any]:
    return {"r": [{"tg": "840539006", "fr": "2026-03-02", "co": COUNTRY, "is": ISSUER_NAME,
                   "df": "2026-03-13", "du": "2026-08-29", "ci": _uvci(case_id)}]}


_LAN: Final = _person("Nguyễn", "NGUYEN", "Văn Lân", "VAN<LAN", "1985-03-14")


def _payload(case_id: str, kind: str, person: Mapping[str, Any] = _LAN) -> dict[str, Any]:
    if kind == "v":
        entry = _vaccination(case_id, dn=2, sd=2)
    else:
        entry = _test(case_id) if kind == "t" else _recovery(case_id)
    return {**person, **entry}


# ---------------------------------------------------------------------------------------------
# Cases


ALL_TRUE: Final = dict.fromkeys(CHECKS, True)


@dataclass(frozen=True, slots=True)
class Case:
    """One vector file: what it tests, how it is made and what it expects."""

    id: str
    folder: str  # "common" (a BasicDgcTestsList row) or "VN"
    description: str
    how: str  # for the README: how the file was made
    payload: Mapping[str, Any]
    signer: str = "dsc-es256"
    schema: str = SCHEMA_VERSION
    expected: Mapping[str, bool] = field(default_factory=lambda: dict(ALL_TRUE))
    # knobs
    alg: int | None = None  # algorithm header (default: the signer's)
    kid_protected: bytes | str | None = "signer"  # "signer": the DSC's kid; None: absent
    kid_unprotected: bytes | str | None = None
    cwt_tag: bool = False  # wrap tag 18 in the CWT tag 61
    float_times: bool = False
    claims: bytes | None = None  # replaces the encoded CWT claims
    cbor_field: bytes | None = None  # replaces the CBOR field
    signature: Callable[[bytes], bytes] | None = None  # transforms the signature
    compressed: Callable[[bytes, bytes], bytes] | None = None  # (zlib stream, COSE) -> what Base45 encodes
    base45_text: Callable[[str], str] | None = None  # transforms the Base45 text (before the prefix)
    prefix_text: Callable[[str], str] | None = None  # transforms the prefixed text
    picture: str = "alphanumeric"  # "alphanumeric", "byte" (Q2), "broken" (Q1), "none"
    clock: dt.datetime = VALIDATION_CLOCK


def _stated(**overrides: bool | None) -> dict[str, bool]:
    """ALL_TRUE with overrides; None removes a check from the stated ones."""
    out: dict[str, bool] = dict(ALL_TRUE)
    for short, value in overrides.items():
        name = "EXPECTED" + short
        if value is None:
            out.pop(name, None)
        else:
            out[name] = value
    return out


def _der_signature(sig: bytes) -> bytes:
    """An ES256 r‖s signature re-encoded as ASN.1 DER (what some issuers wrongly sent)."""
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    # Zero bytes follow when needed, so that it is longer than 70 bytes as the row asks.
    return der if len(der) > 70 else der + b"\x00" * (71 - len(der))


def _flip_last_byte(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0x01])


def _corrupt_checksum(data: bytes) -> bytes:
    return data[:-4] + bytes(b ^ 0xFF for b in data[-4:])


def _claims_around(payload_bytes: bytes) -> bytes:
    """CWT claims {1: iss, 6: iat, 4: exp, -260: {1: <payload_bytes as they are>}}, encoded by hand
    so that malformed payload bytes can be embedded."""
    head = b"".join(cbor2.dumps(item) for item in (
        1, COUNTRY, 6, int(ISSUED_AT.timestamp()), 4, int(EXPIRES_AT.timestamp()), -260))
    return b"\xa4" + head + b"\xa1\x01" + payload_bytes


def _cases() -> Iterator[Case]:
    def v(cid: str) -> dict[str, Any]:
        return _payload(cid, "v")

    def t(cid: str) -> dict[str, Any]:
        return _payload(cid, "t")

    def r(cid: str) -> dict[str, Any]:
        return _payload(cid, "r")

    # -- valid certificates for each algorithm and type --------------------------------------------
    for signer, label in (("dsc-es256", "ES256"), ("dsc-ps256-rsa2048", "PS256-RSA2048"),
                          ("dsc-ps256-rsa3072", "PS256-RSA3072")):
        for kind, make, what in (("v", v, "vaccination 2/2"), ("t", t, "negative RT-PCR test"),
                                 ("r", r, "recovery")):
            cid = f"{label}-{kind}"
            yield Case(cid, "VN", f"VALID: {what}, {label}",
                       f"Signed with {signer}; all fields from one issuance.", make(cid), signer=signer)

    # -- Vietnamese cases --------------------------------------------------------------------------
    hang = _person("Trần", "TRAN", "Thị Thu Hằng", "THI<THU<HANG", "1990-07-02")
    yield Case("diacritics", "VN", "VALID: Vietnamese diacritics in every name part (NFC), ICAO transliteration",
               "Names with tone marks and đ/ơ/ư written in NFC; fnt/gnt are the ICAO 9303 forms.",
               {**_person("Đặng", "DANG", "Thị Ngọc Hương", "THI<NGOC<HUONG", "1979-11-30"),
                **_vaccination("diacritics", dn=2, sd=2)})
    yield Case("booster-3of3", "VN", "VALID: booster 3/3 with Comirnaty after a Vaxzevria primary series",
               "Dose 3 of 3 (booster) with an mRNA product; the primary series is not in the certificate.",
               {**hang, **_vaccination("booster-3of3", dn=3, sd=3, mp="EU/1/20/1528", ma="ORG-100030215",
                                       vp="1119349007")})
    yield Case("mixed-products", "VN", "VALID: mixed schedule: dose 2/2 Comirnaty after dose 1 Vaxzevria",
               "A heterologous primary series: the certificate carries the last dose (Comirnaty) only.",
               {**hang, **_vaccination("mixed-products", dn=2, sd=2, mp="EU/1/20/1528", ma="ORG-100030215",
                                       vp="1119349007")})
    yield Case("sinopharm-2of2", "VN", "VALID: Sinopharm BBIBP-CorV 2/2 (a non-EMA product Viet Nam used)",
               "Product BBIBP-CorV, manufacturer ORG-100020693, inactivated whole-virus vaccine.",
               {**_LAN, **_vaccination("sinopharm-2of2", dn=2, sd=2, mp="BBIBP-CorV", ma="ORG-100020693",
                                       vp="1157024006")})
    yield Case("moderna-booster-4of4", "VN", "VALID: second booster 4/4 with Spikevax",
               "Dose 4 of 4 with Spikevax.",
               {**_LAN, **_vaccination("moderna-booster-4of4", dn=4, sd=4, mp="EU/1/20/1507",
                                       ma="ORG-100031184", vp="1119349007")})
    yield Case("dob-year-only", "VN", "VALID: birth date known by year only (dob \"1958\")",
               "dob holds only the year, as schema 1.3.0 allows.",
               {**_person("Lê", "LE", "Văn Tám", "VAN<TAM", "1958"), **_vaccination("dob-year-only", dn=2, sd=2)})
    yield Case("dob-year-month", "VN", "VALID: birth date known by year and month (dob \"1962-09\")",
               "dob holds year and month, as schema 1.3.0 allows.",
               {**_person("Phạm", "PHAM", "Thị Mai", "THI<MAI", "1962-09"),
                **_vaccination("dob-year-month", dn=1, sd=2)})
    yield Case("rapid-test", "VN", "VALID: negative rapid antigen test (device 1232)",
               "tt LP217198-3 with the device identifier ma instead of nm.",
               {**_LAN, **_test("rapid-test", rapid=True)})

    # -- BasicDgcTestsList: one case per row -------------------------------------------------------
    yield Case("Q1", "common", "INVALID: QR encoding broken",
               "The 2DCODE PNG is the rendered code with its three finder patterns painted over.",
               v("Q1"), picture="broken", expected=_stated(PICTUREDECODE=False))
    yield Case("Q2", "common", "INVALID: QR code in byte mode instead of alphanumeric mode",
               "The 2DCODE PNG encodes the same PREFIX text in one byte-mode segment (segno, mode='byte').",
               v("Q2"), picture="byte", expected=_stated(PICTUREDECODE=False))
    yield Case("H1", "common", "INVALID: context identifier does not match the schema (HL0:)",
               "PREFIX starts with 'HL0:' instead of 'HC1:'.",
               v("H1"), prefix_text=lambda s: "HL0:" + s[4:], expected=_stated(UNPREFIX=False, VALIDJSON=False))
    yield Case("H2", "common", "INVALID: context identifier not supported (HC2:)",
               "PREFIX starts with 'HC2:' instead of 'HC1:'.",
               v("H2"), prefix_text=lambda s: "HC2:" + s[4:], expected=_stated(UNPREFIX=False, VALIDJSON=False))
    yield Case("H3", "common", "INVALID: context identifier missing (Base45 only)",
               "PREFIX is the Base45 text without any context identifier.",
               v("H3"), prefix_text=lambda s: s[4:], expected=_stated(UNPREFIX=False, VALIDJSON=False))
    yield Case("B1", "common", "INVALID: Base45 with characters outside the alphabet",
               "Two characters of the Base45 text are replaced by lower-case letters (no 2DCODE: a QR "
               "code in alphanumeric mode cannot hold them).",
               v("B1"), base45_text=lambda s: s[:10] + "ab" + s[12:], picture="none",
               expected=_stated(PICTUREDECODE=None, B45DECODE=False, VALIDJSON=False))
    yield Case("Z1", "common", "INVALID: zlib stream broken (wrong Adler-32 checksum)",
               "The last four bytes of the zlib stream (its checksum) are inverted before Base45.",
               v("Z1"), compressed=lambda stream, _cose: _corrupt_checksum(stream),
               expected=_stated(COMPRESSION=False, VALIDJSON=False))
    yield Case("Z2", "common", "INVALID: not compressed",
               "COMPRESSED (and so BASE45 / PREFIX) holds the COSE message itself, not a zlib stream.",
               v("Z2"), compressed=lambda _stream, message: message,
               expected=_stated(COMPRESSION=False, VALIDJSON=False))
    yield Case("CO1", "common", "VALID: PS256 with RSA 2048", "Signed with dsc-ps256-rsa2048.",
               v("CO1"), signer="dsc-ps256-rsa2048")
    yield Case("CO2", "common", "VALID: PS256 with RSA 3072", "Signed with dsc-ps256-rsa3072.",
               v("CO2"), signer="dsc-ps256-rsa3072")
    yield Case("CO3", "common", "VALID: ES256", "Signed with dsc-es256.", v("CO3"))
    # Key usage is judged from the certificate's OIDs and the payload's type, whether or not the
    # signature verifies: these DSCs may sign every type.
    not_verifiable = {"VERIFY": False, "KEYUSAGE": True}
    unstated_after_cose = {"DECODE": None, "EXPIRATIONCHECK": None, "VALIDJSON": None}
    yield Case("CO4", "common", "INVALID: algorithm ES384 (-35), neither ES256 nor PS256",
               "A correct ES384 signature (P-384 key, SHA-384) with alg -35 in the protected header.",
               v("CO4"), signer="dsc-p384", alg=_ALG_ES384, expected=_stated(**not_verifiable, **unstated_after_cose))
    yield Case("CO5", "common", "INVALID: signature cryptographically invalid",
               "The last bit of an otherwise correct ES256 signature is flipped.",
               v("CO5"), signature=_flip_last_byte, expected=_stated(**not_verifiable))
    usage = (("CO6", "dsc-es256-test-only", "v", "OID for test, certificate is a vaccination", False),
             ("CO7", "dsc-es256-test-only", "r", "OID for test, certificate is a recovery", False),
             ("CO8", "dsc-es256-vaccination-only", "t", "OID for vaccination, certificate is a test", False),
             ("CO9", "dsc-es256-vaccination-only", "r", "OID for vaccination, certificate is a recovery", False),
             ("CO10", "dsc-es256-recovery-only", "v", "OID for recovery, certificate is a vaccination", False),
             ("CO11", "dsc-es256-recovery-only", "t", "OID for recovery, certificate is a test", False),
             ("CO12", "dsc-es256-test-only", "t", "OID for test, certificate is a test", True),
             ("CO13", "dsc-es256-vaccination-only", "v", "OID for vaccination, certificate is a vaccination", True),
             ("CO14", "dsc-es256-recovery-only", "r", "OID for recovery, certificate is a recovery", True))
    for cid, signer, kind, what, ok in usage:
        yield Case(cid, "common", f"{'VALID' if ok else 'INVALID'}: {what}",
                   f"Signed with {signer}, whose extended key usage names one certificate type.",
                   _payload(cid, kind), signer=signer, expected=_stated(KEYUSAGE=ok))
    yield Case("CO15", "common", "VALID: no key-usage OID, certificate is a recovery",
               "Signed with dsc-es256-no-key-usage, which has no extended-key-usage extension.",
               r("CO15"), signer="dsc-es256-no-key-usage")
    yield Case("CO16", "common", "INVALID: validation clock before issued-at",
               "VALIDATIONCLOCK is one second before iat.",
               v("CO16"), clock=ISSUED_AT - dt.timedelta(seconds=1), expected=_stated(EXPIRATIONCHECK=False))
    yield Case("CO17", "common", "INVALID: validation clock after expiry",
               "VALIDATIONCLOCK is one second after exp.",
               v("CO17"), clock=EXPIRES_AT + dt.timedelta(seconds=1), expected=_stated(EXPIRATIONCHECK=False))
    wrong_kid = bytes(8)
    yield Case("CO18", "common", "VALID: kid in the protected header only",
               "The usual layout: protected {1: alg, 4: kid}, unprotected {}.", v("CO18"))
    yield Case("CO19", "common", "VALID: kid in the unprotected header only",
               "Protected {1: alg}, unprotected {4: kid}.", v("CO19"), kid_protected=None,
               kid_unprotected="signer")
    yield Case("CO20", "common", "VALID: correct kid in both headers",
               "Protected and unprotected headers both hold the DSC's kid.", v("CO20"), kid_unprotected="signer")
    yield Case("CO21", "common", "VALID: correct kid protected, wrong kid unprotected",
               "The unprotected header holds eight zero bytes; the protected kid wins.",
               v("CO21"), kid_unprotected=wrong_kid)
    yield Case("CO22", "common", "INVALID: wrong kid protected, correct kid unprotected",
               "The protected header holds eight zero bytes; it wins, so no signer matches.",
               v("CO22"), kid_protected=wrong_kid, kid_unprotected="signer", expected=_stated(**not_verifiable))
    yield Case("CO23", "common", "INVALID: no kid protected, wrong kid unprotected",
               "Protected {1: alg}; the unprotected header holds eight zero bytes.",
               v("CO23"), kid_protected=None, kid_unprotected=wrong_kid, expected=_stated(**not_verifiable))
    yield Case("CO24", "common", "INVALID: ECDSA signature longer than 70 bytes (DER instead of r‖s)",
               "The correct ES256 signature re-encoded as ASN.1 DER, at least 71 bytes (zero bytes are appended "
               "when the DER form is shorter); must not crash.",
               v("CO24"), signature=_der_signature, expected=_stated(**not_verifiable))
    yield Case("CO25", "common", "INVALID: kid of 7 bytes",
               "The protected kid is the DSC's kid without its last byte.",
               v("CO25"), kid_protected="signer[:7]", expected=_stated(**not_verifiable, **unstated_after_cose))
    yield Case("CO26", "common", "INVALID: kid of 9 bytes",
               "The protected kid is the DSC's kid followed by one zero byte.",
               v("CO26"), kid_protected="signer+00", expected=_stated(**not_verifiable, **unstated_after_cose))
    yield Case("CO27", "common", "INVALID: algorithm does not match the key (PS256 header, EC key, ECDSA signature)",
               "alg -37 (PS256) in the protected header; signed with the P-256 key of dsc-es256 (ES256).",
               v("CO27"), alg=cose.ALG_PS256, expected=_stated(**not_verifiable))
    yield Case("CO28", "common", "VALID: double tagged (CWT tag 61 around COSE_Sign1 tag 18)",
               "The COSE_Sign1 tag 18 is wrapped in the CWT tag 61.", v("CO28"), cwt_tag=True)
    broken_cbor = cbor2.dumps(v("CBO1"))[:-9]
    yield Case("CBO1", "common", "INVALID: malformed CBOR (truncated payload)",
               "The CBOR field and the DCC payload inside the signed CWT are cut short by 9 bytes; the "
               "signature over the malformed claims is correct.",
               v("CBO1"), cbor_field=broken_cbor,
               claims=_claims_around(broken_cbor),
               expected=_stated(DECODE=False, VERIFY=False, KEYUSAGE=False, EXPIRATIONCHECK=False,
                                SCHEMAVALIDATION=False, VALIDJSON=False, ENCODE=False))
    yield Case("CBO2", "common", "INVALID: CWT claims are an array, not a map",
               "The signed COSE payload is the CBOR array [iss, iat, exp, {1: payload}]; the signature holds.",
               v("CBO2"),
               claims=cbor2.dumps([COUNTRY, int(ISSUED_AT.timestamp()), int(EXPIRES_AT.timestamp()), {1: v("CBO2")}]),
               expected=_stated(DECODE=False, VERIFY=False, KEYUSAGE=False, EXPIRATIONCHECK=False,
                                VALIDJSON=False))
    bad_dn = v("DGC1")
    bad_dn["v"][0]["dn"] = "2"
    yield Case("DGC1", "common", "INVALID: payload does not adhere to the schema (dose number as text)",
               "v[0].dn is the string \"2\" instead of the integer 2.",
               bad_dn, expected=_stated(SCHEMAVALIDATION=False, VALIDOBJECT=False))
    two = _person("Nguyễn", "NGUYEN", "Văn Lân", "VAN<LAN", "1985-03-14", ver="1.2.1")
    first, second = _vaccination("DGC2", dn=1, sd=2, day="2026-02-10"), _vaccination("DGC2B", dn=2, sd=2)
    yield Case("DGC2", "common", "INVALID: adheres to schema 1.2.1 but holds two vaccination entries",
               "Schema 1.2.1 has no maxItems, so the payload validates; a DCC must hold exactly one entry.",
               {**two, "v": first["v"] + second["v"]}, schema="1.2.1",
               expected=_stated(SCHEMAVALIDATION=False))
    yield Case("DGC3", "common", "VALID: negative RT-PCR test", "A NAAT test with nm.", t("DGC3"))
    yield Case("DGC4", "common", "VALID: negative rapid antigen test", "A RAT test with ma 1232.",
               {**_LAN, **_test("DGC4", rapid=True)})
    yield Case("DGC5", "common", "VALID: recovery", "A recovery statement.", r("DGC5"))
    yield Case("DGC6", "common", "VALID: vaccination", "A vaccination 2/2.", v("DGC6"))
    yield Case("DGC7", "common", "AUTHENTIC, NO PASS: test result detected (260373001)",
               "A correct test certificate whose result is 'detected'; EXPECTEDPASS (vaxcert extension) false.",
               {**_LAN, **_test("DGC7", result="260373001")}, expected={**ALL_TRUE, "EXPECTEDPASS": False})
    yield Case("DGC8", "common", "AUTHENTIC, NO PASS: sample collected in the future",
               "sc is one day after VALIDATIONCLOCK (issued with a wrong laboratory clock); EXPECTEDPASS false.",
               {**_LAN, **_test("DGC8", sample=(VALIDATION_CLOCK + dt.timedelta(days=1)).strftime(_ISO))},
               expected={**ALL_TRUE, "EXPECTEDPASS": False})

    # -- issuer quality rows that decide verification ---------------------------------------------
    yield Case("I-CO3", "common", "INVALID: ES256 header with a P-384 key (EC certificates must use P-256)",
               "ECDSA with SHA-256 over P-384 (96-byte r‖s) under alg -7, as in the published ES/401-403.",
               v("I-CO3"), signer="dsc-p384", expected=_stated(**not_verifiable))
    yield Case("I-CO4", "common", "VALID (tolerated): iat and exp as floating-point NumericDates",
               "iat and exp are CBOR floats; RFC 8392 allows them and vaxcert reads them, though issuers "
               "must write integers.", v("I-CO4"), float_times=True)


CASES: Final = tuple(_cases())


# ---------------------------------------------------------------------------------------------
# Building one file


def _kid(case: Case, pki: TestPki, value: bytes | str | None) -> bytes | None:
    kid = pki.kid(case.signer)
    if value == "signer":
        return kid
    if value == "signer[:7]":
        return kid[:7]
    if value == "signer+00":
        return kid + b"\x00"
    assert value is None or isinstance(value, bytes)
    return value


def _claims(case: Case) -> bytes:
    if case.claims is not None:
        return case.claims
    iat: int | float = int(ISSUED_AT.timestamp())
    exp: int | float = int(EXPIRES_AT.timestamp())
    if case.float_times:
        iat, exp = float(iat) + 0.5, float(exp) + 0.5
    return cbor2.dumps({1: COUNTRY, 6: iat, 4: exp, -260: {1: case.payload}})


def _cose(case: Case, pki: TestPki) -> bytes:
    signer = _signer_for(pki, case.signer, case.alg)
    protected: dict[int, Any] = {1: case.alg if case.alg is not None else signer.algorithm}
    kid = _kid(case, pki, case.kid_protected)
    if kid is not None:
        protected[4] = kid
    unprotected: dict[int, Any] = {}
    unprotected_kid = _kid(case, pki, case.kid_unprotected)
    if unprotected_kid is not None:
        unprotected[4] = unprotected_kid
    protected_bytes = cbor2.dumps(protected)
    claims = _claims(case)
    signature = signer.sign(cose.sig_structure(protected_bytes, claims))
    if case.signature is not None:
        signature = case.signature(signature)
    message: Any = cbor2.CBORTag(18, [protected_bytes, unprotected, claims, signature])
    if case.cwt_tag:
        message = cbor2.CBORTag(61, message)
    return cbor2.dumps(message)


def _png_broken(text: str) -> bytes:
    from PIL import Image

    from vaxcert import qr

    image = Image.open(io.BytesIO(qr.render_png(text, scale=2))).convert("L")
    size = image.size[0]
    border, finder = 4 * 2, 9 * 2
    for x, y in ((border, border), (size - border - finder, border), (border, size - border - finder)):
        image.paste(255, (x - 2, y - 2, x + finder, y + finder))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def _png(case: Case, text: str) -> bytes | None:
    from vaxcert import qr

    if case.picture == "none":
        return None
    if case.picture == "broken":
        return _png_broken(text)
    if case.picture == "byte":
        import segno

        out = io.BytesIO()
        segno.make_qr(text, error="q", mode="byte", boost_error=False).save(out, kind="png", scale=2, border=4)
        return out.getvalue()
    return qr.render_png(text, scale=2)


def build(case: Case, pki: TestPki) -> dict[str, Any]:
    """The JSON object of one vector file."""
    cose_bytes = _cose(case, pki)
    zipped = compression.compress(cose_bytes)
    if case.compressed is not None:
        zipped = case.compressed(zipped, cose_bytes)
    text = base45.encode(zipped)
    if case.base45_text is not None:
        text = case.base45_text(text)
    prefixed = prefix.add(text)
    if case.prefix_text is not None:
        prefixed = case.prefix_text(prefixed)
    cbor_field = case.cbor_field if case.cbor_field is not None else cbor2.dumps(case.payload)
    doc: dict[str, Any] = {
        "JSON": case.payload,
        "CBOR": cbor_field.hex(),
        "COSE": cose_bytes.hex(),
        "COMPRESSED": zipped.hex(),
        "BASE45": text,
        "PREFIX": prefixed,
    }
    png = _png(case, prefixed)
    if png is not None:
        doc["2DCODE"] = base64.b64encode(png).decode("ascii")
    doc["TESTCTX"] = {
        "VERSION": 1,
        "SCHEMA": case.schema,
        "CERTIFICATE": base64.b64encode(pki.der(case.signer)).decode("ascii"),
        "VALIDATIONCLOCK": case.clock.strftime(_ISO),
        "DESCRIPTION": case.description,
    }
    order = [*CHECKS, "EXPECTEDPASS"]
    doc["EXPECTEDRESULTS"] = {name: case.expected[name] for name in order if name in case.expected}
    return doc


def _dump(doc: Mapping[str, Any]) -> bytes:
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def case_path(case: Case) -> str:
    """Where a case's file goes, relative to the output folder."""
    return f"{case.folder}/2DCode/raw/{case.id}.json"


def _stated_summary(case: Case) -> str:
    """The stated expectations in short: the false ones, the standard checks left unstated."""
    false = [name.removeprefix("EXPECTED") for name, value in case.expected.items() if not value]
    unstated = [name.removeprefix("EXPECTED") for name in CHECKS if name not in case.expected]
    parts = [f"false: {', '.join(false)}" if false else "all true"]
    if unstated:
        parts.append(f"not stated: {', '.join(unstated)}")
    return "; ".join(parts)


def _readme(pki: TestPki) -> str:
    lines = [
        "# vaxcert test vectors",
        "",
        "Written by `tools/generate_vectors.py test_vectors` (outside the wheel: it signs with published test"
        " keys); do not edit",
        "by hand. The files follow the dgc-testdata format (docs/vectors.md explains it), so any runner",
        "for the published EU DCC vectors can read them; `vaxcert vectors run test_vectors` agrees with",
        "every stated expectation.",
        "",
        "## How the files are made",
        "",
        f"- Issued at {ISSUED_AT.strftime(_ISO)}, expiring {EXPIRES_AT.strftime(_ISO)}; validated at "
        f"{VALIDATION_CLOCK.strftime(_ISO)} unless a case says otherwise.",
        "- Signed by the TEST-ONLY keys in `keys/` (a CSCA and one DSC per signer below; every subject",
        "  says TEST ONLY). They are published: never trust them outside tests (vaxcert warns when a",
        "  trust source contains them). `generate` reuses them; a keys folder without them gets new",
        "  ones, and then a different but equally consistent set; a folder holding other keys or",
        "  certificates is refused.",
        "- ES256: RFC 6979 deterministic ECDSA. PS256: RSASSA-PSS with a 32-byte salt derived from the",
        "  signed bytes (SHA-256 of a label and the message), checked by `cryptography` after signing.",
        "- CBOR by cbor2, zlib by zlib-ng (level 9), QR codes by vaxcert.qr (error correction Q,",
        "  alphanumeric mode, 2 pixels per module) — Q2 by segno in byte mode.",
        "- Payloads follow schema 1.3.0 (DGC2: 1.2.1) and name fictitious people.",
        "- Each negative case states the check its defect decides, the checks of the earlier stages",
        "  (which still pass) and the checks that read only untouched fields. `EXPECTEDPASS` is a",
        "  vaxcert extension (valid at the clock and a pass under the default policy); other runners",
        "  ignore it.",
        "",
        "## Signers",
        "",
        "| name | key | kid (hex) | key usage |",
        "|---|---|---|---|",
    ]
    for spec in SIGNERS:
        kind = {"ec": "P-256", "p384": "P-384", "rsa2048": "RSA 2048", "rsa3072": "RSA 3072"}[spec.kind]
        usage = ", ".join(spec.types) if spec.types else "none (no extended key usage)"
        lines.append(f"| {spec.name} | {kind} | {pki.kid(spec.name).hex()} | {usage} |")
    lines += ["", "## Files", "",
              "Every file states each of the twelve standard checks as true unless listed here.", "",
              "| file | tests | how it was made | stated expectations |", "|---|---|---|---|"]
    for case in CASES:
        lines.append(f"| `{case_path(case)}` | {case.description} | {case.how} | {_stated_summary(case)} |")
    return "\n".join(lines) + "\n"


def fingerprints(pki: TestPki) -> list[dict[str, str]]:
    """Name, kid and SHA-256 of the SubjectPublicKeyInfo of every test certificate (CSCA first)."""
    out = []
    for name, cert in (("csca", pki.csca), *pki.certificates.items()):
        spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                              serialization.PublicFormat.SubjectPublicKeyInfo)  # fmt: skip
        out.append({"name": name, "kid": kid_of_der(cert.public_bytes(serialization.Encoding.DER)).hex(),
                    "spki_sha256": hashlib.sha256(spki).hexdigest()})  # fmt: skip
    return out


def write_fingerprints(path: Path, pki: TestPki) -> None:
    """Record ``pki``'s keys as current in ``path``; keys listed before and not used now become retired."""
    current = fingerprints(pki)
    known = {entry["spki_sha256"] for entry in current}
    retired: list[dict[str, str]] = []
    if path.exists():
        for entry in json.loads(path.read_text(encoding="utf-8")).get("keys", []):
            if entry["spki_sha256"] not in known:
                retired.append({**entry, "status": "retired"})
                known.add(entry["spki_sha256"])
    document = {
        "format": "vaxcert.published-test-keys/1",
        "about": "Keys published with vaxcert's test vectors (test_vectors/keys, written by tools/generate_vectors.py)."
                 " Anyone can sign with them: a verifier warns when a trust source contains one.",
        "keys": [*({**entry, "status": "current"} for entry in current), *retired],
    }  # fmt: skip
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def generate(out_dir: str | Path, *, keys_dir: str | Path | None = None) -> list[Path]:
    """Write the set into ``out_dir``; keys come from ``keys_dir`` (default ``out_dir/keys``).

    Returns the files written (README.md and the vector files), never the keys.  Raises
    :class:`ConfigurationError` for a folder holding other keys or certificates.
    """
    out = Path(out_dir)
    keys = Path(keys_dir) if keys_dir is not None else out / "keys"
    check_output_folder(out, keys)
    pki = load_or_create_pki(keys)
    written: list[Path] = []
    for case in CASES:
        path = out / case_path(case)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_dump(build(case, pki)))
        written.append(path)
    readme = out / "README.md"
    readme.write_text(_readme(pki), encoding="utf-8")
    written.append(readme)
    return written


def main(argv: list[str] | None = None) -> int:
    """``python tools/generate_vectors.py OUT_DIR [--keys DIR]``."""
    parser = argparse.ArgumentParser(description="Write vaxcert's own vector set (the same bytes on every run).")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--keys", dest="keys_dir", type=Path, default=None,
                        help="folder of the TEST-ONLY keys and certificates (default: OUT_DIR/keys; created when "
                             "missing)")  # fmt: skip
    parser.add_argument("--fingerprints", type=Path, default=None,
                        help="also record the test keys' kids and fingerprints in this JSON file "
                             "(src/vaxcert/data/published_test_keys.json: the verifier warns about them)")  # fmt: skip
    args = parser.parse_args(argv)
    try:
        written = generate(args.out_dir, keys_dir=args.keys_dir)
        if args.fingerprints is not None:
            write_fingerprints(args.fingerprints, load_or_create_pki(args.keys_dir or args.out_dir / "keys"))
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {len(written)} files to {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
