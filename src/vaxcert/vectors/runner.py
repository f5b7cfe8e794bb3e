"""Running dgc-testdata vector files through vaxcert, check by check.

For each file, every check whose input field is present is evaluated — whether or not the file
states an expectation for it — and reported with the actual outcome, the stated expectation (or
``None``) and whether they agree.  ``actual`` is ``None`` only when the check's input is missing.

The checks reuse vaxcert's own pipeline: the stage functions of :mod:`vaxcert.stages`, the
:class:`~vaxcert.verifier.Verifier` (with the file's certificate as the only trusted signer),
:class:`~vaxcert.trust.TrustedSigner` for key usage, :mod:`vaxcert.dcc.schema` and
:mod:`vaxcert.qr`.  Nothing here decodes a stage its own way.

What each check means (the dgc-testdata README, made precise; docs/vectors.md has the table):

=========================  ================================  =======================================
check                      runs when present                 actual is true when
=========================  ================================  =======================================
EXPECTEDPICTUREDECODE      2DCODE                            the PNG holds exactly one QR code, in
                                                             alphanumeric mode (rule Q2), whose text
                                                             equals PREFIX (if present)
EXPECTEDUNPREFIX           PREFIX                            ``HC1:`` is stripped and the rest equals
                                                             BASE45 (if present)
EXPECTEDB45DECODE          BASE45                            Base45 decodes and equals COMPRESSED (if
                                                             present; else it decompresses to COSE)
EXPECTEDCOMPRESSION        COMPRESSED (else the data in      zlib decompresses it and it equals COSE
                           BASE45, else PREFIX)              (if present)
EXPECTEDDECODE             CBOR                              CBOR decodes and equals, as data, the
                                                             CWT payload of COSE and JSON (each if
                                                             present)
EXPECTEDVERIFY             COSE, CERTIFICATE                 the signature verifies with the
                                                             certificate (kid, alg/key rules) and
                                                             the CWT claims are well-formed
EXPECTEDEXPIRATIONCHECK    COSE, VALIDATIONCLOCK             iat <= clock <= exp
EXPECTEDKEYUSAGE           COSE, CERTIFICATE                 it verifies and the certificate's DCC
                                                             key-usage OIDs allow the payload's type
                                                             (no such OID allows every type)
EXPECTEDSCHEMAVALIDATION   CBOR (else JSON), SCHEMA          the payload is valid against schema
                                                             SCHEMA and holds exactly one of v/t/r
                                                             with one entry
EXPECTEDVALIDJSON          JSON, PREFIX (else 2DCODE)        the whole chain decodes and its payload
                                                             equals JSON as data
EXPECTEDVALIDOBJECT        JSON, SCHEMA                      JSON is valid against schema SCHEMA
EXPECTEDENCODE             JSON, CBOR                        JSON encoded as CBOR equals the CBOR
                                                             payload as data
EXPECTEDPASS (vaxcert)     COSE, CERTIFICATE,                the certificate is valid at the clock
                           VALIDATIONCLOCK; only when        and vaxcert's default pass policy
                           the file states it                grants a pass (GREEN or YELLOW)
=========================  ================================  =======================================

The ``CBOR`` field holds either the DCC payload or (in several published sets) the whole CWT
claims map; both are accepted and compared with the matching part of the COSE payload.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import cbor2

from ..codes import FailureCode, Stage
from ..dcc import schema as schema_mod
from ..dcc.codes import CERT_TYPES
from ..dcc.payload import certificate_type
from ..errors import ConfigurationError, DecodeError
from ..rules import assess
from ..stages import base45, cbor, compression, cose, cwt, hc1, prefix
from ..trust.store import TrustedSigner, TrustList
from ..verifier import VerificationResult, Verifier
from .format import CHECKS, EXTENSION_CHECKS, UNREADABLE, VectorFile, VectorFormatError, find_files, load

__all__ = [
    "ABBREVIATIONS",
    "CheckResult",
    "FileResult",
    "KnownDefects",
    "Report",
    "evaluate",
    "run",
]

#: Short column names for the text table.
ABBREVIATIONS: Final = {
    "EXPECTEDPICTUREDECODE": "PIC",
    "EXPECTEDUNPREFIX": "UNP",
    "EXPECTEDB45DECODE": "B45",
    "EXPECTEDCOMPRESSION": "ZIP",
    "EXPECTEDDECODE": "DEC",
    "EXPECTEDVERIFY": "VER",
    "EXPECTEDEXPIRATIONCHECK": "EXP",
    "EXPECTEDKEYUSAGE": "KEY",
    "EXPECTEDSCHEMAVALIDATION": "SCH",
    "EXPECTEDVALIDJSON": "JSN",
    "EXPECTEDVALIDOBJECT": "OBJ",
    "EXPECTEDENCODE": "ENC",
    "EXPECTEDPASS": "PAS",
}

#: A clock for checks whose outcome cannot depend on it (the Verifier needs one).
_ANY_TIME: Final = dt.datetime(2021, 6, 1, tzinfo=dt.UTC)
_HCERT: Final = -260


# ---------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check of one file.  ``note`` says why ``actual`` is false or null (no personal data)."""

    actual: bool | None
    expected: bool | None
    note: str = ""
    known_defect: bool = False

    @property
    def agree(self) -> bool | None:
        """True / False when both actual and expected are known, else None."""
        if self.actual is None or self.expected is None:
            return None
        return self.actual == self.expected

    @property
    def failed(self) -> bool:
        """A stated expectation that the actual outcome contradicts."""
        return self.agree is False

    @property
    def unevaluated(self) -> bool:
        """A stated expectation whose input is missing from the file (reported, not a failure)."""
        return self.expected is not None and self.actual is None

    def to_dict(self, *, mark_known: bool = False) -> dict[str, Any]:
        """``{"actual", "expected", "agree"}`` (plus ``"known_defect"`` when asked and true)."""
        out: dict[str, Any] = {"actual": self.actual, "expected": self.expected, "agree": self.agree}
        if mark_known and self.known_defect:
            out["known_defect"] = True
        return out


