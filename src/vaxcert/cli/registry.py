"""``vaxcert registry``: the vaccination registry (init, import, issue, status, correct, recognise, report).

Every command takes ``--db sqlite:///PATH`` or ``--db postgresql://...`` (or the environment
variable ``VAXCERT_DB``).  Personal data is not printed unless ``--show-names`` is given:
people appear by a masked identifier and their initials.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import click

from .. import InputError, KeySigner, image_codes
from ..registry import (
    DEADLINE,
    EXPORT_FORMATS,
    KINDS,
    LEGACY_ENCODINGS,
    ROLES,
    KeyDirectory,
    PersonStatus,
    Registry,
    RegistryOverview,
    add_account,
    approve,
    export_certificates,
    import_file,
    issue_all,
    list_accounts,
    list_requests,
    load_register,
    load_register_corrections,
    open_registry,
    recognise,
    reconcile,
    reject,
    render,
    report,
    request_correction,
    revocation_list,
    revoke_account,
    run_worker,
    set_facility_district,
    write_row_errors,
)
from ._common import EXIT_INVALID, key_password, parse_time, read_file_arg, read_text_arg
from ._context import hsm_config, load_verification, trust_options
from ._logging import LOG_LEVEL_OPTION, long_running
from ._messages import lang_option, translate
from ._messages import text as message
from ._progress import Progress

DB_OPTION = click.option("--db", "db", required=True, envvar="VAXCERT_DB", metavar="URL",
                         help="sqlite:///PATH or postgresql://... (env VAXCERT_DB).")  # fmt: skip
AT_OPTION = click.option("--at", "at", default=None, help="The time to act at (ISO 8601); default now.")
QUIET_OPTION = click.option("--quiet", is_flag=True, help="No progress bar.")


F = TypeVar("F", bound=Callable[..., Any])


def _issuance_options(func: F) -> F:
    """--chunk / --lease / --valid-days / --issuer-name of the commands that issue (issue, worker)."""
    func = click.option("--issuer-name", default=None, help="DCC 'is' text (default: the DSC's organisation).")(func)
    func = click.option("--valid-days", type=click.IntRange(1, 3650), default=365, show_default=True)(func)
    func = click.option("--lease", "lease_seconds", type=click.FloatRange(1, 86_400), default=300, show_default=True,
                        help="Seconds a claimed chunk stays reserved for its worker.")(func)  # fmt: skip
    return click.option("--chunk", "chunk_size", type=click.IntRange(1, 100_000), default=None,
                        help="Persons a worker claims at once (issue: up to 5,000, fewer for a small batch "
                             "so that every worker gets a share; worker: 1,000).")(func)  # fmt: skip


def _key_directory(keys_dir: Path, issuer_name: str | None, valid_days: int) -> KeyDirectory:
    """The facility keys of --keys (password in VAXCERT_KEY_PASSWORD), checked before anything is signed
    (an --issuer-name the DCC does not allow is refused here)."""
    keys = KeyDirectory(str(keys_dir.resolve()), issuer_name=issuer_name, validity_days=valid_days,
                        password=key_password())  # fmt: skip
    keys.check()
    if keys.uses_hsm():  # some facility's key is in the HSM (dsc.hsm): its token from the environment
        keys = replace(keys, hsm=hsm_config())
    return keys


def _open(db: str, *, migrate: bool = False) -> Registry:
    context = click.get_current_context(silent=True)
    timeout = context.meta.get(_TIMEOUT_KEY) if context is not None else None
    return open_registry(db, migrate=migrate, busy_timeout=timeout)


_TIMEOUT_KEY = "vaxcert.busy_timeout"


def _remember_timeout(ctx: click.Context, param: click.Parameter, value: float) -> float:
    ctx.meta[_TIMEOUT_KEY] = value
    return value


def person_key_from_id(text: str) -> str:
    """``001090012345`` (citizen ID) or ``FR:21AB12345`` (nationality:passport) → the person key."""
    value = text.strip().upper()
    if re.fullmatch(r"[0-9]{12}", value):
        return f"cccd:{value}"
    m = re.fullmatch(r"([A-Z]{2})[:/]([A-Z0-9]{5,20})", value)
    if m:
        return f"passport:{m[1]}:{m[2]}"
    raise click.BadParameter(message("registry.bad_person_id"), param_hint="--person")


def mask_key(person_key: str) -> str:
    """A person key with the document number masked: ``cccd:0010******45``."""
    kind, _, rest = person_key.partition(":")
    prefix, _, number = rest.rpartition(":")
    masked = number[:4] + "*" * max(len(number) - 6, 0) + number[-2:] if len(number) > 6 else "*" * len(number)
    return f"{kind}:{prefix + ':' if prefix else ''}{masked}"


def initials(fn: str | None, gn: str | None) -> str:
    """``N.V.D.`` from family and given names."""
    words = f"{fn or ''} {gn or ''}".split()
    return "".join(w[0].upper() + "." for w in words if w)


@click.group("registry")
@click.option("--busy-timeout", type=click.FloatRange(0, 3600), default=10.0, show_default=True, expose_value=False,
              callback=_remember_timeout, metavar="SECONDS",
              help="How long a SQLite write waits for another process's lock before failing with a clear error.")
def registry() -> None:
    """The vaccination registry: import dose records, issue certificates in bulk, corrections, reports."""


@registry.command("init")
@DB_OPTION
def init_cmd(db: str) -> None:
    """Create the registry (or apply pending schema migrations)."""
    reg = _open(db, migrate=True)
    version = reg.schema_version()
    reg.close()
    click.echo(f"registry ready ({reg.backend}, schema version {version})")


@registry.command("import")
@DB_OPTION
@click.option("--register", "is_register", is_flag=True,
              help="FILE is the population register (CSV: citizen_id, family_name, given_name, dob).")
@click.option("--register-corrections", "is_corrections", is_flag=True,
              help="FILE is the population register's correction list (same columns): those citizens are "
                   "checked again at once.")
@click.option("--encoding", type=click.Choice(sorted(LEGACY_ENCODINGS)), default=None,
              help="Read a facility export saved in a legacy encoding (e.g. cp1258, Vietnamese ANSI).")
@click.option("--by", "by", default="cli", show_default=True, help="Who loads a correction list (audited).")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default=None,
              help="Default: by file suffix (.csv, else JSON lines).")
@click.option("--chunk", "chunk_size", type=click.IntRange(1, 100_000), default=2000, show_default=True)
@click.option("--errors-out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write every rejected row (line, field, message) to this CSV file.")
@AT_OPTION
@QUIET_OPTION
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
def import_cmd(db: str, is_register: bool, is_corrections: bool, encoding: str | None, by: str, fmt: str | None,
               chunk_size: int, errors_out: Path | None, at: str | None, quiet: bool, file: Path) -> None:  # fmt: skip
    """Import FILE (a facility export, or with --register the population register), then reconcile.

    Exit 1 when some rows were rejected (they are listed; the other rows are kept); exit 2 for a
    problem with the whole file (not UTF-8, wrong header or delimiter, empty), reported once.
    """
    now = parse_time(at)
    if is_register and is_corrections:
        raise click.UsageError(message("registry.register_both"))
    reg = _open(db)
    try:
        if is_corrections:
            fixed = load_register_corrections(reg, file, now=now, by=by, origin="cli")
            errors = fixed.errors
            click.echo(f"population register corrections: {fixed.summary()}")
            rejected = fixed.rejected
        elif is_register:
            loaded = load_register(reg, file, now=now)
            errors = loaded.errors or []
            click.echo(f"population register: {loaded.rows} rows, {loaded.loaded} loaded, {loaded.rejected} rejected")
            rejected = loaded.rejected
        else:
            bar = Progress(f"import {file.name}", unit="bytes", enabled=not quiet)
            result = import_file(reg, file, now=now, fmt=fmt, chunk_size=chunk_size, progress=bar.report,
                                 encoding=encoding)  # fmt: skip
            bar.close(f"import {file.name}: {result.summary()}")
            errors = result.errors
            click.echo(result.summary())
            rejected = result.rejected
        bar = Progress("reconcile", unit="persons", enabled=not quiet)
        rec = reconcile(reg, now=now, progress=bar.report)
        bar.close(f"reconcile: {rec.summary()}")
        click.echo(rec.summary())
    finally:
        reg.close()
    for error in errors[:20]:
        why = translate(error.message)
        click.echo(message("registry.rejected_row", line=error.line, field=error.field, message=why), err=True)
    if len(errors) > 20:
        more = "registry.more_rejected" if errors_out else "registry.more_rejected_hint"
        click.echo(message(more, count=rejected - 20), err=True)
    if errors_out is not None:
        write_row_errors(errors, errors_out)
    if rejected:
        sys.exit(EXIT_INVALID)


@registry.command("issue")
@DB_OPTION
@click.option("--keys", "keys_dir", required=True, type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Folder of facility key folders (DIR/<facility>/dsc.pem + dsc.key.pem, password in "
                   "VAXCERT_KEY_PASSWORD; or dsc.pem + dsc.hsm for a key in the HSM: VAXCERT_PKCS11_MODULE, "
                   "VAXCERT_HSM_TOKEN, VAXCERT_HSM_PIN).")
@click.option("--workers", type=click.IntRange(1, 256), default=None, help="Worker processes (default: one per core).")
@click.option("--break-leases", is_flag=True,
              help="First release leases left by crashed workers (only when no other worker runs).")
@_issuance_options
@AT_OPTION
@QUIET_OPTION
def issue_cmd(db: str, keys_dir: Path, workers: int | None, chunk_size: int, lease_seconds: float,
              break_leases: bool, valid_days: int, issuer_name: str | None, at: str | None,
              quiet: bool) -> None:  # fmt: skip
    """Issue certificates for every person whose record changed since their last certificate."""
    now = parse_time(at)
    keys = _key_directory(keys_dir, issuer_name, valid_days)
    reg = _open(db)
    try:
        reconcile(reg, now=now)
        bar = Progress("issue", unit="certificates", enabled=not quiet)
        result = issue_all(reg, keys, now=now, workers=workers, chunk_size=chunk_size, lease_seconds=lease_seconds,
                           progress=bar.report, break_leases=break_leases)  # fmt: skip
        bar.close(f"issue: {result.summary()}")
    finally:
        reg.close()
    click.echo(result.summary())
    for reason, n in sorted(result.failures.items()):
        click.echo(message("registry.held", count=n, reason=translate(reason)), err=True)


def _iso(t: int | None) -> str | None:
    return dt.datetime.fromtimestamp(t, dt.UTC).isoformat().replace("+00:00", "Z") if t is not None else None


def _overall_status(overview: RegistryOverview) -> dict[str, Any]:
    return {
        "persons": overview.persons,
        "doses": overview.doses,
        "awaiting_certificate": overview.awaiting_certificate,
        "awaiting_reconciliation": overview.awaiting_reconciliation,
        "certificates": overview.certificates,
        "problems": overview.problems,
        "corrections": {"pending": overview.corrections_pending, "overdue": overview.corrections_overdue},
    }


def person_status(status: PersonStatus, *, show_names: bool) -> dict[str, Any]:
    """One person's status as printed (names only with ``show_names``)."""
    person = status.person
    out: dict[str, Any] = {
        "person": person.person_key if show_names else mask_key(person.person_key),
        "initials": initials(person.fn, person.gn),
        "state": status.state, "reason": status.reason, "doses": status.doses,
        "status": ("complete" if status.complete else "partial") if status.doses else "no doses",
        "booster": status.booster, "last_dose": f"{status.dn}/{status.sd}" if status.dn else None,
        "facility": status.facility, "record_version": status.record_version,
        "issued_version": status.issued_version,
        "problems": [{"kind": p.kind, "blocking": p.blocking, "detail": p.detail} for p in status.problems],
        "certificates": [{"id": c.cert_id, "version": c.record_version, "status": c.status, "kid": c.kid,
                          "facility": c.facility_id, "issued_at": _iso(c.issued_at)} for c in status.certificates],
        "recognised": [{"id": r.recognition_id, "format": r.source_format, "issuer_country": r.issuer_country,
                        "issuer": r.issuer, "doses": r.doses, "facility": r.facility_id, "by": r.recognised_by,
                        "at": _iso(r.recognised_at)} for r in status.recognitions],
    }  # fmt: skip
    if show_names:
        out.update({"family_name": person.fn, "given_name": person.gn, "dob": person.dob})
    return out


