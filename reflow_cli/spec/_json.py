"""JSON with positions: parsed by the standard library, located lazily by scanning the text."""

from __future__ import annotations

import json
import re
from typing import Any

from ._source import MAX_DEPTH, Locator, Path_, Source, SourceError, SourceProblem, line_col

__all__ = ["JsonLocator", "parse_json"]

_WS = re.compile(r"[ \t\n\r]*")


class JsonLocator(Locator):
    """Locates paths in JSON text by scanning only the containers on the way (cached)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._decoder = json.JSONDecoder()
        self._containers: dict[int, Any] = {}

    def _skip(self, pos: int) -> int:
        match = _WS.match(self.text, pos)
        return match.end() if match else pos

    def _value_end(self, pos: int) -> int:
        return self._decoder.raw_decode(self.text, pos)[1]

    def _scan(self, pos: int) -> Any:
        """``{key: [(key_pos, value_pos), ...]}`` of an object, or ``[value_pos, ...]`` of an array."""
        cached = self._containers.get(pos)
        if cached is not None:
            return cached
        text = self.text
        result: Any
        if text[pos] == "{":
            result = {}
            cursor = self._skip(pos + 1)
            while cursor < len(text) and text[cursor] == '"':
                key, after = self._decoder.raw_decode(text, cursor)
                colon = self._skip(after)
                value = self._skip(colon + 1)
                result.setdefault(key, []).append((cursor, value))
                cursor = self._skip(self._value_end(value))
                if cursor < len(text) and text[cursor] == ",":
                    cursor = self._skip(cursor + 1)
        else:
            result = []
            cursor = self._skip(pos + 1)
            while cursor < len(text) and text[cursor] != "]":
                result.append(cursor)
                cursor = self._skip(self._value_end(cursor))
                if cursor < len(text) and text[cursor] == ",":
                    cursor = self._skip(cursor + 1)
        self._containers[pos] = result
        return result

    def locate(self, path: Path_, *, key: bool = False, offset: int | None = None, nth: int = 0) -> tuple[int, int, Path_]:
        text = self.text
        pos = self._skip(0)
        key_pos: int | None = None
        found: Path_ = ()
        try:
            for position, segment in enumerate(path):
                if pos >= len(text) or text[pos] not in "{[":
                    break
                table = self._scan(pos)
                if isinstance(table, dict):
                    pairs = table.get(str(segment))
                    if not pairs:
                        break
                    last = position == len(path) - 1
                    key_pos, pos = pairs[min(nth, len(pairs) - 1) if last else 0]
                elif isinstance(segment, int) and 0 <= segment < len(table):
                    key_pos, pos = None, table[segment]
                else:
                    break
                found = (*found, segment)
        except (ValueError, IndexError):  # pragma: no cover - the text parsed as JSON already
            pass
        if key and key_pos is not None and len(found) == len(path):
            pos = key_pos
        elif offset is not None and len(found) == len(path) and pos < len(text) and text[pos] == '"':
            pos += 1 + offset
        line, column = line_col(text, pos)
        return line, column, found


def _depth_ok(data: Any) -> bool:
    stack = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth >= MAX_DEPTH:
            return False
        stack.extend((child, depth + 1) for child in children)
    return True


def parse_json(text: str) -> Source:
    """Parse JSON text; duplicate keys are kept first-wins and reported."""
    duplicates: dict[int, list[str]] = {}

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                duplicates.setdefault(id(out), []).append(key)
            else:
                out[key] = value
        return out

    try:
        data = json.loads(text, object_pairs_hook=pairs_hook)
    except json.JSONDecodeError as exc:
        raise SourceError("E001", f"JSON syntax: {exc.msg}", exc.lineno, exc.colno) from None
    except RecursionError:
        raise SourceError("E020", f"the document nests more than {MAX_DEPTH} levels deep") from None
    locator = JsonLocator(text)
    if not _depth_ok(data):
        raise SourceError("E020", f"the document nests more than {MAX_DEPTH} levels deep",
                          hint="flatten the structure")
    problems: list[SourceProblem] = []
    if duplicates:
        problems = _duplicate_problems(data, duplicates)
    return Source(text, data, locator, "json", problems)


def _duplicate_problems(data: Any, duplicates: dict[int, list[str]]) -> list[SourceProblem]:
    problems: list[SourceProblem] = []
    stack: list[tuple[Any, Path_]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, dict):
            seen: dict[str, int] = {}
            for key in duplicates.get(id(value), ()):
                seen[key] = seen.get(key, 0) + 1
                problems.append(SourceProblem("DUP", key, (*path, key), key=True, nth=seen[key]))
            stack.extend((child, (*path, key)) for key, child in value.items())
        elif isinstance(value, list):
            stack.extend((child, (*path, i)) for i, child in enumerate(value))
    problems.sort(key=lambda p: [str(s) for s in p.path])
    return problems
