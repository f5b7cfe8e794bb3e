"""Rendering QR symbols: size planning in modules or millimetres, PNG (own 1-bit writer), SVG, terminal.
"""

from __future__ import annotations

import math
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from ..errors import InputError
from .encoder import encode
from .tables import BoolMatrix

__all__ = [
    "DEFAULT_BORDER",
    "DEFAULT_DPI",
    "DEFAULT_SCALE",
    "RenderSize",
    "plan_size",
    "render_png",
    "render_svg",
    "render_terminal",
    "save",
]


DEFAULT_SCALE: Final = 4
DEFAULT_BORDER: Final = 4
DEFAULT_DPI: Final = 300
_MM_PER_INCH: Final = 25.4



@dataclass(frozen=True, slots=True)
class RenderSize:
    """How a symbol is laid out in an image.

    ``scale`` is pixels per module; ``pixels`` the side of the whole image including the quiet
    zone; ``symbol_mm`` and ``image_mm`` the printed sides (without / with the quiet zone) at
    ``dpi``; ``diagonal_mm`` the symbol diagonal, which the DCC specification recommends to be
    35-60 mm on paper.
    """

    modules: int
    border: int
    scale: int
    dpi: float
    pixels: int
    module_mm: float
    symbol_mm: float
    image_mm: float
    diagonal_mm: float


def _check_border(border: int) -> None:
    """Raise :class:`InputError` unless ``border`` is a whole number of modules >= 0."""
    if isinstance(border, bool) or not isinstance(border, int) or border < 0:
        raise InputError("border", "must be a whole number >= 0")


