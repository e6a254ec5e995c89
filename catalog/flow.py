"""Flow family: routing, filtering and aggregating packets.

Ids, port names and config keys are the reference's (offbit-reflow 0.2.9);
where the reference is wrong the behaviour is fixed and listed in
``docs/catalog.md`` (Deviations).

**End of a stream.** Sources that emit one packet per item (``tpl_file_lines``,
``tpl_csv_read`` in rows mode, ``tpl_dir_list``) end with a ``Flow`` packet on
the same port. Per-packet components (``tpl_filter``, ``tpl_passthrough``, the
text and data transformers) forward a ``Flow`` unchanged; aggregators
(``tpl_reduce``, ``tpl_collect``) take it as "the stream ended": they emit what
they gathered and do not forward the ``Flow``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from reflow_cli import Actor, Message, PortSpec

from ._common import (
    EXPECTED_ARRAY,
    MISSING,
    compare,
    config_value,
    get_field,
    json_equal,
    json_text,
    natural,
    rfc3339,
    schema,
    settings,
    text_of,
    to_number,
)

__all__ = ["COMPONENTS"]

_TAGS = frozenset(
    ("Flow", "Event", "Boolean", "Integer", "Float", "String", "Object", "Array", "Bytes", "StreamHandle",
     "Encoded", "Optional", "Any", "Error", "RemoteReference", "NetworkEvent")
)


def _is_tagged(value: Any) -> bool:
    """A config value written as a tagged message (``{"type": "String", "data": "a"}``)."""
    return (
        isinstance(value, Mapping)
        and value.get("type") in _TAGS
        and set(value) <= {"type", "data"}
    )


def _matches(message: Any, data: Any, operand: Any) -> bool:
    """``data`` equals ``operand``; a tagged operand (reference graphs) compares kind and data."""
    if _is_tagged(operand):
        kind = operand["type"]
        if message is None or message["type"] != kind:
            return False
        return kind == "Flow" or json_equal(message.get("data"), operand.get("data"))
    return json_equal(data, operand)


# -- tpl_passthrough ---------------------------------------------------------------------------


class Passthrough(Actor):
    """Forwards every packet unchanged (the same message object)."""

    component = "tpl_passthrough"
    inports = [PortSpec("input", None, "any packet")]
    outports = [PortSpec("output", None, "the packet, unchanged")]
    config_schema = schema({})
    description = (
        "Forwards every packet on `input` to `output` unchanged. (The reference also turned a packet on "
        "any other port into a Flow; ports are validated here, so `input` is the only inport.)"
    )
    example = {
        "config": {},
        "inputs": {"input": [{"type": "Integer", "data": 5}]},
        "outputs": {"output": [{"type": "Integer", "data": 5}]},
    }

    def run(self, ctx: Any) -> None:
        ctx.done({"output": ctx.inputs["input"]})


# -- tpl_filter --------------------------------------------------------------------------------

_CONDITIONS = (
    "truthy",
    "not_null",
    "equals",
    "not_equals",
    "greater_than",
    "greater_equal",
    "less_than",
    "less_equal",
    "contains",
    "not_contains",
    "is_empty",
    "not_empty",
)

_CONDITION_HELP = (
    "truthy: not null/false/0/\"\"; not_null; equals / not_equals (JSON equality, 2 == 2.0); "
    "greater_than / greater_equal / less_than / less_equal (numbers, numeric strings, or two strings "
    "alphabetically); contains / not_contains (substring, list element or object key); "
    "is_empty / not_empty (null, \"\", [], {})"
)


class Filter(Actor):
    """Keeps the items that meet a condition; the others go to `rejected`."""

    component = "tpl_filter"
    inports = [PortSpec("input", None, "an Array to filter, or a single value; a Flow passes through")]
    outports = [
        PortSpec("output", None, "the kept items (an Array for Array input, else the packet itself)"),
        PortSpec("rejected", None, "the items that failed the condition"),
        PortSpec("error", "Error", "not used for valid input (kept for the reference's port list)"),
    ]
    config_schema = schema(
        {
            "condition": {"type": "string", "enum": list(_CONDITIONS), "default": "truthy", "description": _CONDITION_HELP},
            "field": {
                "type": "string",
                "default": "",
                "description": "Test this field of each item (`a.b[0]` paths) instead of the item itself.",
            },
            "value": {"description": "The operand of the comparison conditions (any JSON value)."},
        }
    )
    description = (
        "Filters an Array: items meeting `condition` (on the item, or its `field`) go to `output` as an "
        "Array, the others to `rejected` (both sent, possibly empty). A non-Array packet is tested as one "
        "item and sent whole to `output` or `rejected`, so per-packet streams can be filtered too; a Flow "
        "(end of stream) is forwarded on `output`."
    )
    example = {
        "config": {"condition": "greater_than", "field": "n", "value": 2},
        "inputs": {"input": [{"type": "Array", "data": [{"n": 1}, {"n": 5}, {"n": 3}]}]},
        "outputs": {
            "output": [{"type": "Array", "data": [{"n": 5}, {"n": 3}]}],
            "rejected": [{"type": "Array", "data": [{"n": 1}]}],
        },
    }

    @staticmethod
    def _settings(config: Mapping[str, Any]) -> tuple[str, Any, Any]:
        return config.get("condition") or "truthy", config.get("field") or "", config.get("value")

    def run(self, ctx: Any) -> None:
        condition, field, operand = settings(ctx, self._settings)
        message = ctx.inputs["input"]
        kind = message["type"]
        if kind == "Flow":
            ctx.done({"output": message})
            return
        data = message.get("data")
        if kind == "Array":
            kept: list[Any] = []
            rejected: list[Any] = []
            for item in data:
                (kept if compare(get_field(item, field), condition, operand) else rejected).append(item)
            ctx.done({"output": Message.array(kept), "rejected": Message.array(rejected)})
            return
        port = "output" if compare(get_field(data, field), condition, operand) else "rejected"
        ctx.done({port: message})


# -- tpl_map -----------------------------------------------------------------------------------


class Map(Actor):
    """Applies one operation to every element of an Array."""

    component = "tpl_map"
    inports = [PortSpec("input", "Array", "the Array to map")]
    outports = [
        PortSpec("output", "Array", "the mapped Array"),
        PortSpec("error", "Error", "non-Array input, or an element to_number cannot convert"),
    ]
    config_schema = schema(
        {
            "operation": {
                "type": "string",
                "enum": ["identity", "to_string", "to_number", "extract_field"],
                "default": "identity",
                "description": (
                    "identity; to_string (each element as JSON text: strings get quotes, as in the reference); "
                    "to_number (numbers and numeric strings to Float); extract_field (each element's `field`, "
                    "null where absent)"
                ),
            },
            "field": {"type": "string", "default": "", "description": "The field extract_field takes (`a.b[0]` paths)."},
        }
    )
    description = (
        "Maps every element of an Array with `operation` and sends the new Array on `output`. Anything "
        "but an Array goes to `error` (`Expected Array on input port`). to_number turns numbers and "
        "numeric strings into Floats; any other element sends the packet to `error`."
    )
    example = {
        "config": {"operation": "extract_field", "field": "name"},
        "inputs": {"input": [{"type": "Array", "data": [{"name": "a"}, {"name": "b"}, {}]}]},
        "outputs": {"output": [{"type": "Array", "data": ["a", "b", None]}]},
    }

    def run(self, ctx: Any) -> None:
        message = ctx.inputs["input"]
        if message["type"] != "Array":
            ctx.done({"error": Message.error(EXPECTED_ARRAY)})
            return
        items = message["data"]
        operation = ctx.config.get("operation") or "identity"
        if operation == "to_string":
            out = [json_text(item) for item in items]
        elif operation == "to_number":
            out = []
            for index, item in enumerate(items):
                number = to_number(item)
                if number is None:
                    ctx.done({"error": Message.error(f"to_number: element {index} is not a number: {json_text(item)}")})
                    return
                out.append(float(number))
        elif operation == "extract_field":
            field = ctx.config.get("field") or ""
            out = []
            for item in items:
                value = get_field(item, field) if field else MISSING
                out.append(None if value is MISSING else value)
        else:
            out = items
        ctx.done({"output": Message.array(out)})


# -- tpl_reduce --------------------------------------------------------------------------------

_REDUCE_OPS = ("sum", "product", "min", "max", "average", "count", "concat", "first", "last")
_NUMERIC_OPS = frozenset(("sum", "product", "min", "max", "average"))


class _Accumulator:
    """A running reduction (constant memory except for concat's text)."""

    __slots__ = ("op", "separator", "count", "value", "parts", "has_value")

    def __init__(self, op: str, separator: str) -> None:
        self.op = op
        self.separator = separator
        self.count = 0
        self.value: Any = 0 if op in ("sum", "average") else (1 if op == "product" else None)
        self.parts: list[str] = []
        self.has_value = False

    def add(self, item: Any) -> str | None:
        """Add ``item``; return an error text when it does not fit the operation."""
        op = self.op
        if op in _NUMERIC_OPS:
            kind = type(item)
            number = item if (kind is int or kind is float) else to_number(item)
            if number is None:
                return f"reduce {op}: not a number: {json_text(item)}"
            if op == "sum" or op == "average":
                self.value += number
            elif op == "product":
                self.value *= number
            elif op == "min":
                if not self.has_value or number < self.value:
                    self.value = number
            elif not self.has_value or number > self.value:  # max
                self.value = number
            self.has_value = True
            self.count += 1
            return None
        self.count += 1
        if op == "concat":
            self.parts.append(text_of(item))
        elif op == "first":
            if not self.has_value:
                self.value = item
        elif op == "last":
            self.value = item
        self.has_value = True
        return None

    def data(self) -> Any:
        """The result as plain data (for groupBy objects)."""
        op = self.op
        if op == "count":
            return self.count
        if op == "concat":
            return self.separator.join(self.parts)
        if op == "average":
            return float(self.value) / self.count if self.count else None
        if op in ("min", "max", "first", "last") and not self.has_value:
            return None
        if op in _NUMERIC_OPS:
            return float(self.value)
        return self.value

    def message(self) -> Message:
        op = self.op
        value = self.data()
        if op == "count":
            return Message.integer(value)
        if op == "concat":
            return Message.string(value)
        if value is None:
            return Message.optional(None)
        if op in _NUMERIC_OPS:
            return Message.float(value)
        return natural(value)


class _Reduction:
    """One reduction, optionally per group."""

    __slots__ = ("op", "separator", "field", "group_by", "single", "groups")

    def __init__(self, op: str, separator: str, field: str, group_by: str) -> None:
        self.op = op
        self.separator = separator
        self.field = field
        self.group_by = group_by
        self.single = _Accumulator(op, separator)
        self.groups: dict[str, _Accumulator] = {}

    def add(self, item: Any) -> str | None:
        value = item
        if self.field:
            value = get_field(item, self.field)
            if value is MISSING:
                if self.op == "count":
                    value = None
                else:
                    return f"reduce {self.op}: no field {self.field!r} in {json_text(item)}"
        if self.group_by:
            key = get_field(item, self.group_by)
            key_text = "null" if key is MISSING or key is None else text_of(key)
            acc = self.groups.get(key_text)
            if acc is None:
                acc = self.groups[key_text] = _Accumulator(self.op, self.separator)
            return acc.add(value)
        return self.single.add(value)

    def message(self) -> Message:
        if self.group_by:
            return Message.object({key: acc.data() for key, acc in self.groups.items()})
        return self.single.message()


class Reduce(Actor):
    """Reduces an Array, or a stream of packets ended by a Flow, to one value."""

    component = "tpl_reduce"
    inports = [
        PortSpec("input", None, "an Array (reduced at once), or single values (gathered until a Flow)"),
    ]
    outports = [
        PortSpec("output", None, "the result: Float (sum, product, min, max, average), Integer (count), String (concat), the item (first, last), an Object with groupBy"),
        PortSpec("error", "Error", "an element the operation cannot use (a non-number for sum...)"),
    ]
    config_schema = schema(
        {
            "operation": {
                "type": "string",
                "enum": list(_REDUCE_OPS),
                "default": "sum",
                "description": (
                    "sum, product, min, max, average (numbers or numeric strings; result Float); count (Integer); "
                    "concat (text, joined with `separator`); first, last (the item itself). min, max, average, "
                    "first and last of nothing are null."
                ),
            },
            "field": {
                "type": "string",
                "default": "",
                "description": "Reduce this field of each item (`a.b` paths) instead of the item.",
            },
            "groupBy": {
                "type": "string",
                "default": "",
                "description": "Reduce per value of this field: the result is an Object {group: result}.",
            },
            "separator": {"type": "string", "default": "", "description": "What concat puts between items."},
        }
    )
    description = (
        "An Array packet is reduced at once with `operation`. Any other packet is one item of a stream: "
        "items are gathered (in constant memory) until a Flow arrives, which emits the result of the "
        "items since the last Flow and starts over (the Flow is not forwarded). An item the operation "
        "cannot use goes to `error` (the whole Array for Array input; just that item for a stream)."
    )
    example = {
        "config": {"operation": "sum", "field": "n"},
        "inputs": {"input": [{"type": "Array", "data": [{"n": 1}, {"n": 2}, {"n": 3.5}]}]},
        "outputs": {"output": [{"type": "Float", "data": 6.5}]},
    }

    @staticmethod
    def _settings(config: Mapping[str, Any]) -> tuple[str, str, str, str]:
        return (
            config.get("operation") or "sum",
            config.get("separator") or "",
            config.get("field") or "",
            config.get("groupBy") or "",
        )

    def run(self, ctx: Any) -> None:
        message = ctx.inputs["input"]
        kind = message["type"]
        state = ctx.state
        if kind == "Array":
            reduction = _Reduction(*settings(ctx, self._settings))
            for item in message["data"]:
                error = reduction.add(item)
                if error is not None:
                    ctx.done({"error": Message.error(error)})
                    return
            ctx.done({"output": reduction.message()})
            return
        reduction = state.get("stream")
        if reduction is None:
            reduction = state["stream"] = _Reduction(*settings(ctx, self._settings))
        if kind == "Flow":
            state["stream"] = None
            ctx.done({"output": reduction.message()})
            return
        error = reduction.add(message.get("data"))
        if error is not None:
            ctx.done({"error": Message.error(error)})


# -- tpl_merge ---------------------------------------------------------------------------------

_MERGE_PORTS = ("a", "b", "c", "d")


class Merge(Actor):
    """Wraps packets from ports a-d into an Object keyed by port (or an Array)."""

    component = "tpl_merge"
    inports = [PortSpec(name, None, f"any packet (key {name!r})") for name in _MERGE_PORTS]
    outports = [PortSpec("output", None, "an Object (mode object) or an Array (mode array)")]
    config_schema = schema(
        {
            "mode": {
                "type": "string",
                "enum": ["object", "array"],
                "default": "object",
                "description": "object: {port: message}; array: [message, ...].",
            },
            "waitAll": {
                "type": "boolean",
                "default": False,
                "description": "Wait for one packet on every connected port and merge them into one output "
                "(ports in a, b, c, d order); otherwise each packet is emitted on its own, as the reference does.",
            },
            "unwrap": {
                "type": "boolean",
                "default": False,
                "description": "Put each packet's data instead of its tagged JSON {type, data} (the reference keeps "
                "the tagged form).",
            },
        }
    )
    description = (
        "Each packet on a, b, c or d is emitted on `output` wrapped as {port: {type, data}} (mode object) "
        "or [{type, data}] (mode array): values stay tagged, as in the reference. With `waitAll` one packet "
        "from every connected port makes one output; with `unwrap` the data goes in without its tag."
    )
    example = {
        "config": {"waitAll": True, "unwrap": True},
        "inputs": {"a": [{"type": "Integer", "data": 1}], "b": [{"type": "String", "data": "x"}]},
        "outputs": {"output": [{"type": "Object", "data": {"a": 1, "b": "x"}}]},
    }

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.await_all_inports = bool((config or {}).get("waitAll", False))

    def run(self, ctx: Any) -> None:
        config = ctx.config
        unwrap = bool(config.get("unwrap"))
        inputs = ctx.inputs
        ports = [port for port in _MERGE_PORTS if port in inputs]
        values = [inputs[port].get("data") if unwrap else inputs[port].as_json() for port in ports]
        if config.get("mode") == "array":
            ctx.done({"output": Message.array(values)})
        else:
            ctx.done({"output": Message.object(dict(zip(ports, values)))})


# -- tpl_split ---------------------------------------------------------------------------------


class Split(Actor):
    """Splits an Array into its first element, the rest, and its length."""

    component = "tpl_split"
    inports = [PortSpec("input", "Array", "the Array to split")]
    outports = [
        PortSpec("head", None, "the first element, as a message of its own kind (not sent for [])"),
        PortSpec("tail", "Array", "the other elements"),
        PortSpec("count", "Integer", "the number of elements"),
        PortSpec("error", "Error", "non-Array input"),
    ]
    config_schema = schema({})
    description = (
        "For an Array: `head` gets the first element (kind Integer, String, Object... after the value; the "
        "reference always said Object), `tail` the rest as an Array, `count` the length. An empty Array "
        "gives no head, tail [] and count 0. Anything else goes to `error`."
    )
    example = {
        "config": {},
        "inputs": {"input": [{"type": "Array", "data": [1, 2, 3]}]},
        "outputs": {
            "head": [{"type": "Integer", "data": 1}],
            "tail": [{"type": "Array", "data": [2, 3]}],
            "count": [{"type": "Integer", "data": 3}],
        },
    }

    def run(self, ctx: Any) -> None:
        message = ctx.inputs["input"]
        if message["type"] != "Array":
            ctx.done({"error": Message.error(EXPECTED_ARRAY)})
            return
        items = message["data"]
        outputs: dict[str, Message] = {}
        if items:
            outputs["head"] = natural(items[0])
        outputs["tail"] = Message.array(items[1:])
        outputs["count"] = Message.integer(len(items))
        ctx.done(outputs)


# -- tpl_collect -------------------------------------------------------------------------------


class Collect(Actor):
    """Gathers packets into Arrays of `count`; a Flow sends the partial batch."""

    component = "tpl_collect"
    inports = [PortSpec("input", None, "any packet; a Flow ends the stream")]
    outports = [
        PortSpec("output", "Array", "the batch: tagged messages {type, data} (or data with unwrap)"),
        PortSpec("count", "Integer", "the size of the batch just sent"),
    ]
    config_schema = schema(
        {
            "count": {
                "type": "integer",
                "minimum": 0,
                "default": 10,
                "description": "Batch size (0 behaves as 1, as in the reference).",
            },
            "unwrap": {
                "type": "boolean",
                "default": False,
                "description": "Collect each packet's data instead of its tagged JSON (the reference keeps the tag).",
            },
        }
    )
    description = (
        "Collects packets; every `count` of them go out as one Array on `output` (each element the tagged "
        "message {type, data}, as in the reference, or its data with `unwrap`) with the batch size on "
        "`count`. A Flow ends the stream: a partial batch is sent (nothing if empty) and the Flow itself "
        "is not collected."
    )
    example = {
        "config": {"count": 2, "unwrap": True},
        "inputs": {"input": [{"type": "Integer", "data": 1}, {"type": "Integer", "data": 2}, {"type": "Integer", "data": 3}, {"type": "Flow"}]},
        "outputs": {
            "output": [{"type": "Array", "data": [1, 2]}, {"type": "Array", "data": [3]}],
            "count": [{"type": "Integer", "data": 2}, {"type": "Integer", "data": 1}],
        },
    }

    def run(self, ctx: Any) -> None:
        message = ctx.inputs["input"]
        state = ctx.state
        batch = state.get("batch")
        if batch is None:
            batch = state["batch"] = []
        if message["type"] == "Flow":
            if batch:
                state["batch"] = []
                ctx.done({"output": Message.array(batch), "count": Message.integer(len(batch))})
            return
        config = ctx.config
        batch.append(message.get("data") if config.get("unwrap") else message.as_json())
        size = max(1, int(config.get("count", 10) or 0))
        if len(batch) >= size:
            state["batch"] = []
            ctx.done({"output": Message.array(batch), "count": Message.integer(len(batch))})


# -- tpl_switch --------------------------------------------------------------------------------

_CASES = range(1, 10)


class Switch(Actor):
    """Routes a packet to the first case whose value equals it (or its field)."""

    component = "tpl_switch"
    inports = [PortSpec("data", None, "the packet to route")]
    outports = [
        PortSpec("case[1-9]", None, "caseN: packets equal to caseN_value"),
        PortSpec("default", None, "packets no case matched (and every Flow)"),
    ]
    config_schema = schema(
        {
            **{
                f"case{n}_value": {
                    "description": f"The value routed to `case{n}` (any JSON value; a tagged {{type, data}} "
                    "value compares kind and data, for graphs written against the reference)."
                }
                for n in _CASES
            },
            "switch_field": {"type": "string", "description": "Compare this field of the data (`a.b` paths)."},
            "field": {"type": "string", "description": "Alias of `switch_field` (used when that is absent)."},
        }
    )
    description = (
        "Compares the packet's data (or its `switch_field`) with case1_value..case9_value and sends the "
        "packet unchanged to the first equal case's port, else to `default`. Values compare as JSON "
        "(untagged: `\"a\"` matches the String a; the reference compared the tagged form)."
    )
    example = {
        "config": {"switch_field": "level", "case1_value": "ERROR", "case2_value": "WARN"},
        "inputs": {"data": [{"type": "Object", "data": {"level": "WARN"}}, {"type": "Object", "data": {"level": "INFO"}}]},
        "outputs": {
            "case2": [{"type": "Object", "data": {"level": "WARN"}}],
            "default": [{"type": "Object", "data": {"level": "INFO"}}],
        },
    }

    @staticmethod
    def _settings(config: Mapping[str, Any]) -> tuple[str, list[tuple[str, Any]]]:
        field = config_value(config, "switch_field", "field", default="") or ""
        cases = [(f"case{n}", config[f"case{n}_value"]) for n in _CASES if f"case{n}_value" in config]
        return field, cases

    def run(self, ctx: Any) -> None:
        field, cases = settings(ctx, self._settings)
        message = ctx.inputs["data"]
        if message["type"] != "Flow":
            data = message.get("data")
            value = get_field(data, field) if field else data
            if value is not MISSING:
                for port, operand in cases:
                    if _matches(message if not field else None, value, operand):
                        ctx.done({port: message})
                        return
        ctx.done({"default": message})


# -- tpl_if_branch -----------------------------------------------------------------------------

_IF_CONDITIONS = (
    "equals",
    "not_equals",
    "greater_than",
    "greater_equal",
    "less_than",
    "less_equal",
    "contains",
    "not_contains",
    "is_empty",
    "not_empty",
    "truthy",
)
_RULE_OPERATORS = (
    "is",
    "is_not",
    "contains",
    "not_contains",
    "greater_than",
    "less_than",
    "greater_equal",
    "less_equal",
    "empty",
    "not_empty",
)

def rule_groups_schema(description: str, operators: tuple[str, ...], *, with_expression: bool = False) -> dict[str, Any]:
    """The JSON Schema of rule groups: ``{type: IF|AND|OR, groups: [{connector, rules: [...]}]}``.

    ``operators`` are the operators a rule may name; ``with_expression`` also allows
    rules that are a bare ``{expression}`` (then ``operator`` is optional).
    """
    rule: dict[str, Any] = {
        "type": "object",
        "properties": {"field": {"type": "string"}, "operator": {"type": "string", "enum": list(operators)}, "value": {}},
    }
    if with_expression:
        rule["properties"]["expression"] = {"type": "string"}
    else:
        rule["required"] = ["operator"]
    return {
        "type": ["object", "null"],
        "description": description,
        "properties": {
            "type": {"type": "string", "enum": ["IF", "AND", "OR"], "default": "IF"},
            "groups": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "connector": {"type": "string", "enum": ["AND", "OR"], "default": "AND"},
                        "rules": {"type": "array", "items": rule},
                    },
                },
            },
        },
    }


