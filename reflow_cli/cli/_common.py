"""What every command shares: exit codes, messages on stderr, writing a result out."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

__all__ = ["EXIT_FAILED", "EXIT_INVALID", "EXIT_NOT_FOUND", "EXIT_OK", "EXIT_USAGE", "err", "write_output"]

EXIT_OK = 0
EXIT_FAILED = 1  # the work ran and failed (a run, a test, a pack command)
EXIT_INVALID = 1  # the input is invalid (a spec, a composition)
EXIT_NOT_FOUND = 1  # no such thing (a catalog id)
EXIT_USAGE = 2  # the command line itself is wrong, or its output cannot be written


def err(text: str) -> None:
    """Print ``text`` on stderr (stdout belongs to the command's result)."""
    print(text, file=sys.stderr, flush=True)


def write_output(text: str, output: Path | None, command: str) -> None:
    """Write a command's result to ``output``, or to stdout when it is None.

    A file that cannot be written is reported as ``reflow COMMAND: cannot
    write PATH: reason`` and exits with :data:`EXIT_USAGE`.
    """
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        err(f"reflow {command}: cannot write {output}: {exc.strerror or exc}")
        raise typer.Exit(EXIT_USAGE) from None
