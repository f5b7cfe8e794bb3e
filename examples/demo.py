"""The vaxcert demo: sample Vietnamese dose records → SQLite registry → signed certificates → QR → passes.

Run it with ``./scripts/demo.sh`` (which sets up ``.venv`` and a demo key password).  It

1. creates a demo ministry (a CSCA), two facilities with their own Document Signer
   Certificates and a ministry DSC that signs for facilities without a key of their own
   (kept in ``demo-out/keys``, reused on the next run);
2. moves the dose dates of the sample records of ``examples/records/`` to the days before today
   (keeping the intervals between doses), so that today's checkpoint shows every colour:
   fully vaccinated and booster (GREEN), one dose of two and a second dose only a few days old
   (YELLOW), and a series whose last dose is over a year old (RED, ``PASS_EXPIRED``);
3. imports them into ``demo-out/registry.db``, loads a population register that matches them,
   reconciles the doses and issues a certificate per person (the facility of the last dose signs),
   writes its HC1 text to ``demo-out/hc1/NN.txt`` and renders it as a QR code
   ``demo-out/qr/NN.png``, reads it back from the PNG, verifies it and assesses the pass;
4. publishes a signed trust list of the demo DSCs and the registry's revocation list, and signs
   them with the value sets into an offline bundle ``demo-out/bundle.cose`` (what a checkpoint
   device loads: ``vaxcert scan --bundle``, ``vaxcert checkpoint serve``), and writes the sample
   people's citizen ID card QR texts to ``demo-out/cccd.txt`` (synthetic) for the page's
   identity check;
5. prints one line per person: initials and a masked ID (``--show-names`` prints the names),
   certificate type, doses, status, signing facility, kid, verdict and pass; and ends with
   ``vaxcert scan`` of its own QR codes against the bundle, as a checkpoint would run it.

Running it again the same day changes nothing: keys are reused, the import finds every dose
unchanged, so no certificate is issued twice; the QR codes are re-rendered and re-verified.  On a
later day the sample dates move with the calendar, so the registry is started afresh.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from vaxcert import (
    KeySigner,
    TrustList,
    ValueSets,
    Verifier,
    build_bundle,
    certificate_pem,
    create_csca,
    create_dsc,
    facility_id_of,
    generate_private_key,
    load_certificate_file,
    load_private_key,
    publish,
    save_private_key,
    save_qr,
    scan,
)
from vaxcert.registry import (
    KeyDirectory,
    Registry,
    import_file,
    issue_all,
    load_register,
    open_registry,
    reconcile,
    revocation_list,
)

REPO = Path(__file__).resolve().parents[1]
#: The two demo facilities with keys of their own; the ministry DSC signs for the others.
FACILITIES = {"VN-HCM-027": "Bệnh viện Chợ Rẫy", "VN-HN-015": "Bệnh viện Bạch Mai"}
#: How many days before today each sample record's last dose is moved to, and the pass that gives.
LAST_DOSE_DAYS_AGO = {
    "01-astrazeneca-two-doses.json": 40,       # GREEN  fully vaccinated (2/2, 14 days to 12 months ago)
    "02-pfizer-booster.json": 20,              # GREEN  booster (3/3)
    "03-mixed-astrazeneca-pfizer.json": 5,     # YELLOW 2/2 but the last dose is under 14 days old
    "04-partial-one-of-two.json": 30,          # YELLOW partly vaccinated (1/2)
    "05-moderna-birth-year-only.json": 400,    # RED    the pass expired 12 months after the last dose
    "06-foreigner-passport.json": 60,          # GREEN  fully vaccinated (a foreign passport holder)
}
#: Viet Nam's calendar (UTC+7): the checkpoint policy counts days in it.
VN_TIME = dt.timezone(dt.timedelta(hours=7))


def make_keys(out: Path, now: dt.datetime, password: bytes) -> tuple[Path, KeySigner]:
    """The demo ministry, its two facility DSCs and a ministry DSC (created once, then reused).

    Returns the keys folder and the ministry's CSCA signer (it signs the trust list and bundle).
    """
    ministry = out / "ministry"
    if not (ministry / "csca.pem").exists():
        ministry.mkdir(parents=True, exist_ok=True)
        key = generate_private_key("ec")
        cert = create_csca(key, country="VN", name="Ministry of Health VN (demo)", now=now - dt.timedelta(days=1))
        save_private_key(key, ministry / "csca.key.pem", password)
        (ministry / "csca.pem").write_bytes(certificate_pem(cert))
    csca = load_certificate_file(ministry / "csca.pem")[0]
    csca_key = load_private_key(ministry / "csca.key.pem", password)
    keys = out / "keys"
    wanted: dict[str, tuple[str | None, str]] = {f: (f, name) for f, name in FACILITIES.items()}
    wanted["MINISTRY"] = (None, "Ministry of Health VN signer (demo)")
    for folder_name, (facility, name) in wanted.items():
        folder = keys / folder_name
        if (folder / "dsc.pem").exists():
            continue
        folder.mkdir(parents=True, exist_ok=True)
        key = generate_private_key("ec")
        cert = create_dsc(key, csca=csca, csca_key=csca_key, facility_id=facility, facility_name=name,
                          now=now - dt.timedelta(days=1), ministry=facility is None)  # fmt: skip
        save_private_key(key, folder / "dsc.key.pem", password)
        (folder / "dsc.pem").write_bytes(certificate_pem(cert))
    return keys, KeySigner(csca_key, csca)


def moved_to(record: dict[str, Any], last_dose: dt.date) -> dict[str, Any]:
    """The record with its doses moved so the last falls on ``last_dose`` (intervals kept)."""
    days = [dt.date.fromisoformat(d["date"]) for d in record["doses"]]
    shift = last_dose - max(days)
    doses = [{**d, "date": (day + shift).isoformat()} for d, day in zip(record["doses"], days, strict=True)]
    return {**record, "doses": doses}


def sample_files(out: Path, today: dt.date) -> tuple[Path, Path]:
    """The sample records (dates moved before ``today``) as JSON lines, and a matching population register."""
    sources = sorted((REPO / "examples/records").glob("*.json"))
    if not sources:
        raise SystemExit("no sample records in examples/records/")
    records = []
    for path in sources:
        record = json.loads(path.read_text(encoding="utf-8"))
        days_ago = LAST_DOSE_DAYS_AGO.get(path.name, 60)
        records.append(moved_to(record, today - dt.timedelta(days=days_ago)))
    lines = out / "records.jsonl"
    lines.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    register = out / "population-register.csv"
    with register.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["citizen_id", "family_name", "given_name", "dob"])
        for r in records:
            person = r["person"]
            if person.get("identity", {}).get("type") == "cccd":
                writer.writerow([person["identity"]["number"], person["name"]["family"],
                                 person["name"].get("given", ""), person["dob"]])  # fmt: skip
    return lines, register


def id_card_texts(records: Path, out: Path) -> Path:
    """The sample people's citizen ID card QR texts, for the checkpoint page's identity check (synthetic data):
    ID number | old ID number | name | birth date DDMMYYYY (00 where unknown) | sex | address | issue date."""
    lines = []
    for line in records.read_text(encoding="utf-8").splitlines():
        person = json.loads(line)["person"]
        if person.get("identity", {}).get("type") != "cccd":
            continue
        name = f"{person['name']['family']} {person['name'].get('given', '')}".strip()
        year, month, day = [*person["dob"].split("-"), "00", "00"][:3]
        lines.append(f"{person['identity']['number']}||{name}|{day}{month}{year}|-|(demo)|01012022")
    path = out / "cccd.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def fresh_registry_for(out: Path, today: dt.date) -> bool:
    """Start the registry afresh when the sample dates were moved to another day; True if so."""
    marker = out / "sample-day.txt"
    if marker.exists() and marker.read_text(encoding="utf-8").strip() == today.isoformat():
        return False
    for name in ("registry.db", "registry.db-wal", "registry.db-shm"):
        (out / name).unlink(missing_ok=True)
    marker.write_text(today.isoformat() + "\n", encoding="utf-8")
    return True


def mask(number: str) -> str:
    """A document number with the middle hidden."""
    return number[:3] + "*" * (len(number) - 5) + number[-2:] if len(number) > 5 else "*" * len(number)


def table(registry: Registry, out: Path, trust: TrustList, now: dt.datetime, show_names: bool) -> list[list[str]]:
    """Render, read back, verify and assess each person's current certificate; one table row each."""
    verifier = Verifier(trust)
    signer_of = {s.kid.hex(): (facility_id_of(s.certificate) if s.certificate else None) or "ministry" for s in trust}
    current = dict(registry.current_certificates())
    qr_dir, hc1_dir = out / "qr", out / "hc1"
    for folder in (qr_dir, hc1_dir):
        folder.mkdir(exist_ok=True)
        for old in folder.glob("*.*"):
            old.unlink()
    lines = []
    for n, key in enumerate(registry.person_keys(), start=1):
        status = registry.person_status(key)
        assert status is not None
        p = status.person
        full = f"{p.fn} {p.gn or ''}".strip()
        who = full if show_names else "".join(w[0] + "." for w in full.split())
        number = p.id_number if show_names else mask(p.id_number)
        ident = f"{'CCCD' if p.id_kind == 'cccd' else 'PP ' + p.nationality} {number}"
        state = "booster" if status.booster else ("complete" if status.complete else "partial")
        cert = next((c for c in status.certificates if c.status == "current"), None)
        if cert is None or key not in current:
            lines.append([f"{n:02d}", who, ident, "-", f"{status.doses}", state, "-", "-", "-",
                          f"HELD: {status.reason or status.state}", "-"])  # fmt: skip
            continue
        (hc1_dir / f"{n:02d}.txt").write_text(current[key] + "\n", encoding="ascii")
        png = save_qr(current[key], qr_dir / f"{n:02d}.png")
        (verdict,) = scan(Path(png), verifier, now=now)
        result = verdict.result
        valid = "VALID" if result.valid else f"INVALID {result.code}"
        lines.append([f"{n:02d}", who, ident, cert.cert_type, f"{status.doses} ({status.dn}/{status.sd})", state,
                      cert.facility_id, signer_of.get(cert.kid, "?"), cert.kid, valid,
                      f"{verdict.colour} {verdict.assessment.reason}"])  # fmt: skip
    return lines


