"""Generate a synthetic set of "camera photos" of HC1 QR codes, with a manifest.

Each picture puts one or more rendered codes (random Base45 payloads behind ``HC1:``, so no real
personal data) on a cluttered, textured background and applies one transform at one of four
strength levels: rotation, perspective, Gaussian blur, noise, low contrast, JPEG quality,
downscale (small in the frame), several codes in one picture, and ``camera`` (everything at once).
A slight random tilt is always applied: a hand-held camera is never perfectly aligned.

Deterministic: the same seed gives the same files (each picture has its own generator derived
from the seed, so subsets are reproducible too).  Usable as a script::

    python scripts/make_photo_set.py OUT_DIR [--seed 0] [--samples 2] [--transform blur ...]

or imported: ``generate(out_dir, seed=0)`` returns the manifest it writes to
``OUT_DIR/manifest.json``: ``{"seed", "images": [{"file", "texts", "transform", "level",
"level_name", "parameter", "module_px"}]}``.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

try:
    from vaxcert.qr import ALPHANUMERIC_CHARSET, render_png
except ModuleNotFoundError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from vaxcert.qr import ALPHANUMERIC_CHARSET, render_png

__all__ = ["LEVEL_NAMES", "TRANSFORMS", "generate", "main"]

CANVAS = (960, 720)
BASE_MODULE_PX = 4.0
LEVEL_NAMES = {1: "mild", 2: "moderate", 3: "strong", 4: "extreme"}

#: Parameter of each transform per level (1 = mild ... 4 = extreme).
TRANSFORMS: dict[str, dict[int, dict[str, float]]] = {
    # rotation in degrees (levels are angles; all are equally hard for a good decoder)
    "rotation": {1: {"angle": 15}, 2: {"angle": 45}, 3: {"angle": 120}, 4: {"angle": 200}},
    # one side of the code shrinks by this fraction: viewing angles of roughly 25-65 degrees
    "perspective": {1: {"tilt": 0.1}, 2: {"tilt": 0.2}, 3: {"tilt": 0.3}, 4: {"tilt": 0.4}},
    # Gaussian blur radius in modules
    "blur": {1: {"sigma_modules": 0.25}, 2: {"sigma_modules": 0.4}, 3: {"sigma_modules": 0.55},
             4: {"sigma_modules": 0.7}},
    # additive Gaussian noise, standard deviation in grey levels
    "noise": {1: {"sigma": 15}, 2: {"sigma": 30}, 3: {"sigma": 50}, 4: {"sigma": 75}},
    # remaining fraction of the black-white range, in dim light
    "low_contrast": {1: {"contrast": 0.4}, 2: {"contrast": 0.2}, 3: {"contrast": 0.1},
                     4: {"contrast": 0.05}},
    "jpeg": {1: {"quality": 60}, 2: {"quality": 35}, 3: {"quality": 20}, 4: {"quality": 10}},
    # pixels per module: the code is small in the frame
    "downscale": {1: {"module_px": 3.0}, 2: {"module_px": 2.0}, 3: {"module_px": 1.5},
                  4: {"module_px": 1.2}},
    "multi": {1: {"codes": 2}, 2: {"codes": 3}, 3: {"codes": 4}, 4: {"codes": 6}},
    # everything at once, growing with the level
    "camera": {1: {"strength": 1}, 2: {"strength": 2}, 3: {"strength": 3}, 4: {"strength": 4}},
}

DEFAULT_JPEG_QUALITY = 92
RGBImage = Image.Image


@dataclass(frozen=True)
class _Photo:
    """Settings of one picture after the transform has been interpreted."""

    module_px: float = BASE_MODULE_PX
    angle: float = 0.0
    tilt: float = 0.0
    blur_modules: float = 0.0
    noise: float = 0.0
    contrast: float = 1.0
    shading: float = 0.15
    quality: int = DEFAULT_JPEG_QUALITY
    codes: int = 1


def _random_hc1(rng: np.random.Generator) -> str:
    """A random HC1 string of typical length (payload is random Base45, not a certificate)."""
    length = int(rng.integers(480, 660))
    alphabet = np.array(list(ALPHANUMERIC_CHARSET))
    return "HC1:" + "".join(alphabet[rng.integers(0, len(alphabet), length)])


def _smooth_noise(rng: np.random.Generator, size: tuple[int, int], cells: int) -> np.ndarray:
    """Low-frequency noise in [0, 1] (a coarse random grid upscaled bicubically)."""
    grid = (rng.random((cells, cells)) * 255).astype(np.uint8)
    return np.asarray(Image.fromarray(grid).resize(size, Image.Resampling.BICUBIC), dtype=np.float32) / 255.0


def _background(rng: np.random.Generator, size: tuple[int, int]) -> RGBImage:
    """A cluttered, textured background: lit paper or a desk with print, shapes and lines."""
    width, height = size
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    plane = 150 + 50 * rng.uniform(-1, 1) * xx / width + 50 * rng.uniform(-1, 1) * yy / height
    grey = plane + 60 * (_smooth_noise(rng, size, 6) - 0.5)
    tint = rng.uniform(0.85, 1.1, 3)
    rgb = np.clip(grey[:, :, None] * tint[None, None, :], 0, 255).astype(np.uint8)
    im = Image.fromarray(rgb, "RGB")
    draw = ImageDraw.Draw(im)
    for _ in range(int(rng.integers(8, 16))):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        x1, y1 = x0 + int(rng.integers(20, 300)), y0 + int(rng.integers(20, 200))
        colour = tuple(int(v) for v in rng.integers(20, 255, 3))
        shape = int(rng.integers(0, 3))
        if shape == 0:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
        elif shape == 1:
            draw.ellipse((x0, y0, x1, y1), outline=colour, width=int(rng.integers(1, 6)))
        else:
            draw.line((x0, y0, x1, y1), fill=colour, width=int(rng.integers(1, 8)))
    _draw_text_lines(draw, rng, size)
    grain = rng.normal(0, 4, (height, width, 1))
    return Image.fromarray(np.clip(np.asarray(im, dtype=np.float32) + grain, 0, 255).astype(np.uint8), "RGB")


def _draw_text_lines(draw: ImageDraw.ImageDraw, rng: np.random.Generator, size: tuple[int, int]) -> None:
    """Rows of short dark dashes that look like printed text next to a code."""
    width, height = size
    for _ in range(int(rng.integers(2, 5))):
        x0, y0 = int(rng.integers(0, width - 200)), int(rng.integers(0, height - 100))
        for line in range(int(rng.integers(3, 8))):
            x = x0
            y = y0 + line * 14
            while x < x0 + int(rng.integers(120, 320)):
                word = int(rng.integers(8, 40))
                draw.rectangle((x, y, x + word, y + 7), fill=(30, 30, 35))
                x += word + 6


def _code_patch(text: str, module_px: float) -> Image.Image:
    """The code with its quiet zone at ``module_px`` pixels per module, area-sampled like a camera."""
    sharp = Image.open(io.BytesIO(render_png(text, scale=8))).convert("L")
    side = max(8, round(sharp.width / 8 * module_px))
    return sharp.resize((side, side), Image.Resampling.BOX)


def _perspective_coefficients(src: Sequence[tuple[float, float]],
                              dst: Sequence[tuple[float, float]]) -> list[float]:
    """Coefficients for Pillow's PERSPECTIVE transform mapping ``dst`` points back to ``src``."""
    rows: list[list[float]] = []
    rhs: list[float] = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    return [float(c) for c in np.linalg.solve(np.array(rows), np.array(rhs))]


