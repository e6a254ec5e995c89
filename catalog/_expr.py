"""A small, safe expression language: `tpl_math_expression`, `tpl_rules_engine` rules, `tpl_data_operations`.

An expression is parsed into a syntax tree with Python's `ast` module and the tree is
walked by an evaluator that knows a whitelist of node kinds: no code is ever compiled or
run (no `eval`, `exec`), no attribute of a Python object is ever read (`a.b` is a *field*
of a JSON object), and only the functions and methods listed below can be called. Sizes
and exponents are bounded, so an expression cannot exhaust memory or CPU.

Syntax: Python expressions, plus the JavaScript spellings graphs written for the reference
runtime use:

- numbers, strings (`'a'` or `"a"`), `true` / `false` / `null` (also `True`, `False`,
  `None`), lists `[1, 2]`, objects `{"a": 1}`;
- `+ - * / // %` (`%` keeps the sign of the dividend, as in JavaScript and Rust), `**` and
  `^` (both power, right-associative), unary `-` and `+`;
- `== != < <= > >=` (`===` and `!==` are `==` and `!=`), `in`, `not in`; `and or not`
  (also `&& || !`); `a if cond else b`. Ordering a missing field (null) is false;
  ordering a String with a number is an error;
- `$name` or `name` for variables; `a.b` and `a["b"]` read fields (a missing field is
  null), `a[0]` an element (out of range: null), `a[1:3]` a slice; `x.length` is the
  length of a String, Array or Object;
- functions: `abs min max round floor ceil trunc sqrt pow exp log log2 log10 sin cos tan
  asin acos atan atan2 hypot len sum int float str bool number`, also under `Math.`
  (`Math.max(a, b)`, `Math.PI`); constants `pi` and `e`; `round` halves away from zero;
- methods: on Strings `lower upper strip startswith endswith split replace join` and
  `toLowerCase toUpperCase trim startsWith endsWith includes indexOf`; on Arrays
  `includes indexOf join`; on Objects `get keys values`.

Not allowed: names or fields starting with `_`, comprehensions, lambdas, `:=`, f-strings,
sets, bit operators, `is`, keyword arguments, unpacking. Errors are `ExpressionError`s
naming the 0-based character position in the expression as written
(`Unknown name 'y' (variables: x) at position 4`).

Limits: an expression has at most 10,000 characters, 2,000 syntax nodes and 100 levels of
nesting (a chain `a + b + c ...` counts as one level); no String or Array it builds may
exceed 1,000,000 items (also through `replace`, `join`, `upper` or `str()`); an Integer
result beyond the range of a Float is a numeric overflow; `==`, `in`, `includes`, `indexOf`
and `str()` refuse values nested more than 100 levels deep, and a comparison visits at most
1,000,000 elements. Breaking a limit is an `ExpressionError` (with the position where one
can be named), never a crash; values quoted in error messages are cut to 60 characters.
"""

from __future__ import annotations

import ast
import json
import math
import operator
import reprlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from reflow_cli.errors import ReflowError

from ._common import round_to

__all__ = ["Expression", "ExpressionError", "compile_expression", "evaluate", "render_value"]

#: Longest expression accepted (characters) and most AST nodes in one.
MAX_LENGTH = 10_000
MAX_NODES = 2_000
#: Longest String or Array an expression may build.
MAX_SIZE = 1_000_000
#: Deepest nesting of an expression's syntax tree, and of a value compared or rendered as text.
MAX_DEPTH = 100
#: Most element pairs one comparison (``==``, ``in``, ``includes``, ``indexOf``) may visit.
MAX_COMPARE_STEPS = MAX_SIZE
#: Most bits of an Integer result (the range of a Float); a larger one is a numeric overflow.
MAX_INTEGER_BITS = 1024
#: Longest rendering of a value quoted in an error message, and most variable names listed in one.
SHOWN_LENGTH = 60
SHOWN_NAMES = 20

_DOLLAR = "_S_"  # `$name` is rewritten to `_S_name` (a legal identifier that user names cannot clash with)


class ExpressionError(ReflowError, ValueError):
    """An expression that does not parse or cannot be evaluated; ``position`` is 0-based (characters)."""

    def __init__(self, message: str, position: int | None = None, expression: str | None = None) -> None:
        self.message = message
        self.position = position
        self.expression = expression
        super().__init__(message if position is None else f"{message} at position {position}")


def _list_names(names: Iterable[Any]) -> str:
    """Up to :data:`SHOWN_NAMES` of ``names``, sorted, for error messages (``none`` when there are none)."""
    ordered = sorted(str(name) for name in names)
    shown = ", ".join(name if len(name) <= SHOWN_LENGTH else name[:SHOWN_LENGTH] + "..." for name in ordered[:SHOWN_NAMES])
    if len(ordered) > SHOWN_NAMES:
        shown += f" and {len(ordered) - SHOWN_NAMES} more"
    return shown or "none"


def _shortener() -> reprlib.Repr:
    """A ``repr`` that cuts long Strings, containers and other values (see :func:`_show`)."""
    short = reprlib.Repr()
    short.maxstring = SHOWN_LENGTH
    short.maxother = SHOWN_LENGTH
    short.maxlevel = 3
    return short


_SHORT = _shortener()