_RULES_SCHEMA = rule_groups_schema(
    "Rules instead of one condition: {type: IF (all groups) | OR (any group), groups: [{connector: "
    "AND | OR, rules: [{field, operator, value}]}]}. A rule on a missing field is false; no groups is false.",
    _RULE_OPERATORS,
)


def evaluate_rules(rules: Mapping[str, Any], data: Any) -> bool:
    """The reference's decisionRules: groups of rules joined by their connector, groups by ``type``."""
    groups = rules.get("groups") or []
    if not groups:
        return False
    results = []
    for group in groups:
        verdicts = []
        for rule in group.get("rules") or []:
            value = get_field(data, rule.get("field") or "")
            verdicts.append(value is not MISSING and compare(value, rule.get("operator", ""), rule.get("value")))
        results.append(any(verdicts) if group.get("connector") == "OR" else all(verdicts))
    return any(results) if rules.get("type") == "OR" else all(results)


class IfBranch(Actor):
    """Sends a packet to `true-out` or `false-out` after a condition (or rules)."""

    component = "tpl_if_branch"
    inports = [PortSpec("data", None, "the packet to test")]
    outports = [
        PortSpec("true-out", None, "packets meeting the condition (unchanged)"),
        PortSpec("false-out", None, "the others (unchanged)"),
    ]
    config_schema = schema(
        {
            "condition_type": {
                "type": "string",
                "enum": list(_IF_CONDITIONS),
                "default": "equals",
                "description": "How the data (or its field) is tested against the value. " + _CONDITION_HELP,
            },
            "condition_value": {
                "description": "The operand (any JSON value; a tagged {type, data} value compares kind and data)."
            },
            "value": {"description": "Alias of `condition_value` (used when that is absent)."},
            "condition_field": {"type": "string", "description": "Test this field of the data (`a.b` paths)."},
            "field": {"type": "string", "description": "Alias of `condition_field` (used when that is absent)."},
            "decisionRules": _RULES_SCHEMA,
        }
    )
    description = (
        "Tests the packet's data (or its `condition_field`) with `condition_type` against "
        "`condition_value`, or evaluates `decisionRules` when given, and forwards the packet unchanged to "
        "`true-out` or `false-out` (the ports the reference really emits on). Comparisons use the "
        "untagged data: equals 5 matches the Integer 5."
    )
    example = {
        "config": {"condition_type": "greater_than", "condition_field": "age", "condition_value": 18},
        "inputs": {"data": [{"type": "Object", "data": {"age": 20}}, {"type": "Object", "data": {"age": 10}}]},
        "outputs": {
            "true-out": [{"type": "Object", "data": {"age": 20}}],
            "false-out": [{"type": "Object", "data": {"age": 10}}],
        },
    }

    @staticmethod
    def _settings(config: Mapping[str, Any]) -> tuple[str, Any, str, Any]:
        return (
            config.get("condition_type") or "equals",
            config_value(config, "condition_value", "value"),
            config_value(config, "condition_field", "field", default="") or "",
            config.get("decisionRules"),
        )

    def run(self, ctx: Any) -> None:
        condition, operand, field, rules = settings(ctx, self._settings)
        message = ctx.inputs["data"]
        data = message.get("data")
        if rules:
            verdict = evaluate_rules(rules, data)
        elif _is_tagged(operand) and not field and condition in ("equals", "not_equals"):
            verdict = _matches(message, data, operand) == (condition == "equals")
        else:
            value = get_field(data, field) if field else data
            verdict = compare(value, condition, operand)
        ctx.done({"true-out" if verdict else "false-out": message})


