"""Writing local files safely: :func:`write_atomic` (a temporary file, 0600, flushed, renamed).

Key files, a checkpoint's rollback state and the checkpoint's bundle file are replaced this way,
so a crash or a full disk leaves the old file or the new one, never half of one, and no other
user can read the file while it is written.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["write_atomic"]


def write_atomic(path: str | os.PathLike[str], data: bytes, *, fail: Callable[[str], Exception]) -> None:
    """Replace ``path`` with ``data``: written to a temporary file in the same folder (mode 0600),
    flushed to disk, then renamed over ``path``.  An OSError becomes ``fail(reason)`` (the caller's
    error naming the file); the temporary file never stays behind."""
    target = Path(path)
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as exc:
        raise fail(exc.strerror or str(exc)) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise fail(exc.strerror or str(exc)) from None
        raise