@dataclass(frozen=True, slots=True)
class FileResult:
    """The checks of one file (in CHECKS order), or the error that kept it from being read."""

    path: str
    description: str
    checks: Mapping[str, CheckResult]
    error: str | None = None
    ignored_keys: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def failures(self) -> list[str]:
        """Checks whose stated expectation fails and is not a listed known defect."""
        return [name for name, c in self.checks.items() if c.failed and not c.known_defect]

    @property
    def ok(self) -> bool:
        """Readable, and every stated expectation agrees or is a listed known defect."""
        return self.error is None and not self.failures

    def to_dict(self, *, mark_known: bool = False) -> dict[str, Any]:
        """The JSON-lines object: ``{"file", "description", "checks"}`` (+ ``"error"`` if unreadable)."""
        out: dict[str, Any] = {
            "file": self.path,
            "description": self.description,
            "checks": {name: c.to_dict(mark_known=mark_known) for name, c in self.checks.items()},
        }
        if self.error is not None:
            out["error"] = self.error
        return out


@dataclass(frozen=True, slots=True)
class Report:
    """All files of one run."""

    files: Sequence[FileResult]
    known_defects: KnownDefects | None = None

    @property
    def ok(self) -> bool:
        """Every file readable and every stated expectation agrees (or is a known defect)."""
        return all(f.ok for f in self.files)

    def counts(self) -> dict[str, int]:
        """Figures for the summary."""
        checks = [c for f in self.files for c in f.checks.values()]
        stated = [c for c in checks if c.expected is not None]
        return {
            "files": len(self.files),
            "unreadable": sum(1 for f in self.files if f.error is not None),
            "evaluated": sum(1 for c in checks if c.actual is not None),
            "stated": len(stated),
            "agree": sum(1 for c in stated if c.agree is True),
            "disagree": sum(1 for c in stated if c.failed and not c.known_defect),
            "known_defects": sum(1 for c in stated if c.failed and c.known_defect),
            "unevaluated": sum(1 for c in stated if c.unevaluated),
        }

    def stale_defects(self) -> list[tuple[str, str]]:
        """Listed known defects that matched no disagreeing check in this run's files."""
        if self.known_defects is None:
            return []
        used = {
            entry
            for f in self.files
            for name, c in f.checks.items()
            if c.known_defect
            for entry in self.known_defects.entries_for(f.path, name)
        }
        searched = [f.path for f in self.files]
        return [
            (path, check)
            for path, check in self.known_defects.entries
            if (path, check) not in used and any(_path_matches(p, path) for p in searched)
        ]


