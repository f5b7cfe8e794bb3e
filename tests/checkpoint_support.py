"""A checkpoint "world" for the station, server and browser tests: a ministry, a signed bundle, and
certificates that give GREEN, YELLOW and RED, plus ID card texts that match or do not."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conftest import NOW, Pki
from vaxcert import Issuer, KeySigner, RevocationList, build_bundle, certificate_pem, publish
from vaxcert.dcc.uvci import checksum
from vaxcert.stages import base45, compression, cose

DAY = dt.timedelta(days=1)
#: The bundle is signed two hours before NOW and is fresh for a day: fresh at NOW, in the grace
#: period at GRACE_AT, too old at TOO_OLD_AT (default grace 72 h).
BUNDLE_SIGNED = NOW - dt.timedelta(hours=2)
FRESH_UNTIL = BUNDLE_SIGNED + DAY
GRACE_AT = FRESH_UNTIL + dt.timedelta(hours=30)
TOO_OLD_AT = FRESH_UNTIL + dt.timedelta(hours=80)


def _vaccination(family: str, given: str, fnt: str, gnt: str, dob: str, dn: int, sd: int, days_ago: int,
                 ci: str) -> dict[str, Any]:
    when = (NOW - dt.timedelta(days=days_ago)).date().isoformat()
    ci = f"{ci}#{checksum(ci)}"
    return {
        "ver": "1.3.0",
        "nam": {"fn": family, "gn": given, "fnt": fnt, "gnt": gnt},
        "dob": dob,
        "v": [{"tg": "840539006", "vp": "1119349007", "mp": "EU/1/20/1528", "ma": "ORG-100030215",
               "dn": dn, "sd": sd, "dt": when, "co": "VN", "is": "Ministry of Health VN", "ci": ci}],
    }


GREEN_PAYLOAD = _vaccination("Nguyễn", "Văn An", "NGUYEN", "VAN<AN", "1990-05-15", 2, 2, 60,
                             "URN:UVCI:01:VN:CHECKPOINT001")
YELLOW_PAYLOAD = _vaccination("Trần", "Thị Bình", "TRAN", "THI<BINH", "1985", 1, 2, 30,
                              "URN:UVCI:01:VN:CHECKPOINT002")
BOOSTER_PAYLOAD = _vaccination("Phạm", "Thị Dung", "PHAM", "THI<DUNG", "2001-01-20", 3, 3, 40,
                               "URN:UVCI:01:VN:CHECKPOINT004")
RED_PAYLOAD = _vaccination("Lê", "Văn Cường", "LE", "VAN<CUONG", "1972-11-03", 2, 2, 90,
                           "URN:UVCI:01:VN:CHECKPOINT003")

CCCD_GREEN = "001090012345|123456789|NGUYỄN VĂN AN|15051990|Nam|Số 1 Phố Huế, Hà Nội|20062021"
CCCD_OTHER = "079085054321||Nguyễn Văn An|15051991|Nam|12 Lê Lợi, TP Hồ Chí Minh|01022022"
CCCD_YELLOW = "036185000777||Trần Thị Bình|07081985|Nữ|Nam Định|01022022"
NOT_A_CERTIFICATE = "https://example.org/menu"


def corrupt(hc1: str) -> str:
    """An HC1 text whose Base45 body is damaged (decodes, but not to a certificate)."""
    body = hc1[4:]
    middle = len(body) // 2
    return "HC1:" + body[:middle] + ("A" if body[middle] != "A" else "B") * 6 + body[middle + 6 :]


@dataclass(frozen=True)
class World:
    """Files and texts of one checkpoint test world."""

    root: Path
    csca: Path
    bundle: Path
    bundle_bytes: bytes
    green: str
    yellow: str
    red: str
    booster: str
    pki: Pki

    def newer_bundle(self, *, sequence: int, signed: dt.datetime = NOW) -> bytes:
        """Another bundle of the same parts with this sequence."""
        return make_bundle(self.pki, sequence=sequence, signed=signed, revoked=self.red)


def make_bundle(pki: Pki, *, sequence: int, signed: dt.datetime, revoked: str) -> bytes:
    """A bundle (fresh for a day from ``signed``) trusting the PKI's DSCs and revoking ``revoked``."""
    ministry = KeySigner(pki.csca_key, pki.csca)
    trust_list = publish([pki.dsc, pki.rsa_dsc], ministry, cscas=[pki.csca], now=signed, valid_for=7 * DAY)
    message = cose.decode(_cose_of(revoked))
    revocation = RevocationList().with_certificate(message, RED_PAYLOAD).sign(ministry, now=signed,
                                                                               valid_for=7 * DAY)
    return build_bundle(ministry, trust_list=trust_list, revocation=[revocation], now=signed, fresh_for=DAY,
                        sequence=sequence, cscas=[pki.csca])


def _cose_of(hc1: str) -> bytes:
    return compression.decompress(base45.decode(hc1[4:]))


def make_world(root: Path, pki: Pki) -> World:
    """Write the CSCA and a bundle under ``root`` and issue the three certificates."""
    root.mkdir(parents=True, exist_ok=True)
    issuer = Issuer(pki.signer, facility_override=True)
    green = issuer.issue(copy.deepcopy(GREEN_PAYLOAD), now=NOW - DAY).hc1
    yellow = issuer.issue(copy.deepcopy(YELLOW_PAYLOAD), now=NOW - DAY).hc1
    red = issuer.issue(copy.deepcopy(RED_PAYLOAD), now=NOW - DAY).hc1
    booster = issuer.issue(copy.deepcopy(BOOSTER_PAYLOAD), now=NOW - DAY).hc1
    csca = root / "csca.pem"
    csca.write_bytes(certificate_pem(pki.csca))
    data = make_bundle(pki, sequence=100, signed=BUNDLE_SIGNED, revoked=red)
    bundle = root / "bundle.cose"
    bundle.write_bytes(data)
    return World(root, csca, bundle, data, green, yellow, red, booster, pki)
