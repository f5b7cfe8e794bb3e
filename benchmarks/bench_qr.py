"""Benchmark QR rendering and decoding.

Prints, for a typical 600-character HC1 string:

* milliseconds per PNG render: vaxcert.qr (own numpy encoder + 1-bit PNG writer) against the
  qrcode and segno libraries, all at level Q in alphanumeric mode, in the same run, with ratios;
* milliseconds per decode of clean images (the rendered PNG, and the code on a 960x720 photo);
* the decode rate and time per transform and strength level on a generated synthetic photo set
  (scripts/make_photo_set.py), split into what the fast pass finds and what the fallback adds.

Plain script: ``python benchmarks/bench_qr.py [--samples N] [--seed S] [--photos DIR]``.
The payloads are random Base45, nothing personal is printed.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import numpy as np  # noqa: E402
import qrcode  # noqa: E402
import segno  # noqa: E402
from PIL import Image  # noqa: E402
from qrcode.util import MODE_ALPHA_NUM, QRData  # noqa: E402

from vaxcert import qr  # noqa: E402


def _photo_module() -> Any:
    """Import scripts/make_photo_set.py."""
    spec = importlib.util.spec_from_file_location("make_photo_set", ROOT / "scripts" / "make_photo_set.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _time_ms(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and best milliseconds per call over ``repeat`` calls (after one warm-up call).

    Both are printed: on a busy shared machine the median drifts, the best stays near the
    uncontended cost.
    """
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e3)
    return statistics.median(samples), min(samples)


def _fmt(times: tuple[float, float]) -> str:
    """'median (best)' in milliseconds."""
    return f"{times[0]:7.2f} ({times[1]:6.2f})"


def _hc1(length: int = 600) -> str:
    """A random HC1-like string."""
    rng = random.Random(42)
    return "HC1:" + "".join(rng.choice(qr.ALPHANUMERIC_CHARSET) for _ in range(length - 4))