# -- tpl_loop ----------------------------------------------------------------------------------


class Loop(Actor):
    """Emits each element of an Array with its index, then `completed`."""

    component = "tpl_loop"
    inports = [PortSpec("collection", None, "an Array to iterate")]
    outports = [
        PortSpec("item", "Object", "{index, value} for each element, in order"),
        PortSpec("completed", "Boolean", "true, after the last item (also for [] and non-Arrays)"),
    ]
    config_schema = schema({})
    description = (
        "For an Array, sends {\"index\": i, \"value\": v} on `item` for every element, then `completed` true "
        "(the reference never sent `completed` after a non-empty Array). Anything else only sends "
        "`completed` true."
    )
    example = {
        "config": {},
        "inputs": {"collection": [{"type": "Array", "data": ["a", "b"]}]},
        "outputs": {
            "item": [{"type": "Object", "data": {"index": 0, "value": "a"}}, {"type": "Object", "data": {"index": 1, "value": "b"}}],
            "completed": [{"type": "Boolean", "data": True}],
        },
    }

    def run(self, ctx: Any) -> None:
        message = ctx.inputs["collection"]
        if message["type"] == "Array":
            send = ctx.send
            for index, value in enumerate(message["data"]):
                send({"item": Message.object({"index": index, "value": value})})
        ctx.done({"completed": Message.boolean(True)})


