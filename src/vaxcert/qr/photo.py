"""Decoding QR codes in pictures (zxing-cpp, Pillow: the ``vaxcert[qr]`` extra).

Codes are found with zxing-cpp, with a fallback pass (contrast stretch, sharpening, upscaling),
and each symbol's module grid is read again by :func:`vaxcert.qr.symbol.read_symbol` to tell its
segment modes.
"""

from __future__ import annotations

import io
import math
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeAlias

import numpy as np
import numpy.typing as npt

from ..codes import FailureCode, Stage
from ..errors import DecodeError, MissingExtraError
from ..jsonio import ascii_digits

try:
    import zxingcpp
    from PIL import Image, ImageFilter, ImageOps
except ImportError as exc:  # pragma: no cover - the lean-install test runs without the extra
    raise MissingExtraError("qr", "decoding QR codes in pictures") from exc

from .symbol import SymbolInfo, read_symbol
from .tables import Point, U8Array

__all__ = [
    "MAX_IMAGE_BYTES",
    "MAX_IMAGE_PIXELS",
    "DecodedCode",
    "ImageDecodeError",
    "ImageSource",
    "PictureCodes",
    "decode_file",
    "decode_image",
    "read_codes",
]


ImageSource: TypeAlias = (
    "str | os.PathLike[str] | bytes | bytearray | memoryview | Image.Image | npt.NDArray[Any]"
)

#: Largest encoded image file accepted by :func:`decode_image` (bytes).
MAX_IMAGE_BYTES: Final = 64 * 1024 * 1024
#: Images with more pixels than this are refused as unreasonable (a 64 MP photo passes).
MAX_IMAGE_PIXELS: Final = 64_000_000
#: Larger images are scaled down to about this many pixels before searching for codes.
_WORK_PIXELS: Final = 12_000_000
#: Images up to this many pixels are also tried upscaled twice in the fallback pass.
_UPSCALE_MAX_PIXELS: Final = 2_000_000



class ImageDecodeError(DecodeError):
    """The image data cannot be read: not an image, truncated, corrupt or unreasonably large."""

    def __init__(self, message: str) -> None:
        super().__init__(FailureCode.IMAGE_UNREADABLE, Stage.IMAGE, message)


@dataclass(frozen=True, slots=True)
class DecodedCode:
    """One QR code found in a picture.

    ``alphanumeric`` is True when the data is in alphanumeric mode and nothing else (DCC rule Q2);
    ``modes`` lists the segment modes read from the symbol (empty if the symbol could not be read
    again, e.g. a Micro QR code).  ``position`` gives the corners top-left, top-right, bottom-right,
    bottom-left in pixels of the source image.  ``text`` and ``raw`` are left out of ``repr``: they
    hold personal data.
    """

    text: str = field(repr=False)
    alphanumeric: bool
    modes: tuple[str, ...]
    ec_level: str | None
    version: int | None
    position: tuple[Point, Point, Point, Point]
    orientation: int
    symbology: str
    raw: bytes = field(repr=False)


_FORMATS: Final = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)  # models 1 and 2, Micro, rMQR


def _read_file(path: Path) -> bytes:
    """Read an image file, refusing files larger than :data:`MAX_IMAGE_BYTES`."""
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_IMAGE_BYTES + 1)
    except OSError as exc:
        raise ImageDecodeError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageDecodeError(f"{path} is larger than {MAX_IMAGE_BYTES} bytes")
    return data


def _fit_work_size(width: int, height: int) -> tuple[int, int]:
    """Size at most :data:`_WORK_PIXELS` pixels with the same aspect ratio."""
    if width * height <= _WORK_PIXELS:
        return width, height
    factor = math.sqrt(_WORK_PIXELS / (width * height))
    return max(1, int(width * factor)), max(1, int(height * factor))


#: A greyscale working image and its scale relative to the source (work pixels per source pixel).
_Loaded: TypeAlias = tuple[U8Array, float]


