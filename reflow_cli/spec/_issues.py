"""Problems found before they are located (:class:`Issue`) and where normalised data came from (origins)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["At", "CommandLine", "Issue", "Origins", "Path_"]

Path_ = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Issue:
    """A problem not yet located in a file.

    ``path`` is a path in the normalised spec, translated to the document
    through the origins table, unless ``raw`` says it already is a document
    path. ``key`` locates the mapping key instead of its value; ``offset``
    is a character offset inside a one-line scalar. ``kept`` says the data
    is kept as written (only its form is not allowed in a spec), so a
    conversion loses nothing.
    """

    code: str
    message: str
    path: Path_ = ()
    hint: str | None = None
    key: bool = False
    raw: bool = False
    offset: int | None = None
    nth: int = 0
    kept: bool = False


@dataclass(frozen=True, slots=True)
class At:
    """Normalised data that came from document ``path`` (``offset`` characters into a scalar)."""

    path: Path_
    offset: int | None = None


@dataclass(frozen=True, slots=True)
class CommandLine:
    """Normalised data that came from the ``index``-th ``--set`` override, ``text``."""

    index: int
    text: str


Origins = dict[Path_, "At | CommandLine"]