# -- tpl_gate ----------------------------------------------------------------------------------


def _gate_open(control: Any) -> bool:
    """The reference's rule: only false and numeric zero close the gate (null, "" and Flow open it)."""
    data = control.get("data")
    if data is False:
        return False
    if type(data) in (int, float) and data == 0:
        return False
    return True


class Gate(Actor):
    """Passes `input` to `output` when the paired `control` packet is open, else to `blocked`."""

    component = "tpl_gate"
    inports = [
        PortSpec("input", None, "the packet to gate"),
        PortSpec("control", None, "false or 0 closes the gate for the paired input; anything else opens it"),
    ]
    outports = [
        PortSpec("output", None, "inputs let through"),
        PortSpec("blocked", None, "inputs held back"),
    ]
    await_all_inports = True
    config_schema = schema({"invert": {"type": "boolean", "default": False, "description": "Swap open and closed."}})
    description = (
        "Waits for one packet on `input` and one on `control` and pairs them in arrival order (the "
        "reference kept only the latest of each). The input goes to `output` when the control is open "
        "(anything but false or 0), else to `blocked`; `invert` swaps that. Both ports must be connected."
    )
    example = {
        "config": {},
        "inputs": {
            "input": [{"type": "Integer", "data": 1}, {"type": "Integer", "data": 2}],
            "control": [{"type": "Boolean", "data": True}, {"type": "Boolean", "data": False}],
        },
        "outputs": {"output": [{"type": "Integer", "data": 1}], "blocked": [{"type": "Integer", "data": 2}]},
    }

    def run(self, ctx: Any) -> None:
        inputs = ctx.inputs
        control = inputs.get("control")
        if control is None or "input" not in inputs:
            ctx.fail("tpl_gate needs both `input` and `control` connected (one control packet per input)")
            return
        is_open = _gate_open(control) != bool(ctx.config.get("invert"))
        ctx.done({"output" if is_open else "blocked": inputs["input"]})


