"""Recognition of foreign doses (EU DCC, SMART Health Card) in the registry, end to end on both backends."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import segno

from cli_inprocess import run
from conftest import NOW, Pki
from registry_support import (
    BACKENDS,
    PASSWORD,
    citizen_id,
    dose_row,
    facility_signers,
    fresh_registry,
    key_directory,
    keyring,
    register_rows,
    rows,
    scalar,
    trust_of,
    write_csv,
)
from shc_support import (
    EXAMPLE_ISS,
    bundle_of,
    card,
    example_jwks,
    immunization,
    make_claims,
    new_issuer,
    qr_chunks,
    qr_text,
    shc_file,
    sign,
)
from vaxcert import (
    InputError,
    Issuer,
    KeySigner,
    ShcTrust,
    TrustList,
    Verifier,
    create_csca,
    create_dsc,
    generate_private_key,
)
from vaxcert.formats.shc.jws import b64url_decode, b64url_encode
from vaxcert.registry import (
    REFUSALS,
    RecognitionRefused,
    Registry,
    import_file,
    issue_all,
    load_register,
    recognise,
    reconcile,
)

VN_TIME = dt.timezone(dt.timedelta(hours=7))
FACILITY = "VN-HN-001"
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
#: The holder of the example Health Cards (the spec's fixture patient).
PASSPORT = {"family_name": "Anyperson", "given_name": "John B.", "dob": "1951-01-20"}


def day(offset: int) -> str:
    """The Viet Nam calendar date ``offset`` days from NOW."""
    return (NOW.astimezone(VN_TIME).date() + dt.timedelta(days=offset)).isoformat()


class Abroad:
    """A foreign ministry (Germany) signing EU DCCs, and the example SMART Health Card issuer (country US)."""

    def __init__(self) -> None:
        key = generate_private_key("ec")
        csca = create_csca(key, country="DE", name="Bundesministerium", now=NOW - dt.timedelta(days=400))
        dsc_key = generate_private_key("ec")
        dsc = create_dsc(dsc_key, csca=csca, csca_key=key, facility_id=None, facility_name="Robert Koch-Institut",
                         now=NOW - dt.timedelta(days=400), ministry=True)  # fmt: skip
        self.signer = KeySigner(dsc_key, dsc)
        self.trust = TrustList.from_certificates([dsc])
        self.shc = ShcTrust.from_documents([{"iss": EXAMPLE_ISS, "name": "Example Health", "country": "US",
                                             **example_jwks()}])  # fmt: skip

    def dcc(self, *, dn: int = 2, sd: int = 2, offset: int = -60, family: str = "Nguyễn", given: str = "Văn Đức",
            dob: str = "1990-04-12", issued: dt.datetime | None = None, validity_days: int = 365,
            kind: str = "v") -> str:  # fmt: skip
        """An HC1 from Germany for a dose ``offset`` days from NOW (or a recovery with kind="r")."""
        names = {"fn": family, "fnt": _icao(family), "gn": given, "gnt": _icao(given)}
        entry: dict[str, Any]
        if kind == "v":
            entry = {"tg": "840539006", "vp": "1119349007", "mp": "EU/1/20/1528", "ma": "ORG-100030215", "dn": dn,
                     "sd": sd, "dt": day(offset), "co": "DE", "is": "Robert Koch-Institut",
                     "ci": f"URN:UVCI:01DE/IZ12345A/5CWLU12RNOB9RXSEOP6FG8#W{dn}"}
        else:
            entry = {"tg": "840539006", "fr": day(-100), "df": day(-89), "du": day(80), "co": "DE",
                     "is": "Robert Koch-Institut", "ci": "URN:UVCI:01DE/IZ12345A/RECOVERY0001#W"}
        payload = {"ver": "1.3.0", "nam": names, "dob": dob, kind: [entry]}
        when = issued or NOW - dt.timedelta(days=1)
        return Issuer(self.signer, check=False, facility_override=True).issue(payload, now=when,
                                                      validity=dt.timedelta(days=validity_days)).hc1

    def verifier(self) -> Verifier:
        """Trust in this ministry's DSC and the example Health Card issuer."""
        return Verifier(self.trust, shc_trust=self.shc)


