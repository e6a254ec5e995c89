"""Data family: parsing and reshaping JSON-like data.

A ``Flow`` (end of a stream) passes through both components unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from reflow_cli import Actor, Message, PortSpec

from ._common import MISSING, config_value, get_field, json_text, natural, render_template, schema

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


COMPONENTS: dict[str, type[Actor]] = {
    "tpl_json_parser": JsonParser,
    "tpl_data_transformer": DataTransformer,
}