# -- tpl_delay ---------------------------------------------------------------------------------


class Delay(Actor):
    """Forwards each packet after `delayMs` milliseconds."""

    component = "tpl_delay"
    inports = [PortSpec("input", None, "any packet")]
    outports = [PortSpec("output", None, "the packet, delayed")]
    config_schema = schema(
        {"delayMs": {"type": "number", "minimum": 0, "default": 1000, "description": "Delay in milliseconds."}}
    )
    description = (
        "Waits `delayMs` milliseconds, then forwards the packet unchanged. Packets are delayed one after "
        "the other (a second packet waits for the first), as in the reference; the wait does not block "
        "other nodes."
    )
    example = {
        "config": {"delayMs": 10},
        "inputs": {"input": [{"type": "String", "data": "later"}]},
        "outputs": {"output": [{"type": "String", "data": "later"}]},
    }

    async def run(self, ctx: Any) -> None:
        import trio

        await trio.sleep(float(ctx.config.get("delayMs", 1000)) / 1000)
        ctx.done({"output": ctx.inputs["input"]})


# -- tpl_rules_engine ------------------------------------------------------------------------------

_ENGINE_OPERATORS = (*_RULE_OPERATORS, "between", "expression")


def _expression_variables(data: Any) -> dict[str, Any]:
    """What tpl_rules_engine's expressions see: the data's fields, and the data itself as `data` and `value`.

    Expressions only read their variables, so one dict serves every rule and action of a packet.
    """
    variables = dict(data) if isinstance(data, Mapping) else {}
    variables.update(data=data, value=data)
    return variables