def _icao(name: str) -> str:
    from vaxcert.dcc.translit import to_icao

    return to_icao(name)


def pfizer_card(*offsets: int, patient: dict[str, Any] | None = None) -> str:
    """A Health Card of the example issuer with Pfizer doses ``offsets`` days from NOW."""
    return qr_text(card(bundle_of(*(immunization(code="208", date=day(o)) for o in offsets), patient=patient)))


def vn_patient(family: str = "Nguyễn", given: str = "Văn Đức", dob: str = "1990-04-12") -> dict[str, Any]:
    """A FHIR Patient (names as printed abroad: often without the Vietnamese accents)."""
    return {"resourceType": "Patient", "name": [{"family": family, "given": given.split()}], "birthDate": dob}


@pytest.fixture(scope="module")
def abroad() -> Abroad:
    """The foreign issuers of this module."""
    return Abroad()


@pytest.fixture(params=BACKENDS)
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Registry]:
    """A fresh, migrated registry on each backend, with one citizen in the population register."""
    with fresh_registry(request.param, tmp_path) as reg:
        path = write_csv(tmp_path / "register.csv", register_rows([dose_row(1)]),
                         header=("citizen_id", "family_name", "given_name", "dob"))
        load_register(reg, path, now=NOW)
        yield reg


CITIZEN = f"cccd:{citizen_id(1)}"


def _recognise(registry: Registry, presentation: Any, verifier: Verifier, person: str = CITIZEN,
               **kwargs: Any) -> Any:  # fmt: skip
    return recognise(registry, presentation, verifier=verifier, person=person, facility=FACILITY, by="Dr. Lan",
                     now=NOW, **kwargs)  # fmt: skip


def _refused(registry: Registry, reason: str, presentation: Any, verifier: Verifier, **kwargs: Any) -> str:
    before = (scalar(registry, "SELECT COUNT(*) FROM recognitions"), scalar(registry, "SELECT COUNT(*) FROM doses"))
    with pytest.raises(RecognitionRefused) as info:
        _recognise(registry, presentation, verifier, **kwargs)
    assert info.value.reason == reason and reason in REFUSALS
    after = (scalar(registry, "SELECT COUNT(*) FROM recognitions"), scalar(registry, "SELECT COUNT(*) FROM doses"))
    assert after == before  # nothing written
    message = str(info.value)
    assert "Nguyễn" not in message and "Anyperson" not in message
    return message


# -- recognised doses count and are issued --------------------------------------------------------


def test_foreign_dcc_dose_counts_and_the_vn_certificate_shows_its_country_and_issuer(
    registry: Registry, abroad: Abroad, pki: Pki,
) -> None:  # fmt: skip
    """A German 2/2 for a citizen without VN doses: recorded, reconciled ready, issued with co=DE and is=RKI."""
    done = _recognise(registry, abroad.dcc(), abroad.verifier())
    assert (done.source_format, done.issuer_country, done.new_person, done.state) == ("eu-dcc", "DE", True, "ready")
    (dose,) = done.doses
    assert (dose.dn, dose.sd, dose.co, dose.issuer, dose.facility) == (2, 2, "DE", "Robert Koch-Institut", FACILITY)
    status = registry.person_status(CITIZEN)
    assert status is not None and status.complete and status.doses == 1
    (row,) = status.recognitions
    assert (row.source_format, row.issuer_country, row.issuer, row.facility_id, row.recognised_by) == (
        "eu-dcc", "DE", "Robert Koch-Institut", FACILITY, "Dr. Lan")
    assert row.issuer_key == abroad.verifier().verify(abroad.dcc(), now=NOW).key_id
    assert row.certificate_id is not None and row.certificate_id.startswith("URN:UVCI:01DE")
    assert row.recognised_at == int(NOW.timestamp()) and len(row.certificate_hash) == 64
    signers = facility_signers(pki, [FACILITY])
    assert issue_all(registry, keyring(signers), now=NOW, workers=1).issued == 1
    ((_, hc1),) = registry.current_certificates()
    result = Verifier(trust_of(signers)).verify(hc1, now=NOW + dt.timedelta(hours=1))
    assert result.valid and result.issuer_country == "VN"
    entry = result.payload["v"][0]  # type: ignore[index]
    assert (entry["co"], entry["is"], entry["dn"], entry["sd"]) == ("DE", "Robert Koch-Institut", 2, 2)
    assert [e.action for e in _trail(registry)] == ["recognise"]


