"""Reading spec files into plain data that remembers where everything came from.

This module holds what both formats share: reading a file without going
past the size limit, decoding it, the :class:`Source` a parser returns and the
:class:`Locator` that finds a path's line and column in it. The parsers are
:mod:`._yaml` (YAML 1.2 with positions and bomb limits) and :mod:`._json`.

Problems are raised as :class:`SourceError` (fatal: nothing usable was read)
or collected as :class:`SourceProblem` (the data is still usable).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "MAX_DEPTH",
    "MAX_EXPANSION",
    "Locator",
    "Path_",
    "Source",
    "SourceError",
    "SourceProblem",
    "decode",
    "is_json_path",
    "line_col",
    "parse_text",
    "read_text",
]

#: Nodes that aliases may add to a document in total (YAML bombs stop here).
MAX_EXPANSION = 10_000
#: How deeply mappings and lists may nest.
MAX_DEPTH = 100
#: A path into a document: keys (str) and list indexes (int).
Path_ = tuple[Any, ...]


class SourceError(Exception):
    """A fatal problem reading a file: one diagnostic, no data."""

    def __init__(self, code: str, message: str, line: int = 1, column: int = 1, hint: str | None = None,
                 path: Path_ = ()) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = max(1, line)
        self.column = max(1, column)
        self.hint = hint
        self.path = path


@dataclass(frozen=True, slots=True)
class SourceProblem:
    """A non-fatal problem found while reading (duplicate key, unsupported tag...)."""

    code: str
    message: str
    path: Path_
    key: bool = False  # locate the key at ``path`` rather than its value
    nth: int = 0  # which occurrence of a repeated key
    hint: str | None = None


def line_col(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of character ``index`` in ``text``."""
    index = max(0, min(index, len(text)))
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


# -- reading -------------------------------------------------------------------


def read_text(path: Path, max_size: int) -> str:
    """The file's text; :class:`SourceError` E019 past ``max_size`` bytes, E001 if unreadable."""
    try:
        with open(path, "rb") as handle:
            try:
                size = os.fstat(handle.fileno()).st_size
            except OSError:  # pragma: no cover - fstat on an open file does not fail in practice
                size = 0
            if size > max_size:
                raise _too_large(size, max_size)
            data = handle.read(max_size + 1)  # a pipe or a growing file: never read past the limit
    except SourceError:
        raise
    except IsADirectoryError:
        raise SourceError("E001", "cannot read the file: it is a directory") from None
    except OSError as exc:
        raise SourceError("E001", f"cannot read the file: {exc.strerror or exc}") from None
    if len(data) > max_size:
        raise _too_large(len(data), max_size, at_least=True)
    return decode(data)


def _too_large(size: int, max_size: int, *, at_least: bool = False) -> SourceError:
    return SourceError(
        "E019",
        f"the file is {'over ' if at_least else ''}{size:,} bytes, more than the limit of {max_size:,} bytes",
        hint="split the pipeline into smaller files, or raise the limit with --max-size",
    )


def decode(data: bytes) -> str:
    """UTF-8 text (a leading byte-order mark is dropped); E001 for anything else."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SourceError(
            "E001",
            f"the file is not UTF-8 text: byte 0x{data[exc.start]:02x} cannot be decoded",
            line,
            column,
            hint="save the spec as UTF-8",
        ) from None
    return text[1:] if text.startswith("\ufeff") else text


# -- locating ------------------------------------------------------------------


class Locator:
    """Finds the line and column of a path in a document (the base locates nothing)."""

    def locate(self, path: Path_, *, key: bool = False, offset: int | None = None, nth: int = 0) -> tuple[int, int, Path_]:
        """``(line, column, found)``: the position of the deepest existing prefix ``found`` of ``path``.

        ``key``: the position of the mapping key rather than its value.
        ``offset``: characters into a one-line scalar (for a token inside ``a.out -> b.in``).
        ``nth``: which occurrence of a repeated last key.
        """
        return 1, 1, ()


@dataclass
class Source:
    """A parsed document: plain data, how to locate paths in it, and what went wrong on the way."""

    text: str
    data: Any
    locator: Locator
    kind: str  # "yaml" or "json"
    problems: list[SourceProblem] = field(default_factory=list)


def parse_text(text: str, kind: str) -> Source:
    """Parse ``text`` as ``"json"`` or ``"yaml"``."""
    if kind == "json":
        from ._json import parse_json

        return parse_json(text)
    from ._yaml import parse_yaml

    return parse_yaml(text)


def is_json_path(path: Path) -> bool:
    """Whether a file is read as JSON (by its suffix)."""
    return path.suffix.lower() == ".json"
