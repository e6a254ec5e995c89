"""Data family: parsing, reshaping and generating JSON-like data.

A ``Flow`` (end of a stream) passes through ``tpl_json_parser``,
``tpl_data_transformer`` and ``tpl_data_operations`` unchanged.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from reflow_cli import Actor, Message, PortSpec

from ._common import MISSING, config_value, get_field, json_text, natural, render_template, schema, settings

__all__ = ["COMPONENTS", "parse_json"]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class JsonError(ValueError):
    """A JSON text that does not parse; the text says where."""


def parse_json(text: str | bytes) -> Any:
    """Parse strict JSON (no NaN/Infinity); raise :class:`JsonError` with ``... at line L column C``."""
    if isinstance(text, (bytes, bytearray, memoryview)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonError(f"invalid UTF-8 at byte {exc.start}") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise JsonError(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except ValueError as exc:  # NaN / Infinity
        raise JsonError(str(exc)) from None


class JsonParser(Actor):
    """Parses JSON text (String or Bytes); `path` picks a part of it."""

    component = "tpl_json_parser"
    inports = [PortSpec("input", None, "JSON text as a String or UTF-8 Bytes; a Flow passes through")]
    outports = [
        PortSpec("output", None, "the parsed value as a message of its own kind (Object, Array, Integer...)"),
        PortSpec("error", "Error", "`JSON parse error: ...` or `Expected String or Bytes on input port`"),
    ]
    config_schema = schema(
        {
            "path": {
                "type": "string",
                "default": "",
                "description": "Take this part of the document: keys joined by dots, list indexes in brackets "
                "(`a[1].b`, `[0].name`). A path that is not there gives null.",
            }
        }
    )
    description = (
        "Parses the String or Bytes on `input` as JSON and sends the value (or the part at `path`, null "
        "when absent) on `output` as a message of its natural kind: Object, Array, String, Integer, Float, "
        "Boolean, Optional(null) (the reference always said Object). Bad JSON goes to `error` as "
        "`JSON parse error: <what> at line L column C`; other kinds as `Expected String or Bytes on input port`."
    )
    example = {
        "config": {"path": "items[1].name"},
        "inputs": {"input": [{"type": "String", "data": "{\"items\": [{\"name\": \"a\"}, {\"name\": \"b\"}]}"}]},
        "outputs": {"output": [{"type": "String", "data": "b"}]},
    }

    def run(self, ctx: Any) -> None:
        message = ctx.inputs["input"]
        kind = message["type"]
        if kind == "Flow":
            ctx.done({"output": message})
            return
        if kind not in ("String", "Bytes"):
            ctx.done({"error": Message.error("Expected String or Bytes on input port")})
            return
        try:
            value = parse_json(message["data"])
        except JsonError as exc:
            ctx.done({"error": Message.error(f"JSON parse error: {exc}")})
            return
        path = ctx.config.get("path") or ""
        if path:
            value = get_field(value, path)
        ctx.done({"output": natural(None if value is MISSING else value)})


_TRANSFORMS = ("identity", "to_uppercase", "to_lowercase", "to_json", "from_json", "extract_field", "set_field", "template")


class DataTransformer(Actor):
    """One transformation of the packet's data: case, JSON text, fields, template."""

    component = "tpl_data_transformer"
    inports = [PortSpec("input", None, "any packet; a Flow passes through")]
    outports = [
        PortSpec("output", None, "the transformed data"),
        PortSpec("error", "Error", "from_json on text that is not JSON"),
    ]
    config_schema = schema(
        {
            "operation": {
                "type": "string",
                "enum": list(_TRANSFORMS),
                "default": "identity",
                "description": (
                    "identity; to_uppercase / to_lowercase (Strings; other data unchanged); to_json (the data as "
                    "compact JSON text); from_json (parse a String; other data unchanged); extract_field (an "
                    "Object's `field`, null if absent; other data unchanged); set_field (a copy of the Object "
                    "with `field` = `value`; other data becomes {field: value}); template (fill `template`)."
                ),
            },
            "transform_type": {
                "type": "string",
                "enum": list(_TRANSFORMS),
                "description": "Alias of `operation`; wins when both are given (as in the reference).",
            },
            "field_name": {"type": "string", "description": "The field of extract_field / set_field (`a.b` paths for extract_field)."},
            "field": {"type": "string", "description": "Alias of `field_name` (used when that is absent)."},
            "field_value": {"description": "The value set_field sets (any JSON value)."},
            "value": {"description": "Alias of `field_value` (used when that is absent)."},
            "template": {
                "type": "string",
                "description": "For template: `${value}` is the data as text (Strings as they are, anything "
                "else compact JSON), `${name}` / `${a.b}` a field of an Object, `${n:.2f}` a format spec, "
                "`$$` a dollar sign; a placeholder for an absent field stays as written. No template: "
                "the data is unchanged.",
            },
        }
    )
    description = (
        "Applies `operation` (or `transform_type`) to the packet's data and sends the result on `output`. "
        "Without an operation the packet passes unchanged. Unlike the reference, to_json and `${value}` "
        "render the data itself, not its tagged {type, data} envelope, and templates fill object fields."
    )
    example = {
        "config": {"operation": "template", "template": "${name} is ${age}"},
        "inputs": {"input": [{"type": "Object", "data": {"name": "Ada", "age": 36}}]},
        "outputs": {"output": [{"type": "String", "data": "Ada is 36"}]},
    }

    @staticmethod
    def _operation(config: Mapping[str, Any]) -> str:
        return config_value(config, "transform_type", "operation", default="identity") or "identity"

    def run(self, ctx: Any) -> None:
        message = ctx.inputs["input"]
        if message["type"] == "Flow":
            ctx.done({"output": message})
            return
        config = ctx.config
        operation = self._operation(config)
        data = message.get("data")
        if operation == "to_uppercase" or operation == "to_lowercase":
            if isinstance(data, str):
                ctx.done({"output": Message.string(data.upper() if operation == "to_uppercase" else data.lower())})
            else:
                ctx.done({"output": message})
        elif operation == "to_json":
            ctx.done({"output": Message.string(json_text(data))})
        elif operation == "from_json":
            if not isinstance(data, str):
                ctx.done({"output": message})
                return
            try:
                value = parse_json(data)
            except JsonError as exc:
                ctx.done({"error": Message.error(f"JSON parse error: {exc}")})
                return
            ctx.done({"output": natural(value)})
        elif operation == "extract_field":
            if not isinstance(data, Mapping):
                ctx.done({"output": message})
                return
            field = config_value(config, "field_name", "field", default="") or ""
            value = get_field(data, field) if field else MISSING
            ctx.done({"output": natural(None if value is MISSING else value)})
        elif operation == "set_field":
            field = config_value(config, "field_name", "field", default="") or ""
            value = config_value(config, "field_value", "value")
            base = dict(data) if isinstance(data, Mapping) else {}
            base[field] = value
            ctx.done({"output": Message.object(base)})
        elif operation == "template":
            template = config.get("template")
            if not isinstance(template, str):
                ctx.done({"output": message})
                return
            ctx.done({"output": Message.string(render_template(template, data))})
        else:
            ctx.done({"output": message})


