"""Bounded FIFO queues for actor inports: a C MPSC ring with a Python fallback.

``make_queue(capacity)`` builds the backend this process uses, named by
``BACKEND``: ``"c"`` when the compiled extension imports, ``"python"`` when it
does not or when ``REFLOW_PURE_PYTHON=1`` was set before this module was first
imported.  Both classes have the same API and semantics.
"""

from __future__ import annotations

import os as _os

from ._cqueue import CQueue, c_available
from ._pyqueue import PyQueue

__all__ = ["BACKEND", "CQueue", "PyQueue", "c_available", "make_queue"]

_FORCE_PYTHON = _os.environ.get("REFLOW_PURE_PYTHON", "").strip().lower() in {
    "1",
    "true",
    "yes",
    "on",
}

#: The backend ``make_queue`` builds in this process: ``"c"`` or ``"python"``.
BACKEND: str = "c" if c_available() and not _FORCE_PYTHON else "python"

_QUEUE_CLASS: type[CQueue] | type[PyQueue] = CQueue if BACKEND == "c" else PyQueue


def make_queue(capacity: int) -> CQueue | PyQueue:
    """A new empty queue of the process's backend holding at most ``capacity`` items.

    ``capacity`` must be an int from 1 to 2**24; ``ValueError`` otherwise
    (``TypeError`` for a non-int).
    """
    return _QUEUE_CLASS(capacity)
