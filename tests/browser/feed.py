"""A fake camera feed for Chromium (``--use-file-for-fake-video-capture``), built with Debian's ffmpeg.

Frames are 1280×720 pictures of a desk-grey background with a rendered QR code on a white card,
some rotated or blurred, separated by empty frames (the code leaves the view).  ffmpeg turns
them into an MJPEG file, which Chromium loops.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import segno
from PIL import Image, ImageDraw, ImageFilter

from vaxcert import render_png

WIDTH, HEIGHT = 1280, 720
#: Chromium plays MJPEG files at 30 frames a second.
PLAYBACK_FPS = 30


@dataclass(frozen=True)
class Segment:
    """``seconds`` of one code (None: no code) with a rotation in degrees and a blur radius."""

    text: str | None
    seconds: float
    rotate: float = 0.0
    blur: float = 0.0
    size: int = 420


def _background(seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    gradient = np.linspace(95, 140, WIDTH, dtype=np.float32)[None, :].repeat(HEIGHT, axis=0)
    noise = rng.normal(0, 6, (HEIGHT, WIDTH)).astype(np.float32)
    grey = np.clip(gradient + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(np.stack([grey, grey, (grey * 0.95).astype(np.uint8)], axis=-1), "RGB")


def frame(segment: Segment, seed: int = 0) -> Image.Image:
    """One camera picture for ``segment``."""
    picture = _background(seed)
    if segment.text is None:
        ImageDraw.Draw(picture).rectangle((500, 250, 780, 470), fill=(205, 200, 190))  # a card without a code
        return picture
    qr = Image.open(_png(segment.text)).convert("RGB")
    qr = qr.resize((segment.size, segment.size), Image.Resampling.NEAREST)
    card = Image.new("RGB", (segment.size + 60, segment.size + 60), (250, 250, 246))
    card.paste(qr, (30, 30))
    if segment.rotate:
        card = card.rotate(segment.rotate, expand=True, resample=Image.Resampling.BICUBIC, fillcolor=(120, 120, 115))
    x, y = (WIDTH - card.width) // 2, (HEIGHT - card.height) // 2
    picture.paste(card, (x, y))
    if segment.blur:
        picture = picture.filter(ImageFilter.GaussianBlur(segment.blur))
    return picture


def _png(text: str) -> io.BytesIO:
    """HC1 texts with vaxcert's encoder (alphanumeric mode); anything else (URLs, ID cards) with segno."""
    if text.startswith("HC1:"):
        return io.BytesIO(render_png(text, scale=4, border=0))
    out = io.BytesIO()
    segno.make(text, error="m", micro=False).save(out, kind="png", scale=4, border=0)
    out.seek(0)
    return out


def build_feed(segments: Sequence[Segment], out: Path) -> Path:
    """Write the segments as an MJPEG file at ``out`` (one picture per segment, timed by ffmpeg's concat demuxer)."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise RuntimeError("the camera feed needs Debian's ffmpeg (scripts/test.sh installs it)")
    frames = out.parent / f"{out.stem}-frames"
    frames.mkdir(parents=True, exist_ok=True)
    lines = ["ffconcat version 1.0"]
    for index, segment in enumerate(segments):
        path = frames / f"s{index:03d}.png"
        frame(segment, seed=index).save(path, compress_level=1)
        lines += [f"file '{path.name}'", f"duration {segment.seconds}"]
    lines.append(f"file '{path.name}'")  # the concat demuxer takes the last duration from a repeated entry
    listing = frames / "feed.ffconcat"
    listing.write_text("\n".join(lines) + "\n")
    subprocess.run(
        [ffmpeg, "-loglevel", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing),
         "-r", str(PLAYBACK_FPS), "-c:v", "mjpeg", "-q:v", "6", "-pix_fmt", "yuvj420p", "-f", "mjpeg", str(out)],
        check=True,
    )
    shutil.rmtree(frames)
    return out


def duration(segments: Sequence[Segment]) -> float:
    """Seconds one loop of the feed lasts."""
    return sum(segment.seconds for segment in segments)
