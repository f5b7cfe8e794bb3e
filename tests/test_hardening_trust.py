"""Issue 10, items 1 and 5: signed-document lifetime, signer and sequence checks; checkpoint rollback state."""

from __future__ import annotations

import datetime as dt
import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from cli_inprocess import PASSWORD, run
from conftest import NOW, Pki
from test_issue_verify import VACCINATION
from vaxcert import FailureCode, Issuer, SequenceState, load_verifier, write_atomic
from vaxcert.errors import ConfigurationError
from vaxcert.pki import create_list_signer
from vaxcert.pki.certificates import certificate_pem
from vaxcert.pki.keys import KeySigner, generate_private_key, save_private_key
from vaxcert.stages import cbor, cose
from vaxcert.trust import RevocationList, build_bundle, load_signed, open_bundle, publish
from vaxcert.trust import bundle as bundle_mod
from vaxcert.trust import lists as lists_mod
from vaxcert.trust import revocation as revocation_mod
from vaxcert.trust.signeddoc import HDR_X5CHAIN, DocumentError

DAY = dt.timedelta(days=1)


def _list_signer(pki: Pki, *, start: dt.datetime, days: int) -> KeySigner:
    key = generate_private_key("ec")
    cert = create_list_signer(key, csca=pki.csca, csca_key=pki.csca_key, name="List Signer", now=start,
                              valid_days=days)  # fmt: skip
    return KeySigner(key, cert)


def _forge(fmt: str, body: dict[str, Any], signer: KeySigner, *, iat: dt.datetime, exp: dt.datetime, seq: int) -> bytes:
    """A signed document written by hand, as an attacker holding a (possibly expired) key would."""
    payload = cbor.dumps({"fmt": fmt, "iat": int(iat.timestamp()), "exp": int(exp.timestamp()), "seq": seq, **body})
    der = signer.certificate.public_bytes(Encoding.DER)
    protected = cbor.dumps({1: signer.algorithm, 4: signer.kid, HDR_X5CHAIN: der})
    return cose.encode(payload, signer, protected=protected)


def _bodies(pki: Pki) -> dict[str, tuple[str, dict[str, Any], Callable[[bytes], object]]]:
    """fmt, a valid body and the loader of each document type."""
    ministry = KeySigner(pki.csca_key, pki.csca)
    trust = publish([pki.dsc], ministry, cscas=[pki.csca], now=NOW, valid_for=DAY)
    revocation = RevocationList().sign(ministry, now=NOW, valid_for=DAY)
    return {
        "trust-list": (lists_mod.FORMAT, {"country": "VN", "dsc": [pki.dsc.public_bytes(Encoding.DER)]},
                       lambda d: load_signed(d, [pki.csca], now=NOW)),
        "revocation-list": (revocation_mod.FORMAT, {"country": "VN", "entries": {}},
                            lambda d: RevocationList.load(d, [pki.csca], now=NOW)),
        "bundle": (bundle_mod.FORMAT, {"trust_list": trust, "revocation": [revocation], "valuesets": None,
                                       "rules": None}, lambda d: open_bundle(d, [pki.csca], now=NOW)),
    }  # fmt: skip


KINDS = ["trust-list", "revocation-list", "bundle"]


@pytest.mark.parametrize("kind", KINDS)
def test_issue_reproduction_expired_signer_ten_years_huge_sequence(pki: Pki, kind: str) -> None:
    """A list signed months ago by a now-expired list signer, 10-year expiry, sequence 10**12, is refused."""
    signer = _list_signer(pki, start=NOW - dt.timedelta(days=29), days=20)  # expired 9 days before NOW
    fmt, body, load = _bodies(pki)[kind]
    iat = NOW - dt.timedelta(days=15)
    data = _forge(fmt, body, signer, iat=iat, exp=iat + dt.timedelta(days=3650), seq=10**12)
    with pytest.raises(DocumentError):
        load(data)


@pytest.mark.parametrize("kind", KINDS)
def test_expired_list_signer_alone_is_refused(pki: Pki, kind: str) -> None:
    """A list issued inside its signer's validity stops verifying once the signer has expired."""
    signer = _list_signer(pki, start=NOW - dt.timedelta(days=29), days=20)
    fmt, body, load = _bodies(pki)[kind]
    iat = NOW - dt.timedelta(days=12)
    data = _forge(fmt, body, signer, iat=iat, exp=iat + dt.timedelta(days=7), seq=int(iat.timestamp()))
    with pytest.raises(DocumentError, match="not valid at the verification time"):
        load(data)
    fresh = _list_signer(pki, start=NOW - dt.timedelta(days=29), days=60)
    load(_forge(fmt, body, fresh, iat=iat, exp=iat + dt.timedelta(days=7), seq=int(iat.timestamp())))