def _render_qrcode_pil(text: str, scale: int) -> bytes:
    """PNG via the qrcode library with its default Pillow image factory."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q, box_size=scale, border=4)
    code.add_data(QRData(text, mode=MODE_ALPHA_NUM))
    code.make(fit=True)
    buf = io.BytesIO()
    code.make_image().save(buf)
    return buf.getvalue()


def _render_segno(text: str, scale: int) -> bytes:
    """PNG via segno, level Q, alphanumeric."""
    buf = io.BytesIO()
    segno.make(text, error="q", mode="alphanumeric", micro=False, boost_error=False).save(
        buf, kind="png", scale=scale, border=4)
    return buf.getvalue()


def bench_render(text: str, repeat: int) -> None:
    """Render timings by library."""
    print(f"PNG render, {len(text)} characters, level Q, alphanumeric: median (best) ms per PNG, "
          "[ratio of medians to vaxcert.qr]")
    for scale in (1, 4, 10):
        routes = {
            "vaxcert.qr": lambda s=scale: qr.render_png(text, scale=s),
            "segno": lambda s=scale: _render_segno(text, s),
            "qrcode": lambda s=scale: _render_qrcode_pil(text, s),
        }
        times = {name: _time_ms(fn, repeat if name == "vaxcert.qr" else max(5, repeat // 5))
                 for name, fn in routes.items()}
        ours = times["vaxcert.qr"][0]
        row = "  ".join(f"{name} {_fmt(ms)} [{ms[0] / ours:4.1f}x]" for name, ms in times.items())
        print(f"  scale {scale:2d}: {row}")
    print(f"  vaxcert.qr encode only (text -> matrix) {_fmt(_time_ms(lambda: qr.encode(text), repeat))}; "
          f"SVG {_fmt(_time_ms(lambda: qr.render_svg(text), repeat))}; "
          f"terminal {_fmt(_time_ms(lambda: qr.render_terminal(text), repeat))}")


def bench_decode_clean(text: str, repeat: int) -> None:
    """Decode timings for clean images."""
    png = qr.render_png(text, scale=4)
    gray = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
    canvas = Image.new("L", (960, 720), 235)
    canvas.paste(Image.fromarray(gray), (250, 150))
    jpeg = io.BytesIO()
    canvas.save(jpeg, "JPEG", quality=90)
    print("Decode of clean images, median (best) ms, all included: image decoding, zxing-cpp, mode read-back")
    cases = {
        f"rendered PNG bytes {gray.shape[1]}x{gray.shape[0]}": png,
        f"same as numpy array {gray.shape[1]}x{gray.shape[0]}": gray,
        "code on a 960x720 JPEG photo": jpeg.getvalue(),
        "960x720 grey array": np.asarray(canvas),
    }
    for name, source in cases.items():
        print(f"  {name:38s} {_fmt(_time_ms(lambda s=source: qr.decode_image(s), repeat))}")
    blank = np.full((720, 960), 235, dtype=np.uint8)
    print(f"  {'960x720 blank, fast pass only':38s} "
          f"{_fmt(_time_ms(lambda: qr.decode_image(blank, fallback=False), repeat))}")
    print(f"  {'960x720 blank, with fallback pass':38s} "
          f"{_fmt(_time_ms(lambda: qr.decode_image(blank), max(5, repeat // 5)))}")


def bench_photo_set(directory: Path, samples: int, seed: int) -> None:
    """Decode rate per transform and level on a generated photo set."""
    photos = _photo_module()
    manifest_path = directory / "manifest.json"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    else:
        manifest = photos.generate(directory, seed=seed, samples=samples)
    stats: dict[tuple[str, int], dict[str, Any]] = defaultdict(
        lambda: {"codes": 0, "fast": 0, "found": 0, "ms": [], "param": None})
    for entry in manifest["images"]:
        path = directory / entry["file"]
        expected = set(entry["texts"])
        fast = {c.text for c in qr.decode_file(path, fallback=False)}
        start = time.perf_counter()
        found = {c.text for c in qr.decode_file(path)}
        elapsed = (time.perf_counter() - start) * 1e3
        row = stats[(entry["transform"], entry["level"])]
        row["codes"] += len(expected)
        row["fast"] += len(expected & fast)
        row["found"] += len(expected & found)
        row["ms"].append(elapsed)
        row["param"] = entry["parameter"]
    per_level = len(manifest["images"]) // max(1, len(stats))
    print(f"Decode rate on the synthetic photo set ({len(manifest['images'])} pictures, 960x720 JPEG, "
          f"{per_level} per transform and level, seed {manifest['seed']})")
    print(f"  {'transform':13s} {'level':12s} {'parameter':24s} {'fast pass':>10s} {'+fallback':>10s} "
          f"{'median ms':>10s}")
    totals = {"codes": 0, "fast": 0, "found": 0}
    for (name, level), row in sorted(stats.items()):
        param = ", ".join(f"{k}={v}" for k, v in row["param"].items())
        print(f"  {name:13s} {level} {photos.LEVEL_NAMES[level]:10s} {param:24s} "
              f"{row['fast']:4d}/{row['codes']:<4d} {row['found']:5d}/{row['codes']:<4d} "
              f"{statistics.median(row['ms']):9.1f}")
        for key in totals:
            totals[key] += row[key]
    print(f"  total: fast pass {totals['fast']}/{totals['codes']}, with fallback {totals['found']}/{totals['codes']}")


def main() -> int:
    """Run every benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=4, help="photos per transform and level")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--photos", type=Path, help="reuse or create the photo set in this directory")
    args = parser.parse_args()
    text = _hc1()
    bench_render(text, args.repeat)
    print()
    bench_decode_clean(text, max(1, args.repeat // 2))
    print()
    if args.photos:
        bench_photo_set(args.photos, args.samples, args.seed)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            bench_photo_set(Path(tmp), args.samples, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