def _rule_verdict(rule: Mapping[str, Any], data: Any, compiled: Any, variables: dict[str, Any]) -> bool:
    """One rule of tpl_rules_engine: a field test, or an expression (``compiled``, over ``variables``)."""
    if compiled is not None:
        return bool(compiled.evaluate(variables))
    field = rule.get("field")
    value = get_field(data, field) if field else data
    if value is MISSING:
        return False  # as the reference: a rule on a missing field is false, whatever the operator
    operator = rule.get("operator") or "is"
    operand = rule.get("value")
    if operator == "between":
        if not isinstance(operand, list) or len(operand) != 2:
            return False
        number = to_number(value)
        low, high = to_number(operand[0]), to_number(operand[1])
        if number is None or isinstance(value, bool):
            return False
        return (low is None or number >= low) and (high is None or number <= high)
    return compare(value, operator, operand)


class _RuleSet:
    """A node's rules with their expressions compiled (``ExpressionError`` kept to report per packet)."""

    __slots__ = ("rules", "expressions", "problem")

    def __init__(self, config: Mapping[str, Any]) -> None:
        from ._expr import ExpressionError, compile_expression

        self.rules = config_value(config, "rules", "propertyRules")
        self.expressions: dict[int, Any] = {}
        self.problem: str | None = None
        if not isinstance(self.rules, Mapping):
            return
        for g, group in enumerate(self.rules.get("groups") or []):
            for r, rule in enumerate(group.get("rules") or []):
                text = rule.get("expression")
                if text is None and rule.get("operator") == "expression":
                    text = rule.get("value")
                if text is None:
                    continue
                try:
                    self.expressions[id(rule)] = compile_expression(text)
                except ExpressionError as exc:
                    self.problem = f"group {g} rule {r}: {exc}"
                    return
        for a, action in enumerate((self.rules.get("actions") or {}).get("setProperty") or []):
            text = action.get("expression")
            if text is not None:
                try:
                    self.expressions[id(action)] = compile_expression(text)
                except ExpressionError as exc:
                    self.problem = f"setProperty {a}: {exc}"
                    return

    def matches(self, data: Any, variables: dict[str, Any]) -> bool:
        """Whether ``data`` passes the rules (``variables``: what their expressions see)."""
        rules = self.rules
        either = rules.get("type") == "OR"
        for group in rules.get("groups") or []:
            verdicts = (
                _rule_verdict(rule, data, self.expressions.get(id(rule)), variables) for rule in group.get("rules") or []
            )
            matched = any(verdicts) if group.get("connector") == "OR" else all(verdicts)
            if either and matched:
                return True
            if not either and not matched:
                return False
        return not either  # IF: every group matched (also none); OR: none did