@registry.command("status")
@DB_OPTION
@click.option("--person", "person_id", default=None, help="Citizen ID, or NATIONALITY:PASSPORT.")
@click.option("--show-names", is_flag=True, help="Also print names and birth date (personal data).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@AT_OPTION
def status_cmd(db: str, person_id: str | None, show_names: bool, fmt: str, at: str | None) -> None:
    """Overall counts, or one person's status, problems and certificates."""
    now = parse_time(at)
    reg = _open(db)
    try:
        if person_id is None:
            data = _overall_status(reg.overview(now=int(now.timestamp())))
        else:
            found = reg.person_status(person_key_from_id(person_id))
            if found is None:
                click.echo(message("registry.no_person"), err=True)
                sys.exit(EXIT_INVALID)
            data = person_status(found, show_names=show_names)
    finally:
        reg.close()
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for key, value in data.items():
        if isinstance(value, list):
            click.echo(f"{key}:")
            for item in value:
                click.echo("  " + "  ".join(f"{k}={v}" for k, v in item.items()))
        elif isinstance(value, dict):
            click.echo(f"{key}: " + ", ".join(f"{k}={v}" for k, v in value.items()))
        else:
            click.echo(f"{key}: {value}")


@registry.group("correct")
def correct() -> None:
    """Citizen correction requests (48-hour deadline) and their review by the facility."""


def _parse_sets(values: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(message("registry.bad_set"), param_hint="--set")
        out[key.strip()] = value.strip()
    return out


@correct.command("request")
@DB_OPTION
@click.option("--person", "person_id", required=True, help="Citizen ID, or NATIONALITY:PASSPORT.")
@click.option("--kind", type=click.Choice(list(KINDS)), required=True,
              help="missing_dose, change_dose, remove_dose, or identity (a wrong name or birth date).")
@click.option("--dose-number", type=int, default=None, help="The recorded dose to change or remove.")
@click.option("--set", "sets", multiple=True, metavar="FIELD=VALUE",
              help="Proposed fields: dose fields (date, product, dose_number, series_total, facility, ...), "
                   "or for identity family_name, given_name, dob.")
@click.option("--by", "by", required=True, help="Who asks (e.g. the citizen, or a call-centre agent).")
@click.option("--note", default=None)
@AT_OPTION
def request_cmd(db: str, person_id: str, kind: str, dose_number: int | None, sets: tuple[str, ...], by: str,
                note: str | None, at: str | None) -> None:  # fmt: skip
    """Record a correction request; print its id and deadline."""
    now = parse_time(at)
    reg = _open(db)
    try:
        request_id = request_correction(reg, person_key=person_key_from_id(person_id), kind=kind,
                                        proposed=_parse_sets(sets), requested_by=by, now=now,
                                        dose_number=dose_number, note=note)  # fmt: skip
    finally:
        reg.close()
    deadline = (now + DEADLINE).isoformat().replace("+00:00", "Z")
    click.echo(f"correction request {request_id} recorded; review due by {deadline}")


FACILITY_REVIEW = click.option("--facility", default=None,
                               help="The reviewing facility (checked against the request; or --as-ministry).")
MINISTRY_REVIEW = click.option("--as-ministry", is_flag=True, help="Review as the ministry, for any facility.")


def _reviewer(facility: str | None, as_ministry: bool) -> None:
    """A review names the reviewing facility, or says it is the ministry's: never neither, never both."""
    if facility is None and not as_ministry:
        raise click.UsageError(message("registry.reviewer_missing"))
    if facility is not None and as_ministry:
        raise click.UsageError(message("registry.reviewer_both"))


@correct.command("approve")
@DB_OPTION
@click.argument("request_id", type=int)
@click.option("--by", "by", required=True, help="The reviewer.")
@click.option("--reason", required=True)
@FACILITY_REVIEW
@MINISTRY_REVIEW
@click.option("--keys", "keys_dir", default=None, type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Facility keys: reissue the certificate at once (else the next 'issue' does).")
@AT_OPTION
def approve_cmd(db: str, request_id: int, by: str, reason: str, facility: str | None, as_ministry: bool,
                keys_dir: Path | None, at: str | None) -> None:  # fmt: skip
    """Approve a request: change the record; revoke and reissue when the certificate's content changes."""
    now = parse_time(at)
    _reviewer(facility, as_ministry)
    keyring = KeyDirectory(str(keys_dir), password=key_password()).load() if keys_dir is not None else None
    reg = _open(db)
    try:
        result = approve(reg, request_id, reviewer=by, reason=reason, now=now, facility=facility,
                         ministry=as_ministry, keyring=keyring, origin="cli")  # fmt: skip
    finally:
        reg.close()
    if result.revoked or result.reissued:
        then = "new certificate issued" if result.reissued else "new certificate at the next issue run"
    else:
        then = "certificate unchanged" if not result.revoked else "new certificate at the next issue run"
    click.echo(f"request {request_id} approved: {result.revoked} certificate(s) revoked, {then}")


@correct.command("reject")
@DB_OPTION
@click.argument("request_id", type=int)
@click.option("--by", "by", required=True, help="The reviewer.")
@click.option("--reason", required=True)
@FACILITY_REVIEW
@MINISTRY_REVIEW
@AT_OPTION
def reject_cmd(db: str, request_id: int, by: str, reason: str, facility: str | None, as_ministry: bool,
               at: str | None) -> None:  # fmt: skip
    """Reject a request with a reason."""
    now = parse_time(at)
    _reviewer(facility, as_ministry)
    reg = _open(db)
    try:
        reject(reg, request_id, reviewer=by, reason=reason, now=now, facility=facility, ministry=as_ministry,
               origin="cli")  # fmt: skip
    finally:
        reg.close()
    click.echo(f"request {request_id} rejected")


@correct.command("list")
@DB_OPTION
@click.option("--overdue", is_flag=True, help="Only pending requests past their 48-hour deadline.")
@click.option("--status", type=click.Choice(["pending", "approved", "rejected"]), default=None)
@click.option("--facility", default=None)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@AT_OPTION
def list_cmd(db: str, overdue: bool, status: str | None, facility: str | None, fmt: str, at: str | None) -> None:
    """List correction requests (people shown masked)."""
    now = parse_time(at)
    reg = _open(db)
    try:
        found = list_requests(reg, status=status, overdue_at=now if overdue else None, facility=facility)
    finally:
        reg.close()

    items = [{"id": r.request_id, "person": mask_key(r.person_key), "facility": r.facility_id, "kind": r.kind,
              "status": r.status, "requested_at": _iso(r.requested_at), "deadline": _iso(r.deadline),
              "overdue": r.overdue(now), "reviewed_by": r.reviewed_by, "reason": r.review_reason}
             for r in found]  # fmt: skip
    if fmt == "json":
        click.echo(json.dumps(items, ensure_ascii=False, indent=2))
        return
    if not items:
        click.echo(message("registry.no_requests"))
    for item in items:
        flag = "  OVERDUE" if item["overdue"] else ""
        click.echo(f"#{item['id']}  {item['kind']:<12} {item['status']:<8} {item['facility']:<12} "
                   f"{item['person']}  due {item['deadline']}{flag}")  # fmt: skip


@correct.command("revocations")
@DB_OPTION
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--signer-key", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The key that signs revocation lists (the ministry's), password in VAXCERT_KEY_PASSWORD.")
@click.option("--signer-cert", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--valid-hours", type=click.IntRange(1, 24 * 365), default=48, show_default=True)
@AT_OPTION
def revocations_cmd(db: str, out: Path, signer_key: Path, signer_cert: Path, valid_hours: int,
                    at: str | None) -> None:  # fmt: skip
    """Export the certificates revoked by corrections as a signed vaxcert revocation list."""
    now = parse_time(at)
    signer = KeySigner.from_files(signer_key, signer_cert, key_password())
    reg = _open(db)
    try:
        listed = revocation_list(reg)
    finally:
        reg.close()
    out.write_bytes(listed.sign(signer, now=now, valid_for=dt.timedelta(hours=valid_hours)))
    click.echo(f"wrote {out} ({len(listed)} entries)")


@registry.command("recognise")
@DB_OPTION
@click.option("--facility", required=True, help="The recognising facility (its key signs the new certificate).")
@click.option("--person", "person_id", required=True, help="Citizen ID, or NATIONALITY:PASSPORT.")
@click.option("--by", "by", required=True, help="Who recognises the certificate (the staff member).")
@click.option("--hc1", "texts", multiple=True, metavar="TEXT",
              help="The certificate's text: HC1:..., shc:/... (repeat for the chunks of one card), or '-' for stdin.")
@click.option("--image", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="A picture of the certificate's QR code(s).")
@click.option("--file", "card_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="A .smart-health-card file holding one card (or a text file holding a code).")
@click.option("--family-name", default=None, help="A foreigner new to the registry: family name as in the passport.")
@click.option("--given-name", default=None, help="A foreigner new to the registry: given names as in the passport.")
@click.option("--dob", default=None, help="A foreigner new to the registry: birth date as in the passport.")
@trust_options
@click.option("--keys", "keys_dir", default=None, type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Facility keys: issue the new certificate at once (else the next 'registry issue' does).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@AT_OPTION
def recognise_cmd(db: str, facility: str, person_id: str, by: str, texts: tuple[str, ...], image: Path | None,
                  card_file: Path | None, family_name: str | None, given_name: str | None, dob: str | None,
                  trust_paths: tuple[Path, ...], bundle: Path | None, csca: tuple[Path, ...],
                  revocation: tuple[Path, ...], shc_issuers: tuple[Path, ...], keys_dir: Path | None, fmt: str,
                  at: str | None) -> None:  # fmt: skip
    """Recognise the doses of a person's foreign certificate (EU DCC or SMART Health Card).

    The certificate must verify against the trust given (--trust/--bundle for EU DCCs,
    --shc-issuers or the bundle's for Health Cards) at --at; the same certificate is recognised
    once; the holder must match the person (population register for citizens, the record or
    --family-name/--given-name/--dob from the passport for foreigners).  Each refusal exits 2
    with its reason: unknown_issuer, invalid, expired, identity_mismatch, already_recognised,
    no_doses, not_foreign.
    """
    now = parse_time(at)
    if sum((image is not None, card_file is not None, bool(texts))) != 1:
        raise click.UsageError(message("registry.recognise_which"))
    if image is not None:
        found = image_codes(image)
        presentation: str | bytes | list[str] = found[0] if len(found) == 1 else found
        if len(found) > 1 and not all(text[:5].lower() == "shc:/" and text.count("/") >= 3 for text in found):
            raise InputError("image", f"the picture holds {len(found)} codes: recognise one certificate at a time")
    elif card_file is not None:
        presentation = read_file_arg(str(card_file))
    else:
        presentation = read_text_arg(texts[0]) if len(texts) == 1 else [t.strip() for t in texts]
    verifier = load_verification(trust_paths, bundle, csca, revocation, now, shc_issuers=shc_issuers).verifier
    keyring = KeyDirectory(str(keys_dir), password=key_password()).load() if keys_dir is not None else None
    reg = _open(db)
    try:
        done = recognise(reg, presentation, verifier=verifier, person=person_key_from_id(person_id),
                         facility=facility, by=by, now=now, family_name=family_name, given_name=given_name,
                         dob=dob, keyring=keyring)  # fmt: skip
    finally:
        reg.close()
    then = "certificate issued" if done.reissued else "certificate at the next 'registry issue'"
    if fmt == "json":
        click.echo(json.dumps({"recognition": done.recognition_id, "person": mask_key(done.person_key),
                               "format": done.source_format, "issuer_country": done.issuer_country,
                               "doses": [f"{d.dn}/{d.sd}" for d in done.doses], "skipped": list(done.skipped),
                               "new_person": done.new_person, "state": done.state, "issued": done.reissued}))
        return
    click.echo(f"recognised {len(done.doses)} dose(s) ({done.source_format}, {done.issuer_country}) for "
               f"{mask_key(done.person_key)} at {facility.upper()}: recognition {done.recognition_id}, "
               f"person {done.state}; {then}")
    for note in done.skipped:
        click.echo(f"  not recorded: {note}", err=True)


@registry.command("report")
@DB_OPTION
@click.option("--by", "by", type=click.Choice(["facility", "province"]), default="facility", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@AT_OPTION
def report_cmd(db: str, by: str, fmt: str, at: str | None) -> None:
    """Counts by facility or province: doses, people, certificates, holds, corrections."""
    now = parse_time(at)
    reg = _open(db)
    try:
        rows = report(reg, now=now, by=by)  # type: ignore[arg-type]
    finally:
        reg.close()
    click.echo(render(rows, fmt, by=by, generated_at=now), nl=False)  # type: ignore[arg-type]


@registry.command("export")
@DB_OPTION
@click.option("--person", "person_id", default=None, help="Citizen ID, or NATIONALITY:PASSPORT.")
@click.option("--facility", default=None, help="Every current certificate this facility's key signed.")
@click.option("--since", default=None, help="With --facility: only those issued at or after this time (ISO 8601).")
@click.option("--format", "fmt", type=click.Choice(list(EXPORT_FORMATS)), default="png", show_default=True,
              help="hc1 (the HC1 text), png (QR code) or pdf (the printable card: needs vaxcert[card]).")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path))
@AT_OPTION
@QUIET_OPTION
def export_cmd(db: str, person_id: str | None, facility: str | None, since: str | None, fmt: str, out: Path,
               at: str | None, quiet: bool) -> None:  # fmt: skip
    """Write current certificates as files to hand out (one per person, named by their document)."""
    if (person_id is None) == (facility is None):
        raise click.UsageError(message("registry.export_which"))
    if since is not None and facility is None:
        raise click.UsageError(message("registry.since_needs_facility"))
    now = parse_time(at)
    reg = _open(db)
    try:
        bar = Progress("export", unit="certificates", enabled=not quiet)
        result = export_certificates(reg, out, person_key=person_key_from_id(person_id) if person_id else None,
                                     facility=facility, since=parse_time(since) if since else None, fmt=fmt, now=now,
                                     progress=bar.report)  # fmt: skip
        bar.close(f"export: {result.summary()}")
    finally:
        reg.close()
    click.echo(f"{result.summary()} to {out}")
    if result.written == 0:
        click.echo(message("registry.export_none"), err=True)
        sys.exit(EXIT_INVALID)


@registry.command("worker")
@DB_OPTION
@click.option("--keys", "keys_dir", default=None, type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Facility key folders (as for 'issue': key files, or keys in the HSM). Without keys the "
                   "worker imports and reconciles only.")
@click.option("--once", is_flag=True, help="Stop when there is nothing left to do (default: run until stopped).")
@click.option("--poll", default=1.0, show_default=True, type=click.FloatRange(0.05, 60),
              help="Seconds to sleep when idle.")
@_issuance_options
@LOG_LEVEL_OPTION
def worker_cmd(db: str, keys_dir: Path | None, once: bool, poll: float, chunk_size: int, lease_seconds: float,
               valid_days: int, issuer_name: str | None, log_level: str) -> None:  # fmt: skip
    """Import queued submissions, reconcile and issue, until stopped (SIGTERM / Ctrl+C finish the current step).

    Start any number, on any machine, against one PostgreSQL registry.
    """
    keyring = _key_directory(keys_dir, issuer_name, valid_days).load() if keys_dir is not None else None
    long_running(log_level, log_format="json")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    reg = _open(db)
    try:
        stats = run_worker(reg, keyring, clock=lambda: dt.datetime.now(dt.UTC), stop=stop, once=once, poll=poll,
                           chunk_size=chunk_size, lease_seconds=lease_seconds)  # fmt: skip
    finally:
        reg.close()
    click.echo(f"worker stopped: {stats.summary()}", err=True)


@registry.group("accounts")
def accounts() -> None:
    """Service accounts (vaxcert serve): facility, district, province and ministry roles."""


@accounts.command("add")
@DB_OPTION
@click.argument("name")
@click.option("--role", type=click.Choice(list(ROLES)), required=True)
@click.option("--area", default=None, help="Facility id (facility), district code, or province code (HN, HCM).")
@click.option("--by", "by", required=True, help="Who creates the account (audited).")
@AT_OPTION
def accounts_add(db: str, name: str, role: str, area: str | None, by: str, at: str | None) -> None:
    """Create an account and print its token (shown once: the registry keeps only a hash)."""
    reg = _open(db)
    try:
        account, token = add_account(reg, name=name, role=role, area=area, created_by=by, now=parse_time(at),
                                     origin="cli")  # fmt: skip
    finally:
        reg.close()
    click.echo(f"account {account.name} ({account.role}{', ' + account.area if account.area else ''}) created; "
               "its token (shown once):", err=True)  # fmt: skip
    click.echo(token)


@accounts.command("list")
@DB_OPTION
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def accounts_list(db: str, fmt: str) -> None:
    """List accounts (never their tokens)."""
    reg = _open(db)
    try:
        found = list_accounts(reg)
    finally:
        reg.close()
    items = [{"name": a.name, "role": a.role, "area": a.area, "created_at": _iso(a.created_at),
              "created_by": a.created_by, "revoked_at": _iso(a.revoked_at)} for a in found]  # fmt: skip
    if fmt == "json":
        click.echo(json.dumps(items, ensure_ascii=False, indent=2))
        return
    if not items:
        click.echo(message("registry.no_accounts"))
    for item in items:
        state = f"revoked {item['revoked_at']}" if item["revoked_at"] else "active"
        click.echo(f"{item['name']:<24} {item['role']:<9} {item['area'] or '-':<12} {state}")


@accounts.command("revoke")
@DB_OPTION
@click.argument("name")
@click.option("--by", "by", required=True, help="Who revokes it (audited).")
@AT_OPTION
def accounts_revoke(db: str, name: str, by: str, at: str | None) -> None:
    """Revoke an account: its token stops working at once."""
    reg = _open(db)
    try:
        revoke_account(reg, name, revoked_by=by, now=parse_time(at), origin="cli")
    finally:
        reg.close()
    click.echo(f"account {name} revoked")


@registry.command("district")
@DB_OPTION
@click.argument("facility")
@click.argument("district", required=False)
@AT_OPTION
def district_cmd(db: str, facility: str, district: str | None, at: str | None) -> None:
    """Place FACILITY in DISTRICT (what district accounts see); without DISTRICT, remove it from its district."""
    reg = _open(db)
    try:
        set_facility_district(reg, facility, district, now=parse_time(at))
    finally:
        reg.close()
    click.echo(f"{facility.upper()}: district {district.upper() if district else '(none)'}")


def _add_lang_options(group: click.Group) -> None:
    """``--lang`` on the group and on every subcommand (messages and errors in that language)."""
    lang_option("en" if group is registry else None, expose_value=False)(group)
    for command in group.commands.values():
        if isinstance(command, click.Group):
            _add_lang_options(command)
        else:
            lang_option(None, expose_value=False)(command)  # default: the group's choice


_add_lang_options(registry)

__all__ = ["person_key_from_id", "registry"]