def _warp(patch: Image.Image, angle: float, tilt: float, rng: np.random.Generator) -> Image.Image:
    """Tilt (perspective) then rotate the code; returns RGBA with transparent surroundings."""
    rgba = patch.convert("RGBA")
    if tilt > 0:
        s = float(patch.width)
        d = tilt * s / 2
        far_side = (
            [(0, d), (s, 0), (s, s), (0, s - d)],  # left edge further away
            [(0, 0), (s, d), (s, s - d), (0, s)],  # right
            [(d, 0), (s - d, 0), (s, s), (0, s)],  # top
            [(0, 0), (s, 0), (s - d, s), (d, s)],  # bottom
        )[int(rng.integers(0, 4))]
        jitter = rng.uniform(-0.02, 0.02, 8) * s
        quad = [(x + jitter[2 * i], y + jitter[2 * i + 1]) for i, (x, y) in enumerate(far_side)]
        xs, ys = [p[0] for p in quad], [p[1] for p in quad]
        x0, y0 = min(xs), min(ys)
        out_size = (math.ceil(max(xs) - x0), math.ceil(max(ys) - y0))
        shifted = [(x - x0, y - y0) for x, y in quad]
        coeffs = _perspective_coefficients([(0, 0), (s, 0), (s, s), (0, s)], shifted)
        rgba = rgba.transform(out_size, Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BICUBIC,
                              fillcolor=(0, 0, 0, 0))
    if angle:
        rgba = rgba.rotate(angle, Image.Resampling.BICUBIC, expand=True, fillcolor=(0, 0, 0, 0))
    return rgba


def _place(canvas: Image.Image, item: Image.Image, box: tuple[int, int, int, int],
           rng: np.random.Generator) -> None:
    """Paste ``item`` at a random place inside ``box`` (shrinking it if it does not fit)."""
    bx0, by0, bx1, by1 = box
    room_w, room_h = bx1 - bx0, by1 - by0
    if item.width > room_w or item.height > room_h:
        factor = min(room_w / item.width, room_h / item.height)
        item = item.resize((max(1, int(item.width * factor)), max(1, int(item.height * factor))),
                           Image.Resampling.BOX)
    x = bx0 + int(rng.integers(0, room_w - item.width + 1))
    y = by0 + int(rng.integers(0, room_h - item.height + 1))
    canvas.alpha_composite(item, (x, y))