_ENGINE_RULES_SCHEMA = rule_groups_schema(
    "{type: IF (every group) | OR (any group), groups: [{connector: AND | OR, rules: [{field, operator, value} "
    "or {expression}]}], actions: {setProperty: [{key, value} or {key, expression}], setOutput: [{port, value}]}}. "
    "Operators: is, is_not, contains, not_contains, greater_than, less_than, greater_equal, less_equal, empty, "
    "not_empty, between (value [min, max], inclusive), expression (value: an expression). A rule without "
    "field tests the whole data; a rule on a missing field is false. IF with no groups matches; OR with none does not.",
    _ENGINE_OPERATORS,
    with_expression=True,
)
_ENGINE_RULES_SCHEMA["properties"]["actions"] = {
    "type": "object",
    "properties": {
        "setProperty": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"key": {"type": "string"}, "value": {}, "expression": {"type": "string"}},
                "required": ["key"],
            },
        },
        "setOutput": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"port": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_\\-]*$"}, "value": {}},
                "required": ["port"],
            },
        },
    },
}

_ENGINE_FIXED_PORTS = ("output", "matched", "unmatched", "error")


def _set_output_ports(config: Mapping[str, Any] | None) -> list[str]:
    rules = config_value(config or {}, "rules", "propertyRules")
    if not isinstance(rules, Mapping):
        return []
    ports = []
    for action in (rules.get("actions") or {}).get("setOutput") or []:
        port = action.get("port") if isinstance(action, Mapping) else None
        if isinstance(port, str) and port not in ports and port not in _ENGINE_FIXED_PORTS:
            ports.append(port)
    return ports


class RulesEngine(Actor):
    """Tests each packet against rule groups; matched packets can get properties set and extra outputs."""

    component = "tpl_rules_engine"
    inports = [PortSpec("data", None, "the packet to test")]
    outports = [
        PortSpec("output", None, "the packet unchanged, when no rules are configured"),
        PortSpec("matched", None, "the data of a matching packet, with the setProperty fields set (Objects)"),
        PortSpec("unmatched", None, "a packet that did not match, unchanged"),
        PortSpec("error", "Error", "an expression that does not parse or cannot be evaluated"),
        PortSpec("*", None, "the ports named by actions.setOutput: their value, for every matching packet"),
    ]
    config_schema = schema({"rules": _ENGINE_RULES_SCHEMA, "propertyRules": {**_ENGINE_RULES_SCHEMA, "description": "Alias of `rules` (used when that is absent)."}})
    description = (
        "Evaluates `rules` (or `propertyRules`) on each packet's data: a match goes to `matched` with the "
        "setProperty keys set (on Objects) and each setOutput value sent on its own port; anything else goes "
        "to `unmatched`; without rules the packet goes to `output`. Rules test the untagged data (the "
        "reference compared a rule without `field` with the tagged message) and may be safe expressions "
        "(`{expression: \"total > 100 and country == 'FR'\"}`, fields are variables)."
    )
    example = {
        "config": {
            "rules": {
                "type": "IF",
                "groups": [{"connector": "AND", "rules": [{"field": "x", "operator": "greater_than", "value": 0}]}],
                "actions": {"setProperty": [{"key": "flag", "value": True}], "setOutput": [{"port": "extra", "value": "hi"}]},
            }
        },
        "inputs": {"data": [{"type": "Object", "data": {"x": 1}}, {"type": "Object", "data": {"x": -1}}]},
        "outputs": {
            "matched": [{"type": "Object", "data": {"x": 1, "flag": True}}],
            "extra": [{"type": "String", "data": "hi"}],
            "unmatched": [{"type": "Object", "data": {"x": -1}}],
        },
    }

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        extra = _set_output_ports(config)
        fixed = [port for port in type(self).outports if not port.is_pattern]
        self.outports = fixed + [PortSpec(port, None, "a setOutput port of this node") for port in extra]

    def run(self, ctx: Any) -> None:
        from ._expr import ExpressionError

        message = ctx.inputs["data"]
        ruleset = settings(ctx, _RuleSet)
        if not isinstance(ruleset.rules, Mapping):
            ctx.done({"output": message})
            return
        if ruleset.problem is not None:
            ctx.done({"error": Message.error(f"tpl_rules_engine: {ruleset.problem}")})
            return
        data = message.get("data")
        try:
            variables = _expression_variables(data) if ruleset.expressions else {}
            matched = ruleset.matches(data, variables)
            if not matched:
                ctx.done({"unmatched": message})
                return
            actions = ruleset.rules.get("actions") or {}
            outputs: dict[str, Any] = {}
            result = data
            set_properties = actions.get("setProperty") or []
            if set_properties and isinstance(data, Mapping):
                result = dict(data)
                for action in set_properties:
                    compiled = ruleset.expressions.get(id(action))
                    if compiled is not None:
                        result[action["key"]] = compiled.evaluate(variables)
                    else:
                        result[action["key"]] = action.get("value")
        except ExpressionError as exc:
            ctx.done({"error": Message.error(f"tpl_rules_engine: {exc}")})
            return
        for action in actions.get("setOutput") or []:
            outputs[action["port"]] = natural(action.get("value"))
        outputs["matched"] = message if result is data else natural(result)
        ctx.done(outputs)


# -- tpl_window --------------------------------------------------------------------------------------


class _Window:
    """The open window(s) of a tpl_window node."""

    __slots__ = ("items", "stamps", "seen", "start", "index", "opened", "emitted_upto")

    def __init__(self) -> None:
        self.items: list[Any] = []  # items from `start` on
        self.stamps: list[int] = []  # arrival time (ns) of each
        self.seen = 0  # items received
        self.start = 0  # index (in the stream) of items[0]
        self.index = 0  # windows sent
        self.opened = 0  # monotonic ns when the current time window opened
        self.emitted_upto = 0  # items before this index are in some sent window


