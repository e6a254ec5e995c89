"""Small helpers shared by the catalog families (public SDK only, stdlib only).

- field access on JSON data (``get_field``: exact key, then ``a.b[0].c`` paths);
- JSON comparisons that mean what they say (``json_equal``, ``compare``,
  ``truthy``, ``to_number``), used by filter, switch, if_branch and reduce;
- rendering data as text (``json_text``, ``pretty_json``, ``text_of``) and
  ``${...}`` templates (``render_template``);
- turning plain data into a message of its natural kind (``natural``);
- RFC 3339 timestamps (``rfc3339``, ``rfc3339_now``) and chrono-style
  ``strftime`` formats (``strftime``).
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from reflow_cli import Message

__all__ = [
    "MISSING",
    "compare",
    "config_value",
    "get_field",
    "json_equal",
    "json_text",
    "natural",
    "pretty_json",
    "render_template",
    "rfc3339",
    "rfc3339_now",
    "round_to",
    "schema",
    "strftime",
    "text_of",
    "to_number",
    "truthy",
]

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


class _Missing:
    """Marks a field that is not there (distinct from a JSON ``null``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


def schema(properties: Mapping[str, Any], required: tuple[str, ...] = (), additional: bool = True) -> dict[str, Any]:
    """A config JSON Schema (2020-12) for a component.

    ``additional`` stays true for most components: reference graphs carry
    extra keys (``propertyValues``, editor positions) that must not break
    them.
    """
    out: dict[str, Any] = {
        "$schema": JSON_SCHEMA_DIALECT,
        "type": "object",
        "properties": dict(properties),
        "additionalProperties": additional,
    }
    if required:
        out["required"] = list(required)
    return out


def config_value(config: Mapping[str, Any], *keys: str, default: Any = None) -> Any:
    """The first of ``keys`` present in ``config`` (reference aliases such as ``switch_field|field``)."""
    for key in keys:
        if key in config:
            return config[key]
    return default


# -- fields --------------------------------------------------------------------------------

_PATH_TOKEN = re.compile(r"\[(-?\d+)\]|\.?([^.\[\]]+)")


def _split_path(path: str) -> list[str | int] | None:
    parts: list[str | int] = []
    position = 0
    while position < len(path):
        match = _PATH_TOKEN.match(path, position)
        if match is None or match.end() == position:
            return None
        index, key = match.groups()
        parts.append(int(index) if index is not None else key)
        position = match.end()
    return parts


def get_field(value: Any, path: Any) -> Any:
    """``value[path]``: the value itself for an empty path; else an exact key, else a path.

    Paths use dots for keys and ``[i]`` for list indexes (``a[1].b``,
    ``[0].name``). Returns :data:`MISSING` when something on the way is not
    there.
    """
    if path is None or path == "":
        return value
    if not isinstance(path, str):
        path = str(path)
    if isinstance(value, Mapping) and path in value:
        return value[path]
    parts = _split_path(path)
    if not parts:
        return MISSING
    current = value
    for part in parts:
        if isinstance(part, int):
            if not isinstance(current, list) or not -len(current) <= part < len(current):
                return MISSING
            current = current[part]
        else:
            if not isinstance(current, Mapping) or part not in current:
                return MISSING
            current = current[part]
    return current


# -- numbers and comparisons ---------------------------------------------------------------


_NUMBER = re.compile(r"[+-]?(?:\d+|(?=\.\d))(\.\d*)?([eE][+-]?\d+)?", re.ASCII)


def to_number(value: Any) -> float | int | None:
    """A number for ints, floats and numeric strings (``" 7 "``, ``"1e3"``); ``None`` otherwise.

    Booleans are not numbers. Strings must hold a finite number.
    """
    kind = type(value)
    if kind is int or kind is float:
        return value
    if kind is bool or value is None:
        return None
    if isinstance(value, str):
        match = _NUMBER.fullmatch(value.strip())
        if match is None:
            return None
        if match.group(1) is None and match.group(2) is None:  # an integer
            return int(match.group(0))
        number = float(match.group(0))
        return number if math.isfinite(number) else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return None


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: numbers by value (``2 == 2.0``), booleans only equal booleans."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def truthy(value: Any) -> bool:
    """JSON truthiness as the reference has it: ``null``, ``false``, ``0``, ``0.0`` and ``""`` are false.

    Empty lists and objects are true.
    """
    if value is None or value is False or value is MISSING:
        return False
    if type(value) in (int, float):
        return value != 0
    if isinstance(value, str):
        return value != ""
    return True


def is_empty(value: Any) -> bool:
    """``null``, a missing field, ``""``, ``[]`` and ``{}`` are empty."""
    if value is None or value is MISSING:
        return True
    if isinstance(value, (str, list, Mapping)):
        return len(value) == 0
    return False


def contains(haystack: Any, needle: Any) -> bool:
    """Substring for strings, element for lists, key for objects."""
    if isinstance(haystack, str):
        return isinstance(needle, str) and needle in haystack
    if isinstance(haystack, list):
        return any(json_equal(item, needle) for item in haystack)
    if isinstance(haystack, Mapping):
        return isinstance(needle, str) and needle in haystack
    return False


def order(a: Any, b: Any) -> int | None:
    """-1/0/1 comparing ``a`` with ``b``: numerically when both are numbers (or numeric strings),
    as text when both are non-numeric strings; ``None`` when they cannot be ordered."""
    x, y = to_number(a), to_number(b)
    if x is not None and y is not None:
        return (x > y) - (x < y)
    if isinstance(a, str) and isinstance(b, str):
        return (a > b) - (a < b)
    return None


def compare(value: Any, operator: str, operand: Any) -> bool:
    """Apply a comparison ``operator`` (filter / if_branch / rules names) to ``value``."""
    if operator in ("equals", "is", "eq"):
        return value is not MISSING and json_equal(value, operand)
    if operator in ("not_equals", "is_not", "ne"):
        return value is not MISSING and not json_equal(value, operand)
    if operator in ("greater_than", "less_than", "greater_equal", "less_equal"):
        if value is MISSING:
            return False
        result = order(value, operand)
        if result is None:
            return False
        if operator == "greater_than":
            return result > 0
        if operator == "less_than":
            return result < 0
        if operator == "greater_equal":
            return result >= 0
        return result <= 0
    if operator == "contains":
        return value is not MISSING and contains(value, operand)
    if operator == "not_contains":
        return value is not MISSING and not contains(value, operand)
    if operator in ("is_empty", "empty"):
        return is_empty(value)
    if operator == "not_empty":
        return not is_empty(value)
    if operator == "not_null":
        return value is not None and value is not MISSING
    return truthy(value)


# -- text ----------------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, Message):
        return value.as_json()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return list(bytes(value))
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} has no JSON form")


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