def _trail(registry: Registry) -> list[Any]:
    return [e for e in registry.audit_trail(CITIZEN) if e.action == "recognise"]


def test_health_card_dose_after_a_domestic_dose(registry: Registry, abroad: Abroad, pki: Pki, tmp_path: Path) -> None:
    """A VN dose 1/2, then a US Pfizer dose on a Health Card: numbered 2 by date, status complete, co=US."""
    import_file(registry, write_csv(tmp_path / "d.csv", [dose_row(1, 1, date=day(-90))]), now=NOW)
    reconcile(registry, now=NOW)
    card_text = pfizer_card(-40, patient=vn_patient(family="Nguyen", given="Van Duc"))  # printed without accents
    done = _recognise(registry, card_text, abroad.verifier())
    (dose,) = done.doses
    assert (dose.dn, dose.sd, dose.co, dose.issuer, done.new_person) == (2, 2, "US", "Example Health", False)
    status = registry.person_status(CITIZEN)
    assert status is not None and status.doses == 2 and status.complete and status.state == "ready"
    signers = facility_signers(pki, [FACILITY])
    issue_all(registry, keyring(signers), now=NOW, workers=1)
    ((_, hc1),) = registry.current_certificates()
    entry = Verifier(trust_of(signers)).verify(hc1, now=NOW + dt.timedelta(hours=1)).payload["v"][0]  # type: ignore[index]
    assert (entry["co"], entry["is"], entry["dn"], entry["dt"]) == ("US", "Example Health", 2, day(-40))


def test_health_card_doses_numbered_by_date_with_a_booster(registry: Registry, abroad: Abroad) -> None:
    """Three Pfizer doses on a card: 1/2, 2/2 and a booster 3/3 (as the EU encodes it)."""
    done = _recognise(registry, pfizer_card(-300, -270, -30, patient=vn_patient()), abroad.verifier())
    assert [(d.dn, d.sd) for d in done.doses] == [(1, 2), (2, 2), (3, 3)]
    status = registry.person_status(CITIZEN)
    assert status is not None and status.booster and status.state == "ready"


def test_foreigner_new_to_the_registry(registry: Registry, abroad: Abroad) -> None:
    """A foreigner: passport number + nationality, names and birth date from the passport, checked against the card."""
    person = "passport:US:X12345678"
    done = _recognise(registry, pfizer_card(-60, -30), abroad.verifier(), person=person,
                      family_name="ANYPERSON", given_name="john b", dob="1951-01-20")  # fmt: skip
    assert done.new_person and done.state == "ready" and len(done.doses) == 2
    stored = registry.person(person)
    assert stored is not None and (stored.fn, stored.nationality, stored.id_number) == ("ANYPERSON", "US", "X12345678")
    second = qr_text(card(bundle_of(immunization(code="208", date=day(-5)))))
    again = _recognise(registry, second, abroad.verifier(), person=person)  # the record is the reference now
    assert not again.new_person and [d.dn for d in again.doses] == [3]
    with pytest.raises(InputError, match="family_name"):
        _recognise(registry, pfizer_card(-10), abroad.verifier(), person="passport:FR:AB1234567")


def test_chunks_and_card_files_are_presentations(registry: Registry, abroad: Abroad) -> None:
    """The chunk texts of one card, and a .smart-health-card file, are recognised like a QR text."""
    jws = card(bundle_of(immunization(code="208", date=day(-60)), patient=vn_patient()))
    assert len(_recognise(registry, qr_chunks(jws, 2), abroad.verifier()).doses) == 1
    other = card(bundle_of(immunization(code="208", date=day(-30)), patient=vn_patient()))
    assert _recognise(registry, shc_file(other), abroad.verifier()).doses[0].dn == 2