def _check_positive(name: str, value: float, *, integer: bool = False) -> None:
    """Raise :class:`InputError` unless ``value`` is a positive finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(name, f"expected a number, got {type(value).__name__}")
    if integer and not isinstance(value, int):
        raise InputError(name, "must be a whole number")
    if not math.isfinite(value) or value <= 0:
        raise InputError(name, "must be a positive number")


def plan_size(
    modules: int,
    *,
    scale: int | None = None,
    size_mm: float | None = None,
    dpi: float = DEFAULT_DPI,
    border: int = DEFAULT_BORDER,
) -> RenderSize:
    """Choose pixels per module for a symbol of ``modules`` per side.

    Give either ``scale`` (pixels per module) or ``size_mm``: the printed side of the symbol
    without its quiet zone, at ``dpi``.  Modules are whole pixels (sharp edges for scanners), so
    the side actually obtained is the nearest multiple of the module and is reported in the result.
    """
    if scale is not None and size_mm is not None:
        raise InputError("size", "give either scale or size_mm, not both")
    _check_positive("dpi", dpi)
    _check_border(border)
    if size_mm is not None:
        _check_positive("size_mm", size_mm)
        exact = size_mm / _MM_PER_INCH * dpi / modules
        if exact < 1:
            raise InputError(
                "size_mm",
                f"{size_mm} mm at {dpi} dpi gives {exact:.2f} pixels per module; use a higher dpi",
            )
        scale = max(1, round(exact))
    elif scale is None:
        scale = DEFAULT_SCALE
    _check_positive("scale", scale, integer=True)
    module_mm = _MM_PER_INCH / dpi * scale
    symbol_mm = modules * module_mm
    return RenderSize(
        modules=modules,
        border=border,
        scale=scale,
        dpi=float(dpi),
        pixels=(modules + 2 * border) * scale,
        module_mm=module_mm,
        symbol_mm=symbol_mm,
        image_mm=(modules + 2 * border) * module_mm,
        diagonal_mm=symbol_mm * math.sqrt(2),
    )


def _with_border(modules: BoolMatrix, border: int) -> BoolMatrix:
    """The module matrix surrounded by ``border`` light modules."""
    return np.pad(modules, border) if border else modules


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_from_modules(modules: BoolMatrix, size: RenderSize) -> bytes:
    """A 1-bit greyscale PNG of ``modules`` (dark = True) with quiet zone and pHYs (DPI)."""
    light = ~_with_border(modules, size.border)
    row_bits = np.repeat(light, size.scale, axis=1)
    packed = np.packbits(row_bits, axis=1)
    rows = np.repeat(np.pad(packed, ((0, 0), (1, 0))), size.scale, axis=0)  # filter byte 0
    width = height = size.pixels
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    ppm = round(size.dpi / 0.0254)
    phys = struct.pack(">IIB", ppm, ppm, 1)
    return b"".join((
        b"\x89PNG\r\n\x1a\n",
        _png_chunk(b"IHDR", ihdr),
        _png_chunk(b"pHYs", phys),
        _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)),
        _png_chunk(b"IEND", b""),
    ))


def render_png(
    text: str,
    *,
    scale: int | None = None,
    size_mm: float | None = None,
    dpi: float = DEFAULT_DPI,
    border: int = DEFAULT_BORDER,
) -> bytes:
    """PNG bytes of ``text`` as a QR code (alphanumeric mode, level Q).

    Size by ``scale`` (pixels per module, default 4) or ``size_mm`` (printed side of the symbol
    without quiet zone) at ``dpi``; the DPI is written into the PNG.  ``border`` is the quiet zone
    in modules (the QR standard asks for 4).
    """
    matrix = encode(text)
    size = plan_size(matrix.size, scale=scale, size_mm=size_mm, dpi=dpi, border=border)
    return _png_from_modules(matrix.modules, size)


def _svg_path(modules: BoolMatrix, offset: int) -> str:
    """SVG path data drawing each horizontal run of dark modules as one rectangle."""
    padded = np.pad(modules.astype(np.int8), ((0, 0), (1, 1)))
    edges = np.diff(padded, axis=1)
    parts: list[str] = []
    for row in range(modules.shape[0]):
        starts = np.flatnonzero(edges[row] == 1)
        ends = np.flatnonzero(edges[row] == -1)
        y = row + offset
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            length = end - start
            parts.append(f"M{start + offset} {y}h{length}v1h-{length}z")
    return "".join(parts)


def render_svg(
    text: str,
    *,
    scale: int | None = None,
    size_mm: float | None = None,
    dpi: float = DEFAULT_DPI,
    border: int = DEFAULT_BORDER,
) -> str:
    """An SVG document of ``text`` as a QR code (alphanumeric mode, level Q).

    The drawing is in module units (``viewBox``); with ``size_mm`` the width and height are given
    in millimetres (the symbol side without quiet zone is ``size_mm``, exactly: SVG needs no whole
    pixels), otherwise in pixels of ``scale`` per module.  ``dpi`` is accepted for symmetry with
    :func:`render_png` and only validated: a vector drawing has no pixel grid.
    """
    _check_positive("dpi", dpi)
    matrix = encode(text)
    _check_border(border)
    total = matrix.size + 2 * border
    if size_mm is not None:
        if scale is not None:
            raise InputError("size", "give either scale or size_mm, not both")
        _check_positive("size_mm", size_mm)
        side = f"{size_mm * total / matrix.size:.3f}mm"
    else:
        side = str(plan_size(matrix.size, scale=scale, dpi=dpi, border=border).pixels)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{side}" height="{side}" '
        f'viewBox="0 0 {total} {total}" shape-rendering="crispEdges">'
        f'<rect width="{total}" height="{total}" fill="#fff"/>'
        f'<path fill="#000" d="{_svg_path(matrix.modules, border)}"/></svg>\n'
    )


_HALF_BLOCKS: Final = (" ", "\u2584", "\u2580", "\u2588")  # index: 2 * top + bottom, lit cells


def render_terminal(text: str, *, border: int = DEFAULT_BORDER, invert: bool = False) -> str:
    """The QR code as text, two module rows per line with half-block characters.

    By default light modules are drawn with block characters, which suits the usual light-on-dark
    terminal; ``invert=True`` draws dark modules instead, for dark-on-light terminals.  Lines end
    with ``\\n``.
    """
    _check_border(border)
    modules = _with_border(encode(text).modules, border)
    lit = modules if invert else ~modules
    if lit.shape[0] % 2:
        lit = np.pad(lit, ((0, 1), (0, 0)))
    codes = 2 * lit[0::2].astype(np.int8) + lit[1::2].astype(np.int8)
    return "".join("".join(_HALF_BLOCKS[v] for v in row) + "\n" for row in codes.tolist())


def save(text: str, path: str | os.PathLike[str], **options: Any) -> Path:
    """Write ``text`` as a QR code to ``path``; the suffix (.png or .svg) picks the format.

    ``options`` are those of :func:`render_png` / :func:`render_svg`.  Returns the path written.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix == ".png":
        target.write_bytes(render_png(text, **options))
    elif suffix == ".svg":
        target.write_text(render_svg(text, **options), encoding="utf-8")
    else:
        raise InputError("path", f"unsupported suffix {suffix!r}: use .png or .svg")
    return target