def _show(value: Any) -> str:
    """``repr(value)`` cut to about :data:`SHOWN_LENGTH` characters, for error messages."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        digits = int(value.bit_length() * 0.30103) + 1
        return f"an Integer of about {digits} digits"
    if isinstance(value, float):
        return repr(value)
    return _SHORT.repr(value)


# -- from the text to a Python AST ----------------------------------------------------------------


def _preprocess(text: str) -> tuple[str, list[int]]:
    """Rewrite the JavaScript spellings into Python, keeping each output character's source position."""
    out: list[str] = []
    where: list[int] = []
    i = 0
    n = len(text)

    def emit(chunk: str, at: int) -> None:
        out.append(chunk)
        where.extend([at] * len(chunk))

    while i < n:
        char = text[i]
        if char in "'\"":  # copy a string literal as it is
            j = i + 1
            while j < n and text[j] != char:
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(text[i:j])
            where.extend(range(i, j))
            i = j
            continue
        three = text[i : i + 3]
        two = text[i : i + 2]
        if three in ("===", "!=="):
            emit("==" if three == "===" else "!=", i)
            i += 3
        elif two == "&&":
            emit(" and ", i)
            i += 2
        elif two == "||":
            emit(" or ", i)
            i += 2
        elif char == "!" and two != "!=":
            emit(" not ", i)
            i += 1
        elif char == "^":
            emit("**", i)
            i += 1
        elif char == "$" and i + 1 < n and (text[i + 1].isalpha() or text[i + 1] == "_"):
            emit(_DOLLAR, i)
            i += 1
        elif char in "\r\n\t":
            emit(" ", i)
            i += 1
        else:
            out.append(char)
            where.append(i)
            i += 1
    where.append(n)  # the position just past the end
    return "".join(out), where


_ALLOWED = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Constant, ast.Name,
    ast.Load, ast.Attribute, ast.Subscript, ast.Slice, ast.List, ast.Tuple, ast.Dict, ast.Call,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.UAdd, ast.USub, ast.Not,
    ast.And, ast.Or, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn,
)

_DESCRIBE = {
    ast.Lambda: "lambda", ast.ListComp: "a comprehension", ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension", ast.GeneratorExp: "a comprehension", ast.Await: "await",
    ast.NamedExpr: "':='", ast.Starred: "'*' unpacking", ast.JoinedStr: "an f-string",
    ast.Set: "a set", ast.BitAnd: "'&'", ast.BitOr: "'|'", ast.BitXor: "'^'", ast.LShift: "'<<'",
    ast.RShift: "'>>'", ast.Invert: "'~'", ast.Is: "'is'", ast.IsNot: "'is not'", ast.MatMult: "'@'",
}


class Expression:
    """A parsed expression, ready to be evaluated many times (thread-safe, immutable)."""

    __slots__ = ("source", "_tree", "_where", "_code")

    def __init__(self, source: str, tree: ast.Expression, where: list[int], code: str) -> None:
        self.source = source
        self._tree = tree
        self._where = where
        self._code = code

    def position(self, node: ast.AST) -> int | None:
        """The 0-based character position in the source of ``node``."""
        offset = getattr(node, "col_offset", None)
        if offset is None:
            return None
        # col_offset counts UTF-8 bytes of the rewritten text
        chars = len(self._code.encode("utf-8")[:offset].decode("utf-8", errors="ignore"))
        return self._where[min(chars, len(self._where) - 1)]

    def operator_position(self, left: ast.AST) -> int | None:
        """The position of the operator that follows the operand ``left`` (skipping spaces and ``)``)."""
        end = getattr(left, "end_col_offset", None)
        if end is None:
            return self.position(left)
        chars = len(self._code.encode("utf-8")[:end].decode("utf-8", errors="ignore"))
        source = self.source
        position = self._where[min(chars, len(self._where) - 1)]
        while position < len(source) and source[position] in " \t\r\n)":
            position += 1
        return position

    def nesting_position(self, node: ast.AST) -> int | None:
        """Where ``node`` opens a level: the ``.`` or ``[`` of a field or index, else the node itself."""
        if isinstance(node, (ast.Attribute, ast.Subscript)):
            return self.operator_position(node.value)
        if isinstance(node, ast.BinOp):
            return self.operator_position(node.left)
        return self.position(node)

    def evaluate(self, variables: Mapping[str, Any] | None = None) -> Any:
        """The value of the expression with these variables (JSON values).

        Raises :class:`ExpressionError` only: running out of stack or memory (a caller
        already deep in its own stack, say) is reported as such, never as a crash.
        """
        try:
            return _Evaluator(self, variables or {}).run()
        except RecursionError:
            raise ExpressionError("expression or data nested too deeply to evaluate", None, self.source) from None
        except MemoryError:
            raise ExpressionError("out of memory while evaluating the expression", None, self.source) from None

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


def compile_expression(text: Any) -> Expression:
    """Parse ``text``; raise :class:`ExpressionError` (with the position) when it is not a valid expression."""
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be a String, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_LENGTH} characters")
    if not text.strip():
        raise ExpressionError("empty expression", 0, text)
    code, where = _preprocess(text)
    expression = Expression(text, _parse(text, code, where), where, code)
    _check_tree(expression)
    return expression


