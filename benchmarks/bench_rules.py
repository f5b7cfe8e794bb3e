"""Time business-rule evaluation (CertLogic) against a raw ES256 signature verification.

Run from the repository root:  PYTHONPATH=src python benchmarks/bench_rules.py [--rounds N]

Every timing rotates through the same 512 distinct payloads (vaccinations, tests and
recoveries with varied doses, products and dates) and reports microseconds per payload:

  * raw ES256 verify            — ``cryptography`` ECDSA P-256/SHA-256 verify of 512 distinct
                                  300-byte messages (what one DCC signature check costs at least)
  * AT rules, all (compiled)    — the 16 rules of ../shared/business-rules/AT evaluated on every
                                  payload (rules for other certificate types return early)
  * AT rules, select + evaluate — what a checkpoint does per scan: select by country, type and
                                  time (highest version per identifier), then evaluate
  * EU template rules, all      — the 14 rules of ../shared/business-rules/EU
  * VN pass (26 rules)          — vaxcert.rules.passrules: select and evaluate GREEN and YELLOW,
                                  decide colour and reason
  * AT rules, all (interpreter) — the reference interpreter, for the compiler's gain

The ratio column is rule time / ES256 time, both measured in this run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from vaxcert.rules.certlogic import CertLogicError, evaluate
from vaxcert.rules.gateway import RuleSet, evaluate_rules, external_value_sets, rule_data
from vaxcert.rules.passrules import PassRules

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VAXCERT_SHARED", ROOT.parent / "shared"))
COUNT = 512
NOW = dt.datetime(2021, 11, 15, 9, 30, tzinfo=dt.UTC)
PRODUCTS = ("EU/1/20/1528", "EU/1/20/1507", "EU/1/21/1529", "EU/1/20/1525", "BBIBP-CorV", "CoronaVac", "Sputnik-V")


def payloads(count: int, seed: int = 11) -> list[dict[str, Any]]:
    """``count`` distinct, realistic payloads around NOW."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for index in range(count):
        base = {"ver": rng.choice(("1.0.0", "1.2.1", "1.3.0")),
                "nam": {"fnt": f"NGUYEN{index}", "gnt": "VAN<AN", "fn": "Nguyễn", "gn": "Văn An"},
                "dob": f"{rng.randint(1930, 2015)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"}
        kind = rng.choice("vvvtr")
        day = (NOW - dt.timedelta(days=rng.randint(0, 400))).date().isoformat()
        if kind == "v":
            sd = rng.choice((1, 2, 2, 3))
            entry = {"tg": "840539006", "vp": "1119349007", "mp": rng.choice(PRODUCTS), "ma": "ORG-100030215",
                     "dn": rng.randint(1, sd + 1), "sd": sd, "dt": day, "co": "VN", "is": "Bộ Y tế",
                     "ci": f"URN:UVCI:01:VN:{index:012d}#A"}
        elif kind == "t":
            sample = NOW - dt.timedelta(minutes=rng.randint(0, 5000))
            entry = {"tg": "840539006", "tt": rng.choice(("LP6464-4", "LP217198-3")), "ma": "1232",
                     "sc": sample.isoformat(timespec="seconds").replace("+00:00", "Z"),
                     "tr": rng.choice(("260415000", "260415000", "260373001")), "tc": "Bạch Mai", "co": "VN",
                     "is": "Bộ Y tế", "ci": f"URN:UVCI:01:VN:{index:012d}#B"}
        else:
            first = NOW.date() - dt.timedelta(days=rng.randint(11, 250))
            entry = {"tg": "840539006", "fr": first.isoformat(), "df": (first + dt.timedelta(days=11)).isoformat(),
                     "du": (first + dt.timedelta(days=180)).isoformat(), "co": "VN", "is": "Bộ Y tế",
                     "ci": f"URN:UVCI:01:VN:{index:012d}#C"}
        out.append({**base, kind: [entry]})
    return out


def per_payload_us(work: Callable[[Any], object], items: Sequence[Any], rounds: int) -> float:
    """Best of five runs of ``rounds`` passes over ``items``, in microseconds per item."""
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(rounds):
            for item in items:
                work(item)
        best = min(best, time.perf_counter() - start)
    return best / (rounds * len(items)) * 1e6


def main() -> None:
    """Print the timings and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4, help="passes over the 512 payloads per timing run")
    rounds = parser.parse_args().rounds

    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    messages = [random.Random(i).randbytes(300) for i in range(COUNT)]
    signed = [(key.sign(m, ec.ECDSA(hashes.SHA256())), m) for m in messages]
    es256 = per_payload_us(lambda pair: public.verify(pair[0], pair[1], ec.ECDSA(hashes.SHA256())), signed, rounds)

    items = payloads(COUNT)
    austria = RuleSet.load(SHARED / "business-rules" / "AT")
    template = RuleSet.load(SHARED / "business-rules" / "EU")
    vn = PassRules.bundled()
    sets = external_value_sets()
    exp = NOW + dt.timedelta(days=365)

    def kind(payload: dict[str, Any]) -> str:
        return next(k for k in ("v", "t", "r") if k in payload)

    def all_rules(rules: RuleSet) -> Callable[[Any], object]:
        return lambda p: evaluate_rules(rules, p, now=NOW, country="AT", exp=exp, iat=NOW, valuesets=sets)

    def select_and_evaluate(p: dict[str, Any]) -> object:
        chosen = austria.select(country="AT", cert_type=kind(p), at=NOW)
        return evaluate_rules(chosen, p, now=NOW, country="AT", exp=exp, iat=NOW, valuesets=sets)

    def interpreted(p: dict[str, Any]) -> object:
        data = rule_data(p, now=NOW, country="AT", exp=exp, iat=NOW, valuesets=sets)
        out = []
        for rule in austria:
            try:
                out.append(evaluate(rule.logic, data) is True)
            except CertLogicError:
                out.append(False)
        return out

    outcomes = [r.outcome for p in items for r in all_rules(austria)(p)]
    verdicts = [vn.evaluate(p, now=NOW, exp=exp).colour for p in items]
    timings = {
        f"AT rules, all {len(austria)} (compiled)": per_payload_us(all_rules(austria), items, rounds),
        "AT rules, select + evaluate": per_payload_us(select_and_evaluate, items, rounds),
        f"EU template rules, all {len(template)}": per_payload_us(all_rules(template), items, rounds),
        f"VN pass ({len(vn.green) + len(vn.yellow)} rules, 2 colours)":
            per_payload_us(lambda p: vn.evaluate(p, now=NOW, exp=exp), items, rounds),
        f"AT rules, all {len(austria)} (interpreter)": per_payload_us(interpreted, items, rounds),
    }
    print(f"{COUNT} distinct payloads, best of 5 runs × {rounds} passes; µs per payload")
    print(f"  {'raw ES256 verify (cryptography)':44} {es256:9.1f}   ratio 1.00")
    for name, micros in timings.items():
        print(f"  {name:44} {micros:9.1f}   ratio {micros / es256:.2f}")
    passed = sum(1 for o in outcomes if o == "passed")
    colours = {c: verdicts.count(c) for c in sorted(set(verdicts))}
    print(f"  (AT: {passed}/{len(outcomes)} rule results passed; VN verdicts {colours})")


if __name__ == "__main__":
    main()