def json_text(value: Any) -> str:
    """Compact JSON text (``{"a":1}``), non-ASCII kept as it is."""
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_json_default)
    except ValueError:
        return json.dumps(_finite(value), separators=(",", ":"), ensure_ascii=False, default=_json_default)


def pretty_json(value: Any) -> str:
    """JSON text indented by two spaces (as the reference's ``tpl_file_save`` writes it)."""
    try:
        return json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False, default=_json_default)
    except ValueError:
        return json.dumps(_finite(value), indent=2, ensure_ascii=False, default=_json_default)


def text_of(value: Any) -> str:
    """A value as text: strings as they are, bytes decoded as UTF-8, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", errors="replace")
    return json_text(value)


_PLACEHOLDER = re.compile(r"\$\$|\$\{([^{}:]*)(?::([^{}]*))?\}")


def render_template(template: str, data: Any, missing: str = "keep") -> str:
    """Fill ``${...}`` placeholders from ``data``.

    ``${value}`` (or ``${}``) is the whole data; ``${name}``, ``${a.b}``,
    ``${items[0]}`` are fields of it (``${.value}`` is a field named
    ``value``); ``${price:.2f}`` applies a Python format
    spec; ``$$`` is a literal ``$``. ``missing`` says what a placeholder
    naming an absent field becomes: ``keep`` (left as written), ``empty``
    (nothing) or ``error`` (raises ``KeyError`` naming it).
    """

    def fill(match: re.Match[str]) -> str:
        whole = match.group(0)
        if whole == "$$":
            return "$"
        name = (match.group(1) or "").strip()
        spec = match.group(2)
        if name in ("", "value"):
            value = data
        else:
            value = get_field(data, name)
        if value is MISSING:
            if missing == "error":
                raise KeyError(name)
            return "" if missing == "empty" else whole
        if spec:
            try:
                return format(value, spec)
            except (TypeError, ValueError):
                return text_of(value)
        return text_of(value)

    return _PLACEHOLDER.sub(fill, template)


# -- messages --------------------------------------------------------------------------------

_I64 = 2**63


def natural(value: Any) -> Message:
    """The message of ``value``'s natural kind: Object, Array, String, Integer, Float, Boolean, or Optional(null)."""
    kind = type(value)
    if kind is dict:
        return Message.object(value)
    if kind is list:
        return Message.array(value)
    if kind is str:
        return Message.string(value)
    if kind is bool:
        return Message.boolean(value)
    if kind is int:
        return Message.integer(value) if -_I64 <= value < _I64 else Message.float(float(value))
    if kind is float:
        return Message.float(value)
    if value is None or value is MISSING:
        return Message.optional(None)
    if isinstance(value, Mapping):
        return Message.object(dict(value))
    if isinstance(value, (tuple, set, frozenset)):
        return Message.array(list(value))
    return Message.object(value)