# ---------------------------------------------------------------------------------------------
# Known defects


_DEFECT_HEADING: Final = re.compile(
    r"^#{2,6}\s+`?(?P<path>[^`\s]+\.json)`?\s+(?:—|–|-|:)\s+(?P<checks>EXPECTED[A-Z]+(?:\s*,\s*EXPECTED[A-Z]+)*)\s*$"
)


def _path_matches(reported: str, listed: str) -> bool:
    reported = reported.replace("\\", "/")
    return reported == listed or reported.endswith("/" + listed)


@dataclass(frozen=True, slots=True)
class KnownDefects:
    """Checks of published files that vaxcert deliberately disagrees with.

    Read from a Markdown file whose entries are headings of the form
    ``### `ES/2DCode/raw/401.json` — EXPECTEDVERIFY, EXPECTEDKEYUSAGE`` followed by the
    argument.  A listed path matches any reported path that ends with it.
    """

    entries: tuple[tuple[str, str], ...]

    @classmethod
    def parse(cls, text: str) -> KnownDefects:
        """Entries from Markdown text (lines that are not entry headings are the arguments)."""
        entries: list[tuple[str, str]] = []
        for line in text.splitlines():
            match = _DEFECT_HEADING.match(line.strip())
            if match:
                for check in re.split(r"\s*,\s*", match.group("checks")):
                    entries.append((match.group("path"), check))
        return cls(tuple(dict.fromkeys(entries)))

    @classmethod
    def from_file(cls, path: str | Path) -> KnownDefects:
        """Entries from a Markdown file; ConfigurationError if unreadable or empty."""
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"cannot read known-defects file {path}: {exc}") from None
        defects = cls.parse(text)
        if not defects.entries:
            raise ConfigurationError(f"{path}: no entries (headings like '### `DIR/raw/N.json` — EXPECTEDVERIFY')")
        return defects

    def entries_for(self, path: str, check: str) -> list[tuple[str, str]]:
        """The entries matching one check of one reported file."""
        return [(p, c) for p, c in self.entries if c == check and _path_matches(path, p)]


# ---------------------------------------------------------------------------------------------
# Evaluation


Outcome = tuple[bool | None, str]
_MISSING: Final[Outcome] = (None, "input missing")


def _unreadable(name: str) -> Outcome:
    return False, f"{name} unreadable"


_INSTANT: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:[Zz]|[+-][0-9]{2}:?[0-9]{2})"
)


def _agrees(value: object, expected: object, name: str, kind: type, *, what: str = "") -> Outcome:
    """A stage's output against the file's next field ``name``: passed when they agree or the field is
    absent, failed as ``NAME unreadable`` or ``<what>differs from NAME`` otherwise."""
    if expected is UNREADABLE:
        return _unreadable(name)
    if isinstance(expected, kind) and value != expected:
        return False, f"{what}differs from {name}"
    return True, ""


def _same_instant(a: str, b: str) -> bool:
    """True when two date-time texts with UTC offsets name the same instant (``Z`` vs ``+00:00``,
    ``+02:00`` vs ``Z``, fractional seconds): the data is the instant, not its spelling."""
    if not (_INSTANT.fullmatch(a) and _INSTANT.fullmatch(b)):
        return False
    try:
        return dt.datetime.fromisoformat(a.replace("z", "Z")) == dt.datetime.fromisoformat(b.replace("z", "Z"))
    except ValueError:
        return False


