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
* :mod:`.corrections` — citizen correction requests and their review; :mod:`.reports`.

Workflows and the CLI call domain methods only: no SQL and no backend branching outside the
adapters.  Long workflows report progress to a callback (:data:`ProgressCallback`) and draw nothing.
The registry builds on the core (model, payload, issuer); core modules never import it.
"""

from __future__ import annotations

from .batch import BatchResult, issue_pending, issue_person
from .corrections import (
    DEADLINE,
    KINDS,
    ApprovalResult,
    approve,
    audit_trail,
    list_requests,
    reject,
    request_correction,
    revocation_list,
)
from .identity import RegisterLoadResult, load_register
from .importer import ImportResult, RowError, import_file, person_key
from .keyring import KeyDirectory, KeyRing
from .opening import check_schema, open_registry
from .protocol import Backend, ProgressCallback, Registry, RegistrySpec
from .reconciliation import ReconcileResult, reconcile
from .reports import ReportRow, render, report
from .rows import (
    AuditEntry,
    CertificateSummary,
    ClaimedPerson,
    CorrectionRequest,
    PersonRow,
    PersonStatus,
    ProblemRow,
    RegistryOverview,
    StoredDose,
)
from .sqlite import SqliteRegistry
from .workers import run as issue_all

__all__ = [
    "DEADLINE",
    "KINDS",
    "ApprovalResult",
    "AuditEntry",
    "Backend",
    "BatchResult",
    "CertificateSummary",
    "ClaimedPerson",
    "CorrectionRequest",
    "ImportResult",
    "KeyDirectory",
    "KeyRing",
    "PersonRow",
    "PersonStatus",
    "ProblemRow",
    "ProgressCallback",
    "ReconcileResult",
    "RegisterLoadResult",
    "Registry",
    "RegistryOverview",
    "RegistrySpec",
    "ReportRow",
    "RowError",
    "SqliteRegistry",
    "StoredDose",
    "approve",
    "audit_trail",
    "check_schema",
    "import_file",
    "issue_all",
    "issue_pending",
    "issue_person",
    "list_requests",
    "load_register",
    "open_registry",
    "person_key",
    "reconcile",
    "reject",
    "render",
    "report",
    "request_correction",
    "revocation_list",
]
