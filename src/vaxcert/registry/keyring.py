"""The facilities' signing keys for batch issuance: a :class:`KeyRing` in memory, or a :class:`KeyDirectory` on disk.

The facility rule (:mod:`vaxcert.pki.authority`) is applied once per key rather than per
certificate: a facility's DSC must name that facility, and a ``ministry`` signer must be a
ministry DSC.  The fields the batch adds to every payload (the DCC ``is`` text and the UVCIs of
each signer) are checked once here too, with the same check as every other field
(:func:`vaxcert.dcc.payload.check_issuer_fields`): a key ring that would sign certificates its own
verifier rejects is refused before anything is signed.

A key directory may keep facility keys in a PKCS#11 HSM: a folder holding ``dsc.pem`` and
``dsc.hsm`` (the key's label in the token, as ``vaxcert keys issue-dsc --hsm LABEL`` writes it)
is signed for by the token named in :attr:`KeyDirectory.hsm`; each worker process opens its own
session when it loads the keys.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509

from ..dcc.payload import check_issuer_fields
from ..dcc.uvci import UvciMaker
from ..errors import ConfigurationError
from ..issuer import DEFAULT_VALIDITY, Issuer
from ..pki.certificates import facility_id_of, is_ministry_signer, issuer_name_of
from ..pki.encoding import load_certificate_file
from ..pki.keys import KeySigner, Signer, load_private_key

if TYPE_CHECKING:  # the [hsm] extra; imported when a folder's key is in the HSM
    from ..pki.hsm import HsmConfig, HsmToken

__all__ = ["DEFAULT_ISSUER_NAME", "HSM_LABEL_FILE", "FacilitySigner", "KeyDirectory", "KeyRing"]

#: The file of a facility folder naming its key's label in the HSM (instead of ``dsc.key.pem``).
HSM_LABEL_FILE = "dsc.hsm"

#: The DCC ``is`` text when neither ``issuer_name`` nor the DSC's organisation gives one.
DEFAULT_ISSUER_NAME = "Ministry of Health"


def _entity(facility: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", facility.upper())[:24] or "MOH"


@dataclass(frozen=True, slots=True)
class FacilitySigner:
    """What signs for one facility: an :class:`Issuer` (checks off: see the module docstring),
    the DCC ``is`` text and the UVCI maker."""

    issuer: Issuer
    is_text: str
    uvci: UvciMaker


class KeyRing:
    """The signers of the facilities (facility id → :class:`~vaxcert.pki.keys.Signer`), and optionally
    the ministry's, which signs for every facility that has no key of its own.

    ``issuer_name`` is the DCC ``is`` text; by default the DSC's organisation (the ministry's name,
    copied into each DSC by :func:`vaxcert.pki.certificates.create_dsc`).  Raises
    :class:`~vaxcert.errors.ConfigurationError` for a key that may not sign for its facility and
    :class:`~vaxcert.errors.InputError` (field ``issuer_name``) for an ``is`` text the DCC refuses.
    """

    def __init__(
        self,
        signers: Mapping[str, Signer],
        *,
        ministry: Signer | None = None,
        issuer_name: str | None = None,
        validity: dt.timedelta = DEFAULT_VALIDITY,
        country: str = "VN",
    ) -> None:
        self._signers: dict[str, FacilitySigner] = {}
        self._validity = validity
        self._country = country
        self._issuer_name = issuer_name
        for facility, signer in signers.items():
            named = facility_id_of(signer.certificate)
            if named != facility:
                raise ConfigurationError(f"the DSC given for facility {facility} names facility {named}")
            self._signers[facility] = self._make(signer, _entity(facility))
        self._ministry: FacilitySigner | None = None
        if ministry is not None:
            if not is_ministry_signer(ministry.certificate):
                raise ConfigurationError("the ministry signer's DSC is not a ministry DSC (keys issue-dsc --ministry)")
            self._ministry = self._make(ministry, "MOH")

    def _make(self, signer: Signer, entity: str) -> FacilitySigner:
        name = self._issuer_name or issuer_name_of(signer.certificate) or DEFAULT_ISSUER_NAME
        made = FacilitySigner(Issuer(signer, check=False, validity=self._validity), name,
                              UvciMaker(self._country, entity))  # fmt: skip
        check_issuer_fields(made.is_text, made.uvci())
        return made

    @property
    def facilities(self) -> list[str]:
        """Facilities with their own key."""
        return sorted(self._signers)

    @property
    def claimable(self) -> list[str] | None:
        """The facilities this key ring can sign for; None for all (it holds the ministry's key)."""
        return None if self._ministry is not None else self.facilities

    def for_facility(self, facility: str) -> FacilitySigner | None:
        """The facility's own signer, else the ministry's, else None."""
        return self._signers.get(facility, self._ministry)

    def __repr__(self) -> str:
        return f"KeyRing({len(self._signers)} facilities, ministry={'yes' if self._ministry else 'no'})"


def _names_hsm_key(folders: Iterable[tuple[Path, Path]]) -> bool:
    """True when one of the (certificate, key) folders keeps its key in the HSM."""
    return any(key.name == HSM_LABEL_FILE for _, key in folders)


@dataclass(frozen=True, slots=True)
class KeyDirectory:
    """Facility keys, as ``vaxcert keys issue-dsc --out DIR/<facility>`` writes them.

    Every sub-folder of ``path`` holding ``dsc.pem`` and either ``dsc.key.pem`` (an encrypted key
    file) or ``dsc.hsm`` (the label of a key in the HSM) is one facility; its id is read from the
    DSC (subject serialNumber).  A folder holding a ministry DSC (``keys issue-dsc --ministry``)
    is the ministry's signer, used for facilities without a key of their own.  Key files are
    decrypted with ``password``; HSM keys are used through the token of ``hsm`` (the caller reads
    both; ``repr`` hides them).  Picklable, so worker processes load the keys themselves.
    """

    path: str
    issuer_name: str | None = None
    validity_days: int = 365
    password: bytes | None = field(default=None, repr=False)
    hsm: HsmConfig | None = field(default=None, repr=False)

    def _folders(self) -> Iterator[tuple[Path, Path]]:
        """(certificate, key) of each facility folder: the key file, or the HSM label file."""
        root = Path(self.path)
        if not root.is_dir():
            raise ConfigurationError(f"key directory {root} does not exist")
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            cert_path, key_path, label_path = folder / "dsc.pem", folder / "dsc.key.pem", folder / HSM_LABEL_FILE
            if not cert_path.is_file():
                continue
            if key_path.is_file() and label_path.is_file():
                raise ConfigurationError(f"{folder}: both dsc.key.pem and {HSM_LABEL_FILE}; keep the one in use")
            if key_path.is_file():
                yield cert_path, key_path
            elif label_path.is_file():
                yield cert_path, label_path

    def uses_hsm(self) -> bool:
        """True when some facility's key is in the HSM (no key is read)."""
        return _names_hsm_key(self._folders())

    def _open_token(self) -> HsmToken:
        """A session on the HSM of :attr:`hsm`, open for the key ring's life (the process's)."""
        if self.hsm is None:
            raise ConfigurationError(f"{self.path}: a facility's key is in an HSM ({HSM_LABEL_FILE}); "
                                     "no HSM is configured (VAXCERT_PKCS11_MODULE, VAXCERT_HSM_TOKEN, "
                                     "VAXCERT_HSM_PIN)")  # fmt: skip
        from ..pki.hsm import HsmToken  # the [hsm] extra: needed only when a key is in the HSM

        return HsmToken(self.hsm)

    def _signer(self, certificate: x509.Certificate, key_path: Path, token: HsmToken | None) -> Signer:
        """The signer of one folder: its key file, or its key in the HSM (``token`` is then open)."""
        if key_path.name != HSM_LABEL_FILE:
            return KeySigner(load_private_key(key_path, self.password), certificate)
        assert token is not None  # load() opens it when a folder names an HSM key
        return token.signer(key_path.read_text(encoding="utf-8").strip(), certificate)

    def claimable(self) -> list[str] | None:
        """The facility ids of the DSCs, or None when a ministry DSC signs for all (no private key is read)."""
        found: list[str] = []
        for cert_path, _ in self._folders():
            certificate = load_certificate_file(cert_path)[0]
            if is_ministry_signer(certificate):
                return None
            found.append(facility_id_of(certificate) or cert_path.parent.name)
        return sorted(found)

    def check(self) -> None:
        """Refuse, before any key is read, ``is`` texts the DCC does not allow (see :class:`KeyRing`)."""
        for cert_path, _ in self._folders():
            certificate = load_certificate_file(cert_path)[0]
            name = self.issuer_name or issuer_name_of(certificate) or DEFAULT_ISSUER_NAME
            check_issuer_fields(name, UvciMaker("VN", "MOH")())

    def load(self) -> KeyRing:
        """Load every key (with :attr:`password`) into a :class:`KeyRing`."""
        root = Path(self.path)
        if not root.is_dir():
            raise ConfigurationError(f"key directory {root} does not exist")
        signers: dict[str, Signer] = {}
        ministry: Signer | None = None
        folders = list(self._folders())
        token = self._open_token() if _names_hsm_key(folders) else None
        for cert_path, key_path in folders:
            certificate = load_certificate_file(cert_path)[0]
            if is_ministry_signer(certificate):
                ministry = self._signer(certificate, key_path, token)
                continue
            facility = facility_id_of(certificate)
            if facility is None:
                raise ConfigurationError(f"{cert_path}: the DSC names no facility and is not a ministry DSC")
            signers[facility] = self._signer(certificate, key_path, token)
        if not signers and ministry is None:
            raise ConfigurationError(f"{root}: no facility folders with dsc.pem and dsc.key.pem or {HSM_LABEL_FILE}")
        return KeyRing(signers, ministry=ministry, issuer_name=self.issuer_name,
                       validity=dt.timedelta(days=self.validity_days))  # fmt: skip