# -- tpl_generator -------------------------------------------------------------------------------------

_GENERATOR_TYPES = ("range", "linspace", "repeat", "index", "grid")


class GeneratorError(ValueError):
    """Parameters a generator cannot use."""


def _param_number(params: Mapping[str, Any], key: str, default: float) -> float:
    value = params.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise GeneratorError(f"`{key}` must be a number, not {json_text(value)}")
    return float(value)


def _param_count(params: Mapping[str, Any], key: str, default: int) -> int:
    value = params.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or value != int(value):
        raise GeneratorError(f"`{key}` must be a whole number >= 0, not {json_text(value)}")
    return int(value)


def _expand(template: Any, index: int, count: int) -> Any:
    """``$i`` becomes the index and ``$t`` index / (count - 1), in strings, keys and nested values."""
    t = index / (count - 1) if count > 1 else 0.0
    if isinstance(template, str):
        if template == "$i":
            return index
        if template == "$t":
            return t
        return template.replace("$i", str(index)).replace("$t", f"{t:.6f}")
    if isinstance(template, list):
        return [_expand(item, index, count) for item in template]
    if isinstance(template, Mapping):
        return {key.replace("$i", str(index)): _expand(value, index, count) for key, value in template.items()}
    return template


def generate(params: Mapping[str, Any], limit: int) -> tuple[str, Any]:
    """``(type, iterator of items)`` for generator parameters; raises :class:`GeneratorError`."""
    kind = params.get("type") or "range"
    if kind not in _GENERATOR_TYPES:
        raise GeneratorError(f"unknown generator type: {kind!r} (use one of {', '.join(_GENERATOR_TYPES)})")

    def check(count: int) -> None:
        if count > limit:
            raise GeneratorError(f"{kind} would make {count} items, more than maxItems ({limit})")

    if kind == "range":
        start = _param_number(params, "start", 0.0)
        end = _param_number(params, "end", 10.0)
        step = _param_number(params, "step", 1.0)
        if step == 0:
            return kind, iter(())
        count = max(0, math.ceil((end - start) / step))
        check(count)
        return kind, (start + i * step for i in range(count))
    if kind == "linspace":
        start = _param_number(params, "start", 0.0)
        end = _param_number(params, "end", 1.0)
        count = _param_count(params, "count", 10)
        check(count)
        if count == 1:
            return kind, iter([start])
        return kind, (start + (i / (count - 1)) * (end - start) for i in range(count))
    if kind == "repeat":
        count = _param_count(params, "count", 1)
        check(count)
        value = params.get("value")
        return kind, (value for _ in range(count))
    if kind == "index":
        count = _param_count(params, "count", 1)
        check(count)
        template = params.get("template", {"index": "$i"})
        return kind, (_expand(template, i, count) for i in range(count))
    width = _param_count(params, "width", 4)
    height = _param_count(params, "height", 4)
    depth = _param_count(params, "depth", 1)
    spacing = _param_number(params, "spacing", 1.0)
    center = params.get("center", True)
    if min(width, height, depth) < 1:
        raise GeneratorError("grid needs width, height and depth of at least 1")
    check(width * height * depth)
    offsets = [(n - 1) * spacing * 0.5 if center else 0.0 for n in (width, height, depth)]

    def points() -> Any:
        for z in range(depth):
            for y in range(height):
                for x in range(width):
                    point: dict[str, Any] = {"x": x * spacing - offsets[0], "y": y * spacing - offsets[1]}
                    if depth > 1:
                        point["z"] = z * spacing - offsets[2]
                        point.update(ix=x, iy=y, iz=z)
                    else:
                        point.update(ix=x, iy=y)
                    yield point

    return kind, points()


