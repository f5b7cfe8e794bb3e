"""Camera frames 1280×720 → verdict, and frames with no code, against the issue-15 checkpoint targets.

Targets: a frame holding a certificate's QR code to its verdict ≤ 100 ms (median); a frame with
no code ≤ 30 ms (median): a live camera loop sees mostly empty frames.

Frames are synthetic camera pictures (scripts/make_photo_set.py's backgrounds, tilt, blur, noise,
shading and JPEG grain, at "camera" strengths 1 and 2) of real signed certificates, rotating
(``--frames`` distinct frames of each kind), handed over as RGB arrays as a camera loop has them.
Times are the thread's CPU time per frame (the machine is shared), median and 90th percentile,
for the default reading (``fallback=True``: the fallback pass runs when the first finds nothing)
and for a live loop's reading (``fallback=False``).

Run:  .venv/bin/python benchmarks/bench_frames.py [--frames 24]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from benchkit import NOW, machine_note, rotating_payloads
from PIL import Image

from vaxcert import Issuer, KeySigner, TrustList, Verifier, verify_image
from vaxcert.dcc.uvci import generate
from vaxcert.pki.certificates import create_csca, create_dsc
from vaxcert.pki.keys import generate_private_key

ROOT = Path(__file__).resolve().parents[1]
SIZE = (1280, 720)


def _photo_set() -> Any:
    spec = importlib.util.spec_from_file_location("make_photo_set", ROOT / "scripts" / "make_photo_set.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_photo_set"] = module
    spec.loader.exec_module(module)
    return module


def frames(count: int) -> tuple[list[np.ndarray], list[np.ndarray], Verifier]:
    """``count`` frames with a signed certificate's code, ``count`` without, and the verifier."""
    mps = _photo_set()
    start = NOW - dt.timedelta(days=30)
    csca_key = generate_private_key("ec")
    csca = create_csca(csca_key, country="VN", name="Ministry of Health VN", now=start)
    key = generate_private_key("ec")
    dsc = create_dsc(key, csca=csca, csca_key=csca_key, facility_id="VN-HN-001", facility_name="Bench", now=start)
    issuer = Issuer(KeySigner(key, dsc))
    texts = [issuer.issue(p, now=NOW, facility="VN-HN-001").hc1 for p in rotating_payloads(generate, count)]
    with_code, empty = [], []
    for index, text in enumerate(texts):
        rng = np.random.default_rng([15, index])
        photo = mps._interpret("camera", {"strength": 1 + index % 2}, rng)
        canvas = mps._background(rng, SIZE).convert("RGBA")
        patch = mps._warp(mps._code_patch(text, photo.module_px + 1.0), photo.angle, photo.tilt, rng)
        mps._place(canvas, patch, (0, 0, *SIZE), rng)
        with_code.append(_camera(mps._photometric(canvas.convert("RGB"), photo, rng), photo.quality))
        background = mps._background(rng, SIZE)
        empty.append(_camera(mps._photometric(background, photo, rng), photo.quality))
    return with_code, empty, Verifier(TrustList.from_certificates([dsc]))


def _camera(image: Image.Image, quality: int) -> np.ndarray:
    """The frame as a camera loop gets it: JPEG grain, then an RGB array."""
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


def timed(fn: Callable[[np.ndarray], object], items: list[np.ndarray]) -> tuple[list[float], list[object]]:
    """Thread CPU milliseconds of each call, and the results."""
    times, results = [], []
    for item in items:
        start = time.thread_time()
        results.append(fn(item))
        times.append((time.thread_time() - start) * 1000)
    return times, results


def line(label: str, times: list[float], target: float | None = None) -> str:
    median = statistics.median(times)
    p90 = sorted(times)[int(0.9 * (len(times) - 1))]
    text = f"{label:52} median {median:7.1f} ms   p90 {p90:7.1f} ms"
    if target is not None:
        text += f"   target ≤ {target:.0f} ms: {'met' if median <= target else 'NOT met'}"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=24)
    count = parser.parse_args().frames
    with_code, empty, verifier = frames(count)
    print(f"{count} frames {SIZE[0]}×{SIZE[1]} with a code and {count} without; thread CPU time; {machine_note()}")
    for fallback in (True, False):
        name = "default reading (fallback=True)" if fallback else "live-loop reading (fallback=False)"
        read = lambda frame, fb=fallback: verify_image(frame, verifier, now=NOW, fallback=fb)  # noqa: E731
        timed(read, with_code[:2] + empty[:2])  # warm up
        code_times, results = timed(read, with_code)
        valid = sum(1 for r in results if getattr(r, "valid", False))
        empty_times, empties = timed(read, empty)
        false_reads = sum(1 for r in empties if getattr(r, "valid", False))
        print(f"{name}: {valid}/{count} frames with a code gave a valid verdict; "
              f"{false_reads} empty frames read a code")
        print(line("  frame with a code → verdict", code_times, 100 if not fallback else None))
        print(line("  frame with no code → 'no code'", empty_times, 30 if not fallback else None))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
