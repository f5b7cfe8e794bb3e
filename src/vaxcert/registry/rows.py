"""Typed rows: what the registry's domain methods take and return.

One shape per thing: a dose is a :class:`StoredDose` wherever it is stored, read, merged,
corrected or audited; a person's identity fields are a :class:`PersonRow`; a person claimed for
issuance is a :class:`ClaimedPerson`.  ``repr`` of every row that holds personal data is redacted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..dcc.payload import assemble_payload, names_json
from ..dcc.types import DccPayload, vaccination_json

__all__ = [
    "CLAIM_COLUMNS",
    "AccountRow",
    "AuditEntry",
    "CertificateSummary",
    "ChangedPerson",
    "ClaimedJob",
    "ClaimedPerson",
    "CorrectionRequest",
    "CurrentCertificate",
    "DoseHash",
    "ExportedCertificate",
    "FacilityCounts",
    "JobErrorRow",
    "JobRow",
    "NewDose",
    "PersonRow",
    "PersonStatus",
    "ProblemRow",
    "RecognitionRow",
    "RegistryOverview",
    "StagedCertificate",
    "StatusUpdate",
    "StoredDose",
]


class StoredDose(NamedTuple):
    """One recorded dose: its key (a hash of person, dose number, date, facility) and DCC fields.

    ``issuer`` is set for a dose recognised from a foreign certificate: the DCC ``is`` (the real
    issuer) a Viet Nam certificate shows when this is the last dose (None: the key ring's text).
    """

    key: str
    facility: str
    dn: int
    sd: int
    date: str
    tg: str
    vp: str
    mp: str
    ma: str
    co: str
    issuer: str | None = None

    def __repr__(self) -> str:
        return f"StoredDose(dn={self.dn}, sd={self.sd}, facility={self.facility!r}, <redacted>)"

    def as_columns(self) -> dict[str, Any]:
        """The dose as import columns (``facility``, ``dose_number``, ... as in a CSV export)."""
        return {"facility": self.facility, "dose_number": self.dn, "series_total": self.sd, "date": self.date,
                "disease": self.tg, "prophylaxis": self.vp, "product": self.mp, "manufacturer": self.ma,
                "country": self.co}  # fmt: skip


class PersonRow(NamedTuple):
    """A person's identity as the registry stores it (``person_key`` is ``cccd:...`` / ``passport:...``)."""

    person_key: str
    id_kind: str
    id_number: str
    nationality: str
    fn: str
    gn: str | None
    fnt: str
    gnt: str | None
    dob: str

    def __repr__(self) -> str:
        return f"PersonRow(kind={self.id_kind}, <redacted>)"

    def as_columns(self) -> dict[str, Any]:
        """The person as import columns (``citizen_id`` or ``passport_number`` + ``nationality``, names, dob)."""
        out: dict[str, Any] = {"family_name": self.fn, "dob": self.dob}
        if self.gn:
            out["given_name"] = self.gn
        if self.id_kind == "cccd":
            out["citizen_id"] = self.id_number
        else:
            out["passport_number"], out["nationality"] = self.id_number, self.nationality
        return out


class DoseHash(NamedTuple):
    """What an import compares with a dose already stored under the same key."""

    row_hash: str
    sd: int
    mp: str
    ma: str
    vp: str
    co: str
    tg: str


class NewDose(NamedTuple):
    """A dose to insert: the dose, whose it is, its content hash and where it came from."""

    dose: StoredDose
    person_key: str
    row_hash: str
    source: str | None
    line: int | None


class ClaimedPerson(NamedTuple):
    """A person leased for issuance: all a worker needs to build the certificate."""

    person_key: str
    record_version: int
    fn: str
    fnt: str
    gn: str | None
    gnt: str | None
    dob: str
    tg: str
    vp: str
    mp: str
    ma: str
    dn: int
    sd: int
    dt: str
    co: str
    last_facility: str
    last_issuer: str | None = None

    def __repr__(self) -> str:
        return f"ClaimedPerson(version={self.record_version}, facility={self.last_facility!r}, <redacted>)"

    def payload(self, *, issuer: str, ci: str, version: str) -> DccPayload:
        """The DCC payload of the last dose (through the one payload assembler of :mod:`vaxcert.dcc`).

        ``issuer`` is the key ring's ``is`` text; a last dose recognised from a foreign certificate
        shows its own issuer (``last_issuer``) instead, as it shows its own country (``co``).
        """
        given = (self.gn, self.gnt) if self.gn and self.gnt else None
        entry = vaccination_json(tg=self.tg, vp=self.vp, mp=self.mp, ma=self.ma, dn=self.dn, sd=self.sd,
                                 dt=self.dt, co=self.co, is_=self.last_issuer or issuer, ci=ci)  # fmt: skip
        return assemble_payload(names_json(self.fn, self.fnt, given), self.dob, v=entry, version=version)


#: The columns of ``persons`` a claim returns, in :class:`ClaimedPerson` order.
CLAIM_COLUMNS = ClaimedPerson._fields


class StagedCertificate(NamedTuple):
    """A signed certificate waiting to be stored with the chunk it belongs to."""

    person_key: str
    record_version: int
    uvci: str
    hc1: str
    kid: str
    facility_id: str
    cert_type: str
    dn: int | None
    sd: int | None
    issued_at: int
    expires_at: int

    def __repr__(self) -> str:
        return f"StagedCertificate(version={self.record_version}, facility={self.facility_id!r}, <redacted>)"


class ChangedPerson(NamedTuple):
    """A person marked for reconciliation, with what reconciliation reads of them."""

    person: PersonRow
    dirty: int
    content_hash: str | None
    record_version: int


class ProblemRow(NamedTuple):
    """A problem found in a person's doses (``detail`` holds no personal data)."""

    person_key: str
    kind: str
    blocking: bool
    detail: str
    dose_keys: tuple[str, ...]


class StatusUpdate(NamedTuple):
    """What reconciliation writes back for one person."""

    person_key: str
    dirty: int
    state: str
    reason: str | None
    doses: int
    complete: bool
    booster: bool
    last: StoredDose | None
    content_hash: str | None
    record_version: int


@dataclass(frozen=True, slots=True)
class CertificateSummary:
    """One certificate of a person, without its contents."""

    cert_id: int
    record_version: int
    status: str
    kid: str
    facility_id: str
    issued_at: int
    cert_type: str


@dataclass(frozen=True, slots=True, repr=False)
class RecognitionRow:
    """A foreign certificate whose doses were recognised: what it was, and who recognised it where and when.

    ``certificate_hash`` is SHA-256 over the certificate's signed content
    (:attr:`vaxcert.VerificationResult.content_hash`); ``issuer_key`` the DCC kid (hex) or the
    Health Card key's thumbprint; ``issuer`` the DCC ``is`` or the Health Card's ``iss``.
    """

    recognition_id: int | None
    certificate_hash: str
    person_key: str
    source_format: str
    issuer_country: str
    issuer_key: str
    issuer: str
    certificate_id: str | None
    doses: int
    facility_id: str
    recognised_by: str
    recognised_at: int

    def __repr__(self) -> str:
        return (f"RecognitionRow(id={self.recognition_id}, format={self.source_format}, "
                f"country={self.issuer_country}, doses={self.doses}, <redacted>)")


@dataclass(frozen=True, slots=True, repr=False)
class PersonStatus:
    """One person's state, status, problems, certificates and recognised foreign certificates."""

    person: PersonRow
    state: str
    reason: str | None
    doses: int
    complete: bool
    booster: bool
    facility: str | None
    dn: int | None
    sd: int | None
    record_version: int
    issued_version: int
    problems: tuple[ProblemRow, ...]
    certificates: tuple[CertificateSummary, ...]
    recognitions: tuple[RecognitionRow, ...] = ()

    def __repr__(self) -> str:
        return f"PersonStatus(state={self.state}, doses={self.doses}, <redacted>)"


@dataclass(frozen=True, slots=True)
class RegistryOverview:
    """Counts over the whole registry."""

    persons: dict[str, int]
    doses: int
    awaiting_certificate: int
    awaiting_reconciliation: int
    certificates: dict[str, int]
    problems: dict[str, int]
    corrections_pending: int
    corrections_overdue: int


@dataclass
class FacilityCounts:
    """Raw counts of one facility, as the report needs them."""

    doses: int = 0
    people_complete: int = 0
    people_partial: int = 0
    booster: int = 0
    held_identity: int = 0
    held_conflict: int = 0
    certificates_issued: int = 0
    certificates_current: int = 0
    corrections_pending: int = 0
    corrections_overdue: int = 0


@dataclass(frozen=True, slots=True, repr=False)
class CorrectionRequest:
    """One correction request."""

    request_id: int
    person_key: str
    facility_id: str
    kind: str
    dose_key: str | None
    proposed: dict[str, Any]
    note: str | None
    requested_by: str
    requested_at: int
    deadline: int
    status: str
    reviewed_by: str | None
    reviewed_at: int | None
    review_reason: str | None

    def overdue(self, now: dt.datetime) -> bool:
        """Pending past its deadline."""
        return self.status == "pending" and now.timestamp() > self.deadline

    def __repr__(self) -> str:
        return f"CorrectionRequest(id={self.request_id}, kind={self.kind}, status={self.status}, <redacted>)"


class AuditEntry(NamedTuple):
    """One audit-log row: who did what, when and why (``detail`` is JSON text or None)."""

    at: int
    actor: str
    action: str
    subject: str
    reason: str | None
    detail: str | None
    origin: str | None = None


# --------------------------------------------------------------------------- the service (issue 14)


class AccountRow(NamedTuple):
    """A service account (the token itself is never stored: only its hash)."""

    name: str
    role: str
    area: str | None
    created_at: int
    created_by: str
    revoked_at: int | None


class JobRow(NamedTuple):
    """A bulk submission: where it is in the queue and what its processing found (no contents)."""

    job_id: str
    account: str
    facility: str | None
    format: str
    records: int
    status: str
    attempts: int
    created_at: int
    started_at: int | None
    finished_at: int | None
    rows_read: int
    inserted: int
    unchanged: int
    rejected: int
    new_persons: int
    failure: str | None


class ClaimedJob(NamedTuple):
    """A queued submission leased by a worker: what it needs to process it."""

    job_id: str
    account: str
    facility: str | None
    format: str
    records: int
    body: bytes
    attempts: int

    def __repr__(self) -> str:
        return f"ClaimedJob({self.job_id}, records={self.records}, <redacted>)"


class JobErrorRow(NamedTuple):
    """A rejected row of a submission: line, field and why (never its values)."""

    line: int
    field: str
    message: str


class CurrentCertificate(NamedTuple):
    """A person's current certificate with the birth date it is handed out against (personal data)."""

    cert_id: int
    dob: str
    hc1: str
    issued_at: int

    def __repr__(self) -> str:
        return f"CurrentCertificate(id={self.cert_id}, <redacted>)"


class ExportedCertificate(NamedTuple):
    """A current certificate to hand out (personal data: the document number and the HC1 text)."""

    cert_id: int
    person_key: str
    id_kind: str
    id_number: str
    nationality: str
    facility_id: str
    issued_at: int
    hc1: str

    def __repr__(self) -> str:
        return f"ExportedCertificate(id={self.cert_id}, facility={self.facility_id!r}, <redacted>)"