class Window(Actor):
    """Groups a stream into windows of `size` items (tumbling or sliding) or of `durationMs`."""

    component = "tpl_window"
    inports = [
        PortSpec("input", None, "the items; a Flow ends the stream (the partial window is sent, then the Flow)"),
        PortSpec("flush", None, "any packet closes the current window now (connect a timer for idle time windows)"),
    ]
    outports = [
        PortSpec("output", None, "each window: an Array of the items' data; then the Flow that ended the stream"),
        PortSpec("window", "Object", "for each window: {index, count, start, end, firstAt, lastAt, reason}", optional=True),
    ]
    config_schema = schema(
        {
            "size": {
                "type": "integer",
                "minimum": 0,
                "default": 10,
                "description": "Items per window (0: no count limit, time windows only).",
            },
            "step": {
                "type": ["integer", "null"],
                "minimum": 1,
                "default": None,
                "description": "Count windows: items between the starts of two windows. null or `size`: tumbling "
                "(each item in one window); smaller: sliding (overlapping); larger: hopping (items between "
                "windows are dropped). Not used with `durationMs`.",
            },
            "durationMs": {
                "type": "number",
                "minimum": 0,
                "default": 0,
                "description": "Time windows: a window opens with its first item and closes `durationMs` later, or at "
                "`size` items if that comes first (a batcher with a maximum wait). Closing is checked when an item "
                "or a `flush` packet arrives.",
            },
            "partial": {
                "type": "boolean",
                "default": True,
                "description": "At a Flow or flush, send the current window even when it is not full.",
            },
            "forwardFlow": {
                "type": "boolean",
                "default": True,
                "description": "Forward the Flow that ends the stream on `output` after the last window.",
            },
        }
    )
    description = (
        "Collects the data of incoming packets into windows and sends each as an Array on `output`, with "
        "{index, count, start, end (stream positions), firstAt, lastAt (RFC 3339 arrival times), reason: size | "
        "time | flush | end} on `window`. Count windows are tumbling (`step` = `size`), sliding (`step` < "
        "`size`) or hopping (`step` > `size`); with `durationMs` windows close on time or size, whichever "
        "comes first. Memory holds one window."
    )
    example = {
        "config": {"size": 3, "step": 1},
        "inputs": {"input": [{"type": "Integer", "data": n} for n in (1, 2, 3, 4)] + [{"type": "Flow"}]},
        "outputs": {
            "output": [{"type": "Array", "data": [1, 2, 3]}, {"type": "Array", "data": [2, 3, 4]}, {"type": "Flow"}],
            "window": [
                {"type": "Object", "data": {"index": 0, "count": 3, "start": 0, "end": 3, "firstAt": "<rfc3339>", "lastAt": "<rfc3339>", "reason": "size"}},
                {"type": "Object", "data": {"index": 1, "count": 3, "start": 1, "end": 4, "firstAt": "<rfc3339>", "lastAt": "<rfc3339>", "reason": "size"}},
            ],
        },
    }

    @staticmethod
    def _settings(config: Mapping[str, Any]) -> tuple[int, int, float, bool, bool]:
        size = int(config.get("size", 10))
        step = config.get("step")
        duration = float(config.get("durationMs") or 0) * 1_000_000
        return (
            size,
            size if (step is None or duration > 0 or size == 0) else int(step),
            duration,
            bool(config.get("partial", True)),
            bool(config.get("forwardFlow", True)),
        )

    def run(self, ctx: Any) -> None:
        size, step, duration, partial, forward = settings(ctx, self._settings)
        state = ctx.state
        window = state.get("window")
        if window is None:
            window = state["window"] = _Window()
        inputs = ctx.inputs
        now = time.monotonic_ns()

        def send(count: int, reason: str) -> None:
            items = window.items[:count]
            stamps = window.stamps[:count]
            ctx.send(
                {
                    "output": Message.array(items),
                    "window": Message.object(
                        {
                            "index": window.index,
                            "count": len(items),
                            "start": window.start,
                            "end": window.start + len(items),
                            "firstAt": rfc3339(nanos=stamps[0]),
                            "lastAt": rfc3339(nanos=stamps[-1]),
                            "reason": reason,
                        }
                    ),
                }
            )
            window.index += 1
            window.emitted_upto = window.start + len(items)

        def advance(by: int) -> None:
            """Move the window start by `by` items (dropping the skipped ones of a hopping window)."""
            drop = min(by, len(window.items))
            del window.items[:drop]
            del window.stamps[:drop]
            window.start += by

        def close_current(reason: str) -> None:
            """Send what the current window holds (flush / end / time) and start the next one after it."""
            pending = window.seen - max(window.start, window.emitted_upto)
            if window.items and pending > 0 and (partial or reason == "time"):
                send(len(window.items), reason)
            # everything held so far belongs to a sent (or dropped) window: start after it
            advance(len(window.items))
            window.start = max(window.start, window.seen)

        if duration and window.items and now - window.opened >= duration:
            close_current("time")
        if "flush" in inputs:
            close_current("flush")
        message = inputs.get("input")
        if message is None:
            return
        if message["type"] == "Flow":
            close_current("end")
            state["window"] = None
            if forward:
                ctx.send({"output": message})
            return
        if window.seen < window.start:  # a hopping window's gap: this item belongs to no window
            window.seen += 1
            return
        if not window.items:
            window.opened = now
        window.items.append(message.get("data"))
        window.stamps.append(time.time_ns())
        window.seen += 1
        if size and len(window.items) >= size:
            send(size, "size")
            advance(step)


COMPONENTS: dict[str, type[Actor]] = {
    "tpl_passthrough": Passthrough,
    "tpl_filter": Filter,
    "tpl_map": Map,
    "tpl_reduce": Reduce,
    "tpl_merge": Merge,
    "tpl_split": Split,
    "tpl_collect": Collect,
    "tpl_switch": Switch,
    "tpl_if_branch": IfBranch,
    "tpl_loop": Loop,
    "tpl_gate": Gate,
    "tpl_delay": Delay,
    "tpl_rules_engine": RulesEngine,
    "tpl_window": Window,
}
