"""Rate limits shared by every service process: fixed-window counters in the registry.

A limit is ``limit`` hits per ``window`` seconds for one *bucket*: a scope (``citizen-client``,
``citizen-id``, ...) and a value (a client address, a citizen ID).  Buckets are stored as a keyed
hash (HMAC-SHA-256 with a random key the migration puts in ``settings``): the table holds no ID
numbers or addresses, and one cannot test a guessed ID against it without the key.  Every service
process counts in the same rows, so a limit holds however many processes serve; counters of past
windows are deleted by :func:`forget_old_counters` (the worker calls it).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from ..errors import ConfigurationError
from .protocol import Registry

__all__ = ["RateDecision", "RateLimit", "RateLimiter", "forget_old_counters"]


@dataclass(frozen=True, slots=True)
class RateLimit:
    """``limit`` hits per ``window`` seconds."""

    limit: int
    window: int

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window < 1:
            raise ConfigurationError("a rate limit needs at least 1 hit per at least 1 second")


@dataclass(frozen=True, slots=True)
class RateDecision:
    """Whether a hit is allowed; if not, the seconds until the window ends."""

    allowed: bool
    retry_after: int
    hits: int


class RateLimiter:
    """Counts hits per bucket in the registry (see the module docstring)."""

    def __init__(self, registry: Registry) -> None:
        key = registry.setting("rate_limit_key")
        if not key:
            raise ConfigurationError("the registry has no rate-limit key: run 'vaxcert registry init'")
        self._key = bytes.fromhex(key)

    def bucket(self, scope: str, value: str) -> str:
        """The stored name of a bucket (a keyed hash: no personal data)."""
        return hmac.new(self._key, f"{scope}\x00{value}".encode(), hashlib.sha256).hexdigest()[:40]

    def hit(self, registry: Registry, scope: str, value: str, limit: RateLimit, *, now: float) -> RateDecision:
        """Count one hit; refused once the window holds more than ``limit.limit`` hits."""
        start = int(now) // limit.window * limit.window
        hits = registry.hit_rate_limit(self.bucket(scope, value), window_start=start)
        if hits > limit.limit:
            return RateDecision(False, max(start + limit.window - int(now), 1), hits)
        return RateDecision(True, 0, hits)


def forget_old_counters(registry: Registry, *, now: float, keep_seconds: int = 86_400) -> int:
    """Delete counters of windows older than ``keep_seconds`` (longer than any window in use)."""
    return registry.forget_rate_limits(before=int(now) - keep_seconds)
