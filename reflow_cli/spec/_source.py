"""Reading spec files into plain data that remembers where everything came from.

YAML is composed (not constructed) with ruamel.yaml: the node tree keeps the
line and column of every scalar, mapping and sequence, and we build the plain
Python values ourselves. That gives us control over what a hostile file can
do: aliases are expanded at most :data:`MAX_EXPANSION` times in total (a
billion-laughs bomb stops at once), nesting is limited to :data:`MAX_DEPTH`,
duplicate keys are reported instead of silently overwritten, and nothing is
read past the size limit. JSON is parsed by the standard library and located
lazily by a small scanner over the text.

Problems are raised as :class:`SourceError` (fatal: nothing usable was read)
or collected as :class:`SourceProblem` (the data is still usable).
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "MAX_DEPTH",
    "MAX_EXPANSION",
    "JsonLocator",
    "Locator",
    "Source",
    "SourceError",
    "SourceProblem",
    "line_col",
    "parse_text",
    "read_text",
]

#: Nodes that aliases may add to a document in total (YAML bombs stop here).
MAX_EXPANSION = 10_000
#: How deeply mappings and lists may nest.
MAX_DEPTH = 100
# Above this bound on nesting the C parser could overflow the C stack; such
# texts go to the pure-Python parser, which fails with a RecursionError instead.
_C_PARSER_DEPTH = 2_000

Path_ = tuple[Any, ...]  # a path into the document: keys (str) and list indexes (int)


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


# -- YAML ------------------------------------------------------------------------

_TAG = "tag:yaml.org,2002:"
_PLAIN = "tag:reflow.dev,2026:plain"  # a plain scalar, typed by resolve_plain()
_MERGE = object()  # resolve_plain("<<")
# YAML 1.2 as ruamel.yaml reads it (its dumper quotes exactly what these would misread).
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_NULL = frozenset(("~", "null", "Null", "NULL", ""))
_INT = re.compile(r"[-+]?(?:0b[0-1_]+|0o?[0-7_]+|[0-9_]+|0x[0-9a-fA-F_]+)\Z")
_FLOAT = re.compile(
    r"(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+"
    r"|[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)"
    r"|\.(?:nan|NaN|NAN))\Z"
)
_FLOW_CHARS = re.compile(r"[\[\]{}]")
_INDENT = re.compile(r"^[ \t]+", re.M)
_COMPACT = re.compile(r"(?:[-?:][ \t]+){32,}")
_INT_PREFIX = {"0x": 16, "0o": 8, "0b": 2}
_SPECIAL_FLOATS = {".inf": math.inf, "+.inf": math.inf, "-.inf": -math.inf, ".nan": math.nan}


def _nesting_bound(text: str) -> int:
    """A cheap upper bound on the nesting depth of a YAML text."""
    flow = text.count("[") + text.count("{")
    if flow > _C_PARSER_DEPTH:
        depth = flow = 0
        for match in _FLOW_CHARS.finditer(text):
            if match.group() in "[{":
                depth += 1
                flow = max(flow, depth)
            elif depth:
                depth -= 1
    indent = max((len(m) for m in _INDENT.findall(text)), default=0)
    compact = max((len(m.split()) for m in _COMPACT.findall(text)), default=0)
    return flow + indent + compact


@functools.cache
def _tags() -> tuple[Any, Any, Any, Any]:
    """The shared tag objects our resolver hands out: plain scalar, str, seq, map."""
    from ruamel.yaml.resolver import BaseResolver
    from ruamel.yaml.tag import Tag

    return (Tag(suffix=_PLAIN), BaseResolver.DEFAULT_SCALAR_TAG, BaseResolver.DEFAULT_SEQUENCE_TAG,
            BaseResolver.DEFAULT_MAPPING_TAG)


@functools.cache
def _resolver_class() -> Any:
    """A resolver that only marks plain scalars; :func:`resolve_plain` gives them their type.

    ruamel's versioned resolver costs about 6 us a scalar (a third of parsing
    a large spec); ours costs a dictionary lookup, and resolving ourselves
    keeps the YAML 1.2 rules in one place.
    """
    from ruamel.yaml.nodes import ScalarNode, SequenceNode
    from ruamel.yaml.resolver import VersionedResolver

    plain, text, sequence, mapping = _tags()

    class PlainResolver(VersionedResolver):
        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            if kind is ScalarNode:
                return plain if implicit[0] else text
            return sequence if kind is SequenceNode else mapping

    return PlainResolver


def _yaml_parser(pure: bool) -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=pure)
    yaml.Resolver = _resolver_class()
    return yaml


def _compose(text: str) -> Any:
    """The root node of the single document in ``text`` (None for an empty one)."""
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        from ruamel.yaml.reader import ReaderError
    except ImportError:  # pragma: no cover - every ruamel.yaml has it
        ReaderError = YAMLError  # type: ignore[misc,assignment]  # noqa: N806

    pure = _nesting_bound(text) > _C_PARSER_DEPTH
    try:
        try:
            parser = _yaml_parser(pure)
        except Exception:  # pragma: no cover - no C extension: the pure parser it is
            parser = _yaml_parser(True)
        return parser.compose(text)
    except RecursionError:
        raise SourceError("E020", f"the document nests more than {MAX_DEPTH} levels deep",
                          hint="flatten the structure (a YAML bomb?)") from None
    except ReaderError as exc:
        line, column = line_col(text, getattr(exc, "position", 0) or 0)
        character = getattr(exc, "character", None)
        if isinstance(character, str) and character:
            character = ord(character[0])
        what = f"character U+{character:04X}" if isinstance(character, int) else "a character"
        raise SourceError("E001", f"YAML syntax: {what} is not allowed in YAML text", line, column,
                          hint="the file may be binary, or contain control characters") from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = " ".join(str(exc.problem or "").split()) or "invalid YAML"
        context = " ".join(str(exc.context or "").split())
        started = exc.context_mark
        if context and started is not None and exc.problem_mark is not None and started.line != exc.problem_mark.line:
            context += f" that starts on line {started.line + 1}"
        if context and problem.startswith("but "):
            message = f"YAML syntax: {context}, {problem}"
        else:
            message = f"YAML syntax: {problem}" + (f" ({context})" if context and context not in problem else "")
        raise SourceError("E001", message, line, column, hint=_syntax_hint(f"{problem} {context}")) from None
    except YAMLError as exc:
        raise SourceError("E001", f"YAML syntax: {' '.join(str(exc).split())}") from None


def _syntax_hint(problem: str) -> str | None:
    if "tab" in problem:
        return "indent with spaces, not tabs"
    if "found unexpected ':'" in problem:
        return 'quote text containing ":" inside [...] or {...}, e.g. {component: "python:my_actors:ParseLines"}'
    if "while parsing a flow" in problem and "expected ','" in problem:
        return "inside {...} and [...], quote text with [ ] { } , : or #, e.g. {from: \"merge.in[1]\", to: b.in}"
    if "mapping values are not allowed" in problem:
        return "check the indentation, or quote a value that contains ': '"
    if "expected a single document" in problem:
        return "a spec file holds one document: remove the extra '---'"
    if "undefined alias" in problem:
        return "define the anchor (&name) before the alias (*name) uses it"
    return None


class _Builder:
    """Builds plain values from a composed node tree, counting alias expansion."""

    def __init__(self) -> None:
        self.visited: set[int] = set()
        self.active: set[int] = set()
        self.expanded = 0
        self.alias_root: Path_ | None = None  # the outermost alias being expanded
        self.problems: list[SourceProblem] = []

    def build(self, node: Any, path: Path_, depth: int) -> Any:
        ident = id(node)
        if ident in self.visited:
            if ident in self.active:
                raise SourceError("E020", "a YAML alias refers to a node that contains it (a recursive alias)",
                                  path=path, hint="aliases must not refer to their own ancestors")
            self.expanded += 1
            if self.alias_root is None:
                self.alias_root = path
                try:
                    return self.build_node(node, path, depth)
                finally:
                    self.alias_root = None
            if self.expanded > MAX_EXPANSION:
                # Aliases share their anchor's node, so point at the key holding the outermost one.
                root = self.alias_root
                while root and isinstance(root[-1], int):
                    root = root[:-1]
                raise SourceError(
                    "E020",
                    f"YAML aliases expand to more than {MAX_EXPANSION:,} nodes",
                    path=root,
                    hint="this looks like a YAML bomb; use fewer or smaller aliases",
                )
        else:
            self.visited.add(ident)
        return self.build_node(node, path, depth)

    def build_node(self, node: Any, path: Path_, depth: int) -> Any:
        ident = id(node)
        kind = node.id
        if kind == "scalar":
            return self.scalar(node, path)
        if depth >= MAX_DEPTH:
            raise SourceError("E020", f"the document nests more than {MAX_DEPTH} levels deep", path=path,
                              hint="flatten the structure")
        self.active.add(ident)
        try:
            if kind == "sequence":
                self.check_tag(node, "seq", path)
                return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
            self.check_tag(node, "map", path)
            return self.mapping(node, path, depth)
        finally:
            self.active.discard(ident)

    def check_tag(self, node: Any, expected: str, path: Path_) -> None:
        if node.ctag is _tags()[2 if expected == "seq" else 3]:
            return
        tag = node.tag or ""
        if tag != _TAG + expected and not (expected == "map" and tag == _TAG + "set"):
            self.unsupported_tag(tag, path)

    def unsupported_tag(self, tag: str, path: Path_) -> None:
        shown = "!!" + tag[len(_TAG):] if tag.startswith(_TAG) else tag
        self.problems.append(SourceProblem("E001", f"YAML tag {shown} is not supported here", path,
                                           hint="remove the tag: a spec holds plain YAML values"))

    def mapping(self, node: Any, path: Path_, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        merges: list[Any] = []
        for key_node, value_node in node.value:
            if _is_merge(key_node):
                merges.append(value_node)
                continue
            key = key_text(key_node)
            if key is None:
                self.problems.append(SourceProblem("E001", "a mapping key must be a plain value, not a list or mapping",
                                                   path, hint="use a string key"))
                continue
            if key in out:
                nth = sum(1 for k, _ in node.value if key_text(k) == key) - 1
                self.problems.append(SourceProblem("DUP", key, (*path, key), key=True, nth=nth))
                continue
            out[key] = self.build(value_node, (*path, key), depth + 1)
        for merged in merges:
            sources = merged.value if merged.id == "sequence" else [merged]
            for source in sources:
                if source.id != "mapping":
                    self.problems.append(SourceProblem("E001", "a merge key (<<) needs a mapping or a list of mappings",
                                                       path, hint="write <<: *anchor with an anchored mapping"))
                    continue
                value = self.build(source, path, depth)
                for key, item in value.items():
                    out.setdefault(key, item)
        return out

    def scalar(self, node: Any, path: Path_) -> Any:
        ctag = node.ctag
        text = node.value
        plain, string = _tags()[:2]
        if ctag is plain:
            value = resolve_plain(text)
            return "<<" if value is _MERGE else value
        if ctag is string:
            return text
        tag = node.tag or ""
        if not tag.startswith(_TAG):
            self.unsupported_tag(tag, path)
            return text
        kind = tag[len(_TAG):]
        if kind == "str" or kind == "timestamp":
            return text
        if kind == "null":
            return None
        try:
            if kind == "bool":
                lowered = text.lower()
                if lowered in ("true", "false"):
                    return lowered == "true"
                if lowered in ("yes", "on", "y"):  # only under an explicit %YAML 1.1
                    return True
                if lowered in ("no", "off", "n"):
                    return False
                raise ValueError(text)
            if kind == "int":
                return _int_value(text)
            if kind == "float":
                return _float_value(text)
        except ValueError:
            self.problems.append(SourceProblem("E001", f"{text!r} is not a valid !!{kind} value", path))
            return text
        self.unsupported_tag(tag, path)
        return text


def resolve_plain(text: str) -> Any:
    """The value of a plain (unquoted) scalar under YAML 1.2: null, bool, int, float, else the text."""
    if text in _NULL:
        return None
    first = text[0]
    if first in "tTfF":
        found = _BOOL.get(text)
        return text if found is None else found
    if first in "-+0123456789.":
        try:
            if _INT.match(text):
                return _int_value(text)
            if _FLOAT.match(text):
                return _float_value(text)
        except ValueError:
            return text
        return text
    if text == "<<":
        return _MERGE
    return text


def _int_value(text: str) -> int:
    digits = text.replace("_", "")
    sign = -1 if digits.startswith("-") else 1
    digits = digits.lstrip("+-")
    base = _INT_PREFIX.get(digits[:2].lower(), 10)
    if base != 10:
        digits = digits[2:]
    if not digits:
        raise ValueError(text)
    if base == 10 and len(digits) > 4300:
        raise ValueError(text)  # int() refuses such strings; keep the text
    return sign * int(digits, base)


def _float_value(text: str) -> float:
    lowered = text.replace("_", "").lower()
    special = _SPECIAL_FLOATS.get(lowered)
    if special is not None:
        return special
    return float(lowered)


def _is_merge(node: Any) -> bool:
    """Whether a key node is the merge key ``<<`` (plain, or tagged !!merge)."""
    if node.id != "scalar":
        return False
    if node.ctag is _tags()[0]:
        return bool(node.value == "<<")
    return node.ctag is not _tags()[1] and node.tag == _TAG + "merge"


def key_text(node: Any) -> str | None:
    """A mapping key as text: strings as they are, other scalars as written; None for collections."""
    if node.id != "scalar":
        return None
    return str(node.value)


class YamlLocator(Locator):
    """Locates paths in a composed YAML node tree (merge keys and aliases included)."""

    def __init__(self, root: Any) -> None:
        self.root = root
        self._entries: dict[int, dict[str, list[tuple[Any, Any]]]] = {}

    def entries(self, node: Any) -> dict[str, list[tuple[Any, Any]]]:
        """``key -> [(key node, value node), ...]`` of a mapping node; merged keys come after."""
        cached = self._entries.get(id(node))
        if cached is not None:
            return cached
        found: dict[str, list[tuple[Any, Any]]] = {}
        self._entries[id(node)] = found  # before merging: a recursive merge sees a partial table
        merges = []
        for key_node, value_node in node.value:
            if _is_merge(key_node):
                merges.append(value_node)
                continue
            key = key_text(key_node)
            if key is not None:
                found.setdefault(key, []).append((key_node, value_node))
        for merged in merges:
            for source in merged.value if merged.id == "sequence" else [merged]:
                if source.id == "mapping":
                    for key, pairs in self.entries(source).items():
                        found.setdefault(key, pairs)
        return found

    def locate(self, path: Path_, *, key: bool = False, offset: int | None = None, nth: int = 0) -> tuple[int, int, Path_]:
        node = self.root
        if node is None:
            return 1, 1, ()
        key_node = None
        found: Path_ = ()
        for position, segment in enumerate(path):
            if node.id == "mapping":
                pairs = self.entries(node).get(str(segment))
                if not pairs:
                    break
                last = position == len(path) - 1
                key_node, node = pairs[min(nth, len(pairs) - 1) if last else 0]
            elif node.id == "sequence" and isinstance(segment, int) and 0 <= segment < len(node.value):
                key_node, node = None, node.value[segment]
            else:
                break
            found = (*found, segment)
        if key and key_node is not None and len(found) == len(path):
            mark = key_node.start_mark
            return mark.line + 1, mark.column + 1, found
        mark = node.start_mark
        line, column = mark.line + 1, mark.column + 1
        if offset is not None and len(found) == len(path) and node.id == "scalar":
            end = node.end_mark
            if end is not None and end.line == mark.line:
                column += offset + (1 if node.style in ("'", '"') else 0)
        return line, column, found


def parse_yaml(text: str) -> Source:
    """Compose ``text`` and build plain data; SourceError for what makes it unreadable."""
    root = _compose(text)
    locator = YamlLocator(root)
    if root is None:
        return Source(text, None, locator, "yaml")
    builder = _Builder()
    try:
        data = builder.build(root, (), 0)
    except SourceError as exc:
        line, column, _ = locator.locate(exc.path, key=True)
        exc.line, exc.column = line, column
        raise
    except RecursionError:  # pragma: no cover - MAX_DEPTH keeps recursion shallow
        raise SourceError("E020", f"the document nests more than {MAX_DEPTH} levels deep") from None
    return Source(text, data, locator, "yaml", builder.problems)


# -- JSON ----------------------------------------------------------------------------

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


def parse_text(text: str, kind: str) -> Source:
    """Parse ``text`` as ``"json"`` or ``"yaml"``."""
    return parse_json(text) if kind == "json" else parse_yaml(text)


def is_json_path(path: Path) -> bool:
    """Whether a file is read as JSON (by its suffix)."""
    return path.suffix.lower() == ".json"