def _open_bytes(data: bytes) -> _Loaded:
    """Decode image bytes (any format Pillow reads) to a greyscale array."""
    if not data:
        raise ImageDecodeError("empty image data")
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageDecodeError(f"image data larger than {MAX_IMAGE_BYTES} bytes")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                width, height = im.size
                if width <= 0 or height <= 0 or width * height > MAX_IMAGE_PIXELS:
                    raise ImageDecodeError(f"image of {width}x{height} exceeds {MAX_IMAGE_PIXELS} pixels")
                if im.format == "JPEG":
                    im.draft("L", _fit_work_size(width, height))  # decode in grey, reduced if large
                im.load()
                return _pil_to_gray(ImageOps.exif_transpose(im), width * height)
    except ImageDecodeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageDecodeError(f"image exceeds {MAX_IMAGE_PIXELS} pixels") from exc
    except Exception as exc:  # Pillow raises many exception types on corrupt data
        raise ImageDecodeError(f"cannot decode image data ({type(exc).__name__})") from exc


def _pil_to_gray(im: Image.Image, source_pixels: int | None = None) -> _Loaded:
    """Greyscale working array of a Pillow image; transparent areas count as white paper.

    ``source_pixels`` is the pixel count of the source if ``im`` was already reduced (JPEG draft).
    """
    if im.width <= 0 or im.height <= 0:
        raise ImageDecodeError("image has no pixels")
    source = source_pixels or im.width * im.height
    has_alpha = im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        im.mode == "P" and "transparency" in im.info
    )
    if has_alpha:
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(white, rgba)
    if im.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        gray, _ = _array_to_gray(np.asarray(im))
        im = Image.fromarray(gray)
    elif im.mode != "L":
        im = im.convert("L")
    work = _fit_work_size(im.width, im.height)
    if work != im.size:
        im = im.resize(work, Image.Resampling.BOX)
    gray = np.ascontiguousarray(np.asarray(im, dtype=np.uint8))
    return gray, math.sqrt(gray.size / source)


def _array_to_gray(array: npt.NDArray[Any]) -> _Loaded:
    """Greyscale working array from a 2-D grey or 3-D RGB / RGBA array of any numeric dtype."""
    a = np.asarray(array)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.size == 0 or a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise ImageDecodeError(f"array of shape {a.shape} is not a grey, RGB or RGBA image")
    if a.dtype == np.uint8:  # the usual case: let Pillow convert and resize in C
        mode = {2: "L", 3: "RGB", 4: "RGBA"}[a.shape[2] if a.ndim == 3 else 2]
        return _pil_to_gray(Image.fromarray(np.ascontiguousarray(a), mode))
    if a.dtype == np.bool_:
        values = a.astype(np.float32) * 255.0
    elif np.issubdtype(a.dtype, np.number) and not np.issubdtype(a.dtype, np.complexfloating):
        values = np.nan_to_num(a.astype(np.float32), nan=0.0, posinf=255.0, neginf=0.0)
        top = float(values.max())
        if np.issubdtype(a.dtype, np.floating) and top <= 1.0:
            values *= 255.0
        elif top > 255.0:
            values *= 255.0 / top
    else:
        raise ImageDecodeError(f"array dtype {a.dtype} is not numeric")
    if values.ndim == 3:
        alpha = values[:, :, 3:4] / 255.0 if values.shape[2] == 4 else 1.0
        rgb = values[:, :, :3] * alpha + 255.0 * (1.0 - alpha)
        values = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return _pil_to_gray(Image.fromarray(np.clip(values, 0, 255).astype(np.uint8), "L"))


def _load_gray(source: ImageSource) -> _Loaded:
    """Any supported image source as a greyscale array (raises :class:`ImageDecodeError`)."""
    if isinstance(source, np.ndarray):
        return _array_to_gray(source)
    if isinstance(source, bytes | bytearray | memoryview):
        return _open_bytes(bytes(source))
    if isinstance(source, str | os.PathLike):
        return _open_bytes(_read_file(Path(source)))
    if not isinstance(source, Image.Image):
        raise TypeError(f"unsupported image source type {type(source).__name__}")
    if source.width * source.height > MAX_IMAGE_PIXELS:
        raise ImageDecodeError(f"image exceeds {MAX_IMAGE_PIXELS} pixels")
    try:
        source.load()
        return _pil_to_gray(source)
    except ImageDecodeError:
        raise
    except Exception as exc:  # a lazily opened image may fail to load or convert
        raise ImageDecodeError(f"cannot decode image data ({type(exc).__name__})") from exc