@pytest.mark.parametrize("kind", KINDS)
def test_lifetime_cap(pki: Pki, kind: str) -> None:
    """A document living longer than 7 days is refused by default; a verifier may allow more."""
    ministry = KeySigner(pki.csca_key, pki.csca)
    fmt, body, load = _bodies(pki)[kind]
    data = _forge(fmt, body, ministry, iat=NOW, exp=NOW + dt.timedelta(days=3650), seq=int(NOW.timestamp()))
    with pytest.raises(DocumentError, match="longer than the 7 days allowed"):
        load(data)
    load(_forge(fmt, body, ministry, iat=NOW, exp=NOW + dt.timedelta(days=7), seq=int(NOW.timestamp())))
    month = _forge(fmt, body, ministry, iat=NOW, exp=NOW + dt.timedelta(days=30), seq=1)
    opener = {"trust-list": lambda: load_signed(month, [pki.csca], now=NOW, max_lifetime=dt.timedelta(days=31)),
              "revocation-list": lambda: RevocationList.load(month, [pki.csca], now=NOW,
                                                              max_lifetime=dt.timedelta(days=31)),
              "bundle": lambda: open_bundle(month, [pki.csca], now=NOW, max_lifetime=dt.timedelta(days=31))}
    opener[kind]()


@pytest.mark.parametrize("kind", KINDS)
def test_implausible_sequence_and_future_issue(pki: Pki, kind: str) -> None:
    """A sequence far ahead of the issue time, or an issue time days in the future, is refused."""
    ministry = KeySigner(pki.csca_key, pki.csca)
    fmt, body, load = _bodies(pki)[kind]
    with pytest.raises(DocumentError, match="implausible"):
        load(_forge(fmt, body, ministry, iat=NOW, exp=NOW + DAY, seq=10**12))
    later = NOW + dt.timedelta(days=3)
    with pytest.raises(DocumentError, match="future"):
        load(_forge(fmt, body, ministry, iat=later, exp=later + DAY, seq=int(later.timestamp())))
    load(_forge(fmt, body, ministry, iat=NOW, exp=NOW + DAY, seq=int(NOW.timestamp()) + 3600))
    load(_forge(fmt, body, ministry, iat=NOW, exp=NOW + DAY, seq=3))


def test_publishers_refuse_what_verifiers_refuse(pki: Pki) -> None:
    """publish / RevocationList.sign / build_bundle refuse a 10-year life and a sequence of 10**12."""
    ministry = KeySigner(pki.csca_key, pki.csca)
    decade = dt.timedelta(days=3650)
    with pytest.raises(ConfigurationError, match="at most 7 days"):
        publish([pki.dsc], ministry, cscas=[pki.csca], now=NOW, valid_for=decade)
    with pytest.raises(ConfigurationError, match="runs ahead"):
        publish([pki.dsc], ministry, cscas=[pki.csca], now=NOW, valid_for=DAY, sequence=10**12)
    with pytest.raises(ConfigurationError, match="at most 7 days"):
        RevocationList().sign(ministry, now=NOW, valid_for=decade)
    trust = publish([pki.dsc], ministry, cscas=[pki.csca], now=NOW, valid_for=DAY)
    with pytest.raises(ConfigurationError, match="at most 7 days"):
        build_bundle(ministry, trust_list=trust, now=NOW, fresh_for=decade)
    longer = publish([pki.dsc], ministry, cscas=[pki.csca], now=NOW, valid_for=dt.timedelta(days=30),
                     max_lifetime=dt.timedelta(days=30))  # fmt: skip
    assert load_signed(longer, [pki.csca], now=NOW, max_lifetime=dt.timedelta(days=30)).document is not None


def _ministry_files(pki: Pki, tmp_path: Path) -> tuple[Path, Path]:
    csca = tmp_path / "csca.pem"
    csca.write_bytes(certificate_pem(pki.csca))
    dsc = tmp_path / "dsc.pem"
    dsc.write_bytes(certificate_pem(pki.dsc))
    return csca, dsc