def offline_bundle(out: Path, keys: Path, ministry: KeySigner, registry: Registry, now: dt.datetime) -> Path:
    """A signed trust list of the demo DSCs, the registry's revocation list and the value sets, in one bundle."""
    dscs = [load_certificate_file(p)[0] for p in sorted(keys.glob("*/dsc.pem"))]
    cscas = [ministry.certificate]
    trust_list = publish(dscs, ministry, cscas=cscas, now=now, valid_for=dt.timedelta(days=7))
    revoked = revocation_list(registry).sign(ministry, now=now, valid_for=dt.timedelta(days=2))
    (out / "trustlist.cose").write_bytes(trust_list)
    (out / "revocation.cose").write_bytes(revoked)
    data = build_bundle(ministry, trust_list=trust_list, revocation=[revoked], valuesets=ValueSets.bundled(),
                        now=now, fresh_for=dt.timedelta(hours=24), cscas=cscas)  # fmt: skip
    bundle = out / "bundle.cose"
    bundle.write_bytes(data)
    return bundle


def checkpoint_scan(out: Path, bundle: Path, lang: str) -> int:
    """Run ``vaxcert scan`` on the demo's QR codes against the bundle, printing the command and its lines."""
    shown = [os.path.relpath(p) if p.is_relative_to(Path.cwd()) else str(p)
             for p in (bundle, out / "ministry" / "csca.pem", out / "qr")]  # fmt: skip
    print(f"\n$ vaxcert scan --bundle {shown[0]} --csca {shown[1]} --lang {lang} {shown[2]}")
    sys.stdout.flush()
    command = [sys.executable, "-m", "vaxcert", "scan", "--bundle", str(bundle), "--csca",
               str(out / "ministry" / "csca.pem"), "--lang", lang, "--no-progress", str(out / "qr")]  # fmt: skip
    return subprocess.run(command, check=False).returncode  # noqa: S603 - our own interpreter and paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="vaxcert demo on the embedded SQLite registry")
    parser.add_argument("--out", type=Path, default=REPO / "demo-out", help="output folder (default demo-out/)")
    parser.add_argument("--show-names", action="store_true", help="print names and ID numbers (personal data)")
    parser.add_argument("--lang", choices=("en", "vi"), default="en", help="language of the final scan (default en)")
    parser.add_argument("--no-scan", action="store_true", help="skip the final 'vaxcert scan'")
    args = parser.parse_args(argv)
    password = os.environ.setdefault("VAXCERT_KEY_PASSWORD", "vaxcert-demo-password").encode()
    started = time.perf_counter()
    now = dt.datetime.now(dt.UTC)
    today = now.astimezone(VN_TIME).date()
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    keys, ministry = make_keys(out, now, password)
    if fresh_registry_for(out, today):
        print(f"sample dose dates moved to the days before {today.isoformat()}: a new registry")
    records, register = sample_files(out, today)
    cards = id_card_texts(records, out)
    registry = open_registry(f"sqlite:///{out / 'registry.db'}", migrate=True)
    try:
        imported = import_file(registry, records, now=now)
        load_register(registry, register, now=now)
        reconciled = reconcile(registry, now=now)
        issued = issue_all(registry, KeyDirectory(str(keys), password=password), now=now, workers=1)
        trust = TrustList.from_paths(sorted(keys.glob("*/dsc.pem")))
        lines = table(registry, out, trust, now, args.show_names)
        bundle = offline_bundle(out, keys, ministry, registry, now)
    finally:
        registry.close()
    print(f"registry {out / 'registry.db'}: {imported.summary()}")
    print(f"reconciled: {reconciled.summary()}; {issued.summary()}")
    header = ["#", "person", "id", "type", "doses", "status", "last dose at", "signed by", "kid", "verdict", "pass"]
    widths = [max(len(str(row[i])) for row in [header, *lines]) for i in range(len(header))]
    print()
    for row in [header, ["-" * w for w in widths], *lines]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    print(f"\nQR codes in {out / 'qr'} (HC1 texts in {out / 'hc1'}); offline bundle {bundle} (trust list, "
          f"revocation list, value sets; fresh for 24 h); done in {time.perf_counter() - started:.1f} s")
    print(f"the checkpoint page on this bundle: ./scripts/checkpoint.sh (ID card codes to try: {cards})")
    if not args.no_scan:
        checkpoint_scan(out, bundle, args.lang)  # exit 1 there: one pass is RED on purpose
    return 0 if all(line[-2] == "VALID" for line in lines) else 1


if __name__ == "__main__":
    sys.exit(main())
