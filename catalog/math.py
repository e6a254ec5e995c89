"""Math family: arithmetic on numbers and Arrays of numbers, and expressions.

Results are **Floats** (as in the reference), rounded to ``precision`` decimals (10 by
default; halves away from zero). Inputs are Integers, Floats or numeric Strings
(``"2.5"``); anything else goes to ``error`` (the reference silently used 0). Two-operand
components (``a``/``b``, ``base``/``exponent``) fire when every *connected* operand port
has a packet, pairing them in arrival order; an operand whose port is not connected is
taken from the config key of the same name (``b: 1`` adds one to every ``a``). A Flow
(end of a stream) on any input is forwarded on ``result``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from typing import Any

from reflow_cli import Actor, Message, PortSpec

from ._common import MISSING, get_field, json_text, round_to, schema, settings, to_number

__all__ = ["COMPONENTS", "round_to"]

_PRECISION = {
    "type": "integer",
    "minimum": 0,
    "maximum": 15,
    "default": 10,
    "description": "Decimals the result is rounded to (halves away from zero).",
}


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    kind = "Boolean" if isinstance(value, bool) else type(value).__name__
    kind = {"str": "String", "list": "Array", "dict": "Object", "int": "Integer", "float": "Float"}.get(kind, kind)
    return f"{kind} {json_text(value)}"[:80]


def number_of(message: Any) -> float | None:
    """A finite number from an Integer, Float or numeric String message; ``None`` otherwise."""
    return _number_data(message.get("data"))


def _number_data(data: Any) -> float | None:
    kind = type(data)
    if kind is int or kind is float:
        return float(data) if math.isfinite(data) else None
    if kind is str:
        number = to_number(data)
        return None if number is None else float(number)
    return None


def _not_a_number(port: str, message: Any) -> Message:
    if message["type"] == "Flow":
        return Message.error(f"{port}: a Flow is not a number")
    return Message.error(f"{port} is not a number: {_describe(message.get('data'))}")


def _result(value: float, config: Mapping[str, Any]) -> Message | None:
    if not math.isfinite(value):
        return None
    return Message.float(round_to(value, int(config.get("precision", 10))))


def _out(ctx: Any, value: float | str, port: str = "result") -> None:
    """Send ``value`` rounded on ``port``, or an error (a text, or a non-finite result)."""
    if isinstance(value, str):
        ctx.done({"error": Message.error(value)})
        return
    message = _result(value, ctx.config)
    if message is None:
        ctx.done({"error": Message.error(f"the result is not a finite number ({value!r})")})
        return
    ctx.done({port: message})


# -- two operands --------------------------------------------------------------------------------


class _Binary(Actor):
    """Two operands from ports (await-all) or, for an unconnected port, from the config."""

    component = "tpl_math_binary"
    operands: tuple[str, str] = ("a", "b")
    await_all_inports = True

    def compute(self, x: float, y: float) -> float | str:
        raise NotImplementedError

    result_ports: tuple[str, ...] = ("result",)

    def run(self, ctx: Any) -> None:
        if any(message["type"] == "Flow" for message in ctx.inputs.values()):
            flow = Message.flow()
            ctx.done({port: flow for port in self.result_ports})
            return
        values = self.operand_values(ctx)
        if values is not None:
            self.emit(ctx, values[0], values[1])

    def emit(self, ctx: Any, x: float, y: float) -> None:
        _out(ctx, self.compute(x, y))

    def operand_values(self, ctx: Any) -> list[float] | None:
        """The two operands as floats; ``None`` after sending an error."""
        inputs = ctx.inputs
        config = ctx.config
        values = []
        for port in self.operands:
            message = inputs.get(port)
            if message is None:
                if port not in config:
                    text = f"{self.component} needs `{port}`: connect its port or set `{port}` in the config"
                    ctx.done({"error": Message.error(text)})
                    return None
                number = _number_data(config[port])
                if number is None:
                    ctx.done({"error": Message.error(f"config {port} is not a number: {_describe(config[port])}")})
                    return None
            else:
                number = number_of(message)
                if number is None:
                    ctx.done({"error": _not_a_number(port, message)})
                    return None
            values.append(number)
        return values


def _binary_schema(first: str, second: str) -> dict[str, Any]:
    return schema(
        {
            "precision": _PRECISION,
            first: {"type": ["number", "string"], "description": f"`{first}` when its port is not connected."},
            second: {"type": ["number", "string"], "description": f"`{second}` when its port is not connected."},
        }
    )


def _binary(template_id: str, name: str, verb: str, compute: Any, example: tuple[float, float, float], errors: str = "") -> type[Actor]:
    a, b, result = example
    error_text = "non-numbers" + (f"; {errors}" if errors else "")

    class Binary(_Binary):
        __doc__ = f"{name}: `result` = a {verb} b, as a Float."
        component = template_id
        inports = [
            PortSpec("a", None, "the first operand (Integer, Float or numeric String)"),
            PortSpec("b", None, "the second operand"),
        ]
        outports = [
            PortSpec("result", "Float", f"a {verb} b, rounded to `precision` decimals"),
            PortSpec("error", "Error", error_text),
        ]
        config_schema = _binary_schema("a", "b")
        description = (
            f"Sends a {verb} b on `result` as a Float rounded to `precision` decimals, once both `a` and `b` "
            "have a packet (pairs in arrival order). A port that is not connected takes its operand from the "
            f"config. Non-numbers go to `error`{'; ' + errors if errors else ''}."
        )
        example = {
            "config": {},
            "inputs": {"a": [{"type": "Integer", "data": a}], "b": [{"type": "Float", "data": b}]},
            "outputs": {"result": [{"type": "Float", "data": result}]},
        }

    Binary.compute = staticmethod(compute)  # type: ignore[method-assign, assignment]
    Binary.__name__ = Binary.__qualname__ = "Math" + name.replace(" ", "")
    return Binary


def _divide(x: float, y: float) -> float | str:
    return "Division by zero" if y == 0 else x / y


def _modulo(x: float, y: float) -> float | str:
    return "Modulo by zero" if y == 0 else math.fmod(x, y)


def _power(x: float, y: float) -> float | str:
    try:
        result = math.pow(x, y)
    except OverflowError:
        return f"{x!r} to the power {y!r} overflows"
    except ValueError:
        return f"{x!r} to the power {y!r} is not a real number"
    return result


MathAdd = _binary("tpl_math_add", "Add", "+", lambda x, y: x + y, (2, 3.5, 5.5))
MathSubtract = _binary("tpl_math_subtract", "Subtract", "-", lambda x, y: x - y, (2, 3.5, -1.5))
MathMultiply = _binary("tpl_math_multiply", "Multiply", "*", lambda x, y: x * y, (2, 3.5, 7.0))
MathDivide = _binary("tpl_math_divide", "Divide", "/", _divide, (7, 2.0, 3.5), "b = 0 sends `Division by zero`")
MathModulo = _binary(
    "tpl_math_modulo", "Modulo", "%", _modulo, (7, 2.5, 2.0),
    "b = 0 sends `Modulo by zero`; the result has the sign of a (fmod)",
)


class MathPower(_Binary):
    """`result` = base to the power exponent, as a Float."""

    component = "tpl_math_power"
    operands = ("base", "exponent")
    inports = [
        PortSpec("base", None, "the base (Integer, Float or numeric String)"),
        PortSpec("exponent", None, "the exponent"),
    ]
    outports = [
        PortSpec("result", "Float", "base ** exponent, rounded to `precision` decimals"),
        PortSpec("error", "Error", "non-numbers; a result that overflows or is not real ((-8) ** 0.5)"),
    ]
    config_schema = _binary_schema("base", "exponent")
    description = (
        "Sends base to the power exponent on `result` (a Float), once both ports have a packet; a port that is "
        "not connected takes its value from the config. Overflows and non-real results ((-8) ** 0.5) go to "
        "`error` with the operands, as do non-numbers."
    )
    example = {
        "config": {"exponent": 10},
        "inputs": {"base": [{"type": "Integer", "data": 2}]},
        "outputs": {"result": [{"type": "Float", "data": 1024.0}]},
    }

    @staticmethod
    def compute(x: float, y: float) -> float | str:
        return _power(x, y)


class MathMinMax(_Binary):
    """The smaller of a and b on `min`, the larger on `max`."""

    component = "tpl_math_min_max"
    inports = [PortSpec("a", None, "a number"), PortSpec("b", None, "another number")]
    outports = [
        PortSpec("min", "Float", "the smaller, as a Float"),
        PortSpec("max", "Float", "the larger, as a Float"),
        PortSpec("error", "Error", "non-numbers"),
    ]
    config_schema = _binary_schema("a", "b")
    description = (
        "Once `a` and `b` both have a packet, sends the smaller on `min` and the larger on `max` (Floats rounded "
        "to `precision`); a Flow is forwarded on both. Non-numbers go to `error`."
    )
    example = {
        "config": {},
        "inputs": {"a": [{"type": "Integer", "data": 3}], "b": [{"type": "Float", "data": -1.5}]},
        "outputs": {"min": [{"type": "Float", "data": -1.5}], "max": [{"type": "Float", "data": 3.0}]},
    }

    result_ports = ("min", "max")

    def emit(self, ctx: Any, x: float, y: float) -> None:
        digits = int(ctx.config.get("precision", 10))
        ctx.done({"min": Message.float(round_to(min(x, y), digits)), "max": Message.float(round_to(max(x, y), digits))})


# -- one operand ------------------------------------------------------------------------------------


class _Unary(Actor):
    component = "tpl_math_unary"

    def compute(self, x: float, config: Mapping[str, Any]) -> float | str:
        raise NotImplementedError

    def run(self, ctx: Any) -> None:
        message = ctx.inputs["input"]
        if message["type"] == "Flow":
            ctx.done({"result": message})
            return
        number = number_of(message)
        if number is None:
            ctx.done({"error": _not_a_number("input", message)})
            return
        _out(ctx, self.compute(number, ctx.config))


_INPUT = PortSpec("input", None, "a number (Integer, Float or numeric String); a Flow passes through")


class MathSqrt(_Unary):
    """The square root of the input, as a Float."""

    component = "tpl_math_sqrt"
    inports = [_INPUT]
    outports = [
        PortSpec("result", "Float", "the square root"),
        PortSpec("error", "Error", "`Square root of negative number`, or a non-number"),
    ]
    config_schema = schema({"precision": _PRECISION})
    description = "Sends the square root of the input on `result`; a negative input sends `Square root of negative number` on `error`."
    example = {
        "config": {},
        "inputs": {"input": [{"type": "Integer", "data": 16}, {"type": "Integer", "data": -4}]},
        "outputs": {
            "result": [{"type": "Float", "data": 4.0}],
            "error": [{"type": "Error", "data": "Square root of negative number"}],
        },
    }

    def compute(self, x: float, config: Mapping[str, Any]) -> float | str:
        return "Square root of negative number" if x < 0 else math.sqrt(x)


class MathAbsolute(_Unary):
    """The absolute value of the input, as a Float."""

    component = "tpl_math_absolute"
    inports = [_INPUT]
    outports = [PortSpec("result", "Float", "|input|"), PortSpec("error", "Error", "a non-number")]
    config_schema = schema({"precision": _PRECISION})
    description = "Sends the absolute value of the input on `result` as a Float; non-numbers go to `error`."
    example = {
        "config": {},
        "inputs": {"input": [{"type": "Float", "data": -2.7}]},
        "outputs": {"result": [{"type": "Float", "data": 2.7}]},
    }

    def compute(self, x: float, config: Mapping[str, Any]) -> float | str:
        return abs(x)


class MathClamp(_Unary):
    """The input limited to [min, max], as a Float."""

    component = "tpl_math_clamp"
    inports = [_INPUT]
    outports = [
        PortSpec("result", "Float", "the input, limited to [min, max]"),
        PortSpec("error", "Error", "a non-number, or min greater than max"),
    ]
    config_schema = schema(
        {
            "min": {"type": "number", "default": 0, "description": "Lower bound."},
            "max": {"type": "number", "default": 1, "description": "Upper bound (not below `min`)."},
            "precision": _PRECISION,
        }
    )
    description = (
        "Sends the input limited to [`min`, `max`] on `result` (a Float). A `min` above `max` is an error "
        "(the reference's Rust clamp panics on it)."
    )
    example = {
        "config": {"min": 0, "max": 10},
        "inputs": {"input": [{"type": "Integer", "data": 42}, {"type": "Float", "data": -0.5}]},
        "outputs": {"result": [{"type": "Float", "data": 10.0}, {"type": "Float", "data": 0.0}]},
    }

    def compute(self, x: float, config: Mapping[str, Any]) -> float | str:
        low, high = float(config.get("min", 0)), float(config.get("max", 1))
        if low > high:
            return f"min ({low!r}) is greater than max ({high!r})"
        return min(max(x, low), high)


_ROUND_MODES = ("round", "floor", "ceil", "trunc")


class MathRound(_Unary):
    """The input rounded (or floored, ceiled, truncated), as a Float."""

    component = "tpl_math_round"
    inports = [_INPUT]
    outports = [PortSpec("result", "Float", "the rounded input"), PortSpec("error", "Error", "a non-number")]
    config_schema = schema(
        {
            "mode": {
                "type": "string",
                "enum": list(_ROUND_MODES),
                "default": "round",
                "description": "round: to `precision` decimals, halves away from zero; floor, ceil, trunc: to a whole number.",
            },
            "precision": {**_PRECISION, "description": "Decimals kept by mode round (10, as the reference: set 0 for whole numbers)."},
        }
    )
    description = (
        "Rounds the input: mode round keeps `precision` decimals, halves away from zero (with `precision: 0`, "
        "2.5 → 3.0 and -2.5 → -3.0; the default 10, kept from the reference, barely rounds); floor, ceil and "
        "trunc give whole numbers. The result is a Float."
    )
    example = {
        "config": {"mode": "floor"},
        "inputs": {"input": [{"type": "Float", "data": 2.7}, {"type": "Float", "data": -2.2}]},
        "outputs": {"result": [{"type": "Float", "data": 2.0}, {"type": "Float", "data": -3.0}]},
    }

    def compute(self, x: float, config: Mapping[str, Any]) -> float | str:
        mode = config.get("mode") or "round"
        if mode == "floor":
            return float(math.floor(x))
        if mode == "ceil":
            return float(math.ceil(x))
        if mode == "trunc":
            return float(math.trunc(x))
        return round_to(x, int(config.get("precision", 10)))


# -- random ---------------------------------------------------------------------------------------------


class MathRandom(Actor):
    """A uniformly distributed random Float in [min, max) for every trigger."""

    component = "tpl_math_random"
    inports = [PortSpec("trigger", None, "any packet asks for one number")]
    outports = [PortSpec("result", "Float", "a random number in [min, max)"), PortSpec("error", "Error", "min greater than max")]
    config_schema = schema(
        {
            "min": {"type": "number", "default": 0, "description": "Lower bound (included)."},
            "max": {"type": "number", "default": 1, "description": "Upper bound (excluded)."},
            "precision": _PRECISION,
            "seed": {
                "type": ["integer", "null"],
                "default": None,
                "description": "Seed for a reproducible sequence (per node); null draws from the system's entropy.",
            },
        }
    )
    description = (
        "On every packet on `trigger`, sends a random Float drawn uniformly from [`min`, `max`) on `result` "
        "(the reference's values only covered the lowest 23 % of the range). Set `seed` for a repeatable "
        "sequence. Not for cryptography."
    )
    example = {
        "config": {"min": 5, "max": 5},
        "inputs": {"trigger": [{"type": "Flow"}]},
        "outputs": {"result": [{"type": "Float", "data": 5.0}]},
    }

    def run(self, ctx: Any) -> None:
        config = ctx.config
        low, high = float(config.get("min", 0)), float(config.get("max", 1))
        if low > high:
            ctx.done({"error": Message.error(f"min ({low!r}) is greater than max ({high!r})")})
            return
        state = ctx.state
        rng = state.get("rng")
        if rng is None:
            seed = config.get("seed")
            rng = state["rng"] = random.Random(seed) if seed is not None else random.SystemRandom()
        value = low + (high - low) * rng.random()
        _out(ctx, value)


# -- Arrays ---------------------------------------------------------------------------------------------


def _values(ctx: Any) -> list[float] | None:
    """The numbers of the Array on `values` (or their `field`); None after sending an error."""
    message = ctx.inputs["values"]
    if message["type"] != "Array":
        ctx.done({"error": Message.error(f"Expected Array on values port, got {message['type']}")})
        return None
    field = ctx.config.get("field") or ""
    numbers = []
    for index, item in enumerate(message["data"]):
        value = get_field(item, field) if field else item
        number = _number_data(value)
        if number is None:
            where = f"element {index}" + (f" field {field!r}" if field else "")
            if value is MISSING:
                ctx.done({"error": Message.error(f"{where} is missing")})
            else:
                ctx.done({"error": Message.error(f"{where} is not a number: {_describe(value)}")})
            return None
        numbers.append(number)
    return numbers


_VALUES = PortSpec("values", "Array", "an Array of numbers (Integers, Floats, numeric Strings), or of Objects with `field`")
_FIELD = {"type": "string", "default": "", "description": "Use this field of each element (`a.b` paths) instead of the element."}


class MathSum(Actor):
    """The sum of an Array of numbers, as a Float."""

    component = "tpl_math_sum"
    inports = [_VALUES]
    outports = [PortSpec("result", "Float", "the sum (0.0 for [])"), PortSpec("error", "Error", "a non-number element, or not an Array")]
    config_schema = schema({"precision": _PRECISION, "field": _FIELD})
    description = (
        "Sends the sum of the Array on `values` on `result` (an exact sum, `math.fsum`; 0.0 for an empty Array). "
        "The reference always sent 0.0. A non-number element sends the packet to `error`, naming the element."
    )
    example = {
        "config": {},
        "inputs": {"values": [{"type": "Array", "data": [1, 2, 3.5]}]},
        "outputs": {"result": [{"type": "Float", "data": 6.5}]},
    }

    def run(self, ctx: Any) -> None:
        numbers = _values(ctx)
        if numbers is not None:
            _out(ctx, math.fsum(numbers))


class MathAverage(Actor):
    """The mean of an Array of numbers, as a Float."""

    component = "tpl_math_average"
    inports = [_VALUES]
    outports = [
        PortSpec("result", "Float", "the arithmetic mean"),
        PortSpec("error", "Error", "an empty Array, a non-number element, or not an Array"),
    ]
    config_schema = schema({"precision": _PRECISION, "field": _FIELD})
    description = (
        "Sends the arithmetic mean of the Array on `values` on `result` (the reference always sent 0.0). An empty "
        "Array has no mean: it goes to `error`, as does a non-number element."
    )
    example = {
        "config": {"field": "ms"},
        "inputs": {"values": [{"type": "Array", "data": [{"ms": 10}, {"ms": 20}, {"ms": 45}]}]},
        "outputs": {"result": [{"type": "Float", "data": 25.0}]},
    }

    def run(self, ctx: Any) -> None:
        numbers = _values(ctx)
        if numbers is None:
            return
        if not numbers:
            ctx.done({"error": Message.error("the average of an empty Array is undefined")})
            return
        _out(ctx, math.fsum(numbers) / len(numbers))


class MathStatistics(Actor):
    """Mean, median, standard deviation, min, max and count of an Array of numbers."""

    component = "tpl_math_statistics"
    inports = [_VALUES]
    outports = [
        PortSpec("mean", "Float", "the arithmetic mean"),
        PortSpec("median", "Float", "the middle value (the mean of the two middle ones for an even count)"),
        PortSpec("stddev", "Float", "the population standard deviation"),
        PortSpec("min", "Float", "the smallest"),
        PortSpec("max", "Float", "the largest"),
        PortSpec("count", "Integer", "the number of values (alone, 0, for an empty Array)"),
        PortSpec("error", "Error", "a non-number element, or not an Array"),
    ]
    config_schema = schema({"precision": _PRECISION, "field": _FIELD})
    description = (
        "Sends the mean, median, population standard deviation, min and max of the Array on `values` (Floats "
        "rounded to `precision`) and its length on `count`. An empty Array only sends `count` 0. The reference "
        "sent 0.0 for everything but the count."
    )
    example = {
        "config": {},
        "inputs": {"values": [{"type": "Array", "data": [2, 4, 4, 4, 5, 5, 7, 9]}]},
        "outputs": {
            "mean": [{"type": "Float", "data": 5.0}],
            "median": [{"type": "Float", "data": 4.5}],
            "stddev": [{"type": "Float", "data": 2.0}],
            "min": [{"type": "Float", "data": 2.0}],
            "max": [{"type": "Float", "data": 9.0}],
            "count": [{"type": "Integer", "data": 8}],
        },
    }

    def run(self, ctx: Any) -> None:
        numbers = _values(ctx)
        if numbers is None:
            return
        count = len(numbers)
        if count == 0:
            ctx.done({"count": Message.integer(0)})
            return
        numbers.sort()
        mean = math.fsum(numbers) / count
        middle = count // 2
        median = numbers[middle] if count % 2 else (numbers[middle - 1] + numbers[middle]) / 2
        variance = math.fsum((x - mean) ** 2 for x in numbers) / count
        digits = int(ctx.config.get("precision", 10))
        values = {"mean": mean, "median": median, "stddev": math.sqrt(variance), "min": numbers[0], "max": numbers[-1]}
        if not all(math.isfinite(v) for v in values.values()):
            ctx.done({"error": Message.error("the statistics overflow (values too large)")})
            return
        outputs: dict[str, Message] = {port: Message.float(round_to(v, digits)) for port, v in values.items()}
        outputs["count"] = Message.integer(count)
        ctx.done(outputs)


# -- expressions ------------------------------------------------------------------------------------------


def _expression_settings(config: Mapping[str, Any]) -> Any:
    from ._expr import ExpressionError, compile_expression

    text = config.get("expression")
    if text is None:
        text = "0"
    try:
        return compile_expression(str(text))
    except ExpressionError as exc:
        return exc


class MathExpression(Actor):
    """Evaluates an arithmetic expression of the input (`$x`, `$input`, or an Object's fields)."""

    component = "tpl_math_expression"
    inports = [PortSpec("input", None, "a number, or an Object whose fields are variables; a Flow passes through")]
    outports = [
        PortSpec("result", "Float", "the value of the expression"),
        PortSpec("error", "Error", "a syntax or evaluation error with its position, or a result that is not a number"),
    ]
    config_schema = schema(
        {
            "expression": {
                "type": "string",
                "default": "0",
                "description": "The expression: numbers, + - * / % (sign of the dividend) ^ or ** (power), "
                "parentheses, comparisons, and/or/not, `a if c else b`, functions (abs, min, max, round, floor, "
                "ceil, sqrt, pow, exp, log, sin, cos...); `$x`, `$input`, `x`, `input` and `value` are the input; "
                "an Object input's fields are variables too (`$price * $qty`). Evaluated safely (no Python eval).",
            },
            "precision": _PRECISION,
        }
    )
    description = (
        "Evaluates `expression` for each input and sends the result on `result` as a Float (Booleans count as "
        "1.0 and 0.0). The language is a safe subset of Python expressions (parsed with `ast`, evaluated "
        "against a whitelist; see docs) that also accepts the reference's `$x` and `^`. Errors name the "
        "position: `Syntax error: unexpected '*' at position 3`, `Unknown name 'y' ... at position 0`."
    )
    example = {
        "config": {"expression": "$x * 2 + 1"},
        "inputs": {"input": [{"type": "Integer", "data": 4}]},
        "outputs": {"result": [{"type": "Float", "data": 9.0}]},
    }

    def run(self, ctx: Any) -> None:
        from ._expr import ExpressionError

        compiled = settings(ctx, _expression_settings)
        message = ctx.inputs["input"]
        if message["type"] == "Flow":
            ctx.done({"result": message})
            return
        if isinstance(compiled, ExpressionError):
            ctx.done({"error": Message.error(f"tpl_math_expression: {compiled}")})
            return
        data = message.get("data")
        variables: dict[str, Any] = {}
        if isinstance(data, Mapping):
            variables.update(data)
            variables["value"] = variables["input"] = data
        else:
            number = number_of(message)
            value: Any = number if number is not None else data
            variables.update({"x": value, "input": value, "value": value})
        try:
            result = compiled.evaluate(variables)
        except ExpressionError as exc:
            ctx.done({"error": Message.error(f"tpl_math_expression: {exc}")})
            return
        if isinstance(result, bool):
            result = float(result)
        if type(result) not in (int, float):
            ctx.done({"error": Message.error(f"tpl_math_expression: the result is not a number: {_describe(result)}")})
            return
        _out(ctx, float(result))


COMPONENTS: dict[str, type[Actor]] = {
    "tpl_math_add": MathAdd,
    "tpl_math_subtract": MathSubtract,
    "tpl_math_multiply": MathMultiply,
    "tpl_math_divide": MathDivide,
    "tpl_math_modulo": MathModulo,
    "tpl_math_power": MathPower,
    "tpl_math_sqrt": MathSqrt,
    "tpl_math_absolute": MathAbsolute,
    "tpl_math_clamp": MathClamp,
    "tpl_math_round": MathRound,
    "tpl_math_min_max": MathMinMax,
    "tpl_math_random": MathRandom,
    "tpl_math_sum": MathSum,
    "tpl_math_average": MathAverage,
    "tpl_math_statistics": MathStatistics,
    "tpl_math_expression": MathExpression,
}
