"""QR codes for HC1 strings: render them, and find and read them in pictures.

Two levels, as elsewhere in vaxcert:

* Recipes: :func:`render_png`, :func:`render_svg`, :func:`render_terminal`, :func:`save`,
  :func:`plan_size` (:mod:`.render`); :func:`decode_image`, :func:`decode_file` (:mod:`.photo`,
  which needs the ``vaxcert[qr]`` extra: zxing-cpp and Pillow).
* Primitives: :func:`encode` (text → module matrix, :mod:`.encoder`) and :func:`read_symbol`
  (module matrix → segments, error-correction level, mask, :mod:`.symbol`), built on
  :mod:`.reedsolomon`, :mod:`.layout` and :mod:`.tables`.

Rendering needs only numpy (a base dependency): the encoder is vaxcert's own, restricted on
purpose to what the EU DCC specification asks for, the whole text in **one alphanumeric
segment** at error-correction level **Q**.  The names of :mod:`.photo` are loaded on first use,
so ``import vaxcert.qr`` works without the extra and a decode without it raises
:class:`~vaxcert.errors.MissingExtraError` naming ``vaxcert[qr]``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .encoder import QrMatrix, encode, is_alphanumeric
from .render import (
    DEFAULT_BORDER,
    DEFAULT_DPI,
    DEFAULT_SCALE,
    RenderSize,
    plan_size,
    render_png,
    render_svg,
    render_terminal,
    save,
)
from .symbol import SymbolInfo, read_symbol
from .tables import ALPHANUMERIC_CHARSET

if TYPE_CHECKING:
    from .photo import (
        MAX_IMAGE_BYTES,
        MAX_IMAGE_PIXELS,
        DecodedCode,
        ImageDecodeError,
        ImageSource,
        PictureCodes,
        decode_file,
        decode_image,
        read_codes,
    )

__all__ = [
    "ALPHANUMERIC_CHARSET",
    "DEFAULT_BORDER",
    "DEFAULT_DPI",
    "DEFAULT_SCALE",
    "MAX_IMAGE_BYTES",
    "MAX_IMAGE_PIXELS",
    "DecodedCode",
    "ImageDecodeError",
    "ImageSource",
    "PictureCodes",
    "QrMatrix",
    "RenderSize",
    "SymbolInfo",
    "decode_file",
    "decode_image",
    "encode",
    "is_alphanumeric",
    "plan_size",
    "read_codes",
    "read_symbol",
    "render_png",
    "render_svg",
    "render_terminal",
    "save",
]

_PHOTO = frozenset({"MAX_IMAGE_BYTES", "MAX_IMAGE_PIXELS", "DecodedCode", "ImageDecodeError", "ImageSource",
                    "PictureCodes", "decode_file", "decode_image", "read_codes"})


def __getattr__(name: str) -> Any:
    """The picture-decoding names, imported on first use (they need the ``vaxcert[qr]`` extra)."""
    if name in _PHOTO:
        return getattr(importlib.import_module(".photo", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
