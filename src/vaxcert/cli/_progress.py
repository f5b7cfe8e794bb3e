"""A small progress bar on standard error (no personal data: counts only), fed by library callbacks."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """``label [#####.....]  45%  4,500/10,000  1,234/s`` redrawn in place on a terminal.

    ``total`` may be None (unknown): then only the count and rate are shown.  The bar is drawn
    only on a terminal (and not when ``enabled`` is False); :meth:`close` replaces it with one
    final line.  Elsewhere (a log file, a pipe) nothing is written: callers print their own
    summary.
    """

    def __init__(
        self,
        label: str,
        total: float | None = None,
        *,
        unit: str = "",
        stream: TextIO | None = None,
        enabled: bool = True,
    ) -> None:
        self.label = label
        self.total = total
        self.unit = unit
        self.count = 0.0
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self._tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self._start = time.monotonic()
        self._last = 0.0
        self._closed = False

    def report(self, done: float, total: float | None) -> None:
        """A :data:`vaxcert.registry.ProgressCallback`: the amount done so far and the total (if known)."""
        if total is not None:
            self.total = total
        self.update(shown=done)

    def update(self, n: float = 1, *, shown: float | None = None) -> None:
        """Advance by ``n`` (or set the absolute position with ``shown``)."""
        self.count = shown if shown is not None else self.count + n
        if self._tty:
            now = time.monotonic()
            if now - self._last >= 0.1:
                self._last = now
                self.stream.write("\r" + self._line())
                self.stream.flush()

    def _line(self) -> str:
        elapsed = max(time.monotonic() - self._start, 1e-9)
        rate = self.count / elapsed
        unit = f" {self.unit}" if self.unit else ""
        if self.total:
            frac = min(self.count / self.total, 1.0)
            bar = "#" * int(frac * 30)
            return (f"{self.label} [{bar:.<30}] {frac * 100:3.0f}%  {self.count:,.0f}/{self.total:,.0f}{unit}"
                    f"  {rate:,.0f}/s")
        return f"{self.label} {self.count:,.0f}{unit}  {rate:,.0f}/s"

    def close(self, final: str | None = None) -> None:
        """Finish the bar with a last line (``final`` replaces the default summary)."""
        if self._closed or not self._tty:
            return
        self._closed = True
        text = final if final is not None else self._line()
        self.stream.write("\r" + text.ljust(len(self._line())) + "\n")
        self.stream.flush()