def _parse(text: str, code: str, where: list[int]) -> ast.Expression:
    """The syntax tree of ``code`` (``text`` rewritten); a syntax error names its position in ``text``."""
    try:
        return ast.parse(code, mode="eval")
    except SyntaxError as exc:
        message = (exc.msg or "invalid syntax").replace(_DOLLAR, "$")
        if not exc.offset:  # the parser ran out of input
            position = len(text.rstrip())
            if message == "invalid syntax":
                message = "unexpected end of expression"
        else:
            position = where[min(exc.offset - 1, len(where) - 1)]
            if message == "invalid syntax":
                message = f"unexpected {text[position]!r}" if position < len(text) else "unexpected end of expression"
        raise ExpressionError(f"Syntax error: {message}", position, text) from None
    except RecursionError:  # Python's parser gave up (thousands of unary operators, say)
        raise ExpressionError(f"expression nested too deeply (more than {MAX_DEPTH} levels)", None, text) from None
    except MemoryError:
        raise ExpressionError("expression too complex to parse", None, text) from None


def _nodes_with_depth(tree: ast.Expression) -> Iterator[tuple[ast.AST, int]]:
    """Every node of ``tree`` (as ``ast.walk``, without recursion) with its nesting depth.

    The depth is the number of evaluator levels above the node (0 for the top node of the
    expression, -1 for the ``ast.Expression`` around it): the left operand of a binary
    operator that is itself a binary operator stays at its parent's level, because
    ``a + b + c ...`` is evaluated as one chain.
    """
    stack: list[tuple[ast.AST, int]] = [(tree, -1)]
    while stack:
        node, depth = stack.pop()
        yield node, depth
        chain_left = node.left if isinstance(node, ast.BinOp) and isinstance(node.left, ast.BinOp) else None
        for child in reversed(list(ast.iter_child_nodes(node))):  # reversed: the leftmost comes out first
            stack.append((child, depth if child is chain_left else depth + 1))


def _check_tree(expression: Expression) -> None:
    """Refuse node kinds outside the whitelist, private names, keyword arguments, too many or too deep nodes."""
    text = expression.source
    count = 0
    for node, depth in _nodes_with_depth(expression._tree):
        count += 1
        if not isinstance(node, _ALLOWED):
            what = _DESCRIBE.get(type(node), type(node).__name__)
            raise ExpressionError(f"{what} is not allowed in an expression", expression.position(node) or 0, text)
        if depth > MAX_DEPTH and isinstance(node, ast.expr):
            raise ExpressionError(
                f"expression nested too deeply (more than {MAX_DEPTH} levels)", expression.nesting_position(node), text
            )
        if isinstance(node, ast.Name) and node.id.startswith("_") and not node.id.startswith(_DOLLAR):
            raise ExpressionError(f"names starting with '_' are not allowed ({_show(node.id)})", expression.position(node), text)
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            raise ExpressionError(f"fields starting with '_' must be read as x[{_show(node.attr)}]", expression.position(node), text)
        if isinstance(node, ast.Call) and node.keywords:
            raise ExpressionError("keyword arguments are not allowed", expression.position(node), text)
    if count > MAX_NODES:
        raise ExpressionError(f"expression too large ({count} nodes; at most {MAX_NODES})", 0, text)


def evaluate(text: str, variables: Mapping[str, Any] | None = None) -> Any:
    """Parse and evaluate ``text`` once."""
    return compile_expression(text).evaluate(variables)


# -- values ---------------------------------------------------------------------------------------


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Float"
    if isinstance(value, str):
        return "String"
    if isinstance(value, (list, tuple)):
        return "Array"
    if isinstance(value, Mapping):
        return "Object"
    return type(value).__name__


def _is_number(value: Any) -> bool:
    return type(value) in (int, float) or (isinstance(value, (int, float)) and not isinstance(value, bool))


def render_value(value: Any) -> str:
    """How a value is written into text (``${...}`` templates): Strings as they are, anything else as JSON.

    Raises ``ValueError`` for a value nested more than :data:`MAX_DEPTH` levels deep and
    ``ArithmeticError`` when the text would be longer than :data:`MAX_SIZE`.
    """
    if isinstance(value, str):
        return value
    _check_renderable(value)
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=list)
    except ValueError:
        text = repr(value)
    return _check_size(text)


_END = object()  # the end of an iterator, for next(..., _END)


def _check_renderable(value: Any) -> None:
    """Refuse, before rendering, a value nested too deeply or whose JSON text is surely too long.

    Walks the value without recursion, adding up a lower bound of its JSON length, and
    stops as soon as that passes :data:`MAX_SIZE` (so a list holding the same big list a
    million times costs no more than one big list).
    """
    size = 0
    levels: list[Iterator[Any]] = [iter((value,))]  # one iterator of items per open level
    while levels:
        item = next(levels[-1], _END)
        if item is _END:
            levels.pop()
            continue
        inner: Iterator[Any] | None = None
        if isinstance(item, str):
            size += len(item) + 2
        elif isinstance(item, (list, tuple)):
            size += 1 + max(len(item), 1)
            inner = iter(item)
        elif isinstance(item, Mapping):
            size += 1 + max(len(item), 1) * 3
            inner = (part for key, element in item.items() for part in (key, element))
        elif isinstance(item, (bytes, bytearray, memoryview)):
            size += 2 * len(item) + 1
        elif isinstance(item, int) and not isinstance(item, bool):
            size += item.bit_length() // 4 + 1
        else:
            size += 1
        if size > MAX_SIZE:
            raise _too_large()
        if inner is not None:
            if len(levels) > MAX_DEPTH:
                raise ValueError(f"value nested too deeply to render (more than {MAX_DEPTH} levels)")
            levels.append(inner)


