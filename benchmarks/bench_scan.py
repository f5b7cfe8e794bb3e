"""Time the checkpoint path: pass assessment, one scanned picture end to end, and a printable card.

Run from the repository root:  PYTHONPATH=src python benchmarks/bench_scan.py [--number N]

Prints milliseconds (or microseconds) per operation for:
  * rules.assess                  — the pass decision on an already verified certificate
  * Verifier.verify + assess      — HC1 text to a colour (what `vaxcert scan -` does per line)
  * decode + verify + assess      — a rendered QR picture to a colour (`vaxcert scan IMAGE` per code)
  * card.render_card              — a printable A6 PDF with embedded font subsets and the QR code
and the share of the per-picture time spent outside image decoding.
"""

from __future__ import annotations

import argparse
import datetime as dt
import timeit
from collections.abc import Callable

from vaxcert import Issuer, TrustList, Verifier, card, qr
from vaxcert.dcc.uvci import generate
from vaxcert.pki.certificates import create_csca, create_dsc
from vaxcert.pki.keys import KeySigner, generate_private_key
from vaxcert.rules import DEFAULT_POLICY, assess

NOW = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)


def _setup() -> tuple[str, Verifier]:
    start = NOW - dt.timedelta(days=30)
    csca_key = generate_private_key("ec")
    csca = create_csca(csca_key, country="VN", name="Ministry of Health VN", now=start)
    dsc_key = generate_private_key("ec")
    dsc = create_dsc(dsc_key, csca=csca, csca_key=csca_key, facility_id="VN-HN-001",
                     facility_name="Bach Mai Hospital", now=start, types=("v", "t", "r"))
    payload = {"ver": "1.3.0", "nam": {"fn": "Nguyễn", "gn": "Văn An", "fnt": "NGUYEN", "gnt": "VAN<AN"},
               "dob": "1990-01-02",
               "v": [{"tg": "840539006", "vp": "1119349007", "mp": "EU/1/20/1528", "ma": "ORG-100030215",
                      "dn": 2, "sd": 2, "dt": "2026-04-01", "co": "VN", "is": "Bộ Y tế", "ci": generate("VN")}]}
    hc1 = Issuer(KeySigner(dsc_key, dsc), facility_override=True).issue(payload, now=NOW).hc1
    return hc1, Verifier(TrustList.from_certificates([dsc]))


def _per_call(fn: Callable[[], object], number: int) -> float:
    fn()
    return min(timeit.repeat(fn, number=number, repeat=3)) / number


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=200)
    args = parser.parse_args()
    hc1, verifier = _setup()
    result = verifier.verify(hc1, now=NOW)
    picture = qr.render_png(hc1)

    t_assess = _per_call(lambda: assess(result, DEFAULT_POLICY, now=NOW), args.number * 10)
    t_text = _per_call(lambda: assess(verifier.verify(hc1, now=NOW), now=NOW), args.number)

    def picture_to_colour() -> None:
        for code in qr.decode_image(picture):
            assess(verifier.verify(code.text, now=NOW), now=NOW)

    t_picture = _per_call(picture_to_colour, max(1, args.number // 4))
    t_decode = _per_call(lambda: qr.decode_image(picture), max(1, args.number // 4))
    t_card = _per_call(lambda: card.render_card(hc1, created=NOW), max(1, args.number // 40))

    print(f"rules.assess                 {t_assess * 1e6:8.1f} µs")
    print(f"verify + assess (HC1 text)   {t_text * 1e3:8.2f} ms")
    print(f"decode + verify + assess     {t_picture * 1e3:8.2f} ms per picture "
          f"({t_decode / t_picture:.0%} of it decoding the image)")
    print(f"card.render_card (A6 PDF)    {t_card * 1e3:8.1f} ms")
    print(f"assess / verify ratio        {t_assess / (t_text - t_assess):8.3f}")


if __name__ == "__main__":
    main()
