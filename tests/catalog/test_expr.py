"""The catalog's safe expression language (catalog/_expr.py): values, JavaScript spellings, safety, positions."""

from __future__ import annotations

import pytest

from reflow_cli.catalog._expr import ExpressionError, compile_expression, evaluate, resolve_templates

DATA = {
    "item": {"name": "Ada", "age": 36, "tags": ["a", "b"], "nested": {"k": [10, 20]}, "active": True},
    "items": [1, 2, 3],
    "x": 4,
    "s": "Hello",
    "none": None,
}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("7 / 2", 3.5),
        ("7 // 2", 3),
        ("-7 % 3", -1),
        ("7.5 % 2", 1.5),
        ("2 ** 10", 1024),
        ("2 ^ 3 ^ 2", 512),
        ("-x + +x", 0),
        ("x > 3 and x < 5", True),
        ("x > 3 && x < 5", True),
        ("x < 3 || !(x == 4)", False),
        ("x === 4 && x !== 5", True),
        ("not x", False),
        ("1 < x <= 4", True),
        ("'a' in item.tags", True),
        ("'z' not in item.tags", True),
        ("'ell' in s", True),
        ("'name' in item", True),
        ("item.name", "Ada"),
        ("item['age'] + 1", 37),
        ("item.nested.k[-1]", 20),
        ("item.missing", None),
        ("item.missing.deeper", None),
        ("none.field", None),
        ("items[5]", None),
        ("items[1:]", [2, 3]),
        ("s[0:2]", "He"),
        ("items.length + s.length + item.length", 3 + 5 + 5),
        ("len(items)", 3),
        ("'yes' if item.active else 'no'", "yes"),
        ("true && null == None", True),
        ("[x, x * 2]", [4, 8]),
        ("{'a': x, 'b': [1]}", {"a": 4, "b": [1]}),
        ("s.lower() + s.toUpperCase()", "helloHELLO"),
        ("s.startsWith('He') and s.endswith('lo')", True),
        ("'  a '.trim()", "a"),
        ("'a,b'.split(',')", ["a", "b"]),
        ("item.tags.join('-')", "a-b"),
        ("'-'.join(item.tags)", "a-b"),
        ("item.tags.includes('b') and s.includes('ell')", True),
        ("items.indexOf(3)", 2),
        ("item.get('age')", 36),
        ("item.keys()", ["name", "age", "tags", "nested", "active"]),
        ("min(3, x) + max(items)", 6),
        ("Math.max(1, x) + Math.round(2.5)", 7),
        ("round(-2.5)", -3),
        ("round(2.675, 2)", 2.68),
        ("floor(-1.5) + ceil(1.2) + trunc(-1.7)", -1),
        ("abs(-2) + sqrt(16) + pow(2, 3)", 14.0),
        ("sum(items) + sum(1, 2)", 9),
        ("int('42') + float('0.5')", 42.5),
        ("str(1.5) + str(true) + str(null)", "1.5truenull"),
        ("bool([])", False),
        ("$x * 2", 8),
        ("pi > 3.14 and e < 2.72", True),
        ("'a\\'b'", "a'b"),
        ("'&&' + \"||\"", "&&||"),
    ],
)
def test_values(text: str, value: object) -> None:
    result = evaluate(text, DATA)
    assert result == value and type(result) is type(value)


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("2 +* 3", "Syntax error: unexpected '*'", 3),
        ("1 +", "Syntax error: unexpected end of expression", 3),
        ("(1", "Syntax error: '(' was never closed", 0),
        ("x ==", "Syntax error: unexpected end of expression", 4),
        ("", "empty expression", 0),
        ("y", "Unknown name 'y' (variables: item, items, none, s, x)", 0),
        ("$nope", "Unknown name '$nope' (variables: item, items, none, s, x)", 0),
        ("x / 0", "division by zero", 2),
        ("(x + 1) % 0", "modulo by zero", 8),
        ("s - 1", "cannot subtract String and Integer", 2),
        ("s < 1", "cannot compare String with Integer", 2),
        ("1 in x", "'in' needs a String, Array or Object on the right, not Integer", 2),
        ("sqrt(-1)", "sqrt(-1) is not a real number", 0),
        ("abs", "abs is a function: call it as abs(...)", 0),
        ("nope(1)", "unknown function nope()", 0),
        ("s.format(1)", "String has no method format() taking 1 argument(s)", 0),
        ("x.foo()", "Integer has no method foo()", 0),
        ("items['a']", "an index must be an Integer, not String", 6),
        ("9 ** 9 ** 9", "numeric overflow", 2),
        ("'ab' * 10 ** 7", "result too large (more than 1000000 items)", 5),
        ("(-8) ** 0.5", "result is not a real number", 5),
        ("1e308 * 10", "numeric overflow", 6),
    ],
)
def test_errors_carry_the_position(text: str, message: str, position: int) -> None:
    with pytest.raises(ExpressionError) as caught:
        evaluate(text, DATA)
    assert caught.value.message == message
    assert caught.value.position == position
    assert str(caught.value) == f"{message} at position {position}"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("__import__('os').system('true')", "names starting with '_' are not allowed"),
        ("x.__class__", "fields starting with '_'"),
        ("().__class__.__bases__", "fields starting with '_'"),
        ("[c for c in items]", "a comprehension is not allowed"),
        ("lambda: 1", "lambda is not allowed"),
        ("(y := 1)", "':=' is not allowed"),
        ("f'{x}'", "an f-string is not allowed"),
        ("{1, 2}", "a set is not allowed"),
        ("x | 1", "'|' is not allowed"),
        ("x is None", "'is' is not allowed"),
        ("print(*items)", "'*' unpacking is not allowed"),
        ("round(x, ndigits=1)", "keyword arguments are not allowed"),
        ("eval('1')", "unknown function eval()"),
        ("open('/etc/passwd')", "unknown function open()"),
        ("getattr(x, 'real')", "unknown function getattr()"),
        ("b'bytes'", "bytes literals are not allowed"),
    ],
)
def test_unsafe_constructs_are_refused(text: str, why: str) -> None:
    with pytest.raises(ExpressionError, match=why):
        evaluate(text, DATA)