def _number_of(value: Any) -> float | int:
    if _is_number(value):
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise TypeError(f"{_show(value)} is not a number") from None
        if not math.isfinite(number):
            raise TypeError(f"{_show(value)} is not a finite number")
        return int(number) if number.is_integer() and "." not in value and "e" not in value.lower() else number
    if value is None:
        raise TypeError("null is not a number")
    raise TypeError(f"{_kind(value)} is not a number")


def _need_numbers(name: str, args: tuple[Any, ...]) -> list[float | int]:
    for arg in args:
        if not _is_number(arg) and not isinstance(arg, bool):
            raise TypeError(f"{name}() takes numbers, not {_kind(arg)}")
    return list(args)


def _unary(name: str, fn: Callable[[float], float]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        if len(args) != 1:
            raise TypeError(f"{name}() takes 1 argument ({len(args)} given)")
        (x,) = _need_numbers(name, args)
        try:
            return fn(x)
        except (ValueError, OverflowError):
            raise ArithmeticError(f"{name}({_show(x)}) is not a real number") from None

    return call


def _extreme(name: str, pick: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        values = list(args[0]) if len(args) == 1 and isinstance(args[0], (list, tuple)) else list(args)
        if not values:
            raise TypeError(f"{name}() of nothing")
        _need_numbers(name, tuple(values))
        return pick(values)

    return call


def _round(*args: Any) -> Any:
    if not 1 <= len(args) <= 2:
        raise TypeError(f"round() takes 1 or 2 arguments ({len(args)} given)")
    _need_numbers("round", args)
    digits = int(args[1]) if len(args) == 2 else 0
    result = round_to(float(args[0]), digits)
    return int(result) if digits <= 0 and abs(result) < 2**63 else result


def _log(*args: Any) -> Any:
    _need_numbers("log", args)
    try:
        return math.log(*args)
    except (ValueError, ZeroDivisionError):
        raise ArithmeticError(f"log({', '.join(_show(arg) for arg in args)}) is not a real number") from None


def _len(*args: Any) -> int:
    if len(args) != 1 or not isinstance(args[0], (str, list, tuple, Mapping)):
        raise TypeError("len() takes one String, Array or Object")
    return len(args[0])


def _sum(*args: Any) -> Any:
    values = list(args[0]) if len(args) == 1 and isinstance(args[0], (list, tuple)) else list(args)
    _need_numbers("sum", tuple(values))
    return math.fsum(values) if any(isinstance(v, float) for v in values) else sum(values)


def _to_int(*args: Any) -> int:
    value = _number_of(args[0]) if len(args) == 1 else None
    if value is None:
        raise TypeError("int() takes 1 argument")
    if isinstance(value, float) and not math.isfinite(value):
        raise ArithmeticError("int() of a non-finite number")
    return int(value)


def _to_float(*args: Any) -> float:
    if len(args) != 1:
        raise TypeError("float() takes 1 argument")
    return float(_number_of(args[0]))


def _to_str(*args: Any) -> str:
    if len(args) != 1:
        raise TypeError("str() takes 1 argument")
    value = args[0]
    if isinstance(value, bool):
        return "true" if value else "false"
    return render_value(value)


def _to_bool(*args: Any) -> bool:
    if len(args) != 1:
        raise TypeError("bool() takes 1 argument")
    return bool(args[0])


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": _unary("abs", abs),
    "min": _extreme("min", min),
    "max": _extreme("max", max),
    "round": _round,
    "floor": _unary("floor", math.floor),
    "ceil": _unary("ceil", math.ceil),
    "trunc": _unary("trunc", math.trunc),
    "sqrt": _unary("sqrt", math.sqrt),
    "exp": _unary("exp", math.exp),
    "log": _log,
    "log2": _unary("log2", math.log2),
    "log10": _unary("log10", math.log10),
    "sin": _unary("sin", math.sin),
    "cos": _unary("cos", math.cos),
    "tan": _unary("tan", math.tan),
    "asin": _unary("asin", math.asin),
    "acos": _unary("acos", math.acos),
    "atan": _unary("atan", math.atan),
    "len": _len,
    "sum": _sum,
    "int": _to_int,
    "float": _to_float,
    "number": _to_float,
    "str": _to_str,
    "bool": _to_bool,
}


def _binary_math(name: str, fn: Callable[[float, float], float]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        if len(args) != 2:
            raise TypeError(f"{name}() takes 2 arguments ({len(args)} given)")
        _need_numbers(name, args)
        try:
            return fn(float(args[0]), float(args[1]))
        except (ValueError, OverflowError, ZeroDivisionError):
            raise ArithmeticError(f"{name}({', '.join(_show(arg) for arg in args)}) is not a real number") from None

    return call


_FUNCTIONS["atan2"] = _binary_math("atan2", math.atan2)
_FUNCTIONS["hypot"] = _binary_math("hypot", math.hypot)


def _pow(*args: Any) -> Any:
    if len(args) != 2:
        raise TypeError(f"pow() takes 2 arguments ({len(args)} given)")
    return _power(*args)


_FUNCTIONS["pow"] = _pow

_CONSTANTS: dict[str, Any] = {
    "true": True,
    "false": False,
    "null": None,
    "undefined": None,
    "True": True,
    "False": False,
    "None": None,
    "pi": math.pi,
    "e": math.e,
}

#: ``Math.x`` (JavaScript): the functions above plus its constants.
_MATH_NAMESPACE: dict[str, Any] = {**_FUNCTIONS, "PI": math.pi, "E": math.e}


class _Namespace:
    """A read-only bag of functions reachable as ``Name.member`` (``Math.max``)."""

    __slots__ = ("name", "members")

    def __init__(self, name: str, members: Mapping[str, Any]) -> None:
        self.name = name
        self.members = members


_NAMESPACES = {"Math": _Namespace("Math", _MATH_NAMESPACE)}


# -- arithmetic with limits -----------------------------------------------------------------------


def _too_large() -> ArithmeticError:
    return ArithmeticError(f"result too large (more than {MAX_SIZE} items)")


def _check_size(value: Any) -> Any:
    """``value``, unless it is a String or Array longer than :data:`MAX_SIZE`."""
    if isinstance(value, (str, list)) and len(value) > MAX_SIZE:
        raise _too_large()
    return value


def _check_growth(size: int, base: int) -> None:
    """Refuse to build ``size`` items from ``base`` ones when that grows past :data:`MAX_SIZE`.

    A result no longer than its input (a long String passed through ``lower()``) is
    allowed: it takes no more memory than the input already does.
    """
    if size > MAX_SIZE and size > base:
        raise _too_large()


def _finite(value: Any) -> Any:
    """``value``, unless it is a complex, NaN or infinite number, or an Integer beyond the Float range."""
    if isinstance(value, complex):
        raise ArithmeticError("result is not a real number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ArithmeticError("result is not a number (NaN)" if math.isnan(value) else "numeric overflow")
    if isinstance(value, int) and value.bit_length() > MAX_INTEGER_BITS:
        raise ArithmeticError("numeric overflow")
    return value


def _power(base: Any, exponent: Any) -> Any:
    _need_numbers("power", (base, exponent))
    if isinstance(base, int) and isinstance(exponent, int) and 0 <= exponent <= 64 and abs(base) < 2**64:
        return base**exponent
    try:
        result = float(base) ** float(exponent)
    except OverflowError:
        raise ArithmeticError("numeric overflow") from None
    except ZeroDivisionError:
        raise ArithmeticError("zero to a negative power") from None
    return _finite(result)


def _add(a: Any, b: Any) -> Any:
    if (_is_number(a) or isinstance(a, bool)) and (_is_number(b) or isinstance(b, bool)):
        return a + b
    if (isinstance(a, str) and isinstance(b, str)) or (isinstance(a, list) and isinstance(b, list)):
        if len(a) + len(b) > MAX_SIZE:
            raise _too_large()
        return a + b
    raise TypeError(f"cannot add {_kind(a)} and {_kind(b)}")


def _multiply(a: Any, b: Any) -> Any:
    if (_is_number(a) or isinstance(a, bool)) and (_is_number(b) or isinstance(b, bool)):
        return a * b
    if isinstance(a, (str, list)) and isinstance(b, int) and not isinstance(b, bool):
        if len(a) * max(b, 0) > MAX_SIZE:
            raise _too_large()
        return a * b
    if isinstance(b, (str, list)) and isinstance(a, int) and not isinstance(a, bool):
        return _multiply(b, a)
    raise TypeError(f"cannot multiply {_kind(a)} and {_kind(b)}")


def _numeric(name: str, fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def apply(a: Any, b: Any) -> Any:
        if not ((_is_number(a) or isinstance(a, bool)) and (_is_number(b) or isinstance(b, bool))):
            raise TypeError(f"cannot {name} {_kind(a)} and {_kind(b)}")
        return fn(a, b)

    return apply


def _divide(a: Any, b: Any) -> Any:
    if b == 0:
        raise ArithmeticError("division by zero")
    return a / b


def _floor_divide(a: Any, b: Any) -> Any:
    if b == 0:
        raise ArithmeticError("division by zero")
    return a // b


def _modulo(a: Any, b: Any) -> Any:
    if b == 0:
        raise ArithmeticError("modulo by zero")
    if isinstance(a, int) and isinstance(b, int):
        result = abs(a) % abs(b)
        return -result if a < 0 else result
    return math.fmod(a, b)


_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: _add,
    ast.Sub: _numeric("subtract", operator.sub),
    ast.Mult: _multiply,
    ast.Div: _numeric("divide", _divide),
    ast.FloorDiv: _numeric("divide", _floor_divide),
    ast.Mod: _numeric("modulo", _modulo),
    ast.Pow: _power,
}


class _Equality:
    """Deep equality of JSON values, without recursion, within :data:`MAX_DEPTH` and a work budget.

    One instance is one comparison: ``includes`` and ``indexOf`` share its budget of
    :data:`MAX_COMPARE_STEPS` element pairs over all the elements they try.
    """

    __slots__ = ("steps",)

    def __init__(self) -> None:
        self.steps = 0

    def __call__(self, a: Any, b: Any) -> bool:
        """Whether ``a`` equals ``b`` (numbers by value, Booleans only Booleans, containers element-wise)."""
        levels: list[Iterator[tuple[Any, Any]]] = [iter(((a, b),))]  # one iterator of pairs per open level
        while levels:
            pair = next(levels[-1], None)
            if pair is None:
                levels.pop()
                continue
            self.steps += 1
            if self.steps > MAX_COMPARE_STEPS:
                raise ArithmeticError(f"values too large to compare (more than {MAX_COMPARE_STEPS} elements)")
            x, y = pair
            if isinstance(x, (list, tuple)) and isinstance(y, (list, tuple)):
                if len(x) != len(y):
                    return False
                inner: Iterator[tuple[Any, Any]] = zip(x, y)
            elif isinstance(x, Mapping) and isinstance(y, Mapping):
                if x.keys() != y.keys():
                    return False
                inner = ((x[key], y[key]) for key in x)
            elif _scalar_equal(x, y):
                continue
            else:
                return False
            if len(levels) > MAX_DEPTH:
                raise ValueError(f"values nested too deeply to compare (more than {MAX_DEPTH} levels)")
            levels.append(inner)
        return True


def _scalar_equal(a: Any, b: Any) -> bool:
    """Equality of two values that are not both Arrays or both Objects."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if _is_number(a) and _is_number(b):
        return a == b
    return type(a) is type(b) and a == b


def _equal(a: Any, b: Any) -> bool:
    """Whether two JSON values are equal (see :class:`_Equality`)."""
    return _Equality()(a, b)


def _order(a: Any, b: Any, op: Callable[[Any, Any], bool]) -> bool:
    if a is None or b is None:
        return False  # a missing field never orders (JavaScript's undefined)
    if (_is_number(a) and _is_number(b)) or (isinstance(a, str) and isinstance(b, str)):
        return op(a, b)
    raise TypeError(f"cannot compare {_kind(a)} with {_kind(b)}")


def _contains(container: Any, item: Any) -> bool:
    if isinstance(container, str):
        if not isinstance(item, str):
            raise TypeError(f"'in <String>' needs a String on the left, not {_kind(item)}")
        return item in container
    if isinstance(container, (list, tuple)):
        equal = _Equality()
        return any(equal(item, element) for element in container)
    if isinstance(container, Mapping):
        return isinstance(item, str) and item in container
    raise TypeError(f"'in' needs a String, Array or Object on the right, not {_kind(container)}")


_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: _equal,
    ast.NotEq: lambda a, b: not _equal(a, b),
    ast.Lt: lambda a, b: _order(a, b, operator.lt),
    ast.LtE: lambda a, b: _order(a, b, operator.le),
    ast.Gt: lambda a, b: _order(a, b, operator.gt),
    ast.GtE: lambda a, b: _order(a, b, operator.ge),
    ast.In: lambda a, b: _contains(b, a),
    ast.NotIn: lambda a, b: not _contains(b, a),
}


# -- methods ------------------------------------------------------------------------------------------


def _joined(separator: str, items: Iterable[Any]) -> str:
    """``separator.join`` of the items as text (:func:`_to_str`), refused as soon as it passes :data:`MAX_SIZE`."""
    parts: list[str] = []
    size = 0
    for item in items:
        text = _to_str(item)
        size += len(text) + (len(separator) if parts else 0)
        if size > MAX_SIZE:
            raise _too_large()
        parts.append(text)
    return separator.join(parts)


def _replaced(receiver: str, old: str, new: str) -> str:
    """``receiver.replace(old, new)``, its size checked first (an empty ``old`` matches len + 1 times)."""
    size = len(receiver) + receiver.count(old) * (len(new) - len(old))
    _check_growth(size, len(receiver))
    return receiver.replace(old, new)


def _recased(receiver: str, upper: bool) -> str:
    """``upper()`` or ``lower()``; a few characters grow (``ß`` is ``SS``), so the size is checked."""
    result = receiver.upper() if upper else receiver.lower()
    _check_growth(len(result), len(receiver))
    return result


def _string_method(receiver: str, name: str, args: list[Any]) -> Any:
    if name in ("lower", "toLowerCase") and not args:
        return _recased(receiver, upper=False)
    if name in ("upper", "toUpperCase") and not args:
        return _recased(receiver, upper=True)
    if name in ("strip", "trim") and not args:
        return receiver.strip()
    if name in ("startswith", "startsWith") and len(args) == 1 and isinstance(args[0], str):
        return receiver.startswith(args[0])
    if name in ("endswith", "endsWith") and len(args) == 1 and isinstance(args[0], str):
        return receiver.endswith(args[0])
    if name == "includes" and len(args) == 1 and isinstance(args[0], str):
        return args[0] in receiver
    if name == "indexOf" and len(args) == 1 and isinstance(args[0], str):
        return receiver.find(args[0])
    if name == "split" and len(args) <= 1 and all(isinstance(a, str) and a for a in args):
        return _check_size(receiver.split(*args))
    if name == "replace" and len(args) == 2 and all(isinstance(a, str) for a in args):
        return _replaced(receiver, args[0], args[1])
    if name == "join" and len(args) == 1 and isinstance(args[0], (list, tuple)):
        return _joined(receiver, args[0])
    raise TypeError(f"String has no method {name}() taking {len(args)} argument(s)")


def _array_method(receiver: list[Any], name: str, args: list[Any]) -> Any:
    if name == "includes" and len(args) == 1:
        return _contains(receiver, args[0])
    if name == "indexOf" and len(args) == 1:
        equal = _Equality()
        return next((i for i, item in enumerate(receiver) if equal(item, args[0])), -1)
    if name == "join" and len(args) <= 1 and all(isinstance(a, str) for a in args):
        return _joined(args[0] if args else ",", receiver)
    raise TypeError(f"Array has no method {name}() taking {len(args)} argument(s)")


def _object_method(receiver: Mapping[str, Any], name: str, args: list[Any]) -> Any:
    if name == "get" and 1 <= len(args) <= 2:
        return receiver.get(args[0], args[1] if len(args) == 2 else None) if isinstance(args[0], str) else None
    if name == "keys" and not args:
        return list(receiver.keys())
    if name == "values" and not args:
        return list(receiver.values())
    raise TypeError(f"Object has no method {name}() taking {len(args)} argument(s)")


# -- the evaluator --------------------------------------------------------------------------------------


class _Evaluator:
    __slots__ = ("expression", "variables")

    def __init__(self, expression: Expression, variables: Mapping[str, Any]) -> None:
        self.expression = expression
        self.variables = variables

    def fail(self, node: ast.AST, message: str) -> ExpressionError:
        return ExpressionError(message, self.expression.position(node), self.expression.source)

    def fail_after(self, left: ast.AST, message: str) -> ExpressionError:
        return ExpressionError(message, self.expression.operator_position(left), self.expression.source)

    def run(self) -> Any:
        return self.eval(self.expression._tree.body)

    def eval(self, node: ast.AST) -> Any:  # noqa: C901 - one dispatch on the node kinds
        kind = type(node)
        if kind is ast.Constant:
            value = node.value  # type: ignore[attr-defined]
            if value is None or isinstance(value, (bool, int, float, str)):
                return value
            raise self.fail(node, f"{type(value).__name__} literals are not allowed")
        if kind is ast.Name:
            return self.name(node)  # type: ignore[arg-type]
        if kind is ast.BinOp:
            return self.binary(node)  # type: ignore[arg-type]
        if kind is ast.UnaryOp:
            operand = self.eval(node.operand)  # type: ignore[attr-defined]
            op = type(node.op)  # type: ignore[attr-defined]
            if op is ast.Not:
                return not operand
            if not (_is_number(operand) or isinstance(operand, bool)):
                raise self.fail(node, f"cannot negate {_kind(operand)}")
            return -operand if op is ast.USub else +operand
        if kind is ast.BoolOp:
            is_and = type(node.op) is ast.And  # type: ignore[attr-defined]
            value: Any = None
            for item in node.values:  # type: ignore[attr-defined]
                value = self.eval(item)
                if (not value) if is_and else bool(value):
                    return value
            return value
        if kind is ast.Compare:
            left = self.eval(node.left)  # type: ignore[attr-defined]
            left_node = node.left  # type: ignore[attr-defined]
            for op, comparator in zip(node.ops, node.comparators):  # type: ignore[attr-defined]
                right = self.eval(comparator)
                if not self.apply(left_node, _COMPARE[type(op)], left, right):
                    return False
                left = right
                left_node = comparator
            return True
        if kind is ast.IfExp:
            return self.eval(node.body if self.eval(node.test) else node.orelse)  # type: ignore[attr-defined]
        if kind is ast.Attribute:
            return self.attribute(node)  # type: ignore[arg-type]
        if kind is ast.Subscript:
            return self.subscript(node)  # type: ignore[arg-type]
        if kind in (ast.List, ast.Tuple):
            return [self.eval(item) for item in node.elts]  # type: ignore[attr-defined]
        if kind is ast.Dict:
            out: dict[str, Any] = {}
            for key_node, value_node in zip(node.keys, node.values):  # type: ignore[attr-defined]
                if key_node is None:
                    raise self.fail(node, "'**' unpacking is not allowed")
                key = self.eval(key_node)
                if not isinstance(key, str):
                    raise self.fail(key_node, f"object keys must be Strings, not {_kind(key)}")
                out[key] = self.eval(value_node)
            return out
        if kind is ast.Call:
            return self.call(node)  # type: ignore[arg-type]
        raise self.fail(node, f"{kind.__name__} is not allowed in an expression")

    def binary(self, node: ast.BinOp) -> Any:
        """A chain of binary operators (``a + b - c ...``, nested to the left), left to right, without recursion."""
        chain = [node]
        while isinstance(chain[-1].left, ast.BinOp):
            chain.append(chain[-1].left)
        value = self.eval(chain[-1].left)
        for link in reversed(chain):
            right = self.eval(link.right)
            value = self.apply(link.left, _BINARY[type(link.op)], value, right)
        return value

    def apply(self, left_node: ast.AST, fn: Callable[[Any, Any], Any], left: Any, right: Any) -> Any:
        """``fn(left, right)``; an error points at the operator after ``left_node``."""
        try:
            return _finite(fn(left, right))
        except (TypeError, ArithmeticError, ValueError) as exc:
            raise self.fail_after(left_node, str(exc)) from None
        except RecursionError:
            raise self.fail_after(left_node, "values nested too deeply") from None

    def name(self, node: ast.Name) -> Any:
        name = node.id
        if name.startswith(_DOLLAR):
            name = name[len(_DOLLAR):]
        variables = self.variables
        if name in variables:
            return variables[name]
        if name in _CONSTANTS:
            return _CONSTANTS[name]
        if name in _NAMESPACES:
            return _NAMESPACES[name]
        if name in _FUNCTIONS:
            raise self.fail(node, f"{name} is a function: call it as {name}(...)")
        shown = "$" + name if node.id.startswith(_DOLLAR) else name
        raise self.fail(node, f"Unknown name {_show(shown)} (variables: {_list_names(variables)})")

    def attribute(self, node: ast.Attribute) -> Any:
        target = self.eval(node.value)
        field = node.attr
        if isinstance(target, _Namespace):
            if field in target.members:
                member = target.members[field]
                if callable(member):
                    raise self.fail(node, f"{target.name}.{field} is a function: call it as {target.name}.{field}(...)")
                return member
            raise self.fail(node, f"{target.name} has no member {_show(field)}")
        if field == "length" and isinstance(target, (str, list, tuple)):
            return len(target)
        if isinstance(target, Mapping):
            if field in target:
                return target[field]
            if field == "length":
                return len(target)
            return None
        return None  # a field of a non-object (or of null) is null, as JavaScript's undefined

    def subscript(self, node: ast.Subscript) -> Any:
        target = self.eval(node.value)
        index_node = node.slice
        if isinstance(index_node, ast.Slice):
            if not isinstance(target, (str, list)):
                raise self.fail(node, f"cannot slice {_kind(target)}")
            bounds = []
            for part in (index_node.lower, index_node.upper, index_node.step):
                value = None if part is None else self.eval(part)
                if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                    raise self.fail(part or node, f"slice bounds must be Integers, not {_kind(value)}")
                bounds.append(value)
            if bounds[2] == 0:
                raise self.fail(node, "slice step cannot be zero")
            return target[slice(*bounds)]
        key = self.eval(index_node)
        if isinstance(target, Mapping):
            return target.get(key) if isinstance(key, str) else None
        if isinstance(target, (list, str)):
            if isinstance(key, bool) or not isinstance(key, (int, float)) or (isinstance(key, float) and not key.is_integer()):
                raise self.fail(index_node, f"an index must be an Integer, not {_kind(key)}")
            index = int(key)
            return target[index] if -len(target) <= index < len(target) else None
        if target is None:
            return None
        raise self.fail(node, f"cannot index {_kind(target)}")

    def call(self, node: ast.Call) -> Any:
        func = node.func
        if isinstance(func, ast.Name):
            name = func.id
            fn = None if name in self.variables else _FUNCTIONS.get(name)
            if fn is None:
                raise self.fail(func, f"unknown function {name}()")
            args = [self.eval(arg) for arg in node.args]
            return self.invoke(node, fn, args)
        if isinstance(func, ast.Attribute):
            receiver = self.eval(func.value)
            args = [self.eval(arg) for arg in node.args]
            method = func.attr
            if isinstance(receiver, _Namespace):
                fn = receiver.members.get(method)
                if fn is None or not callable(fn):
                    raise self.fail(func, f"{receiver.name}.{method} is not a function")
                return self.invoke(node, fn, args)
            try:
                if isinstance(receiver, str):
                    return _string_method(receiver, method, args)
                if isinstance(receiver, list):
                    return _array_method(receiver, method, args)
                if isinstance(receiver, Mapping):
                    return _object_method(receiver, method, args)
            except (TypeError, ArithmeticError, ValueError) as exc:
                raise self.fail(node, str(exc)) from None
            except RecursionError:
                raise self.fail(node, "values nested too deeply") from None
            raise self.fail(func, f"{_kind(receiver)} has no method {method}()")
        raise self.fail(node, "only named functions and methods can be called")

    def invoke(self, node: ast.AST, fn: Callable[..., Any], args: list[Any]) -> Any:
        """``fn(*args)``; an error points at the call."""
        try:
            return _finite(fn(*args))
        except (TypeError, ArithmeticError, ValueError) as exc:
            raise self.fail(node, str(exc)) from None
        except RecursionError:
            raise self.fail(node, "values nested too deeply") from None


# -- ${...} templates inside expressions (reference data operations) --------------------------------------


def _template_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    start = text.find("${")
    while start != -1:
        depth = 0
        end = start + 2
        quote = ""
        while end < len(text):
            char = text[end]
            if quote:
                if char == "\\":
                    end += 1
                elif char == quote:
                    quote = ""
            elif char in "'\"":
                quote = char
            elif char == "{":
                depth += 1
            elif char == "}":
                if depth == 0:
                    break
                depth -= 1
            end += 1
        if end >= len(text):
            raise ExpressionError("unclosed '${' in template", start, text)
        spans.append((start, end + 1))
        start = text.find("${", end + 1)
    return spans


def resolve_templates(text: str, variables: Mapping[str, Any]) -> str:
    """Replace every ``${expr}`` in ``text`` with the rendered value of ``expr`` (see :func:`render_value`)."""
    spans = _template_spans(text)
    if not spans:
        return text
    parts = []
    last = 0
    for start, end in spans:
        parts.append(text[last:start])
        inner = text[start + 2 : end - 1]
        try:
            value = compile_expression(inner).evaluate(variables)
        except ExpressionError as exc:
            position = None if exc.position is None else start + 2 + exc.position
            raise ExpressionError(exc.message, position, text) from None
        try:
            parts.append("true" if value is True else "false" if value is False else render_value(value))
        except (ArithmeticError, ValueError) as exc:
            raise ExpressionError(str(exc), start, text) from None
        last = end
    parts.append(text[last:])
    return "".join(parts)
