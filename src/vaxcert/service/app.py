"""The ministry's signing service: the registry's workflows over HTTP (FastAPI on Starlette, served by uvicorn).

Every answer is JSON (certificates as PNG or PDF where asked for); every error is
``{"error": code, "detail": ...}``.  The OpenAPI document is at ``/openapi.json``.  Accounts send
``Authorization: Bearer <token>`` (``vaxcert registry accounts add``); citizen endpoints need no
account and are rate-limited per client and per ID number.  This module holds no workflow of its
own: it authenticates, checks the role and area, and calls :mod:`vaxcert.registry`.

Admission control, so that overload gets a quick 429 with ``Retry-After`` rather than slower and
slower answers: a process serves at most ``max_inflight`` requests at once (more are refused at
once); it keeps a small pool of registry connections (one registry object per request: a registry
serves one thread at a time) and a request that cannot get one within ``acquire_timeout`` is
refused too; and a bulk submission that would overfill the job queue is refused
(:func:`vaxcert.registry.submit_job`), which bounds the time from submission to certificate.
"""

# No "from __future__ import annotations": FastAPI reads the routes' annotations at run time, and the
# routes are closures over create_app's dependencies.
import contextlib
import datetime as dt
import logging
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import ConfigurationError, InputError, Signer, VaxcertError, log_event, safe_traceback
from .. import __version__ as VERSION
from ..registry import (
    DEADLINE,
    MAX_RECORDS,
    Account,
    Overloaded,
    RateLimit,
    RateLimiter,
    Registry,
    RegistrySpec,
    add_account,
    approve,
    area_facilities,
    audit_trail,
    authenticate,
    certificate_file,
    check_schema,
    citizen_certificate,
    citizen_correction,
    job_errors,
    job_status,
    list_accounts,
    list_requests,
    open_registry,
    person_key_from_document,
    reject,
    report,
    request_correction,
    revocation_list,
    revoke_account,
    set_facility_district,
    submit_job,
)

__all__ = ["ApiError", "ServiceSettings", "create_app"]

log = logging.getLogger("vaxcert.service")

Role = Literal["facility", "district", "province", "ministry"]


@dataclass
class ServiceSettings:
    """How one service process runs (the CLI builds it from ``vaxcert serve`` options)."""

    registry: str | RegistrySpec
    pool_size: int = 8
    acquire_timeout: float = 1.0
    max_inflight: int = 64
    queue_limit: int = 200_000
    drain_rate: float = 2_000.0
    max_records: int = MAX_RECORDS
    max_body_bytes: int = 16 << 20
    citizen_per_client: RateLimit = field(default_factory=lambda: RateLimit(30, 60))
    citizen_per_id: RateLimit = field(default_factory=lambda: RateLimit(10, 3600))
    trust_forwarded_for: bool = False
    list_signer: Signer | None = None
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))