def _scan(gray: U8Array, *, return_errors: bool = False) -> list[zxingcpp.Barcode]:
    """One zxing-cpp pass over ``gray`` for QR codes (with ``return_errors``, also symbols it could not decode)."""
    return zxingcpp.read_barcodes(
        gray,
        formats=_FORMATS,
        try_rotate=True,
        try_downscale=True,
        try_invert=True,
        text_mode=zxingcpp.TextMode.Plain,
        binarizer=zxingcpp.Binarizer.LocalAverage,
        return_errors=return_errors,
    )


def _stretch(gray: U8Array) -> U8Array:
    """Linear contrast stretch between the 1st and 99th percentiles."""
    lo, hi = np.percentile(gray, (1, 99))
    if hi - lo < 1:
        return gray
    out = (gray.astype(np.float32) - float(lo)) * (255.0 / float(hi - lo))
    return np.asarray(np.clip(out, 0, 255), dtype=np.uint8)


def _resize(gray: U8Array, factor: float) -> U8Array:
    """Resize by ``factor`` (bicubic up, box down)."""
    height, width = gray.shape
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    method = Image.Resampling.BICUBIC if factor > 1 else Image.Resampling.BOX
    return np.asarray(Image.fromarray(gray).resize(size, method), dtype=np.uint8)


def _filtered(gray: U8Array, image_filter: ImageFilter.Filter) -> U8Array:
    """Apply a Pillow filter to a greyscale array."""
    return np.asarray(Image.fromarray(gray).filter(image_filter), dtype=np.uint8)


def _fallback_variants(gray: U8Array) -> Iterator[tuple[U8Array, float]]:
    """Preprocessed versions of ``gray`` to try, cheapest first: (image, scale factor).

    Chosen on the synthetic photo set (scripts/make_photo_set.py): a contrast stretch rescues dim,
    low-contrast pictures; unsharp masking rescues blur and tilted, blurred camera shots; a light
    Gaussian blur rescues heavy sensor noise; upscaling twice and sharpening rescues codes with
    modules of 1.2-1.5 pixels.  Median filtering and the GlobalHistogram binarizer were measured
    too and rescued nothing the others did not.
    """
    stretched = _stretch(gray)
    yield stretched, 1.0
    yield _filtered(stretched, ImageFilter.UnsharpMask(radius=2, percent=200, threshold=0)), 1.0
    yield _filtered(stretched, ImageFilter.GaussianBlur(1.0)), 1.0
    if gray.size <= _UPSCALE_MAX_PIXELS:
        upscaled = _resize(stretched, 2.0)
        yield _filtered(upscaled, ImageFilter.UnsharpMask(radius=3, percent=300, threshold=0)), 2.0


def _corner(point: zxingcpp.Point, factor: float) -> Point:
    """A corner mapped back to source-image pixels."""
    return round(point.x / factor), round(point.y / factor)


def _to_decoded(barcode: zxingcpp.Barcode, factor: float) -> DecodedCode:
    """Build a :class:`DecodedCode`, reading the segment modes from the sampled symbol."""
    pos = barcode.position
    corners = (pos.top_left, pos.top_right, pos.bottom_right, pos.bottom_left)
    info: SymbolInfo | None
    try:
        info = read_symbol(np.asarray(barcode.to_image(scale=1, add_quiet_zones=False)) < 128)
    except (ValueError, RuntimeError):  # not a model 2 symbol (e.g. Micro QR), or no matrix
        info = None
    version_text = str(dict(barcode.extra).get("Version", "")) if isinstance(barcode.extra, dict) else ""
    return DecodedCode(
        text=barcode.text,
        alphanumeric=info.alphanumeric if info else False,
        modes=info.modes if info else (),
        ec_level=info.ec_level if info else (barcode.ec_level or None),
        version=info.version if info else (int(version_text) if ascii_digits(version_text) else None),
        position=(
            _corner(corners[0], factor),
            _corner(corners[1], factor),
            _corner(corners[2], factor),
            _corner(corners[3], factor),
        ),
        orientation=int(barcode.orientation),
        symbology=str(barcode.format),
        raw=bytes(barcode.bytes),
    )


