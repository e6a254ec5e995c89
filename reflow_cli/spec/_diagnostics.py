"""Diagnostics: what ``reflow validate`` reports, the code table, and the output formats.

Every problem found in a spec becomes one :class:`Diagnostic` with a code from
:data:`CODES` (documented in ``docs/errors.md``), a file, a 1-based line and
column, a message, an optional hint and a JSON pointer into the document.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["CODES", "Diagnostic", "format_diagnostics"]

#: code -> (severity, short title). The one table; docs/errors.md explains each.
CODES: dict[str, tuple[str, str]] = {
    "E001": ("error", "YAML or JSON syntax"),
    "E002": ("error", "does not match the spec schema"),
    "E010": ("error", "unknown component"),
    "E011": ("error", "unknown node"),
    "E012": ("error", "unknown port"),
    "E013": ("error", "duplicate node"),
    "E014": ("error", "bad initial packet"),
    "E015": ("error", "config does not match the component's schema"),
    "E016": ("error", "dangling exported port"),
    "E017": ("error", "python component import failed"),
    "E018": ("error", "include cycle"),
    "E019": ("error", "file too large"),
    "E020": ("error", "alias expansion or nesting too large (YAML bomb)"),
    "E021": ("error", "conflicting capacities"),
    "E022": ("error", "conflicting duplicate connection"),
    "E023": ("error", "composed graphs share a namespace"),
    "E024": ("error", "missing or cyclic graph dependency"),
    "E025": ("error", "conflicting shared resources"),
    "W001": ("warning", "unconnected inports"),
    "W002": ("warning", "outports nobody reads"),
    "W003": ("warning", "ignored settings"),
    "W004": ("warning", "repeated connection"),
    "W005": ("warning", "unknown config key"),
}

#: Where command-line overrides (``reflow run --set``) are reported.
COMMAND_LINE = "<command line>"


@dataclass(frozen=True)
class Diagnostic:
    """One problem in a spec, located in its file.

    ``severity`` is ``"error"`` or ``"warning"``; ``code`` is from the table
    in ``docs/errors.md`` (``"E012"``); ``line`` and ``column`` are 1-based;
    ``pointer`` is a JSON pointer into the document (``/connections/0``).
    """

    severity: str
    code: str
    file: str
    line: int
    column: int
    message: str
    hint: str | None = None
    pointer: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``schemas/diagnostics.schema.json``)."""
        return {
            "severity": self.severity,
            "code": self.code,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "hint": self.hint,
            "pointer": self.pointer,
        }

    def text(self) -> str:
        """``file:line:col: error[CODE]: message`` plus an indented hint line."""
        head = f"{self.file}:{self.line}:{self.column}: {self.severity}[{self.code}]: {self.message}"
        return head if not self.hint else f"{head}\n  hint: {self.hint}"


def _summary(diagnostics: list[Diagnostic]) -> tuple[int, int]:
    errors = sum(1 for d in diagnostics if d.severity == "error")
    return errors, len(diagnostics) - errors


def _github_escape(text: str, *, prop: bool = False) -> str:
    # The workflow-command escapes (actions/toolkit's escapeData / escapeProperty).
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def format_diagnostics(diagnostics: Iterable[Diagnostic], fmt: str = "text") -> str:
    """Render diagnostics as ``text``, ``json`` or ``github`` workflow annotations.

    ``text``: one ``file:line:col: severity[CODE]: message`` line per
    diagnostic, each followed by ``  hint: ...`` when there is a hint.
    ``json``: one document per ``schemas/diagnostics.schema.json``.
    ``github``: ``::error file=...,line=...,col=...,title=CODE::message`` lines.
    The result ends with a newline unless it is empty.
    """
    items = list(diagnostics)
    if fmt == "text":
        return "".join(d.text() + "\n" for d in items)
    if fmt == "json":
        errors, warnings = _summary(items)
        doc = {
            "version": 1,
            "ok": errors == 0,
            "errors": errors,
            "warnings": warnings,
            "diagnostics": [d.to_dict() for d in items],
        }
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if fmt == "github":
        lines = []
        for d in items:
            message = d.message if not d.hint else f"{d.message}\nhint: {d.hint}"
            props = ",".join(
                f"{key}={_github_escape(str(value), prop=True)}"
                for key, value in (("file", d.file), ("line", d.line), ("col", d.column), ("title", d.code))
            )
            lines.append(f"::{d.severity} {props}::{_github_escape(f'[{d.code}] {message}')}\n")
        return "".join(lines)
    raise ValueError(f"unknown diagnostics format {fmt!r}; use text, json or github")