def test_cli_refuses_the_forged_list(pki: Pki, tmp_path: Path) -> None:
    """trust verify answers TRUST_LIST_INVALID (exit 1) and verify --trust exits 2, for the issue's forged list."""
    csca, _ = _ministry_files(pki, tmp_path)
    signer = _list_signer(pki, start=NOW - dt.timedelta(days=29), days=20)
    fmt, body, _ = _bodies(pki)["trust-list"]
    iat = NOW - dt.timedelta(days=15)
    forged = tmp_path / "forged.cose"
    forged.write_bytes(_forge(fmt, body, signer, iat=iat, exp=iat + dt.timedelta(days=3650), seq=10**12))
    at = NOW.isoformat()
    r = run("trust", "verify", str(forged), "--csca", str(csca), "--at", at, "--format", "json")
    assert r.returncode == 1 and json.loads(r.stdout)["code"] == "TRUST_LIST_INVALID"
    cert = Issuer(pki.signer, facility_override=True).issue(VACCINATION, now=NOW)
    r = run("verify", cert.hc1, "--trust", str(forged), "--csca", str(csca), "--at", at)
    assert r.returncode == 2 and "TRUST_LIST_INVALID" in r.stderr and "Traceback" not in r.stderr
    save_private_key(pki.csca_key, tmp_path / "csca.key.pem", PASSWORD.encode())
    r = run("trust", "publish", str(tmp_path / "dsc.pem"), "-o", str(tmp_path / "long.cose"), "--signer-key",
            str(tmp_path / "csca.key.pem"), "--signer-cert", str(csca), "--valid-days", "3650", "--at", at)
    assert r.returncode == 2 and "at most 7 days" in r.stderr and not (tmp_path / "long.cose").exists()


# -- item 5: the checkpoint's sequence state -----------------------------------------------------


def _trust_list(pki: Pki, seq: int, at: dt.datetime = NOW) -> bytes:
    return publish([pki.dsc], KeySigner(pki.csca_key, pki.csca), cscas=[pki.csca], now=at, valid_for=DAY,
                   sequence=seq)  # fmt: skip


def test_sequence_state_file(pki: Pki, tmp_path: Path) -> None:
    """The state starts empty, records the highest sequence per kind, refuses older ones, saves 0600."""
    path = tmp_path / "state" / "checkpoint.json"
    state = SequenceState.load(path)
    assert state.items() == {}
    newer = load_signed(_trust_list(pki, 20), [pki.csca], now=NOW).document
    older = load_signed(_trust_list(pki, 10), [pki.csca], now=NOW).document
    assert newer is not None and older is not None
    assert state.admit(newer, code=FailureCode.TRUST_LIST_INVALID) == 0
    state.save()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = SequenceState.load(path)
    assert again.items() == {"vaxcert.trust-list/1:VN": 20}
    with pytest.raises(DocumentError, match="rollback") as info:
        again.admit(older, code=FailureCode.TRUST_LIST_INVALID)
    assert info.value.code == FailureCode.TRUST_LIST_INVALID
    again.admit(newer, code=FailureCode.TRUST_LIST_INVALID)  # the same list again is fine


def test_sequence_state_merges_and_refuses_garbage(tmp_path: Path) -> None:
    """Two processes saving one state keep the higher sequences; a foreign file is a clear error."""
    path = tmp_path / "s.json"
    SequenceState(path, {"a": 5, "b": 9}).save()
    SequenceState(path, {"a": 7, "b": 1}).save()
    assert SequenceState.load(path).items() == {"a": 7, "b": 9}
    path.write_text("[" * 100_000)
    with pytest.raises(ConfigurationError, match="not a vaxcert checkpoint state"):
        SequenceState.load(path)


def test_write_atomic(tmp_path: Path) -> None:
    """write_atomic replaces a file (0600); on failure it raises the caller's error and leaves no temporary file."""
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")
    path.chmod(0o644)
    write_atomic(path, b"new", fail=ConfigurationError)
    assert path.read_bytes() == b"new" and stat.S_IMODE(path.stat().st_mode) == 0o600
    (tmp_path / "dir").mkdir()
    with pytest.raises(ConfigurationError, match="directory"):
        write_atomic(tmp_path / "dir", b"x", fail=lambda reason: ConfigurationError(f"cannot write dir: {reason}"))
    with pytest.raises(ConfigurationError, match="No such file"):
        write_atomic(tmp_path / "missing" / "f", b"x", fail=ConfigurationError)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir", "f.bin"]