def _centre(code: DecodedCode) -> tuple[float, float]:
    """Centre of a code's corners."""
    return (sum(p[0] for p in code.position) / 4, sum(p[1] for p in code.position) / 4)


def _add_unique(found: list[DecodedCode], new: DecodedCode) -> None:
    """Append ``new`` unless the same text was already found at about the same place."""
    cx, cy = _centre(new)
    for old in found:
        ox, oy = _centre(old)
        if old.text == new.text and abs(cx - ox) < 20 and abs(cy - oy) < 20:
            return
    found.append(new)


@dataclass(frozen=True, slots=True)
class PictureCodes:
    """What a picture holds: the codes read, and how many QR symbols were seen but could not be decoded.

    ``unreadable`` is counted only when no code could be read (a damaged, blurred or skewed
    symbol: zxing-cpp found its finder patterns but its data failed the error correction), so a
    front end can tell "no code in the picture" from "a code it could not read".
    """

    codes: list[DecodedCode]
    unreadable: int = 0


def read_codes(source: ImageSource, *, fallback: bool = True) -> PictureCodes:
    """The codes in a picture (as :func:`decode_image`), and when there are none the symbols seen but not decoded.

    The first zxing-cpp pass returns the undecodable symbols beside the codes, so counting them
    costs nothing more.  A live camera loop, where most frames hold no code and the next frame
    comes a few tens of milliseconds later, should pass ``fallback=False``: an empty 1280×720
    frame then costs one pass (about 5 ms here, benchmarks/bench_frames.py) instead of the
    fallback's five (about 140 ms).
    """
    return _read(source, fallback=fallback, count_unreadable=True)


def _read(source: ImageSource, *, fallback: bool, count_unreadable: bool) -> PictureCodes:
    gray, load_factor = _load_gray(source)
    found: list[DecodedCode] = []
    unreadable = 0
    for barcode in _scan(gray, return_errors=count_unreadable):
        if barcode.valid:
            _add_unique(found, _to_decoded(barcode, load_factor))
        else:
            unreadable += 1
    if found:
        return PictureCodes(found)
    if fallback:
        for variant, factor in _fallback_variants(gray):
            for barcode in _scan(variant):
                _add_unique(found, _to_decoded(barcode, load_factor * factor))
            if found:
                return PictureCodes(found)
    return PictureCodes(found, unreadable)


def decode_image(source: ImageSource, *, fallback: bool = True) -> list[DecodedCode]:
    """Every QR code in a picture, in the order found.

    ``source`` is a path (``str`` or path-like), encoded image bytes (PNG, JPEG or anything
    Pillow reads), a Pillow image, or a numpy array (grey ``HxW``, ``HxWx3`` RGB or ``HxWx4`` RGBA).
    A first pass uses zxing-cpp as is (rotations, downscaling and inverted codes included).  Only
    if it finds nothing, and ``fallback`` is true, preprocessed variants are tried one after the
    other (contrast stretch, sharpening, denoising, upscaling) until one finds a code; a live
    camera loop that gets a new frame soon may pass ``fallback=False`` to bound the time per frame.

    Returns ``[]`` for a readable image without a QR code.  Raises :class:`ImageDecodeError` for
    data that is not a readable image or is larger than :data:`MAX_IMAGE_BYTES` /
    :data:`MAX_IMAGE_PIXELS`.  Large photos are scanned at about 12 megapixels; positions are
    still given in pixels of the source (after applying its EXIF orientation).
    """
    return _read(source, fallback=fallback, count_unreadable=False).codes


def decode_file(path: str | os.PathLike[str], *, fallback: bool = True) -> list[DecodedCode]:
    """Every QR code in the image file at ``path`` (see :func:`decode_image`)."""
    return decode_image(Path(path), fallback=fallback)