def _json_equal(a: object, b: object) -> bool:
    """Equality as JSON data: maps unordered, numbers by value, booleans only equal booleans, and
    date-times with offsets by the instant they name."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) or isinstance(b, int | float):
        return isinstance(a, int | float) and isinstance(b, int | float) and a == b
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and (a == b or _same_instant(a, b))
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    return False


def _cbor_equal(a: object, b: object) -> bool:
    """Equality as CBOR data: both re-encoded canonically by one encoder (README, note 2)."""
    try:
        return bool(cbor2.dumps(a, canonical=True) == cbor2.dumps(b, canonical=True))
    except Exception:
        return False


def _is_cwt(obj: object) -> bool:
    return isinstance(obj, Mapping) and _HCERT in obj


def _hcert_payload(claims: object) -> Any:
    """The DCC payload inside a decoded CWT claims map, or raise DecodeError."""
    hcert = claims.get(_HCERT) if isinstance(claims, Mapping) else None
    if not isinstance(hcert, Mapping) or 1 not in hcert:
        raise DecodeError(FailureCode.PAYLOAD_MISSING, Stage.CWT, "no hcert claim (-260 / 1)")
    return hcert[1]


class _Evaluation:
    """The checks of one file; decoded intermediates are computed once and shared."""

    def __init__(self, vf: VectorFile) -> None:
        self.vf = vf
        self._memo: dict[str, tuple[bool, Any]] = {}

    def _once(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` once; a DecodeError it raises is cached and raised again."""
        if key not in self._memo:
            try:
                self._memo[key] = (True, compute())
            except DecodeError as exc:
                self._memo[key] = (False, exc)
        ok, value = self._memo[key]
        if not ok:
            raise value
        return value

    # -- shared intermediates -------------------------------------------------------------

    def cbor_field(self) -> Any:
        """The decoded CBOR field (a payload or a whole CWT claims map)."""
        assert isinstance(self.vf.cbor, bytes)
        data = self.vf.cbor
        return self._once("cbor", lambda: cbor.loads(data, Stage.PAYLOAD))

    def cbor_payload(self) -> Any:
        """The DCC payload of the CBOR field, as decoded CBOR."""
        obj = self.cbor_field()
        return _hcert_payload(obj) if _is_cwt(obj) else obj

    def message(self) -> cose.CoseSign1:
        """The COSE_Sign1 of the COSE field."""
        assert isinstance(self.vf.cose, bytes)
        data = self.vf.cose
        return self._once("cose", lambda: cose.decode(data))  # type: ignore[no-any-return]

    def cose_payload(self) -> bytes:
        """The payload byte string of the COSE_Sign1 structure, whatever its headers say.

        DECODE asks whether the CBOR is the signed content, not whether the message is
        acceptable: header rules (the algorithm's place, the kid) are VERIFY's business.
        """
        assert isinstance(self.vf.cose, bytes)
        data = self.vf.cose

        def extract() -> bytes:
            obj = cbor.loads(data, Stage.COSE)
            while isinstance(obj, cbor2.CBORTag) and obj.tag in (18, 61):
                obj = obj.value
            if not isinstance(obj, list | tuple) or len(obj) != 4 or not isinstance(obj[2], bytes):
                raise DecodeError(FailureCode.COSE_INVALID_STRUCTURE, Stage.COSE, "not a COSE_Sign1 structure")
            return obj[2]

        return self._once("cose_payload", extract)  # type: ignore[no-any-return]

    def cose_claims_raw(self) -> Any:
        """The COSE payload decoded as CBOR (the CWT claims map, not yet interpreted)."""
        return self._once("claims_raw", lambda: cbor.loads(self.cose_payload(), Stage.CWT))

    def claims(self) -> cwt.Claims:
        """The CWT claims of the COSE field."""
        return self._once("claims", lambda: cwt.decode(self.message().payload))  # type: ignore[no-any-return]

    def signer(self) -> TrustedSigner | None:
        """The file's certificate as a trusted signer (None if it is not a usable certificate)."""
        if "signer" not in self._memo:
            assert isinstance(self.vf.certificate, bytes)
            try:
                self._memo["signer"] = (True, TrustedSigner.from_der(self.vf.certificate))
            except ConfigurationError:
                self._memo["signer"] = (True, None)
        return self._memo["signer"][1]  # type: ignore[no-any-return]

    def verification(self) -> VerificationResult | None:
        """The Verifier's result for COSE with the certificate as the only trusted signer.

        The signer's validity window is not checked and the clock is irrelevant: this answers
        "is it authentic?", which the verifier decides before looking at times.
        """
        if "verification" not in self._memo:
            signer = self.signer()
            result = None
            if signer is not None:
                assert isinstance(self.vf.cose, bytes)
                verifier = Verifier(TrustList([signer]), check_signer_validity=False, strict=True)
                clock = self.vf.clock if isinstance(self.vf.clock, dt.datetime) else _ANY_TIME
                result = verifier.verify(self.vf.cose, now=clock)
            self._memo["verification"] = (True, result)
        return self._memo["verification"][1]  # type: ignore[no-any-return]

    def pictures(self) -> list[Any]:
        """The QR codes decoded from 2DCODE (raises DecodeError if the image is unreadable)."""
        from ..qr import photo as qr  # the [qr] extra: imported when a vector carries a picture

        assert isinstance(self.vf.png, bytes)
        png = self.vf.png

        def decode() -> list[Any]:
            try:
                return qr.decode_image(png)
            except Exception:
                raise DecodeError(FailureCode.IMAGE_UNREADABLE, Stage.IMAGE, "not a readable image") from None

        return self._once("pictures", decode)  # type: ignore[no-any-return]

    # -- the checks -----------------------------------------------------------------------

    def picture_decode(self) -> Outcome:
        vf = self.vf
        if vf.png is None:
            return _MISSING
        if vf.png is UNREADABLE:
            return _unreadable("2DCODE")
        try:
            codes = self.pictures()
        except DecodeError as exc:
            return False, str(exc.code)
        if not codes:
            return False, "no QR code found"
        if len(codes) > 1:
            return False, f"{len(codes)} QR codes found, expected one"
        if not codes[0].alphanumeric:
            return False, "QR code not in alphanumeric mode (rule Q2)"
        return _agrees(codes[0].text, vf.prefix, "PREFIX", str, what="decoded text ")

    def unprefix(self) -> Outcome:
        vf = self.vf
        if vf.prefix is None:
            return _MISSING
        if not isinstance(vf.prefix, str):
            return _unreadable("PREFIX")
        try:
            text = prefix.strip(vf.prefix)
        except DecodeError as exc:
            return False, str(exc.code)
        return _agrees(text, vf.base45, "BASE45", str)

    def b45_decode(self) -> Outcome:
        vf = self.vf
        if vf.base45 is None:
            return _MISSING
        if not isinstance(vf.base45, str):
            return _unreadable("BASE45")
        try:
            data = base45.decode(vf.base45)
        except DecodeError as exc:
            return False, str(exc.code)
        if vf.compressed is not None:
            if not isinstance(vf.compressed, bytes):
                return _unreadable("COMPRESSED")
            return (True, "") if data == vf.compressed else (False, "differs from COMPRESSED")
        if vf.cose is not None:
            if not isinstance(vf.cose, bytes):
                return _unreadable("COSE")
            try:
                inflated = compression.decompress(data)
            except DecodeError as exc:
                return False, str(exc.code)
            return (True, "") if inflated == vf.cose else (False, "decompressed data differs from COSE")
        return True, ""

    def compression(self) -> Outcome:
        vf = self.vf
        if vf.compressed is None:
            # Files may state the check without a COMPRESSED field: the compressed data is then
            # the one the file carries in BASE45 (or PREFIX).
            source = vf.base45 if vf.base45 is not None else vf.prefix
            if not isinstance(source, str):
                return _MISSING
            try:
                data = base45.decode(source if vf.base45 is not None else prefix.strip(source))
            except DecodeError:
                return None, "no COMPRESSED, and BASE45 / PREFIX does not decode"
        elif not isinstance(vf.compressed, bytes):
            return _unreadable("COMPRESSED")
        else:
            data = vf.compressed
        try:
            inflated = compression.decompress(data)
        except DecodeError as exc:
            return False, str(exc.code)
        return _agrees(inflated, vf.cose, "COSE", bytes)

    def decode(self) -> Outcome:
        vf = self.vf
        if vf.cbor is None:
            return _MISSING
        if not isinstance(vf.cbor, bytes):
            return _unreadable("CBOR")
        try:
            field_obj = self.cbor_field()
            if vf.cose is not None:
                if not isinstance(vf.cose, bytes):
                    return _unreadable("COSE")
                claims = self.cose_claims_raw()
                theirs = claims if _is_cwt(field_obj) else _hcert_payload(claims)
                if not _cbor_equal(field_obj, theirs):
                    return False, "differs from the COSE payload"
            if "JSON" in vf.present:
                payload = cbor.to_json_compatible(self.cbor_payload())
                if not _json_equal(payload, vf.json_payload):
                    return False, "differs from JSON"
        except DecodeError as exc:
            return False, str(exc.code)
        return True, ""

    def verify(self) -> Outcome:
        vf = self.vf
        if vf.cose is None or vf.certificate is None:
            return _MISSING
        if not isinstance(vf.cose, bytes):
            return _unreadable("COSE")
        if not isinstance(vf.certificate, bytes):
            return _unreadable("CERTIFICATE")
        result = self.verification()
        if result is None:
            return False, "CERTIFICATE is not a usable certificate"
        if result.signer is None or result.trace.claims is None:
            return False, str(result.code)
        return True, ""

    def expiration(self) -> Outcome:
        vf = self.vf
        if vf.cose is None or vf.clock is None:
            return _MISSING
        if not isinstance(vf.cose, bytes):
            return _unreadable("COSE")
        if not isinstance(vf.clock, dt.datetime):
            return _unreadable("VALIDATIONCLOCK")
        try:
            claims = self.claims()
        except DecodeError as exc:
            return False, str(exc.code)
        now = vf.clock.timestamp()
        if now < claims.issued_at:
            return False, str(FailureCode.NOT_YET_VALID)
        if now > claims.expires_at:
            return False, str(FailureCode.EXPIRED)
        return True, ""

    def key_usage(self) -> Outcome:
        """The certificate's DCC key-usage OIDs against the types the payload holds.

        Judged from the certificate and the content alone, whether or not the signature
        verifies: a file may expect VERIFY false and KEYUSAGE true.
        """
        vf = self.vf
        if vf.cose is None or vf.certificate is None:
            return _MISSING
        if not isinstance(vf.cose, bytes):
            return _unreadable("COSE")
        if not isinstance(vf.certificate, bytes):
            return _unreadable("CERTIFICATE")
        signer = self.signer()
        if signer is None:
            return False, "CERTIFICATE is not a usable certificate"
        try:
            payload = _hcert_payload(self.cose_claims_raw())
        except DecodeError as exc:
            return False, str(exc.code)
        if not isinstance(payload, Mapping):
            return False, f"{FailureCode.CWT_INVALID}: the payload is not a map"
        # The types the content holds; whether it holds exactly one entry is the schema check's
        # business (DGC2), not key usage's.  Null and empty members hold no entry.
        kinds = [k for k in CERT_TYPES if payload.get(k) not in (None, [], ())]
        if not kinds:
            return False, f"{FailureCode.PAYLOAD_MISSING}: no v, t or r entry"
        refused = [k for k in kinds if k not in signer.types]
        if refused:
            return False, f"{FailureCode.KEY_USAGE_MISMATCH}: certificate may not sign type {','.join(refused)}"
        return True, ""

    def _schema_version(self) -> tuple[str | None, str]:
        vf = self.vf
        if not isinstance(vf.schema, str):
            return None, "SCHEMA unreadable"
        version = schema_mod.resolve_version(vf.schema)
        return version, "" if version else f"{FailureCode.SCHEMA_VERSION_UNKNOWN}: schema version not bundled"

    def schema_validation(self) -> Outcome:
        vf = self.vf
        if vf.schema is None or (vf.cbor is None and "JSON" not in vf.present):
            return _MISSING
        try:
            if vf.cbor is not None:
                if not isinstance(vf.cbor, bytes):
                    return _unreadable("CBOR")
                payload = cbor.to_json_compatible(self.cbor_payload())
            else:
                payload = vf.json_payload
            version, why = self._schema_version()
            if version is None:
                return False, why
            errors = schema_mod.validate(payload, version)
            if errors:
                return False, f"{FailureCode.SCHEMA_INVALID}: {errors[0]}"
            certificate_type(payload)
        except DecodeError as exc:
            return False, str(exc.code)
        return True, ""

    def valid_json(self) -> Outcome:
        vf = self.vf
        if "JSON" not in vf.present or (vf.prefix is None and vf.png is None):
            return _MISSING
        try:
            if vf.prefix is not None:
                if not isinstance(vf.prefix, str):
                    return _unreadable("PREFIX")
                text = vf.prefix
            else:
                if not isinstance(vf.png, bytes):
                    return _unreadable("2DCODE")
                codes = self.pictures()
                if len(codes) != 1:
                    return False, "2DCODE does not hold exactly one QR code"
                text = codes[0].text
            _, claims = hc1.read_unverified(text)
        except DecodeError as exc:
            return False, str(exc.code)
        if not _json_equal(claims.payload, vf.json_payload):
            return False, "decoded payload differs from JSON"
        return True, ""

    def valid_object(self) -> Outcome:
        vf = self.vf
        if "JSON" not in vf.present or vf.schema is None:
            return _MISSING
        version, why = self._schema_version()
        if version is None:
            return False, why
        errors = schema_mod.validate(vf.json_payload, version)
        return (False, f"{FailureCode.SCHEMA_INVALID}: {errors[0]}") if errors else (True, "")

    def encode(self) -> Outcome:
        vf = self.vf
        if "JSON" not in vf.present or vf.cbor is None:
            return _MISSING
        if not isinstance(vf.cbor, bytes):
            return _unreadable("CBOR")
        try:
            ours = cbor.loads(cbor.dumps(vf.json_payload), Stage.PAYLOAD)
            theirs = self.cbor_payload()
        except DecodeError as exc:
            return False, str(exc.code)
        except (TypeError, ValueError, cbor2.CBOREncodeError):
            return False, "JSON cannot be encoded as CBOR"
        return (True, "") if _cbor_equal(ours, theirs) else (False, "JSON encoded as CBOR differs from CBOR")

    def passes(self) -> Outcome:
        """vaxcert's extension: valid at the clock and a pass under the default policy."""
        vf = self.vf
        if vf.cose is None or vf.certificate is None or vf.clock is None:
            return _MISSING
        if not isinstance(vf.cose, bytes):
            return _unreadable("COSE")
        if not isinstance(vf.certificate, bytes):
            return _unreadable("CERTIFICATE")
        if not isinstance(vf.clock, dt.datetime):
            return _unreadable("VALIDATIONCLOCK")
        signer = self.signer()
        if signer is None:
            return False, "CERTIFICATE is not a usable certificate"
        result = Verifier(TrustList([signer]), strict=True).verify(vf.cose, now=vf.clock)
        if not result.valid:
            return False, str(result.code)
        assessment = assess(result, now=vf.clock)
        return (True, "") if assessment.passes else (False, f"{assessment.colour}: {assessment.reason}")


