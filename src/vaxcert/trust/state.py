"""Rollback protection for checkpoints: the highest sequence number seen, kept in a small file.

A checkpoint device that loads a trust list, revocation lists or a bundle records each
document's sequence number; later it refuses a document of the same kind whose sequence is
lower (an attacker replaying last month's list, from before a DSC was withdrawn or a certificate
revoked).  The kinds are keyed by format and country, e.g. ``vaxcert.trust-list/1:VN``,
``vaxcert.revocation-list/1:VN``, ``vaxcert.bundle/1:VN``: a bundle's inner trust list and
revocation lists are recorded under their own keys too.

The file is JSON, written atomically (a temporary file renamed over it) and readable by its
owner only (0600)::

    {"format": "vaxcert.sequence-state/1", "seen": {"vaxcert.trust-list/1:VN": 1780300800, ...}}

Saving merges with what is on disk (under an exclusive lock), so two processes sharing a state
file never lower a recorded sequence.  Sequence numbers cannot be pushed arbitrarily high by a
signed document: :func:`vaxcert.trust.signeddoc.open_document` refuses a sequence running ahead
of its issue time.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from ..codes import FailureCode
from ..errors import ConfigurationError
from ..files import write_atomic
from ..pki.certificates import country_of
from .signeddoc import DocumentError, SignedDocument

__all__ = ["STATE_FORMAT", "SequenceState"]

STATE_FORMAT = "vaxcert.sequence-state/1"
_MAX_STATE_BYTES = 1024 * 1024


def _read(path: Path) -> dict[str, int]:
    try:
        with path.open("rb") as handle:
            data = handle.read(_MAX_STATE_BYTES + 1)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigurationError(f"cannot read the checkpoint state {path}: {exc.strerror}") from None
    try:
        if len(data) > _MAX_STATE_BYTES:
            raise ValueError("too large")
        document = json.loads(data.decode("utf-8"))
        seen = document["seen"] if isinstance(document, dict) and document.get("format") == STATE_FORMAT else None
        if not isinstance(seen, dict):
            raise ValueError("not a state file")
        out: dict[str, int] = {}
        for key, value in seen.items():
            if not isinstance(key, str) or type(value) is not int or value < 0:
                raise ValueError("bad entry")
            out[key] = value
    except (ValueError, UnicodeDecodeError, RecursionError, KeyError):
        raise ConfigurationError(
            f"{path} is not a vaxcert checkpoint state file (vaxcert.sequence-state/1); move it away to start afresh"
        ) from None
    return out


class SequenceState:
    """The highest sequence number seen per document kind (see the module docstring).

    Use: ``state = SequenceState.load(path)``; pass it to :func:`vaxcert.load_verifier` (or call
    :meth:`admit` for each document loaded); then :meth:`save`.
    """

    __slots__ = ("_seen", "path")

    def __init__(self, path: str | os.PathLike[str] | None = None, seen: Mapping[str, int] | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._seen: dict[str, int] = dict(seen or {})

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SequenceState:
        """The state kept in ``path`` (empty when the file does not exist yet)."""
        return cls(path, _read(Path(path)))

    @staticmethod
    def key_of(document: SignedDocument) -> str:
        """``format:country`` of a document (the country of its body, else of its anchor CSCA)."""
        country = document.body.get("country")
        if not isinstance(country, str):
            country = country_of(document.anchor) or "-"
        return f"{document.fmt}:{country}"

    def minimum(self, key: str) -> int:
        """The highest sequence recorded for ``key`` (0 when none)."""
        return self._seen.get(key, 0)

    def admit(self, document: SignedDocument, *, code: FailureCode) -> int:
        """Record ``document``'s sequence; DocumentError(``code``) if it is older than one seen.

        Returns the sequence previously recorded for its kind (0 when none).
        """
        key = self.key_of(document)
        previous = self._seen.get(key, 0)
        if document.sequence < previous:
            raise DocumentError(code, f"{key} sequence {document.sequence} is older than the {previous} "
                                      "this checkpoint has already seen (rollback)")  # fmt: skip
        self._seen[key] = document.sequence
        return previous

    def admit_all(self, documents: Iterable[tuple[SignedDocument, FailureCode]]) -> None:
        """:meth:`admit` each (document, code) in turn, all or none: after a DocumentError nothing is recorded.

        For documents that come together, e.g. a bundle and its parts (:meth:`vaxcert.Bundle.signed_documents`).
        """
        trial = SequenceState(None, self._seen)
        for document, code in documents:
            trial.admit(document, code=code)
        self._seen = trial._seen

    def save(self, path: str | os.PathLike[str] | None = None) -> None:
        """Write the state (0600, atomically), merged with what another process may have saved."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ConfigurationError("no path to save the checkpoint state to")
        target.parent.mkdir(parents=True, exist_ok=True)
        with self._locked(target):
            for key, value in _read(target).items():
                self._seen[key] = max(value, self._seen.get(key, 0))
            text = json.dumps({"format": STATE_FORMAT, "seen": dict(sorted(self._seen.items()))}, indent=1)

            def fail(reason: str) -> ConfigurationError:
                return ConfigurationError(f"cannot write the checkpoint state {target}: {reason}")

            write_atomic(target, (text + "\n").encode("utf-8"), fail=fail)

    @staticmethod
    @contextlib.contextmanager
    def _locked(target: Path) -> Iterator[None]:
        try:
            fd = os.open(f"{target}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise ConfigurationError(f"cannot write the checkpoint state {target}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def items(self) -> dict[str, int]:
        """A copy of what is recorded."""
        return dict(self._seen)

    def __repr__(self) -> str:
        return f"SequenceState({len(self._seen)} kinds)"
