"""The vaxcert demo: sample Vietnamese dose records → SQLite registry → signed certificates → QR → verdicts.

Run it with ``./scripts/demo.sh`` (which sets up ``.venv`` and a demo key password).  It

1. creates a demo ministry (a CSCA), two facilities with their own Document Signer
   Certificates and a ministry DSC that signs for facilities without a key of their own
   (kept in ``demo-out/keys``, reused on the next run);
2. imports the sample records of ``examples/records/`` into ``demo-out/registry.db`` and loads
   a population register that matches them (the ministry's table);
3. reconciles the doses, issues a certificate per person (the facility of the last dose signs),
   renders each as a QR code ``demo-out/qr/NN.png``, reads the code back from the PNG and
   verifies it against the trust list of the demo DSCs;
4. prints one line per person: initials and a masked ID (``--show-names`` prints the names),
   certificate type, doses, status, signing facility, kid and verdict.

Running it again changes nothing: keys are reused, the import finds every dose unchanged and no
record changed, so no certificate is issued twice; the QR codes are re-rendered and re-verified.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

from vaxcert import (
    TrustList,
    Verifier,
    certificate_pem,
    create_csca,
    create_dsc,
    facility_id_of,
    generate_private_key,
    load_certificate_file,
    load_private_key,
    save_private_key,
    save_qr,
    verify_image,
)
from vaxcert.registry import KeyDirectory, Registry, import_file, issue_all, load_register, open_registry, reconcile

REPO = Path(__file__).resolve().parents[1]
#: The two demo facilities with keys of their own; the ministry DSC signs for the others.
FACILITIES = {"VN-HCM-027": "Bệnh viện Chợ Rẫy", "VN-HN-015": "Bệnh viện Bạch Mai"}


def make_keys(out: Path, now: dt.datetime) -> Path:
    """The demo ministry, its two facility DSCs and a ministry DSC (created once, then reused)."""
    password = os.environ["VAXCERT_KEY_PASSWORD"].encode()
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
    return keys


def sample_files(out: Path) -> tuple[Path, Path]:
    """The sample records as one JSON-lines file, and a population register that matches them."""
    records = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((REPO / "examples/records").glob("*.json"))]
    if not records:
        raise SystemExit("no sample records in examples/records/")
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


def mask(number: str) -> str:
    """A document number with the middle hidden."""
    return number[:3] + "*" * (len(number) - 5) + number[-2:] if len(number) > 5 else "*" * len(number)


def table(registry: Registry, out: Path, trust: TrustList, now: dt.datetime, show_names: bool) -> list[list[str]]:
    """Render, read back and verify each person's current certificate; one table row each."""
    verifier = Verifier(trust)
    signer_of = {s.kid.hex(): (facility_id_of(s.certificate) if s.certificate else None) or "ministry" for s in trust}
    current = dict(registry.current_certificates())
    qr_dir = out / "qr"
    qr_dir.mkdir(exist_ok=True)
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
                          f"HELD: {status.reason or status.state}"])  # fmt: skip
            continue
        png = save_qr(current[key], qr_dir / f"{n:02d}.png")
        result = verify_image(png, verifier, now=now)
        verdict = "VALID" if result.valid else f"INVALID {result.code}"
        lines.append([f"{n:02d}", who, ident, cert.cert_type, f"{status.doses} ({status.dn}/{status.sd})", state,
                      cert.facility_id, signer_of.get(cert.kid, "?"), cert.kid, verdict])  # fmt: skip
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="vaxcert demo on the embedded SQLite registry")
    parser.add_argument("--out", type=Path, default=REPO / "demo-out", help="output folder (default demo-out/)")
    parser.add_argument("--show-names", action="store_true", help="print names and ID numbers (personal data)")
    args = parser.parse_args(argv)
    os.environ.setdefault("VAXCERT_KEY_PASSWORD", "vaxcert-demo-password")
    started = time.perf_counter()
    now = dt.datetime.now(dt.UTC)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    keys = make_keys(out, now)
    records, register = sample_files(out)
    registry = open_registry(f"sqlite:///{out / 'registry.db'}", migrate=True)
    try:
        imported = import_file(registry, records, now=now)
        load_register(registry, register, now=now)
        reconciled = reconcile(registry, now=now)
        password = os.environ["VAXCERT_KEY_PASSWORD"].encode()
        issued = issue_all(registry, KeyDirectory(str(keys), password=password), now=now, workers=1)
        trust = TrustList.from_paths(sorted(keys.glob("*/dsc.pem")))
        lines = table(registry, out, trust, now, args.show_names)
    finally:
        registry.close()
    print(f"registry {out / 'registry.db'}: {imported.summary()}")
    print(f"reconciled: {reconciled.summary()}; {issued.summary()}")
    header = ["#", "person", "id", "type", "doses", "status", "last dose at", "signed by", "kid", "verdict"]
    widths = [max(len(str(row[i])) for row in [header, *lines]) for i in range(len(header))]
    print()
    for row in [header, ["-" * w for w in widths], *lines]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    print(f"\nQR codes in {out / 'qr'}; done in {time.perf_counter() - started:.1f} s")
    return 0 if all(line[-1] == "VALID" for line in lines) else 1


if __name__ == "__main__":
    sys.exit(main())