def test_the_evaluator_never_runs_python_code() -> None:
    """No eval/exec; compile only as ast.parse uses it (to build a tree, never code)."""
    import ast
    import builtins

    real_compile = builtins.compile
    calls: list[int] = []

    def forbidden(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("eval/exec must not be used")

    def tree_only(source: object, filename: object, mode: str, flags: int = 0, *args: object, **kwargs: object) -> object:
        calls.append(flags)
        assert flags & ast.PyCF_ONLY_AST, "compile() may only build an AST"
        return real_compile(source, filename, mode, flags, *args, **kwargs)  # type: ignore[call-overload]

    saved = builtins.eval, builtins.exec, builtins.compile
    builtins.eval, builtins.exec, builtins.compile = forbidden, forbidden, tree_only  # type: ignore[assignment]
    try:
        value = evaluate("Math.max(x, 2) * item.age", DATA)
    finally:
        builtins.eval, builtins.exec, builtins.compile = saved
    assert value == 144 and calls


def test_limits() -> None:
    with pytest.raises(ExpressionError, match="longer than"):
        compile_expression("1+" * 6000 + "1")
    with pytest.raises(ExpressionError, match="too large"):
        compile_expression("+".join(["x"] * 1500))
    with pytest.raises(ExpressionError, match="must be a String"):
        compile_expression(5)  # type: ignore[arg-type]


def test_a_compiled_expression_is_reusable() -> None:
    compiled = compile_expression("x * 2 + (y or 0)")
    assert [compiled.evaluate({"x": n, "y": None}) for n in range(3)] == [0, 2, 4]
    assert compiled.evaluate({"x": 1, "y": 5}) == 7
    assert repr(compiled) == "Expression('x * 2 + (y or 0)')"


def test_positions_count_characters_as_written() -> None:
    # JavaScript spellings are rewritten before parsing; positions still point into the original text
    with pytest.raises(ExpressionError) as caught:
        evaluate("x === 4 && 'é' - 1", DATA)
    assert caught.value.position == 15 and "x === 4 && 'é' - 1"[15] == "-"


def test_templates_are_resolved_before_evaluation() -> None:
    variables = {"input": {"data": {"type": "Object", "data": {"min": 3}}}, "label": "a'b"}
    text = "item > ${input.get('data').data.min}"
    assert resolve_templates(text, variables) == "item > 3"
    assert evaluate(resolve_templates(text, variables), {"item": 5}) is True
    assert resolve_templates("${[1, 2]} ${true} ${label}", variables) == "[1,2] true a'b"
    with pytest.raises(ExpressionError) as caught:
        resolve_templates("x > ${nope}", variables)
    assert caught.value.position == 6
    with pytest.raises(ExpressionError, match="unclosed"):
        resolve_templates("x > ${1", variables)