# -- one test per refusal ---------------------------------------------------------------------------


def test_refused_unknown_issuer(registry: Registry, abroad: Abroad) -> None:
    """A DCC whose signer is not trusted, and a Health Card of an issuer not trusted: unknown_issuer."""
    other = Abroad()
    _refused(registry, "unknown_issuer", other.dcc(), abroad.verifier())
    key, kid, _ = new_issuer()
    stranger = qr_text(sign(make_claims(bundle_of(immunization(code="208", date=day(-30)), patient=vn_patient()),
                                        iss="https://stranger.example.org"), key, kid=kid))
    _refused(registry, "unknown_issuer", stranger, abroad.verifier())
    nameless = Verifier(shc_trust=ShcTrust.from_documents([{"iss": EXAMPLE_ISS, **example_jwks()}]))
    assert "country" in _refused(registry, "unknown_issuer", pfizer_card(-30, patient=vn_patient()), nameless)


def test_refused_invalid(registry: Registry, abroad: Abroad) -> None:
    """A signature that does not verify, a DER signature, garbage: invalid."""
    jws = card(bundle_of(immunization(code="208", date=day(-30)), patient=vn_patient()))
    head, body, signature = jws.split(".")
    raw = bytearray(b64url_decode(signature))
    raw[5] ^= 0x01
    _refused(registry, "invalid", f"{head}.{body}.{b64url_encode(bytes(raw))}", abroad.verifier())
    _refused(registry, "invalid", sign(make_claims(), der=True), abroad.verifier())
    _refused(registry, "invalid", "HC1:NOT-A-CERTIFICATE", abroad.verifier())


def test_refused_expired(registry: Registry, abroad: Abroad) -> None:
    """A DCC past its expiry, a Health Card past its exp: expired."""
    old = abroad.dcc(issued=NOW - dt.timedelta(days=30), validity_days=10)
    _refused(registry, "expired", old, abroad.verifier())
    stale = qr_text(card(bundle_of(immunization(code="208", date=day(-30)), patient=vn_patient()),
                         exp=NOW.timestamp() - 60))
    _refused(registry, "expired", stale, abroad.verifier())


def test_refused_identity_mismatch(registry: Registry, abroad: Abroad) -> None:
    """Another name, another birth date, a citizen not in the register, a passport that differs: identity_mismatch."""
    _refused(registry, "identity_mismatch", abroad.dcc(family="Trần"), abroad.verifier())
    _refused(registry, "identity_mismatch", abroad.dcc(dob="1990-04-13"), abroad.verifier())
    _refused(registry, "identity_mismatch", abroad.dcc(), abroad.verifier(), person=f"cccd:{citizen_id(2)}")
    _refused(registry, "identity_mismatch", pfizer_card(-30), abroad.verifier(), person="passport:US:X12345678",
             **{**PASSPORT, "family_name": "Otherperson"})
    _refused(registry, "identity_mismatch", pfizer_card(-30), abroad.verifier(), person="passport:US:X12345678",
             **{**PASSPORT, "dob": "1952-01-20"})


def test_refused_already_recognised(registry: Registry, abroad: Abroad) -> None:
    """The same certificate twice, or re-encoded with the other ECDSA signature: already_recognised."""
    jws = card(bundle_of(immunization(code="208", date=day(-30)), patient=vn_patient()))
    _recognise(registry, jws, abroad.verifier())
    message = _refused(registry, "already_recognised", jws, abroad.verifier())
    assert FACILITY in message
    head, body, signature = jws.split(".")
    raw = b64url_decode(signature)
    twin = raw[:32] + (N - int.from_bytes(raw[32:], "big")).to_bytes(32, "big")
    _refused(registry, "already_recognised", f"{head}.{body}.{b64url_encode(twin)}", abroad.verifier())
    hc1 = abroad.dcc()
    _recognise(registry, hc1, abroad.verifier())
    _refused(registry, "already_recognised", hc1, abroad.verifier())


