"""Certificate formats other than the EU DCC, verified in parallel pipelines.

* :mod:`vaxcert.formats.shc`: SMART Health Cards (``shc:/`` QR codes, ``.smart-health-card``
  files), verified against a set of issuer key sets (:class:`~vaxcert.formats.shc.ShcTrust`).

Each pipeline ends in the format-neutral holder and vaccination events of
:mod:`vaxcert.events`, where it meets the EU DCC one.  Layering: this package imports only
:mod:`vaxcert.stages`, the DCC-level modules, :mod:`vaxcert.events`, :mod:`vaxcert.codes` and
:mod:`vaxcert.errors`, never the verifier, issuer, registry or front ends.
"""

__all__ = ["shc"]

from . import shc