def test_load_verifier_with_state_refuses_older_lists_and_bundles(pki: Pki, tmp_path: Path) -> None:
    """load_verifier(state=...) refuses an older trust list, revocation list or bundle than seen before."""
    ministry = KeySigner(pki.csca_key, pki.csca)
    for seq in (10, 20):
        (tmp_path / f"tl{seq}.cose").write_bytes(_trust_list(pki, seq))
        (tmp_path / f"rl{seq}.cose").write_bytes(RevocationList().sign(ministry, now=NOW, valid_for=DAY, sequence=seq))
        (tmp_path / f"b{seq}.cose").write_bytes(build_bundle(ministry, trust_list=_trust_list(pki, seq), now=NOW,
                                                             fresh_for=DAY, sequence=seq))  # fmt: skip
    state = SequenceState(tmp_path / "state.json")
    load_verifier(trust=[tmp_path / "tl20.cose"], revocation=[tmp_path / "rl20.cose"], cscas=[pki.csca], now=NOW,
                  state=state)  # fmt: skip
    load_verifier(bundle=tmp_path / "b20.cose", cscas=[pki.csca], now=NOW, state=state)
    for kwargs in ({"trust": [tmp_path / "tl10.cose"]},
                   {"trust": [tmp_path / "tl20.cose"], "revocation": [tmp_path / "rl10.cose"]},
                   {"bundle": tmp_path / "b10.cose"}):  # fmt: skip
        with pytest.raises(DocumentError, match="rollback"):
            load_verifier(cscas=[pki.csca], now=NOW, state=state, **kwargs)  # type: ignore[arg-type]


def test_cli_verify_and_scan_remember_sequences(pki: Pki, tmp_path: Path) -> None:
    """verify/scan --state: a newer list is recorded, an older one afterwards exits 2 naming the rollback."""
    csca, _ = _ministry_files(pki, tmp_path)
    (tmp_path / "new.cose").write_bytes(_trust_list(pki, 20))
    (tmp_path / "old.cose").write_bytes(_trust_list(pki, 10))
    state = tmp_path / "checkpoint-state.json"
    hc1 = Issuer(pki.signer, facility_override=True).issue(VACCINATION, now=NOW).hc1
    common = ["--csca", str(csca), "--state", str(state), "--at", NOW.isoformat()]
    assert run("verify", hc1, "--trust", str(tmp_path / "old.cose"), *common).returncode == 0
    assert run("verify", hc1, "--trust", str(tmp_path / "new.cose"), *common).returncode == 0
    assert json.loads(state.read_text())["seen"] == {"vaxcert.trust-list/1:VN": 20}
    r = run("verify", hc1, "--trust", str(tmp_path / "old.cose"), *common)
    assert r.returncode == 2 and "rollback" in r.stderr and "Traceback" not in r.stderr
    r = run("scan", "-", "--lang", "en", "--trust", str(tmp_path / "old.cose"), *common, stdin=hc1 + "\n")
    assert r.returncode == 2 and "rollback" in r.stderr
    r = run("scan", "-", "--trust", str(tmp_path / "new.cose"), *common, stdin=hc1 + "\n")
    assert r.returncode == 0, r.stderr


def test_cli_max_list_days(pki: Pki, tmp_path: Path) -> None:
    """A 30-day list is refused by verify by default and accepted with --max-list-days 30."""
    csca, _ = _ministry_files(pki, tmp_path)
    ministry = KeySigner(pki.csca_key, pki.csca)
    month = publish([pki.dsc], ministry, cscas=[pki.csca], now=NOW, valid_for=dt.timedelta(days=30),
                    max_lifetime=dt.timedelta(days=30))  # fmt: skip
    (tmp_path / "month.cose").write_bytes(month)
    hc1 = Issuer(pki.signer, facility_override=True).issue(VACCINATION, now=NOW).hc1
    common = ["--trust", str(tmp_path / "month.cose"), "--csca", str(csca), "--at", NOW.isoformat()]
    r = run("verify", hc1, *common)
    assert r.returncode == 2 and "longer than the 7 days allowed" in r.stderr
    assert run("verify", hc1, *common, "--max-list-days", "30").returncode == 0