class Generator(Actor):
    """Generates an Array: a range, evenly spaced values, copies, templated objects or grid points."""

    component = "tpl_generator"
    inports = [
        PortSpec("trigger", None, "any packet generates with the config"),
        PortSpec("params", "Object", "an Object of parameters merged over the config, then generates"),
    ]
    outports = [
        PortSpec("output", None, "the items: one Array (emit array), or one packet per item then a Flow (emit items)"),
        PortSpec("metadata", "Object", "{type, count}"),
        PortSpec("error", "Error", "an unknown type, a bad parameter, or more than maxItems items"),
    ]
    config_schema = schema(
        {
            "type": {
                "type": "string",
                "enum": list(_GENERATOR_TYPES),
                "default": "range",
                "description": "range: start, start+step, ... below end (defaults 0, 10, 1); linspace: count values "
                "from start to end inclusive (defaults 0, 1, 10); repeat: count copies of value (count 1); index: "
                "count copies of template with `$i` (index) and `$t` (index/(count-1)) filled in (count 1); grid: "
                "width x height (x depth) points {x, y, (z,) ix, iy, (iz)} spaced by spacing, centred on 0 "
                "unless center is false (4 x 4 x 1, spacing 1).",
            },
            "start": {"type": "number", "description": "range, linspace: first value."},
            "end": {"type": "number", "description": "range: the bound (excluded); linspace: last value."},
            "step": {"type": "number", "description": "range: increment (negative counts down; 0 gives [])."},
            "count": {"type": "integer", "minimum": 0, "description": "linspace, repeat, index: number of items."},
            "value": {"description": "repeat: the value to copy."},
            "template": {"description": "index: the value to copy, with `$i` and `$t` replaced in strings and keys."},
            "width": {"type": "integer", "minimum": 1, "description": "grid: points along x."},
            "height": {"type": "integer", "minimum": 1, "description": "grid: points along y."},
            "depth": {"type": "integer", "minimum": 1, "description": "grid: points along z (1: a 2-D grid)."},
            "spacing": {"type": "number", "description": "grid: distance between neighbours."},
            "center": {"type": "boolean", "description": "grid: centre the grid on the origin (default true)."},
            "emit": {
                "type": "string",
                "enum": ["array", "items"],
                "default": "array",
                "description": "array: one Array packet; items: one packet per item, then a Flow (constant memory).",
            },
            "maxItems": {
                "type": "integer",
                "minimum": 0,
                "default": 1000000,
                "description": "Refuse to generate more items than this (to `error`).",
            },
        }
    )
    description = (
        "On a packet on `trigger` (or an Object of parameters on `params`, merged over the config), generates "
        "items of `type` and sends them on `output` as an Array (kind Array; the reference said Object) with "
        "{type, count} on `metadata`. With `emit: items` each item is its own packet, followed by a Flow. An "
        "unknown type or bad parameter goes to `error` (the reference sent nothing)."
    )
    example = {
        "config": {"type": "range", "start": 0, "end": 5, "step": 2},
        "inputs": {"trigger": [{"type": "Flow"}]},
        "outputs": {
            "output": [{"type": "Array", "data": [0.0, 2.0, 4.0]}],
            "metadata": [{"type": "Object", "data": {"type": "range", "count": 3}}],
        },
    }

    def run(self, ctx: Any) -> None:
        params = dict(ctx.config)
        message = ctx.inputs.get("params")
        if message is not None:
            if message["type"] != "Object":
                ctx.done({"error": Message.error(f"Expected Object on params port, got {message['type']}")})
                return
            params.update(message["data"])
        try:
            kind, items = generate(params, int(params.get("maxItems", 1000000)))
            if params.get("emit") == "items":
                send = ctx.send
                count = 0
                for item in items:
                    send({"output": natural(item)})
                    count += 1
                send({"output": Message.flow()})
                ctx.done({"metadata": Message.object({"type": kind, "count": count})})
                return
            values = list(items)
        except GeneratorError as exc:
            ctx.done({"error": Message.error(str(exc))})
            return
        ctx.done({"output": Message.array(values), "metadata": Message.object({"type": kind, "count": len(values)})})


