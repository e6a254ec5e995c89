"""YAML 1.2 with positions: compose with ruamel.yaml, then build plain values ourselves.

The node tree keeps the line and column of every scalar, mapping and
sequence. Building the values here (instead of ruamel's constructor) bounds
what a hostile file can do: aliases add at most :data:`MAX_EXPANSION` nodes in
total (a billion-laughs bomb stops at once), nesting is limited to
:data:`MAX_DEPTH`, duplicate keys are reported rather than overwritten, and
plain scalars are typed by the YAML 1.2 rules in :func:`resolve_plain`.

The fast C parser (ruamel.yaml.clib, libyaml) is used when it is installed,
except for texts nested so deeply that it could overflow the C stack.
"""

from __future__ import annotations

import functools
import math
import re
from typing import Any

from ._source import MAX_DEPTH, MAX_EXPANSION, Locator, Path_, Source, SourceError, SourceProblem, line_col

__all__ = ["YamlLocator", "key_text", "parse_yaml", "resolve_plain"]

# Above this bound on nesting the C parser could overflow the C stack; such
# texts go to the pure-Python parser, which fails with a RecursionError instead.
_C_PARSER_DEPTH = 2_000
_SURROGATE = re.compile("[\ud800-\udfff]")

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

    bad = _SURROGATE.search(text)
    if bad is not None:  # only from outside a file (a --set value from a mis-encoded command line)
        line, column = line_col(text, bad.start())
        raise SourceError("E001", "the text is not valid Unicode (a lone surrogate)", line, column,
                          hint="use UTF-8 text")
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
