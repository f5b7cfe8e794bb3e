"""The vaccination registry: storage adapters and the national-scale issuance workflows.

* :mod:`.protocol` — the :class:`Registry` Protocol: domain methods over the typed rows of
  :mod:`.rows`; :mod:`.store` writes them once in shared SQL for both adapters, :mod:`.sqlite`
  (embedded default, a file path) and :mod:`.postgres` (a DSN, pooled; the ``vaxcert[registry]``
  extra); :func:`open_registry` picks one from a URL (``sqlite:///PATH`` or ``postgresql://...``).
* :mod:`.importer` — CSV / JSON-lines facility exports, row-validated and idempotent.
* :mod:`.identity` — the population-register check; :mod:`.reconcile` — merging doses,
  conflicts, each person's current status.
* :mod:`.keyring` — the facilities' keys; :mod:`.batch` — issuing a certificate for every changed
  record, exactly once per version; :mod:`.workers` — worker processes (:func:`issue_all`).
* :mod:`.corrections` — citizen correction requests (doses and identity) and their review;
  :mod:`.registercorrections` — the population register's correction list; :mod:`.reports`.
* The signing service's workflows (``vaxcert serve`` is a thin layer over them):
  :mod:`.accounts` (roles, hashed tokens), :mod:`.jobs` (the durable queue of bulk submissions,
  admission control), :mod:`.worker` (``vaxcert registry worker``: import, reconcile, issue),
  :mod:`.citizens` (certificates and corrections by ID and birth date), :mod:`.limits` (rate
  limits shared by every process), :mod:`.export` (certificates as HC1 text, QR PNG, PDF card).
* :mod:`.recognition` — doses from a person's verified foreign certificate (EU DCC or SMART
  Health Card) recorded as recognised doses (:func:`recognise`).

Workflows and the CLI call domain methods only: no SQL and no backend branching outside the
adapters.  Long workflows report progress to a callback (:data:`ProgressCallback`) and draw nothing.
The registry builds on the core (model, payload, issuer); core modules never import it.
"""

from __future__ import annotations

from .accounts import (
    ROLES,
    Account,
    add_account,
    area_facilities,
    authenticate,
    list_accounts,
    revoke_account,
    set_facility_district,
)
from .batch import BatchResult, issue_pending, issue_person
from .citizens import citizen_certificate, citizen_correction, person_key_from_document
from .corrections import (
    DEADLINE,
    IDENTITY_FIELDS,
    KINDS,
    ApprovalResult,
    approve,
    audit_trail,
    list_requests,
    reject,
    request_correction,
    revocation_list,
)
from .export import EXPORT_FORMATS, ExportResult, certificate_file, export_certificates
from .identity import RegisterLoadResult, load_register
from .importer import EXPECTED_COLUMNS, LEGACY_ENCODINGS, ImportResult, RowError, import_file, person_key
from .jobs import MAX_RECORDS, Overloaded, ProcessedJob, job_errors, job_status, process_next_job, submit_job
from .keyring import HSM_LABEL_FILE, KeyDirectory, KeyRing
from .limits import RateDecision, RateLimit, RateLimiter
from .opening import check_schema, open_registry
from .protocol import Backend, ProgressCallback, Registry, RegistrySpec
from .recognition import REFUSALS, Recognition, RecognitionRefused, recognise
from .reconciliation import ReconcileResult, reconcile
from .registercorrections import RegisterCorrectionResult, load_register_corrections
from .reports import ReportRow, render, report, safe_cell, write_row_errors
from .rows import (
    AccountRow,
    AuditEntry,
    CertificateSummary,
    ClaimedPerson,
    CorrectionRequest,
    JobErrorRow,
    JobRow,
    PersonRow,
    PersonStatus,
    ProblemRow,
    RecognitionRow,
    RegistryOverview,
    StoredDose,
)
from .sqlite import SqliteRegistry
from .worker import WorkerStats, run_worker
from .workers import run as issue_all

__all__ = [
    "DEADLINE",
    "EXPECTED_COLUMNS",
    "EXPORT_FORMATS",
    "HSM_LABEL_FILE",
    "IDENTITY_FIELDS",
    "KINDS",
    "LEGACY_ENCODINGS",
    "MAX_RECORDS",
    "REFUSALS",
    "ROLES",
    "Account",
    "AccountRow",
    "ApprovalResult",
    "AuditEntry",
    "Backend",
    "BatchResult",
    "CertificateSummary",
    "ClaimedPerson",
    "CorrectionRequest",
    "ExportResult",
    "ImportResult",
    "JobErrorRow",
    "JobRow",
    "KeyDirectory",
    "KeyRing",
    "Overloaded",
    "PersonRow",
    "PersonStatus",
    "ProblemRow",
    "ProcessedJob",
    "ProgressCallback",
    "RateDecision",
    "RateLimit",
    "RateLimiter",
    "Recognition",
    "RecognitionRefused",
    "RecognitionRow",
    "ReconcileResult",
    "RegisterCorrectionResult",
    "RegisterLoadResult",
    "Registry",
    "RegistryOverview",
    "RegistrySpec",
    "ReportRow",
    "RowError",
    "SqliteRegistry",
    "StoredDose",
    "WorkerStats",
    "add_account",
    "approve",
    "area_facilities",
    "audit_trail",
    "authenticate",
    "certificate_file",
    "check_schema",
    "citizen_certificate",
    "citizen_correction",
    "export_certificates",
    "import_file",
    "issue_all",
    "issue_pending",
    "issue_person",
    "job_errors",
    "job_status",
    "list_accounts",
    "list_requests",
    "load_register",
    "load_register_corrections",
    "open_registry",
    "person_key",
    "person_key_from_document",
    "process_next_job",
    "recognise",
    "reconcile",
    "reject",
    "render",
    "report",
    "request_correction",
    "revocation_list",
    "revoke_account",
    "run_worker",
    "safe_cell",
    "set_facility_district",
    "submit_job",
    "write_row_errors",
]