class ApiError(Exception):
    """An HTTP error answered as ``{"error": code, "detail": detail}``."""

    def __init__(self, status: int, code: str, detail: Any = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers


NOT_FOUND_CITIZEN = ApiError(404, "not_found", "no certificate for this ID number and birth date")


class _Pool:
    """Registry objects for the request threads (a registry serves one thread at a time)."""

    def __init__(self, spec: str | RegistrySpec, size: int) -> None:
        self._spec = spec
        self._free: queue.LifoQueue[Registry] = queue.LifoQueue()
        self._lock = threading.Lock()
        self._opened = 0
        self._size = size
        self._all: list[Registry] = []

    def acquire(self, timeout: float) -> Registry:
        try:
            return self._free.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if self._opened < self._size:
                self._opened += 1
                try:
                    registry = open_registry(self._spec)
                except BaseException:
                    self._opened -= 1
                    raise
                self._all.append(registry)
                return registry
        try:
            return self._free.get(timeout=timeout)
        except queue.Empty:
            raise ApiError(429, "busy", "the service is at capacity: retry shortly", {"Retry-After": "1"}) from None

    def release(self, registry: Registry) -> None:
        self._free.put(registry)

    def close(self) -> None:
        for registry in self._all:
            with contextlib.suppress(Exception):
                registry.close()
        self._all.clear()


# ------------------------------------------------------------------------------------------ models


class ErrorBody(BaseModel):
    """Every error."""

    error: str
    detail: Any = None


class JobAccepted(BaseModel):
    job_id: str
    status: str
    records: int
    location: str


class RowErrorOut(BaseModel):
    line: int
    field: str
    message: str


class JobOut(BaseModel):
    job_id: str
    account: str
    facility: str | None
    status: str = Field(description="queued | running | done | failed")
    records: int
    attempts: int
    created_at: str
    started_at: str | None
    finished_at: str | None
    rows: int
    inserted: int
    unchanged: int
    rejected: int
    new_persons: int
    failure: str | None
    errors: list[RowErrorOut] = Field(description="the first 100 rejected rows; all at /errors")


class JobErrorsOut(BaseModel):
    job_id: str
    offset: int
    errors: list[RowErrorOut]


class ReportRowOut(BaseModel):
    key: str
    province: str
    doses: int
    people_complete: int
    people_partial: int
    booster: int
    certificates_issued: int
    certificates_current: int
    held_identity: int
    held_conflict: int
    corrections_pending: int
    corrections_overdue: int


class ReportOut(BaseModel):
    by: str
    generated_at: str
    rows: list[ReportRowOut]


class CorrectionOut(BaseModel):
    id: int
    person: str = Field(description="the person's key with the document number masked")
    facility: str
    kind: str
    status: str
    requested_at: str
    deadline: str
    overdue: bool
    reviewed_by: str | None
    review_reason: str | None


class CorrectionFiled(BaseModel):
    request_id: int
    facility: str
    deadline: str


class CorrectionIn(BaseModel):
    """A correction request filed by a facility or the ministry for a citizen."""

    person: str = Field(description="citizen ID (12 digits) or NATIONALITY:PASSPORT")
    kind: Literal["missing_dose", "change_dose", "remove_dose", "identity"]
    dose_number: int | None = None
    proposed: dict[str, str | int] = Field(default_factory=dict)
    note: str | None = Field(default=None, max_length=500)
    requested_by: str = Field(default="citizen", max_length=200)


class ReviewIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class ReviewOut(BaseModel):
    request_id: int
    status: str
    revoked: int = 0


class CitizenQuery(BaseModel):
    id: str = Field(description="citizen ID (12 digits) or NATIONALITY:PASSPORT", max_length=40)
    dob: str = Field(description="birth date as recorded: YYYY-MM-DD (or YYYY-MM, YYYY)", max_length=10)
    format: Literal["hc1", "png", "pdf"] = "hc1"


class CitizenCertificate(BaseModel):
    hc1: str


class CitizenCorrectionIn(BaseModel):
    id: str = Field(max_length=40)
    dob: str = Field(max_length=10)
    kind: Literal["missing_dose", "change_dose", "remove_dose", "identity"]
    dose_number: int | None = None
    proposed: dict[str, str | int] = Field(default_factory=dict)
    note: str | None = Field(default=None, max_length=500)


class AccountIn(BaseModel):
    name: str = Field(max_length=64)
    role: Role
    area: str | None = Field(default=None, max_length=32)


class AccountOut(BaseModel):
    name: str
    role: str
    area: str | None
    created_at: str
    created_by: str
    revoked_at: str | None


class AccountCreated(BaseModel):
    name: str
    role: str
    area: str | None
    token: str = Field(description="shown once; only its hash is stored")


class Me(BaseModel):
    name: str
    role: str
    area: str | None


class DistrictIn(BaseModel):
    district: str | None = Field(max_length=32)


class AuditOut(BaseModel):
    at: str
    actor: str
    action: str
    subject: str
    reason: str | None
    origin: str | None


class StatusOut(BaseModel):
    persons: dict[str, int]
    doses: int
    awaiting_certificate: int
    awaiting_reconciliation: int
    certificates: dict[str, int]
    corrections_pending: int
    corrections_overdue: int
    jobs: dict[str, dict[str, int]]


# ------------------------------------------------------------------------------------------ helpers


def _iso(stamp: int | None) -> str | None:
    return dt.datetime.fromtimestamp(stamp, dt.UTC).isoformat().replace("+00:00", "Z") if stamp is not None else None


def _mask(person_key: str) -> str:
    kind, _, rest = person_key.partition(":")
    prefix, _, number = rest.rpartition(":")
    masked = number[:4] + "*" * max(len(number) - 6, 0) + number[-2:] if len(number) > 6 else "*" * len(number)
    return f"{kind}:{prefix + ':' if prefix else ''}{masked}"


_FORMATS = {"text/csv": "csv", "application/csv": "csv", "application/x-ndjson": "jsonl",
            "application/jsonl": "jsonl", "application/json-lines": "jsonl",
            "application/x-jsonlines": "jsonl"}  # fmt: skip


def create_app(settings: ServiceSettings) -> FastAPI:
    """The ASGI application (uvicorn serves it; tests drive it with Starlette's TestClient)."""
    pool = _Pool(settings.registry, settings.pool_size)
    limiter: list[RateLimiter] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        pool.close()

    app = FastAPI(
        title="vaxcert signing service",
        version=VERSION,
        description="Facilities submit dose records in bulk; provinces and districts read their reports and "
        "correction queues; citizens fetch their certificate and ask for corrections. Errors are "
        '{"error": code, "detail": ...}.',
        lifespan=lifespan,
        responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 429: {"model": ErrorBody}},
    )

    # -- errors ------------------------------------------------------------------------------

    def error(status: int, code: str, detail: Any = None, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse({"error": code, "detail": detail}, status_code=status, headers=headers)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error(exc.status, exc.code, exc.detail, exc.headers)

    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError) -> JSONResponse:
        return error(400, "invalid_input", {"field": exc.field, "message": exc.message})

    @app.exception_handler(Overloaded)
    async def overloaded(request: Request, exc: Overloaded) -> JSONResponse:
        return error(429, "overloaded", str(exc), {"Retry-After": str(exc.retry_after)})

    @app.exception_handler(VaxcertError)
    async def vaxcert_error(request: Request, exc: VaxcertError) -> JSONResponse:
        log_event(log, "service.error", level=logging.ERROR, exc_type=type(exc).__name__)
        return error(503 if isinstance(exc, ConfigurationError) else 500, "server_error",
                     "the registry could not be used; see the service log")  # fmt: skip

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [{"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"), "message": e.get("msg")}
                  for e in exc.errors()]  # fmt: skip
        return error(422, "invalid_request", detail)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed"}
        return error(exc.status_code, codes.get(exc.status_code, "http_error"), exc.detail,
                     dict(exc.headers) if exc.headers else None)  # fmt: skip

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log_event(log, "service.internal_error", level=logging.ERROR, exc_type=type(exc).__name__,
                  traceback=safe_traceback(exc))
        return error(500, "server_error", "unexpected error; see the service log")

    inflight = [0]
    exempt = ("/health", "/ready", "/openapi.json", "/docs")

    @app.middleware("http")
    async def request_log(request: Request, call_next: Callable[[Request], Any]) -> Response:
        started = time.perf_counter()
        if inflight[0] >= settings.max_inflight and request.url.path not in exempt:
            # admission control: past max_inflight requests in this process, answer at once instead of queueing
            log_event(log, "service.request", method=request.method[:16], route="(refused: busy)", status=429)
            return error(429, "busy", "the service is at capacity: retry shortly", {"Retry-After": "1"})
        inflight[0] += 1
        try:
            response: Response = await call_next(request)
        finally:
            inflight[0] -= 1
        route = request.scope.get("route")
        account: Account | None = getattr(request.state, "account", None)
        who: dict[str, Any] = {"role": account.role, "account": account.name} if account else {}
        log_event(log, "service.request", method=request.method[:16], route=getattr(route, "path", "(none)"),
                  status=response.status_code, duration_ms=round((time.perf_counter() - started) * 1000, 2),
                  **who)  # fmt: skip
        return response

    # -- dependencies --------------------------------------------------------------------------

    def registry_session() -> Iterator[Registry]:
        registry = pool.acquire(settings.acquire_timeout)
        try:
            yield registry
        finally:
            pool.release(registry)

    Reg = Annotated[Registry, Depends(registry_session)]

    def origin_of(request: Request) -> str:
        address = request.client.host if request.client else "unknown"
        if settings.trust_forwarded_for:
            forwarded = request.headers.get("x-forwarded-for", "")
            address = forwarded.split(",")[0].strip() or address
        return f"service:{address}"

    def require(*roles: Role) -> Callable[..., Account]:
        def dependency(request: Request, registry: Reg,
                       authorization: Annotated[str | None, Header()] = None) -> Account:  # fmt: skip
            scheme, _, token = (authorization or "").partition(" ")
            account = authenticate(registry, token.strip()) if scheme.lower() == "bearer" else None
            if account is None:
                raise ApiError(401, "unauthenticated", "send Authorization: Bearer <token>",
                               {"WWW-Authenticate": "Bearer"})  # fmt: skip
            request.state.account = account
            if account.role not in roles:
                raise ApiError(403, "forbidden", f"a {account.role} account may not do this")
            return account

        return dependency

    def limiter_of(registry: Registry) -> RateLimiter:
        if not limiter:
            limiter.append(RateLimiter(registry))
        return limiter[0]

    def citizen_limits(registry: Registry, request: Request, document: str) -> None:
        now = time.time()
        rl = limiter_of(registry)
        client = origin_of(request)
        for scope, value, limit in (("citizen-client", client, settings.citizen_per_client),
                                    ("citizen-id", document.strip().upper(), settings.citizen_per_id)):  # fmt: skip
            decision = rl.hit(registry, scope, value, limit, now=now)
            if not decision.allowed:
                raise ApiError(429, "rate_limited", "too many requests: retry later",
                               {"Retry-After": str(decision.retry_after)})  # fmt: skip

    # -- health ------------------------------------------------------------------------------

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        """Liveness: the process answers (no registry access)."""
        return {"status": "ok"}

    @app.get("/ready", tags=["health"], responses={503: {"model": ErrorBody}})
    def ready() -> JSONResponse:
        """Readiness: the registry answers and its schema is the one this vaxcert needs."""
        try:
            registry = pool.acquire(settings.acquire_timeout)
        except ApiError:
            return error(503, "not_ready", "no registry connection free")
        except VaxcertError:
            return error(503, "not_ready", "the registry cannot be reached")
        try:
            check_schema(registry)
        except VaxcertError as exc:
            return error(503, "not_ready", str(exc))
        finally:
            pool.release(registry)
        return JSONResponse({"status": "ready"})

    @app.get("/v1/me", response_model=Me, tags=["accounts"])
    def me(account: Annotated[Account, Depends(require("facility", "district", "province", "ministry"))]) -> Me:
        """The calling account."""
        return Me(name=account.name, role=account.role, area=account.area)

    # -- bulk submissions ----------------------------------------------------------------------

    submitters = require("facility", "ministry")

    @app.post("/v1/jobs", status_code=202, response_model=JobAccepted, tags=["jobs"],
              responses={400: {"model": ErrorBody}, 413: {"model": ErrorBody}},
              openapi_extra={"requestBody": {"required": True, "content": {
                  "text/csv": {"schema": {"type": "string"}},
                  "application/x-ndjson": {"schema": {"type": "string"}}}}})  # fmt: skip
    async def submit(request: Request, account: Annotated[Account, Depends(submitters)], registry: Reg,
                     facility: Annotated[str | None, Query(description="ministry only: limit rows to it")] = None,
                     ) -> JSONResponse:  # fmt: skip
        """Queue up to 10,000 dose records (CSV or JSON lines, as `registry import` reads): 202 once durably queued."""
        kind = _FORMATS.get(request.headers.get("content-type", "").split(";")[0].strip().lower())
        if kind is None:
            raise ApiError(415, "unsupported_media_type", "send text/csv or application/x-ndjson")
        declared = request.headers.get("content-length")
        # ASCII digits only ('²' is isdigit() but not int()), and few (int() refuses 4,300): jsonio.ascii_digits,
        # which the service does not import.  A malformed length is not trusted; the stream is counted below.
        if (declared is not None and declared.isascii() and declared.isdigit() and len(declared) <= 18
                and int(declared) > settings.max_body_bytes):
            raise ApiError(413, "too_large", f"at most {settings.max_body_bytes} bytes per submission")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > settings.max_body_bytes:
                raise ApiError(413, "too_large", f"at most {settings.max_body_bytes} bytes per submission")
            chunks.append(chunk)
        data = b"".join(chunks)
        if account.role == "facility":
            if facility is not None and facility.upper() != account.area:
                raise ApiError(403, "forbidden", "a facility submits for its own facility only")
            only = account.area
        else:
            only = facility.upper() if facility else None
        origin = origin_of(request)

        def queue_it() -> JSONResponse:
            job = submit_job(registry, data, kind, account=account.name, facility=only, now=settings.clock(),
                             origin=origin, max_records=settings.max_records, queue_limit=settings.queue_limit,
                             drain_rate=settings.drain_rate)  # fmt: skip
            location = f"/v1/jobs/{job.job_id}"
            body = JobAccepted(job_id=job.job_id, status=job.status, records=job.records, location=location)
            return JSONResponse(body.model_dump(), status_code=202, headers={"Location": location})

        return await run_in_threadpool(queue_it)

    readers = require("facility", "ministry")

    def own_job(registry: Registry, account: Account, job_id: str) -> Any:
        job = job_status(registry, job_id) if len(job_id) <= 64 else None
        if job is None or (account.role != "ministry" and job.account != account.name
                           and job.facility != account.area):  # fmt: skip
            raise ApiError(404, "not_found", "no such job")
        return job

    def row_errors(registry: Registry, job_id: str, *, offset: int, limit: int) -> list[RowErrorOut]:
        """A processed job's rejected rows (line, field, why; never the values)."""
        return [RowErrorOut(line=e.line, field=e.field, message=e.message)
                for e in job_errors(registry, job_id, offset=offset, limit=limit)]  # fmt: skip

    @app.get("/v1/jobs/{job_id}", response_model=JobOut, tags=["jobs"], responses={404: {"model": ErrorBody}})
    def get_job(job_id: str, account: Annotated[Account, Depends(readers)], registry: Reg) -> JobOut:
        """A submission's progress; once processed, its counts and the first rejected rows (line, field)."""
        job = own_job(registry, account, job_id)
        errors = row_errors(registry, job_id, offset=0, limit=100) if job.rejected else []
        return JobOut(job_id=job.job_id, account=job.account, facility=job.facility, status=job.status,
                      records=job.records, attempts=job.attempts, created_at=_iso(job.created_at) or "",
                      started_at=_iso(job.started_at), finished_at=_iso(job.finished_at), rows=job.rows_read,
                      inserted=job.inserted, unchanged=job.unchanged, rejected=job.rejected,
                      new_persons=job.new_persons, failure=job.failure, errors=errors)  # fmt: skip

    @app.get("/v1/jobs/{job_id}/errors", response_model=JobErrorsOut, tags=["jobs"],
             responses={404: {"model": ErrorBody}})  # fmt: skip
    def get_job_errors(job_id: str, account: Annotated[Account, Depends(readers)], registry: Reg,
                       offset: Annotated[int, Query(ge=0)] = 0,
                       limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> JobErrorsOut:  # fmt: skip
        """Every rejected row of a processed submission, by line and field (never the values)."""
        own_job(registry, account, job_id)
        return JobErrorsOut(job_id=job_id, offset=offset, errors=row_errors(registry, job_id, offset=offset,
                                                                            limit=limit))  # fmt: skip

    # -- reports and correction queues -----------------------------------------------------------

    @app.get("/v1/reports", response_model=ReportOut, tags=["reports"])
    def get_report(account: Annotated[Account, Depends(require("district", "province", "ministry"))],
                   registry: Reg, by: Literal["facility", "province"] = "facility") -> ReportOut:  # fmt: skip
        """Counts by facility or province, for the account's area only (the ministry sees all)."""
        now = settings.clock()
        rows = report(registry, now=now, by=by, facilities=area_facilities(registry, account))
        return ReportOut(by=by, generated_at=_iso(int(now.timestamp())) or "",
                         rows=[ReportRowOut(**vars(r)) for r in rows])  # fmt: skip

    def correction_out(r: Any, now: dt.datetime) -> CorrectionOut:
        return CorrectionOut(id=r.request_id, person=_mask(r.person_key), facility=r.facility_id, kind=r.kind,
                             status=r.status, requested_at=_iso(r.requested_at) or "", deadline=_iso(r.deadline) or "",
                             overdue=r.overdue(now), reviewed_by=r.reviewed_by,
                             review_reason=r.review_reason)  # fmt: skip

    @app.get("/v1/corrections", response_model=list[CorrectionOut], tags=["corrections"])
    def get_corrections(
        account: Annotated[Account, Depends(require("facility", "district", "province", "ministry"))],
        registry: Reg, overdue: bool = False,
        status: Literal["pending", "approved", "rejected"] | None = None,
    ) -> list[CorrectionOut]:  # fmt: skip
        """Correction requests addressed to the account's facility or area; ``overdue`` keeps those past 48 hours."""
        now = settings.clock()
        found = list_requests(registry, status=status, overdue_at=now if overdue else None,
                              facilities=area_facilities(registry, account))  # fmt: skip
        return [correction_out(r, now) for r in found]

    def filed_out(registry: Registry, key: str, rid: int, now: dt.datetime) -> CorrectionFiled:
        facility = next(r.facility_id for r in list_requests(registry, person_key=key) if r.request_id == rid)
        deadline = _iso(int((now + DEADLINE).timestamp())) or ""
        return CorrectionFiled(request_id=rid, facility=facility, deadline=deadline)

    @app.post("/v1/corrections", status_code=201, response_model=CorrectionFiled, tags=["corrections"],
              responses={400: {"model": ErrorBody}})  # fmt: skip
    def file_correction(body: CorrectionIn, request: Request,
                        account: Annotated[Account, Depends(require("facility", "ministry"))],
                        registry: Reg) -> CorrectionFiled:  # fmt: skip
        """File a correction for a citizen (e.g. a wrong birth date the citizen cannot give online)."""
        now = settings.clock()
        key = person_key_from_document(body.person)
        rid = request_correction(registry, person_key=key, kind=body.kind, proposed=body.proposed,
                                 requested_by=f"{body.requested_by} (via {account.name})", now=now,
                                 dose_number=body.dose_number, note=body.note, origin=origin_of(request))  # fmt: skip
        return filed_out(registry, key, rid, now)

    reviewers = require("facility", "ministry")

    def addressed_to(registry: Registry, account: Account, request_id: int) -> None:
        """A facility sees only the requests addressed to it: any other is "not found" (nothing leaks)."""
        if account.role == "ministry":
            return
        if not any(r.request_id == request_id for r in list_requests(registry, facilities=[account.area or ""])):
            raise ApiError(404, "not_found", "no such correction request for this facility")

    def review(decide: Callable[..., Any], registry: Registry, account: Account, request_id: int, body: ReviewIn,
               request: Request) -> Any:  # fmt: skip
        """Approve or reject (``decide``) as the reviewing facility, or as the ministry."""
        ministry = account.role == "ministry"
        addressed_to(registry, account, request_id)
        return decide(registry, request_id, reviewer=account.name, reason=body.reason, now=settings.clock(),
                      facility=None if ministry else account.area, ministry=ministry,
                      origin=origin_of(request))  # fmt: skip

    @app.post("/v1/corrections/{request_id}/approve", response_model=ReviewOut, tags=["corrections"],
              responses={400: {"model": ErrorBody}})  # fmt: skip
    def approve_correction(request_id: int, body: ReviewIn, request: Request,
                           account: Annotated[Account, Depends(reviewers)], registry: Reg) -> ReviewOut:  # fmt: skip
        """Approve (the reviewing facility, or the ministry): revoke and reissue only if the signed content changes."""
        result = review(approve, registry, account, request_id, body, request)
        return ReviewOut(request_id=request_id, status="approved", revoked=result.revoked)

    @app.post("/v1/corrections/{request_id}/reject", response_model=ReviewOut, tags=["corrections"],
              responses={400: {"model": ErrorBody}})  # fmt: skip
    def reject_correction(request_id: int, body: ReviewIn, request: Request,
                          account: Annotated[Account, Depends(reviewers)], registry: Reg) -> ReviewOut:  # fmt: skip
        """Reject with a reason (the reviewing facility, or the ministry)."""
        review(reject, registry, account, request_id, body, request)
        return ReviewOut(request_id=request_id, status="rejected")

    # -- citizens ----------------------------------------------------------------------------------

    @app.post("/v1/citizen/certificate", tags=["citizens"],
              responses={200: {"model": CitizenCertificate, "content": {"image/png": {}, "application/pdf": {}}},
                         404: {"model": ErrorBody}})  # fmt: skip
    def citizen_get(body: CitizenQuery, request: Request, registry: Reg) -> Response:
        """A citizen's current certificate by ID number and birth date: HC1 text, QR PNG or PDF card.

        Unknown ID, wrong birth date and no certificate all get the same 404 answer.
        """
        citizen_limits(registry, request, body.id)
        hc1 = citizen_certificate(registry, body.id, body.dob)
        if hc1 is None:
            raise NOT_FOUND_CITIZEN
        if body.format == "hc1":
            return JSONResponse({"hc1": hc1}, headers={"Cache-Control": "no-store"})
        media = "image/png" if body.format == "png" else "application/pdf"
        return Response(certificate_file(hc1, body.format, created=settings.clock()), media_type=media,
                        headers={"Cache-Control": "no-store"})  # fmt: skip

    @app.post("/v1/citizen/corrections", status_code=201, response_model=CorrectionFiled, tags=["citizens"],
              responses={404: {"model": ErrorBody}, 400: {"model": ErrorBody}})  # fmt: skip
    def citizen_correct(body: CitizenCorrectionIn, request: Request, registry: Reg) -> CorrectionFiled:
        """A citizen asks for a correction (missing dose, wrong dose, wrong name or birth date): due in 48 hours."""
        citizen_limits(registry, request, body.id)
        now = settings.clock()
        rid = citizen_correction(registry, body.id, body.dob, kind=body.kind, proposed=body.proposed, now=now,
                                 dose_number=body.dose_number, note=body.note, origin=origin_of(request))  # fmt: skip
        if rid is None:
            raise NOT_FOUND_CITIZEN
        return filed_out(registry, person_key_from_document(body.id), rid, now)

    # -- the ministry --------------------------------------------------------------------------------

    ministry_only = require("ministry")

    @app.get("/v1/status", response_model=StatusOut, tags=["ministry"])
    def get_status(account: Annotated[Account, Depends(ministry_only)], registry: Reg) -> StatusOut:
        """Overall counts: persons by state, certificates by status, work waiting, the job queue."""
        o = registry.overview(now=int(settings.clock().timestamp()))
        jobs = {k: {"jobs": n, "records": r} for k, (n, r) in registry.jobs_summary().items()}
        return StatusOut(persons=o.persons, doses=o.doses, awaiting_certificate=o.awaiting_certificate,
                         awaiting_reconciliation=o.awaiting_reconciliation, certificates=o.certificates,
                         corrections_pending=o.corrections_pending, corrections_overdue=o.corrections_overdue,
                         jobs=jobs)  # fmt: skip

    @app.get("/v1/accounts", response_model=list[AccountOut], tags=["ministry"])
    def get_accounts(account: Annotated[Account, Depends(ministry_only)], registry: Reg) -> list[AccountOut]:
        """Every account (tokens are never shown again)."""
        return [AccountOut(name=a.name, role=a.role, area=a.area, created_at=_iso(a.created_at) or "",
                           created_by=a.created_by, revoked_at=_iso(a.revoked_at)) for a in list_accounts(registry)]

    @app.post("/v1/accounts", status_code=201, response_model=AccountCreated, tags=["ministry"],
              responses={400: {"model": ErrorBody}})  # fmt: skip
    def post_account(body: AccountIn, request: Request, account: Annotated[Account, Depends(ministry_only)],
                     registry: Reg) -> AccountCreated:  # fmt: skip
        """Create an account; its token is in this answer only."""
        made, token = add_account(registry, name=body.name, role=body.role, area=body.area, created_by=account.name,
                                  now=settings.clock(), origin=origin_of(request))  # fmt: skip
        return AccountCreated(name=made.name, role=made.role, area=made.area, token=token)

    @app.delete("/v1/accounts/{name}", status_code=204, tags=["ministry"], responses={400: {"model": ErrorBody}})
    def delete_account(name: str, request: Request, account: Annotated[Account, Depends(ministry_only)],
                       registry: Reg) -> Response:  # fmt: skip
        """Revoke an account: its token stops working at once."""
        revoke_account(registry, name, revoked_by=account.name, now=settings.clock(), origin=origin_of(request))
        return Response(status_code=204)

    @app.put("/v1/facilities/{facility}/district", status_code=204, tags=["ministry"])
    def put_district(facility: str, body: DistrictIn, request: Request,
                     account: Annotated[Account, Depends(ministry_only)], registry: Reg) -> Response:  # fmt: skip
        """Place a facility in a district (what that district's accounts see)."""
        now = settings.clock()
        with registry.transaction():
            set_facility_district(registry, facility, body.district, now=now)
            registry.audit(at=int(now.timestamp()), actor=account.name, action="facility.district",
                           subject=f"facility:{facility.upper()}", reason=None, detail={"district": body.district},
                           origin=origin_of(request))  # fmt: skip
        return Response(status_code=204)

    @app.get("/v1/audit", response_model=list[AuditOut], tags=["ministry"])
    def get_audit(account: Annotated[Account, Depends(ministry_only)], registry: Reg,
                  subject: Annotated[str | None, Query(max_length=100)] = None) -> list[AuditOut]:  # fmt: skip
        """The audit log (who, when, what, from where), oldest first."""
        return [AuditOut(at=_iso(a.at) or "", actor=a.actor, action=a.action, subject=a.subject, reason=a.reason,
                         origin=a.origin) for a in audit_trail(registry, subject)]  # fmt: skip

    @app.post("/v1/revocation-list", tags=["ministry"],
              responses={200: {"content": {"application/cbor": {}}}, 503: {"model": ErrorBody}})  # fmt: skip
    def post_revocation_list(request: Request, account: Annotated[Account, Depends(ministry_only)],
                             registry: Reg, valid_hours: Annotated[int, Query(ge=1, le=24 * 365)] = 48) -> Response:
        """The certificates revoked by corrections as a signed vaxcert revocation list (the service's list signer)."""
        if settings.list_signer is None:
            raise ApiError(503, "not_configured", "this service has no list signer (vaxcert serve --list-signer-key)")
        now = settings.clock()
        listed = revocation_list(registry)
        signed = listed.sign(settings.list_signer, now=now, valid_for=dt.timedelta(hours=valid_hours))
        registry.audit(at=int(now.timestamp()), actor=account.name, action="revocations.sign", subject="revocations",
                       reason=None, detail={"entries": len(listed)}, origin=origin_of(request))  # fmt: skip
        return Response(signed, media_type="application/cbor")

    return app