def test_refused_no_doses(registry: Registry, abroad: Abroad) -> None:
    """A recovery certificate, or a card whose vaccine maps to no EU product: no_doses."""
    _refused(registry, "no_doses", abroad.dcc(kind="r"), abroad.verifier())
    unknown = qr_text(card(bundle_of(immunization(code="999", date=day(-30)), patient=vn_patient())))
    assert "999" in _refused(registry, "no_doses", unknown, abroad.verifier())


def test_refused_not_foreign(registry: Registry, abroad: Abroad, pki: Pki) -> None:
    """A certificate issued in Viet Nam is not 'recognised' (its doses are in the registry): not_foreign."""
    payload = {"ver": "1.3.0", "nam": {"fn": "Nguyễn", "fnt": "NGUYEN", "gn": "Văn Đức", "gnt": "VAN<DUC"},
               "dob": "1990-04-12", "v": [{"tg": "840539006", "vp": "1119349007", "mp": "EU/1/20/1528",
                                           "ma": "ORG-100030215", "dn": 1, "sd": 2, "dt": day(-30), "co": "VN",
                                           "is": "Bộ Y tế", "ci": "URN:UVCI:01:VN:ABC123#T"}]}
    hc1 = Issuer(pki.signer, facility_override=True).issue(payload, now=NOW - dt.timedelta(hours=2)).hc1
    _refused(registry, "not_foreign", hc1, Verifier(pki.trust))


# -- the CLI ----------------------------------------------------------------------------------------


def _png(text: str) -> bytes:
    buffer = io.BytesIO()
    segno.make_qr(text, error="l").save(buffer, kind="png", scale=3, border=4)
    return buffer.getvalue()