def _photometric(im: Image.Image, photo: _Photo, rng: np.random.Generator) -> Image.Image:
    """Lighting, contrast, blur and sensor noise."""
    if photo.blur_modules > 0:
        im = im.filter(ImageFilter.GaussianBlur(photo.blur_modules * photo.module_px))
    a = np.asarray(im, dtype=np.float64)
    height, width = a.shape[:2]
    if photo.contrast < 1:
        a = 110 + (a - 128) * photo.contrast  # dim light: mid grey falls to 110
    shade = 1 - photo.shading * _smooth_noise(rng, (width, height), 3)
    a = a * shade[:, :, None]
    if photo.noise > 0:
        a = a + rng.normal(0, photo.noise, a.shape)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "RGB")


def _interpret(transform: str, params: dict[str, float], rng: np.random.Generator) -> _Photo:
    """Settings of a picture for ``transform`` with ``params``."""
    tilt_angle = float(rng.uniform(-5, 5))
    if transform == "rotation":
        return _Photo(angle=params["angle"] + tilt_angle)
    if transform == "perspective":
        return _Photo(tilt=params["tilt"], angle=tilt_angle)
    if transform == "blur":
        return _Photo(blur_modules=params["sigma_modules"], angle=tilt_angle)
    if transform == "noise":
        return _Photo(noise=params["sigma"], angle=tilt_angle)
    if transform == "low_contrast":
        return _Photo(contrast=params["contrast"], angle=tilt_angle)
    if transform == "jpeg":
        return _Photo(quality=int(params["quality"]), angle=tilt_angle)
    if transform == "downscale":
        return _Photo(module_px=params["module_px"], angle=tilt_angle)
    if transform == "multi":
        return _Photo(codes=int(params["codes"]), module_px=3.0 if params["codes"] <= 4 else 2.2)
    if transform == "camera":
        k = params["strength"]
        return _Photo(
            module_px=4.0 - 0.5 * k, angle=float(rng.uniform(0, 360)), tilt=0.07 * k,
            blur_modules=0.1 * k, noise=6 * k, contrast=1 - 0.18 * k, shading=0.1 + 0.08 * k,
            quality=int(80 - 15 * k),
        )
    raise ValueError(f"unknown transform {transform!r}")


def _grid(count: int, size: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """Non-overlapping cells for ``count`` codes."""
    cols = math.ceil(math.sqrt(count * size[0] / size[1]))
    rows = math.ceil(count / cols)
    cw, ch = size[0] // cols, size[1] // rows
    cells = [(c * cw, r * ch, (c + 1) * cw, (r + 1) * ch) for r in range(rows) for c in range(cols)]
    return cells[:count]


def make_photo(
    rng: np.random.Generator, transform: str, params: dict[str, float]
) -> tuple[Image.Image, list[str], _Photo]:
    """One picture: the image, the texts of the codes it shows, its settings."""
    photo = _interpret(transform, params, rng)
    canvas = _background(rng, CANVAS).convert("RGBA")
    texts = [_random_hc1(rng) for _ in range(photo.codes)]
    cells = _grid(photo.codes, CANVAS) if photo.codes > 1 else [(0, 0, *CANVAS)]
    for text, cell in zip(texts, cells, strict=True):
        angle = photo.angle if photo.codes == 1 else float(rng.uniform(-10, 10))
        _place(canvas, _warp(_code_patch(text, photo.module_px), angle, photo.tilt, rng), cell, rng)
    return _photometric(canvas.convert("RGB"), photo, rng), texts, photo


def generate(
    out_dir: str | Path,
    *,
    seed: int = 0,
    samples: int = 2,
    transforms: Sequence[str] | None = None,
    levels: Sequence[int] = (1, 2, 3, 4),
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Write the pictures and ``manifest.json`` into ``out_dir``; return the manifest."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = list(TRANSFORMS) if transforms is None else list(transforms)
    images: list[dict[str, Any]] = []
    for t_index, name in enumerate(TRANSFORMS):
        if name not in names:
            continue
        for level in levels:
            params = TRANSFORMS[name][level]
            for sample in range(samples):
                rng = np.random.default_rng([seed, t_index, level, sample])
                image, texts, photo = make_photo(rng, name, params)
                file = f"{name}_{level}_{sample:02d}.jpg"
                image.save(out / file, "JPEG", quality=photo.quality)
                images.append({
                    "file": file, "texts": texts, "transform": name, "level": level,
                    "level_name": LEVEL_NAMES[level], "parameter": params, "module_px": photo.module_px,
                })
                if progress:
                    progress(file)
    manifest = {"seed": seed, "canvas": list(CANVAS), "images": images}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--samples", type=int, default=2, help="pictures per transform and level")
    parser.add_argument("--transform", action="append", choices=sorted(TRANSFORMS),
                        help="only these transforms (repeatable)")
    parser.add_argument("--level", action="append", type=int, choices=sorted(LEVEL_NAMES))
    args = parser.parse_args(argv)
    manifest = generate(args.out_dir, seed=args.seed, samples=args.samples, transforms=args.transform,
                        levels=args.level or (1, 2, 3, 4))
    print(f"wrote {len(manifest['images'])} pictures and manifest.json to {args.out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
