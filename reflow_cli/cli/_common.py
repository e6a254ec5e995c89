"""What every command shares: exit codes, messages on stderr, writing a result out."""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path

import typer

__all__ = [
    "EXIT_FAILED",
    "EXIT_INVALID",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_USAGE",
    "check_sets",
    "err",
    "file_problem",
    "write_output",
]

EXIT_OK = 0
EXIT_FAILED = 1  # the work ran and failed (a run, a test, a pack command), or its result cannot be written
EXIT_INVALID = 1  # the input is invalid (a spec, a composition)
EXIT_NOT_FOUND = 1  # no such thing (a catalog id)
EXIT_USAGE = 2  # the command line itself is wrong


def err(text: str) -> None:
    """Print ``text`` on stderr (stdout belongs to the command's result)."""
    print(text, file=sys.stderr, flush=True)


def _reason(exc: OSError) -> str:
    """An OS error in a few words (``No such file or directory``)."""
    return exc.strerror or str(exc)


def _abandon_stdout() -> None:
    """Point stdout at the null device, so that interpreter shutdown does not fail flushing it again."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor behind stdout (a test's capture)
        pass


def _write_stdout(text: str, command: str) -> None:
    """Write ``text`` to stdout; a reader that went away ends the command quietly, other errors cleanly."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except OSError as exc:
        _abandon_stdout()
        if exc.errno == errno.EPIPE:  # `reflow ... | head`: the reader is gone; say nothing, as `cat` would
            raise typer.Exit(EXIT_FAILED) from None  # not 0: the result was not all delivered
        err(f"reflow {command}: cannot write to standard output: {_reason(exc)}")
        raise typer.Exit(EXIT_FAILED) from None


def write_output(text: str, output: Path | None, command: str) -> None:
    """Write a command's result to ``output``, or to stdout when it is None.

    A file that cannot be written (a folder, a missing folder, no permission)
    is reported as ``reflow COMMAND: cannot write PATH: reason`` and exits with
    :data:`EXIT_FAILED`; so is a failing stdout (a full disk). A closed pipe on
    stdout (``reflow ... | head``) ends the command quietly, with :data:`EXIT_FAILED`
    too (as a killed ``cat`` would not exit 0: what was written was not all read).
    """
    if output is None:
        _write_stdout(text, command)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        err(f"reflow {command}: cannot write {output}: {_reason(exc)}")
        raise typer.Exit(EXIT_FAILED) from None


def file_problem(path: Path, *, create: bool = True) -> str | None:
    """Why a file cannot be written at ``path`` (None when it can), without changing what is there.

    With ``create`` the check opens the file for appending (creating it, and
    removing it again when it was not there), which also catches permissions;
    without, it only looks: ``path`` is not a folder, and the nearest existing
    folder above it is one that can be written (the writer creates the rest).
    """
    if path.is_dir():
        return "Is a directory"
    if create:
        existed = path.exists()
        try:
            with path.open("a", encoding="utf-8"):
                pass
        except OSError as exc:
            return _reason(exc)
        if not existed:
            path.unlink(missing_ok=True)
        return None
    if path.exists():
        return None if os.access(path, os.W_OK) else "Permission denied"
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        return f"{folder} is not a directory"
    return None if os.access(folder, os.W_OK | os.X_OK) else f"Permission denied ({folder})"


def check_sets(sets: list[str], command: str) -> None:
    """Exit with a usage error (2) unless every ``--set`` is ``NODE.KEY=VALUE``."""
    for text in sets:
        left, sep, _ = text.partition("=")
        parts = left.strip().split(".")
        if not sep or len(parts) < 2 or not all(parts):
            err(f"reflow {command}: --set expects NODE.KEY=VALUE (e.g. --set read.path=other.log), not {text!r}")
            raise typer.Exit(EXIT_USAGE)