_CHECK_METHODS: Final[Mapping[str, Callable[[_Evaluation], Outcome]]] = {
    "EXPECTEDPICTUREDECODE": _Evaluation.picture_decode,
    "EXPECTEDUNPREFIX": _Evaluation.unprefix,
    "EXPECTEDB45DECODE": _Evaluation.b45_decode,
    "EXPECTEDCOMPRESSION": _Evaluation.compression,
    "EXPECTEDDECODE": _Evaluation.decode,
    "EXPECTEDVERIFY": _Evaluation.verify,
    "EXPECTEDEXPIRATIONCHECK": _Evaluation.expiration,
    "EXPECTEDKEYUSAGE": _Evaluation.key_usage,
    "EXPECTEDSCHEMAVALIDATION": _Evaluation.schema_validation,
    "EXPECTEDVALIDJSON": _Evaluation.valid_json,
    "EXPECTEDVALIDOBJECT": _Evaluation.valid_object,
    "EXPECTEDENCODE": _Evaluation.encode,
    "EXPECTEDPASS": _Evaluation.passes,
}
assert set(_CHECK_METHODS) == set(CHECKS + EXTENSION_CHECKS)


def evaluate(vf: VectorFile, known_defects: KnownDefects | None = None) -> FileResult:
    """Evaluate every check of one parsed file whose input is present (never raises for bad data)."""
    evaluation = _Evaluation(vf)
    checks: dict[str, CheckResult] = {}
    for name in CHECKS + EXTENSION_CHECKS:
        expected = vf.expected.get(name)
        if name in EXTENSION_CHECKS and expected is None:
            continue  # extensions depend on vaxcert's policy: evaluated only where a file asks
        try:
            actual, note = _CHECK_METHODS[name](evaluation)
        except Exception as exc:
            actual, note = False, f"{FailureCode.INTERNAL_ERROR} ({type(exc).__name__})"
        if actual is None and expected is None:
            continue
        listed = known_defects is not None and bool(known_defects.entries_for(vf.path, name))
        disagrees = actual is not None and expected is not None and actual != expected
        checks[name] = CheckResult(actual, expected, note, known_defect=listed and disagrees)
    return FileResult(vf.path, vf.description, checks, None, vf.ignored_keys, vf.notes)