# -- time --------------------------------------------------------------------------------------


def rfc3339(seconds: float | None = None, *, nanos: int | None = None) -> str:
    """UTC RFC 3339 text with nanoseconds, as the reference writes it: ``2024-01-02T03:04:05.123456789+00:00``.

    Give either ``seconds`` (a Unix time) or ``nanos`` (Unix nanoseconds);
    neither means now.
    """
    if nanos is None:
        nanos = time.time_ns() if seconds is None else int(round(seconds * 1_000_000_000))
    whole, fraction = divmod(nanos, 1_000_000_000)
    stamp = datetime.fromtimestamp(whole, tz=timezone.utc)
    return f"{stamp:%Y-%m-%dT%H:%M:%S}.{fraction:09d}+00:00"


def rfc3339_now() -> str:
    """Now, as :func:`rfc3339` text."""
    return rfc3339(nanos=time.time_ns())


_CHRONO = re.compile(r"%(?:\.(\d)f|\.f|(\d)f|f|:z|s|%)")


def strftime(moment: datetime, fmt: str, nanos: int | None = None) -> str:
    """``strftime`` that also understands the reference's chrono specifiers.

    ``%.3f``/``%.6f``/``%.9f`` (a dot and that many fraction digits),
    ``%.f`` (a dot and 3, 6 or 9 digits as needed), ``%3f``/``%6f``/``%9f``,
    ``%f`` (nanoseconds, 9 digits, as chrono has it), ``%:z`` (``+00:00``) and
    ``%s`` (Unix seconds); everything else is Python's ``strftime``.
    """
    if nanos is None:
        nanos = moment.microsecond * 1000
    fraction = f"{nanos % 1_000_000_000:09d}"

    def chrono(match: re.Match[str]) -> str:
        text = match.group(0)
        if text == "%%":
            return "%%"
        if text == "%:z":
            offset = moment.strftime("%z") or "+0000"
            return f"{offset[:3]}:{offset[3:]}"
        if text == "%s":
            return str(int(moment.timestamp()))
        if text == "%f":
            return fraction
        if text == "%.f":
            digits = fraction.rstrip("0")
            width = 3 if len(digits) <= 3 else 6 if len(digits) <= 6 else 9
            return "." + fraction[:width]
        dotted, plain = match.groups()
        width = int(dotted or plain)
        if width not in (3, 6, 9):
            return text
        return ("." if dotted else "") + fraction[:width]

    return moment.strftime(_CHRONO.sub(chrono, fmt))


# -- per-node settings --------------------------------------------------------------------------


def settings(ctx: Any, build: Any) -> Any:
    """``build(ctx.config)``, computed once per node and kept in ``ctx.state``.

    Components keep derived settings (compiled patterns, resolved aliases)
    here rather than on ``self``, so an instance shared by several nodes
    (``Network.register_actor(id, instance)``) still sees each node's config.
    """
    state = ctx.state
    value = state.get("_settings")
    if value is None:
        value = state["_settings"] = build(ctx.config)
    return value


#: Text of the error packet for a component that needs an Array.
EXPECTED_ARRAY = "Expected Array on input port"


def os_error_text(exc: OSError) -> str:
    """``No such file or directory (os error 2)``, as the reference words OS errors."""
    if exc.errno is not None and exc.strerror:
        return f"{exc.strerror} (os error {exc.errno})"
    return str(exc)


def round_to(value: float, decimals: int) -> float:
    """``value`` rounded to ``decimals`` places, halves away from zero (Rust's ``f64::round``)."""
    factor = 10.0**decimals
    scaled = value * factor
    if not math.isfinite(scaled):
        return value
    fraction, whole = math.modf(scaled)
    if abs(fraction) >= 0.5:
        whole += math.copysign(1.0, scaled)
    return whole / factor