# -- tpl_data_operations ---------------------------------------------------------------------------------

_OPERATION_TYPES = ("map", "filter", "sort", "transform", "group", "aggregate")
_AGGREGATES = ("sum", "avg", "count", "min", "max", "first", "last")


class OperationError(ValueError):
    """An operation that cannot run on this data."""


class _Expressions:
    """Compiled expressions of one node, by text (``${...}`` templates are resolved per packet first)."""

    __slots__ = ("cache",)

    def __init__(self, _config: Mapping[str, Any]) -> None:
        self.cache: dict[str, Any] = {}

    def get(self, text: str, variables: Mapping[str, Any]) -> Any:
        from ._expr import compile_expression, resolve_templates

        if "${" in text:
            text = resolve_templates(text, variables)
        compiled = self.cache.get(text)
        if compiled is None:
            if len(self.cache) > 256:
                self.cache.clear()
            compiled = self.cache[text] = compile_expression(text)
        return compiled


def _item_variables(item: Any, index: int | None, ports: Mapping[str, Any]) -> dict[str, Any]:
    variables: dict[str, Any] = dict(item) if isinstance(item, Mapping) else {}
    variables.update(data=item, item=item, input=ports)
    if index is not None:
        variables["index"] = index
    return variables


def _group_key(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return "undefined"


def _sort_key(value: Any) -> tuple[int, Any]:
    if isinstance(value, bool):
        return (2, int(value))
    if isinstance(value, (int, float)):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    return (3, 0)


def _aggregate(function: str, values: list[Any]) -> Any:
    if function == "count":
        return len(values)
    if not values:
        return 0.0 if function == "sum" else None
    if function == "first":
        return values[0]
    if function == "last":
        return values[-1]
    if function == "min":
        return min(values)
    if function == "max":
        return max(values)
    total = math.fsum(values)
    return total if function == "sum" else total / len(values)


def run_operation(operation: Mapping[str, Any], data: Any, ports: Mapping[str, Any], exprs: _Expressions) -> Any:
    """One operation of a data-operation set on ``data`` (raises OperationError or ExpressionError)."""
    kind = operation.get("type") or "transform"
    top = {"data": data, "input": ports}

    def expression(key: str) -> Any:
        text = operation.get(key)
        if not isinstance(text, str) or not text.strip():
            return None
        return exprs.get(text, top)

    if kind == "transform":
        compiled = expression("transformExpression")
        return data if compiled is None else compiled.evaluate({**(dict(data) if isinstance(data, Mapping) else {}), **top})
    if kind not in _OPERATION_TYPES:
        raise OperationError(f"unknown operation type {kind!r} (use one of {', '.join(_OPERATION_TYPES)})")
    if not isinstance(data, list):
        raise OperationError(f"{kind} needs an Array, got {natural(data)['type'] if data is not None else 'null'}")
    if kind == "filter":
        compiled = expression("filterExpression")
        if compiled is None:
            return data
        return [item for index, item in enumerate(data) if compiled.evaluate(_item_variables(item, index, ports))]
    if kind == "map":
        mappings = operation.get("mapping") or []
        out = []
        for index, item in enumerate(data):
            if not isinstance(item, Mapping):
                raise OperationError(f"map: element {index} is not an Object: {json_text(item)[:60]}")
            item = dict(item)
            for mapping in mappings:
                source = mapping.get("sourceField") or ""
                target = mapping.get("targetField") or ""
                if not target:
                    continue
                transform = mapping.get("transform")
                if isinstance(transform, str) and transform.strip():
                    value = exprs.get(transform, top).evaluate(_item_variables(item, index, ports))
                else:
                    value = get_field(item, source) if source else MISSING
                    value = None if value is MISSING else value
                item[target] = value
            out.append(item)
        return out
    if kind == "sort":
        compiled = expression("sortField")
        if compiled is None:
            return data
        keys = [_sort_key(compiled.evaluate(_item_variables(item, index, ports))) for index, item in enumerate(data)]
        order = sorted(range(len(data)), key=keys.__getitem__, reverse=operation.get("sortDirection") == "desc")
        return [data[i] for i in order]
    if kind == "group":
        compiled = expression("groupByField")
        if compiled is None:
            return data
        groups: dict[str, list[Any]] = {}
        for index, item in enumerate(data):
            key = _group_key(compiled.evaluate(_item_variables(item, index, ports)))
            groups.setdefault(key, []).append(item)
        return groups
    # aggregate
    function = operation.get("aggregateFunction") or "sum"
    if function not in _AGGREGATES:
        raise OperationError(f"unknown aggregateFunction {function!r} (use one of {', '.join(_AGGREGATES)})")
    compiled = expression("aggregateField")
    if compiled is None:
        return {"count": len(data)}
    values = []
    for index, item in enumerate(data):
        value = compiled.evaluate(_item_variables(item, index, ports))
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise OperationError(f"aggregate {function}: element {index} gives {json_text(value)[:60]}, not a number")
        values.append(value)
    return {function: _aggregate(function, values)}


class DataOperations(Actor):
    """Runs a pipeline of map / filter / sort / transform / group / aggregate operations on the data."""

    component = "tpl_data_operations"
    inports = [PortSpec("data", None, "the data to process (an Array for the per-item operations); a Flow passes through")]
    outports = [
        PortSpec("output", None, "the result of each operation set, as a message of its natural kind"),
        PortSpec("error", "Error", "an expression error (with its position), or an operation that does not fit the data"),
    ]
    config_schema = schema(
        {
            "dataOperations": {
                "type": "array",
                "description": "Operation sets; each runs its `operations` in order on the input data and sends "
                "one result. Operations: {type: map, mapping: [{sourceField, targetField, transform}]}, "
                "{type: filter, filterExpression}, {type: sort, sortField, sortDirection: asc|desc}, "
                "{type: transform, transformExpression}, {type: group, groupByField}, {type: aggregate, "
                "aggregateField, aggregateFunction: sum|avg|count|min|max|first|last}; `enabled: false` skips one. "
                "Expressions see `item` and `data` (the element; for transform the whole data), `index`, the "
                "element's fields by name, and `input` ({port: tagged message}: `input.get('data').data`); "
                "`${expr}` inside an expression is replaced by the value of expr first.",
                "items": {
                    "type": "object",
                    "properties": {
                        "operations": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "type": {"type": "string", "enum": list(_OPERATION_TYPES)},
                                    "enabled": {"type": "boolean"},
                                    "sortDirection": {"type": "string", "enum": ["asc", "desc"]},
                                    "aggregateFunction": {"type": "string", "enum": list(_AGGREGATES)},
                                },
                            },
                        }
                    },
                },
            }
        }
    )
    description = (
        "Runs each operation set of `dataOperations` on the packet's data and sends the result on `output` "
        "(without operations the packet passes unchanged). The operations work on the data itself (the "
        "reference ran them on the tagged {type, data} envelope, so filters never filtered), with safe "
        "expressions instead of JavaScript: `item.age >= 18 && item.active`, `data.length`, "
        "`item.price * 1.2`. Any error (syntax with its position, unknown name, a filter on a non-Array) "
        "goes to `error`."
    )
    example = {
        "config": {
            "dataOperations": [
                {
                    "operations": [
                        {"type": "filter", "filterExpression": "item.age >= 18"},
                        {"type": "sort", "sortField": "item.name"},
                        {"type": "map", "mapping": [{"sourceField": "name", "targetField": "label", "transform": "item.name.upper()"}]},
                    ]
                }
            ]
        },
        "inputs": {"data": [{"type": "Array", "data": [{"name": "zoe", "age": 30}, {"name": "al", "age": 9}, {"name": "bo", "age": 18}]}]},
        "outputs": {
            "output": [
                {
                    "type": "Array",
                    "data": [{"name": "bo", "age": 18, "label": "BO"}, {"name": "zoe", "age": 30, "label": "ZOE"}],
                }
            ]
        },
    }

    def run(self, ctx: Any) -> None:
        from ._expr import ExpressionError

        message = ctx.inputs["data"]
        sets = ctx.config.get("dataOperations")
        if message["type"] == "Flow" or not sets:
            ctx.done({"output": message})
            return
        exprs = settings(ctx, _Expressions)
        try:
            ports = {"data": message.as_json()}  # `input` in expressions: {port: tagged message}
        except RecursionError:
            ctx.done({"error": Message.error("tpl_data_operations: the data is nested too deeply to process")})
            return
        send = ctx.send
        last = len(sets) - 1
        for number, operation_set in enumerate(sets):
            data = message.get("data")
            operations = operation_set.get("operations") or []
            try:
                for index, operation in enumerate(operations):
                    if operation.get("enabled", True) is False:
                        continue
                    try:
                        data = run_operation(operation, data, ports, exprs)
                    except (ExpressionError, OperationError) as exc:
                        where = f"operation {index} ({operation.get('type') or 'transform'})"
                        if len(sets) > 1:
                            where = f"set {number} {where}"
                        raise OperationError(f"{where}: {exc}") from None
            except OperationError as exc:
                ctx.done({"error": Message.error(f"tpl_data_operations: {exc}")})
                return
            if number == last:
                ctx.done({"output": natural(data)})
            else:
                send({"output": natural(data)})


COMPONENTS: dict[str, type[Actor]] = {
    "tpl_json_parser": JsonParser,
    "tpl_data_transformer": DataTransformer,
    "tpl_data_operations": DataOperations,
    "tpl_generator": Generator,
}
