"""Building frozen dataclasses on the hot paths, without their ``__init__``'s cost.

A frozen dataclass's generated ``__init__`` sets every field through ``object.__setattr__`` (it
must get past the class's own ``__setattr__``, which refuses): about 65 ns a field, so 2.7 µs
for a :class:`vaxcert.verifier.VerificationResult` of 17 fields, on the path of every
verification.  :func:`maker` gives a constructor for a slotted frozen dataclass that takes every
field positionally and sets the slots through their member descriptors in one C call when the
compiled shortcuts are built (``_speedups.make_frozen``: 0.14 µs for those 17 fields), and is
the class itself otherwise.  The instance is the one the class
would build: same fields, same equality, still frozen (tests/test_speedups.py compares them).

For the classes' own code only: no defaults, no ``__post_init__``, no validation; the caller
passes every field in order.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any, TypeVar

try:
    from ._speedups import make_frozen as _compiled_make
except ImportError:  # not built (a wheel, no C compiler): pure Python (scripts/build_speedups.py)
    _compiled_make = None  # type: ignore[assignment]

__all__ = ["maker"]

T = TypeVar("T")


def _members(cls: type) -> tuple[Any, ...]:
    if not dataclasses.is_dataclass(cls) or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__} is not a slotted dataclass")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} has a __post_init__, which a maker would skip")
    return tuple(cls.__dict__[f.name] for f in dataclasses.fields(cls))


def maker(cls: type[T]) -> Callable[..., T]:
    """``make(*values)``: an instance of the slotted dataclass ``cls``, every field given in order.

    Without the compiled shortcuts it is ``cls`` itself (its generated ``__init__``, the reference).
    """
    members = _members(cls)
    if _compiled_make is None:
        return cls
    made: Callable[..., T] = functools.partial(_compiled_make, cls, members)  # type: ignore[assignment]
    return made
