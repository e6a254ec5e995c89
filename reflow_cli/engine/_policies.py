"""Error policies: what a node does with a failed tick, and the dead-letter file.

Every failure is reported the same way first (an ``ActorFailed`` event, a
record in the run, a warning in the log); then the node's policy decides:

- ``fail``: the run stops and ``wait()`` returns FAILED (``reflow run``'s default);
- ``skip`` (``continue`` is the SDK's name for it): go on with the next packet;
- ``dead_letter``: send ``{error, node, component, message, timestamp}`` to the
  node's ``error`` outport if it is connected, else append it to the run's
  dead-letter JSON-lines file (a file that cannot be written raises
  :class:`DeadLetterError`, which stops the run: a letter is never dropped);
- ``retry``: run the tick again with the same inputs, up to ``count`` times,
  waiting ``backoff`` seconds (doubling each time); if every attempt fails,
  ``then`` decides (``fail`` by default). Retries are at-least-once: packets a
  failed attempt already sent with ``ctx.send`` stay sent.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..errors import ConfigError, FileWriteError

__all__ = ["ERROR_POLICIES", "DeadLetterError", "DeadLetters", "ErrorPolicy"]

#: The policies a node's ``on_error`` may name.
ERROR_POLICIES = ("fail", "skip", "continue", "dead_letter", "retry")
_FINAL = ("fail", "skip", "continue", "dead_letter")


@dataclass(frozen=True, slots=True)
class ErrorPolicy:
    """A node's error policy, parsed from ``on_error`` and the ``retry`` settings."""

    action: str = "continue"
    count: int = 3
    backoff: float = 0.1
    then: str = "fail"

    @staticmethod
    def parse(node_id: str, on_error: Any, retry: Any = None) -> ErrorPolicy:
        """Check and build a policy; :class:`ConfigError` names the node and the problem."""
        if on_error not in ERROR_POLICIES:
            raise ConfigError(
                f"node {node_id!r}: unknown error policy {on_error!r}; use one of {', '.join(ERROR_POLICIES)}"
            )
        if retry is None:
            return ErrorPolicy(on_error)
        if not isinstance(retry, Mapping):
            raise ConfigError(f"node {node_id!r}: retry must be a mapping like {{count: 3, backoff: 0.5}}, not {retry!r}")
        unknown = set(retry) - {"count", "backoff", "then"}
        if unknown:
            raise ConfigError(f"node {node_id!r}: unknown retry setting(s) {sorted(unknown)}; use count, backoff, then")
        count = retry.get("count", 3)
        backoff = retry.get("backoff", 0.1)
        then = retry.get("then", "fail")
        if type(count) is not int or count < 1:
            raise ConfigError(f"node {node_id!r}: retry.count must be a positive integer, not {count!r}")
        if isinstance(backoff, bool) or not isinstance(backoff, (int, float)) or backoff < 0:
            raise ConfigError(f"node {node_id!r}: retry.backoff must be a number of seconds >= 0, not {backoff!r}")
        if then not in _FINAL:
            raise ConfigError(f"node {node_id!r}: retry.then must be one of {', '.join(_FINAL)}, not {then!r}")
        return ErrorPolicy(on_error, count, float(backoff), then)

    def final_action(self) -> str:
        """What happens once retries (if any) are exhausted."""
        return self.then if self.action == "retry" else self.action


class DeadLetterError(FileWriteError):
    """The dead-letter file cannot be written (a folder, a missing or read-only folder, a full disk).

    Raised rather than dropping the failed packet; the run stops with it.
    """

    writing = "write dead letters to"


class DeadLetters:
    """The run's dead-letter file: one JSON object per failed tick, appended as failures happen."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).resolve()  # stats and messages show where it really is
        self.written = 0
        self._handle: IO[str] | None = None
        self._lock = threading.Lock()

    def write(self, letter: dict[str, Any]) -> None:
        """Append one failure (opened on first use; flushed at once, so nothing is lost on a crash).

        Raises :class:`DeadLetterError` naming the file when it cannot be written.
        """
        line = json.dumps(letter, default=repr, separators=(",", ":"))
        with self._lock:
            try:
                if self._handle is None:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    self._handle = self.path.open("a", encoding="utf-8")
                self._handle.write(line + "\n")
                self._handle.flush()
            except OSError as exc:
                self._discard_handle()
                raise DeadLetterError.from_os_error(self.path, exc) from exc
            self.written += 1

    def _discard_handle(self) -> None:
        """Drop a handle that failed (its unwritten rest cannot be written either)."""
        if self._handle is not None:
            try:
                self._handle.close()
            except OSError:
                pass
            self._handle = None

    def close(self) -> None:
        """Close the file if it was opened."""
        with self._lock:
            if self._handle is not None:
                self._handle.close()
                self._handle = None