def run(paths: Iterable[str | Path], known_defects: KnownDefects | None = None) -> Report:
    """Find the vector files under ``paths`` and evaluate each (ConfigurationError if none)."""
    found = find_files(paths)
    if not found:
        raise ConfigurationError("no vector files found (folders are searched for */raw/*.json)")
    results: list[FileResult] = []
    for shown, real in found:
        try:
            vf = load(real, shown)
        except VectorFormatError as exc:
            results.append(FileResult(shown, "", {}, error=str(exc)))
            continue
        results.append(evaluate(vf, known_defects))
    return Report(results, known_defects)


# ---------------------------------------------------------------------------------------------
# Rendering


def _common_dir(paths: Sequence[str]) -> str:
    if not paths:
        return ""
    parts = [p.replace("\\", "/").split("/")[:-1] for p in paths]
    common: list[str] = []
    for items in zip(*parts, strict=False):
        if len(set(items)) != 1:
            break
        common.append(items[0])
    return "/".join(common) + "/" if common else ""


def _cell(check: CheckResult | None) -> str:
    if check is None:
        return "."
    if check.expected is None:
        return "t" if check.actual else "f"
    if check.agree is True:
        return "ok"
    if check.known_defect:
        return "KD"
    return "XX" if check.failed else "??"


def render_text(report: Report) -> str:
    """A table (one row per file, one column per check) and a summary."""
    names = [n for n in CHECKS + EXTENSION_CHECKS if any(n in f.checks for f in report.files)]
    base = _common_dir([f.path for f in report.files])
    width = max([len("file")] + [len(f.path) - len(base) for f in report.files])
    lines = [f"files under {base or './'}", ""]
    lines.append("file".ljust(width) + " " + " ".join(ABBREVIATIONS[n].rjust(3) for n in names))
    for f in report.files:
        shown = f.path[len(base) :].ljust(width)
        if f.error is not None:
            lines.append(f"{shown} unreadable: {f.error}")
            continue
        lines.append(shown + " " + " ".join(_cell(f.checks.get(n)).rjust(3) for n in names))
    lines.append("")
    lines.append("ok = agrees with the stated expectation, XX = disagrees, KD = listed known defect,")
    lines.append("?? = stated but its input is missing, t / f = no expectation stated (actual shown),")
    lines.append(". = not evaluated (input missing)")
    lines.append("columns: " + ", ".join(f"{ABBREVIATIONS[n]} {n}" for n in names))

    def listing(title: str, known: bool) -> None:
        rows = [
            f"  {f.path}  {name}: expected {str(c.expected).lower()}, actual {str(c.actual).lower()}"
            + (f" ({c.note})" if c.note else "")
            for f in report.files
            for name, c in f.checks.items()
            if c.failed and c.known_defect == known
        ]
        if rows:
            lines.extend(["", title, *rows])

    listing("Disagreements:", False)
    listing("Known defects (listed, not counted as failures):", True)
    missing = [f"  {f.path}  {name}: expected {str(c.expected).lower()}, {c.note}"
               for f in report.files for name, c in f.checks.items() if c.unevaluated]
    if missing:
        lines.extend(["", "Stated but not evaluated (the file lacks the check's input):", *missing])
    stale = report.stale_defects()
    if stale:
        lines.extend(["", "Listed known defects that now agree (update the list):"])
        lines.extend(f"  {path}  {check}" for path, check in stale)
    ignored = Counter(k for f in report.files for k in f.ignored_keys)
    notes = Counter(n for f in report.files for n in f.notes)
    if ignored:
        lines.extend(["", "Unknown expectation keys ignored: "
                      + ", ".join(f"{k} ({n} file{'s' if n > 1 else ''})" for k, n in sorted(ignored.items()))])
    if notes:
        lines.extend(["", "Format notes: " + ", ".join(f"{k} ({n})" for k, n in sorted(notes.items()))])
    c = report.counts()
    lines.append("")
    lines.append(
        f"{c['files']} files ({c['unreadable']} unreadable), {c['evaluated']} checks evaluated, "
        f"{c['stated']} expectations stated: {c['agree']} agree, {c['disagree']} disagree, "
        f"{c['known_defects']} known defects, {c['unevaluated']} not evaluated (input missing)"
    )
    lines.append("PASS" if report.ok else "FAIL")
    return "\n".join(lines)