@pytest.mark.parametrize("backend", BACKENDS)
def test_cli_recognise_end_to_end(backend: str, tmp_path: Path, abroad: Abroad, pki: Pki,
                                  monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """registry init/import --register, recognise (--hc1, --file, --image), each refusal exit 2, issue, status."""
    with fresh_registry(backend, tmp_path) as reg:
        db = reg.spec.url if backend == "sqlite" else f"{reg.spec.url}?schema={reg.spec.schema}"
        register = write_csv(tmp_path / "register.csv", register_rows([dose_row(1)]),
                             header=("citizen_id", "family_name", "given_name", "dob"))
        assert run("registry", "import", "--db", db, "--register", str(register), "--quiet",
                   "--at", NOW.isoformat()).returncode == 0
        trust = tmp_path / "de.pem"
        trust.write_bytes(_pem(abroad))
        issuers = tmp_path / "issuers"
        issuers.mkdir()
        (issuers / "example.json").write_text(json.dumps({"iss": EXAMPLE_ISS, "name": "Example Health",
                                                          "country": "US", **example_jwks()}))  # fmt: skip
        base = ["registry", "recognise", "--db", db, "--facility", FACILITY, "--person", citizen_id(1), "--by", "Lan",
                "--trust", str(trust), "--shc-issuers", str(issuers), "--at", NOW.isoformat()]
        hc1 = abroad.dcc(offset=-200, dn=1)
        r = run(*base, "--hc1", hc1)
        assert r.returncode == 0 and "recognised 1 dose(s) (eu-dcc, DE)" in r.stdout, r
        assert citizen_id(1) not in r.stdout
        r = run(*base, "--hc1", hc1)
        assert r.returncode == 2 and "already_recognised" in r.stderr
        card_file = tmp_path / "card.smart-health-card"
        card_file.write_bytes(shc_file(card(bundle_of(immunization(code="208", date=day(-170)), patient=vn_patient()))))
        r = run(*base, "--file", str(card_file), "--format", "json")
        assert r.returncode == 0 and json.loads(r.stdout)["doses"] == ["2/2"], r
        picture = tmp_path / "card.png"
        picture.write_bytes(_png(pfizer_card(-20, patient=vn_patient())))
        r = run(*base, "--image", str(picture))
        assert r.returncode == 0 and "(shc, US)" in r.stdout, r
        refusals = {
            "unknown_issuer": ["--hc1", Abroad().dcc()],
            "invalid": ["--hc1", "shc:/567"],
            "expired": ["--hc1", abroad.dcc(issued=NOW - dt.timedelta(days=30), validity_days=10)],
            "identity_mismatch": ["--hc1", abroad.dcc(family="Trần", offset=-10)],
            "no_doses": ["--hc1", abroad.dcc(kind="r")],
        }
        for reason, extra in refusals.items():
            r = run(*base, *extra)
            assert r.returncode == 2 and reason in r.stderr and "Traceback" not in r.stderr, (reason, r)
        keys = key_directory(tmp_path / "keys", facility_signers(pki, [FACILITY]), monkeypatch)
        r = run("registry", "issue", "--db", db, "--keys", keys.path, "--workers", "1", "--quiet",
                "--at", NOW.isoformat(), env={"VAXCERT_KEY_PASSWORD": PASSWORD})
        assert r.returncode == 0 and "issued 1 certificates" in r.stdout, r
        r = run("registry", "status", "--db", db, "--person", citizen_id(1), "--format", "json")
        status = json.loads(r.stdout)
        assert status["doses"] == 3 and status["booster"] and len(status["recognised"]) == 3
        assert {x["format"] for x in status["recognised"]} == {"eu-dcc", "shc"}


def _pem(abroad: Abroad) -> bytes:
    from vaxcert import certificate_pem

    return certificate_pem(abroad.signer.certificate)



# -- upgrading a registry of schema version 1 ---------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_version_1_registry_upgrades_and_keeps_working(backend: str, tmp_path: Path, pki: Pki) -> None:
    """A schema-1 registry migrates through 2 (service) and 3 (recognition); old doses issue as before."""
    from vaxcert.registry import _migrations

    real = _migrations.load_migrations

    def only_first(name: str) -> list[Any]:
        return real(name)[:1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_migrations, "load_migrations", only_first)
        context = fresh_registry(backend, tmp_path)
        reg = context.__enter__()
    try:
        assert reg.schema_version() == 1
        with reg.transaction() as tx:
            tx.execute("INSERT INTO persons (person_key, id_kind, id_number, nationality, fn, gn, fnt, gnt, dob,"
                       " created_at, updated_at) VALUES (?, 'cccd', ?, 'VN', 'Nguyễn', 'Văn Đức', 'NGUYEN',"
                       " 'VAN<DUC', '1990-04-12', 0, 0)", (CITIZEN, citizen_id(1)))
            tx.execute("INSERT INTO doses (dose_key, person_key, facility_id, dose_number, series_total,"
                       " vaccination_date, tg, vp, mp, ma, co, row_hash, created_at, updated_at) VALUES"
                       " ('k1', ?, ?, 2, 2, ?, '840539006', '1119349007', 'EU/1/20/1528', 'ORG-100030215', 'VN',"
                       " 'h', 0, 0)", (CITIZEN, FACILITY, day(-60)))
            tx.execute("INSERT INTO population_register (citizen_id, fn, gn, dob, loaded_at) VALUES"
                       " (?, 'Nguyễn', 'Văn Đức', '1990-04-12', 0)", (citizen_id(1),))
        latest = len(real("sqlite" if backend == "sqlite" else "postgres"))
        assert reg.migrate() == list(range(2, latest + 1)) and reg.schema_version() == latest
        applied = dict(rows(reg, "SELECT version, name FROM schema_version WHERE version <= 3"))
        assert applied == {1: "initial", 2: "service", 3: "recognition"}
        assert reg.setting("rate_limit_key") and reg.accounts() == [] and reg.recognitions_of(CITIZEN) == []
        assert reg.doses_of([CITIZEN])[CITIZEN][0].issuer is None
        reconcile(reg, now=NOW)
        signers = facility_signers(pki, [FACILITY])
        assert issue_all(reg, keyring(signers), now=NOW, workers=1).issued == 1
        ((_, hc1),) = reg.current_certificates()
        entry = Verifier(trust_of(signers)).verify(hc1, now=NOW + dt.timedelta(hours=1)).payload["v"][0]  # type: ignore[index]
        assert entry["co"] == "VN" and entry["is"] != "Robert Koch-Institut"
    finally:
        context.__exit__(None, None, None)
